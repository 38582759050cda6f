// SPDX-License-Identifier: MIT
/*
 * difftest.c - a differential tester: random sequences of file operations run
 * in lockstep on a reference directory (tmpfs) and on a directory of umm,
 * every observable result compared.
 *
 * Usage: difftest [--seed N] [--ops N] [--seqs N] [--procs N] [--verbose]
 *                 [--keep-going] REFDIR UMMDIR
 *
 * Each sequence has a seed of its own: sequence 0 takes --seed itself and
 * sequence i a mix of (--seed, i), so the seed printed with a difference
 * gives the same sequence again with "--seed S --seqs 1" (and the same --ops
 * and --procs). A sequence is --ops operations over a small name space
 * (paths[]: eight file names in the top directory and in two subdirectories,
 * and the subdirectories themselves), with sizes and offsets of 0 to 3 pages,
 * on and off page boundaries, so that operations collide often. Before each
 * sequence both directories are emptied and d0/ and d1/ made again.
 *
 * The operations: open and creat (each access mode, O_CREAT, O_EXCL,
 * O_TRUNC, O_APPEND), close, read, write, pread, pwrite, lseek, fsync, mmap
 * (MAP_SHARED), reads and writes through a mapping, msync, munmap,
 * ftruncate, truncate, fallocate (0, KEEP_SIZE, PUNCH_HOLE), rename (0,
 * RENAME_NOREPLACE), unlink, chmod, utimensat, futimens, setxattr, getxattr
 * and removexattr of user.test, link, symlink, mknod. --procs processes work
 * on each tree: the main one and PROCS - 1 peers forked at start, each with
 * fds and mappings of its own and driven over pipes, so that a file is
 * mapped in several processes while others write and resize it. An access
 * through a mapping touches only bytes below the file's size at that moment
 * (never a page past EOF); a fault it takes anyway is caught and compared.
 *
 * Compared after each operation, tree against tree: its return value and
 * errno (or the signal a mapping access took), the bytes it read, the fstat
 * of its open file, and the lstat of every name and of the top directory:
 * type and mode, owner, link count, st_size and st_blocks (of regular files:
 * a directory's size is a convention of each filesystem), and whether mtime
 * and ctime moved (but for a file with stores through a mapping not yet
 * msync'ed: see track_maps()). Any difference fails, except the rows of
 * by_design[].
 *
 * Timestamps: before each operation, the atime and mtime of every name and of
 * the operation's open file are set to T0, a fixed past time, and the ctimes
 * read back. Afterwards an mtime is classed as unchanged (T0), as one of the
 * values a utimensat operation sets (T1, T2), or as new; a ctime "moved"
 * when it differs from the one read back. That is exact for mtime. For ctime
 * it is exact where every change gives a new ctime: a daemon stamping with
 * clock_gettime(); tmpfs since Linux 6.13 (multigrain timestamps: a change of
 * an inode whose ctime was read gets a time later than that ctime) -- for
 * the inode changed. But unlink and link give the directory the ctime they
 * gave the file (and rename did so before 6.6), and that can equal the
 * directory's own ctime when both were stamped in one clock tick: before
 * those, the tester waits until the coarse clock (that of current_time()) is
 * past every ctime read, after which every stamp is later. A probe at start
 * finds a tree whose ctime can stay the same across any change (coarse,
 * one-tick timestamps: tmpfs before 6.13); there every operation waits so.
 *
 * On the first difference: the sequence up to it, the operation, both
 * results; then the sequence is shrunk (delta debugging: drop halves, then
 * quarters, down to single operations, each candidate run again from empty
 * directories and kept when a difference of the same kind, in the same
 * operation and field, still shows), and the shortest sequence found is
 * printed as C-like lines with both trees' results. Exit status 1. With
 * --keep-going the run goes on with the next sequence instead, and shrinks
 * only differences of a kind not seen yet (one line for each other one).
 * Otherwise exit 0 after "difftest: N sequences, M ops, 0 differences".
 *
 * Operations name slots (fd0..fd2, m0..m1 of each process p0..pN), never
 * fds: an operation on an empty slot is skipped on both trees alike (so any
 * operation can be dropped by the shrinker), and an open or mmap into a slot
 * in use first closes or unmaps what the slot held.
 * Exit 2: bad usage, or a tree that cannot be set up or emptied.
 *
 * Waits (a peer's answer, a child's exit) have deadlines multiplied by the
 * environment's UMM_TIME_SCALE (default 1: valgrind runs set 10 or so); a
 * watchdog ends the run when one operation takes longer than
 * OP_DEADLINE_S * UMM_TIME_SCALE seconds (a hung filesystem).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define MAX_IO (3 * PAGE + 2) /* the longest read, write or mapping access */
#define NSLOTS 3 /* fds of one process */
#define NMAPS 2 /* mappings of one process */
#define MAX_PROCS 4
#define MAX_OPS 100000
#define XNAME "user.test"
#define OP_DEADLINE_S 120 /* one operation on one tree, peers included */
#define REPLY_DEADLINE_S 60 /* a peer's answer */
#define REAP_DEADLINE_S 10 /* a peer's exit */

/*
 * The name space. Operations name paths[0 .. NTARGETS - 1]; "." (the top
 * directory) is only looked at.
 */
static const char *const paths[] = {
	"a", "b", "c", "d", "d0/a", "d0/b", "d1/a", "d1/c", "d0", "d1", ".",
};
#define NFILES 8
#define NTARGETS 10
#define NSNAP 11

/* ---- operations ---- */

enum kind {
	K_OPEN,
	K_CLOSE,
	K_READ,
	K_WRITE,
	K_PREAD,
	K_PWRITE,
	K_LSEEK,
	K_FSYNC,
	K_MMAP,
	K_MREAD,
	K_MWRITE,
	K_MSYNC,
	K_MUNMAP,
	K_FTRUNCATE,
	K_TRUNCATE,
	K_FALLOCATE,
	K_RENAME,
	K_UNLINK,
	K_CHMOD,
	K_UTIMENS,
	K_FUTIMENS,
	K_SETXATTR,
	K_GETXATTR,
	K_REMOVEXATTR,
	K_LINK,
	K_SYMLINK,
	K_MKNOD,
	NKINDS
};

#define U_FD 1 /* works on an fd slot of its process */
#define U_MAP 2 /* works on a mapping slot of its process */
#define U_PATH 4 /* works on names: always in the main process */
#define U_XATTR 8 /* left out where the reference refuses user.* xattrs */

static const struct kind_info {
	const char *name;
	unsigned int weight; /* of being drawn, out of the sum of all */
	unsigned int uses;
} kinds[NKINDS] = {
	[K_OPEN] = { "open", 14, U_PATH },
	[K_CLOSE] = { "close", 5, U_FD },
	[K_READ] = { "read", 5, U_FD },
	[K_WRITE] = { "write", 8, U_FD },
	[K_PREAD] = { "pread", 5, U_FD },
	[K_PWRITE] = { "pwrite", 8, U_FD },
	[K_LSEEK] = { "lseek", 3, U_FD },
	[K_FSYNC] = { "fsync", 1, U_FD },
	[K_MMAP] = { "mmap", 7, U_FD },
	[K_MREAD] = { "mapped read", 7, U_MAP },
	[K_MWRITE] = { "mapped write", 7, U_MAP },
	[K_MSYNC] = { "msync", 3, U_MAP },
	[K_MUNMAP] = { "munmap", 3, U_MAP },
	[K_FTRUNCATE] = { "ftruncate", 5, U_FD },
	[K_TRUNCATE] = { "truncate", 4, U_PATH },
	[K_FALLOCATE] = { "fallocate", 3, U_FD },
	[K_RENAME] = { "rename", 4, U_PATH },
	[K_UNLINK] = { "unlink", 3, U_PATH },
	[K_CHMOD] = { "chmod", 2, U_PATH },
	[K_UTIMENS] = { "utimensat", 2, U_PATH },
	[K_FUTIMENS] = { "futimens", 1, U_FD },
	[K_SETXATTR] = { "setxattr", 2, U_PATH | U_XATTR },
	[K_GETXATTR] = { "getxattr", 2, U_PATH | U_XATTR },
	[K_REMOVEXATTR] = { "removexattr", 1, U_PATH | U_XATTR },
	[K_LINK] = { "link", 1, U_PATH },
	[K_SYMLINK] = { "symlink", 1, U_PATH },
	[K_MKNOD] = { "mknod", 1, U_PATH },
};

/* K_OPEN: made by creat(2) (printed so; the flags are creat's) */
#define OPEN_CREAT_CALL (1 << 30)

/*
 * One operation. @slot is an fd slot of process @proc, or a mapping slot for
 * the mapping operations; what @arg, @mode, @off and @len mean depends on
 * @kind (see exec_local()). Operations name slots, never fds: one whose slot
 * is empty (its open was dropped by the shrinker, or failed on both trees)
 * is skipped on both trees alike.
 */
struct op {
	uint8_t kind;
	uint8_t proc;
	uint8_t slot;
	uint8_t fdslot; /* K_MMAP: the fd slot mapped */
	uint8_t path, path2;
	int32_t arg;
	uint32_t mode;
	int64_t off;
	uint32_t len;
	uint32_t seed; /* of the bytes written */
};

/* ---- what is compared ---- */

/* mtime after an operation */
enum { MT_KEPT, MT_T1, MT_T2, MT_NEW };
/* ctime after an operation */
enum { CT_KEPT, CT_MOVED, CT_NEWNAME };

/* The fixed past time set before each operation, and those utimensat sets. */
static const struct timespec T0 = { 1000000000, 123456789 };
static const struct timespec T1 = { 1200000000, 5 };
static const struct timespec T2 = { 1300000000, 999999999 };

/* What is compared of one stat. */
struct fsnap {
	int err; /* 0, or the errno of the stat */
	uint32_t mode;
	uint32_t uid, gid;
	uint64_t nlink;
	int64_t size, blocks; /* regular files only */
	uint8_t mtime; /* MT_* */
	uint8_t ctime; /* CT_* */
	uint64_t ino; /* not compared: which file, for unsettled() */
};

/* The result of one operation on one tree. */
struct result {
	bool skipped; /* its slot was empty */
	bool lost; /* the peer died or did not answer in time */
	int sig; /* a mapping access took this signal */
	int64_t ret;
	int err; /* errno where ret is -1 */
	bool has_fst;
	struct fsnap fst; /* fstat of the operation's open file afterwards */
	uint64_t map_ino; /* K_MMAP: the file mapped */
	uint32_t dlen;
	unsigned char data[MAX_IO]; /* bytes read */
};
#define RESULT_HDR offsetof(struct result, data)

