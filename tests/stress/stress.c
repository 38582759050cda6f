// SPDX-License-Identifier: MIT
/*
 * stress.c - many client processes against one umm-fs mount (issue 6, item 1).
 *
 * Usage: stress [-p PROCS] [-t SECONDS] [-s SEED]
 * Environment (from tests/integration/run-mounted.sh): UMM_MNT, UMM_FS_PID.
 *
 * The parent makes UMM_MNT/stress/shared and one private dir per process, each
 * with three sized subdirs (user.umm.size 4096, 20000, 65536) besides the plain
 * dir, then forks PROCS clients in a ring of socketpairs. For SECONDS each
 * client does, chosen by its own PRNG (seed, index): creates (in sized dirs,
 * sized by ftruncate and mapped through the creating fd or a new one, or
 * grown by writes; in its private dir, or in the shared one under a dot-name
 * renamed into place once written), reads (mmap of the FUSE fd, which works
 * in every mode, or pread), rewrites of its own private buffers, resizes,
 * exports (umm_open/umm_export), fd passing to the next process of the ring
 * over SCM_RIGHTS (the receiver maps and verifies), renames within shared,
 * from private to shared and from shared to private, unlinks, and holds of
 * mappings across other operations.
 *
 * Every buffer starts with a 64-byte header (magic, key = hash of the name it
 * was created under, generation, length, checksum of the body, that name); the
 * body is a stream derived from (seed, key, generation). Every read checks the
 * header against the buffer's size, the body's checksum against the header, and
 * the header's checksum against the one derived from (seed, key, generation):
 * a torn, stale, shifted or foreign buffer fails.
 *
 * Only the writer ever writes or resizes a buffer, and only while nobody else
 * can reach it: in its private dir before it is published, passed or adopted
 * ("frozen", for good), or under a dot-name in the shared dir that others
 * skip. So every check is exact, and no mapping of another process ever
 * outlives the size it was made for.
 *
 * The life cycle it holds the daemon to: a buffer's size is fixed from its
 * first export on (a resize gets EBUSY), and until then any resize works,
 * whoever holds it open or mapped, as on tmpfs: a client's own mapping of a
 * buffer it shrinks keeps the bytes kept, reads zeros in the cut part of the
 * last page and faults with SIGBUS past it (counted as expected). A sized
 * directory's buffer is reallocated by a resize only while nobody holds it
 * (else EBUSY).
 *
 * Expected errors (counted, not failures): ENOENT on a shared name (a sibling
 * renamed or unlinked it since the readdir), EBUSY for a resize of an exported
 * buffer, of a sized directory's buffer held open (by this client, or whose
 * last close the kernel has not reported yet), and for an export that must
 * copy (a heap of another kind) while another fd holds the buffer, EAGAIN for
 * a full socket, SIGBUS past the end of a shrunk mapping. Anything else is a
 * failure; so is a resize that succeeds on a buffer this process exported or
 * on a sized one it holds, a resize of a growable buffer that fails, a resize
 * that loses bytes, and a mapping that reads past a new end.
 *
 * At the end (children reaped) the parent checks every remaining buffer, that
 * the root's user.umm.used_bytes is the sum of the page-rounded sizes (polled:
 * releases are asynchronous), removes everything, and polls until used_bytes
 * and user.umm.stats buffers= are 0, the daemon's fd count is back to its
 * baseline exactly and its VmRSS within RSS_SLACK of its baseline.
 * Exit 0 when nothing failed, 1 otherwise, 77 without UMM_MNT's mount.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <umm.h>

#define PAGE 4096UL
#define MAGIC 0x756d6d5354524553ULL /* "ummSTRES" */
#define HDR 64
#define MAX_PROCS 64
#define MAX_PRIV 24 /* own buffers a client keeps in its private dir */
#define MAX_HOLD 4 /* mappings a client holds across operations */
#define SHARED_HIGH 12 /* per process: above this, shared names get unlinked */
#define POLL_MS 5000 /* bounded polling for asynchronous releases, times g_scale */
#define RSS_SLACK_KB 4096
#define MAX_ERRNO 134
#define MAX_MSGS 20 /* failure messages printed per process */

static const char *const subdirs[] = { "", "z0", "z1", "z2" };
static const char *const subsizes[] = { NULL, "4096", "20000", "65536" };
#define NSUB 4

enum op {
	OP_CREATE,
	OP_MAP,
	OP_READ,
	OP_REWRITE,
	OP_RESIZE,
	OP_EXPORT,
	OP_SEND,
	OP_RECV,
	OP_PUBLISH,
	OP_ADOPT,
	OP_RENAME,
	OP_UNLINK,
	OP_HOLD,
	NOPS
};
static const char *const op_names[NOPS] = {
	"create", "map",     "read",  "rewrite", "resize", "export", "send",
	"recv",	  "publish", "adopt", "rename",	 "unlink", "hold",
};

struct counters {
	uint64_t ops[NOPS];
	uint64_t expected[MAX_ERRNO];
	uint64_t sigbus; /* expected: a held mapping read past the end it was shrunk to */
	uint64_t failures;
	int done;
};

struct hdr {
	uint64_t magic;
	uint64_t key;
	uint64_t gen;
	uint64_t len;
	uint64_t sum;
	char name[24];
};

/* One buffer of a client's private dir. */
struct priv {
	char name[24];
	int dir;
	uint64_t key, gen, len;
	int exported; /* 1: this process exported it (its size is fixed); 2: perhaps someone did */
	int frozen; /* passed or adopted: others may hold it, for good */
	int held; /* mappings of it in the hold list */
};

struct hold {
	void *map;
	size_t len;
	int fd;
	int stale; /* the buffer was resized under it: its bytes are no longer (key, gen) */
	uint64_t key, gen;
	char name[24];
};

static uint64_t g_seed = 1;
static unsigned g_scale = 1; /* how much longer every deadline is: time_scale() */
static const char *g_mnt;
static char g_top[4096];
static struct counters *g_cnt; /* shared with the parent, one per process + parent */

