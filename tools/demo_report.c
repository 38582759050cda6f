// SPDX-License-Identifier: MIT
/*
 * demo_report.c - what umm-demo shows at the end of a run: the daemon's
 * counters before and after, frames per second, the bytes each role touched
 * in place, whether the three mapped the same page, the PPM files; and a
 * listing of the ring with umm-ls while the roles still hold it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "demo_i.h"

/* How long umm-ls may take to list the ring. */
#define LS_TIMEOUT_MS 30000

/**
 * demo_read_stats() - the root's user.umm.stats, without a trailing newline.
 * @d:   the demo; d->fs.root is the mount.
 * @buf: where the line goes.
 * @len: the room in @buf.
 *
 * Return: 0, or -errno (-ERANGE when it does not fit).
 */
int demo_read_stats(const struct demo *d, char *buf, size_t len)
{
	char *v;
	size_t n;
	int ret;

	ret = tool_xattr_get(d->fs.root, true, STATS_XATTR, &v);
	if (ret < 0)
		return ret;
	n = strlen(v);
	while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	if (n >= len) {
		free(v);
		return -ERANGE;
	}
	memcpy(buf, v, n);
	buf[n] = '\0';
	free(v);
	return 0;
}

/* The number after "@key=" in a user.umm.stats line; -ENOENT if absent. */
static int stats_value(const char *stats, const char *key, uint64_t *v)
{
	const char *p;
	size_t len;
	char *end;

	p = tool_attr_value(stats, key, &len);
	if (!p)
		return -ENOENT;
	errno = 0;
	*v = strtoull(p, &end, 10);
	if (errno || end == p || (size_t)(end - p) != len)
		return -EPROTO;
	return 0;
}

/* @v bytes as "3.5 MiB" and the like. */
static const char *human(uint64_t v, char *buf, size_t len)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	double x = (double)v;
	unsigned int u = 0;

	while (x >= 1024 && u < 4) {
		x /= 1024;
		u++;
	}
	if (!u)
		snprintf(buf, len, "%" PRIu64 " bytes", v);
	else
		snprintf(buf, len, "%.1f %s", x, unit[u]);
	return buf;
}

/**
 * demo_report() - print what the run did and check that it copied nothing.
 * @d:      the demo.
 * @before: user.umm.stats before the roles started.
 * @after:  user.umm.stats after they finished.
 *
 * Return: 0, or -1 when a pixel was wrong or the daemon moved bytes through
 * read() or write() (reported).
 */
