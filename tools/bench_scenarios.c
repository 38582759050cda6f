// SPDX-License-Identifier: MIT
/*
 * bench_scenarios.c - what umm-bench measures: a short function for each
 * scenario's setup and for one of its samples, and the one table of every
 * scenario with its unit, its targets and its sizes in each mode.
 *
 * A run function times what it measures itself, so that no setup counts;
 * the harness (bench_harness.c) calls setup and run on every target in turn
 * and makes the statistics.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include <umm.h>

#include "bench_i.h"

/* ---- measuring ----------------------------------------------------------- */

/* Microseconds an operation, for @n operations since @t0. */
static double us_per_op(uint64_t t0, unsigned int n)
{
	return (double)(tool_now_ns() - t0) / 1e3 / n;
}

/* MiB a second, for @len bytes since @t0. */
static double mib_per_s(size_t len, uint64_t t0)
{
	return (double)len / MIB / ((double)(tool_now_ns() - t0) / 1e9);
}

static bool is_raw(enum target_id id)
{
	return id == T_MEMFD || id == T_DMAHEAP || id == T_UDMABUF;
}

/* One allocation: create, size, open, map, touch, close, unlink. */
static int one_alloc(struct bench *b, const struct target *t, const char *dir, size_t len)
{
	struct mbuf m;
	int ret;

	ret = bench_buf_make(b, t, dir[0] ? dir : NULL, len, &m);
	if (ret == 0)
		bench_touch_pages(m.map, len);
	bench_buf_free(&m);
	return ret;
}

/* ---- setups and teardowns ------------------------------------------------ */

/* s->dir[id]: the sized directory for buffers of @size (none for a raw target). */
static int setup_sized_dir(struct bench *b, struct scenario *s, enum target_id id, size_t size)
{
	char rel[64];
	int ret;

	if (is_raw(id))
		return 0;
	ret = bench_sized_dir(&b->t[id], size, rel, sizeof(rel));
	if (ret == 0)
		snprintf(s->dir[id], sizeof(s->dir[id]), "%s", rel);
	return ret;
}

static int setup_alloc(struct bench *b, struct scenario *s, enum target_id id)
{
	return setup_sized_dir(b, s, id, s->size);
}

static int setup_concurrent(struct bench *b, struct scenario *s, enum target_id id)
{
	return setup_sized_dir(b, s, id, 64 * KIB);
}

/* s->m[id]: a buffer of s->size, mapped, every page touched. */
static int setup_mapped(struct bench *b, struct scenario *s, enum target_id id)
{
	struct target *t = &b->t[id];
	char rel[64] = "";
	int ret;

	if (!is_raw(id)) {
		ret = bench_sized_dir(t, s->size, rel, sizeof(rel));
		if (ret < 0)
			return ret;
	}
	ret = bench_buf_make(b, t, rel, s->size, &s->m[id]);
	if (ret == 0)
		bench_touch_pages(s->m[id].map, s->m[id].len);
	return ret;
}

/* As setup_mapped(); s->m[id].fd is then the fd to read(2) and write(2). */
static int setup_rw(struct bench *b, struct scenario *s, enum target_id id)
{
	struct mbuf *m = &s->m[id];
	int ret;

	/* The read/write file: sized at once, then opened O_RDWR to use. */
	ret = setup_mapped(b, s, id);
	if (ret < 0)
		return ret;
	if (m->path[0] && m->fd2 >= 0) {
		/* read()/write() go through the FUSE fd, never the export. */
		close(m->fd);
		m->fd = m->fd2;
		m->fd2 = -1;
	}
	return 0;
}

