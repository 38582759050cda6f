// SPDX-License-Identifier: MIT
/*
 * bench_targets.c - what umm-bench compares: its own umm mounted twice
 * (with FUSE passthrough, and with -o nopassthrough) and a tmpfs, under one
 * temp dir, and memfd and the raw heaps where this machine has them; a umm
 * lost during the run (its daemon died, its mount stopped answering); and
 * the cleanup of all of it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "bench_i.h"

#define MOUNT_TIMEOUT_MS 10000 /* from the start of umm-fs until it answers */

/*
 * Unmount @mnt: while it is busy, try again for 5 s, then detach it lazily;
 * at once with @now (its daemon is gone: a busy mount would never be less
 * busy).
 */
void bench_unmount_path(const char *mnt, bool now)
{
	if (tool_unmount(mnt, now ? 1 : 49) < 0)
		tool_detach(mnt);
}

/*
 * Unmount @t's umm and end its daemon, whatever state either is in: a live
 * daemon leaves by itself once unmounted (@ms at most); a dead or hung one
 * is ended; what is mounted then (a late mount, a busy one) is detached.
 */
static void stop_umm(struct target *t, unsigned int ms)
{
	bench_unmount_path(t->fs.root, t->fs.pid <= 0 || tool_child_exited(t->fs.pid));
	tool_fs_end(&t->fs, ms);
	bench_unmount_path(t->fs.root, true);
}

/*
 * Print the end of @t's log if it has @min lines or more: it goes with the
 * temp dir, so this is the only trace left of why umm-fs failed.
 */
static void show_log(const struct target *t, int min)
{
	char buf[1024], *line, *save, *p;
	int lines = 1;

	if (!tool_fs_log_tail(&t->fs, buf, sizeof(buf)))
		return;
	for (p = buf; (p = strchr(p, '\n')); p++)
		lines++;
	if (lines < min)
		return;
	fprintf(stderr, "umm-bench: the end of the log of %s's umm-fs:\n", t->name);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		fprintf(stderr, "  | %s\n", line);
}

/* The last line of @t's log, or "", into @buf (its end cut to fit). */
static const char *log_last_line(const struct target *t, char *buf, size_t len)
{
	char tail[1024], *line;
	size_t n;

	tool_fs_log_tail(&t->fs, tail, sizeof(tail));
	line = strrchr(tail, '\n');
	line = line ? line + 1 : tail;
	n = strnlen(line, len - 1);
	memcpy(buf, line, n);
	buf[n] = '\0';
	return buf;
}

/**
 * mount_umm() - mount umm-fs for target @t on @t->fs.root.
 * @b:    the benchmark.
 * @t:    the target (T_UMM, T_NOPT or T_DEVFUSE).
 * @opts: extra -o options ("", ",nopassthrough" or ",nouring").
 *
 * The daemon runs in the foreground as our child (tool_fs_start()), logging
 * into the temp dir, its RLIMIT_NOFILE raised for daemon-rss. We wait until
 * the mount answers. On failure,
 * the daemon is ended and nothing of it stays mounted.
 *
 * Return: 0, or -errno with t->note saying why.
 */
static int mount_umm(struct bench *b, struct target *t, const char *opts)
{
	char o[PATH_MAX + 128], st[48], last[128];
	const char *what;
	bool mounted;
	int ret;

	if (mkdir(t->fs.root, 0755) < 0)
		return -errno;
	if (tool_fmt_path(o, sizeof(o), "socket=%s,size=%lu%s", t->fs.sock, b->mount_size, opts) <
	    0)
		return -ENAMETOOLONG;
	ret = tool_fs_start(&t->fs, b->umm_fs, o, TOOL_SPAWN_NOFILE_MAX, &what);
	if (ret < 0)
		return ret;
	ret = tool_fs_wait(&t->fs, tool_now_ns() + MOUNT_TIMEOUT_MS * 1000000ULL, true, &mounted);
	if (ret == 0)
		return 0;

	stop_umm(t, 0);
	log_last_line(t, last, sizeof(last));
	switch (ret) {
	case -ECHILD:
		snprintf(t->note, sizeof(t->note), "umm-fs exited (%s) before it %s%s%s",
			 tool_status_text(t->fs.status, false, st, sizeof(st)),
			 mounted ? "answered" : "mounted", last[0] ? ": " : "", last);
		break;
	case -ETIMEDOUT:
		snprintf(t->note, sizeof(t->note), "umm-fs did not %s within %d s: ended it",
			 mounted ? "answer" : "mount", MOUNT_TIMEOUT_MS / 1000);
		break;
	case -EINTR:
		snprintf(t->note, sizeof(t->note), "interrupted while umm-fs started");
		break;
	default:
		/* Not mounted: /proc/self/mountinfo could not be read ("mount: ..."). */
		if (mounted)
			snprintf(t->note, sizeof(t->note),
				 "umm-fs mounted, but statfs fails there: %s", strerror(-ret));
		break;
	}
	return ret;
}

