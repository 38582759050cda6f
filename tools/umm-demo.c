// SPDX-License-Identifier: MIT
/*
 * umm-demo.c - a zero-copy frame pipeline on umm: camera -> processing ->
 * display, the use case of the 2011 Linaro memory management discussions.
 * This file holds the options and main(); the rest is, in the order of a
 * run:
 *
 *   demo_parent.c   mounts a temporary umm (or uses the one given with -m),
 *                   makes a directory "ring" whose constraints give every new
 *                   buffer the size of one frame and cap the ring's bytes,
 *                   creates the ring's buffers in it, and runs three separate
 *                   processes (this program exec'd again with a hidden --role);
 *   demo_roles.c    the three:
 *
 *     producer --FRAME k--> filter --FRAME k--> consumer
 *         ^                                         |
 *         +-----------------FREE slot---------------+
 *
 *                   The producer draws a moving test pattern (demo_pattern.c)
 *                   into slot k % ring through its own mapping, the filter
 *                   inverts that frame in place through its mapping, and the
 *                   consumer checks every pixel against the pattern it
 *                   computes again and writes a few frames as PPM files. Only
 *                   small fixed-size messages (demo_msg.c) travel over the
 *                   sockets; pixels never do. The producer hands the filter
 *                   one fd per slot with SCM_RIGHTS once at the start; the
 *                   consumer opens the slots by path. The FREE messages are
 *                   credits: the producer never draws into a slot that the
 *                   consumer has not checked yet;
 *   demo_report.c   the zero copies, shown by the daemon's own counters
 *                   (read_bytes and write_bytes of the root's user.umm.stats
 *                   do not move) and, where the processes may read PFNs from
 *                   /proc/self/pagemap, by the three of them mapping the same
 *                   physical page; and the ring listed with umm-ls while the
 *                   processes still hold it. Then they are ended and the
 *                   mount is taken down.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo_i.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: umm-demo [-W WIDTH] [-H HEIGHT] [-n FRAMES] [-r RING] [-m MOUNTPOINT]\n"
		"                [-o OUTDIR] [--umm-fs PATH] [--heap NAME] [--cache MODE]\n"
		"                [--camera /dev/videoN [--display /dev/videoM]]\n"
		"\n"
		"A zero-copy camera -> processing -> display pipeline on umm. umm-demo mounts a\n"
		"temporary umm, makes a directory \"ring\" whose constraints (user.umm.size,\n"
		"user.umm.max_bytes) give RING frame buffers, and runs three processes: a\n"
		"producer draws a moving test pattern into the ring through its mapping, a\n"
		"filter inverts each frame in place through its own, and a consumer checks\n"
		"every pixel and writes the first, middle and last frames as PPM files. Only\n"
		"small messages pass between them (slot fds once, with SCM_RIGHTS): pixels are\n"
		"never copied. At the end it prints frames per second, the bytes touched in\n"
		"place, and the daemon's read()/write() byte counters (user.umm.stats of the\n"
		"root), which must not move; lists the ring with umm-ls -l -p while the\n"
		"processes hold it; and unmounts. Run it as root, or as a user who may mount\n"
		"FUSE file systems.\n"
		"\n"
		"  -W, --width N      frame width in pixels (default %d, at most %d)\n"
		"  -H, --height N     frame height in pixels (default %d, at most %d)\n"
		"  -n, --frames N     frames to send through the pipeline (default %d)\n"
		"  -r, --ring N       buffers in the ring, 1 to %d (default %d)\n"
		"  -m, --mount DIR    use the umm mounted on DIR (its root) instead of a\n"
		"                     temporary one; DIR/ring must not exist, and is removed\n"
		"                     at the end. The read()/write() check assumes nobody\n"
		"                     else reads or writes on that mount meanwhile\n"
		"  -o, --outdir DIR   where the PPM files go, made if missing (default\n"
		"                     ./" DEFAULT_OUTDIR "); they are named frame-NNNNNN.ppm\n"
		"      --umm-fs PATH  the umm-fs to mount (default: $UMM_FS, else ../fs/umm-fs\n"
		"                     beside umm-demo, else " UMM_SBINDIR "/umm-fs, else $PATH)\n"
		"      --heap NAME    the ring's heap (user.umm.heap), such as udmabuf,\n"
		"                     dma-heap:system or drm:card0 (default: the allocator's choice)\n"
		"      --cache MODE   the ring's CPU mapping type (user.umm.cache): cached,\n"
		"                     uncached or writecombine, one the heap offers (DRM dumb\n"
		"                     buffers: writecombine; default cached)\n"
		"      --camera DEV   the producer is V4L2 capture node DEV: it captures straight\n"
		"                     into the ring's dma-bufs (V4L2_MEMORY_DMABUF) at its current\n"
		"                     format (-W and -H are not used); the consumer checks that\n"
		"                     each frame it sees is the camera's, inverted, by sums, and\n"
		"                     writes no PPM files. The ring takes its size from the\n"
		"                     devices (user.umm.size_from) and lists them in\n"
		"                     user.umm.devices, so it needs a heap that makes dma-bufs\n"
		"      --display DEV  with --camera: the consumer queues each checked frame's\n"
		"                     dma-buf to V4L2 output node DEV, set to the camera's format\n"
		"                     where it can take it\n"
		"  -h, --help         print this help\n"
		"  -V, --version      print the version\n"
		"\n"
		"umm-ls is found as $UMM_LS, beside umm-demo, or in $PATH.\n"
		"Exit status: 0 when every frame arrived intact and no byte went through\n"
		"read() or write(); 1 on any failure; 128+N when ended by signal N. The mount,\n"
		"the processes and the temp dir are cleaned up in every case.\n",
		DEFAULT_WIDTH, MAX_DIM, DEFAULT_HEIGHT, MAX_DIM, DEFAULT_FRAMES, MAX_RING,
		DEFAULT_RING);
}

/**
 * parse_args() - fill @cfg from the command line.
 * @argc, @argv: as given to main().
 * @cfg:         defaults in, options out.
 *
 * Return: 0 to go on, 1 when done (--help, --version), -1 on a usage error
 * (reported).
 */
