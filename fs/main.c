// SPDX-License-Identifier: MIT
/*
 * main.c - umm-fs: parse and check every option, find the heaps, mount, serve
 * the export socket, run the FUSE loop, and clean up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "export.h"
#include "fs_i.h"
#include "proto_i.h"

/* the store names the kinds of fd it hands out as the wire does */
_Static_assert((int)STORE_KIND_MEMFD == (int)UMM_KIND_MEMFD, "memfd kind");
_Static_assert((int)STORE_KIND_DMABUF == (int)UMM_KIND_DMABUF, "dma-buf kind");

static bool log_to_syslog;

/**
 * fs_log() - one log line: stderr in the foreground, syslog once detached
 */
void fs_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (log_to_syslog) {
		vsyslog(LOG_NOTICE, fmt, ap);
	} else {
		fprintf(stderr, "umm-fs: ");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

// clang-format off
#define FS_OPT(t, p) { t, offsetof(struct fs_config, p), 1 }

static const struct fuse_opt fs_opts[] = {
	FS_OPT("heap=%s", heap),
	FS_OPT("size=%s", size),
	FS_OPT("user_size=%s", user_size),
	FS_OPT("nr_buffers=%s", nr_buffers),
	FS_OPT("socket=%s", socket),
	FS_OPT("nopassthrough", nopassthrough),
	FS_OPT("nouring", nouring),
	FS_OPT("-h", show_help),
	FS_OPT("--help", show_help),
	FS_OPT("-V", show_version),
	FS_OPT("--version", show_version),
	FUSE_OPT_END
};
// clang-format on

/*
 * mount.fuse3 (fstab type fuse.umm-fs) runs "umm-fs SOURCE MOUNTPOINT -o ...":
 * keep the positional arguments aside, the last one is the mount point.
 */
struct positional {
	char *arg[2];
	int n;
	int extra;
};

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct positional *pos = data;

	(void)outargs;
	if (key != FUSE_OPT_KEY_NONOPT)
		return 1;
	if (pos->n == 2) {
		pos->extra = 1;
		return 0;
	}
	pos->arg[pos->n] = strdup(arg);
	if (!pos->arg[pos->n])
		return -1;
	pos->n++;
	return 0;
}

static void usage(const char *prog)
{
	printf("usage: %s MOUNTPOINT [-f] [-d] [-s] [-o OPTION[,OPTION...]]\n\n"
	       "umm options:\n"
	       "    -o heap=LIST           heaps allowed, ':'-separated, in order of preference\n"
	       "    -o size=SIZE           bytes all buffers may hold (default: half of RAM)\n"
	       "    -o user_size=SIZE      bytes the buffers of one uid may hold\n"
	       "    -o nr_buffers=N        most buffers at once\n"
	       "    -o socket=PATH         the export socket (default: /run/umm/umm-PID.sock)\n"
	       "    -o nopassthrough       serve every read and write from the daemon\n"
	       "    -o nouring             take requests from /dev/fuse, not over io_uring\n"
	       "SIZE: a number with an optional K, M, G or T suffix (binary).\n\n",
	       prog);
}

static uint64_t half_of_ram(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || psize <= 0)
		return 1ULL << 30;
	return (uint64_t)pages * (uint64_t)psize / 2;
}

/* Put the heaps named in @list first, in its order, and drop the others. */
static int select_heaps(struct fs *fs, const char *list)
{
	char names[HEAP_MAX][UMM_HEAP_NAME_MAX];
	struct heap chosen[HEAP_MAX];
	unsigned n, i, j;

	unsigned k = 0;

	if (parse_heap_list(list, names, HEAP_MAX, &n)) {
		fprintf(stderr, "umm-fs: heap=%s: not a ':'-separated list of heap names\n", list);
		return -1;
	}
	/* a heap this machine lacks is skipped, so one fstab line fits many machines */
	for (i = 0; i < n; i++) {
		for (j = 0; j < fs->nheaps; j++)
			if (!strcmp(fs->heaps[j].name, names[i]))
				break;
		if (j == fs->nheaps)
			fprintf(stderr, "umm-fs: heap=%s: no heap '%s' on this machine, skipped\n",
				list, names[i]);
		else
			chosen[k++] = fs->heaps[j];
	}
	if (!k) {
		fprintf(stderr,
			"umm-fs: heap=%s: none of these heaps is on this machine (found:", list);
		for (j = 0; j < fs->nheaps; j++)
			fprintf(stderr, " %s", fs->heaps[j].name);
		fprintf(stderr, ")\n");
		return -1;
	}
	memcpy(fs->heaps, chosen, k * sizeof(chosen[0]));
	fs->nheaps = k;
	return 0;
}