/* The client's state. */
static struct counters *me;
static int me_idx;
static uint64_t rng_state;
static struct priv privs[MAX_PRIV];
static int npriv;
static struct hold holds[MAX_HOLD];
static int nhold;
static unsigned serial;
static int sock_out = -1, sock_in = -1;
static double g_deadline; /* when every process stops (child()) */

/*
 * How many times longer than usual to wait: UMM_TIME_SCALE (a positive
 * integer), else 10 when UMM_FS_WRAPPER runs the daemon under valgrind,
 * else 1 (as tests/integration/itest.h).
 */
static unsigned time_scale(void)
{
	const char *v = getenv("UMM_TIME_SCALE"), *w = getenv("UMM_FS_WRAPPER");
	char *end;
	unsigned long n;

	if (v && *v) {
		errno = 0;
		n = strtoul(v, &end, 10);
		if (!errno && !*end && n > 0 && n <= 1000)
			return (unsigned)n;
	}
	return w && strstr(w, "valgrind") ? 10 : 1;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t n)
{
	return n ? splitmix(&rng_state) % n : 0;
}

static uint64_t name_key(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ULL;
	return h;
}

static uint64_t sum_step(uint64_t sum, uint64_t w)
{
	return (sum ^ w) * 0x100000001b3ULL + 0x9e37;
}

/* The body stream of (seed, key, gen): word i at offset HDR + 8i. */
static uint64_t stream_start(uint64_t key, uint64_t gen)
{
	return g_seed ^ (key * 0x2545f4914f6cdd1dULL) ^ (gen * 0x9e3779b97f4a7c15ULL);
}

/* Checksum of the body of a buffer of length @len derived from (key, gen). */
static uint64_t expected_sum(uint64_t key, uint64_t gen, uint64_t len)
{
	uint64_t s = stream_start(key, gen), sum = 0;
	size_t body = len - HDR, i;

	for (i = 0; i + 8 <= body; i += 8)
		sum = sum_step(sum, splitmix(&s));
	if (i < body) {
		uint64_t w = splitmix(&s), t = 0;

		memcpy(&t, &w, body - i);
		sum = sum_step(sum, t);
	}
	return sum;
}

static uint64_t body_sum(const uint8_t *p, size_t len)
{
	size_t body = len - HDR, i;
	uint64_t sum = 0, w;

	p += HDR;
	for (i = 0; i + 8 <= body; i += 8) {
		memcpy(&w, p + i, 8);
		sum = sum_step(sum, w);
	}
	if (i < body) {
		w = 0;
		memcpy(&w, p + i, body - i);
		sum = sum_step(sum, w);
	}
	return sum;
}

/* Fill @p (@len bytes) with the content of (name, gen). */
static void fill(uint8_t *p, size_t len, const char *name, uint64_t gen)
{
	struct hdr h = { .magic = MAGIC, .key = name_key(name), .gen = gen, .len = len };
	uint64_t s = stream_start(h.key, gen), w;
	size_t body = len - HDR, i;

	snprintf(h.name, sizeof(h.name), "%s", name);
	for (i = 0; i + 8 <= body; i += 8) {
		w = splitmix(&s);
		memcpy(p + HDR + i, &w, 8);
	}
	if (i < body) {
		w = splitmix(&s);
		memcpy(p + HDR + i, &w, body - i);
	}
	h.sum = body_sum(p, len);
	memcpy(p, &h, sizeof(h));
}

static void failure(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failure(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (me->failures++ >= MAX_MSGS)
		return;
	n = snprintf(line, sizeof(line), "stress[%d]: FAIL: ", me_idx);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	/* One write per line: the clients share stderr. */
	if (write(STDERR_FILENO, line, strlen(line)) < 0)
		return;
}

/* Count errno @e as expected when it is in the 0-terminated list, else fail. */
static int expect(int e, const char *what, const char *path, ...)
{
	va_list ap;
	int x;

	va_start(ap, path);
	while ((x = va_arg(ap, int)) != 0) {
		if (x == e) {
			va_end(ap);
			me->expected[e < MAX_ERRNO ? e : 0]++;
			return 0;
		}
	}
	va_end(ap);
	failure("%s %s: %s", what, path, strerror(e));
	return -1;
}

/*
 * Check the content at @p (@len bytes, the buffer's size). With @key non-zero,
 * the header must name that key and generation. Return 0 or -1 (failed).
 */
static int verify(const uint8_t *p, size_t len, uint64_t key, uint64_t gen, const char *what)
{
	struct hdr h;

	if (len < HDR) {
		failure("%s: size %zu below the header", what, len);
		return -1;
	}
	memcpy(&h, p, sizeof(h));
	h.name[sizeof(h.name) - 1] = 0;
	if (h.magic != MAGIC) {
		failure("%s: bad magic %#" PRIx64 " (size %zu)", what, h.magic, len);
		return -1;
	}
	if (h.len != len || h.key != name_key(h.name) || (key && (h.key != key || h.gen != gen))) {
		failure("%s: header len %" PRIu64 " key %#" PRIx64 " gen %" PRIu64
			" name %s, expected len %zu key %#" PRIx64 " gen %" PRIu64,
			what, h.len, h.key, h.gen, h.name, len, key, gen);
		return -1;
	}
	if (body_sum(p, len) != h.sum) {
		failure("%s: checksum of the body differs from the header's (%s gen %" PRIu64 ")",
			what, h.name, h.gen);
		return -1;
	}
	if (expected_sum(h.key, h.gen, len) != h.sum) {
		failure("%s: checksum is not the one of (seed, %s, gen %" PRIu64 ")", what, h.name,
			h.gen);
		return -1;
	}
	return 0;
}

/*
 * Map @len bytes of the FUSE fd @fd: every fd of a memfd-backed buffer maps,
 * in every mode. Return the mapping or MAP_FAILED with errno set.
 */
static void *map_fd(int fd, size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, 0);

	if (p != MAP_FAILED)
		me->ops[OP_MAP]++;
	return p;
}

static sigjmp_buf probe_env;

static void probe_sigbus(int sig)
{
	(void)sig;
	siglongjmp(probe_env, 1);
}

