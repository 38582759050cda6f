/* SPDX-License-Identifier: MIT */
/*
 * itest.h - a minimal harness for the C integration tests.
 *
 * Each check is a function returning PASS, FAIL or SKIP; itest_run() runs it
 * in a forked child (a crash or a stuck mapping stays in that check), with an
 * alarm as the time limit, and itest_finish() gives the exit status:
 * 1 if any check failed, 77 if every check was skipped, else 0.
 *
 * The environment comes from run-mounted.sh: UMM_MNT, UMM_MODE, UMM_FS_PID;
 * meson adds UMM_BUILD_PASSTHROUGH (1 when umm-fs was built with libfuse
 * >= 3.17, i.e. can do FUSE passthrough). Every deadline (the alarm, the
 * bounded waits) is multiplied by itest_time_scale(): UMM_TIME_SCALE, or 10
 * when UMM_FS_WRAPPER runs the daemon under valgrind.
 */
#ifndef UMM_ITEST_H
#define UMM_ITEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define PASS 0
#define FAIL 1
#define SKIP 77

/* A check's time limit, before itest_time_scale(). */
#define CHECK_TIMEOUT_S 60

/* Print a failure with its place and return FAIL from the check. */
#define EXPECT(cond, ...)                                                                    \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "    FAIL %s:%d: (%s) ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                        \
			fputc('\n', stderr);                                                 \
			return FAIL;                                                         \
		}                                                                            \
	} while (0)

/* A system call that must succeed (>= 0). */
#define EXPECT_OK(call)                                                                        \
	do {                                                                                   \
		errno = 0;                                                                     \
		if ((call) < 0) {                                                              \
			fprintf(stderr, "    FAIL %s:%d: %s: %s\n", __FILE__, __LINE__, #call, \
				strerror(errno));                                              \
			return FAIL;                                                           \
		}                                                                              \
	} while (0)

/* A system call that must fail (-1) with errno @err. */
#define EXPECT_ERRNO(call, err)                                                                   \
	do {                                                                                      \
		long r_;                                                                          \
		errno = 0;                                                                        \
		r_ = (long)(call);                                                                \
		if (r_ != -1 || errno != (err)) {                                                 \
			fprintf(stderr, "    FAIL %s:%d: %s returned %ld (%s), expected %s\n",    \
				__FILE__, __LINE__, #call, r_, r_ == -1 ? strerror(errno) : "ok", \
				strerror(err));                                                   \
			return FAIL;                                                              \
		}                                                                                 \
	} while (0)

static int itest_npass, itest_nfail, itest_nskip;

static inline void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void note(const char *fmt, ...)
{
	va_list ap;

	fputs("    ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static inline const char *env_or_die(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v) {
		fprintf(stderr, "%s is not set: run this test through run-mounted.sh\n", name);
		exit(2);
	}
	return v;
}

static inline const char *umm_mnt(void)
{
	return env_or_die("UMM_MNT");
}

/*
 * PFN of the page at @addr, from an fd of /proc/self/pagemap: > 0, 0 if
 * hidden (no CAP_SYS_ADMIN), -1 if not present, -2 on error.
 */
static inline long long pfn_of(int pagemap, const void *addr)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t e;
	off_t off = (off_t)((uintptr_t)addr / (uintptr_t)page) * 8;

	if (pread(pagemap, &e, sizeof(e), off) != sizeof(e))
		return -2;
	if (!(e >> 63 & 1))
		return -1;
	return (long long)(e & ((1ULL << 55) - 1));
}

static inline int mode_is_passthrough(void)
{
	const char *m = getenv("UMM_MODE");

	return !m || !strcmp(m, "passthrough");
}

static inline int build_has_passthrough(void)
{
	const char *v = getenv("UMM_BUILD_PASSTHROUGH");

	return !v || strcmp(v, "0") != 0;
}

/*
 * itest_time_scale() - how many times longer than usual a test waits: the
 * positive integer UMM_TIME_SCALE, else 10 when UMM_FS_WRAPPER runs the
 * daemon under valgrind (it answers about ten times slower), else 1.
 */
static inline unsigned itest_time_scale(void)
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

static inline pid_t umm_fs_pid(void)
{
	return (pid_t)atoi(env_or_die("UMM_FS_PID"));
}

static inline void itest_run(const char *name, int (*fn)(void))
{
	pid_t pid;
	int status, rc;

	printf("--- %s\n", name);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		itest_nfail++;
		return;
	}
	if (pid == 0) {
		alarm(CHECK_TIMEOUT_S * itest_time_scale());
		rc = fn();
		fflush(stdout);
		fflush(stderr);
		_exit(rc);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status)) {
		printf("FAIL %s (killed by signal %d%s)\n", name, WTERMSIG(status),
		       WTERMSIG(status) == SIGALRM ? ": time limit" : "");
		itest_nfail++;
	} else if (WEXITSTATUS(status) == PASS) {
		printf("ok   %s\n", name);
		itest_npass++;
	} else if (WEXITSTATUS(status) == SKIP) {
		printf("skip %s\n", name);
		itest_nskip++;
	} else {
		printf("FAIL %s\n", name);
		itest_nfail++;
	}
	fflush(stdout);
}