/**
 * bench_umm_lost() - has a umm target been lost during the run?
 * @b:   the benchmark.
 * @id:  the target whose call just failed with @err, or NR_TARGETS for none.
 * @err: its -errno.
 *
 * Its umm-fs has exited, or its mount no longer answers (ENOTCONN,
 * ECONNABORTED). Either ends the run: the figures would be errors, or those
 * of the bare directory under the mount point. The daemon is ended and its
 * mount detached at once, with a message and the end of its log.
 *
 * Return: true when the run must stop (b->failed).
 */
bool bench_umm_lost(struct bench *b, enum target_id id, int err)
{
	char st[48];
	pid_t pid;
	int i;

	for (i = T_UMM; i <= T_UMM_LAST; i++) {
		struct target *t = &b->t[i];

		if (!t->avail || t->lost)
			continue;
		pid = t->fs.pid;
		/*
		 * A daemon that dies aborts its connection a moment before it
		 * can be reaped: give a mount that stopped answering 2 s to
		 * show whether its daemon exited.
		 */
		if (pid > 0 && (int)id == i && (err == -ENOTCONN || err == -ECONNABORTED))
			tool_wait_exited(pid, 2000);
		if (pid > 0 && tool_child_exited(pid)) {
			stop_umm(t, 0);
			tool_complain(0, "umm-fs of %s (pid %d) died during the run (%s): stopped",
				      t->name, (int)pid,
				      tool_status_text(t->fs.status, false, st, sizeof(st)));
		} else if ((int)id == i && (err == -ENOTCONN || err == -ECONNABORTED)) {
			tool_complain(-err,
				      "the umm of %s no longer answers (umm-fs pid %d): stopped",
				      t->name, (int)pid);
			stop_umm(t, 0);
		} else {
			continue;
		}
		show_log(t, 1);
		t->lost = true;
		b->failed = true;
	}
	return b->failed;
}

/* nftw() callback of bench_remove_tree(): one entry, children first. */
static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/*
 * Remove @dir and what is in it, never crossing into a mount: what is
 * still mounted there (it could not be unmounted) stays, and so @dir.
 * Return: 0, or -errno of the last rmdir().
 */
int bench_remove_tree(const char *dir)
{
	if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 && errno != ENOENT)
		return -errno;
	if (access(dir, F_OK) == 0)
		return rmdir(dir) < 0 ? -errno : 0;
	return 0;
}

/*
 * Clean up everything of ours: mounts, daemons, the temp dir. Idempotent.
 * Whatever the flags say, each mount point is looked up in the mount table:
 * a daemon may have mounted after we gave up waiting, or died mounted.
 */
