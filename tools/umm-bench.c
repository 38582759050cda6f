// SPDX-License-Identifier: MIT
/*
 * umm-bench.c - umm side by side with tmpfs, memfd and the raw heaps.
 *
 * One run mounts its own umm twice (with FUSE passthrough, and with -o
 * nopassthrough) and a tmpfs, all under one temp dir, and runs every
 * scenario against every target that exists on this machine. Within each
 * repetition the targets take turns (A B C D, A B C D, ...), so that a
 * drift of the machine (frequency, page cache, another load) touches all of
 * them alike. The table and the JSON file give the median, min and max of
 * the repetitions and the ratio of medians to tmpfs in the same run; a last
 * section compares the ratios with the targets of issue 5. Nothing here
 * asserts a timing: the exit status says only whether the benchmark ran.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/dma-heap.h>
#include <linux/magic.h>
#include <linux/udmabuf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include <umm.h>

#include "tool_i.h"

#ifndef UMM_VERSION
#define UMM_VERSION "unknown"
#endif
#ifndef UMM_SBINDIR
#define UMM_SBINDIR "/usr/local/sbin"
#endif

#define KIB 1024UL
#define MIB (1024UL * 1024UL)
#define PAGE 4096UL
#define MOUNT_TIMEOUT_MS 10000 /* from the start of umm-fs until it answers */
#define BENCH_XATTR "user.bench"
#define DMA_HEAP_PATH "/dev/dma_heap/system"
#define UDMABUF_PATH "/dev/udmabuf"

static volatile sig_atomic_t got_signal;

/* Armed while a scenario runs: a SIGBUS then ends only that (see run_guarded()). */
static sigjmp_buf fault_env;
static volatile sig_atomic_t fault_armed;

/* ---- messages ------------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static void complain(int errnum, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("umm-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (errnum)
		fprintf(stderr, ": %s", strerror(errnum));
	fputc('\n', stderr);
}

/* snprintf that reports truncation as -ENAMETOOLONG. */
__attribute__((format(printf, 3, 4))) static int fmt_path(char *buf, size_t len, const char *fmt,
							  ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- targets --------------------------------------------------------------- */

enum target_id { T_UMM, T_NOPT, T_TMPFS, T_MEMFD, T_DMAHEAP, T_UDMABUF, NR_TARGETS };

/* How a client of a target gets a mapping of a new buffer. */
enum map_way {
	MAP_OWN_FD, /* mmap the fd that created it (tmpfs, memfd, passthrough create) */
	MAP_REOPEN, /* close, open O_RDWR again, mmap that (a passthrough open) */
	MAP_EXPORT, /* mmap what umm_open() gives (no passthrough) */
};

struct target {
	const char *name;
	bool avail;
	bool is_umm;
	char note[256];
	char root[PATH_MAX]; /* where its files go (umm, tmpfs) */
	char sock[PATH_MAX];
	char log[PATH_MAX];
	pid_t fs_pid; /* unreaped until end_daemon(): its pid is its process group's */
	int fs_status; /* its wait status, once end_daemon() has reaped it */
	bool lost; /* its daemon died, or its mount stopped answering, during the run */
	enum map_way way;
};

struct config {
	int mode; /* 0 quick, 1 default, 2 full */
	unsigned int reps;
	const char *json;
	const char *only;
	const char *umm_fs;
};

struct bench {
	const struct config *cfg;
	char *umm_fs;
	char tmp[PATH_MAX];
	char tmpfs_dir[PATH_MAX];
	bool tmpfs_mounted;
	struct target t[NR_TARGETS];
	unsigned long mount_size;
	bool cleaned;
	bool failed; /* a umm target was lost: the run stops, the exit status is 1 */
	FILE *json;
	bool json_first;
	unsigned int nr_results;
	unsigned int seq; /* makes every file name unique */
};

static struct bench the_bench;

/* ---- finding and running umm-fs ------------------------------------------- */

/**
 * find_umm_fs() - the umm-fs to mount with.
 * @opt: --umm-fs, or NULL.
 *
 * In order, as umm-demo does: --umm-fs, $UMM_FS, ../fs/umm-fs beside this
 * program (the build tree), UMM_SBINDIR/umm-fs (the install), $PATH. A path
 * given explicitly must work; nothing else is tried then.
 *
 * Return: a new string, or NULL with a message printed.
 */
static char *find_umm_fs(const char *opt)
{
	const char *env = getenv("UMM_FS");
	char *p;

	if (!opt && env && *env)
		opt = env;
	if (opt) {
		if (tool_is_executable(opt))
			return strdup(opt);
		complain(0, "%s (from %s) is not an executable file", opt,
			 opt == env ? "$UMM_FS" : "--umm-fs");
		return NULL;
	}
	p = tool_find("umm-fs", "../fs/umm-fs");
	if (!p)
		complain(0, "umm-fs not found (beside umm-bench, in " UMM_SBINDIR
			    " or in $PATH): give it with --umm-fs PATH");
	return p;
}

/* Wait for our child @pid for @ms at most; its wait status, or -ETIMEDOUT. */
static int wait_child(pid_t pid, unsigned int ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ULL;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status & 0xffff;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (now_ns() >= end)
			return -ETIMEDOUT;
		sleep_ms(5);
	}
}

/* End our child @pid: wait @ms, then SIGTERM, then SIGKILL. */
static void end_child(pid_t pid, unsigned int ms)
{
	if (wait_child(pid, ms) >= 0)
		return;
	kill(pid, SIGTERM);
	if (wait_child(pid, 2000) >= 0)
		return;
	kill(pid, SIGKILL);
	wait_child(pid, 10000);
}

/* "exit status N" or "killed by SIGNAME", for wait status @status. */
static const char *status_text(int status, char *buf, size_t len)
{
	const char *sig;

	if (WIFEXITED(status)) {
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		sig = sigabbrev_np(WTERMSIG(status));
		if (sig)
			snprintf(buf, len, "killed by SIG%s", sig);
		else
			snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	} else {
		snprintf(buf, len, "wait status %#x", (unsigned int)status);
	}
	return buf;
}

/*
 * Has our child @pid exited? It is left unreaped (WNOWAIT): until then its
 * pid, which is also the id of its process group, cannot be reused.
 */
static bool child_exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/* Wait @ms at most for child_exited(@pid). */
static bool wait_exited(pid_t pid, unsigned int ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ULL;

	while (!child_exited(pid)) {
		if (now_ns() >= end)
			return false;
		sleep_ms(5);
	}
	return true;
}

/**
 * end_daemon() - end @t's umm-fs and whatever else runs in its process group.
 * @t:  T_UMM or T_NOPT; after, t->fs_pid is -1 and t->fs_status is set.
 * @ms: how long it may take to leave by itself (it does once unmounted).
 *
 * Then SIGTERM, then SIGKILL, to the whole group: a --umm-fs that is a
 * script would leave its own children running if it alone were signalled.
 * The group is signalled only while the daemon is unreaped, when its id
 * cannot belong to anyone else.
 */
static void end_daemon(struct target *t, unsigned int ms)
{
	pid_t pid = t->fs_pid;
	int status = 0;

	if (pid <= 0)
		return;
	if (!wait_exited(pid, ms)) {
		kill(-pid, SIGTERM);
		if (!wait_exited(pid, 2000)) {
			kill(-pid, SIGKILL);
			if (!wait_exited(pid, 10000)) {
				complain(
					0,
					"umm-fs (pid %d) does not die even of SIGKILL: left as it is",
					(int)pid);
				t->fs_pid = -1;
				return;
			}
		}
	}
	kill(-pid, SIGKILL); /* what it left behind in its group, if anything */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	t->fs_pid = -1;
	t->fs_status = status;
}

/*
 * Unmount @mnt: umount2() as root, else fusermount3 -u. While it is busy,
 * try again for 5 s, then detach it lazily; at once with @now (its daemon
 * is gone: a busy mount would never be less busy).
 */
static void unmount_path(const char *mnt, bool now)
{
	int i, last = now ? 1 : 49;
	char *prog;
	pid_t pid;

	for (i = 0; i <= last && mnt[0] && tool_is_mounted(mnt) == 1; i++) {
		if (i)
			sleep_ms(100);
		if (geteuid() == 0) {
			umount2(mnt, i == last ? MNT_DETACH : 0);
			continue;
		}
		prog = tool_path_search("fusermount3");
		if (!prog)
			return;
		pid = fork();
		if (pid == 0) {
			execl(prog, "fusermount3", "-u", i == last ? "-z" : "-q", mnt,
			      (char *)NULL);
			_exit(127);
		}
		free(prog);
		if (pid > 0)
			end_child(pid, 10000);
	}
}

/*
 * Unmount @t's umm and end its daemon, whatever state either is in: a live
 * daemon leaves by itself once unmounted (@ms at most); a dead or hung one
 * is ended; what is mounted then (a late mount, a busy one) is detached.
 */
static void stop_umm(struct target *t, unsigned int ms)
{
	unmount_path(t->root, t->fs_pid <= 0 || child_exited(t->fs_pid));
	end_daemon(t, ms);
	unmount_path(t->root, true);
}