/* Read the byte at @p into *@v: 0, or 1 when the read faults with SIGBUS. */
static int read_faults(const volatile uint8_t *p, uint8_t *v)
{
	struct sigaction sa = { .sa_handler = probe_sigbus }, old;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(probe_env, 1)) {
		sigaction(SIGBUS, &old, NULL);
		return 1;
	}
	*v = *p;
	sigaction(SIGBUS, &old, NULL);
	return 0;
}

static void path_of(char *out, size_t n, const char *base, int dir, const char *name)
{
	int r;

	if (*subdirs[dir])
		r = snprintf(out, n, "%s/%s/%s", base, subdirs[dir], name);
	else
		r = snprintf(out, n, "%s/%s", base, name);
	if (r < 0 || (size_t)r >= n)
		abort(); /* paths are short: the mount point and a few short names */
}

static char shared_dir[4200], priv_dir[4200];

static void priv_path(char *out, size_t n, const struct priv *b)
{
	path_of(out, n, priv_dir, b->dir, b->name);
}

/* Read the buffer open as @fd (size @len) by a mapping or by pread, and verify. */
static int read_verify_fd(int fd, size_t len, uint64_t key, uint64_t gen, const char *what,
			  int use_map)
{
	uint8_t *p;
	int rc;

	if (use_map) {
		p = map_fd(fd, len, PROT_READ);
		if (p == MAP_FAILED)
			return -errno;
		rc = verify(p, len, key, gen, what);
		munmap(p, len);
	} else {
		ssize_t r;
		size_t off = 0;

		p = malloc(len);
		if (!p)
			return -ENOMEM;
		while (off < len) {
			r = pread(fd, p + off, len - off, (off_t)off);
			if (r < 0) {
				rc = -errno;
				free(p);
				return rc;
			}
			if (r == 0)
				break;
			off += (size_t)r;
		}
		if (off != len) {
			failure("%s: read %zu of %zu bytes", what, off, len);
			free(p);
			return -1;
		}
		rc = verify(p, len, key, gen, what);
		free(p);
	}
	me->ops[OP_READ]++;
	return rc;
}

/* Write the content of (name, gen) into @fd (@len bytes), mapped or by pwrite. */
static int write_fd(int fd, size_t len, const char *name, uint64_t gen, int use_map)
{
	uint8_t *p;

	if (use_map) {
		p = map_fd(fd, len, PROT_READ | PROT_WRITE);
		if (p == MAP_FAILED)
			return -errno;
		fill(p, len, name, gen);
		munmap(p, len);
	} else {
		size_t off = 0, chunk;
		ssize_t r;

		p = malloc(len);
		if (!p)
			return -ENOMEM;
		fill(p, len, name, gen);
		while (off < len) {
			chunk = 1 + rnd(len - off < 40000 ? len - off : 40000);
			r = pwrite(fd, p + off, chunk, (off_t)off);
			if (r <= 0) {
				r = r < 0 ? -errno : -EIO;
				free(p);
				return (int)r;
			}
			off += (size_t)r;
		}
		free(p);
	}
	return 0;
}

static int fsize(int fd, size_t *len)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	*len = (size_t)st.st_size;
	return 0;
}

/*
 * Create a buffer named @name under @base/subdirs[@dir] and write generation 0.
 * Kind by dir: sized dirs size it at creation; in the plain dir it is sized by
 * ftruncate (then mapped through the creating fd, as with shm_open, or
 * through a new open) or grown by pwrite.
 * Return 0 with *@len set, or -1 (failure reported).
 */
static int create_buffer(const char *base, int dir, const char *name, const char *content_name,
			 size_t *lenp)
{
	char path[4400];
	size_t len = 0;
	int fd, rc, kind = dir ? 0 : 1 + (int)rnd(2);

	path_of(path, sizeof(path), base, dir, name);
	fd = open(path, O_CREAT | O_EXCL | (kind == 2 ? O_WRONLY : O_RDWR) | O_CLOEXEC, 0644);
	if (fd < 0) {
		failure("create %s: %s", path, strerror(errno));
		return -1;
	}
	me->ops[OP_CREATE]++;
	if (kind == 0) {
		rc = fsize(fd, &len);
		if (!rc)
			rc = write_fd(fd, len, content_name, 0, 1);
	} else if (kind == 1) {
		len = HDR + rnd(128 * 1024);
		rc = ftruncate(fd, (off_t)len) < 0 ? -errno : 0;
		if (!rc && rnd(2)) {
			close(fd);
			fd = open(path, O_RDWR | O_CLOEXEC);
			rc = fd < 0 ? -errno : 0;
		}
		if (!rc)
			rc = write_fd(fd, len, content_name, 0, 1);
	} else {
		len = HDR + rnd(64 * 1024);
		rc = write_fd(fd, len, content_name, 0, 0);
	}
	if (fd >= 0)
		close(fd);
	if (rc) {
		if (rc != -1)
			failure("write %s (kind %d, %zu bytes): %s", path, kind, len,
				strerror(-rc));
		return -1;
	}
	*lenp = len;
	return 0;
}

static int find_priv_by_key(uint64_t key)
{
	int i;

	for (i = 0; i < npriv; i++)
		if (privs[i].key == key)
			return i;
	return -1;
}

static void drop_priv(int i)
{
	privs[i] = privs[--npriv];
}

static void op_create(void)
{
	char name[24], tmp[24], from[4400], to[4400];
	int dir = (int)rnd(NSUB);
	size_t len = 0;

	snprintf(name, sizeof(name), "b%d-%u", me_idx, serial++);
	if (npriv < MAX_PRIV && rnd(3)) {
		if (create_buffer(priv_dir, dir, name, name, &len))
			return;
		privs[npriv] = (struct priv){ .dir = dir, .key = name_key(name), .len = len };
		snprintf(privs[npriv].name, sizeof(privs[npriv].name), "%s", name);
		npriv++;
		return;
	}
	/* In the shared dir under a dot-name nobody else touches, then renamed. */
	snprintf(tmp, sizeof(tmp), ".w%d-%u", me_idx, serial - 1);
	if (create_buffer(shared_dir, dir, tmp, name, &len))
		return;
	path_of(from, sizeof(from), shared_dir, dir, tmp);
	path_of(to, sizeof(to), shared_dir, (int)rnd(NSUB), name);
	if (rename(from, to) < 0)
		failure("rename %s -> %s: %s", from, to, strerror(errno));
	else
		me->ops[OP_RENAME]++;
}