/* ---- processes and trees ---- */

struct map {
	unsigned char *p;
	size_t len;
	off_t off;
	int prot;
	int fd; /* a dup of the fd mapped: its fstat, its times */
};

/* The fds and mappings of one process of one tree. */
struct pstate {
	int rootfd;
	const char *root;
	int fd[NSLOTS];
	struct map map[NMAPS];
	struct timespec c0; /* ctime of the operation's open file before it */
	bool c0_valid;
	bool fifos; /* a FIFO may exist in the tree (see K_OPEN) */
};

struct peer {
	pid_t pid; /* 0: none (not started, or ended after a failure) */
	int to, from;
};

/* What the main process knows of a mapping of any process: for unsettled(). */
struct mtrack {
	bool live;
	bool dirty; /* stored to since its last msync() */
	uint64_t ino;
};

/* Files whose mtime and ctime are not compared at one operation. */
struct unsettled {
	int n;
	uint64_t ino[MAX_PROCS * NMAPS];
};

struct tree {
	const char *name; /* "ref" or "umm" */
	const char *root;
	int rootfd;
	bool coarse; /* a change can leave ctime as it was: wait a tick */
	struct pstate local; /* process 0 */
	struct peer peer[MAX_PROCS]; /* 1 .. nprocs - 1 */
	struct mtrack mt[MAX_PROCS][NMAPS]; /* the mappings of every process */
	struct unsettled touched; /* files loaded or stored through a mapping */
	bool no_passthrough; /* a umm without passthrough (see by_design[]) */
};

static struct {
	int nprocs;
	int nops;
	bool verbose;
	bool xattr; /* the reference takes user.* xattrs */
	bool fifos; /* this sequence made a FIFO: opens look first */
	unsigned int time_scale;
	struct tree ref, umm;
	unsigned long by_design_hits[8];
} cfg = { .nprocs = 2, .nops = 40, .xattr = true, .time_scale = 1 };

/* A difference: where, and of what kind (for the shrinker). */
struct diff {
	int index;
	int sig; /* kind * 100 + field */
	char what[1024];
};

/* ---- small helpers ---- */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("difftest: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

struct sbuf {
	char *p;
	size_t size, len;
};

static void sb_printf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->len >= sb->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->p + sb->len, sb->size - sb->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		sb->len = sb->len + (size_t)n < sb->size ? sb->len + (size_t)n : sb->size - 1;
}

static const char *errname(int err)
{
	const char *s = strerrorname_np(err);

	return s ? s : "E?";
}

static bool ts_eq(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* splitmix64: small, and every seed gives a good stream */
struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t below(struct rng *r, uint32_t n)
{
	return (uint32_t)(rnd(r) % n);
}

/* The seed of sequence @i of a run seeded @seed (sequence 0: @seed itself). */
static uint64_t seq_seed(uint64_t seed, unsigned long i)
{
	struct rng r = { seed ^ (i * 0xd1b54a32d192ed03ULL) };

	return i ? rnd(&r) : seed;
}

/* The bytes a write with @seed writes: never all zero, different per seed. */
static void fill(unsigned char *b, size_t n, uint32_t seed)
{
	uint32_t x = seed | 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (unsigned char)(x >> 24) | 1;
	}
}

/* ---- generating a sequence ---- */

/*
 * What the generator believes is open and which names exist: only to aim
 * operations at slots and names that are likely there (an open may fail, a
 * directory's rename moves names it does not follow).
 */
struct shadow {
	bool fd[MAX_PROCS][NSLOTS];
	bool map[MAX_PROCS][NMAPS];
	bool exists[NTARGETS];
};

/* A random index in @n among those where @used[i] == @want, or -1. */
static int pick_slot(struct rng *r, const bool *used, int n, bool want)
{
	int cand[NTARGETS], nc = 0;

	for (int i = 0; i < n; i++)
		if (used[i] == want)
			cand[nc++] = i;
	return nc ? cand[below(r, (uint32_t)nc)] : -1;
}

static const uint32_t size_pool[] = { 0,    1,	  100,	4095, 4096,  4097,
				      5000, 8191, 8192, 8193, 12288, 12289 };

/* A size or offset of 0 to 3 pages: mostly one of the values at page edges. */
static uint32_t pick_size(struct rng *r)
{
	if (below(r, 4))
		return size_pool[below(r, ARRAY_SIZE(size_pool))];
	return below(r, 3 * PAGE + 1);
}

/* A length of an I/O: at least 1 but rarely, at most MAX_IO. */
static uint32_t pick_len(struct rng *r)
{
	uint32_t n = pick_size(r);

	if (!n && below(r, 4))
		n = 1 + below(r, 200);
	return n > MAX_IO ? MAX_IO : n;
}

static int pick_file(struct rng *r)
{
	/* the top dir's names are drawn more often: more collisions */
	if (below(r, 2))
		return (int)below(r, 4);
	return (int)below(r, NFILES);
}

/* Mostly a file name, sometimes a directory. */
static int pick_target(struct rng *r)
{
	return below(r, 10) ? pick_file(r) : NFILES + (int)below(r, NTARGETS - NFILES);
}

/* A target, most often one the shadow believes exists. */
static int pick_existing(struct rng *r, const struct shadow *sh)
{
	bool files[NFILES];

	if (below(r, 5)) {
		int i;

		memcpy(files, sh->exists, sizeof(files));
		i = pick_slot(r, files, NFILES, true);
		if (i >= 0)
			return i;
	}
	return pick_target(r);
}

static enum kind pick_kind(struct rng *r)
{
	unsigned int sum = 0, x;

	for (int k = 0; k < NKINDS; k++)
		if (cfg.xattr || !(kinds[k].uses & U_XATTR))
			sum += kinds[k].weight;
	x = below(r, sum);
	for (int k = 0; k < NKINDS; k++) {
		if (!cfg.xattr && (kinds[k].uses & U_XATTR))
			continue;
		if (x < kinds[k].weight)
			return (enum kind)k;
		x -= kinds[k].weight;
	}
	return K_OPEN;
}

static void gen_open(struct rng *r, struct shadow *sh, struct op *op)
{
	static const uint32_t modes[] = { 0644, 0600, 0444, 0755 };
	static const int acc[] = { O_RDONLY, O_WRONLY, O_RDWR };
	int slot = pick_slot(r, sh->fd[op->proc], NSLOTS, false);

	if (slot < 0)
		slot = (int)below(r, NSLOTS);
	op->kind = K_OPEN;
	op->slot = (uint8_t)slot;
	op->path = (uint8_t)(below(r, 2) ? pick_existing(r, sh) : pick_target(r));
	op->mode = modes[below(r, ARRAY_SIZE(modes))];
	if (!below(r, 12)) {
		op->arg = O_CREAT | O_WRONLY | O_TRUNC | OPEN_CREAT_CALL;
	} else {
		/* a peer opens mostly to map, so mostly for reading and writing */
		op->arg = below(r, 10) < (op->proc ? 7u : 5u) ? O_RDWR : acc[below(r, 3)];
		if (below(r, 10) < (sh->exists[op->path] ? 3u : 8u))
			op->arg |= O_CREAT;
		if ((op->arg & O_CREAT) && !below(r, 10))
			op->arg |= O_EXCL;
		if (below(r, 10) < 2)
			op->arg |= O_TRUNC;
		if (below(r, 10) < 2)
			op->arg |= O_APPEND;
	}
	sh->fd[op->proc][slot] = true;
	if (op->arg & O_CREAT)
		sh->exists[op->path] = true;
}

static void gen_times(struct rng *r, struct op *op)
{
	op->arg = (int32_t)below(r, 6); /* see times_of() */
}