#define RUN(fn) itest_run(#fn, fn)

static inline int itest_finish(const char *prog)
{
	printf("=== %s: %d passed, %d failed, %d skipped (mode %s)\n", prog, itest_npass,
	       itest_nfail, itest_nskip, getenv("UMM_MODE") ? getenv("UMM_MODE") : "?");
	if (itest_nfail)
		return 1;
	if (!itest_npass && itest_nskip)
		return 77;
	return 0;
}

/* Join the mount path and @name into @buf. */
static inline const char *mnt_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", umm_mnt(), name);
	return buf;
}

/* Write all of @len bytes at @off. Return 0 or -1 (errno set). */
static inline int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read all of @len bytes at @off. Return 0, or -1 (errno set, EIO if short). */
static inline int pread_all(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Deterministic bytes: byte i of pattern @seed. */
static inline unsigned char pattern_byte(unsigned seed, size_t i)
{
	uint32_t x = (uint32_t)(i * 2654435761u) ^ (seed * 0x9e3779b9u);

	x ^= x >> 15;
	return (unsigned char)(x ^ (x >> 7));
}

static inline void fill_pattern(void *buf, size_t len, unsigned seed)
{
	unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = pattern_byte(seed, i);
}

/* Index of the first byte that differs from pattern @seed, or -1. */
static inline long check_pattern(const void *buf, size_t len, unsigned seed)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i] != pattern_byte(seed, i))
			return (long)i;
	return -1;
}

/*
 * make_buffer() - create (or replace) buffer @path with @len bytes of pattern
 * @seed and mode @mode, written with write(2), closed, then read back once by
 * a read-only open (which fixes nothing: the buffer can still change size
 * until its first export). Return 0 or -1 (errno set).
 */
static inline int make_buffer(const char *path, size_t len, unsigned seed, mode_t mode)
{
	char *buf = malloc(len ? len : 1);
	int fd, ret = -1;

	if (!buf)
		return -1;
	fill_pattern(buf, len, seed);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		goto out;
	if (pwrite_all(fd, buf, len, 0) || fchmod(fd, mode)) {
		close(fd);
		goto out;
	}
	if (close(fd))
		goto out;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto out;
	ret = pread_all(fd, buf, len, 0);
	close(fd);
out:
	free(buf);
	return ret;
}

/* Number of open fds of process @pid, or -1. */
static inline int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* A size as the daemon prints it (4096, 4K, 8M) in bytes; -1 if it does not parse. */
static inline long long parse_size_text(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'K':
	case 'k':
		v <<= 10;
		end++;
		break;
	case 'M':
	case 'm':
		v <<= 20;
		end++;
		break;
	case 'G':
	case 'g':
		v <<= 30;
		end++;
		break;
	case 'T':
	case 't':
		v <<= 40;
		end++;
		break;
	default:
		break;
	}
	while (*end == '\n')
		end++;
	return *end ? -1 : v;
}

/* user.umm.used_bytes of @path in bytes, or -1. */
static inline long long used_bytes(const char *path)
{
	char val[64];
	ssize_t n = getxattr(path, "user.umm.used_bytes", val, sizeof(val) - 1);

	if (n < 0)
		return -1;
	val[n] = 0;
	return parse_size_text(val);
}

/* Bytes the mount's budget holds (what df shows as used), or -1. */
static inline long long mount_used(void)
{
	struct statvfs sv;

	if (statvfs(umm_mnt(), &sv))
		return -1;
	return (long long)(sv.f_blocks - sv.f_bfree) * (long long)sv.f_frsize;
}

/* Wait (up to 3 s, scaled) until mount_used() == @want; return the last value seen. */
static inline long long wait_mount_used(long long want)
{
	unsigned n = 60 * itest_time_scale();
	long long v = -1;

	for (unsigned i = 0; i < n; i++) {
		v = mount_used();
		if (v == want)
			break;
		usleep(50000);
	}
	return v;
}

/* Wait (up to 3 s, scaled) until used_bytes(@path) == @want; return the last value seen. */
static inline long long wait_used_bytes(const char *path, long long want)
{
	unsigned n = 60 * itest_time_scale();
	long long v = -1;

	for (unsigned i = 0; i < n; i++) {
		v = used_bytes(path);
		if (v == want)
			break;
		usleep(50000);
	}
	return v;
}

#endif /* UMM_ITEST_H */