/* The end of @t's log into @buf: whole lines of its last @len - 1 bytes. */
static size_t log_tail(const struct target *t, char *buf, size_t len)
{
	int fd = open(t->log, O_RDONLY | O_CLOEXEC);
	off_t size, off;
	ssize_t n;
	char *nl;

	buf[0] = '\0';
	if (fd < 0)
		return 0;
	size = lseek(fd, 0, SEEK_END);
	off = size > (off_t)len - 1 ? size - (off_t)(len - 1) : 0;
	n = pread(fd, buf, len - 1, off);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	nl = strchr(buf, '\n');
	if (off > 0 && nl && nl[1])
		memmove(buf, nl + 1, strlen(nl + 1) + 1);
	n = (ssize_t)strlen(buf);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return (size_t)n;
}

/*
 * Print the end of @t's log if it has @min lines or more: it goes with the
 * temp dir, so this is the only trace left of why umm-fs failed.
 */
static void show_log(const struct target *t, int min)
{
	char buf[1024], *line, *save, *p;
	int lines = 1;

	if (!log_tail(t, buf, sizeof(buf)))
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

	log_tail(t, tail, sizeof(tail));
	line = strrchr(tail, '\n');
	line = line ? line + 1 : tail;
	n = strnlen(line, len - 1);
	memcpy(buf, line, n);
	buf[n] = '\0';
	return buf;
}

/*
 * Raise RLIMIT_NOFILE's hard limit to fs.nr_open where we may (as root), in
 * the daemon's child before exec: umm-fs raises its soft limit to the hard
 * one, and holds one fd per buffer, so the hard limit a login shell gives
 * (often 20,000 or less) would end daemon-rss long before 100,000 buffers.
 */
static void raise_nofile(void)
{
	struct rlimit rl;
	unsigned long max = 0;
	FILE *f = fopen("/proc/sys/fs/nr_open", "re");

	if (f) {
		if (fscanf(f, "%lu", &max) != 1)
			max = 0;
		fclose(f);
	}
	if (!max || getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max >= max)
		return;
	rl.rlim_max = max;
	setrlimit(RLIMIT_NOFILE, &rl); /* not root: the old limit stays */
}

/* Wait until @t's umm-fs has mounted, by @end: 0, -ECHILD (it exited), -ETIMEDOUT or -EINTR. */
static int wait_mounted(const struct target *t, uint64_t end)
{
	while (tool_is_mounted(t->root) != 1) {
		if (child_exited(t->fs_pid))
			return -ECHILD;
		if (got_signal)
			return -EINTR;
		if (now_ns() >= end)
			return -ETIMEDOUT;
		sleep_ms(5);
	}
	return 0;
}

/**
 * wait_ready() - wait until the umm on @t->root answers, by @end.
 * @t:   the target, its mount in the mount table.
 * @end: the deadline (now_ns()).
 *
 * A mount in the table is not yet a umm that answers: the daemon may still
 * be in its init, or fail there, unmount and exit. The scenarios would then
 * run on the bare directory below the mount point (and die of SIGBUS on the
 * first mapping of a file never sized). So a statfs() must find a FUSE
 * file system there; it is made by a child, as a FUSE request waits for a
 * daemon stuck in its init past every signal but SIGKILL.
 *
 * Return: 0; -ECHILD if umm-fs exited; -ETIMEDOUT; -EINTR; else the error
 * of statfs() (-ENODEV: no FUSE mount there any more).
 */
static int wait_ready(const struct target *t, uint64_t end)
{
	struct statfs sf;
	int status = 0, ret;
	pid_t pid, r;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (statfs(t->root, &sf) < 0)
			_exit(errno > 0 && errno < 255 ? errno : EIO);
		_exit(sf.f_type == FUSE_SUPER_MAGIC ? 0 : 255);
	}
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (got_signal || now_ns() >= end || (r < 0 && errno != EINTR)) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return got_signal ? -EINTR : -ETIMEDOUT;
		}
		sleep_ms(2);
	}
	if (!WIFEXITED(status))
		ret = -EIO;
	else if (WEXITSTATUS(status) == 255)
		ret = -ENODEV;
	else
		ret = -WEXITSTATUS(status);
	/* A failing umm-fs closes /dev/fuse a little before it can be reaped. */
	if (ret < 0 && wait_exited(t->fs_pid, 1000))
		return -ECHILD;
	return ret;
}

/**
 * mount_umm() - mount umm-fs for target @t on @t->root.
 * @b:    the benchmark.
 * @t:    the target (T_UMM or T_NOPT).
 * @opts: extra -o options ("" or ",nopassthrough").
 *
 * The daemon runs in the foreground as our child, in a process group of its
 * own (a Ctrl-C reaches us alone: we unmount first, and it leaves then),
 * logging into the temp dir. We wait until the mount answers. On failure,
 * the daemon is ended and nothing of it stays mounted.
 *
 * Return: 0, or -errno with t->note saying why.
 */
static int mount_umm(struct bench *b, struct target *t, const char *opts)
{
	char o[PATH_MAX + 128], st[48], last[128];
	bool mounted = false;
	uint64_t end;
	int logfd, ret;
	pid_t pid;

	if (mkdir(t->root, 0755) < 0)
		return -errno;
	if (fmt_path(o, sizeof(o), "socket=%s,size=%lu%s", t->sock, b->mount_size, opts) < 0)
		return -ENAMETOOLONG;
	logfd = open(t->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(logfd);
		return ret;
	}
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		raise_nofile();
		dup2(logfd, 1);
		dup2(logfd, 2);
		close(0);
		open("/dev/null", O_RDONLY);
		execl(b->umm_fs, "umm-fs", t->root, "-f", "-o", o, (char *)NULL);
		_exit(127);
	}
	close(logfd);
	setpgid(pid, pid); /* as the child does: its group must exist before we signal it */
	t->fs_pid = pid;
	end = now_ns() + MOUNT_TIMEOUT_MS * 1000000ULL;
	ret = wait_mounted(t, end);
	if (ret == 0) {
		mounted = true;
		ret = wait_ready(t, end);
	}
	if (ret == 0)
		return 0;

	stop_umm(t, 0);
	log_last_line(t, last, sizeof(last));
	switch (ret) {
	case -ECHILD:
		snprintf(t->note, sizeof(t->note), "umm-fs exited (%s) before it %s%s%s",
			 status_text(t->fs_status, st, sizeof(st)),
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
		snprintf(t->note, sizeof(t->note), "umm-fs mounted, but statfs fails there: %s",
			 strerror(-ret));
		break;
	}
	return ret;
}

/* ---- buffers of each target ------------------------------------------------ */

/* A new name under @t's root (in @dir when not NULL). */
static int new_name(struct bench *b, const struct target *t, const char *dir, char *buf, size_t len)
{
	b->seq++;
	if (dir)
		return fmt_path(buf, len, "%s/%s/b%u", t->root, dir, b->seq);
	return fmt_path(buf, len, "%s/b%u", t->root, b->seq);
}

/* The sized directory of @t for buffers of @size (umm: user.umm.size). */
static int sized_dir(const struct target *t, size_t size, char *rel, size_t len)
{
	char path[PATH_MAX], val[32];
	int ret;

	ret = fmt_path(rel, len, "s%zu", size);
	if (ret < 0 || fmt_path(path, sizeof(path), "%s/%s", t->root, rel) < 0)
		return -ENAMETOOLONG;
	if (mkdir(path, 0755) < 0) {
		if (errno == EEXIST)
			return 0;
		return -errno;
	}
	if (!t->is_umm)
		return 0;
	snprintf(val, sizeof(val), "%zu", size);
	if (setxattr(path, "user.umm.size", val, strlen(val), 0) < 0)
		return -errno;
	return 0;
}

/* A mapped buffer: what a client holds while it uses one. */
struct mbuf {
	int fd, fd2; /* fd2: the memfd behind a udmabuf, or the FUSE fd of an export */
	void *map;
	size_t len;
	char path[PATH_MAX];
};

static int dmaheap_alloc(size_t len)
{
	struct dma_heap_allocation_data d = { .len = len, .fd_flags = O_RDWR | O_CLOEXEC };
	int fd = open(DMA_HEAP_PATH, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = ioctl(fd, DMA_HEAP_IOCTL_ALLOC, &d) < 0 ? -errno : (int)d.fd;
	close(fd);
	return ret;
}

/* A udmabuf over a new sealed memfd; the memfd goes to *@mfd. */
static int udmabuf_alloc(size_t len, int *mfd)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = len };
	int fd, dev, ret;

	fd = memfd_create("umm-bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	dev = open(UDMABUF_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	c.memfd = (uint32_t)fd;
	ret = ioctl(dev, UDMABUF_CREATE, &c);
	if (ret < 0)
		ret = -errno;
	close(dev);
	if (ret < 0)
		close(fd);
	else
		*mfd = fd;
	return ret;
}

/**
 * buf_make() - create, size, open and map a buffer of @len bytes on @t.
 * @b:   the benchmark.
 * @t:   the target.
 * @dir: for umm and tmpfs, the sized directory (from sized_dir()) to create
 *       in; the umm directory gives the size, tmpfs needs ftruncate().
 * @len: the size, a multiple of the page size.
 * @m:   filled in; release with buf_free().
 *
 * Every step a client of that target must take is done here, so the time
 * of an allocation is buf_make() + touching + buf_free().
 *
 * Return: 0, or -errno.
 */
static int buf_make(struct bench *b, const struct target *t, const char *dir, size_t len,
		    struct mbuf *m)
{
	int ret, mfd = -1, fd = -1;