/*
 * Open and check an own private buffer; perhaps keep the mapping (a hold), or
 * export it (which fixes its size for good).
 */
static void op_read_priv(void)
{
	struct priv *b = &privs[rnd(npriv)];
	char path[4400], what[4500];
	size_t len = 0;
	int fd, rc, ro = (int)rnd(2);
	void *p;

	priv_path(path, sizeof(path), b);
	snprintf(what, sizeof(what), "read %s", path);
	fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		failure("open %s: %s", path, strerror(errno));
		return;
	}
	rc = fsize(fd, &len);
	if (!rc && len != b->len) {
		failure("%s: size %zu, expected %" PRIu64, path, len, b->len);
		close(fd);
		return;
	}
	if (!rc && nhold < MAX_HOLD && !rnd(4)) {
		/* A hold: map, check, and keep fd and mapping for a while. */
		p = map_fd(fd, len, PROT_READ);
		if (p == MAP_FAILED) {
			failure("map %s: %s", path, strerror(errno));
			close(fd);
			return;
		}
		verify(p, len, b->key, b->gen, what);
		me->ops[OP_READ]++;
		me->ops[OP_HOLD]++;
		holds[nhold++] = (struct hold){
			.map = p, .len = len, .fd = fd, .key = b->key, .gen = b->gen
		};
		snprintf(holds[nhold - 1].name, sizeof(holds[0].name), "%s", b->name);
		b->held++;
		return;
	}
	if (!rc && !rnd(8)) {
		/* Its first export (or another): from now on its size is fixed. */
		int xfd = umm_export(fd);

		if (xfd < 0) {
			/* a heap that copies refuses while another fd holds it */
			expect(errno, "umm_export", path, EBUSY, 0);
		} else {
			me->ops[OP_EXPORT]++;
			b->exported = 1;
			rc = read_verify_fd(xfd, len, b->key, b->gen, what, 1);
			close(xfd);
			close(fd);
			if (rc < -1)
				failure("%s (exported fd): %s", what, strerror(-rc));
			return;
		}
	}
	if (!rc)
		rc = read_verify_fd(fd, len, b->key, b->gen, what, (int)rnd(2));
	if (rc < -1)
		failure("%s: %s", what, strerror(-rc));
	close(fd);
}

static void release_hold(int i)
{
	struct hold *h = &holds[i];
	char what[100];
	int j;

	snprintf(what, sizeof(what), "held mapping of %s", h->name);
	if (!h->stale) {
		verify(h->map, h->len, h->key, h->gen, what);
		me->ops[OP_READ]++;
	}
	munmap(h->map, h->len);
	close(h->fd);
	j = find_priv_by_key(h->key);
	if (j >= 0 && privs[j].held)
		privs[j].held--;
	holds[i] = holds[--nhold];
}

/* Rewrite an own private buffer that nobody else can hold: generation + 1. */
static int rewrite(struct priv *b)
{
	char path[4400];
	int fd, rc, use_map = (int)rnd(2);

	priv_path(path, sizeof(path), b);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		failure("open %s for rewrite: %s", path, strerror(errno));
		return -1;
	}
	rc = write_fd(fd, b->len, b->name, b->gen + 1, use_map);
	close(fd);
	if (rc) {
		failure("rewrite %s: %s", path, strerror(-rc));
		return -1;
	}
	/* The content's name is the buffer's first name: the key stays. */
	b->gen++;
	me->ops[OP_REWRITE]++;
	return 0;
}

static void op_rewrite(void)
{
	struct priv *b = &privs[rnd(npriv)];

	/* Only while nobody else can reach it, and not under a mapping we hold. */
	if (!b->frozen && !b->held)
		rewrite(b);
}

/*
 * The holds of @b, a buffer this process just resized from @oldlen (bytes
 * @old) to @newlen by path, under its own mappings: as on tmpfs, they keep
 * the bytes kept, read zeros in the cut part of the new last page, and fault
 * (SIGBUS) on a page past the new end. They are stale from now on.
 */
static void check_holds_after_resize(const struct priv *b, const uint8_t *old, size_t oldlen,
				     size_t newlen)
{
	size_t keep = newlen < oldlen ? newlen : oldlen;
	size_t end_page = (newlen + PAGE - 1) / PAGE * PAGE;
	uint8_t v;

	for (int i = 0; i < nhold; i++) {
		struct hold *h = &holds[i];

		if (h->key != b->key || h->stale)
			continue;
		h->stale = 1;
		if (h->len != oldlen) {
			failure("held mapping of %s: %zu bytes, the buffer had %zu", h->name,
				h->len, oldlen);
			continue;
		}
		if (memcmp(h->map, old, keep))
			failure("held mapping of %s lost bytes when resized from %zu to %zu",
				h->name, oldlen, newlen);
		if (newlen >= oldlen)
			continue;
		if (newlen % PAGE && read_faults((uint8_t *)h->map + newlen, &v))
			failure("held mapping of %s: SIGBUS at %zu, inside the new last page",
				h->name, newlen);
		else if (newlen % PAGE && v)
			failure("held mapping of %s: byte %zu, cut by the resize, reads %#x",
				h->name, newlen, v);
		if (end_page < h->len) {
			if (read_faults((uint8_t *)h->map + end_page, &v))
				me->sigbus++;
			else
				failure("held mapping of %s: reading at %zu, past the new end %zu, "
					"gave no SIGBUS",
					h->name, end_page, newlen);
		}
	}
}

/*
 * Resize an own private buffer by path. Its size is fixed once exported
 * (EBUSY); before that a resize of a buffer of the plain dir works, even
 * under this client's own mappings; one of a sized dir is reallocated only
 * while nobody holds it open. A frozen buffer that may be held elsewhere is
 * resized only where that must fail.
 */