static int opt_size(const char *name, const char *val, uint64_t *out)
{
	if (val && parse_size_str(val, out)) {
		fprintf(stderr,
			"umm-fs: %s=%s: not a SIZE (a number with an optional K, M, G or T)\n",
			name, val);
		return -1;
	}
	return 0;
}

/* Check every umm option and turn it into @ucfg; -1 after one message on stderr. */
static int check_options(struct fs *fs, const struct fs_config *cfg, struct store_config *ucfg)
{
	memset(ucfg, 0, sizeof(*ucfg));
	ucfg->size = half_of_ram();
	if (opt_size("size", cfg->size, &ucfg->size) ||
	    opt_size("user_size", cfg->user_size, &ucfg->user_size))
		return -1;
	if (cfg->size && !ucfg->size) {
		fprintf(stderr, "umm-fs: size=0: the mount could hold nothing\n");
		return -1;
	}
	if (cfg->nr_buffers &&
	    (parse_count_str(cfg->nr_buffers, &ucfg->nr_buffers) || !ucfg->nr_buffers)) {
		fprintf(stderr, "umm-fs: nr_buffers=%s: not a positive count\n", cfg->nr_buffers);
		return -1;
	}
	if (cfg->socket && (cfg->socket[0] != '/' ||
			    strlen(cfg->socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))) {
		fprintf(stderr,
			"umm-fs: socket=%s: needs an absolute path shorter than %zu bytes\n",
			cfg->socket, sizeof(((struct sockaddr_un *)0)->sun_path));
		return -1;
	}
	if (heap_discover(fs->heaps, HEAP_MAX, &fs->nheaps) || !fs->nheaps) {
		fprintf(stderr, "umm-fs: no heap works on this machine (memfd_create failed)\n");
		return -1;
	}
	if (cfg->heap && select_heaps(fs, cfg->heap))
		return -1;
	ucfg->heaps = fs->heaps;
	ucfg->nheaps = fs->nheaps;
	ucfg->log = fs_log;
	return 0;
}

static int unescape_mountinfo(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return 0;
}

/*
 * The device of our mount, from /proc/self/mountinfo: stat() of the mount
 * point would ask ourselves, and nobody serves requests yet.
 */
static int mount_dev(const char *mnt, dev_t *dev)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int found = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		char path[4096];

		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, path) != 3)
			continue;
		unescape_mountinfo(path);
		if (strcmp(path, mnt) || !strstr(line, " - fuse"))
			continue;
		*dev = makedev(maj, min);
		found = 0;
	}
	fclose(f);
	return found;
}

static int fs_export_fd(void *ctx, uint64_t ino, int accmode, uint32_t *kind, uint64_t *size)
{
	struct fs *fs = ctx;

	/*
	 * Without passthrough the kernel caches the pages of the mount's
	 * opens: what they wrote through a mapping is written back first, so
	 * the exported memory holds it; the cache is dropped, so their later
	 * reads see what the export's holders write until it fills again.
	 */
	if (!fs->passthrough)
		fuse_lowlevel_notify_inval_inode(fs->se, ino, 0, 0);
	return store_export(fs->store, ino, accmode, kind, size);
}