/* One operation, drawn with the weights of kinds[] (see struct op). */
static void gen_op(struct rng *r, struct shadow *sh, struct op *op)
{
	enum kind k = pick_kind(r);
	int proc = 0, slot;

	memset(op, 0, sizeof(*op));
	op->seed = (uint32_t)rnd(r);
	if (cfg.nprocs > 1 && below(r, 10) < 4 && !((kinds[k].uses & U_PATH) && k != K_OPEN))
		proc = 1 + (int)below(r, (uint32_t)cfg.nprocs - 1);
	op->proc = (uint8_t)proc;
	if (kinds[k].uses & U_MAP) {
		slot = pick_slot(r, sh->map[proc], NMAPS, true);
		if (slot < 0)
			k = K_MMAP;
		else
			op->slot = (uint8_t)slot;
	}
	if (kinds[k].uses & U_FD) {
		slot = pick_slot(r, sh->fd[proc], NSLOTS, true);
		if (slot < 0) {
			gen_open(r, sh, op);
			return;
		}
		op->slot = (uint8_t)slot;
	}
	op->kind = (uint8_t)k;
	switch (k) {
	case K_OPEN:
		gen_open(r, sh, op);
		break;
	case K_CLOSE:
		sh->fd[proc][op->slot] = false;
		break;
	case K_READ:
	case K_WRITE:
		op->len = pick_len(r);
		break;
	case K_PREAD:
	case K_PWRITE:
		op->len = pick_len(r);
		op->off = pick_size(r);
		break;
	case K_LSEEK: {
		static const int64_t rel[] = { -4097, -100, -1, 0, 1, 100, 4096 };

		op->arg = (int32_t)below(r, 3); /* SEEK_SET, SEEK_CUR, SEEK_END */
		op->off = op->arg == SEEK_SET ? (int64_t)pick_size(r) :
						rel[below(r, ARRAY_SIZE(rel))];
		break;
	}
	case K_FSYNC:
		op->arg = (int32_t)below(r, 2); /* fsync, fdatasync */
		break;
	case K_MMAP: {
		/* accesses stop at EOF anyway: mostly the whole 3 pages */
		static const uint32_t lens[] = { 12288, 12288, 12288, 8192, 4097, 4096, 100, 1 };

		op->fdslot = op->slot;
		slot = pick_slot(r, sh->map[proc], NMAPS, false);
		op->slot = (uint8_t)(slot < 0 ? (int)below(r, NMAPS) : slot);
		op->len = lens[below(r, ARRAY_SIZE(lens))];
		op->off = below(r, 20) ? 0 : below(r, 4) ? PAGE : 100;
		op->arg = below(r, 5) ? PROT_READ | PROT_WRITE : PROT_READ;
		sh->map[proc][op->slot] = true;
		break;
	}
	case K_MREAD:
	case K_MWRITE:
		op->off = below(r, 3) ? 0 : pick_size(r);
		op->len = below(r, 3) ? MAX_IO : pick_len(r);
		break;
	case K_MSYNC: {
		static const int fl[] = { MS_SYNC, MS_ASYNC, MS_SYNC | MS_INVALIDATE };

		op->arg = fl[below(r, ARRAY_SIZE(fl))];
		break;
	}
	case K_MUNMAP:
		sh->map[proc][op->slot] = false;
		break;
	case K_FTRUNCATE:
		op->off = pick_size(r);
		break;
	case K_TRUNCATE:
		op->path = (uint8_t)pick_existing(r, sh);
		op->off = pick_size(r);
		break;
	case K_FALLOCATE:
		op->arg = below(r, 3) ? (below(r, 2) ? 0 : FALLOC_FL_KEEP_SIZE) :
					FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		op->off = pick_size(r);
		op->len = pick_len(r);
		break;
	case K_RENAME:
	case K_LINK:
		op->path = (uint8_t)pick_existing(r, sh);
		op->path2 = (uint8_t)pick_target(r);
		if (k == K_RENAME && !below(r, 5))
			op->arg = RENAME_NOREPLACE;
		if (k == K_RENAME && op->path < NFILES && op->path2 < NFILES &&
		    sh->exists[op->path]) {
			sh->exists[op->path2] = true;
			sh->exists[op->path] = op->path == op->path2;
		}
		break;
	case K_UNLINK:
		op->path = (uint8_t)pick_existing(r, sh);
		if (op->path < NFILES)
			sh->exists[op->path] = false;
		break;
	case K_CHMOD: {
		static const uint32_t modes[] = { 0644, 0600, 0444, 0000, 0755, 02755, 04711 };

		op->path = (uint8_t)pick_existing(r, sh);
		op->mode = modes[below(r, ARRAY_SIZE(modes))];
		break;
	}
	case K_UTIMENS:
		op->path = (uint8_t)pick_existing(r, sh);
		gen_times(r, op);
		break;
	case K_FUTIMENS:
		gen_times(r, op);
		break;
	case K_SETXATTR: {
		static const uint32_t lens[] = { 0, 1, 17, 200 };
		static const int fl[] = { 0, 0, XATTR_CREATE, XATTR_REPLACE };

		op->path = (uint8_t)pick_existing(r, sh);
		op->len = lens[below(r, ARRAY_SIZE(lens))];
		op->arg = fl[below(r, ARRAY_SIZE(fl))];
		break;
	}
	case K_GETXATTR: {
		static const uint32_t lens[] = { 0, 4, 256 };

		op->path = (uint8_t)pick_existing(r, sh);
		op->len = lens[below(r, ARRAY_SIZE(lens))];
		break;
	}
	case K_REMOVEXATTR:
		op->path = (uint8_t)pick_existing(r, sh);
		break;
	case K_SYMLINK:
		op->path = (uint8_t)pick_target(r);
		op->path2 = (uint8_t)pick_file(r); /* the link's target */
		break;
	case K_MKNOD:
		op->path = (uint8_t)pick_target(r);
		op->mode = (below(r, 2) ? S_IFIFO : S_IFREG) | 0644;
		if (S_ISREG(op->mode) && op->path < NFILES)
			sh->exists[op->path] = true;
		break;
	default:
		break;
	}
}

/* ---- printing ---- */

static const char *times_name(int v)
{
	static const char *const names[] = {
		"NULL",	    "{UTIME_NOW, UTIME_OMIT}", "{UTIME_OMIT, UTIME_NOW}",
		"{T1, T1}", "{UTIME_OMIT, T2}",	       "{UTIME_OMIT, UTIME_OMIT}",
	};

	return v >= 0 && v < (int)ARRAY_SIZE(names) ? names[v] : "?";
}

static void open_flags_name(struct sbuf *sb, int flags)
{
	static const char *const acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };

	sb_printf(sb, "%s", acc[flags & O_ACCMODE]);
	if (flags & O_CREAT)
		sb_printf(sb, "|O_CREAT");
	if (flags & O_EXCL)
		sb_printf(sb, "|O_EXCL");
	if (flags & O_TRUNC)
		sb_printf(sb, "|O_TRUNC");
	if (flags & O_APPEND)
		sb_printf(sb, "|O_APPEND");
}

/* @op as a line of C. */
static void fmt_op(struct sbuf *sb, const struct op *op)
{
	const char *p = paths[op->path], *p2 = paths[op->path2];
	static const char *const whence[] = { "SEEK_SET", "SEEK_CUR", "SEEK_END" };

	if (op->proc)
		sb_printf(sb, "p%d: ", op->proc);
	switch (op->kind) {
	case K_OPEN:
		if (op->arg & OPEN_CREAT_CALL) {
			sb_printf(sb, "fd%d = creat(\"%s\", 0%o);", op->slot, p, op->mode);
		} else {
			sb_printf(sb, "fd%d = open(\"%s\", ", op->slot, p);
			open_flags_name(sb, op->arg);
			if (op->arg & O_CREAT)
				sb_printf(sb, ", 0%o", op->mode);
			sb_printf(sb, ");");
		}
		break;
	case K_CLOSE:
		sb_printf(sb, "close(fd%d);", op->slot);
		break;
	case K_READ:
		sb_printf(sb, "read(fd%d, buf, %u);", op->slot, op->len);
		break;
	case K_WRITE:
		sb_printf(sb, "write(fd%d, bytes(%#x), %u);", op->slot, op->seed, op->len);
		break;
	case K_PREAD:
		sb_printf(sb, "pread(fd%d, buf, %u, %" PRId64 ");", op->slot, op->len, op->off);
		break;
	case K_PWRITE:
		sb_printf(sb, "pwrite(fd%d, bytes(%#x), %u, %" PRId64 ");", op->slot, op->seed,
			  op->len, op->off);
		break;
	case K_LSEEK:
		sb_printf(sb, "lseek(fd%d, %" PRId64 ", %s);", op->slot, op->off,
			  whence[op->arg % 3]);
		break;
	case K_FSYNC:
		sb_printf(sb, "%s(fd%d);", op->arg ? "fdatasync" : "fsync", op->slot);
		break;
	case K_MMAP:
		sb_printf(sb, "m%d = mmap(NULL, %u, %s, MAP_SHARED, fd%d, %" PRId64 ");", op->slot,
			  op->len, op->arg & PROT_WRITE ? "PROT_READ|PROT_WRITE" : "PROT_READ",
			  op->fdslot, op->off);
		break;
	case K_MREAD:
		sb_printf(sb, "memcpy(buf, m%d + %" PRId64 ", %u); /* below EOF only */", op->slot,
			  op->off, op->len);
		break;
	case K_MWRITE:
		sb_printf(sb, "memcpy(m%d + %" PRId64 ", bytes(%#x), %u); /* below EOF only */",
			  op->slot, op->off, op->seed, op->len);
		break;
	case K_MSYNC:
		sb_printf(sb, "msync(m%d, len, %s);", op->slot,
			  op->arg == MS_ASYNC		       ? "MS_ASYNC" :
			  op->arg == (MS_SYNC | MS_INVALIDATE) ? "MS_SYNC|MS_INVALIDATE" :
								 "MS_SYNC");
		break;
	case K_MUNMAP:
		sb_printf(sb, "munmap(m%d, len);", op->slot);
		break;
	case K_FTRUNCATE:
		sb_printf(sb, "ftruncate(fd%d, %" PRId64 ");", op->slot, op->off);
		break;
	case K_TRUNCATE:
		sb_printf(sb, "truncate(\"%s\", %" PRId64 ");", p, op->off);
		break;
	case K_FALLOCATE:
		sb_printf(sb, "fallocate(fd%d, %s, %" PRId64 ", %u);", op->slot,
			  (op->arg & FALLOC_FL_PUNCH_HOLE) ?
				  "FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE" :
			  op->arg ? "FALLOC_FL_KEEP_SIZE" :
				    "0",
			  op->off, op->len);
		break;
	case K_RENAME:
		if (op->arg)
			sb_printf(
				sb,
				"renameat2(AT_FDCWD, \"%s\", AT_FDCWD, \"%s\", RENAME_NOREPLACE);",
				p, p2);
		else
			sb_printf(sb, "rename(\"%s\", \"%s\");", p, p2);
		break;
	case K_UNLINK:
		sb_printf(sb, "unlink(\"%s\");", p);
		break;
	case K_CHMOD:
		sb_printf(sb, "chmod(\"%s\", 0%o);", p, op->mode);
		break;
	case K_UTIMENS:
		sb_printf(sb, "utimensat(AT_FDCWD, \"%s\", %s, 0);", p, times_name(op->arg));
		break;
	case K_FUTIMENS:
		sb_printf(sb, "futimens(fd%d, %s);", op->slot, times_name(op->arg));
		break;
	case K_SETXATTR:
		sb_printf(sb, "setxattr(\"%s\", \"" XNAME "\", bytes(%#x), %u, %s);", p, op->seed,
			  op->len,
			  op->arg == XATTR_CREATE  ? "XATTR_CREATE" :
			  op->arg == XATTR_REPLACE ? "XATTR_REPLACE" :
						     "0");
		break;
	case K_GETXATTR:
		sb_printf(sb, "getxattr(\"%s\", \"" XNAME "\", buf, %u);", p, op->len);
		break;
	case K_REMOVEXATTR:
		sb_printf(sb, "removexattr(\"%s\", \"" XNAME "\");", p);
		break;
	case K_LINK:
		sb_printf(sb, "link(\"%s\", \"%s\");", p, p2);
		break;
	case K_SYMLINK:
		sb_printf(sb, "symlink(\"%s\", \"%s\");", p2, p);
		break;
	case K_MKNOD:
		sb_printf(sb, "mknod(\"%s\", %s|0%o, 0);", p,
			  S_ISFIFO(op->mode) ? "S_IFIFO" : "S_IFREG", op->mode & 07777);
		break;
	default:
		sb_printf(sb, "?");
	}
}

static void fmt_result(struct sbuf *sb, const struct result *r)
{
	if (r->lost)
		sb_printf(sb, "no answer (the process died or hung)");
	else if (r->skipped)
		sb_printf(sb, "skipped (empty slot)");
	else if (r->sig)
		sb_printf(sb, "%s", sigabbrev_np(r->sig) ? sigabbrev_np(r->sig) : "signal");
	else if (r->ret < 0)
		sb_printf(sb, "%" PRId64 " %s", r->ret, errname(r->err));
	else
		sb_printf(sb, "%" PRId64, r->ret);
}

