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
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
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
#include <linux/udmabuf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
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
#define MOUNT_TIMEOUT_MS 10000
#define BENCH_XATTR "user.bench"
#define DMA_HEAP_PATH "/dev/dma_heap/system"
#define UDMABUF_PATH "/dev/udmabuf"

static volatile sig_atomic_t got_signal;

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
	char note[160];
	char root[PATH_MAX]; /* where its files go (umm, tmpfs) */
	char sock[PATH_MAX];
	char log[PATH_MAX];
	pid_t fs_pid;
	bool mounted;
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

/* Unmount @mnt: umount2() as root, else fusermount3 -u; lazily if busy. */
static void unmount_path(const char *mnt)
{
	char *prog;
	pid_t pid;
	int i;

	for (i = 0; i < 50 && tool_is_mounted(mnt) == 1; i++) {
		if (i)
			sleep_ms(100);
		if (geteuid() == 0) {
			umount2(mnt, i == 49 ? MNT_DETACH : 0);
			continue;
		}
		prog = tool_path_search("fusermount3");
		if (!prog)
			return;
		pid = fork();
		if (pid == 0) {
			execl(prog, "fusermount3", "-u", i == 49 ? "-z" : "-q", mnt, (char *)NULL);
			_exit(127);
		}
		free(prog);
		if (pid > 0)
			end_child(pid, 10000);
	}
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

/**
 * mount_umm() - mount umm-fs for target @t on @t->root.
 * @b:    the benchmark.
 * @t:    the target (T_UMM or T_NOPT).
 * @opts: extra -o options ("" or ",nopassthrough").
 *
 * The daemon runs in the foreground as our child, in a process group of its
 * own (a Ctrl-C reaches us alone: we unmount first, and it leaves then),
 * logging into the temp dir. We wait until the mount shows up.
 *
 * Return: 0, or -errno with t->note saying why.
 */
static int mount_umm(struct bench *b, struct target *t, const char *opts)
{
	char o[PATH_MAX + 128];
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
	t->fs_pid = pid;
	t->mounted = true;
	end = now_ns() + MOUNT_TIMEOUT_MS * 1000000ULL;
	while (tool_is_mounted(t->root) != 1) {
		if (waitpid(pid, &ret, WNOHANG) == pid) {
			t->fs_pid = -1;
			t->mounted = false;
			char msg[sizeof(t->note)];

			/* through msg: GCC 12 with -fsanitize takes note and log to overlap */
			snprintf(msg, sizeof(msg), "umm-fs exited before it mounted (see %s)",
				 t->log);
			memcpy(t->note, msg, sizeof(msg));
			return -ECHILD;
		}
		if (got_signal)
			return -EINTR;
		if (now_ns() >= end) {
			snprintf(t->note, sizeof(t->note), "umm-fs did not mount within 10 s");
			return -ETIMEDOUT;
		}
		sleep_ms(5);
	}
	return 0;
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
 * With passthrough, the creating open of a buffer in a sized directory may
 * already be a passthrough open; if not, an O_RDWR open again is (see
 * LIFE CYCLE OF A BUFFER in umm(7)); without passthrough only umm_open()'s
 * fd maps. The first way that works is the one the scenarios time.
 */
static void probe_map_way(struct bench *b, struct target *t)
{
	static const enum map_way ways[] = { MAP_OWN_FD, MAP_REOPEN, MAP_EXPORT };
	char dir[64];
	struct mbuf m;
	unsigned int i;
	int ret;

	if (sized_dir(t, PAGE, dir, sizeof(dir)) < 0)
		return;
	for (i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
		t->way = ways[i];
		ret = buf_make(b, t, dir, PAGE, &m);
		buf_free(&m);
		if (ret == 0)
			return;
	}
	t->way = MAP_EXPORT;
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
		ret = ftruncate(fd, PAGE) < 0 || fsetxattr(fd, BENCH_XATTR, "bench", 5, 0) < 0 ?
			      -errno :
			      0;
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
	size_t off, n, i;
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
		t0 = now_ns();
		for (off = 0; off + n <= m->len; off += (size_t)r) {
			r = s->kind == K_RWW ? pwrite(m->fd, blk, n, (off_t)off) :
					       pread(m->fd, blk, n, (off_t)off);
			if (r <= 0) {
				ret = r < 0 ? -errno : -EIO;
				break;
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

/**
 * run_scenario() - all repetitions of @s, the targets interleaved.
 * @b: the benchmark.
 * @s: the scenario.
 *
 * Sets @s up on every target first, so that setup never falls between two
 * targets' samples; a target whose setup or sample fails gets no figure and
 * a note, the others go on.
 */
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
		if (!applies(b, s, id)) {
			snprintf(s->why[id], sizeof(s->why[id]), "n/a");
			continue;
		}
		s->samples[id] = calloc(reps, sizeof(double));
		ret = s->samples[id] ? scen_setup(b, s, id) : -ENOMEM;
		if (ret < 0) {
			snprintf(s->why[id], sizeof(s->why[id]), "setup: %s", strerror(-ret));
			free(s->samples[id]);
			s->samples[id] = NULL;
		}
	}
	for (rep = 0; rep < reps && !got_signal; rep++) {
		for (id = 0; id < NR_TARGETS && !got_signal; id++) {
			if (!s->samples[id] || s->why[id][0])
				continue;
			v = 0;
			ret = run_once(b, s, id, &v);
			if (ret < 0) {
				snprintf(s->why[id], sizeof(s->why[id]), "%s", strerror(-ret));
				continue;
			}
			s->samples[id][s->nsamples[id]++] = v;
		}
	}
	for (id = 0; id < NR_TARGETS; id++) {
		double sorted[64];
		unsigned int k = s->nsamples[id] < 64 ? s->nsamples[id] : 64;

		memcpy(sorted, s->samples[id] ? s->samples[id] : sorted, k * sizeof(double));
		if (s->samples[id] && !(s->kind != K_RSS && s->why[id][0]))
			s->res[id] = summarize(sorted, k);
		if (s->m[id].fd >= 0 || s->m[id].map != MAP_FAILED || s->m[id].path[0])
			buf_free(&s->m[id]);
	}
}

/* Clean up everything of ours: mounts, daemons, the temp dir. Idempotent. */
static void bench_cleanup(struct bench *b)
{
	char path[PATH_MAX];
	int id;

	if (b->cleaned)
		return;
	b->cleaned = true;
	for (id = T_UMM; id <= T_NOPT; id++) {
		struct target *t = &b->t[id];

		if (t->mounted)
			unmount_path(t->root);
		t->mounted = false;
		if (t->fs_pid > 0)
			end_child(t->fs_pid, 5000);
		t->fs_pid = -1;
		if (t->log[0])
			unlink(t->log);
		if (t->sock[0])
			unlink(t->sock);
		if (t->root[0] && tool_is_mounted(t->root) == 0)
			rmdir(t->root);
	}
	if (b->tmpfs_mounted) {
		unmount_path(b->tmpfs_dir);
		b->tmpfs_mounted = false;
	} else if (b->tmpfs_dir[0]) {
		/* /dev/shm: remove what is left of ours (the scenarios unlink as they go). */
		if (fmt_path(path, sizeof(path), "rm -rf --one-file-system '%s'", b->tmpfs_dir) ==
		    0)
			if (system(path) != 0)
				complain(0, "could not remove %s", b->tmpfs_dir);
	}
	if (b->tmpfs_dir[0] && tool_is_mounted(b->tmpfs_dir) == 0)
		rmdir(b->tmpfs_dir);
	if (b->tmp[0] && rmdir(b->tmp) < 0)
		complain(errno, "rmdir %s (left behind)", b->tmp);
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

/**
 * setup_targets() - mount umm twice and tmpfs, and find the raw heaps.
 * @b: the benchmark.
 *
 * Return: 0 when at least umm and tmpfs are there to compare, else -1.
 */
static int setup_targets(struct bench *b)
{
	static const char *const names[NR_TARGETS] = { "umm",	"umm-nopt", "tmpfs",
						       "memfd", "dma-heap", "udmabuf" };
	const char *tmpdir = getenv("TMPDIR");
	char templ[PATH_MAX], opts[64];
	long pages = sysconf(_SC_PHYS_PAGES);
	int id, ret;

	for (id = 0; id < NR_TARGETS; id++) {
		b->t[id].name = names[id];
		b->t[id].fs_pid = -1;
		b->t[id].is_umm = id == T_UMM || id == T_NOPT;
	}
	/* Half of RAM, as umm-fs and tmpfs default to: budgets, not allocations. */
	b->mount_size = pages > 0 ? (unsigned long)pages / 2 * PAGE : 1UL << 30;
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
		return -1;
	}

	for (id = T_UMM; id <= T_NOPT; id++) {
		struct target *t = &b->t[id];

		if (fmt_path(t->root, sizeof(t->root), "%s/%s", b->tmp, t->name) < 0 ||
		    fmt_path(t->sock, sizeof(t->sock), "%s/%s.sock", b->tmp, t->name) < 0 ||
		    fmt_path(t->log, sizeof(t->log), "%s/%s.log", b->tmp, t->name) < 0)
			return -1;
		ret = mount_umm(b, t, id == T_NOPT ? ",nopassthrough" : "");
		if (ret < 0) {
			if (!t->note[0])
				snprintf(t->note, sizeof(t->note), "mount: %s", strerror(-ret));
			continue;
		}
		t->avail = true;
		probe_map_way(b, t);
		snprintf(t->note, sizeof(t->note), "umm-fs pid %d, %s", (int)t->fs_pid,
			 t->way == MAP_OWN_FD ? "maps the creating fd (passthrough)" :
			 t->way == MAP_REOPEN ? "maps an O_RDWR reopen (passthrough)" :
						"maps umm_open()'s fd (no passthrough)");
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
	if (!b->t[T_UMM].avail && !b->t[T_NOPT].avail) {
		complain(0, "no umm mount: %s", b->t[T_UMM].note);
		return -1;
	}
	return 0;
}

static const char *const mode_names[] = { "quick", "default", "full" };

/**
 * bench_main() - mount, run every scenario, report, clean up.
 * @cfg: the options.
 *
 * Return: the exit status: 0, 1 on failure, 128 + N after signal N.
 */
static int bench_main(const struct config *cfg)
{
	struct bench *b = &the_bench;
	struct sigaction sa = { .sa_handler = on_signal };
	struct scenario *list = NULL;
	unsigned int n = 0, i, id;
	int ok = 0;
	uint64_t t0 = now_ns();

	b->cfg = cfg;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(bench_atexit);

	b->umm_fs = find_umm_fs(cfg->umm_fs);
	if (!b->umm_fs || setup_targets(b) < 0)
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
	for (i = 0; i < n && !got_signal; i++) {
		run_scenario(b, &list[i]);
		report_scenario(b, &list[i]);
		fflush(stdout);
	}
	if (got_signal)
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
	if (!ok)
		return 1;
	printf("\nJSON written to %s; %.1f s; unmounted and removed %s\n", cfg->json,
	       (double)(now_ns() - t0) / 1e9, b->tmp);
	return 0;
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
	return bench_main(&cfg);
}