	*m = (struct mbuf){ .fd = -1, .fd2 = -1, .map = MAP_FAILED, .len = len };
	switch ((enum target_id)(t - b->t)) {
	case T_MEMFD:
		fd = memfd_create("umm-bench", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, (off_t)len) < 0)
			goto fail;
		break;
	case T_DMAHEAP:
		fd = dmaheap_alloc(len);
		if (fd < 0) {
			errno = -fd;
			goto fail;
		}
		break;
	case T_UDMABUF:
		fd = udmabuf_alloc(len, &mfd);
		if (fd < 0) {
			errno = -fd;
			goto fail;
		}
		m->fd2 = mfd;
		break;
	default:
		ret = new_name(b, t, dir, m->path, sizeof(m->path));
		if (ret < 0)
			return ret;
		fd = open(m->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			goto fail;
		if (!t->is_umm && ftruncate(fd, (off_t)len) < 0)
			goto fail;
		if (t->way == MAP_REOPEN) {
			close(fd);
			fd = open(m->path, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				goto fail;
		} else if (t->way == MAP_EXPORT) {
			m->fd2 = fd;
			fd = umm_open(m->path, O_RDWR);
			if (fd < 0)
				goto fail;
		}
		break;
	}
	m->fd = fd;
	m->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m->map == MAP_FAILED)
		goto fail;
	return 0;
fail:
	ret = -errno;
	m->fd = fd;
	return ret;
}

/* Unmap, close and unlink what buf_make() made (of it). */
static void buf_free(struct mbuf *m)
{
	if (m->map != MAP_FAILED)
		munmap(m->map, m->len);
	if (m->fd >= 0)
		close(m->fd);
	if (m->fd2 >= 0)
		close(m->fd2);
	if (m->path[0])
		unlink(m->path);
	*m = (struct mbuf){ .fd = -1, .fd2 = -1, .map = MAP_FAILED };
}

/* Write one byte in every page, as a first use of the memory does. */
static void touch_pages(void *map, size_t len)
{
	volatile char *p = map;
	size_t off;

	for (off = 0; off < len; off += PAGE)
		p[off] = 1;
}

/**
 * probe_map_way() - how a client maps a new buffer on umm target @t.
 * @b: the benchmark.
 * @t: T_UMM or T_NOPT.
 *
 * With passthrough, the creating open of a buffer maps its memfd; without,
 * it maps the kernel's page cache of the FUSE file (see OPENING, MAPPING AND
 * EXPORTING in umm(7)), so there umm_open()'s fd, the memory itself, comes
 * first. The first way that works is the one the scenarios time.
 *
 * Return: 0, or -errno when no way works (then @t is no umm to measure).
 */
static int probe_map_way(struct bench *b, struct target *t)
{
	static const enum map_way pt_ways[] = { MAP_OWN_FD, MAP_REOPEN, MAP_EXPORT };
	/* without passthrough the FUSE fd maps the page cache: the export is zero copy */
	static const enum map_way nopt_ways[] = { MAP_EXPORT, MAP_OWN_FD };
	bool nopt = t == &b->t[T_NOPT];
	const enum map_way *ways = nopt ? nopt_ways : pt_ways;
	unsigned int nways = nopt ? 2 : 3;
	char dir[64];
	struct mbuf m;
	unsigned int i;
	int ret;

	ret = sized_dir(t, PAGE, dir, sizeof(dir));
	if (ret < 0)
		return ret;
	for (i = 0; i < nways; i++) {
		t->way = ways[i];
		ret = buf_make(b, t, dir, PAGE, &m);
		buf_free(&m);
		if (ret == 0)
			return 0;
	}
	return ret;
}

/* ---- statistics and output ------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	bool have;
	double median, min, max;
};

/* Median, min and max of @n samples (sorted in place). */
static struct result summarize(double *v, unsigned int n)
{
	struct result r = { .have = n > 0 };

	if (!n)
		return r;
	if (n > 1) /* never qsort(NULL, 0, ...) */
		qsort(v, n, sizeof(*v), cmp_double);
	r.min = v[0];
	r.max = v[n - 1];
	r.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return r;
}

/* ---- scenarios -------------------------------------------------------------- */

enum kind {
	K_ALLOC,
	K_MAPW,
	K_MAPR,
	K_RWW,
	K_RWR,
	K_STAT,
	K_XATTR,
	K_LIST,
	K_EXPORT,
	K_CONC,
	K_RSS
};

struct scenario {
	enum kind kind;
	char name[32];
	const char *unit;
	bool higher_better;
	size_t size; /* bytes, entries or processes */
	size_t block; /* read()/write() block size */
	unsigned int iters; /* operations a sample */
	/* per target: state kept across the repetitions */
	struct mbuf m[NR_TARGETS];
	char dir[NR_TARGETS][PATH_MAX];
	double *samples[NR_TARGETS];
	unsigned int nsamples[NR_TARGETS];
	struct result res[NR_TARGETS];
	char why[NR_TARGETS][96]; /* why a target has no figure */
};

/* Does scenario @s apply to target @t? */
static bool applies(const struct bench *b, const struct scenario *s, enum target_id t)
{
	bool raw = t == T_DMAHEAP || t == T_UDMABUF;

	(void)b;
	switch (s->kind) {
	case K_ALLOC:
	case K_MAPW:
	case K_MAPR:
		return true;
	case K_RWW:
	case K_RWR:
		return !raw;
	case K_STAT:
	case K_XATTR:
	case K_LIST:
	case K_CONC:
		return !raw && t != T_MEMFD;
	case K_EXPORT:
	case K_RSS:
		return t == T_UMM || t == T_NOPT;
	}
	return false;
}

