// SPDX-License-Identifier: MIT
/*
 * test_perm.c - permissions and the export socket under hostile input
 * (SPEC 5, 6, 7).
 *
 * - A second uid (nobody, 65534, no supplementary groups) is refused by the
 *   mode bits, as on any filesystem.
 * - A read-only opener can neither write nor get a writable fd: not from
 *   umm_export(), not by reopening the exported fd through /proc, not by
 *   mapping it shared and writable.
 * - An exported or zero-copy fd cannot grow the buffer past its budget.
 * - The export socket answers O_PATH fds, fds of other filesystems, random
 *   bytes, oversized, truncated and many-fd messages with an error reply or a
 *   closed connection; afterwards the daemon still serves and holds no more
 *   fds than before.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <grp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <umm.h>

#include "proto_i.h"

#include "itest.h"

#define PAGE 4096UL
#define NOBODY 65534

/* Run @fn in a child process as uid/gid nobody with no groups. */
static int as_nobody(int (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return FAIL;
	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY)) {
			note("cannot become uid %d: %s", NOBODY, strerror(errno));
			_exit(FAIL);
		}
		if (getuid() != NOBODY || geteuid() != NOBODY || getegid() != NOBODY) {
			note("uid change did not take");
			_exit(FAIL);
		}
		_exit(fn());
	}
	if (waitpid(pid, &status, 0) != pid)
		return FAIL;
	if (WIFSIGNALED(status)) {
		note("child as nobody killed by signal %d", WTERMSIG(status));
		return FAIL;
	}
	return WEXITSTATUS(status);
}

static char p600[4096], p644[4096], pdir[4096];
static const size_t blen = 8 * PAGE;

/* Root makes the buffers the nobody checks try to reach. */
static int setup_buffers(void)
{
	mnt_path(p600, sizeof(p600), "perm-0600");
	mnt_path(p644, sizeof(p644), "perm-0644");
	mnt_path(pdir, sizeof(pdir), "perm-dir");
	if (make_buffer(p600, blen, 21, 0600) || make_buffer(p644, blen, 22, 0644)) {
		note("cannot make the buffers: %s", strerror(errno));
		return -1;
	}
	rmdir(pdir);
	if (mkdir(pdir, 0755) || chmod(pdir, 0755)) {
		note("mkdir %s: %s", pdir, strerror(errno));
		return -1;
	}
	return 0;
}

static int buffer_unchanged(const char *path, unsigned seed)
{
	unsigned char *buf = malloc(blen);
	struct stat st;
	int fd, ok = 0;

	if (!buf)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && !fstat(fd, &st) && st.st_size == (off_t)blen &&
	    !pread_all(fd, buf, blen, 0) && check_pattern(buf, blen, seed) < 0)
		ok = 1;
	if (fd >= 0)
		close(fd);
	free(buf);
	return ok;
}

static int nobody_mode_bits(void)
{
	unsigned char *buf;
	char newp[4096 + 16];
	int fd;

	/* 0600, owned by root: nothing. */
	EXPECT_ERRNO(open(p600, O_RDONLY), EACCES);
	EXPECT_ERRNO(open(p600, O_RDWR), EACCES);
	EXPECT_ERRNO(open(p600, O_WRONLY), EACCES);
	EXPECT_ERRNO(umm_open(p600, O_RDONLY), EACCES);
	EXPECT_ERRNO(getxattr(p600, "user.umm.heap", NULL, 0), EACCES);
	/* 0644: read, never write. */
	fd = open(p644, O_RDONLY | O_CLOEXEC);
	EXPECT(fd >= 0, "open 0644 read-only as nobody: %s", strerror(errno));
	buf = malloc(blen);
	EXPECT(buf, "malloc");
	EXPECT_OK(pread_all(fd, buf, blen, 0));
	EXPECT(check_pattern(buf, blen, 22) < 0, "nobody reads other bytes");
	free(buf);
	close(fd);
	EXPECT_ERRNO(open(p644, O_RDWR), EACCES);
	EXPECT_ERRNO(open(p644, O_WRONLY), EACCES);
	EXPECT_ERRNO(open(p644, O_RDONLY | O_TRUNC), EACCES);
	EXPECT_ERRNO(umm_open(p644, O_RDWR), EACCES);
	EXPECT_ERRNO(umm_open(p644, O_WRONLY), EACCES);
	EXPECT_ERRNO(truncate(p644, 0), EACCES);
	EXPECT_ERRNO(setxattr(p644, "user.umm.sync", "device", 6, 0), EACCES);
	EXPECT_ERRNO(setxattr(p644, "user.note", "x", 1, 0), EACCES);
	EXPECT_ERRNO(chmod(p644, 0666), EPERM);
	EXPECT_ERRNO(chown(p644, NOBODY, NOBODY), EPERM);
	/* The root is sticky: another uid's buffer cannot be removed or renamed. */
	EXPECT_ERRNO(unlink(p644), EPERM);
	snprintf(newp, sizeof(newp), "%s.moved", p644);
	EXPECT_ERRNO(rename(p644, newp), EPERM);
	/* A 0755 dir of root: no creating, no constraints. */
	snprintf(newp, sizeof(newp), "%s/x", pdir);
	EXPECT_ERRNO(open(newp, O_WRONLY | O_CREAT, 0644), EACCES);
	EXPECT_ERRNO(mkdir(newp, 0755), EACCES);
	EXPECT_ERRNO(setxattr(pdir, "user.umm.max_bytes", "4K", 2, 0), EACCES);
	EXPECT_ERRNO(setxattr(pdir, "user.umm.align", "64K", 3, 0), EACCES);
	return PASS;
}