static void op_resize(void)
{
	int j = nhold && !rnd(3) ? find_priv_by_key(holds[rnd((uint64_t)nhold)].key) : -1;
	/*
	 * A third of the time, one of the plain dir this client holds mapped:
	 * the tmpfs case (one of a sized dir held costs the daemon's wait for
	 * a release, a second, before its EBUSY).
	 */
	struct priv *b = &privs[j >= 0 && !privs[j].dir ? j : (int)rnd(npriv)];
	size_t newlen = HDR + rnd(128 * 1024), keep, off;

	/* a real change: a truncate to the same size changes nothing and may succeed */
	if (newlen == b->len)
		newlen += 4096;
	char path[4400];
	uint64_t oldlen = b->len, oldgen = b->gen;
	uint8_t *old, *cur;
	int fd, e;

	/* Others may map it and nobody knows whether it was exported: leave it. */
	if (b->frozen && b->exported != 1)
		return;
	priv_path(path, sizeof(path), b);
	old = malloc(oldlen);
	if (!old) {
		failure("malloc %" PRIu64 ": %s", oldlen, strerror(errno));
		return;
	}
	fill(old, oldlen, b->name, oldgen); /* b->name is the content's first name */
	if (truncate(path, (off_t)newlen) < 0) {
		e = errno;
		if (e != EBUSY)
			failure("truncate %s to %zu: %s", path, newlen, strerror(e));
		else if (b->exported == 1 || b->dir)
			/* exported; or sized and held, or its last close not reported yet */
			expect(e, "resize", path, EBUSY, 0);
		else
			failure("truncate %s from %" PRIu64 " to %zu: EBUSY for a buffer never "
				"exported",
				path, oldlen, newlen);
		free(old);
		return;
	}
	me->ops[OP_RESIZE]++;
	if (b->exported == 1 || (b->dir && b->held)) {
		failure("truncate %s from %" PRIu64 " to %zu succeeded on a buffer %s", path,
			oldlen, newlen,
			b->exported == 1 ? "this process exported" :
					   "of a sized dir this process holds open");
		for (int i = 0; i < nhold; i++)
			if (holds[i].key == b->key)
				holds[i].stale = 1;
		b->len = newlen;
		if (b->frozen) {
			/* others may hold it: never written again */
			free(old);
			return;
		}
	} else if (b->held) {
		/* under our own mappings (plain dir only), as on tmpfs */
		check_holds_after_resize(b, old, oldlen, newlen);
	}
	b->len = newlen;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		failure("open %s after resize: %s", path, strerror(errno));
		free(old);
		return;
	}
	cur = map_fd(fd, newlen, PROT_READ);
	if (cur == MAP_FAILED) {
		failure("map %s after resize: %s", path, strerror(errno));
		free(old);
		close(fd);
		return;
	}
	keep = newlen < oldlen ? newlen : oldlen;
	if (memcmp(cur, old, keep) != 0)
		failure("resize of %s from %" PRIu64 " to %zu lost bytes", path, oldlen, newlen);
	for (off = keep; off < newlen; off++)
		if (cur[off]) {
			failure("resize of %s: byte %zu past the old end is %#x", path, off,
				cur[off]);
			break;
		}
	me->ops[OP_READ]++;
	munmap(cur, newlen);
	close(fd);
	free(old);
	rewrite(b);
}

struct msg {
	uint64_t key, gen, len;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Pass an own private buffer's fd (FUSE or exported) to the next process. */
static void op_send(void)
{
	struct priv *b = &privs[rnd(npriv)];
	char path[4400], cbuf[CMSG_SPACE(sizeof(int))];
	struct msg m = { .key = b->key, .gen = b->gen, .len = b->len };
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int fd, xfd = -1, sfd;

	if (sock_out < 0)
		return;
	priv_path(path, sizeof(path), b);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		failure("open %s to send: %s", path, strerror(errno));
		return;
	}
	sfd = fd;
	if (rnd(2)) {
		xfd = umm_export(fd);
		if (xfd < 0) {
			if (errno == EBUSY)
				expect(EBUSY, "export", path, EBUSY, 0);
			else
				failure("umm_export %s: %s", path, strerror(errno));
			close(fd);
			return;
		}
		me->ops[OP_EXPORT]++;
		b->exported = 1;
		sfd = xfd;
	}
	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &sfd, sizeof(int));
	if (sendmsg(sock_out, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/*
		 * EPIPE: the next process is gone; it leaves at the deadline,
		 * which may have passed since this operation began.
		 */
		if (!(errno == EPIPE && now() >= g_deadline))
			expect(errno, "sendmsg", path, EAGAIN, 0);
	} else {
		me->ops[OP_SEND]++;
		b->frozen = 1;
	}
	if (xfd >= 0)
		close(xfd);
	close(fd);
}