/* The per-target setup of @s before its first repetition. */
static int scen_setup(struct bench *b, struct scenario *s, enum target_id id)
{
	struct target *t = &b->t[id];
	char rel[64], path[PATH_MAX];
	size_t i;
	int ret, fd;

	switch (s->kind) {
	case K_ALLOC:
	case K_CONC:
		if (id == T_MEMFD || id == T_DMAHEAP || id == T_UDMABUF)
			return 0;
		ret = sized_dir(t, s->kind == K_CONC ? 64 * KIB : s->size, rel, sizeof(rel));
		if (ret == 0)
			snprintf(s->dir[id], sizeof(s->dir[id]), "%s", rel);
		return ret;
	case K_MAPW:
	case K_MAPR:
	case K_RWW:
	case K_RWR:
		if (id != T_MEMFD && id != T_DMAHEAP && id != T_UDMABUF) {
			ret = sized_dir(t, s->size, rel, sizeof(rel));
			if (ret < 0)
				return ret;
		}
		if (s->kind == K_RWW || s->kind == K_RWR) {
			/* The read/write file: sized at once, then opened O_RDWR to use. */
			ret = buf_make(b, t, rel, s->size, &s->m[id]);
			if (ret < 0)
				return ret;
			touch_pages(s->m[id].map, s->m[id].len);
			if (s->m[id].path[0] && s->m[id].fd2 >= 0) {
				/* read()/write() go through the FUSE fd, never the export. */
				close(s->m[id].fd);
				s->m[id].fd = s->m[id].fd2;
				s->m[id].fd2 = -1;
			}
			return 0;
		}
		ret = buf_make(b, t, rel, s->size, &s->m[id]);
		if (ret == 0)
			touch_pages(s->m[id].map, s->m[id].len);
		return ret;
	case K_STAT:
	case K_XATTR:
	case K_EXPORT:
		ret = new_name(b, t, NULL, s->m[id].path, sizeof(s->m[id].path));
		if (ret < 0)
			return ret;
		s->m[id].fd = s->m[id].fd2 = -1;
		s->m[id].map = MAP_FAILED;
		fd = open(s->m[id].path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		/* stat: a buffer with its page written; stat-holes: one never touched */
		if (s->kind == K_STAT && !s->size) {
			static const char page[PAGE];

			ret = pwrite(fd, page, PAGE, 0) != PAGE ? -EIO : 0;
		} else {
			ret = ftruncate(fd, PAGE) < 0 ? -errno : 0;
		}
		if (!ret && fsetxattr(fd, BENCH_XATTR, "bench", 5, 0) < 0)
			ret = -errno;
		close(fd);
		return ret;
	case K_LIST:
		b->seq++;
		if (fmt_path(s->dir[id], sizeof(s->dir[id]), "%s/l%u", t->root, b->seq) < 0)
			return -ENAMETOOLONG;
		if (mkdir(s->dir[id], 0755) < 0)
			return -errno;
		for (i = 0; i < s->size && !got_signal; i++) {
			if (fmt_path(path, sizeof(path), "%s/buffer-%06zu", s->dir[id], i) < 0)
				return -ENAMETOOLONG;
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			if (fd < 0)
				return -errno;
			close(fd);
		}
		return 0;
	case K_RSS:
		return 0;
	}
	return 0;
}

/* One allocation: create, size, open, map, touch, close, unlink. */
static int one_alloc(struct bench *b, const struct target *t, const char *dir, size_t len)
{
	struct mbuf m;
	int ret;

	ret = buf_make(b, t, dir[0] ? dir : NULL, len, &m);
	if (ret == 0)
		touch_pages(m.map, len);
	buf_free(&m);
	return ret;
}

/**
 * run_conc() - @nproc processes allocate at once.
 * @b:     the benchmark.
 * @s:     the scenario (64 KiB buffers, s->iters each).
 * @id:    the target.
 * @value: the wall time of the whole, per allocation, in microseconds.
 *
 * The processes start together on a pipe's close and each does its share
 * of one_alloc(); they die with us (PR_SET_PDEATHSIG).
 *
 * Return: 0, or -errno (-EIO when a process failed).
 */
static int run_conc(struct bench *b, struct scenario *s, enum target_id id, double *value)
{
	pid_t pids[16], parent = getpid();
	int go[2], status, ret = 0;
	unsigned int i, j, n = (unsigned int)s->size;
	char c;
	uint64_t t0;

	if (pipe2(go, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			ret = -errno;
			break;
		}
		if (pids[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			signal(SIGBUS, SIG_DFL); /* fault_env is the parent's */
			if (getppid() != parent)
				_exit(1);
			close(go[1]);
			if (read(go[0], &c, 1) < 0)
				_exit(1);
			/* Distinct names: each process numbers from its own base. */
			b->seq = (i + 1) * 10000000U;
			for (j = 0; j < s->iters; j++)
				if (one_alloc(b, &b->t[id], s->dir[id], 64 * KIB) < 0)
					_exit(2);
			_exit(0);
		}
	}
	t0 = now_ns();
	close(go[1]);
	close(go[0]);
	n = i;
	for (i = 0; i < n; i++) {
		while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			ret = ret ? ret : -EIO;
	}
	*value = (double)(now_ns() - t0) / 1e3 / ((double)n * s->iters);
	return ret;
}

/* The daemon's resident memory in bytes (VmRSS of /proc/PID/status). */
static long vm_rss(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

/**
 * run_rss() - the daemon's resident memory per buffer.
 * @b:     the benchmark.
 * @s:     the scenario: s->size empty buffers.
 * @id:    T_UMM or T_NOPT.
 * @value: bytes per buffer made.
 *
 * Empty buffers (creat() without a size) so that memory is not the limit;
 * each holds a memfd in the daemon, which raises its RLIMIT_NOFILE to the
 * hard limit. An ENOSPC ends the run early: the figure is then per buffer
 * made, and the scenario's note says how many.
 *
 * Return: 0, or -errno.
 */
static int run_rss(struct bench *b, struct scenario *s, enum target_id id, double *value)
{
	struct target *t = &b->t[id];
	char dir[PATH_MAX], path[PATH_MAX];
	long before, after;
	size_t i;
	int fd, ret = 0;

	b->seq++;
	if (fmt_path(dir, sizeof(dir), "%s/r%u", t->root, b->seq) < 0)
		return -ENAMETOOLONG;
	if (mkdir(dir, 0755) < 0)
		return -errno;
	sleep_ms(50);
	before = vm_rss(t->fs_pid);
	for (i = 0; i < s->size && !got_signal; i++) {
		if (fmt_path(path, sizeof(path), "%s/%zu", dir, i) < 0)
			return -ENAMETOOLONG;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			ret = -errno;
			break;
		}
		close(fd);
	}
	sleep_ms(50);
	after = vm_rss(t->fs_pid);
	if (before < 0 || after < 0)
		return -ESRCH;
	if (ret < 0)
		snprintf(s->why[id], sizeof(s->why[id]), "%s after %zu of %zu buffers",
			 strerror(-ret), i, s->size);
	if (!i)
		return ret;
	*value = (double)(after - before) / (double)i;
	return ret == -ENOSPC || ret == -EMFILE || ret == -ENFILE ? 0 : ret;
}

/**
 * run_once() - one sample of scenario @s on target @id.
 * @b:     the benchmark.
 * @s:     the scenario, set up for @id.
 * @id:    the target.
 * @value: the figure in s->unit.
 *
 * Return: 0, or -errno.
 */
static int run_once(struct bench *b, struct scenario *s, enum target_id id, double *value)
{
	struct target *t = &b->t[id];
	struct mbuf *m = &s->m[id];
	volatile uint64_t sink = 0;
	const uint64_t *w;
	struct dirent *de;
	struct stat st;
	char xv[64], *blk;
	uint64_t t0, sum = 0;
	size_t off, n, i, pass;
	ssize_t r;
	int ret = 0, fd;
	DIR *d;

	t0 = now_ns();
	switch (s->kind) {
	case K_ALLOC:
		for (i = 0; i < s->iters && ret == 0; i++)
			ret = one_alloc(b, t, s->dir[id], s->size);
		*value = (double)(now_ns() - t0) / 1e3 / s->iters;
		return ret;
	case K_MAPW:
		memset(m->map, (int)(b->seq++ & 0xff), m->len);
		*value = (double)m->len / MIB / ((double)(now_ns() - t0) / 1e9);
		return 0;
	case K_MAPR:
		w = m->map;
		for (i = 0; i < m->len / sizeof(*w); i++)
			sum += w[i];
		sink = sum;
		(void)sink;
		*value = (double)m->len / MIB / ((double)(now_ns() - t0) / 1e9);
		return 0;
	case K_RWW:
	case K_RWR:
		n = s->block;
		blk = aligned_alloc(PAGE, n);
		if (!blk)
			return -ENOMEM;
		memset(blk, 0x5a, n);
		/*
		 * Two passes, the second timed: a buffer's first read(2) pass
		 * runs at about half the speed of the next ones on every
		 * target (the page cache marks each page accessed), and a
		 * client streaming through a buffer sees the later ones.
		 */
		for (pass = 0; pass < 2 && ret == 0; pass++) {
			t0 = now_ns();
			for (off = 0; off + n <= m->len; off += (size_t)r) {
				r = s->kind == K_RWW ? pwrite(m->fd, blk, n, (off_t)off) :
						       pread(m->fd, blk, n, (off_t)off);
				if (r <= 0) {
					ret = r < 0 ? -errno : -EIO;
					break;
				}
			}
		}
		*value = (double)m->len / MIB / ((double)(now_ns() - t0) / 1e9);
		free(blk);
		return ret;
	case K_STAT:
		for (i = 0; i < s->iters; i++)
			if (stat(m->path, &st) < 0)
				return -errno;
		*value = (double)(now_ns() - t0) / 1e3 / s->iters;
		return 0;
	case K_XATTR:
		for (i = 0; i < s->iters; i++)
			if (getxattr(m->path, BENCH_XATTR, xv, sizeof(xv)) < 0)
				return -errno;
		*value = (double)(now_ns() - t0) / 1e3 / s->iters;
		return 0;
	case K_LIST:
		d = opendir(s->dir[id]);
		if (!d)
			return -errno;
		n = 0;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				ret = -errno;
				break;
			}
			n++;
		}
		closedir(d);
		*value = (double)(now_ns() - t0) / 1e6;
		if (ret == 0 && n != s->size)
			ret = -EIO;
		return ret;
	case K_EXPORT:
		for (i = 0; i < s->iters; i++) {
			fd = umm_open(m->path, O_RDWR);
			if (fd < 0)
				return -errno;
			close(fd);
		}
		*value = (double)(now_ns() - t0) / 1e3 / s->iters;
		return 0;
	case K_CONC:
		return run_conc(b, s, id, value);
	case K_RSS:
		return run_rss(b, s, id, value);
	}
	return -EINVAL;
}

/* ---- the list of scenarios for a mode -------------------------------------- */

struct sizes {
	const size_t *alloc;
	unsigned int nalloc;
	size_t alloc_budget; /* bytes allocated a sample, roughly */
	size_t mapped, rw;
	unsigned int meta_iters, export_iters, list, rss, conc_iters;
	unsigned int reps;
};

static const size_t alloc_quick[] = { 4 * KIB, 64 * KIB, 1 * MIB };
static const size_t alloc_default[] = { 4 * KIB, 64 * KIB, 1 * MIB, 16 * MIB, 64 * MIB };
static const size_t alloc_full[] = { 4 * KIB, 64 * KIB, 1 * MIB, 16 * MIB, 256 * MIB };

static const struct sizes mode_sizes[3] = {
	{ alloc_quick, 3, 16 * MIB, 16 * MIB, 16 * MIB, 2000, 200, 200, 2000, 20, 2 },
	{ alloc_default, 5, 128 * MIB, 128 * MIB, 64 * MIB, 20000, 2000, 2000, 20000, 200, 5 },
	{ alloc_full, 5, 512 * MIB, 256 * MIB, 256 * MIB, 50000, 5000, 10000, 100000, 500, 7 },
};

static const char *size_name(size_t v, char *buf, size_t len)
{
	if (v >= MIB && v % MIB == 0)
		snprintf(buf, len, "%zuM", v / MIB);
	else if (v >= KIB && v % KIB == 0)
		snprintf(buf, len, "%zuK", v / KIB);
	else
		snprintf(buf, len, "%zu", v);
	return buf;
}

static void add_scen(struct scenario **list, unsigned int *n, enum kind k, const char *name,
		     const char *unit, bool higher, size_t size, unsigned int iters)
{
	struct scenario *s = &(*list)[(*n)++];

	memset(s, 0, sizeof(*s));
	s->kind = k;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->unit = unit;
	s->higher_better = higher;
	s->size = size;
	s->iters = iters ? iters : 1;
}

/* Is @name in the --only list (names, or prefixes before '-': "alloc")? */
static bool wanted(const char *only, const char *name)
{
	char buf[256], *tok, *save;
	size_t l;

	if (!only)
		return true;
	snprintf(buf, sizeof(buf), "%s", only);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		l = strlen(tok);
		if (!strcmp(tok, name) || (!strncmp(tok, name, l) && name[l] == '-'))
			return true;
	}
	return false;
}