static int parse_args(int argc, char **argv, struct demo_config *cfg)
{
	enum {
		OPT_UMM_FS = 256,
		OPT_ROLE,
		OPT_RING_DIR,
		OPT_CAMERA,
		OPT_DISPLAY,
		OPT_HEAP,
		OPT_CACHE,
		OPT_FRAME_BYTES
	};
	static const struct option longopts[] = {
		{ "width", required_argument, NULL, 'W' },
		{ "height", required_argument, NULL, 'H' },
		{ "frames", required_argument, NULL, 'n' },
		{ "ring", required_argument, NULL, 'r' },
		{ "mount", required_argument, NULL, 'm' },
		{ "outdir", required_argument, NULL, 'o' },
		{ "umm-fs", required_argument, NULL, OPT_UMM_FS },
		{ "camera", required_argument, NULL, OPT_CAMERA },
		{ "display", required_argument, NULL, OPT_DISPLAY },
		{ "heap", required_argument, NULL, OPT_HEAP },
		{ "cache", required_argument, NULL, OPT_CACHE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		/* For umm-demo's own role processes. */
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "ring-dir", required_argument, NULL, OPT_RING_DIR },
		{ "frame-bytes", required_argument, NULL, OPT_FRAME_BYTES },
		{ NULL, 0, NULL, 0 },
	};
	const char *what = NULL;
	unsigned int fb;
	int c, i, ret = 0;

	while ((c = getopt_long(argc, argv, "W:H:n:r:m:o:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'W':
			ret = tool_parse_uint(optarg, 1, MAX_DIM, &cfg->width);
			what = "-W: a width from 1 to 16384";
			break;
		case 'H':
			ret = tool_parse_uint(optarg, 1, MAX_DIM, &cfg->height);
			what = "-H: a height from 1 to 16384";
			break;
		case 'n':
			ret = tool_parse_uint(optarg, 1, MAX_FRAMES, &cfg->frames);
			what = "-n: a frame count from 1 to 1000000000";
			break;
		case 'r':
			ret = tool_parse_uint(optarg, 1, MAX_RING, &cfg->ring);
			what = "-r: a ring of 1 to 64 buffers";
			break;
		case 'm':
			cfg->mount = optarg;
			break;
		case 'o':
			cfg->outdir = optarg;
			break;
		case OPT_UMM_FS:
			cfg->umm_fs = optarg;
			break;
		case OPT_ROLE:
			ret = -EINVAL;
			what = "--role: producer, filter or consumer";
			for (i = 0; i < NR_ROLES; i++)
				if (!strcmp(optarg, demo_role_names[i])) {
					cfg->role = i;
					ret = 0;
				}
			break;
		case OPT_RING_DIR:
			cfg->ring_dir = optarg;
			break;
		case OPT_CAMERA:
			cfg->camera = optarg;
			break;
		case OPT_DISPLAY:
			cfg->display = optarg;
			break;
		case OPT_HEAP:
			cfg->heap = optarg;
			break;
		case OPT_CACHE:
			cfg->cache = optarg;
			break;
		case OPT_FRAME_BYTES:
			ret = tool_parse_uint(optarg, 1, UINT32_MAX, &fb);
			cfg->frame_bytes = fb;
			what = "--frame-bytes";
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			tool_version();
			return 1;
		default:
			/* getopt_long() said what was wrong. */
			tool_bad_usage(NULL);
			return -1;
		}
		if (ret < 0) {
			tool_complain(0, "bad value '%s' for %s", optarg, what);
			return -1;
		}
	}
	if (optind < argc) {
		tool_bad_usage(argv[optind]);
		return -1;
	}
	if (cfg->display && !cfg->camera) {
		tool_complain(0, "--display needs --camera");
		return -1;
	}
	if (!*cfg->outdir || (cfg->mount && !*cfg->mount) || (cfg->camera && !*cfg->camera) ||
	    (cfg->display && !*cfg->display) || (cfg->heap && !*cfg->heap) ||
	    (cfg->cache && !*cfg->cache)) {
		tool_complain(0, "an empty path");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* Static: the atexit() cleanup may look at it after main() returns. */
	static struct demo_config cfg = {
		.width = DEFAULT_WIDTH,
		.height = DEFAULT_HEIGHT,
		.frames = DEFAULT_FRAMES,
		.ring = DEFAULT_RING,
		.outdir = DEFAULT_OUTDIR,
		.role = -1,
	};
	int ret;

	tool_init("umm-demo");
	ret = parse_args(argc, argv, &cfg);
	if (ret)
		return ret > 0 ? 0 : 1;
	if (cfg.role >= 0)
		return demo_role_main(&cfg);
	setvbuf(stdout, NULL, _IOLBF, 0);
	return demo_main(&cfg);
}