void bench_cleanup(struct bench *b)
{
	bool busy = false;
	int id, ret;

	if (b->cleaned)
		return;
	b->cleaned = true;
	for (id = T_UMM; id <= T_UMM_LAST; id++) {
		struct target *t = &b->t[id];

		if (t->fs.root[0])
			stop_umm(t, 5000);
	}
	if (b->tmpfs_dir[0])
		bench_unmount_path(b->tmpfs_dir, false);
	b->tmpfs_mounted = false;
	/* What is left in /dev/shm when it stood in for tmpfs (not root). */
	if (b->tmpfs_dir[0] && strncmp(b->tmpfs_dir, b->tmp, strlen(b->tmp)) != 0) {
		ret = bench_remove_tree(b->tmpfs_dir);
		if (ret < 0)
			tool_complain(-ret, "could not remove %s", b->tmpfs_dir);
	}
	/* Never walk into a mount that is still there: its daemon may hang. */
	for (id = T_UMM; id <= T_UMM_LAST; id++) {
		if (b->t[id].fs.root[0] && tool_is_mounted(b->t[id].fs.root) != 0) {
			tool_complain(0, "%s is still mounted (left behind)", b->t[id].fs.root);
			busy = true;
		}
	}
	if (b->tmpfs_dir[0] && tool_is_mounted(b->tmpfs_dir) != 0) {
		tool_complain(0, "%s is still mounted (left behind)", b->tmpfs_dir);
		busy = true;
	}
	if (b->tmp[0] && !busy) {
		ret = bench_remove_tree(b->tmp);
		if (ret < 0)
			tool_complain(-ret, "rmdir %s (left behind)", b->tmp);
	}
	free(b->umm_fs);
	b->umm_fs = NULL;
}

/* The transport of @t's mount, from the transport= of its user.umm.stats. */
static void read_transport(struct target *t)
{
	char *stats = NULL;
	const char *v;
	size_t len = 0;

	snprintf(t->transport, sizeof(t->transport), "%s", "dev_fuse");
	if (tool_xattr_get(t->fs.root, true, "user.umm.stats", &stats) < 0)
		return;
	v = tool_attr_value(stats, "transport", &len);
	if (v && len && len < sizeof(t->transport))
		snprintf(t->transport, sizeof(t->transport), "%.*s", (int)len, v);
	free(stats);
}

/*
 * Mount @t (T_UMM, T_NOPT or T_DEVFUSE) and find how it maps; 0, or -errno with
 * t->note saying why and a message, nothing of it left mounted or running.
 */