/* Map and check every fd the previous process passed. */
static void drain_recv(void)
{
	char cbuf[CMSG_SPACE(sizeof(int))], what[100];
	struct msg m;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t r;
	size_t len = 0;
	int fd, rc;

	if (sock_in < 0)
		return;
	for (;;) {
		mh = (struct msghdr){ .msg_iov = &iov,
				      .msg_iovlen = 1,
				      .msg_control = cbuf,
				      .msg_controllen = sizeof(cbuf) };
		r = recvmsg(sock_in, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (r < 0) {
			if (errno != EAGAIN)
				failure("recvmsg: %s", strerror(errno));
			return;
		}
		if (r == 0)
			return;
		c = CMSG_FIRSTHDR(&mh);
		if (r != sizeof(m) || !c || c->cmsg_type != SCM_RIGHTS) {
			failure("recvmsg: %zd bytes, %s fd", r, c ? "an" : "no");
			return;
		}
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
		me->ops[OP_RECV]++;
		snprintf(what, sizeof(what), "received fd (key %#" PRIx64 ")", m.key);
		rc = fsize(fd, &len);
		if (!rc && len != m.len)
			failure("%s: size %zu, sent as %" PRIu64, what, len, m.len);
		else if (!rc)
			rc = read_verify_fd(fd, len, m.key, m.gen, what, 1);
		if (rc < -1)
			failure("%s: %s", what, strerror(-rc));
		close(fd);
	}
}

static void op_publish(void)
{
	int i = (int)rnd(npriv);
	struct priv *b = &privs[i];
	char from[4400], to[4400];

	priv_path(from, sizeof(from), b);
	path_of(to, sizeof(to), shared_dir, (int)rnd(NSUB), b->name);
	if (rename(from, to) < 0) {
		failure("rename %s -> %s: %s", from, to, strerror(errno));
		return;
	}
	me->ops[OP_PUBLISH]++;
	drop_priv(i);
}

static void op_unlink_priv(void)
{
	int i = (int)rnd(npriv);
	char path[4400];

	if (privs[i].held)
		return;
	priv_path(path, sizeof(path), &privs[i]);
	if (unlink(path) < 0) {
		failure("unlink %s: %s", path, strerror(errno));
		return;
	}
	me->ops[OP_UNLINK]++;
	drop_priv(i);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Pick a name in shared/subdirs[@dir] (sorted, dot-names skipped) into @out.
 * Return the number of names there, 0 when empty.
 */
static int pick_shared(int dir, char *out, size_t n)
{
	char path[4400];
	char *names[1024];
	int cnt = 0, i;
	struct dirent *d;
	DIR *dp;

	path_of(path, sizeof(path), shared_dir, dir, "");
	dp = opendir(path);
	if (!dp) {
		failure("opendir %s: %s", path, strerror(errno));
		return 0;
	}
	while ((d = readdir(dp)) && cnt < 1024) {
		if (d->d_name[0] == '.' || d->d_name[0] != 'b')
			continue;
		names[cnt++] = strdup(d->d_name);
	}
	closedir(dp);
	if (cnt) {
		qsort(names, (size_t)cnt, sizeof(names[0]), cmp_str);
		snprintf(out, n, "%s", names[rnd((uint64_t)cnt)]);
	}
	for (i = 0; i < cnt; i++)
		free(names[i]);
	return cnt;
}

static int shared_count(void)
{
	char dummy[256];
	int dir, n = 0;

	for (dir = 0; dir < NSUB; dir++)
		n += pick_shared(dir, dummy, sizeof(dummy));
	return n;
}

static void op_shared(int procs)
{
	char name[256], path[4400], to[4400], newname[24], what[4500];
	int dir = (int)rnd(NSUB), k, fd, rc;
	size_t len = 0;

	if (!pick_shared(dir, name, sizeof(name)))
		return;
	path_of(path, sizeof(path), shared_dir, dir, name);
	k = (int)rnd(10);
	if (shared_count() > SHARED_HIGH * procs)
		k = 9;
	if (k < 4) { /* read, by mapping or pread, or by umm_open */
		snprintf(what, sizeof(what), "read %s", path);
		if (k == 3) {
			fd = umm_open(path, O_RDONLY);
			if (fd >= 0)
				me->ops[OP_EXPORT]++;
		} else {
			fd = open(path, O_RDONLY | O_CLOEXEC);
		}
		if (fd < 0) {
			expect(errno, k == 3 ? "umm_open" : "open", path, ENOENT, EBUSY, 0);
			return;
		}
		rc = fsize(fd, &len);
		if (!rc)
			rc = read_verify_fd(fd, len, 0, 0, what, k != 0);
		if (rc < -1)
			failure("%s: %s", what, strerror(-rc));
		close(fd);
	} else if (k < 6) { /* rename within shared */
		snprintf(newname, sizeof(newname), "b%d-%u", me_idx, serial++);
		path_of(to, sizeof(to), shared_dir, (int)rnd(NSUB), newname);
		if (rename(path, to) < 0)
			expect(errno, "rename", path, ENOENT, 0);
		else
			me->ops[OP_RENAME]++;
	} else if (k < 8) { /* adopt into the private dir, under its first name */
		struct priv *b;
		struct hdr h;

		if (npriv >= MAX_PRIV)
			return;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			expect(errno, "open", path, ENOENT, 0);
			return;
		}
		rc = pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) ? 0 : -1;
		close(fd);
		h.name[sizeof(h.name) - 1] = 0;
		if (rc || h.magic != MAGIC || h.name[0] != 'b' || strchr(h.name, '/')) {
			failure("header of %s unreadable or bad", path);
			return;
		}
		b = &privs[npriv];
		*b = (struct priv){ .dir = (int)rnd(NSUB),
				    .key = h.key,
				    .gen = h.gen,
				    .exported = 2,
				    .frozen = 1 };
		snprintf(b->name, sizeof(b->name), "%s", h.name);
		priv_path(to, sizeof(to), b);
		if (rename(path, to) < 0) {
			expect(errno, "rename", path, ENOENT, 0);
			return;
		}
		me->ops[OP_ADOPT]++;
		npriv++;
		fd = open(to, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			failure("open %s: %s", to, strerror(errno));
			return;
		}
		rc = fsize(fd, &len);
		b->len = len;
		snprintf(what, sizeof(what), "adopted %s", to);
		if (!rc)
			rc = read_verify_fd(fd, len, b->key, b->gen, what, (int)rnd(2));
		if (rc < -1)
			failure("%s: %s", what, strerror(-rc));
		close(fd);
	} else { /* unlink */
		if (unlink(path) < 0)
			expect(errno, "unlink", path, ENOENT, 0);
		else
			me->ops[OP_UNLINK]++;
	}
}

static void child(int idx, int procs, double deadline)
{
	g_deadline = deadline;
	me = &g_cnt[idx];
	me_idx = idx;
	rng_state = g_seed ^ ((uint64_t)(idx + 1) * 0xd1b54a32d192ed03ULL);
	snprintf(shared_dir, sizeof(shared_dir), "%s/shared", g_top);
	snprintf(priv_dir, sizeof(priv_dir), "%s/p%d", g_top, idx);
	alarm((unsigned)(deadline - now()) + 20 * g_scale);

	while (now() < deadline) {
		uint64_t k = rnd(100);

		drain_recv();
		if (k < 18 || npriv == 0)
			op_create();
		else if (k < 30)
			op_read_priv();
		else if (k < 36)
			op_rewrite();
		else if (k < 42)
			op_resize();
		else if (k < 52)
			op_send();
		else if (k < 58)
			op_publish();
		else if (k < 62)
			op_unlink_priv();
		else if (k < 66) {
			if (nhold)
				release_hold((int)rnd((uint64_t)nhold));
		} else
			op_shared(procs);
	}
	while (nhold)
		release_hold(nhold - 1);
	drain_recv();
	me->done = 1;
	_exit(0);
}