/* ---- mapping accesses ---- */

static sigjmp_buf access_jmp;
static volatile sig_atomic_t in_access;

static void on_fault(int sig)
{
	if (!in_access) {
		/* a fault outside a guarded access is a bug of the tester: crash */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	siglongjmp(access_jmp, sig);
}

/* memcpy() that returns the signal it took (SIGBUS, SIGSEGV), or 0. */
static int guarded_copy(void *dst, const void *src, size_t n)
{
	int sig;

	in_access = 1;
	sig = sigsetjmp(access_jmp, 1);
	if (!sig)
		memcpy(dst, src, n);
	in_access = 0;
	return sig;
}

/* Bytes of [@off, @off + @len) of mapping @m below the file's size @fsize. */
static size_t map_span(const struct map *m, int64_t off, uint32_t len, int64_t fsize)
{
	int64_t limit = fsize - (int64_t)m->off, end = off + (int64_t)len;

	if (limit > (int64_t)m->len)
		limit = (int64_t)m->len;
	if (off >= limit)
		return 0;
	return (size_t)((end < limit ? end : limit) - off);
}

/* ---- one process's state ---- */

static void pstate_init(struct pstate *ps, int rootfd, const char *root)
{
	memset(ps, 0, sizeof(*ps));
	ps->rootfd = rootfd;
	ps->root = root;
	for (int i = 0; i < NSLOTS; i++)
		ps->fd[i] = -1;
	for (int i = 0; i < NMAPS; i++)
		ps->map[i].fd = -1;
}

static void map_drop(struct map *m)
{
	if (!m->p)
		return;
	munmap(m->p, m->len);
	close(m->fd);
	m->p = NULL;
	m->fd = -1;
}

/* Close every fd and unmap every mapping of @ps. */
static void pstate_reset(struct pstate *ps)
{
	for (int i = 0; i < NSLOTS; i++) {
		if (ps->fd[i] >= 0)
			close(ps->fd[i]);
		ps->fd[i] = -1;
	}
	for (int i = 0; i < NMAPS; i++)
		map_drop(&ps->map[i]);
}

/* The fd of @op's open file before it runs (a mapping's dup), or -1. */
static int op_file(const struct pstate *ps, const struct op *op)
{
	if (kinds[op->kind].uses & U_MAP)
		return ps->map[op->slot].p ? ps->map[op->slot].fd : -1;
	if (op->kind == K_MMAP)
		return ps->fd[op->fdslot];
	if (kinds[op->kind].uses & U_FD)
		return ps->fd[op->slot];
	return -1;
}

static void snap_of(const struct stat *st, const struct timespec *c0, struct fsnap *f)
{
	memset(f, 0, sizeof(*f));
	f->mode = st->st_mode;
	f->uid = st->st_uid;
	f->gid = st->st_gid;
	f->nlink = st->st_nlink;
	f->ino = st->st_ino;
	if (S_ISREG(st->st_mode)) {
		f->size = st->st_size;
		f->blocks = st->st_blocks;
	}
	f->mtime = ts_eq(&st->st_mtim, &T0) ? MT_KEPT :
		   ts_eq(&st->st_mtim, &T1) ? MT_T1 :
		   ts_eq(&st->st_mtim, &T2) ? MT_T2 :
					      MT_NEW;
	f->ctime = !c0 ? CT_NEWNAME : ts_eq(&st->st_ctim, c0) ? CT_KEPT : CT_MOVED;
}

/* Before @op: set its open file's times to T0 and note the ctime. */
static void prep_local(struct pstate *ps, const struct op *op)
{
	const struct timespec t0[2] = { T0, T0 };
	int fd = op_file(ps, op);
	struct stat st;

	ps->c0_valid = false;
	if (fd < 0)
		return;
	futimens(fd, t0);
	if (!fstat(fd, &st)) {
		ps->c0 = st.st_ctim;
		ps->c0_valid = true;
	}
}

static const struct timespec *times_of(int v, struct timespec ts[2])
{
	const struct timespec now = { 0, UTIME_NOW }, omit = { 0, UTIME_OMIT };

	switch (v) {
	case 0:
		return NULL;
	case 1:
		ts[0] = now, ts[1] = omit;
		break;
	case 2:
		ts[0] = omit, ts[1] = now;
		break;
	case 3:
		ts[0] = T1, ts[1] = T1;
		break;
	case 4:
		ts[0] = omit, ts[1] = T2;
		break;
	default:
		ts[0] = omit, ts[1] = omit;
	}
	return ts;
}

static void full_path(char *buf, size_t size, const struct pstate *ps, int path)
{
	snprintf(buf, size, "%s/%s", ps->root, paths[path]);
}

/* Run @op in this process on the tree of @ps; its result into @r. */
static void exec_local(struct pstate *ps, const struct op *op, struct result *r)
{
	static unsigned char wbuf[MAX_IO];
	const char *p = paths[op->path];
	struct map *m = NULL;
	struct timespec ts[2];
	char full[4096];
	int64_t ret = 0;
	int fd = -1, err = 0;
	struct stat st;

	memset(r, 0, RESULT_HDR);
	if ((kinds[op->kind].uses & U_FD) && op->kind != K_OPEN) {
		fd = op->kind == K_MMAP ? ps->fd[op->fdslot] : ps->fd[op->slot];
		if (fd < 0) {
			r->skipped = true;
			return;
		}
	}
	if (kinds[op->kind].uses & U_MAP) {
		m = &ps->map[op->slot];
		if (!m->p || (op->kind == K_MWRITE && !(m->prot & PROT_WRITE))) {
			r->skipped = true;
			return;
		}
	}
	full_path(full, sizeof(full), ps, op->path);

#define SYS(expr)                          \
	do {                               \
		ret = (expr);              \
		err = ret < 0 ? errno : 0; \
	} while (0)

	switch (op->kind) {
	case K_OPEN: {
		int flags = op->arg & ~OPEN_CREAT_CALL, nfd;

		if (ps->fd[op->slot] >= 0)
			close(ps->fd[op->slot]);
		ps->fd[op->slot] = -1;
		/* a FIFO (a mknod both trees took) would block the open */
		if (ps->fifos && !fstatat(ps->rootfd, p, &st, 0) && S_ISFIFO(st.st_mode))
			flags |= O_NONBLOCK;
		nfd = openat(ps->rootfd, p, flags | O_CLOEXEC, op->mode);
		err = nfd < 0 ? errno : 0;
		ret = nfd < 0 ? -1 : 0;
		ps->fd[op->slot] = nfd;
		break;
	}
	case K_CLOSE:
		SYS(close(fd));
		ps->fd[op->slot] = -1;
		break;
	case K_READ:
		SYS(read(fd, r->data, op->len));
		break;
	case K_WRITE:
		fill(wbuf, op->len, op->seed);
		SYS(write(fd, wbuf, op->len));
		break;
	case K_PREAD:
		SYS(pread(fd, r->data, op->len, op->off));
		break;
	case K_PWRITE:
		fill(wbuf, op->len, op->seed);
		SYS(pwrite(fd, wbuf, op->len, op->off));
		break;
	case K_LSEEK:
		SYS(lseek(fd, op->off, op->arg));
		break;
	case K_FSYNC:
		SYS(op->arg ? fdatasync(fd) : fsync(fd));
		break;
	case K_MMAP: {
		struct map *nm = &ps->map[op->slot];
		void *addr;

		map_drop(nm);
		addr = mmap(NULL, op->len, op->arg, MAP_SHARED, fd, op->off);
		if (addr == MAP_FAILED) {
			err = errno;
			ret = -1;
			break;
		}
		nm->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (nm->fd < 0) {
			err = errno;
			ret = -1;
			munmap(addr, op->len);
			break;
		}
		if (!fstat(nm->fd, &st))
			r->map_ino = st.st_ino;
		nm->p = addr;
		nm->len = op->len;
		nm->off = op->off;
		nm->prot = op->arg;
		break;
	}
	case K_MREAD:
	case K_MWRITE: {
		size_t n;

		if (fstat(m->fd, &st)) {
			err = errno;
			ret = -1;
			break;
		}
		n = map_span(m, op->off, op->len, st.st_size);
		if (!n) {
			ret = 0;
			break;
		}
		if (op->kind == K_MWRITE) {
			fill(wbuf, n, op->seed);
			r->sig = guarded_copy(m->p + op->off, wbuf, n);
		} else {
			r->sig = guarded_copy(r->data, m->p + op->off, n);
		}
		ret = (int64_t)n;
		break;
	}
	case K_MSYNC:
		SYS(msync(m->p, m->len, op->arg));
		break;
	case K_MUNMAP:
		SYS(munmap(m->p, m->len));
		close(m->fd);
		m->p = NULL;
		m->fd = -1;
		break;
	case K_FTRUNCATE:
		SYS(ftruncate(fd, op->off));
		break;
	case K_TRUNCATE:
		SYS(truncate(full, op->off));
		break;
	case K_FALLOCATE:
		SYS(fallocate(fd, op->arg, op->off, op->len));
		break;
	case K_RENAME:
		SYS(renameat2(ps->rootfd, p, ps->rootfd, paths[op->path2], (unsigned int)op->arg));
		break;
	case K_UNLINK:
		SYS(unlinkat(ps->rootfd, p, 0));
		break;
	case K_CHMOD:
		SYS(fchmodat(ps->rootfd, p, op->mode, 0));
		break;
	case K_UTIMENS:
		SYS(utimensat(ps->rootfd, p, times_of(op->arg, ts), 0));
		break;
	case K_FUTIMENS:
		SYS(futimens(fd, times_of(op->arg, ts)));
		break;
	case K_SETXATTR:
		fill(wbuf, op->len, op->seed);
		SYS(setxattr(full, XNAME, wbuf, op->len, op->arg));
		break;
	case K_GETXATTR:
		SYS(getxattr(full, XNAME, op->len ? r->data : NULL, op->len));
		break;
	case K_REMOVEXATTR:
		SYS(removexattr(full, XNAME));
		break;
	case K_LINK:
		SYS(linkat(ps->rootfd, p, ps->rootfd, paths[op->path2], 0));
		break;
	case K_SYMLINK:
		SYS(symlinkat(paths[op->path2], ps->rootfd, p));
		break;
	case K_MKNOD:
		SYS(mknodat(ps->rootfd, p, op->mode, 0));
		break;
	default:
		r->skipped = true;
		return;
	}
#undef SYS
	r->ret = ret < 0 ? -1 : ret;
	r->err = err;
	if (ret > 0 && !r->sig &&
	    (op->kind == K_READ || op->kind == K_PREAD || op->kind == K_MREAD ||
	     (op->kind == K_GETXATTR && op->len)))
		r->dlen = (uint32_t)(ret < MAX_IO ? ret : MAX_IO);

	/* the operation's file afterwards (none after its close or munmap) */
	if (op->kind != K_CLOSE && op->kind != K_MUNMAP && ps->c0_valid) {
		fd = op_file(ps, op);
		if (fd >= 0 && !fstat(fd, &st)) {
			snap_of(&st, &ps->c0, &r->fst);
			r->has_fst = true;
		}
	}
}

/* ---- peers ---- */

enum { M_PREP = 1, M_EXEC, M_RESET, M_QUIT };

struct msg {
	int kind;
	bool fifos; /* for pstate.fifos */
	struct op op;
};

/* Read or write all of @n bytes before @deadline (mono_ms; -1: none): 0 or -1. */
static int io_full(int fd, void *buf, size_t n, int64_t deadline, bool out)
{
	unsigned char *p = buf;

	while (n) {
		struct pollfd pfd = { .fd = fd, .events = out ? POLLOUT : POLLIN };
		int timeout = -1, pr;
		ssize_t k;

		if (deadline >= 0) {
			int64_t left = deadline - mono_ms();

			if (left <= 0)
				return -1;
			timeout = left > 1000000 ? 1000000 : (int)left;
		}
		pr = poll(&pfd, 1, timeout);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return -1;
		k = out ? write(fd, p, n) : read(fd, p, n);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int64_t deadline_in(unsigned int seconds)
{
	return mono_ms() + (int64_t)seconds * 1000 * cfg.time_scale;
}

/* A peer: run what the main process sends until it says quit or goes. */
static void __attribute__((noreturn)) peer_main(int in, int out, struct pstate *ps)
{
	static struct result r;
	struct msg m;
	int ack = 0;

	for (;;) {
		if (io_full(in, &m, sizeof(m), -1, false))
			_exit(0);
		switch (m.kind) {
		case M_PREP:
			prep_local(ps, &m.op);
			if (io_full(out, &ack, sizeof(ack), -1, true))
				_exit(0);
			break;
		case M_EXEC:
			ps->fifos = m.fifos;
			exec_local(ps, &m.op, &r);
			if (io_full(out, &r, RESULT_HDR + r.dlen, -1, true))
				_exit(0);
			break;
		case M_RESET:
			pstate_reset(ps);
			if (io_full(out, &ack, sizeof(ack), -1, true))
				_exit(0);
			break;
		default:
			pstate_reset(ps);
			_exit(0);
		}
	}
}

/* Wait (with a deadline) for @pid to end; SIGKILL it when the deadline passes. */
static void reap(pid_t pid)
{
	int64_t deadline = deadline_in(REAP_DEADLINE_S);
	bool killed = false;
	int status;

	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid || (w < 0 && errno != EINTR))
			return;
		if (mono_ms() > deadline) {
			if (killed) {
				fprintf(stderr, "difftest: peer %d does not end, even killed\n",
					(int)pid);
				return;
			}
			kill(pid, SIGKILL);
			killed = true;
			deadline = deadline_in(REAP_DEADLINE_S);
		}
		sleep_us(1000);
	}
}

static void peer_end(struct peer *pe, bool kill_it)
{
	if (!pe->pid)
		return;
	if (kill_it)
		kill(pe->pid, SIGKILL);
	close(pe->to);
	close(pe->from);
	reap(pe->pid);
	pe->pid = 0;
}

/* Close every fd from 3 up but those of @keep. */
static void close_others(int *keep, int n)
{
	unsigned int from = 3;

	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (keep[j] < keep[i]) {
				int t = keep[i];

				keep[i] = keep[j];
				keep[j] = t;
			}
	for (int i = 0; i < n; i++) {
		if ((unsigned int)keep[i] < from)
			continue;
		if ((unsigned int)keep[i] > from)
			close_range(from, (unsigned int)keep[i] - 1, 0);
		from = (unsigned int)keep[i] + 1;
	}
	close_range(from, ~0U, 0);
}

/*
 * Fork peer @i of @t. Called while the main process holds no fd or mapping of
 * the tree, so the peer inherits none (close_others() closes the pipes of the
 * other peers).
 */
static void peer_spawn(struct tree *t, int i)
{
	struct peer *pe = &t->peer[i];
	int down[2], up[2];
	pid_t parent = getpid(), pid;

	if (pipe2(down, O_CLOEXEC) || pipe2(up, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		int keep[3] = { down[0], up[1], t->rootfd };
		struct pstate ps;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		close_others(keep, 3);
		pstate_init(&ps, t->rootfd, t->root);
		peer_main(down[0], up[1], &ps);
	}
	close(down[0]);
	close(up[1]);
	pe->pid = pid;
	pe->to = down[1];
	pe->from = up[0];
}

/*
 * Send @kind (with @op) to peer @pe and read its answer (@r for M_EXEC):
 * 0, or -1 when it died or did not answer in time (it is then ended).
 */
static int peer_call(struct peer *pe, int kind, const struct op *op, struct result *r)
{
	int64_t deadline = deadline_in(REPLY_DEADLINE_S);
	struct msg m = { .kind = kind, .fifos = cfg.fifos };
	int ack;

	if (!pe->pid)
		return -1;
	if (op)
		m.op = *op;
	if (io_full(pe->to, &m, sizeof(m), deadline, true))
		goto fail;
	if (kind != M_EXEC) {
		if (io_full(pe->from, &ack, sizeof(ack), deadline, false))
			goto fail;
		return 0;
	}
	if (io_full(pe->from, r, RESULT_HDR, deadline, false) || r->dlen > MAX_IO ||
	    io_full(pe->from, r->data, r->dlen, deadline, false))
		goto fail;
	return 0;
fail:
	peer_end(pe, true);
	return -1;
}

/* ---- trees ---- */

/* Remove everything under directory @dirfd (emptied, not removed). */
static int wipe(int dirfd, const char *what)
{
	struct dirent *de;
	int ret = 0, dfd = dup(dirfd);
	DIR *d;

	if (dfd < 0 || !(d = fdopendir(dfd))) {
		fprintf(stderr, "difftest: %s: opendir: %s\n", what, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (sub < 0 || wipe(sub, what))
				ret = -1;
			if (sub >= 0)
				close(sub);
			if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR)) {
				fprintf(stderr, "difftest: %s: rmdir %s: %s\n", what, de->d_name,
					strerror(errno));
				ret = -1;
			}
		} else if (unlinkat(dirfd, de->d_name, 0)) {
			fprintf(stderr, "difftest: %s: unlink %s: %s\n", what, de->d_name,
				strerror(errno));
			ret = -1;
		}
	}
	closedir(d);
	return ret;
}