/* s->m[id].path: a buffer of a page, with a user.bench attribute; @written or a hole. */
static int setup_file(struct bench *b, struct scenario *s, enum target_id id, bool written)
{
	struct mbuf *m = &s->m[id];
	int ret, fd;

	ret = bench_new_name(b, &b->t[id], NULL, m->path, sizeof(m->path));
	if (ret < 0)
		return ret;
	m->fd = m->fd2 = -1;
	m->map = MAP_FAILED;
	fd = open(m->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (written) {
		static const char page[PAGE];

		ret = pwrite(fd, page, PAGE, 0) != PAGE ? -EIO : 0;
	} else {
		ret = ftruncate(fd, PAGE) < 0 ? -errno : 0;
	}
	if (!ret && fsetxattr(fd, BENCH_XATTR, "bench", 5, 0) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* stat, getxattr: a buffer with its page written. */
static int setup_written_file(struct bench *b, struct scenario *s, enum target_id id)
{
	return setup_file(b, s, id, true);
}

/* stat-holes, export: a buffer sized, never touched. */
static int setup_sized_file(struct bench *b, struct scenario *s, enum target_id id)
{
	return setup_file(b, s, id, false);
}

/* s->dir[id]: a new directory of s->size empty buffers. */
static int setup_list(struct bench *b, struct scenario *s, enum target_id id)
{
	char path[PATH_MAX];
	size_t i;
	int fd;

	b->seq++;
	if (tool_fmt_path(s->dir[id], sizeof(s->dir[id]), "%s/l%u", b->t[id].fs.root, b->seq) < 0)
		return -ENAMETOOLONG;
	if (mkdir(s->dir[id], 0755) < 0)
		return -errno;
	for (i = 0; i < s->size && !tool_signal; i++) {
		if (tool_fmt_path(path, sizeof(path), "%s/buffer-%06zu", s->dir[id], i) < 0)
			return -ENAMETOOLONG;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		close(fd);
	}
	return 0;
}

static void teardown_buf(struct bench *b, struct scenario *s, enum target_id id)
{
	bench_buf_free(&s->m[id]);
}

/* ---- samples ------------------------------------------------------------- */

/* s->iters allocations of s->size: microseconds each. */
static int run_alloc(struct bench *b, struct scenario *s, enum target_id id, double *value)
{
	uint64_t t0 = tool_now_ns();
	unsigned int i;
	int ret = 0;

	for (i = 0; i < s->iters && ret == 0; i++)
		ret = one_alloc(b, &b->t[id], s->dir[id], s->size);
	*value = us_per_op(t0, s->iters);
	return ret;
}

/* memset() of the whole mapping: MiB/s. */
static int run_mapped_write(struct bench *b, struct scenario *s, enum target_id id, double *value)
{
	struct mbuf *m = &s->m[id];
	uint64_t t0 = tool_now_ns();

	memset(m->map, (int)(b->seq++ & 0xff), m->len);
	*value = mib_per_s(m->len, t0);
	return 0;
}

/* A sum of every word of the mapping: MiB/s. */
static int run_mapped_read(struct bench *b, struct scenario *s, enum target_id id, double *value)
{
	struct mbuf *m = &s->m[id];
	uint64_t t0 = tool_now_ns(), sum = 0;
	volatile uint64_t sink = 0;
	const uint64_t *w = m->map;
	size_t i;

	for (i = 0; i < m->len / sizeof(*w); i++)
		sum += w[i];
	sink = sum;
	(void)sink;
	*value = mib_per_s(m->len, t0);
	return 0;
}

/* pwrite() or pread() of the whole buffer in s->block pieces: MiB/s. */
static int rw_passes(struct scenario *s, enum target_id id, bool write, double *value)
{
	struct mbuf *m = &s->m[id];
	size_t off, n = s->block, pass;
	uint64_t t0 = tool_now_ns();
	int ret = 0;
	ssize_t r;
	char *blk;

	blk = aligned_alloc(PAGE, n);
	if (!blk)
		return -ENOMEM;
	memset(blk, 0x5a, n);
	/*
	 * Two passes, the second timed: a buffer's first read(2) pass runs at
	 * about half the speed of the next ones on every target (the page cache
	 * marks each page accessed), and a client streaming through a buffer
	 * sees the later ones.
	 */
	for (pass = 0; pass < 2 && ret == 0; pass++) {
		t0 = tool_now_ns();
		for (off = 0; off + n <= m->len; off += (size_t)r) {
			r = write ? pwrite(m->fd, blk, n, (off_t)off) :
				    pread(m->fd, blk, n, (off_t)off);
			if (r <= 0) {
				ret = r < 0 ? -errno : -EIO;
				break;
			}
		}
	}
	*value = mib_per_s(m->len, t0);
	free(blk);
	return ret;
}

static int run_write(struct bench *b, struct scenario *s, enum target_id id, double *value)
{
	return rw_passes(s, id, true, value);
}

static int run_read(struct bench *b, struct scenario *s, enum target_id id, double *value)
{
	return rw_passes(s, id, false, value);
}

/* s->iters stat(2) of one buffer: microseconds each. */
static int run_stat(struct bench *b, struct scenario *s, enum target_id id, double *value)
{
	uint64_t t0 = tool_now_ns();
	struct stat st;
	unsigned int i;

	for (i = 0; i < s->iters; i++)
		if (stat(s->m[id].path, &st) < 0)
			return -errno;
	*value = us_per_op(t0, s->iters);
	return 0;
}

/* s->iters getxattr(2) of one buffer's user.bench: microseconds each. */
static int run_getxattr(struct bench *b, struct scenario *s, enum target_id id, double *value)
{
	uint64_t t0 = tool_now_ns();
	unsigned int i;
	char xv[64];

	for (i = 0; i < s->iters; i++)
		if (getxattr(s->m[id].path, BENCH_XATTR, xv, sizeof(xv)) < 0)
			return -errno;
	*value = us_per_op(t0, s->iters);
	return 0;
}

/* ls -l of a directory of s->size buffers (readdir, then stat each): milliseconds. */
static int run_list(struct bench *b, struct scenario *s, enum target_id id, double *value)
{
	uint64_t t0 = tool_now_ns();
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	int ret = 0;
	DIR *d;

	d = opendir(s->dir[id]);
	if (!d)
		return -errno;
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
	*value = (double)(tool_now_ns() - t0) / 1e6;
	if (ret == 0 && n != s->size)
		ret = -EIO;
	return ret;
}

/* s->iters umm_open() and close() of one buffer: microseconds each. */
static int run_export(struct bench *b, struct scenario *s, enum target_id id, double *value)
{
	uint64_t t0 = tool_now_ns();
	unsigned int i;
	int fd;

	for (i = 0; i < s->iters; i++) {
		fd = umm_open(s->m[id].path, O_RDWR);
		if (fd < 0)
			return -errno;
		close(fd);
	}
	*value = us_per_op(t0, s->iters);
	return 0;
}

/**
 * run_concurrent() - s->size processes allocate at once.
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
static int run_concurrent(struct bench *b, struct scenario *s, enum target_id id, double *value)
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
			signal(SIGBUS, SIG_DFL); /* the harness's fault guard is the parent's */
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
	t0 = tool_now_ns();
	close(go[1]);
	close(go[0]);
	n = i;
	for (i = 0; i < n; i++) {
		while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			ret = ret ? ret : -EIO;
	}
	*value = (double)(tool_now_ns() - t0) / 1e3 / ((double)n * s->iters);
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
 * run_daemon_rss() - the daemon's resident memory per buffer.
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
static int run_daemon_rss(struct bench *b, struct scenario *s, enum target_id id, double *value)
{
	struct target *t = &b->t[id];
	char dir[PATH_MAX], path[PATH_MAX];
	long before, after;
	size_t i;
	int fd, ret = 0;

	b->seq++;
	if (tool_fmt_path(dir, sizeof(dir), "%s/r%u", t->fs.root, b->seq) < 0)
		return -ENAMETOOLONG;
	if (mkdir(dir, 0755) < 0)
		return -errno;
	tool_sleep_ms(50);
	before = vm_rss(t->fs.pid);
	for (i = 0; i < s->size && !tool_signal; i++) {
		if (tool_fmt_path(path, sizeof(path), "%s/%zu", dir, i) < 0)
			return -ENAMETOOLONG;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			ret = -errno;
			break;
		}
		close(fd);
	}
	tool_sleep_ms(50);
	after = vm_rss(t->fs.pid);
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

/* ---- the table ----------------------------------------------------------- */

// clang-format off
#define PER_MODE(quick, dflt, full) { quick, dflt, full }
#define ALL_MODES(v) { v, v, v }
#define IN(mode) (1U << MODE_##mode)

/*
 * Every scenario, in the order of the report. The allocations of a sample
 * add up to about 16 MiB (quick), 128 MiB (default) and 512 MiB (full), in 2
 * to 500 allocations; a read/write scenario moves its whole size in blocks
 * of .block, .ops of them.
 */
static const struct scen_def scenarios[] = {
	{ .name = "alloc-4K", .unit = "us", .targets = TG_ALL, .modes = MODES_ALL,
	  .size = ALL_MODES(4 * KIB), .ops = ALL_MODES(500),
	  .setup = setup_alloc, .run = run_alloc },
	{ .name = "alloc-64K", .unit = "us", .targets = TG_ALL, .modes = MODES_ALL,
	  .size = ALL_MODES(64 * KIB), .ops = PER_MODE(256, 500, 500),
	  .setup = setup_alloc, .run = run_alloc },
	{ .name = "alloc-1M", .unit = "us", .targets = TG_ALL, .modes = MODES_ALL,
	  .size = ALL_MODES(1 * MIB), .ops = PER_MODE(16, 128, 500),
	  .setup = setup_alloc, .run = run_alloc },
	{ .name = "alloc-16M", .unit = "us", .targets = TG_ALL, .modes = IN(DEFAULT) | IN(FULL),
	  .size = ALL_MODES(16 * MIB), .ops = PER_MODE(0, 8, 32),
	  .setup = setup_alloc, .run = run_alloc },
	{ .name = "alloc-64M", .unit = "us", .targets = TG_ALL, .modes = IN(DEFAULT),
	  .size = ALL_MODES(64 * MIB), .ops = PER_MODE(0, 2, 0),
	  .setup = setup_alloc, .run = run_alloc },
	{ .name = "alloc-256M", .unit = "us", .targets = TG_ALL, .modes = IN(FULL),
	  .size = ALL_MODES(256 * MIB), .ops = PER_MODE(0, 0, 2),
	  .setup = setup_alloc, .run = run_alloc },

	{ .name = "mapped-write", .unit = "MiB/s", .higher = true, .targets = TG_ALL, .modes = MODES_ALL,
	  .size = PER_MODE(16 * MIB, 128 * MIB, 256 * MIB), .ops = ALL_MODES(1),
	  .fresh = true, .setup = setup_mapped, .run = run_mapped_write, .teardown = teardown_buf },
	{ .name = "mapped-read", .unit = "MiB/s", .higher = true, .targets = TG_ALL, .modes = MODES_ALL,
	  .size = PER_MODE(16 * MIB, 128 * MIB, 256 * MIB), .ops = ALL_MODES(1),
	  .fresh = true, .setup = setup_mapped, .run = run_mapped_read, .teardown = teardown_buf },

	{ .name = "write-4K", .unit = "MiB/s", .higher = true, .targets = TG_FDS, .modes = MODES_ALL,
	  .size = PER_MODE(4 * MIB, 16 * MIB, 64 * MIB), .block = 4 * KIB,
	  .ops = PER_MODE(1024, 4096, 16384),
	  .fresh = true, .setup = setup_rw, .run = run_write, .teardown = teardown_buf },
	{ .name = "read-4K", .unit = "MiB/s", .higher = true, .targets = TG_FDS, .modes = MODES_ALL,
	  .size = PER_MODE(4 * MIB, 16 * MIB, 64 * MIB), .block = 4 * KIB,
	  .ops = PER_MODE(1024, 4096, 16384),
	  .fresh = true, .setup = setup_rw, .run = run_read, .teardown = teardown_buf },
	{ .name = "write-1M", .unit = "MiB/s", .higher = true, .targets = TG_FDS, .modes = MODES_ALL,
	  .size = PER_MODE(16 * MIB, 64 * MIB, 256 * MIB), .block = MIB, .ops = PER_MODE(16, 64, 256),
	  .fresh = true, .setup = setup_rw, .run = run_write, .teardown = teardown_buf },
	{ .name = "read-1M", .unit = "MiB/s", .higher = true, .targets = TG_FDS, .modes = MODES_ALL,
	  .size = PER_MODE(16 * MIB, 64 * MIB, 256 * MIB), .block = MIB, .ops = PER_MODE(16, 64, 256),
	  .fresh = true, .setup = setup_rw, .run = run_read, .teardown = teardown_buf },

	{ .name = "stat", .unit = "us", .targets = TG_FILES, .modes = MODES_ALL,
	  .size = ALL_MODES(0), .ops = PER_MODE(2000, 20000, 50000),
	  .setup = setup_written_file, .run = run_stat, .teardown = teardown_buf },
	{ .name = "stat-holes", .unit = "us", .targets = TG_FILES, .modes = MODES_ALL,
	  .size = ALL_MODES(1), .ops = PER_MODE(2000, 20000, 50000),
	  .setup = setup_sized_file, .run = run_stat, .teardown = teardown_buf },
	{ .name = "getxattr", .unit = "us", .targets = TG_FILES, .modes = MODES_ALL,
	  .size = ALL_MODES(0), .ops = PER_MODE(2000, 20000, 50000),
	  .setup = setup_written_file, .run = run_getxattr, .teardown = teardown_buf },
	{ .name = "list", .unit = "ms", .targets = TG_FILES, .modes = MODES_ALL,
	  .size = PER_MODE(200, 2000, 10000), .ops = ALL_MODES(1),
	  .setup = setup_list, .run = run_list },
	{ .name = "export", .unit = "us", .targets = TG_UMMS, .modes = MODES_ALL,
	  .size = ALL_MODES(0), .ops = PER_MODE(200, 2000, 5000),
	  .setup = setup_sized_file, .run = run_export, .teardown = teardown_buf },

	{ .name = "concurrent-1", .unit = "us", .targets = TG_FILES, .modes = MODES_ALL,
	  .size = ALL_MODES(1), .ops = PER_MODE(20, 200, 500),
	  .setup = setup_concurrent, .run = run_concurrent },
	{ .name = "concurrent-2", .unit = "us", .targets = TG_FILES, .modes = MODES_ALL,
	  .size = ALL_MODES(2), .ops = PER_MODE(20, 200, 500),
	  .setup = setup_concurrent, .run = run_concurrent },
	{ .name = "concurrent-4", .unit = "us", .targets = TG_FILES, .modes = MODES_ALL,
	  .size = ALL_MODES(4), .ops = PER_MODE(20, 200, 500),
	  .setup = setup_concurrent, .run = run_concurrent },
	{ .name = "concurrent-8", .unit = "us", .targets = TG_FILES, .modes = MODES_ALL,
	  .size = ALL_MODES(8), .ops = PER_MODE(20, 200, 500),
	  .setup = setup_concurrent, .run = run_concurrent },

	/* The buffers stay: one sample is the figure, and ENOSPC after N a note. */
	{ .name = "daemon-rss", .unit = "B/buffer", .targets = TG_UMMS, .modes = MODES_ALL,
	  .size = PER_MODE(2000, 20000, 100000), .ops = ALL_MODES(1),
	  .once = true, .run = run_daemon_rss },
};
// clang-format on

#define NR_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

/* The repetitions of each mode. */
static const unsigned int mode_reps[NR_MODES] = { 2, 5, 7 };

/* The repetitions of @mode when -r does not say. */
unsigned int bench_mode_reps(enum bench_mode mode)
{
	return mode_reps[mode];
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

/**
 * bench_make_scenarios() - the scenarios of this run, in the order of the table.
 * @cfg: the mode and --only.
 * @out: the list (calloc'd, each with no state yet), or NULL.
 *
 * Return: how many.
 */
unsigned int bench_make_scenarios(const struct config *cfg, struct scenario **out)
{
	struct scenario *list = calloc(NR_SCENARIOS, sizeof(*list)), *s;
	unsigned int n = 0, i;

	*out = list;
	if (!list)
		return 0;
	for (i = 0; i < NR_SCENARIOS; i++) {
		const struct scen_def *def = &scenarios[i];

		if (!(def->modes & (1U << cfg->mode)) || !wanted(cfg->only, def->name))
			continue;
		s = &list[n++];
		s->def = def;
		s->size = def->size[cfg->mode];
		s->block = def->block;
		s->iters = def->ops[cfg->mode];
	}
	return n;
}