static int test_second_uid_is_refused_by_mode_bits(void)
{
	int rc;

	if (setup_buffers())
		return FAIL;
	rc = as_nobody(nobody_mode_bits);
	EXPECT(rc == PASS, "checks as nobody failed");
	EXPECT(buffer_unchanged(p600, 21), "0600 buffer changed");
	EXPECT(buffer_unchanged(p644, 22), "0644 buffer changed");
	EXPECT(getxattr(pdir, "user.umm.max_bytes", NULL, 0) == -1 && errno == ENODATA,
	       "the dir got a max_bytes from nobody");
	return PASS;
}

static int nobody_readonly_export(void)
{
	char proc[64];
	unsigned char one = 1;
	void *m;
	int fd, efd, rfd;

	fd = open(p644, O_RDONLY | O_CLOEXEC);
	EXPECT(fd >= 0, "open read-only: %s", strerror(errno));
	EXPECT_ERRNO(write(fd, &one, 1), EBADF);
	/* mmap checks the fd's mode before the filesystem sees it: EACCES in every mode. */
	EXPECT_ERRNO(
		mmap(NULL, blen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0,
		EACCES);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	EXPECT_ERRNO(open(proc, O_RDWR), EACCES);

	efd = umm_export(fd);
	if (efd < 0) {
		EXPECT(errno == EACCES, "umm_export of a read-only open: %s", strerror(errno));
		note("the heap gave no read-only fd (EACCES): nothing more to check");
		return PASS;
	}
	EXPECT((fcntl(efd, F_GETFL) & O_ACCMODE) == O_RDONLY,
	       "export of a read-only open is "
	       "writable (mode %d)",
	       fcntl(efd, F_GETFL) & O_ACCMODE);
	EXPECT_ERRNO(write(efd, &one, 1), EBADF);
	EXPECT_ERRNO(pwrite(efd, &one, 1, 0), EBADF);
	EXPECT(ftruncate(efd, 0) == -1 && (errno == EBADF || errno == EINVAL),
	       "ftruncate of the read-only export: %s", strerror(errno));
	EXPECT(fallocate(efd, 0, 0, 2 * blen) == -1, "fallocate of the read-only export worked");
	EXPECT_ERRNO(
		mmap(NULL, blen, PROT_READ | PROT_WRITE, MAP_SHARED, efd, 0) == MAP_FAILED ? -1 : 0,
		EACCES);
	m = mmap(NULL, blen, PROT_READ, MAP_SHARED, efd, 0);
	EXPECT(m != MAP_FAILED, "read-only mmap of the export: %s", strerror(errno));
	EXPECT(check_pattern(m, blen, 22) < 0, "the export maps other bytes");
	EXPECT_ERRNO(mprotect(m, blen, PROT_READ | PROT_WRITE), EACCES);
	munmap(m, blen);
	/* The export must not be a door to write access: no reopen for
	 * writing through /proc, no mode change, no seals. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", efd);
	errno = 0;
	rfd = open(proc, O_RDWR | O_CLOEXEC);
	if (rfd >= 0) {
		struct stat st;

		fstat(efd, &st);
		note("reopened the read-only export O_RDWR through %s (memfd mode %o, uid %d)",
		     proc, st.st_mode & 07777, (int)st.st_uid);
		close(rfd);
		return FAIL;
	}
	EXPECT(errno == EACCES, "reopen of the export through /proc: %s", strerror(errno));
	rfd = open(proc, O_WRONLY | O_CLOEXEC);
	EXPECT(rfd < 0, "reopened the read-only export O_WRONLY through /proc");
	EXPECT_ERRNO(fchmod(efd, 0666), EPERM);
	EXPECT_ERRNO(fcntl(efd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	close(efd);
	close(fd);
	return PASS;
}

static int test_readonly_opener_gets_no_writable_fd(void)
{
	int rc;

	if (setup_buffers())
		return FAIL;
	rc = as_nobody(nobody_readonly_export);
	EXPECT(rc == PASS, "checks as nobody failed");
	EXPECT(buffer_unchanged(p644, 22), "0644 buffer changed");
	return PASS;
}

/* An exported (or zero-copy) fd cannot make the buffer hold more memory. */
static int test_exported_fd_cannot_grow_the_buffer(void)
{
	char path[4096];
	unsigned char one = 1;
	struct stat st;
	long long used;
	int efd, fd, seals;

	mnt_path(path, sizeof(path), "perm-grow");
	EXPECT_OK(make_buffer(path, blen, 23, 0644));
	used = used_bytes(umm_mnt());
	efd = umm_open(path, O_RDWR);
	EXPECT(efd >= 0, "umm_open: %s", strerror(errno));
	seals = fcntl(efd, F_GET_SEALS);
	if (seals < 0 && errno == EINVAL) {
		/* a dma-buf (a dma-buf heap): its size is fixed when it is made */
		EXPECT(ftruncate(efd, 4 * blen) < 0, "ftruncate of the exported dma-buf worked");
		EXPECT(pwrite(efd, &one, 1, blen) < 0, "pwrite to the exported dma-buf worked");
		EXPECT(fallocate(efd, 0, 0, 4 * blen) < 0, "fallocate of the dma-buf worked");
	} else {
		EXPECT(seals >= 0, "F_GET_SEALS of the export: %s", strerror(errno));
		EXPECT((seals & (F_SEAL_GROW | F_SEAL_SHRINK)) == (F_SEAL_GROW | F_SEAL_SHRINK),
		       "exported memfd seals 0x%x lack F_SEAL_GROW|F_SEAL_SHRINK", seals);
		EXPECT_ERRNO(ftruncate(efd, 4 * blen), EPERM);
		EXPECT_ERRNO(ftruncate(efd, PAGE), EPERM);
		EXPECT_ERRNO(pwrite(efd, &one, 1, blen), EPERM);
		EXPECT_ERRNO(fallocate(efd, 0, 0, 4 * blen), EPERM);
	}
	/* Zero-copy open of the sized buffer: a write past the end fails too. */
	fd = open(path, O_RDWR | O_CLOEXEC);
	EXPECT_OK(fd);
	EXPECT_ERRNO(pwrite(fd, &one, 1, blen), EPERM);
	EXPECT_OK(fstat(fd, &st));
	EXPECT(st.st_size == (off_t)blen, "size %lld after refused growth", (long long)st.st_size);
	close(fd);
	close(efd);
	EXPECT(used_bytes(umm_mnt()) == used, "used_bytes changed");
	EXPECT_OK(unlink(path));
	return PASS;
}

/* ---- the export socket, spoken to directly ---- */

static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static int get_sock_path(void)
{
	ssize_t n = getxattr(umm_mnt(), "user.umm.socket", sock_path, sizeof(sock_path) - 1);

	if (n <= 0) {
		note("user.umm.socket of the root: %s", strerror(errno));
		return -1;
	}
	sock_path[n] = 0;
	return 0;
}

static int sock_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s;

	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		close(s);
		errno = e;
		return -1;
	}
	return s;
}