/* Empty @t, put d0/ and d1/ back, and have every process hold nothing. */
static void tree_reset(struct tree *t)
{
	pstate_reset(&t->local);
	memset(t->mt, 0, sizeof(t->mt));
	t->touched.n = 0;
	for (int i = 1; i < cfg.nprocs; i++) {
		if (t->peer[i].pid)
			peer_call(&t->peer[i], M_RESET, NULL, NULL);
		if (!t->peer[i].pid)
			peer_spawn(t, i);
	}
	if (wipe(t->rootfd, t->root))
		die("cannot empty %s (%s)", t->root, t->name);
	if (mkdirat(t->rootfd, "d0", 0755) || mkdirat(t->rootfd, "d1", 0755))
		die("%s: mkdir: %s", t->root, strerror(errno));
}

static bool ts_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/*
 * Wait until the coarse clock (that of current_time()) is past @t. The coarse
 * clock lags the real time by up to a tick, and a multigrain fine-grained
 * stamp may be ahead of it: a tick of it is not enough, its value must pass.
 */
static void coarse_wait(const struct timespec *t)
{
	struct timespec now;

	for (;;) {
		clock_gettime(CLOCK_REALTIME_COARSE, &now);
		if (ts_after(&now, t))
			return;
		sleep_us(500);
	}
}

/* The ctimes of the names before an operation. */
struct before {
	struct timespec c0[NSNAP];
	bool had[NSNAP];
};

/*
 * Before @op on @t: set the times of every name and of the operation's open
 * file (in its process) to T0, and note the ctimes into @b.
 */
static void tree_prep(struct tree *t, const struct op *op, struct before *b)
{
	const struct timespec t0[2] = { T0, T0 };
	struct stat st;

	for (int i = 0; i < NSNAP; i++)
		utimensat(t->rootfd, paths[i], t0, AT_SYMLINK_NOFOLLOW);
	if (op->proc)
		peer_call(&t->peer[op->proc], M_PREP, op, NULL); /* a failure shows at M_EXEC */
	else
		prep_local(&t->local, op);
	for (int i = 0; i < NSNAP; i++) {
		b->had[i] = !fstatat(t->rootfd, paths[i], &st, AT_SYMLINK_NOFOLLOW);
		b->c0[i] = st.st_ctim;
	}
}

/* Run @op on @t in its process, then stat every name: into @r and @snap. */
static void tree_exec(struct tree *t, const struct op *op, const struct before *b, struct result *r,
		      struct fsnap snap[NSNAP])
{
	struct stat st;

	if (op->proc) {
		if (peer_call(&t->peer[op->proc], M_EXEC, op, r)) {
			memset(r, 0, RESULT_HDR);
			r->lost = true;
		}
	} else {
		t->local.fifos = cfg.fifos;
		exec_local(&t->local, op, r);
	}
	for (int i = 0; i < NSNAP; i++) {
		if (fstatat(t->rootfd, paths[i], &st, AT_SYMLINK_NOFOLLOW)) {
			memset(&snap[i], 0, sizeof(snap[i]));
			snap[i].err = errno;
		} else {
			snap_of(&st, b->had[i] ? &b->c0[i] : NULL, &snap[i]);
		}
	}
}

/* ---- comparing ---- */

static void unsettled_add(struct unsettled *u, uint64_t ino)
{
	for (int i = 0; i < u->n; i++)
		if (u->ino[i] == ino)
			return;
	if (u->n < (int)ARRAY_SIZE(u->ino))
		u->ino[u->n++] = ino;
}

static bool is_unsettled(const struct unsettled *u, uint64_t ino)
{
	for (int i = 0; i < u->n; i++)
		if (u->ino[i] == ino)
			return true;
	return false;
}