static void raise_nofile(void)
{
	struct rlimit rl;
	long nr_open = 0;
	FILE *f;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	/* as root, past the hard limit too: up to fs.nr_open, 1M at most */
	f = fopen("/proc/sys/fs/nr_open", "re");
	if (f) {
		if (fscanf(f, "%ld", &nr_open) != 1)
			nr_open = 0;
		fclose(f);
	}
	if (nr_open > 1L << 20)
		nr_open = 1L << 20;
	if (nr_open > 0 && (rlim_t)nr_open > rl.rlim_max) {
		struct rlimit up = { .rlim_cur = (rlim_t)nr_open, .rlim_max = (rlim_t)nr_open };

		if (!setrlimit(RLIMIT_NOFILE, &up))
			return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	static struct fs fs;
	struct fuse_cmdline_opts opts = { 0 };
	struct fs_config cfg = { 0 };
	struct positional pos = { 0 };
	struct export_server *srv = NULL;
	struct fuse_session *se = NULL;
	struct store_config ucfg;
	char sock[108], *mnt = NULL;
	int ret = 1;
	dev_t dev;

	if (fuse_opt_parse(&args, &pos, NULL, opt_proc) == -1 ||
	    fuse_opt_parse(&args, &cfg, fs_opts, NULL) == -1)
		goto out_args;
	if (cfg.show_help) {
		usage(argv[0]);
		fuse_cmdline_help();
		fuse_lowlevel_help();
		ret = 0;
		goto out_args;
	}
	if (cfg.show_version) {
		printf("umm-fs %s (libfuse %s, passthrough %s, io_uring %s)\n", UMM_VERSION,
		       fuse_pkgversion(),
#ifdef UMM_HAVE_PASSTHROUGH
		       "built in",
#else
		       "not built in",
#endif
#ifdef FUSE_CAP_OVER_IO_URING
		       "built in"
#else
		       "not built in"
#endif
		);
		ret = 0;
		goto out_args;
	}
	if (pos.extra) {
		fprintf(stderr, "umm-fs: too many arguments (try --help)\n");
		goto out_args;
	}
	if (pos.n && fuse_opt_add_arg(&args, pos.arg[pos.n - 1]))
		goto out_args;
	if (fuse_parse_cmdline(&args, &opts) != 0)
		goto out_args;
	if (!opts.mountpoint) {
		fprintf(stderr, "umm-fs: no mount point given (try --help)\n");
		goto out_opts;
	}
	mnt = realpath(opts.mountpoint, NULL);
	if (!mnt) {
		fprintf(stderr, "umm-fs: %s: %s\n", opts.mountpoint, strerror(errno));
		goto out_opts;
	}
	if (check_options(&fs, &cfg, &ucfg))
		goto out_opts;
	fs.passthrough = !cfg.nopassthrough;
#ifndef UMM_HAVE_PASSTHROUGH
	fs.passthrough = false;
#endif
	ucfg.passthrough = fs.passthrough;

	/* the kernel checks permissions; a shared filesystem when root mounts it */
	if (fuse_opt_add_arg(&args, "-odefault_permissions,fsname=umm,subtype=umm-fs") ||
	    (geteuid() == 0 && fuse_opt_add_arg(&args, "-oallow_other")))
		goto out_opts;
#ifdef FUSE_CAP_OVER_IO_URING
	/* libfuse serves requests over io_uring where INIT says the kernel offers it */
	fs.uring = !cfg.nouring;
	if (fs.uring && fuse_opt_add_arg(&args, "-oio_uring"))
		goto out_opts;
#endif
	if (store_new(&fs.store, &ucfg)) {
		fprintf(stderr, "umm-fs: out of memory\n");
		goto out_opts;
	}
	se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), &fs);
	if (!se)
		goto out_store;
	fs.se = se;
	if (fuse_set_signal_handlers(se))
		goto out_session;
	raise_nofile();
	if (fuse_session_mount(se, mnt))
		goto out_signals;
	if (fuse_daemonize(opts.foreground))
		goto out_unmount;
	if (!opts.foreground) {
		openlog("umm-fs", LOG_PID, LOG_DAEMON);
		log_to_syslog = true;
	}
	if (cfg.socket)
		snprintf(sock, sizeof(sock), "%s", cfg.socket);
	else
		snprintf(sock, sizeof(sock), "/run/umm/umm-%ld.sock", (long)getpid());
	if (mount_dev(mnt, &dev)) {
		fs_log("cannot find the mount in /proc/self/mountinfo");
		goto out_unmount;
	}
	ret = export_start(&srv, sock, dev,
			   &(struct export_ops){ .export_fd = fs_export_fd, .log = fs_log }, &fs);
	if (ret) {
		fs_log("export socket %s: %s", sock, strerror(-ret));
		ret = 1;
		goto out_unmount;
	}
	store_set_socket(fs.store, sock);

	if (opts.singlethread) {
		ret = fuse_session_loop(se);
	} else {
		struct fuse_loop_config *lc = fuse_loop_cfg_create();

		if (!lc) {
			ret = 1;
			goto out_export;
		}
		fuse_loop_cfg_set_clone_fd(lc, opts.clone_fd);
		if (opts.max_threads > 0 && opts.max_threads <= 1000)
			fuse_loop_cfg_set_max_threads(lc, opts.max_threads);
		fuse_loop_cfg_set_idle_threads(lc, opts.max_idle_threads);
		ret = fuse_session_loop_mt(se, lc);
		fuse_loop_cfg_destroy(lc);
	}
	/* a signal ends the loop with its number: a clean stop, like an unmount */
	ret = ret < 0 ? 1 : 0;
out_export:
	export_stop(srv);
out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_store:
	store_free(fs.store);
	heap_release_all(fs.heaps, fs.nheaps);
out_opts:
	free(mnt);
	free(opts.mountpoint);
out_args:
	fuse_opt_free_args(&args);
	free(cfg.heap);
	free(cfg.size);
	free(cfg.user_size);
	free(cfg.nr_buffers);
	free(cfg.socket);
	free(pos.arg[0]);
	free(pos.arg[1]);
	return ret;
}