enum outcome { GOT_REPLY, GOT_CLOSED, GOT_TIMEOUT, GOT_GARBAGE };

struct answer {
	enum outcome what;
	struct umm_rep rep;
	int nfds; /* fds that came with the reply (already closed, except fd) */
	int fd; /* the first one, kept open if @keep_fd */
};

static const char *outcome_name(enum outcome o)
{
	switch (o) {
	case GOT_REPLY:
		return "reply";
	case GOT_CLOSED:
		return "closed connection";
	case GOT_TIMEOUT:
		return "no answer within 5 s";
	default:
		return "garbage";
	}
}

/* Send one message (@len bytes, @nfds fds) and wait (5 s) for its answer. */
static void exchange(int s, const void *msg, size_t len, const int *fds, int nfds, int keep_fd,
		     struct answer *a)
{
	static union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int) * 253)];
	} u;
	char rbuf[512];
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct pollfd pfd = { .fd = s, .events = POLLIN };
	struct cmsghdr *c;
	ssize_t n;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	if (nfds > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	if (sendmsg(s, &mh, MSG_NOSIGNAL) < 0) {
		if (errno == EPIPE || errno == ECONNRESET) {
			a->what = GOT_CLOSED;
			return;
		}
		note("sendmsg of a %zu-byte message with %d fds: %s", len, nfds, strerror(errno));
		a->what = GOT_GARBAGE;
		return;
	}
	if (poll(&pfd, 1, 5000) == 0) {
		a->what = GOT_TIMEOUT;
		return;
	}
	iov.iov_base = rbuf;
	iov.iov_len = sizeof(rbuf);
	memset(&u, 0, sizeof(u));
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
	if (n == 0 || (n < 0 && errno == ECONNRESET)) {
		a->what = GOT_CLOSED;
		return;
	}
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

			for (int i = 0; i < k; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				if (keep_fd && a->fd < 0)
					a->fd = fd;
				else
					close(fd);
				a->nfds++;
			}
		}
	}
	if (n != sizeof(struct umm_rep)) {
		a->what = GOT_GARBAGE;
		return;
	}
	memcpy(&a->rep, rbuf, sizeof(a->rep));
	a->what = a->rep.magic == UMM_PROTO_MAGIC ? GOT_REPLY : GOT_GARBAGE;
}