static int setup_umm(struct bench *b, struct target *t)
{
	char tr[sizeof(t->transport)];
	int ret;

	if (tool_fmt_path(t->fs.root, sizeof(t->fs.root), "%s/%s", b->tmp, t->name) < 0 ||
	    tool_fmt_path(t->fs.sock, sizeof(t->fs.sock), "%s/%s.sock", b->tmp, t->name) < 0 ||
	    tool_fmt_path(t->fs.log, sizeof(t->fs.log), "%s/%s.log", b->tmp, t->name) < 0) {
		t->fs.root[0] = '\0';
		snprintf(t->note, sizeof(t->note), "mount: %s", strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	ret = mount_umm(b, t,
			t - b->t == T_NOPT    ? ",nopassthrough" :
			t - b->t == T_DEVFUSE ? ",nouring" :
						"");
	if (ret == 0) {
		ret = bench_probe_map_way(b, t);
		if (ret < 0) {
			stop_umm(t, 2000);
			snprintf(t->note, sizeof(t->note),
				 "umm-fs mounted, but no buffer could be made and mapped: %s",
				 strerror(-ret));
		}
	} else if (!t->note[0]) {
		snprintf(t->note, sizeof(t->note), "mount: %s", strerror(-ret));
	}
	if (ret < 0) {
		if (ret != -EINTR) {
			tool_complain(0, "%s: %s", t->name, t->note);
			show_log(t, 2); /* its last line is in the note */
		}
		return ret;
	}
	t->avail = true;
	read_transport(t);
	snprintf(tr, sizeof(tr), "%s", t->transport);
	snprintf(t->note, sizeof(t->note), "umm-fs pid %d, transport %s, %s", (int)t->fs.pid, tr,
		 t->way == MAP_OWN_FD ?
			 (t == &b->t[T_NOPT] ? "maps the creating fd (page cache)" :
					       "maps the creating fd (passthrough)") :
		 t->way == MAP_REOPEN ? "maps an O_RDWR reopen (passthrough)" :
					"maps umm_open()'s fd (zero copy)");
	return 0;
}

/**
 * bench_setup_targets() - mount umm three times and tmpfs, and find the raw heaps.
 * @b: the benchmark, b->tmp made (tool_make_tmp()).
 *
 * Return: 0 when at least umm and tmpfs are there to compare, else -1.
 */
int bench_setup_targets(struct bench *b)
{
	static const char *const names[NR_TARGETS] = { "umm",	"umm-nopt", "umm-dev", "tmpfs",
						       "memfd", "dma-heap", "udmabuf" };
	char opts[64];
	long pages = sysconf(_SC_PHYS_PAGES);
	int id, ret;

	for (id = 0; id < NR_TARGETS; id++) {
		b->t[id].name = names[id];
		tool_fs_init(&b->t[id].fs);
		b->t[id].is_umm = id <= T_UMM_LAST;
	}
	/* Half of RAM, as umm-fs and tmpfs default to: budgets, not allocations. */
	b->mount_size = pages > 0 ? (unsigned long)pages / 2 * PAGE : 1UL << 30;
	for (id = T_UMM; id <= T_UMM_LAST; id++) {
		ret = setup_umm(b, &b->t[id]);
		if (tool_signal)
			return -1;
		/* The same umm-fs would hang as long again: do not wait twice. */
		if (ret == -ETIMEDOUT && id == T_UMM) {
			for (id = T_UMM + 1; id <= T_UMM_LAST; id++)
				snprintf(b->t[id].note, sizeof(b->t[id].note),
					 "not tried: umm-fs did not start for umm");
			break;
		}
	}
	if (!b->t[T_UMM].avail && !b->t[T_NOPT].avail) {
		tool_complain(0, "no umm mount to measure (see above)");
		return -1;
	}

	if (tool_fmt_path(b->tmpfs_dir, sizeof(b->tmpfs_dir), "%s/tmpfs", b->tmp) < 0 ||
	    mkdir(b->tmpfs_dir, 0755) < 0)
		return -1;
	snprintf(opts, sizeof(opts), "size=%lu", b->mount_size);
	if (geteuid() == 0 && mount("tmpfs", b->tmpfs_dir, "tmpfs", 0, opts) == 0) {
		b->tmpfs_mounted = true;
		snprintf(b->t[T_TMPFS].fs.root, PATH_MAX, "%s", b->tmpfs_dir);
		snprintf(b->t[T_TMPFS].note, sizeof(b->t[T_TMPFS].note), "own mount, -o %s", opts);
	} else {
		rmdir(b->tmpfs_dir);
		if (tool_fmt_path(b->tmpfs_dir, sizeof(b->tmpfs_dir), "/dev/shm/umm-bench.%d",
				  (int)getpid()) < 0 ||
		    mkdir(b->tmpfs_dir, 0700) < 0) {
			b->tmpfs_dir[0] = '\0';
			tool_complain(errno, "no tmpfs: mount failed and /dev/shm is not usable");
			return -1;
		}
		snprintf(b->t[T_TMPFS].fs.root, PATH_MAX, "%s", b->tmpfs_dir);
		snprintf(b->t[T_TMPFS].note, sizeof(b->t[T_TMPFS].note), "/dev/shm");
	}
	b->t[T_TMPFS].avail = true;
	b->t[T_TMPFS].way = MAP_OWN_FD;
	b->t[T_MEMFD].avail = true;
	snprintf(b->t[T_MEMFD].note, sizeof(b->t[T_MEMFD].note), "memfd_create + ftruncate");

	ret = bench_dmaheap_alloc(PAGE);
	if (ret >= 0) {
		close(ret);
		b->t[T_DMAHEAP].avail = true;
		snprintf(b->t[T_DMAHEAP].note, sizeof(b->t[T_DMAHEAP].note),
			 "DMA_HEAP_IOCTL_ALLOC on " DMA_HEAP_PATH);
	} else {
		snprintf(b->t[T_DMAHEAP].note, sizeof(b->t[T_DMAHEAP].note),
			 "absent (" DMA_HEAP_PATH ": %s): skipped", strerror(-ret));
	}
	ret = bench_udmabuf_alloc(PAGE, &id);
	if (ret >= 0) {
		close(ret);
		close(id);
		b->t[T_UDMABUF].avail = true;
		snprintf(b->t[T_UDMABUF].note, sizeof(b->t[T_UDMABUF].note),
			 "UDMABUF_CREATE over a sealed memfd");
	} else {
		snprintf(b->t[T_UDMABUF].note, sizeof(b->t[T_UDMABUF].note),
			 "absent (" UDMABUF_PATH ": %s): skipped", strerror(-ret));
	}
	return 0;
}