/* Build the scenarios of the mode; return how many (--only applied). */
static unsigned int make_scenarios(const struct config *cfg, struct scenario **out)
{
	const struct sizes *z = &mode_sizes[cfg->mode];
	struct scenario *list = calloc(32, sizeof(*list));
	unsigned int n = 0, i, k = 0, procs;
	char name[32], sz[24];
	size_t it;

	if (!list)
		return 0;
	for (i = 0; i < z->nalloc; i++) {
		it = z->alloc_budget / z->alloc[i];
		it = it < 2 ? 2 : it > 500 ? 500 : it;
		snprintf(name, sizeof(name), "alloc-%s", size_name(z->alloc[i], sz, sizeof(sz)));
		add_scen(&list, &n, K_ALLOC, name, "us", false, z->alloc[i], (unsigned int)it);
	}
	add_scen(&list, &n, K_MAPW, "mapped-write", "MiB/s", true, z->mapped, 1);
	add_scen(&list, &n, K_MAPR, "mapped-read", "MiB/s", true, z->mapped, 1);
	add_scen(&list, &n, K_RWW, "write-4K", "MiB/s", true, z->rw / 4, 4 * KIB);
	add_scen(&list, &n, K_RWR, "read-4K", "MiB/s", true, z->rw / 4, 4 * KIB);
	add_scen(&list, &n, K_RWW, "write-1M", "MiB/s", true, z->rw, MIB);
	add_scen(&list, &n, K_RWR, "read-1M", "MiB/s", true, z->rw, MIB);
	for (i = n - 4; i < n; i++) {
		list[i].block = list[i].iters;
		list[i].iters = (unsigned int)(list[i].size / list[i].block);
	}
	add_scen(&list, &n, K_STAT, "stat", "us", false, 0, z->meta_iters);
	add_scen(&list, &n, K_STAT, "stat-holes", "us", false, 1, z->meta_iters);
	add_scen(&list, &n, K_XATTR, "getxattr", "us", false, 0, z->meta_iters);
	add_scen(&list, &n, K_LIST, "list", "ms", false, z->list, 1);
	add_scen(&list, &n, K_EXPORT, "export", "us", false, 0, z->export_iters);
	for (procs = 1; procs <= 8; procs *= 2) {
		snprintf(name, sizeof(name), "concurrent-%u", procs);
		add_scen(&list, &n, K_CONC, name, "us", false, procs, z->conc_iters);
	}
	add_scen(&list, &n, K_RSS, "daemon-rss", "B/buffer", false, z->rss, 1);
	for (i = 0; i < n; i++)
		if (wanted(cfg->only, list[i].name))
			list[k++] = list[i];
	*out = list;
	return k;
}

/* ---- output ---------------------------------------------------------------- */