/*
 * Stores through a shared mapping move mtime and ctime at a time POSIX
 * leaves open: "between a write reference to the mapped region and the next
 * call to msync() ... for that portion of the file", and with no msync, at
 * some time after the store. tmpfs moves them at the first write fault on a
 * page in that mapping (no page_mkwrite: fault_dirty_shared_page() calls
 * file_update_time()), and not for a page mapped writable already, as a read
 * fault or the fault-around of a neighbour may have done: page-table state
 * that no operation list pins down (tmpfs against tmpfs differs there). A
 * FUSE filesystem moves them when the dirty page reaches the daemon: at
 * msync, munmap, fsync, close, or when the flusher runs. So the times of a
 * file are not compared at an operation where a mapping of it (in any
 * process) was stored to and not msync'ed since, before or after the
 * operation (so the store, the msync or munmap that settles it, and all in
 * between). On a umm without passthrough msync(MS_ASYNC) settles nothing:
 * it writes no page back (BD_LATE_TIMES in by_design[]; POSIX wants the
 * times marked by then, tmpfs marked them at the fault). Called after @op
 * ran on @t with result @r: fills @u, then updates what is known of @t's
 * mappings. Returns true where that MS_ASYNC rule left a mapping unsettled.
 */
static bool track_maps(struct tree *t, const struct op *op, const struct result *r,
		       struct unsettled *u)
{
	bool late = false;

	struct mtrack *m = &t->mt[op->proc][op->slot];
	bool ok = !r->skipped && !r->lost && !r->sig && r->ret >= 0;

	u->n = 0;
	for (int p = 0; p < cfg.nprocs; p++)
		for (int i = 0; i < NMAPS; i++)
			if (t->mt[p][i].live && t->mt[p][i].dirty)
				unsettled_add(u, t->mt[p][i].ino);
	switch (op->kind) {
	case K_MMAP:
		if (!r->skipped && !r->lost)
			m->live = false; /* the slot's old mapping is gone, ok or not */
		if (ok)
			*m = (struct mtrack){ .live = true, .ino = r->map_ino };
		break;
	case K_MREAD:
		if (m->live && !r->skipped && (r->ret > 0 || r->sig))
			unsettled_add(&t->touched, m->ino);
		break;
	case K_MWRITE:
		if (m->live && !r->skipped && (r->ret > 0 || r->sig))
			unsettled_add(&t->touched, m->ino);
		if (m->live && !r->skipped && (r->ret > 0 || r->sig || r->lost)) {
			m->dirty = true;
			unsettled_add(u, m->ino);
		}
		break;
	case K_MSYNC:
		/* without passthrough MS_ASYNC writes nothing back (BD_LATE_TIMES) */
		if (ok && (op->arg & MS_SYNC))
			m->dirty = false;
		else if (ok && (op->arg & MS_ASYNC) && !(t->no_passthrough && m->live && m->dirty))
			m->dirty = false;
		else if (ok && (op->arg & MS_ASYNC))
			late = true;
		break;
	case K_MUNMAP:
		if (!r->skipped)
			m->live = false;
		break;
	default:
		break;
	}
	if (r->lost) /* the process is gone, and its mappings with it */
		for (int i = 0; i < NMAPS; i++)
			t->mt[op->proc][i].live = false;
	return late;
}

enum {
	F_RESULT = 1,
	F_DATA,
	F_FST = 10, /* + the field of fsnap_diff() */
	F_PATH = 30, /* + the field of fsnap_diff() */
};

static const char *const mt_names[] = { "unchanged", "T1", "T2", "moved" };
static const char *const ct_names[] = { "unchanged", "moved", "(a new name)" };

/*
 * The first field where @a and @b differ (described into @sb), or -1. With
 * !@times, mtime and ctime are not compared; with !@blocks, st_blocks is not
 * (and *@excused says whether it differed).
 */
static int fsnap_diff(const struct fsnap *a, const struct fsnap *b, bool times, bool blocks,
		      bool *excused, struct sbuf *sb)
{
	if (a->err != b->err) {
		sb_printf(sb, "stat: ref %s, umm %s", a->err ? errname(a->err) : "ok",
			  b->err ? errname(b->err) : "ok");
		return 0;
	}
	if (a->err)
		return -1;
	if (a->mode != b->mode) {
		sb_printf(sb, "st_mode: ref 0%o, umm 0%o", a->mode, b->mode);
		return 1;
	}
	if (a->uid != b->uid || a->gid != b->gid) {
		sb_printf(sb, "owner: ref %u:%u, umm %u:%u", a->uid, a->gid, b->uid, b->gid);
		return 2;
	}
	if (a->nlink != b->nlink) {
		sb_printf(sb, "st_nlink: ref %" PRIu64 ", umm %" PRIu64, a->nlink, b->nlink);
		return 3;
	}
	if (a->size != b->size) {
		sb_printf(sb, "st_size: ref %" PRId64 ", umm %" PRId64, a->size, b->size);
		return 4;
	}
	if (a->blocks != b->blocks && !blocks) {
		*excused = true;
	} else if (a->blocks != b->blocks) {
		sb_printf(sb, "st_blocks: ref %" PRId64 ", umm %" PRId64, a->blocks, b->blocks);
		return 5;
	}
	if (!times)
		return -1;
	if (a->mtime != b->mtime) {
		sb_printf(sb, "mtime: ref %s, umm %s", mt_names[a->mtime], mt_names[b->mtime]);
		return 6;
	}
	if (a->ctime != b->ctime) {
		sb_printf(sb, "ctime: ref %s, umm %s", ct_names[a->ctime], ct_names[b->ctime]);
		return 7;
	}
	return -1;
}

static bool result_eq(const struct result *a, const struct result *b)
{
	return a->skipped == b->skipped && a->lost == b->lost && a->sig == b->sig &&
	       a->ret == b->ret && (a->ret >= 0 || a->err == b->err);
}

/*
 * Does umm count the pages of its file @ino (the umm tree's inode) late, by
 * design (the st_blocks row of by_design[])?
 */
static bool blocks_late(uint64_t ino)
{
	return cfg.umm.no_passthrough && is_unsettled(&cfg.umm.touched, ino);
}

/*
 * Are the results of @op on both trees the same? If not, @d says how.
 * *@excused: an st_blocks difference the by_design[] row accepted.
 */
static bool same(const struct op *op, const struct result *a, const struct result *b,
		 const struct fsnap *snap_a, const struct fsnap *snap_b, const struct unsettled *ua,
		 const struct unsettled *ub, struct diff *d, bool *excused)
{
	struct sbuf sb = { d->what, sizeof(d->what), 0 };
	bool times;
	int f;

	*excused = false;
	d->what[0] = 0;
	if (!result_eq(a, b)) {
		sb_printf(&sb, "result: ref ");
		fmt_result(&sb, a);
		sb_printf(&sb, ", umm ");
		fmt_result(&sb, b);
		d->sig = op->kind * 100 + F_RESULT;
		return false;
	}
	if (a->dlen != b->dlen || memcmp(a->data, b->data, a->dlen)) {
		uint32_t i = 0;

		while (i < a->dlen && i < b->dlen && a->data[i] == b->data[i])
			i++;
		sb_printf(
			&sb,
			"bytes read: ref %u, umm %u; the first difference at %u: ref %02x, umm %02x",
			a->dlen, b->dlen, i, i < a->dlen ? a->data[i] : 0,
			i < b->dlen ? b->data[i] : 0);
		d->sig = op->kind * 100 + F_DATA;
		return false;
	}
	if (a->has_fst != b->has_fst) {
		sb_printf(&sb, "fstat of the operation's file: ref %s, umm %s",
			  a->has_fst ? "ok" : "failed", b->has_fst ? "ok" : "failed");
		d->sig = op->kind * 100 + F_FST;
		return false;
	}
	if (a->has_fst) {
		sb_printf(&sb, "fstat of the operation's file after it: ");
		times = !is_unsettled(ua, a->fst.ino) && !is_unsettled(ub, b->fst.ino);
		f = fsnap_diff(&a->fst, &b->fst, times, !blocks_late(b->fst.ino), excused, &sb);
		if (f >= 0) {
			d->sig = op->kind * 100 + F_FST + f;
			return false;
		}
	}
	for (int i = 0; i < NSNAP; i++) {
		sb.len = 0;
		sb_printf(&sb, "lstat(\"%s\") after it: ", paths[i]);
		times = !(snap_a[i].err || snap_b[i].err) && !is_unsettled(ua, snap_a[i].ino) &&
			!is_unsettled(ub, snap_b[i].ino);
		f = fsnap_diff(&snap_a[i], &snap_b[i], times, !blocks_late(snap_b[i].ino), excused,
			       &sb);
		if (f >= 0) {
			d->sig = op->kind * 100 + F_PATH + f;
			return false;
		}
	}
	d->what[0] = 0;
	return true;
}

/* ---- what umm does differently by design ---- */

static bool bd_always(const struct op *op)
{
	return true;
}

static bool bd_seek_end(const struct op *op)
{
	return op->arg == SEEK_END;
}

static bool bd_not_regular(const struct op *op)
{
	return !S_ISREG(op->mode);
}

static void parent_of(char *buf, size_t size, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash)
		snprintf(buf, size, "%.*s", (int)(slash - path), path);
	else
		snprintf(buf, size, ".");
}

/* The parents of the rename's names have different constraints on umm. */
static bool bd_constraints_differ(const struct op *op)
{
	char pa[64], pb[64], fa[4200], fb[4200], va[4096], vb[4096];
	ssize_t na, nb;

	parent_of(pa, sizeof(pa), paths[op->path]);
	parent_of(pb, sizeof(pb), paths[op->path2]);
	if (!strcmp(pa, pb))
		return false;
	snprintf(fa, sizeof(fa), "%s/%s", cfg.umm.root, pa);
	snprintf(fb, sizeof(fb), "%s/%s", cfg.umm.root, pb);
	na = getxattr(fa, "user.umm.effective", va, sizeof(va));
	nb = getxattr(fb, "user.umm.effective", vb, sizeof(vb));
	return na >= 0 && nb >= 0 && (na != nb || memcmp(va, vb, (size_t)na));
}

enum { BD_LATE_BLOCKS = 0, BD_LATE_TIMES = 2 };