int demo_report(struct demo *d, const char *before, const char *after)
{
	const struct demo_config *cfg = d->cfg;
	struct role_proc *r = d->roles;
	uint64_t rb0, rb1, wb0, wb1, touched, pfn;
	double secs = (double)(d->t_end - d->t_go) / 1e9;
	char h1[32], h2[32], h3[32], h4[32];
	bool same = true;
	int failed = 0, i;
	uint32_t k, prev = 0;

	if (stats_value(before, "read_bytes", &rb0) < 0 ||
	    stats_value(before, "write_bytes", &wb0) < 0 ||
	    stats_value(after, "read_bytes", &rb1) < 0 ||
	    stats_value(after, "write_bytes", &wb1) < 0) {
		tool_complain(0, "%s has no read_bytes= or write_bytes=: \"%s\"", STATS_XATTR,
			      after);
		return -1;
	}
	touched = r[ROLE_PRODUCER].done.bytes + r[ROLE_FILTER].done.bytes +
		  r[ROLE_CONSUMER].done.bytes;

	printf("\n");
	if (cfg->camera) {
		char a[5];

		printf("frames              %u of %ux%u %s, %zu bytes each, from %s%s%s through a "
		       "ring of %u\n",
		       cfg->frames, d->cam.width, d->cam.height, demo_fourcc(d->cam.pixelformat, a),
		       d->frame_bytes, cfg->camera, cfg->display ? " to " : "",
		       cfg->display ? cfg->display : "", cfg->ring);
		printf("camera dropped      %" PRIu64 " frames (gaps in its sequence numbers)\n",
		       r[ROLE_PRODUCER].done.sum);
	} else {
		printf("frames              %u of %ux%u RGBA, %zu bytes each, through a ring of %u\n",
		       cfg->frames, cfg->width, cfg->height, d->frame_bytes, cfg->ring);
	}
	printf("elapsed             %.3f s\n", secs);
	printf("frames per second   %.1f\n", secs > 0 ? cfg->frames / secs : 0.0);
	if (cfg->camera)
		printf("touched in place    %s: the camera's DMA wrote every frame; the producer "
		       "read %s to sum it, the filter read and wrote %s, the consumer read %s to "
		       "check it\n"
		       "CPU copies          0 bytes outside the filter: the devices read and write "
		       "the ring's dma-bufs themselves\n",
		       human(touched, h1, sizeof(h1)),
		       human(r[ROLE_PRODUCER].done.bytes, h2, sizeof(h2)),
		       human(r[ROLE_FILTER].done.bytes, h3, sizeof(h3)),
		       human(r[ROLE_CONSUMER].done.bytes, h4, sizeof(h4)));
	else
		printf("touched in place    %s: producer wrote %s, filter read and wrote %s, "
		       "consumer read %s\n",
		       human(touched, h1, sizeof(h1)),
		       human(r[ROLE_PRODUCER].done.bytes, h2, sizeof(h2)),
		       human(r[ROLE_FILTER].done.bytes, h3, sizeof(h3)),
		       human(r[ROLE_CONSUMER].done.bytes, h4, sizeof(h4)));
	printf("read()/write()      %" PRIu64 " bytes (the daemon's counters, %s of the root):\n",
	       (rb1 - rb0) + (wb1 - wb0), STATS_XATTR);
	printf("  before            %s\n", before);
	printf("  after             %s\n", after);
	if (cfg->camera)
		printf("frames checked      %" PRIu64
		       " of %u not the camera's, inverted (sums); %" PRIu64
		       " the camera did not write\n",
		       r[ROLE_CONSUMER].done.errors, cfg->frames, r[ROLE_PRODUCER].done.errors);
	else
		printf("pixels checked      %" PRIu64 " wrong in %u frames\n",
		       r[ROLE_CONSUMER].done.errors, cfg->frames);

	pfn = r[0].done.pfn;
	for (i = 0; i < NR_ROLES; i++)
		same = same && r[i].done.pfn && r[i].done.pfn == pfn;
	if (same)
		printf("same memory         frame0's first page is PFN 0x%" PRIx64
		       " in the producer, the filter and the consumer\n",
		       pfn);
	else if (r[0].done.pfn && r[1].done.pfn && r[2].done.pfn)
		printf("same memory         frame0's first page is PFN 0x%" PRIx64 ", 0x%" PRIx64
		       ", 0x%" PRIx64 " (a page can move under compaction)\n",
		       r[0].done.pfn, r[1].done.pfn, r[2].done.pfn);
	else
		printf("same memory         not shown: reading PFNs from /proc/self/pagemap needs "
		       "CAP_SYS_ADMIN\n");
	/* The frames demo_ppm_wanted() picks, each once. */
	printf("PPM files          ");
	if (cfg->camera)
		printf(" none: the camera's frames are not RGBA");
	for (i = 0; i < 3 && !cfg->camera; i++) {
		k = i == 0 ? 0 : i == 1 ? cfg->frames / 2 : cfg->frames - 1;
		if (i == 0 || k > prev)
			printf(" %s/frame-%06" PRIu32 ".ppm", d->outdir, k);
		prev = k;
	}
	printf("\n");

	if (rb1 != rb0 || wb1 != wb0) {
		tool_complain(0, "the daemon served read()/write() during the run: not zero-copy");
		failed = 1;
	}
	if (r[ROLE_CONSUMER].done.errors) {
		tool_complain(0, "wrong %s: %" PRIu64, cfg->camera ? "frames" : "pixels",
			      r[ROLE_CONSUMER].done.errors);
		failed = 1;
	}
	if (cfg->camera && r[ROLE_PRODUCER].done.errors) {
		tool_complain(0, "frames the camera did not write: %" PRIu64,
			      r[ROLE_PRODUCER].done.errors);
		failed = 1;
	}
	return failed ? -1 : 0;
}

/**
 * demo_list_ring() - list the ring with umm-ls -l -p, while the roles hold it.
 * @d: the demo.
 *
 * Return: 0 (also when umm-ls is not there: a note says so), or -1 when it
 * failed (reported).
 */
int demo_list_ring(struct demo *d)
{
	char *argv[] = { d->umm_ls, "-l", "-p", d->ring_dir, NULL };
	int status = 0, ret;
	char st[64];
	pid_t pid;

	if (!d->umm_ls) {
		tool_say("umm-ls not found (beside umm-demo or in $PATH): no listing of the ring");
		return 0;
	}
	printf("\n$ umm-ls -l -p %s\n", d->ring_dir);
	pid = tool_spawn(d->umm_ls, argv, NULL, 0, -1, TOOL_SPAWN_STDIN_NULL);
	if (pid < 0) {
		tool_complain((int)-pid, "fork");
		return -1;
	}
	ret = tool_wait_pid(pid, &status, LS_TIMEOUT_MS);
	if (ret < 0) {
		tool_end_child(pid, 0, &status);
		tool_complain(0, "%s did not finish within %d s", d->umm_ls, LS_TIMEOUT_MS / 1000);
		return -1;
	}
	printf("\n");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		tool_complain(0, "%s ended with %s", d->umm_ls,
			      tool_status_text(status, true, st, sizeof(st)));
		return -1;
	}
	return 0;
}