static double ratio_of(const struct scenario *s, enum target_id id)
{
	const struct result *r = &s->res[id], *base = &s->res[T_TMPFS];

	if (!r->have || !base->have || base->median <= 0)
		return -1;
	return r->median / base->median;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* Print the rows of @s (one per available target) and its JSON entries. */
static void report_scenario(struct bench *b, struct scenario *s)
{
	char ratio[32];
	unsigned int i, id;
	double r;

	for (id = 0; id < NR_TARGETS; id++) {
		const struct result *res = &s->res[id];

		if (!b->t[id].avail)
			continue;
		if (!res->have) {
			printf("%-14s %-9s %12s %12s %12s  %-9s %s\n", s->name, b->t[id].name, "-",
			       "-", "-", s->unit, s->why[id][0] ? s->why[id] : "n/a");
		} else {
			r = ratio_of(s, id);
			if (r >= 0)
				snprintf(ratio, sizeof(ratio), "%.2f", r);
			else
				snprintf(ratio, sizeof(ratio), "-");
			printf("%-14s %-9s %12.2f %12.2f %12.2f  %-9s %s%s%s\n", s->name,
			       b->t[id].name, res->median, res->min, res->max, s->unit, ratio,
			       s->why[id][0] ? "  " : "", s->why[id]);
		}
		if (!b->json)
			continue;
		fprintf(b->json, "%s\n    {\"scenario\": ", b->nr_results++ ? "," : "");
		json_str(b->json, s->name);
		fprintf(b->json, ", \"target\": ");
		json_str(b->json, b->t[id].name);
		fprintf(b->json, ", \"unit\": ");
		json_str(b->json, s->unit);
		fprintf(b->json, ", \"better\": \"%s\", \"size\": %zu, \"block\": %zu, \"ops\": %u",
			s->higher_better ? "higher" : "lower", s->size, s->block, s->iters);
		if (res->have) {
			fprintf(b->json, ", \"median\": %.6g, \"min\": %.6g, \"max\": %.6g",
				res->median, res->min, res->max);
			r = ratio_of(s, id);
			if (r >= 0)
				fprintf(b->json, ", \"ratio\": %.6g", r);
			else
				fprintf(b->json, ", \"ratio\": null");
		} else {
			fprintf(b->json, ", \"median\": null, \"min\": null, \"max\": null, "
					 "\"ratio\": null");
		}
		fprintf(b->json, ", \"samples\": [");
		for (i = 0; i < s->nsamples[id]; i++)
			fprintf(b->json, "%s%.6g", i ? ", " : "", s->samples[id][i]);
		fprintf(b->json, "], \"note\": ");
		json_str(b->json, s->why[id]);
		fputc('}', b->json);
	}
}

/* A target of issue 5: a scenario's figure against a limit. */
struct goal {
	const char *scenario;
	enum target_id target;
	bool ratio; /* compare the ratio to tmpfs, else the median itself */
	bool at_least; /* >= limit, else <= limit */
	double limit;
};

static const struct goal goals[] = {
	{ "mapped-write", T_UMM, true, true, 0.97 },
	{ "mapped-read", T_UMM, true, true, 0.97 },
	{ "mapped-write", T_NOPT, true, true, 0.97 },
	{ "mapped-read", T_NOPT, true, true, 0.97 },
	{ "write-1M", T_UMM, true, true, 0.9 },
	{ "read-1M", T_UMM, true, true, 0.9 },
	{ "write-1M", T_NOPT, true, true, 0.5 },
	{ "read-1M", T_NOPT, true, true, 0.5 },
	{ "alloc-4K", T_UMM, true, false, 4 },
	{ "alloc-4K", T_NOPT, true, false, 4 },
	{ "alloc-1M", T_UMM, true, false, 1.5 },
	{ "alloc-1M", T_NOPT, true, false, 1.5 },
	{ "alloc-16M", T_UMM, true, false, 1.1 },
	{ "alloc-16M", T_NOPT, true, false, 1.1 },
	{ "alloc-64M", T_UMM, true, false, 1.1 },
	{ "alloc-64M", T_NOPT, true, false, 1.1 },
	{ "alloc-256M", T_UMM, true, false, 1.1 },
	{ "alloc-256M", T_NOPT, true, false, 1.1 },
	{ "stat", T_UMM, true, false, 2 },
	{ "stat", T_NOPT, true, false, 2 },
	{ "getxattr", T_UMM, true, false, 2 },
	{ "getxattr", T_NOPT, true, false, 2 },
	{ "list", T_UMM, true, false, 3 },
	{ "list", T_NOPT, true, false, 3 },
	{ "export", T_UMM, false, false, 30 },
	{ "export", T_NOPT, false, false, 30 },
	{ "daemon-rss", T_UMM, false, false, 1024 },
	{ "daemon-rss", T_NOPT, false, false, 1024 },
};

/* The "targets" section: each goal with what was measured, met or missed. */
static void report_goals(struct bench *b, struct scenario *list, unsigned int n)
{
	const struct scenario *s;
	const char *verdict;
	unsigned int i, j, k = 0;
	double v;
	char want[32];

	printf("\ntargets (issue 5; a report, never a test)\n");
	printf("%-14s %-9s %-10s %12s  %s\n", "scenario", "target", "wanted", "measured", "");
	for (i = 0; i < sizeof(goals) / sizeof(goals[0]); i++) {
		const struct goal *g = &goals[i];

		for (s = NULL, j = 0; j < n; j++)
			if (!strcmp(list[j].name, g->scenario))
				s = &list[j];
		if (!s || !b->t[g->target].avail)
			continue;
		v = g->ratio ? ratio_of(s, g->target) :
			       (s->res[g->target].have ? s->res[g->target].median : -1);
		verdict = v < 0						? "unmeasured" :
			  (g->at_least ? v >= g->limit : v <= g->limit) ? "met" :
									  "missed";
		snprintf(want, sizeof(want), "%s%g%s", g->at_least ? ">=" : "<=", g->limit,
			 g->ratio ? "x" : "");
		if (v < 0)
			printf("%-14s %-9s %-10s %12s  %s\n", s->name, b->t[g->target].name, want,
			       "-", verdict);
		else
			printf("%-14s %-9s %-10s %12.3f  %s %s\n", s->name, b->t[g->target].name,
			       want, v, g->ratio ? "x" : s->unit, verdict);
		if (!b->json)
			continue;
		fprintf(b->json, "%s\n    {\"scenario\": ", k++ ? "," : "");
		json_str(b->json, s->name);
		fprintf(b->json, ", \"target\": ");
		json_str(b->json, b->t[g->target].name);
		fprintf(b->json,
			", \"measure\": \"%s\", \"unit\": ", g->ratio ? "ratio" : "median");
		json_str(b->json, g->ratio ? "x" : s->unit);
		fprintf(b->json, ", \"cmp\": \"%s\", \"limit\": %g, \"measured\": ",
			g->at_least ? ">=" : "<=", g->limit);
		if (v < 0)
			fprintf(b->json, "null");
		else
			fprintf(b->json, "%.6g", v);
		fprintf(b->json, ", \"verdict\": \"%s\"}", verdict);
	}
}

/* ---- the run ----------------------------------------------------------------- */

static void on_fault(int sig)
{
	if (!fault_armed) {
		signal(sig, SIG_DFL); /* the fault comes again, and kills us */
		return;
	}
	fault_armed = 0;
	siglongjmp(fault_env, 1);
}

/*
 * scen_setup() (@setup) or run_once() of @s on @id, under a guard: a SIGBUS
 * on a mapping (the file behind it is shorter, or the daemon that serves it
 * has died) fails it with -EFAULT, instead of killing us with everything
 * still mounted. What the interrupted call held (a mapping, an fd) leaks:
 * stop_umm() detaches a mount that stays busy by it.
 */
static int run_guarded(struct bench *b, struct scenario *s, enum target_id id, double *value,
		       bool setup)
{
	int ret;

	if (sigsetjmp(fault_env, 1))
		return -EFAULT;
	fault_armed = 1;
	ret = setup ? scen_setup(b, s, id) : run_once(b, s, id, value);
	fault_armed = 0;
	return ret;
}

/* The note of a target whose setup (@what "setup: ") or sample failed with @err. */
static void set_why(struct scenario *s, enum target_id id, const char *what, int err)
{
	snprintf(s->why[id], sizeof(s->why[id]), "%s%s", what,
		 err == -EFAULT ? "SIGBUS on a mapping" : strerror(-err));
}

/**
 * umm_lost() - has a umm target been lost during the run?
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
static bool umm_lost(struct bench *b, enum target_id id, int err)
{
	char st[48];
	pid_t pid;
	int i;

	for (i = T_UMM; i <= T_NOPT; i++) {
		struct target *t = &b->t[i];

		if (!t->avail || t->lost)
			continue;
		pid = t->fs_pid;
		/*
		 * A daemon that dies aborts its connection a moment before it
		 * can be reaped: give a mount that stopped answering 2 s to
		 * show whether its daemon exited.
		 */
		if (pid > 0 && (int)id == i && (err == -ENOTCONN || err == -ECONNABORTED))
			wait_exited(pid, 2000);
		if (pid > 0 && child_exited(pid)) {
			stop_umm(t, 0);
			complain(0, "umm-fs of %s (pid %d) died during the run (%s): stopped",
				 t->name, (int)pid, status_text(t->fs_status, st, sizeof(st)));
		} else if ((int)id == i && (err == -ENOTCONN || err == -ECONNABORTED)) {
			complain(-err, "the umm of %s no longer answers (umm-fs pid %d): stopped",
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

/**
 * run_scenario() - all repetitions of @s, the targets interleaved.
 * @b: the benchmark.
 * @s: the scenario.
 *
 * Sets @s up on every target first, so that setup never falls between two
 * targets' samples; a target whose setup or sample fails gets no figure and
 * a note, the others go on.
 */
/*
 * Bandwidth scenarios take a new buffer for every repetition: how fast one
 * buffer's memory is depends on where it landed (in a VM, on how the host
 * backs those pages; runs here differ by up to 2x between two buffers of
 * one target), so one buffer for all repetitions would measure its luck.
 */
static bool fresh_each_rep(const struct scenario *s)
{
	return s->kind == K_MAPW || s->kind == K_MAPR || s->kind == K_RWW || s->kind == K_RWR;
}

static void run_scenario(struct bench *b, struct scenario *s)
{
	unsigned int reps = b->cfg->reps, rep, id;
	double v;
	int ret;

	if (s->kind == K_RSS)
		reps = 1; /* the buffers stay: one sample is the figure */
	for (id = 0; id < NR_TARGETS; id++) {
		s->m[id] = (struct mbuf){ .fd = -1, .fd2 = -1, .map = MAP_FAILED };
		if (!b->t[id].avail)
			continue;
		if (b->failed) {
			snprintf(s->why[id], sizeof(s->why[id]), "not run: the run stopped");
			continue;
		}
		if (!applies(b, s, id)) {
			snprintf(s->why[id], sizeof(s->why[id]), "n/a");
			continue;
		}
		s->samples[id] = calloc(reps, sizeof(double));
		ret = s->samples[id] ? run_guarded(b, s, id, NULL, true) : -ENOMEM;
		if (ret < 0) {
			set_why(s, id, "setup: ", ret);
			free(s->samples[id]);
			s->samples[id] = NULL;
			umm_lost(b, id, ret);
		}
	}
	for (rep = 0; rep < reps && !got_signal && !b->failed; rep++) {
		for (id = 0; id < NR_TARGETS && !got_signal && !b->failed; id++) {
			if (!s->samples[id] || s->why[id][0])
				continue;
			v = 0;
			ret = 0;
			if (rep && fresh_each_rep(s)) {
				buf_free(&s->m[id]);
				ret = run_guarded(b, s, id, NULL, true);
			}
			if (ret == 0)
				ret = run_guarded(b, s, id, &v, false);
			if (ret < 0) {
				set_why(s, id, "", ret);
				umm_lost(b, id, ret);
				continue;
			}
			s->samples[id][s->nsamples[id]++] = v;
		}
		umm_lost(b, NR_TARGETS, 0);
	}
	for (id = 0; id < NR_TARGETS; id++) {
		double sorted[64];
		unsigned int k = s->nsamples[id] < 64 ? s->nsamples[id] : 64;

		memcpy(sorted, s->samples[id] ? s->samples[id] : sorted, k * sizeof(double));
		if (s->samples[id] && !(s->kind != K_RSS && s->why[id][0]))
			s->res[id] = summarize(sorted, k);
		if (b->failed && s->samples[id] && !k && !s->why[id][0])
			snprintf(s->why[id], sizeof(s->why[id]), "not run: the run stopped");
		if (s->m[id].fd >= 0 || s->m[id].map != MAP_FAILED || s->m[id].path[0])
			buf_free(&s->m[id]);
	}
}

/* nftw() callback of remove_tree(): one entry, children first. */
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
static int remove_tree(const char *dir)
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
static void bench_cleanup(struct bench *b)
{
	bool busy = false;
	int id, ret;

	if (b->cleaned)
		return;
	b->cleaned = true;
	for (id = T_UMM; id <= T_NOPT; id++) {
		struct target *t = &b->t[id];

		if (t->root[0])
			stop_umm(t, 5000);
	}
	if (b->tmpfs_dir[0])
		unmount_path(b->tmpfs_dir, false);
	b->tmpfs_mounted = false;
	/* What is left in /dev/shm when it stood in for tmpfs (not root). */
	if (b->tmpfs_dir[0] && strncmp(b->tmpfs_dir, b->tmp, strlen(b->tmp)) != 0) {
		ret = remove_tree(b->tmpfs_dir);
		if (ret < 0)
			complain(-ret, "could not remove %s", b->tmpfs_dir);
	}
	/* Never walk into a mount that is still there: its daemon may hang. */
	for (id = T_UMM; id <= T_NOPT; id++) {
		if (b->t[id].root[0] && tool_is_mounted(b->t[id].root) != 0) {
			complain(0, "%s is still mounted (left behind)", b->t[id].root);
			busy = true;
		}
	}
	if (b->tmpfs_dir[0] && tool_is_mounted(b->tmpfs_dir) != 0) {
		complain(0, "%s is still mounted (left behind)", b->tmpfs_dir);
		busy = true;
	}
	if (b->tmp[0] && !busy) {
		ret = remove_tree(b->tmp);
		if (ret < 0)
			complain(-ret, "rmdir %s (left behind)", b->tmp);
	}
	free(b->umm_fs);
	b->umm_fs = NULL;
}

static void bench_atexit(void)
{
	bench_cleanup(&the_bench);
}

static void on_signal(int sig)
{
	got_signal = sig;
}

/*
 * Mount @t (T_UMM or T_NOPT) and find how it maps; 0, or -errno with
 * t->note saying why and a message, nothing of it left mounted or running.
 */
static int setup_umm(struct bench *b, struct target *t)
{
	int ret;

	if (fmt_path(t->root, sizeof(t->root), "%s/%s", b->tmp, t->name) < 0 ||
	    fmt_path(t->sock, sizeof(t->sock), "%s/%s.sock", b->tmp, t->name) < 0 ||
	    fmt_path(t->log, sizeof(t->log), "%s/%s.log", b->tmp, t->name) < 0) {
		t->root[0] = '\0';
		snprintf(t->note, sizeof(t->note), "mount: %s", strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	ret = mount_umm(b, t, t - b->t == T_NOPT ? ",nopassthrough" : "");
	if (ret == 0) {
		ret = probe_map_way(b, t);
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
			complain(0, "%s: %s", t->name, t->note);
			show_log(t, 2); /* its last line is in the note */
		}
		return ret;
	}
	t->avail = true;
	snprintf(t->note, sizeof(t->note), "umm-fs pid %d, %s", (int)t->fs_pid,
		 t->way == MAP_OWN_FD ?
			 (t == &b->t[T_NOPT] ? "maps the creating fd (page cache)" :
					       "maps the creating fd (passthrough)") :
		 t->way == MAP_REOPEN ? "maps an O_RDWR reopen (passthrough)" :
					"maps umm_open()'s fd (zero copy)");
	return 0;
}

/**
 * setup_targets() - mount umm twice and tmpfs, and find the raw heaps.
 * @b: the benchmark, b->tmp made (make_tmp()).
 *
 * Return: 0 when at least umm and tmpfs are there to compare, else -1.
 */
static int setup_targets(struct bench *b)
{
	static const char *const names[NR_TARGETS] = { "umm",	"umm-nopt", "tmpfs",
						       "memfd", "dma-heap", "udmabuf" };
	char opts[64];
	long pages = sysconf(_SC_PHYS_PAGES);
	int id, ret;

	for (id = 0; id < NR_TARGETS; id++) {
		b->t[id].name = names[id];
		b->t[id].fs_pid = -1;
		b->t[id].is_umm = id == T_UMM || id == T_NOPT;
	}
	/* Half of RAM, as umm-fs and tmpfs default to: budgets, not allocations. */
	b->mount_size = pages > 0 ? (unsigned long)pages / 2 * PAGE : 1UL << 30;
	for (id = T_UMM; id <= T_NOPT; id++) {
		ret = setup_umm(b, &b->t[id]);
		if (got_signal)
			return -1;
		/* The same umm-fs would hang as long again: do not wait twice. */
		if (ret == -ETIMEDOUT && id == T_UMM) {
			snprintf(b->t[T_NOPT].note, sizeof(b->t[T_NOPT].note),
				 "not tried: umm-fs did not start for umm");
			break;
		}
	}
	if (!b->t[T_UMM].avail && !b->t[T_NOPT].avail) {
		complain(0, "no umm mount to measure (see above)");
		return -1;
	}

	if (fmt_path(b->tmpfs_dir, sizeof(b->tmpfs_dir), "%s/tmpfs", b->tmp) < 0 ||
	    mkdir(b->tmpfs_dir, 0755) < 0)
		return -1;
	snprintf(opts, sizeof(opts), "size=%lu", b->mount_size);
	if (geteuid() == 0 && mount("tmpfs", b->tmpfs_dir, "tmpfs", 0, opts) == 0) {
		b->tmpfs_mounted = true;
		snprintf(b->t[T_TMPFS].root, PATH_MAX, "%s", b->tmpfs_dir);
		snprintf(b->t[T_TMPFS].note, sizeof(b->t[T_TMPFS].note), "own mount, -o %s", opts);
	} else {
		rmdir(b->tmpfs_dir);
		if (fmt_path(b->tmpfs_dir, sizeof(b->tmpfs_dir), "/dev/shm/umm-bench.%d",
			     (int)getpid()) < 0 ||
		    mkdir(b->tmpfs_dir, 0700) < 0) {
			b->tmpfs_dir[0] = '\0';
			complain(errno, "no tmpfs: mount failed and /dev/shm is not usable");
			return -1;
		}
		snprintf(b->t[T_TMPFS].root, PATH_MAX, "%s", b->tmpfs_dir);
		snprintf(b->t[T_TMPFS].note, sizeof(b->t[T_TMPFS].note), "/dev/shm");
	}
	b->t[T_TMPFS].avail = true;
	b->t[T_TMPFS].way = MAP_OWN_FD;
	b->t[T_MEMFD].avail = true;
	snprintf(b->t[T_MEMFD].note, sizeof(b->t[T_MEMFD].note), "memfd_create + ftruncate");

	ret = dmaheap_alloc(PAGE);
	if (ret >= 0) {
		close(ret);
		b->t[T_DMAHEAP].avail = true;
		snprintf(b->t[T_DMAHEAP].note, sizeof(b->t[T_DMAHEAP].note),
			 "DMA_HEAP_IOCTL_ALLOC on " DMA_HEAP_PATH);
	} else {
		snprintf(b->t[T_DMAHEAP].note, sizeof(b->t[T_DMAHEAP].note),
			 "absent (" DMA_HEAP_PATH ": %s): skipped", strerror(-ret));
	}
	ret = udmabuf_alloc(PAGE, &id);
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

static const char *const mode_names[] = { "quick", "default", "full" };

/**
 * bench_main() - mount, run every scenario, report, clean up.
 * @cfg: the options; the_bench has its umm-fs and temp dir already.
 *
 * Return: the exit status: 0, 1 on failure, 128 + N after signal N.
 */
static int bench_main(const struct config *cfg)
{
	struct bench *b = &the_bench;
	struct sigaction sa = { .sa_handler = on_signal };
	struct sigaction fault = { .sa_handler = on_fault };
	struct scenario *list = NULL;
	unsigned int n = 0, i, id;
	int ok = 0;
	uint64_t t0 = now_ns();

	b->cfg = cfg;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&fault.sa_mask);
	sigaction(SIGBUS, &fault, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(bench_atexit);

	if (setup_targets(b) < 0)
		goto out;
	n = make_scenarios(cfg, &list);
	if (!n) {
		complain(0, "no scenario matches --only %s", cfg->only ? cfg->only : "");
		goto out;
	}
	b->json = fopen(cfg->json, "we");
	if (!b->json) {
		complain(errno, "%s", cfg->json);
		goto out;
	}
	printf("umm-bench %s: mode %s, %u repetitions, targets interleaved\n", UMM_VERSION,
	       mode_names[cfg->mode], cfg->reps);
	fprintf(b->json, "{\n  \"tool\": \"umm-bench\",\n  \"version\": ");
	json_str(b->json, UMM_VERSION);
	fprintf(b->json, ",\n  \"mode\": \"%s\",\n  \"repetitions\": %u,\n  \"available\": [",
		mode_names[cfg->mode], cfg->reps);
	for (id = 0; id < NR_TARGETS; id++) {
		printf("  %-9s %-4s %s\n", b->t[id].name, b->t[id].avail ? "yes" : "no",
		       b->t[id].note);
		fprintf(b->json,
			"%s\n    {\"target\": \"%s\", \"available\": %s, \"note\": ", id ? "," : "",
			b->t[id].name, b->t[id].avail ? "true" : "false");
		json_str(b->json, b->t[id].note);
		fputc('}', b->json);
	}
	fprintf(b->json, "\n  ],\n  \"results\": [");
	printf("\n%-14s %-9s %12s %12s %12s  %-9s %s\n", "scenario", "target", "median", "min",
	       "max", "unit", "vs tmpfs");
	for (i = 0; i < n && !got_signal && !b->failed; i++) {
		run_scenario(b, &list[i]);
		report_scenario(b, &list[i]);
		fflush(stdout);
	}
	if (got_signal || b->failed)
		goto out;
	fprintf(b->json, "\n  ],\n  \"targets\": [");
	report_goals(b, list, n);
	fprintf(b->json, "\n  ],\n  \"seconds\": %.3f\n}\n", (double)(now_ns() - t0) / 1e9);
	ok = 1;
out:
	if (b->json && fclose(b->json) != 0) {
		complain(errno, "%s", cfg->json);
		ok = 0;
	}
	b->json = NULL;
	for (i = 0; i < n; i++)
		for (id = 0; id < NR_TARGETS; id++)
			free(list[i].samples[id]);
	free(list);
	bench_cleanup(b);
	if (got_signal) {
		complain(0, "interrupted by SIG%s; cleaned up", sigabbrev_np(got_signal));
		return 128 + got_signal;
	}
	if (b->failed)
		complain(0, "a umm-fs was lost: the run is incomplete; cleaned up");
	if (!ok)
		return 1;
	printf("\nJSON written to %s; %.1f s; unmounted and removed %s\n", cfg->json,
	       (double)(now_ns() - t0) / 1e9, b->tmp);
	return 0;
}

/* ---- the guard ---------------------------------------------------------------- */

#define GUARD_GRACE_S 15 /* after a signal, before the guard ends the daemons */

/*
 * The process the caller started stays as a guard, and the benchmark runs
 * in its child. A FUSE request to a daemon that no longer answers holds the
 * benchmark past every signal but SIGKILL, and a process that dies of
 * SIGKILL or of a fault runs no cleanup: the guard outlives the benchmark,
 * detaches what is still mounted in the temp dir, ends what still runs and
 * removes the temp dir. It is the subreaper of what the benchmark starts,
 * so that the daemons of a dead benchmark become its children.
 */

/* Make the temp dir b->tmp under $TMPDIR; 0, or -1 with a message. */
static int make_tmp(struct bench *b)
{
	const char *tmpdir = getenv("TMPDIR");
	char templ[PATH_MAX];

	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	if (fmt_path(templ, sizeof(templ), "%s/umm-bench.XXXXXX", tmpdir) < 0 || !mkdtemp(templ)) {
		complain(errno, "mkdtemp under %s", tmpdir);
		return -1;
	}
	/* The kernel lists mount points without symlinks: so must we. */
	if (!realpath(templ, b->tmp)) {
		complain(errno, "realpath %s", templ);
		rmdir(templ);
		b->tmp[0] = '\0';
		return -1;
	}
	return 0;
}

/*
 * Signal @sig to each child of @parent; with @leaders, only those that lead
 * a process group (umm-fs's), and to their whole group. Return: how many.
 */
static unsigned int signal_children(pid_t parent, int sig, bool leaders)
{
	char path[64], buf[512], *p;
	struct dirent *de;
	unsigned int n = 0;
	int fd, ppid, pgid;
	ssize_t len;
	pid_t pid;
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		pid = (pid_t)strtol(de->d_name, &p, 10);
		if (pid <= 0 || *p || fmt_path(path, sizeof(path), "/proc/%d/stat", (int)pid) < 0)
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* "pid (comm) state ppid pgrp ...": comm may hold anything but the last ')' */
		p = strrchr(buf, ')');
		if (!p || sscanf(p + 1, " %*c %d %d", &ppid, &pgid) != 2 || ppid != parent)
			continue;
		if (leaders && pgid != pid)
			continue;
		kill(leaders ? -pid : pid, sig);
		n++;
	}
	closedir(d);
	return n;
}

/*
 * End and reap every child of ours: what a dead benchmark left (its
 * daemons, a wrapper's children) comes to us. They get a moment to leave
 * by themselves (their mounts are gone), then SIGTERM, then SIGKILL.
 * Return: how many had to be signalled.
 */
static unsigned int end_orphans(void)
{
	uint64_t t0 = now_ns(), ms;
	unsigned int n = 0, step = 0;
	int status;
	pid_t r;

	for (;;) {
		while ((r = waitpid(-1, &status, WNOHANG)) > 0)
			;
		if (r < 0 && errno == ECHILD)
			return n;
		ms = (now_ns() - t0) / 1000000ULL;
		if (ms >= 12000) {
			complain(0, "processes of umm-bench do not die: left running");
			return n;
		}
		if ((step == 0 && ms >= 1000) || (step == 1 && ms >= 3000)) {
			n += signal_children(getpid(), step ? SIGKILL : SIGTERM, false);
			step++;
		}
		sleep_ms(10);
	}
}

/*
 * After the benchmark: whatever it left (it died, or its cleanup could
 * not finish), detach its mounts, end its processes, remove its files.
 */
static void guard_cleanup(struct bench *b, pid_t bench)
{
	static const char *const dirs[] = { "umm", "umm-nopt", "tmpfs" };
	char path[PATH_MAX];
	unsigned int i, mounts = 0, procs;
	bool busy = false;
	int ret;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (fmt_path(path, sizeof(path), "%s/%s", b->tmp, dirs[i]) < 0 ||
		    tool_is_mounted(path) != 1)
			continue;
		unmount_path(path, true);
		mounts++;
		if (tool_is_mounted(path) != 0) {
			complain(0, "%s is still mounted (left behind)", path);
			busy = true;
		}
	}
	procs = end_orphans();
	if (fmt_path(path, sizeof(path), "/dev/shm/umm-bench.%d", (int)bench) == 0 &&
	    access(path, F_OK) == 0)
		remove_tree(path);
	ret = busy || access(b->tmp, F_OK) < 0 ? 0 : remove_tree(b->tmp);
	if (ret < 0)
		complain(-ret, "rmdir %s (left behind)", b->tmp);
	if (mounts)
		complain(0, "detached %u mount%s the benchmark left", mounts,
			 mounts == 1 ? "" : "s");
	if (procs)
		complain(0, "ended %u process%s the benchmark left", procs, procs == 1 ? "" : "es");
}

/**
 * guard_main() - run bench_main() in a child, and clean up after it.
 * @cfg: the options.
 *
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT go on to the benchmark. If it has not ended
 * GUARD_GRACE_S seconds after the first, it is stuck in a request to a
 * daemon that does not answer: the daemons are killed, which fails the
 * request, and the benchmark goes on to its cleanup.
 *
 * Return: the benchmark's exit status (128 + N if it died of signal N).
 */
static int guard_main(const struct config *cfg)
{
	struct bench *b = &the_bench;
	sigset_t set, old;
	siginfo_t si;
	int status = 0, sig;
	bool armed = false, warned = false;
	pid_t pid, r;

	b->umm_fs = find_umm_fs(cfg->umm_fs);
	if (!b->umm_fs)
		return 1;
	if (make_tmp(b) < 0) {
		free(b->umm_fs);
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, &old);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		complain(errno, "fork (the benchmark runs unguarded)");
		sigprocmask(SIG_SETMASK, &old, NULL);
		return bench_main(cfg);
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		exit(bench_main(cfg));
	}
	free(b->umm_fs);
	b->umm_fs = NULL;
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			complain(errno, "waitpid");
			status = 1 << 8;
			break;
		}
		sig = sigwaitinfo(&set, &si);
		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT) {
			kill(pid, sig);
			if (!armed)
				alarm(GUARD_GRACE_S); /* from the first signal on: never put off */
			armed = true;
		} else if (sig == SIGALRM && !warned) {
			warned = true;
			complain(0,
				 "still running %d s after a signal: a umm-fs does not answer? "
				 "killing the daemons",
				 GUARD_GRACE_S);
			signal_children(pid, SIGKILL, true);
		}
	}
	alarm(0);
	guard_cleanup(b, pid);
	if (WIFSIGNALED(status)) {
		complain(0, "the benchmark died of SIG%s; cleaned up after it",
			 sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
		return 128 + WTERMSIG(status);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* ---- options ---------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: umm-bench [--quick | --full] [-r REPS] [--json FILE] [--only SCENARIO,...]\n"
		"                 [--umm-fs PATH]\n"
		"\n"
		"Benchmarks umm side by side with tmpfs, memfd and, where present, the raw\n"
		"DMA heap and udmabuf, in one run: it mounts its own umm (with passthrough and\n"
		"with -o nopassthrough) and a tmpfs under a temp dir, runs each scenario on\n"
		"every target, the targets interleaved in each repetition, and prints the\n"
		"median, min and max and the ratio of medians to tmpfs, then the targets of\n"
		"issue 5, met or missed. Everything is also written as JSON. Run it as root.\n"
		"\n"
		"  -q, --quick        small sizes, 2 repetitions: a few seconds\n"
		"  -f, --full         every size of issue 5 (256 MiB, 10,000 entries, 100,000\n"
		"                     buffers), 7 repetitions\n"
		"  -r, --reps N       repetitions (default 2 quick, 5 default, 7 full; max 64)\n"
		"  -j, --json FILE    the JSON file (default ./umm-bench.json)\n"
		"  -o, --only LIST    only these scenarios, comma-separated; a prefix before\n"
		"                     '-' selects a family (alloc, concurrent, read, write)\n"
		"      --umm-fs PATH  the umm-fs to mount (default: $UMM_FS, else ../fs/umm-fs\n"
		"                     beside umm-bench, else " UMM_SBINDIR "/umm-fs, else $PATH)\n"
		"  -h, --help         print this help\n"
		"  -V, --version      print the version\n"
		"\n"
		"Scenarios: alloc-SIZE, mapped-write, mapped-read, write-4K, read-4K,\n"
		"write-1M, read-1M, stat, getxattr, list, export, concurrent-N, daemon-rss.\n"
		"Exit status: 0 when the benchmark ran (whatever the figures), 1 on a failure,\n"
		"128+N when ended by signal N. Mounts and temp files are removed in every case.\n");
}