/* ---- the parent ---- */

static uint64_t g_fail;

static void pfail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void pfail(const char *fmt, ...)
{
	va_list ap;

	g_fail++;
	fputs("stress: FAIL: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static long xattr_num(const char *path, const char *name)
{
	char v[64];
	ssize_t n = getxattr(path, name, v, sizeof(v) - 1);

	if (n < 0)
		return -1;
	v[n] = 0;
	return strtol(v, NULL, 10);
}

static long stats_buffers(void)
{
	char v[512], *p;
	ssize_t n = getxattr(g_mnt, "user.umm.stats", v, sizeof(v) - 1);

	if (n < 0)
		return -1;
	v[n] = 0;
	p = strstr(v, "buffers=");
	return p ? strtol(p + 8, NULL, 10) : -1;
}

static int fd_count(pid_t pid)
{
	char path[64];
	struct dirent *d;
	int n = 0;
	DIR *dp;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dp = opendir(path);
	if (!dp)
		return -1;
	while ((d = readdir(dp)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dp);
	return n;
}

/* A number from /proc/@pid/status, the line starting with @key. */
static long status_num(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl))
			kb = strtol(line + kl, NULL, 10);
	fclose(f);
	return kb;
}

/* Walk @dir: check every buffer, add page-rounded sizes to *@sum; remove if @rm. */
static void walk(const char *dir, uint64_t *sum, long *nbuf, int rm)
{
	char path[4400];
	struct dirent *d;
	struct stat st;
	DIR *dp = opendir(dir);

	if (!dp) {
		pfail("opendir %s: %s", dir, strerror(errno));
		return;
	}
	while ((d = readdir(dp))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (lstat(path, &st) < 0) {
			pfail("stat %s: %s", path, strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			walk(path, sum, nbuf, rm);
			if (rm && rmdir(path) < 0)
				pfail("rmdir %s: %s", path, strerror(errno));
			continue;
		}
		if (rm) {
			if (unlink(path) < 0)
				pfail("unlink %s: %s", path, strerror(errno));
			continue;
		}
		*sum += ((uint64_t)st.st_size + PAGE - 1) / PAGE * PAGE;
		(*nbuf)++;
		{
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			uint8_t *p = malloc((size_t)st.st_size + 1);
			ssize_t r = -1;

			if (fd >= 0 && p)
				r = pread(fd, p, (size_t)st.st_size + 1, 0);
			if (r == st.st_size) {
				struct counters *save = me;

				me = &g_cnt[MAX_PROCS];
				me_idx = -1;
				verify(p, (size_t)r, 0, 0, path); /* counts its failures */
				me->ops[OP_READ]++;
				me = save;
			} else {
				pfail("read %s: %zd of %jd bytes (%s)", path, r,
				      (intmax_t)st.st_size, strerror(errno));
			}
			free(p);
			if (fd >= 0)
				close(fd);
		}
	}
	closedir(dp);
}

static void usage(void)
{
	fprintf(stderr, "usage: stress [-p PROCS] [-t SECONDS] [-s SEED]\n"
			"environment: UMM_MNT, UMM_FS_PID (see tests/stress/README.md)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int procs = 8, secs = 8, opt, i, d, fd0, status;
	int socks[MAX_PROCS][2];
	pid_t pids[MAX_PROCS], fs_pid;
	double t0, deadline, t_end;
	char path[4400];
	long base_rss, rss = 0, used = -1, nbuf = 0, bufs = -1;
	int base_fds, fds = -1, perturb;
	uint64_t sum = 0, tot_ops[NOPS] = { 0 }, all = 0, tot_exp[MAX_ERRNO] = { 0 }, nexp = 0;
	uint64_t tot_sigbus = 0;

	while ((opt = getopt(argc, argv, "p:t:s:")) != -1) {
		switch (opt) {
		case 'p':
			procs = atoi(optarg);
			break;
		case 't':
			secs = atoi(optarg);
			break;
		case 's':
			g_seed = strtoull(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (procs < 1 || procs > MAX_PROCS || secs < 0)
		usage();
	g_mnt = getenv("UMM_MNT");
	if (!g_mnt || !*g_mnt || !getenv("UMM_FS_PID")) {
		fprintf(stderr, "stress: UMM_MNT and UMM_FS_PID must be set: run it through "
				"tests/integration/run-mounted.sh\n");
		return 77;
	}
	fs_pid = (pid_t)atoi(getenv("UMM_FS_PID"));
	g_scale = time_scale();
	perturb = getenv("MALLOC_PERTURB_") && atoi(getenv("MALLOC_PERTURB_")) != 0;
	setvbuf(stdout, NULL, _IOLBF, 0);

	base_fds = fd_count(fs_pid);
	base_rss = status_num(fs_pid, "VmRSS:");
	if (base_fds < 0 || base_rss < 0) {
		fprintf(stderr, "stress: cannot read /proc/%d: %s\n", (int)fs_pid, strerror(errno));
		return 1;
	}

	g_cnt = mmap(NULL, sizeof(*g_cnt) * (MAX_PROCS + 1), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g_cnt == MAP_FAILED) {
		perror("stress: mmap");
		return 1;
	}

	/* The tree: stress/shared and stress/p<i>, each with sized subdirs. */
	snprintf(g_top, sizeof(g_top), "%s/stress", g_mnt);
	if (mkdir(g_top, 0755) < 0) {
		fprintf(stderr, "stress: mkdir %s: %s\n", g_top, strerror(errno));
		return 1;
	}
	for (i = -1; i < procs; i++) {
		char base[4300];

		if (i < 0)
			snprintf(base, sizeof(base), "%s/shared", g_top);
		else
			snprintf(base, sizeof(base), "%s/p%d", g_top, i);
		for (d = 0; d < NSUB; d++) {
			path_of(path, sizeof(path), base, d, "");
			if (mkdir(path, 0755) < 0 ||
			    (subsizes[d] && setxattr(path, "user.umm.size", subsizes[d],
						     strlen(subsizes[d]), 0))) {
				fprintf(stderr, "stress: mkdir/setxattr %s: %s\n", path,
					strerror(errno));
				return 1;
			}
		}
	}

	printf("stress: %d processes, %d s, seed %" PRIu64 ", mode %s, daemon pid %d "
	       "(baseline %d fds, VmRSS %ld kB)\n",
	       procs, secs, g_seed, getenv("UMM_MODE") ? getenv("UMM_MODE") : "?", (int)fs_pid,
	       base_fds, base_rss);
	for (i = 0; i < procs; i++)
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks[i]) < 0) {
			perror("stress: socketpair");
			return 1;
		}
	t0 = now();
	deadline = t0 + secs;
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < procs; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("stress: fork");
			procs = i;
			g_fail++;
			break;
		}
		if (pids[i] == 0) {
			/* Send to i+1 on socks[i][0]; receive from i-1 on socks[i-1][1]. */
			int prev = (i + procs - 1) % procs, j;

			if (procs > 1) {
				sock_out = socks[i][0];
				sock_in = socks[prev][1];
			}
			for (j = 0; j < procs; j++) {
				if (socks[j][0] != sock_out)
					close(socks[j][0]);
				if (socks[j][1] != sock_in)
					close(socks[j][1]);
			}
			child(i, procs, deadline);
		}
	}
	for (i = 0; i < MAX_PROCS && i < procs; i++) {
		close(socks[i][0]);
		close(socks[i][1]);
	}
	for (i = 0; i < procs; i++) {
		if (waitpid(pids[i], &status, 0) < 0) {
			pfail("waitpid %d: %s", (int)pids[i], strerror(errno));
			continue;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !g_cnt[i].done)
			pfail("client %d (pid %d) ended with status %#x%s", i, (int)pids[i], status,
			      WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? " (stuck)" : "");
	}
	t_end = now();

	/* Every remaining buffer, and the accounting. */
	me = &g_cnt[MAX_PROCS];
	me_idx = -1;
	walk(g_top, &sum, &nbuf, 0);
	for (i = 0; i < POLL_MS / 50 * (int)g_scale; i++) {
		used = xattr_num(g_mnt, "user.umm.used_bytes");
		if (used >= 0 && (uint64_t)used == sum)
			break;
		usleep(50000);
	}
	if (used < 0 || (uint64_t)used != sum)
		pfail("user.umm.used_bytes is %ld, the %ld buffers left hold %" PRIu64
		      " page-rounded bytes",
		      used, nbuf, sum);

	/* Remove everything; the daemon must come back to its baseline. */
	{
		uint64_t s2 = 0;
		long n2 = 0;

		walk(g_top, &s2, &n2, 1);
		if (rmdir(g_top) < 0)
			pfail("rmdir %s: %s", g_top, strerror(errno));
	}
	for (i = 0; i < POLL_MS / 50 * (int)g_scale; i++) {
		used = xattr_num(g_mnt, "user.umm.used_bytes");
		bufs = stats_buffers();
		fds = fd_count(fs_pid);
		rss = status_num(fs_pid, "VmRSS:");
		if (used == 0 && bufs == 0 && fds == base_fds &&
		    (perturb || rss <= base_rss + RSS_SLACK_KB))
			break;
		usleep(50000);
	}
	if (used != 0)
		pfail("user.umm.used_bytes is %ld after removing everything", used);
	if (bufs != 0)
		pfail("user.umm.stats has buffers=%ld after removing everything", bufs);
	if (fds != base_fds)
		pfail("the daemon has %d fds, %d at the start", fds, base_fds);
	if (perturb)
		printf("note: MALLOC_PERTURB_=%s in the environment (the daemon's too): glibc writes "
		       "into freed memory and keeps it resident, so VmRSS is not checked\n",
		       getenv("MALLOC_PERTURB_"));
	else if (getenv("ASAN_OPTIONS"))
		/* a sanitized daemon keeps freed memory in quarantine; LeakSanitizer checks it */
		printf("note: ASAN_OPTIONS in the environment (a sanitized daemon): its allocator "
		       "keeps freed memory in quarantine, so VmRSS is not checked\n");
	else if (rss > base_rss + RSS_SLACK_KB)
		pfail("the daemon's VmRSS is %ld kB, %ld kB at the start (slack %d kB)", rss,
		      base_rss, RSS_SLACK_KB);

	/* The figures. */
	for (i = 0; i <= MAX_PROCS; i++) {
		for (d = 0; d < NOPS; d++)
			tot_ops[d] += g_cnt[i].ops[d];
		for (d = 0; d < MAX_ERRNO; d++)
			tot_exp[d] += g_cnt[i].expected[d];
		tot_sigbus += g_cnt[i].sigbus;
		g_fail += g_cnt[i].failures;
	}
	printf("operations:");
	for (d = 0; d < NOPS; d++) {
		printf(" %s=%" PRIu64, op_names[d], tot_ops[d]);
		all += tot_ops[d];
	}
	printf("\nexpected errors:");
	for (d = 0; d < MAX_ERRNO; d++)
		if (tot_exp[d]) {
			printf(" %s=%" PRIu64, d ? strerrorname_np(d) : "other", tot_exp[d]);
			nexp += tot_exp[d];
		}
	if (tot_sigbus) {
		/* a held mapping read past the end it was shrunk to, as on tmpfs */
		printf(" SIGBUS=%" PRIu64, tot_sigbus);
		nexp += tot_sigbus;
	}
	printf("%s\n", nexp ? "" : " none");
	printf("end: %ld buffers left (%" PRIu64 " bytes) checked; daemon fds %d (baseline %d), "
	       "VmRSS %ld kB (baseline %ld kB), %ld threads\n",
	       nbuf, sum, fds, base_fds, rss, base_rss, status_num(fs_pid, "Threads:"));
	fd0 = g_fail ? 1 : 0;
	printf("stress: %s: %d processes, %.1f s, %" PRIu64 " operations, %" PRIu64
	       " expected errors, %" PRIu64 " failures\n",
	       fd0 ? "FAIL" : "PASS", procs, t_end - t0, all, nexp, g_fail);
	return fd0;
}