static struct umm_req good_req(void)
{
	struct umm_req r = {
		.magic = UMM_PROTO_MAGIC,
		.version = UMM_PROTO_VERSION,
		.op = UMM_OP_EXPORT,
	};
	return r;
}

/*
 * One hostile message on a fresh connection: the answer must be an error
 * reply (of status @want, or any error if @want is 0) without fds, or a
 * closed connection.
 */
static int hostile(const char *what, const void *msg, size_t len, const int *fds, int nfds,
		   int want)
{
	struct answer a;
	int s = sock_connect();

	EXPECT(s >= 0, "%s: connect to %s: %s", what, sock_path, strerror(errno));
	exchange(s, msg, len, fds, nfds, 0, &a);
	close(s);
	if (a.what == GOT_CLOSED) {
		note("%-40s -> closed connection", what);
		return PASS;
	}
	EXPECT(a.what == GOT_REPLY, "%s: got %s", what, outcome_name(a.what));
	EXPECT(a.rep.status < 0, "%s: the daemon answered success (kind %u, size %llu)", what,
	       a.rep.kind, (unsigned long long)a.rep.size);
	EXPECT(a.nfds == 0, "%s: an error reply carried %d fds", what, a.nfds);
	EXPECT(!want || a.rep.status == -want, "%s: status %d (%s), expected -%s", what,
	       a.rep.status, strerror(-a.rep.status), strerror(want));
	note("%-40s -> error reply %d (%s)", what, a.rep.status, strerror(-a.rep.status));
	return PASS;
}

/* Does a normal export still work? */
static int daemon_serves(const char *path)
{
	int fd = umm_open(path, O_RDONLY);

	if (fd < 0) {
		note("umm_open %s: %s", path, strerror(errno));
		return 0;
	}
	close(fd);
	return 1;
}

/*
 * The daemon's fd count once it is steady (the same in 4 samples 50 ms
 * apart): connections that just ended are closed by the daemon a moment later.
 */
static int steady_fd_count(pid_t pid)
{
	int n = count_fds(pid), same = 0;

	for (int i = 0; i < 100 && same < 3; i++) {
		int m;

		usleep(50000);
		m = count_fds(pid);
		same = m == n ? same + 1 : 0;
		n = m;
	}
	return n;
}

/* Wait (3 s) until the daemon's fd count is at most @want; return the last count. */
static int wait_fd_count(pid_t pid, int want)
{
	int n = -1;

	for (int i = 0; i < 60; i++) {
		n = count_fds(pid);
		if (n >= 0 && n <= want)
			break;
		usleep(50000);
	}
	return n;
}