/*
 * The one table of umm's differences from tmpfs by design: where umm's
 * result is -1 with @err for @kind and @applies holds, the tester accepts it
 * whatever the reference did, then puts the reference back as umm left it
 * (undo_ref()). One row is of a field, not of a result (@err 0): on a umm
 * whose stats say passthrough=no (probe_passthrough_off()), st_blocks is not
 * compared for a file a mapping loaded from or stored to in the sequence.
 * Nothing else is ever accepted.
 */
static const struct by_design {
	uint8_t kind;
	bool (*applies)(const struct op *op);
	int err; /* umm's errno; 0: a row of the reference's errno, or of a field */
	int ref_err; /* the reference's errno where umm succeeds */
	const char *why;
} by_design[] = {
	/* BD_LATE_BLOCKS: not an operation's result, but st_blocks wherever compared */
	{ K_MREAD, NULL, 0, 0,
	  "st_blocks of a file loaded or stored through a mapping, without passthrough: "
	  "the pages are the kernel's page cache of the FUSE file, not the daemon's "
	  "memory, until written back (and never for loads)" },
	{ K_LSEEK, bd_seek_end, 0, EINVAL,
	  "lseek(SEEK_END) of a directory: the kernel's FUSE seeks a directory from its "
	  "st_size, tmpfs refuses" },
	{ K_MSYNC, NULL, 0, 0,
	  "msync(MS_ASYNC) without passthrough: stores through a mapping move mtime and ctime "
	  "when the kernel writes the pages back (msync(MS_SYNC), munmap, fsync, close), "
	  "not at the store" },
	{ K_LINK, bd_always, EPERM, 0,
	  "link: no hard links among buffers (a buffer has one name)" },
	{ K_SYMLINK, bd_always, EPERM, 0, "symlink: no symbolic links among buffers" },
	{ K_MKNOD, bd_not_regular, EPERM, 0,
	  "mknod of a FIFO, socket or device node: a node is a buffer or a directory" },
	{ K_RENAME, bd_constraints_differ, EXDEV, 0,
	  "rename into a directory of other constraints: a buffer stays where its constraints hold" },
};

static const struct by_design *by_design_row(const struct op *op, const struct result *r,
					     const struct result *u)
{
	bool u_failed, r_failed;

	if (u->skipped || u->lost || u->sig || r->skipped || r->lost || r->sig)
		return NULL;
	u_failed = u->ret == -1;
	r_failed = r->ret == -1;
	for (size_t i = 0; i < ARRAY_SIZE(by_design); i++) {
		const struct by_design *b = &by_design[i];

		if (b->kind != op->kind || !b->applies)
			continue;
		if ((b->err && u_failed && b->err == u->err && b->applies(op)) ||
		    (b->ref_err && r_failed && !u_failed && b->ref_err == r->err && b->applies(op)))
			return b;
	}
	return NULL;
}

/*
 * Make the reference as umm left it after an accepted difference: remove
 * the link, symlink or node the reference made. False where that cannot be
 * done (a rename the reference made): the sequence ends there.
 */
static bool undo_ref(const struct op *op, const struct result *ref)
{
	if (ref->ret != 0)
		return true;
	switch (op->kind) {
	case K_LINK:
		return !unlinkat(cfg.ref.rootfd, paths[op->path2], 0);
	case K_SYMLINK:
	case K_MKNOD:
		return !unlinkat(cfg.ref.rootfd, paths[op->path], 0);
	default:
		return false;
	}
}

/* ---- running sequences ---- */

/* The results of one run, for printing the shortest sequence. */
struct trace {
	struct result ref, umm; /* data not kept */
};

static char watch_text[512];

static void on_alarm(int sig)
{
	ssize_t n = write(STDERR_FILENO, watch_text, strlen(watch_text));

	(void)n;
	_exit(2);
}

static void watch(const struct op *op, const struct tree *t, int index)
{
	char line[256];
	struct sbuf sb = { line, sizeof(line), 0 };

	fmt_op(&sb, op);
	snprintf(
		watch_text, sizeof(watch_text),
		"\ndifftest: operation %d (%s) on %s took longer than %u s: the filesystem hangs?\n",
		index, line, t->name, OP_DEADLINE_S * cfg.time_scale);
	alarm(OP_DEADLINE_S * cfg.time_scale);
}

static void print_verbose(int i, const struct op *op, const struct result *a,
			  const struct result *b)
{
	char line[512];
	struct sbuf sb = { line, sizeof(line), 0 };

	sb_printf(&sb, "  %3d  ", i);
	fmt_op(&sb, op);
	sb_printf(&sb, "  /* ref ");
	fmt_result(&sb, a);
	sb_printf(&sb, ", umm ");
	fmt_result(&sb, b);
	sb_printf(&sb, " */");
	printf("%s\n", line);
}

/*
 * Run @ops (@n of them) on both trees from empty: 0 when every operation gave
 * the same on both, else 1 with @d. With @tr, the results go there too.
 */
static int run_seq(const struct op *ops, int n, struct diff *d, struct trace *tr, bool quiet)
{
	static struct result ra, rb;
	struct fsnap sa[NSNAP], sb[NSNAP];
	struct before ba, bb;
	struct unsettled ua, ub;
	int ret = 0;

	alarm(OP_DEADLINE_S * cfg.time_scale * 2);
	snprintf(watch_text, sizeof(watch_text), "\ndifftest: emptying the trees hangs\n");
	tree_reset(&cfg.ref);
	tree_reset(&cfg.umm);
	cfg.fifos = false;
	for (int i = 0; i < n; i++) {
		const struct by_design *bd;
		bool ok, excused;

		watch(&ops[i], &cfg.ref, i);
		tree_prep(&cfg.ref, &ops[i], &ba);
		watch(&ops[i], &cfg.umm, i);
		tree_prep(&cfg.umm, &ops[i], &bb);
		/* see the top of this file: a stamp later than every ctime read */
		if (cfg.ref.coarse || cfg.umm.coarse || ops[i].kind == K_UNLINK ||
		    ops[i].kind == K_LINK || ops[i].kind == K_RENAME) {
			struct timespec last = { 0, 0 };

			for (int k = 0; k < NSNAP; k++) {
				if (ba.had[k] && ts_after(&ba.c0[k], &last))
					last = ba.c0[k];
				if (bb.had[k] && ts_after(&bb.c0[k], &last))
					last = bb.c0[k];
			}
			coarse_wait(&last);
		}
		watch(&ops[i], &cfg.ref, i);
		tree_exec(&cfg.ref, &ops[i], &ba, &ra, sa);
		watch(&ops[i], &cfg.umm, i);
		tree_exec(&cfg.umm, &ops[i], &bb, &rb, sb);
		alarm(0);
		if (tr) {
			memcpy(&tr[i].ref, &ra, RESULT_HDR);
			memcpy(&tr[i].umm, &rb, RESULT_HDR);
		}
		if (cfg.verbose && !quiet)
			print_verbose(i, &ops[i], &ra, &rb);
		if (ops[i].kind == K_MKNOD && S_ISFIFO(ops[i].mode) && (!ra.ret || !rb.ret))
			cfg.fifos = true;
		track_maps(&cfg.ref, &ops[i], &ra, &ua);
		if (track_maps(&cfg.umm, &ops[i], &rb, &ub) && !quiet)
			cfg.by_design_hits[BD_LATE_TIMES]++;
		ok = same(&ops[i], &ra, &rb, sa, sb, &ua, &ub, d, &excused);
		if (excused && !quiet)
			cfg.by_design_hits[BD_LATE_BLOCKS]++;
		if (ok)
			continue;
		bd = by_design_row(&ops[i], &ra, &rb);
		if (bd) {
			if (!quiet)
				cfg.by_design_hits[bd - by_design]++;
			if (undo_ref(&ops[i], &ra))
				continue;
			break;
		}
		d->index = i;
		ret = 1;
		break;
	}
	alarm(0);
	return ret;
}

static void print_ops(const struct op *ops, int n, int mark, const struct trace *tr)
{
	for (int i = 0; i < n; i++) {
		char line[512];
		struct sbuf sb = { line, sizeof(line), 0 };

		sb_printf(&sb, "%s%3d  ", i == mark ? "=>" : "  ", i);
		fmt_op(&sb, &ops[i]);
		if (tr) {
			sb_printf(&sb, "  /* ref ");
			fmt_result(&sb, &tr[i].ref);
			if (!result_eq(&tr[i].ref, &tr[i].umm)) {
				sb_printf(&sb, ", umm ");
				fmt_result(&sb, &tr[i].umm);
			} else {
				sb_printf(&sb, ", umm the same");
			}
			sb_printf(&sb, " */");
		}
		printf("%s\n", line);
	}
}

/*
 * Delta debugging: drop chunks of @ops (halves first, down to single
 * operations) while a difference of the same signature still shows. The
 * operations after the differing one are dropped at once. Returns the new
 * count; @ops and @d hold the shortest sequence found and its difference.
 */
static int shrink(struct op *ops, int n, struct diff *d)
{
	struct op *cand = malloc(sizeof(*cand) * (size_t)n);
	int chunk, runs = 0;
	struct diff cd;

	if (!cand)
		die("out of memory");
	n = d->index + 1;
	chunk = n / 2 > 0 ? n / 2 : 1;
	for (;;) {
		bool dropped = false;

		for (int start = 0; start < n && n > 1;) {
			int end = start + chunk < n ? start + chunk : n, cn = 0;

			for (int i = 0; i < n; i++)
				if (i < start || i >= end)
					cand[cn++] = ops[i];
			runs++;
			if (cn && run_seq(cand, cn, &cd, NULL, true) && cd.sig == d->sig) {
				memcpy(ops, cand, sizeof(*ops) * (size_t)(cd.index + 1));
				n = cd.index + 1;
				*d = cd;
				dropped = true;
			} else {
				start = end;
			}
		}
		if (chunk == 1 && !dropped)
			break;
		if (!dropped)
			chunk /= 2;
		if (chunk > n / 2)
			chunk = n / 2 > 0 ? n / 2 : 1;
	}
	free(cand);
	printf("difftest: shrinking took %d runs\n", runs);
	return n;
}