/**
 * parse_args() - fill @cfg from the command line.
 * @argc, @argv: as given to main().
 * @cfg:         defaults in, options out.
 *
 * Return: 0 to go on, 1 when done (--help, --version), -1 on a usage error.
 */
static int parse_args(int argc, char **argv, struct config *cfg)
{
	enum { OPT_UMM_FS = 256 };
	static const struct option longopts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "full", no_argument, NULL, 'f' },
		{ "reps", required_argument, NULL, 'r' },
		{ "json", required_argument, NULL, 'j' },
		{ "only", required_argument, NULL, 'o' },
		{ "umm-fs", required_argument, NULL, OPT_UMM_FS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "qfr:j:o:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			cfg->mode = 0;
			break;
		case 'f':
			cfg->mode = 2;
			break;
		case 'r':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (*optarg < '1' || *optarg > '9' || errno || *end || v > 64) {
				complain(0, "bad value '%s' for -r: 1 to 64 repetitions", optarg);
				return -1;
			}
			cfg->reps = (unsigned int)v;
			break;
		case 'j':
			cfg->json = optarg;
			break;
		case 'o':
			cfg->only = optarg;
			break;
		case OPT_UMM_FS:
			cfg->umm_fs = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("umm-bench %s\n", UMM_VERSION);
			return 1;
		default:
			fprintf(stderr, "Try 'umm-bench --help'.\n");
			return -1;
		}
	}
	if (optind < argc) {
		complain(0, "unexpected argument '%s'; try 'umm-bench --help'", argv[optind]);
		return -1;
	}
	if (!*cfg->json) {
		complain(0, "an empty path for --json");
		return -1;
	}
	if (!cfg->reps)
		cfg->reps = mode_sizes[cfg->mode].reps;
	return 0;
}

int main(int argc, char **argv)
{
	/* Static: the atexit() cleanup may run after main() returns. */
	static struct config cfg = { .mode = 1, .json = "umm-bench.json" };
	int ret;

	ret = parse_args(argc, argv, &cfg);
	if (ret)
		return ret > 0 ? 0 : 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	return guard_main(&cfg);
}