static int test_export_socket_answers_a_good_request(void)
{
	struct umm_req req = good_req();
	char path[4096];
	struct answer a;
	int fd, s;

	EXPECT(!get_sock_path(), "no socket path");
	mnt_path(path, sizeof(path), "sock-good");
	EXPECT_OK(make_buffer(path, 3 * PAGE, 24, 0644));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	EXPECT_OK(fd);
	s = sock_connect();
	EXPECT(s >= 0, "connect: %s", strerror(errno));
	exchange(s, &req, sizeof(req), &fd, 1, 1, &a);
	EXPECT(a.what == GOT_REPLY, "good request: %s", outcome_name(a.what));
	EXPECT(a.rep.status == 0, "good request: status %d (%s)", a.rep.status,
	       strerror(-a.rep.status));
	EXPECT(a.rep.version == UMM_PROTO_VERSION && a.rep.op == UMM_OP_EXPORT,
	       "reply version %u op %u", a.rep.version, a.rep.op);
	EXPECT(a.rep.kind == UMM_KIND_MEMFD, "kind %u on a memfd heap", a.rep.kind);
	EXPECT(a.rep.size == 3 * PAGE, "size %llu", (unsigned long long)a.rep.size);
	EXPECT(a.nfds == 1, "a success reply with %d fds", a.nfds);
	EXPECT((fcntl(a.fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "read-only request gave mode %d",
	       fcntl(a.fd, F_GETFL) & O_ACCMODE);
	close(a.fd);
	/* The connection serves further requests. */
	exchange(s, &req, sizeof(req), &fd, 1, 0, &a);
	EXPECT(a.what == GOT_REPLY && a.rep.status == 0 && a.nfds == 1,
	       "second request on one connection: %s, status %d", outcome_name(a.what),
	       a.rep.status);
	close(s);
	close(fd);
	EXPECT_OK(unlink(path));
	return PASS;
}

static int test_export_socket_survives_hostile_messages(void)
{
	struct umm_req req = good_req(), bad;
	char path[4096], dpath[4096], shm[64];
	unsigned char rnd[16], *big;
	int fd, opath, devnull, memfd, dirfd, shmfd = -1, baseline, after, i;
	int many[200], two[2], conns[80];
	pid_t pid = umm_fs_pid();

	EXPECT(!get_sock_path(), "no socket path");
	mnt_path(path, sizeof(path), "sock-hostile");
	mnt_path(dpath, sizeof(dpath), "sock-hostile-dir");
	EXPECT_OK(make_buffer(path, 2 * PAGE, 25, 0644));
	rmdir(dpath);
	EXPECT_OK(mkdir(dpath, 0755));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	EXPECT_OK(fd);
	EXPECT(daemon_serves(path), "the daemon does not serve before the test");
	baseline = steady_fd_count(pid);
	EXPECT(baseline > 0, "cannot count the fds of umm-fs (pid %d)", (int)pid);
	note("umm-fs holds %d fds before", baseline);

	/* Fds the daemon must refuse. */
	opath = open(path, O_PATH | O_CLOEXEC);
	EXPECT_OK(opath);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	EXPECT_OK(devnull);
	memfd = memfd_create("not-umm", MFD_CLOEXEC);
	EXPECT_OK(memfd);
	EXPECT_OK(ftruncate(memfd, PAGE));
	dirfd = open(dpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	EXPECT_OK(dirfd);
	snprintf(shm, sizeof(shm), "/dev/shm/umm-test-%d", (int)getpid());
	shmfd = open(shm, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (shmfd >= 0)
		unlink(shm);

	if (hostile("O_PATH fd of a buffer", &req, sizeof(req), &opath, 1, 0) ||
	    hostile("fd of /dev/null", &req, sizeof(req), &devnull, 1, 0) ||
	    hostile("memfd (a tmpfs file) of our own", &req, sizeof(req), &memfd, 1, 0) ||
	    (shmfd >= 0 && hostile("file in /dev/shm", &req, sizeof(req), &shmfd, 1, 0)) ||
	    hostile("directory of the mount", &req, sizeof(req), &dirfd, 1, 0) ||
	    hostile("the socket itself (no fd)", &req, sizeof(req), NULL, 0, 0))
		return FAIL;

	/* Malformed requests with a good fd. */
	bad = req;
	bad.magic = 0x31555858;
	if (hostile("bad magic", &bad, sizeof(bad), &fd, 1, EPROTO))
		return FAIL;
	bad = req;
	bad.version = 2;
	if (hostile("version 2", &bad, sizeof(bad), &fd, 1, EPROTONOSUPPORT))
		return FAIL;
	bad = req;
	bad.op = 99;
	if (hostile("unknown op", &bad, sizeof(bad), &fd, 1, EOPNOTSUPP))
		return FAIL;
	bad = req;
	bad.flags = 1;
	if (hostile("flags != 0", &bad, sizeof(bad), &fd, 1, EINVAL))
		return FAIL;
	bad = req;
	bad.reserved = 0xffffffff;
	if (hostile("reserved != 0", &bad, sizeof(bad), &fd, 1, EINVAL))
		return FAIL;
	if (hostile("truncated (8 bytes)", &req, 8, &fd, 1, 0) ||
	    hostile("one byte", &req, 1, &fd, 1, 0) || hostile("empty message", &req, 0, &fd, 1, 0))
		return FAIL;
	for (i = 0; i < 3; i++) {
		int r = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

		EXPECT(r >= 0 && read(r, rnd, sizeof(rnd)) == sizeof(rnd), "/dev/urandom");
		close(r);
		if (hostile("16 random bytes with a good fd", rnd, sizeof(rnd), &fd, 1, 0) ||
		    hostile("16 random bytes, no fd", rnd, sizeof(rnd), NULL, 0, 0))
			return FAIL;
	}
	big = calloc(1, 65536);
	EXPECT(big, "calloc");
	memcpy(big, &req, sizeof(req));
	if (hostile("64 KiB message", big, 65536, &fd, 1, 0) ||
	    hostile("17 bytes (request + 1)", big, sizeof(req) + 1, &fd, 1, 0))
		return FAIL;
	free(big);
	two[0] = fd;
	two[1] = fd;
	if (hostile("two fds", &req, sizeof(req), two, 2, 0))
		return FAIL;
	for (i = 0; i < 200; i++) {
		many[i] = dup(fd);
		EXPECT(many[i] >= 0, "dup: %s", strerror(errno));
	}
	if (hostile("200 fds in one message", &req, sizeof(req), many, 200, 0))
		return FAIL;
	for (i = 0; i < 200; i++)
		close(many[i]);

	EXPECT(daemon_serves(path), "the daemon does not serve after the hostile messages");

	/* More idle clients than the daemon takes (64), then all gone. */
	for (i = 0; i < 80; i++)
		conns[i] = sock_connect();
	for (i = 0; i < 80; i++)
		if (conns[i] >= 0)
			close(conns[i]);
	EXPECT(daemon_serves(path), "the daemon does not serve after 80 idle clients left");

	after = wait_fd_count(pid, baseline);
	EXPECT(after <= baseline, "umm-fs holds %d fds after the hostile messages, %d before",
	       after, baseline);
	note("umm-fs holds %d fds after", after);
	close(opath);
	close(devnull);
	close(memfd);
	close(dirfd);
	if (shmfd >= 0)
		close(shmfd);
	close(fd);
	EXPECT_OK(unlink(path));
	EXPECT_OK(rmdir(dpath));
	return PASS;
}

/* A client that sends requests but never reads its replies must not stop the daemon. */
static int test_export_socket_never_blocks_on_a_client(void)
{
	struct umm_req req = good_req();
	char path[4096];
	int fd, s, i, sent = 0, baseline, after;
	pid_t pid = umm_fs_pid();

	EXPECT(!get_sock_path(), "no socket path");
	mnt_path(path, sizeof(path), "sock-flood");
	EXPECT_OK(make_buffer(path, PAGE, 26, 0644));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	EXPECT_OK(fd);
	EXPECT(daemon_serves(path), "the daemon does not serve before the test");
	baseline = steady_fd_count(pid);
	s = sock_connect();
	EXPECT(s >= 0, "connect: %s", strerror(errno));
	EXPECT_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	for (i = 0; i < 2000; i++) {
		union {
			struct cmsghdr hdr;
			char buf[CMSG_SPACE(sizeof(int))];
		} u;
		struct iovec iov = { .iov_base = &req, .iov_len = sizeof(req) };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = u.buf,
				     .msg_controllen = sizeof(u.buf) };
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
		if (sendmsg(s, &mh, MSG_NOSIGNAL) < 0) {
			if (errno == EAGAIN) {
				usleep(2000);
				/* Give the daemon a moment, then stop at the second stall. */
				if (sendmsg(s, &mh, MSG_NOSIGNAL) < 0)
					break;
			} else {
				break;
			}
		}
		sent++;
	}
	note("sent %d requests without reading a reply", sent);
	/* With that client stuck, others are still served. */
	EXPECT(daemon_serves(path), "the daemon does not serve while a client does not read");
	close(s);
	EXPECT(daemon_serves(path), "the daemon does not serve after the flood");
	after = wait_fd_count(pid, baseline);
	EXPECT(after <= baseline, "umm-fs holds %d fds after the flood, %d before", after,
	       baseline);
	close(fd);
	EXPECT_OK(unlink(path));
	return PASS;
}

/* libumm's own refusals (its documented errnos), and the daemon's behind them. */
static int test_umm_export_refuses_foreign_fds(void)
{
	char path[4096];
	int fd, memfd, dfd;

	mnt_path(path, sizeof(path), "export-foreign");
	EXPECT_OK(make_buffer(path, PAGE, 27, 0644));
	fd = open(path, O_PATH | O_CLOEXEC);
	EXPECT_OK(fd);
	EXPECT_ERRNO(umm_export(fd), EBADF);
	close(fd);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	EXPECT_OK(fd);
	EXPECT_ERRNO(umm_export(fd), EXDEV);
	close(fd);
	memfd = memfd_create("not-umm", MFD_CLOEXEC);
	EXPECT_OK(memfd);
	EXPECT_ERRNO(umm_export(memfd), EXDEV);
	close(memfd);
	dfd = open(umm_mnt(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	EXPECT_OK(dfd);
	EXPECT_ERRNO(umm_export(dfd), EISDIR);
	close(dfd);
	EXPECT_ERRNO(umm_export(-1), EBADF);
	EXPECT_ERRNO(umm_export(1000), EBADF);
	EXPECT_OK(unlink(path));
	return PASS;
}

/* One worker of the churn check: @n rounds of create, seal, open, export, map, unlink. */
static int churn_worker(int id, int n)
{
	char path[4096], name[64];
	unsigned char *m;
	int i, fd, efd;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "churn-%d-%d", id, i);
		mnt_path(path, sizeof(path), name);
		EXPECT_OK(make_buffer(path, 5000 + (size_t)i, (unsigned)i, 0644));
		fd = open(path, O_RDWR | O_CLOEXEC);
		EXPECT_OK(fd);
		m = mmap(NULL, 5000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m != MAP_FAILED) {
			m[1] ^= 1;
			munmap(m, 5000);
		} else {
			EXPECT(errno == ENODEV &&
				       !(mode_is_passthrough() && build_has_passthrough()),
			       "worker %d round %d: mmap of the FUSE fd: %s", id, i,
			       strerror(errno));
		}
		efd = umm_export(fd);
		EXPECT(efd >= 0,
		       "worker %d round %d: umm_export of an O_RDWR open of a sealed buffer: %s",
		       id, i, strerror(errno));
		m = mmap(NULL, 5000, PROT_READ | PROT_WRITE, MAP_SHARED, efd, 0);
		EXPECT(m != MAP_FAILED, "mmap of the export: %s", strerror(errno));
		m[2] ^= 1;
		munmap(m, 5000);
		close(efd);
		close(fd);
		EXPECT_OK(unlink(path));
	}
	return PASS;
}

/*
 * Buffers and fds come back (SPEC 7): after 4 processes x 50 rounds of create,
 * open, map, export and unlink in parallel, the daemon holds the fds it held
 * before and the mount's budget is back where it was.
 */
static int test_daemon_returns_to_baseline_after_churn(void)
{
	pid_t pid = umm_fs_pid(), kids[4];
	int baseline, after, status, i, failed = 0;
	long long used, used_after;
	char path[4096];

	mnt_path(path, sizeof(path), "churn-warmup");
	EXPECT_OK(make_buffer(path, PAGE, 1, 0644));
	EXPECT(daemon_serves(path), "the daemon does not serve");
	EXPECT_OK(unlink(path));
	used = wait_mount_used(0) == 0 ? 0 : mount_used();
	baseline = steady_fd_count(pid);
	EXPECT(baseline > 0, "cannot count the fds of umm-fs");
	for (i = 0; i < 4; i++) {
		kids[i] = fork();
		EXPECT(kids[i] >= 0, "fork: %s", strerror(errno));
		if (kids[i] == 0)
			_exit(churn_worker(i, 50));
	}
	for (i = 0; i < 4; i++) {
		if (waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			failed++;
	}
	EXPECT(!failed, "%d of 4 churn workers failed", failed);
	after = wait_fd_count(pid, baseline);
	EXPECT(after <= baseline, "umm-fs holds %d fds after the churn, %d before", after,
	       baseline);
	used_after = wait_mount_used(used);
	EXPECT(used_after == used, "df used %lld after the churn, %lld before", used_after, used);
	note("200 buffers made, shared and removed; umm-fs back to %d fds", after);
	return PASS;
}

/*
 * A second umm-fs, mounted at @dir with its socket at @sock: its pid, or -1.
 * It is waited for (5 s at most) until @dir is a FUSE mount.
 */
static pid_t second_mount(const char *dir, const char *sock)
{
	const char *bin = getenv("UMM_FS_BINARY");
	char opt[4200];
	struct stat st, up;
	char parent[4200];
	pid_t pid;

	if (!bin)
		return -1;
	snprintf(opt, sizeof(opt), "socket=%s", sock);
	snprintf(parent, sizeof(parent), "%s/..", dir);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, 2);
		execl(bin, bin, "-f", dir, "-o", opt, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		if (!stat(dir, &st) && !stat(parent, &up) && st.st_dev != up.st_dev)
			return pid;
		usleep(10000);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return -1;
}

static void second_unmount(const char *dir, pid_t pid)
{
	pid_t u = fork();

	if (!u) {
		execlp("fusermount3", "fusermount3", "-u", "-q", dir, (char *)NULL);
		_exit(127);
	}
	if (u > 0)
		waitpid(u, NULL, 0);
	umount2(dir, MNT_DETACH);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	rmdir(dir);
}

/* A buffer of another umm mount is no buffer of this one: an error reply. */
static int test_export_socket_refuses_another_mounts_fd(void)
{
	const char *tmp = getenv("UMM_TMP");
	struct umm_req req = good_req();
	char dir[4096], sock[4096], path[4200], own[4096];
	int fd, ret;
	pid_t pid;

	EXPECT(tmp, "UMM_TMP is not set");
	EXPECT(!get_sock_path(), "no socket path");
	snprintf(dir, sizeof(dir), "%s/second-mount", tmp);
	snprintf(sock, sizeof(sock), "%s/second-sock", tmp);
	EXPECT_OK(mkdir(dir, 0755));
	pid = second_mount(dir, sock);
	if (pid < 0) {
		rmdir(dir);
		EXPECT(0, "cannot mount a second umm-fs at %s", dir);
	}
	snprintf(path, sizeof(path), "%s/b", dir);
	fd = make_buffer(path, PAGE, 31, 0644) ? -1 : open(path, O_RDWR | O_CLOEXEC);
	ret = fd < 0 ? FAIL : hostile("fd of another FUSE mount", &req, sizeof(req), &fd, 1, 0);
	if (fd >= 0)
		close(fd);
	second_unmount(dir, pid);
	EXPECT(fd >= 0, "cannot make a buffer on the second mount");
	if (ret != PASS)
		return ret;
	mnt_path(own, sizeof(own), "sock-second");
	EXPECT_OK(make_buffer(own, PAGE, 32, 0644));
	EXPECT(daemon_serves(own), "the daemon does not serve after the foreign fd");
	return PASS;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	umm_mnt();
	if (geteuid() != 0) {
		printf("SKIP: the permission tests switch uids and need root\n");
		return 77;
	}
	RUN(test_second_uid_is_refused_by_mode_bits);
	RUN(test_readonly_opener_gets_no_writable_fd);
	RUN(test_exported_fd_cannot_grow_the_buffer);
	RUN(test_export_socket_answers_a_good_request);
	RUN(test_export_socket_survives_hostile_messages);
	RUN(test_export_socket_never_blocks_on_a_client);
	RUN(test_umm_export_refuses_foreign_fds);
	RUN(test_export_socket_refuses_another_mounts_fd);
	RUN(test_daemon_returns_to_baseline_after_churn);
	return itest_finish("test_perm");
}