/* Print the difference @d of sequence @s (seed @ss), shrink it, print the shortest. */
static void report(struct op *ops, unsigned long s, uint64_t ss, struct diff *d)
{
	struct trace *tr;
	int n;

	printf("difftest: DIFFERENCE in sequence %lu (seed %#" PRIx64 "), operation %d:\n", s, ss,
	       d->index);
	print_ops(ops, d->index + 1, d->index, NULL);
	printf("difftest: %s\n", d->what);
	printf("difftest: again: difftest --seed %#" PRIx64 " --seqs 1 --ops %d --procs %d "
	       "REFDIR UMMDIR\n",
	       ss, cfg.nops, cfg.nprocs);
	printf("difftest: shrinking...\n");
	n = shrink(ops, cfg.nops, d);
	tr = calloc((size_t)n, sizeof(*tr));
	if (!tr)
		die("out of memory");
	if (run_seq(ops, n, d, tr, true)) {
		printf("difftest: shortest sequence found (%d ops, from seed %#" PRIx64 "; pN: in "
		       "peer process N; an open or mmap into a slot in use closes or unmaps it "
		       "first):\n",
		       d->index + 1, ss);
		print_ops(ops, d->index + 1, d->index, tr);
		printf("difftest: operation %d differs: %s\n", d->index, d->what);
	} else {
		printf("difftest: the shortest sequence (%d ops) no longer differs (a race?):\n",
		       n);
		print_ops(ops, n, -1, tr);
	}
	free(tr);
}

/* ---- start ---- */

/*
 * Can a change leave @t's ctime as it was read just before (coarse
 * timestamps)? Twenty changes in a row each right after a stat: on a
 * filesystem with one-tick timestamps some land in the same tick.
 */
static bool probe_coarse(struct tree *t)
{
	const struct timespec t0[2] = { T0, T0 };
	bool coarse = false;
	struct stat a, b;
	int fd = openat(t->rootfd, "probe", O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		die("%s: cannot create a file: %s", t->root, strerror(errno));
	for (int i = 0; i < 20 && !coarse; i++) {
		if (futimens(fd, t0) || fstat(fd, &a) || fchmod(fd, i & 1 ? 0644 : 0640) ||
		    fstat(fd, &b))
			die("%s: probing timestamps: %s", t->root, strerror(errno));
		coarse = ts_eq(&a.st_ctim, &b.st_ctim);
	}
	close(fd);
	unlinkat(t->rootfd, "probe", 0);
	return coarse;
}

/* Does the reference take user.* xattrs (tmpfs: Linux 6.6 and later)? */
static bool probe_xattr(struct tree *t)
{
	int fd = openat(t->rootfd, "probe", O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0644);
	bool ok;

	if (fd < 0)
		die("%s: cannot create a file: %s", t->root, strerror(errno));
	ok = !fsetxattr(fd, XNAME, "x", 1, 0) || errno != EOPNOTSUPP;
	close(fd);
	unlinkat(t->rootfd, "probe", 0);
	return ok;
}

/*
 * Is @t a umm without passthrough? Its mount's root (the first directory up
 * from @t's root with user.umm.stats) says passthrough=no. A tree that is no
 * umm (tmpfs in --self runs) says nothing: false.
 */
static bool probe_passthrough_off(struct tree *t)
{
	char path[PATH_MAX], stats[1024];
	ssize_t n = -1;

	snprintf(path, sizeof(path), "%s", t->root);
	for (int up = 0; up < 16 && n < 0; up++) {
		n = getxattr(path, "user.umm.stats", stats, sizeof(stats) - 1);
		if (n < 0 && strlen(path) + 4 < sizeof(path))
			strcat(path, "/..");
	}
	if (n < 0)
		return false;
	stats[n] = 0;
	return strstr(stats, " passthrough=no") != NULL;
}

static void tree_open(struct tree *t, const char *name, const char *root)
{
	t->name = name;
	t->root = root;
	t->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->rootfd < 0)
		die("%s: %s", root, strerror(errno));
	pstate_init(&t->local, t->rootfd, root);
}

static void tree_close(struct tree *t)
{
	pstate_reset(&t->local);
	for (int i = 1; i < cfg.nprocs; i++) {
		struct msg m = { .kind = M_QUIT };

		if (!t->peer[i].pid)
			continue;
		if (io_full(t->peer[i].to, &m, sizeof(m), deadline_in(REPLY_DEADLINE_S), true))
			kill(t->peer[i].pid, SIGKILL);
		peer_end(&t->peer[i], false);
	}
	wipe(t->rootfd, t->root);
	close(t->rootfd);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: difftest [--seed N] [--ops N] [--seqs N] [--procs N] [--verbose] "
		   "[--keep-going] REFDIR UMMDIR\n"
		   "  REFDIR: an empty directory on tmpfs, UMMDIR: one on umm (both are emptied)\n"
		   "  --seed N   seed of the run (default 1); sequence 0 has this seed\n"
		   "  --ops N    operations per sequence (default 40)\n"
		   "  --seqs N   sequences (default 100)\n"
		   "  --procs N  processes per tree, the main one included (1 to 4, default 2)\n"
		   "  --verbose  print every operation with both results\n"
		   "  --keep-going  after a difference, go on with the next sequence; shrink\n"
		   "             and print each difference of a new kind (operation and field)\n");
}

static unsigned long parse_num(const char *s, const char *what, unsigned long max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v > max)
		die("bad %s '%s'", what, s);
	return (unsigned long)v;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "seed", required_argument, NULL, 's' }, { "ops", required_argument, NULL, 'o' },
		{ "seqs", required_argument, NULL, 'n' }, { "procs", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },	  { "keep-going", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },	  { NULL, 0, NULL, 0 },
	};
	unsigned long seqs = 100, total_ops = 0, nrun = 0, ndiffs = 0;
	int kinds_seen[64], nkinds = 0;
	bool keep_going = false;
	uint64_t seed = 1;
	struct sigaction sa = { 0 };
	struct stat sr, su;
	struct statfs sf;
	struct op *ops;
	const char *scale;
	int c;

	while ((c = getopt_long(argc, argv, "s:o:n:p:vkh", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			seed = parse_num(optarg, "seed", ULONG_MAX);
			break;
		case 'o':
			cfg.nops = (int)parse_num(optarg, "op count", MAX_OPS);
			break;
		case 'n':
			seqs = parse_num(optarg, "sequence count", ULONG_MAX);
			break;
		case 'p':
			cfg.nprocs = (int)parse_num(optarg, "process count", MAX_PROCS);
			if (cfg.nprocs < 1)
				die("--procs must be 1 to %d", MAX_PROCS);
			break;
		case 'v':
			cfg.verbose = true;
			break;
		case 'k':
			keep_going = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	scale = getenv("UMM_TIME_SCALE");
	if (scale && *scale)
		cfg.time_scale = (unsigned int)parse_num(scale, "UMM_TIME_SCALE", 1000);
	if (!cfg.time_scale)
		cfg.time_scale = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	umask(022);

	sa.sa_handler = on_fault;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	tree_open(&cfg.ref, "ref", argv[optind]);
	tree_open(&cfg.umm, "umm", argv[optind + 1]);
	if (fstat(cfg.ref.rootfd, &sr) || fstat(cfg.umm.rootfd, &su))
		die("stat: %s", strerror(errno));
	if (sr.st_dev == su.st_dev && sr.st_ino == su.st_ino)
		die("REFDIR and UMMDIR are one directory");
	if (!fstatfs(cfg.ref.rootfd, &sf) && sf.f_type != TMPFS_MAGIC)
		printf("difftest: note: the reference %s is not on tmpfs (f_type %#lx)\n",
		       cfg.ref.root, (unsigned long)sf.f_type);
	if (wipe(cfg.ref.rootfd, cfg.ref.root) || wipe(cfg.umm.rootfd, cfg.umm.root))
		die("cannot empty the trees");
	cfg.ref.coarse = probe_coarse(&cfg.ref);
	cfg.umm.coarse = probe_coarse(&cfg.umm);
	for (int i = 0; i < 2; i++) {
		struct tree *t = i ? &cfg.umm : &cfg.ref;

		if (t->coarse)
			printf("difftest: note: %s has coarse timestamps: each operation waits "
			       "for the coarse clock\n",
			       t->name);
	}
	cfg.umm.no_passthrough = probe_passthrough_off(&cfg.umm);
	if (cfg.umm.no_passthrough)
		printf("difftest: note: %s is a umm without passthrough: st_blocks of files "
		       "touched through a mapping is not compared (see by_design[])\n",
		       cfg.umm.root);
	cfg.xattr = probe_xattr(&cfg.ref);
	if (!cfg.xattr)
		printf("difftest: note: the reference refuses user.* xattrs (tmpfs before "
		       "Linux 6.6): setxattr, getxattr and removexattr are left out\n");

	ops = malloc(sizeof(*ops) * (size_t)(cfg.nops ? cfg.nops : 1));
	if (!ops)
		die("out of memory");
	printf("difftest: seed %#" PRIx64 ", %lu sequences of %d ops, %d processes per tree\n",
	       seed, seqs, cfg.nops, cfg.nprocs);
	for (unsigned long s = 0; s < seqs; s++) {
		uint64_t ss = seq_seed(seed, s);
		struct rng r = { ss };
		struct shadow sh = { 0 };
		struct diff d;
		int seen;

		nrun++;
		for (int i = 0; i < cfg.nops; i++)
			gen_op(&r, &sh, &ops[i]);
		if (cfg.verbose)
			printf("difftest: sequence %lu, seed %#" PRIx64 "\n", s, ss);
		if (!run_seq(ops, cfg.nops, &d, NULL, false)) {
			total_ops += (unsigned long)cfg.nops;
			continue;
		}
		total_ops += (unsigned long)d.index + 1;
		ndiffs++;
		for (seen = 0; seen < nkinds && kinds_seen[seen] != d.sig; seen++)
			;
		if (seen < nkinds) {
			printf("difftest: sequence %lu (seed %#" PRIx64 "), operation %d: %s "
			       "(like difference %d)\n",
			       s, ss, d.index, d.what, seen + 1);
			continue;
		}
		if (nkinds < (int)ARRAY_SIZE(kinds_seen))
			kinds_seen[nkinds++] = d.sig;
		report(ops, s, ss, &d);
		if (!keep_going)
			break;
	}
	tree_close(&cfg.ref);
	tree_close(&cfg.umm);
	for (size_t i = 0; i < ARRAY_SIZE(by_design); i++)
		if (cfg.by_design_hits[i])
			printf("difftest: by design, %lu times: %s\n", cfg.by_design_hits[i],
			       by_design[i].why);
	if (ndiffs && keep_going)
		printf("difftest: %d distinct differences (by operation and field)\n", nkinds);
	printf("difftest: %lu sequences, %lu ops, %lu difference%s\n", nrun, total_ops, ndiffs,
	       ndiffs == 1 ? "" : "s");
	free(ops);
	return ndiffs ? 1 : 0;
}
