// SPDX-License-Identifier: MIT
/*
 * test_share.c - processes sharing buffers (SPEC 6): by path, by an fd passed
 * with SCM_RIGHTS, the shm pattern (open, ftruncate, mmap, from several
 * processes), zero copy through FUSE passthrough (proved with
 * /proc/self/pagemap), truncation under a mapping as on tmpfs, unlinked
 * buffers kept by their holder, and the access mode of exported fds.
 *
 * Every fd of a memfd-backed buffer maps MAP_SHARED, in every mode: with
 * passthrough the mapping is the buffer's own memfd pages (the same PFNs as
 * the exported fd's); with "nopassthrough", and in a umm-fs built without
 * passthrough (libfuse < 3.17) in both modes, it is the mount's page cache,
 * coherent among the mount's openers and with read(2)/write(2) but not the
 * exported fd's pages: the zero-copy checks skip there with a message.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#include <umm.h>

#include "itest.h"

#define PAGE 4096UL

/* Is a mapping of the FUSE fd the buffer's own pages (passthrough), not the page cache? */
static int expect_zero_copy(void)
{
	return mode_is_passthrough() && build_has_passthrough();
}

/* What a mapping of a FUSE fd is in this mode, for messages. */
static const char *fuse_map_kind(void)
{
	return expect_zero_copy() ? "mmap of the FUSE fd (the memfd's pages)" :
				    "mmap of the FUSE fd (the mount's page cache)";
}

/*
 * open_map() - open @path with @oflags and map @len bytes MAP_SHARED of that
 * FUSE fd, as any client may in every mode. Sets *@fdp (the fd mapped) and
 * *@how. Return: the mapping, or MAP_FAILED with a message printed.
 */
static void *open_map(const char *path, int oflags, size_t len, int *fdp, const char **how)
{
	int prot = (oflags & O_ACCMODE) == O_RDONLY ? PROT_READ : PROT_READ | PROT_WRITE;
	void *p;
	int fd;

	fd = open(path, oflags | O_CLOEXEC);
	if (fd < 0) {
		note("open %s: %s", path, strerror(errno));
		return MAP_FAILED;
	}
	p = mmap(NULL, len, prot, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		note("mmap of the FUSE fd of %s (mode %s): %s", path,
		     mode_is_passthrough() ? "passthrough" : "nopassthrough", strerror(errno));
		close(fd);
		return MAP_FAILED;
	}
	*fdp = fd;
	*how = fuse_map_kind();
	return p;
}

static sigjmp_buf probe_env;

static void probe_sigbus(int sig)
{
	(void)sig;
	siglongjmp(probe_env, 1);
}

/*
 * Read the byte at @p into *@v. Return 0, or 1 when the read faults with
 * SIGBUS (a page past the end of the file), as on tmpfs.
 */
static int read_faults(const volatile unsigned char *p, unsigned char *v)
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

static int send_fd(int sock, int fd)
{
	char byte = 'F';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;

	memset(&u, 0, sizeof(u));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) {
		errno = EPROTO;
		return -1;
	}
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* One byte over a pipe, to take turns. */
static int say(int fd, char c)
{
	return write(fd, &c, 1) == 1 ? 0 : -1;
}

static int hear(int fd, char want)
{
	char c;

	return read(fd, &c, 1) == 1 && c == want ? 0 : -1;
}

/* Child of the share-by-path check: maps by path, then takes turns. */
static int share_by_path_child(const char *path, size_t len, int in, int out)
{
	const char *how;
	unsigned char *p;
	int fd;

	p = open_map(path, O_RDWR, len, &fd, &how);
	if (p == MAP_FAILED)
		return FAIL;
	EXPECT(check_pattern(p, PAGE, 1) < 0, "child: page 0 is not what was written");
	EXPECT(!say(out, 'm'), "child: pipe");
	EXPECT(!hear(in, 'w'), "child: pipe");
	/* The parent wrote pattern 2 into page 3 through its own mapping. */
	EXPECT(check_pattern(p + 3 * PAGE, PAGE, 2) < 0,
	       "child: the parent's write to page 3 is not seen through the child's %s", how);
	fill_pattern(p + 5 * PAGE, PAGE, 3);
	EXPECT(!say(out, 'w'), "child: pipe");
	munmap(p, len);
	close(fd);
	return PASS;
}

static int test_two_processes_share_a_buffer_by_path(void)
{
	const size_t len = 16 * PAGE;
	int to_child[2], to_parent[2], status, fd, rfd;
	char path[4096];
	unsigned char *p, *buf;
	const char *how;
	pid_t pid;

	mnt_path(path, sizeof(path), "share-by-path");
	EXPECT_OK(make_buffer(path, len, 1, 0644));
	p = open_map(path, O_RDWR, len, &fd, &how);
	EXPECT(p != MAP_FAILED, "parent cannot map %s", path);
	note("mapping: %s", how);
	EXPECT_OK(pipe2(to_child, O_CLOEXEC));
	EXPECT_OK(pipe2(to_parent, O_CLOEXEC));
	pid = fork();
	EXPECT(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(to_child[1]);
		close(to_parent[0]);
		munmap(p, len);
		close(fd);
		_exit(share_by_path_child(path, len, to_child[0], to_parent[1]));
	}
	close(to_child[0]);
	close(to_parent[1]);
	EXPECT(!hear(to_parent[0], 'm'), "the child did not map the buffer");
	fill_pattern(p + 3 * PAGE, PAGE, 2);
	EXPECT(!say(to_child[1], 'w'), "pipe");
	EXPECT(!hear(to_parent[0], 'w'), "the child did not finish");
	EXPECT(check_pattern(p + 5 * PAGE, PAGE, 3) < 0,
	       "the child's write to page 5 is not seen through the parent's %s", how);
	EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status),
	       "child failed (status 0x%x)", status);
	/* Whichever path wrote them, read(2) of a new open sees the bytes. */
	buf = malloc(len);
	EXPECT(buf, "malloc");
	rfd = open(path, O_RDONLY | O_CLOEXEC);
	EXPECT_OK(rfd);
	EXPECT_OK(pread_all(rfd, buf, len, 0));
	EXPECT(check_pattern(buf + 3 * PAGE, PAGE, 2) < 0, "read(2) does not see page 3");
	EXPECT(check_pattern(buf + 5 * PAGE, PAGE, 3) < 0, "read(2) does not see page 5");
	EXPECT(check_pattern(buf, PAGE, 1) < 0, "read(2): page 0 changed");
	close(rfd);
	free(buf);
	munmap(p, len);
	close(fd);
	EXPECT_OK(unlink(path));
	return PASS;
}

/*
 * Child of the SCM_RIGHTS check: receives a FUSE fd and then an exported fd
 * and checks that each carries exactly its access and the same bytes.
 */
static int scm_child(int sock, size_t len)
{
	unsigned char *p, *q;
	int ffd, efd, e2;

	ffd = recv_fd(sock);
	EXPECT(ffd >= 0, "child: no FUSE fd received: %s", strerror(errno));
	EXPECT((fcntl(ffd, F_GETFL) & O_ACCMODE) == O_RDWR, "child: received FUSE fd not O_RDWR");
	/* A received FUSE fd maps in every mode, as the sender's own would. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, ffd, 0);
	EXPECT(p != MAP_FAILED, "child: %s, received: %s", fuse_map_kind(), strerror(errno));
	EXPECT(check_pattern(p, len, 4) < 0, "child: received FUSE fd maps other bytes");
	munmap(p, len);
	/* The receiver trades the received FUSE fd itself. */
	e2 = umm_export(ffd);
	EXPECT(e2 >= 0, "child: umm_export of the received FUSE fd: %s", strerror(errno));
	EXPECT((fcntl(e2, F_GETFL) & O_ACCMODE) == O_RDWR,
	       "child: export of an O_RDWR fd not O_RDWR");
	q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, e2, 0);
	EXPECT(q != MAP_FAILED, "child: mmap of its own export: %s", strerror(errno));
	EXPECT(check_pattern(q, len, 4) < 0, "child: its export maps other bytes");
	fill_pattern(q, PAGE, 5);
	munmap(q, len);
	close(e2);
	close(ffd);
	EXPECT(!say(sock, 'a'), "child: socket");

	efd = recv_fd(sock);
	EXPECT(efd >= 0, "child: no exported fd received: %s", strerror(errno));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, efd, 0);
	EXPECT(p != MAP_FAILED, "child: mmap of the received exported fd: %s", strerror(errno));
	EXPECT(check_pattern(p, PAGE, 5) < 0, "child: received exported fd: page 0 differs");
	fill_pattern(p + PAGE, PAGE, 6);
	munmap(p, len);
	close(efd);
	EXPECT(!say(sock, 'b'), "child: socket");

	/* A read-only FUSE fd: the receiver gets read-only access, no more. */
	ffd = recv_fd(sock);
	EXPECT(ffd >= 0, "child: no read-only fd received: %s", strerror(errno));
	EXPECT((fcntl(ffd, F_GETFL) & O_ACCMODE) == O_RDONLY, "child: read-only fd changed mode");
	e2 = umm_export(ffd);
	if (e2 < 0) {
		EXPECT(errno == EACCES, "child: umm_export of a read-only fd: %s", strerror(errno));
	} else {
		EXPECT((fcntl(e2, F_GETFL) & O_ACCMODE) == O_RDONLY,
		       "child: export of a read-only fd is writable");
		EXPECT_ERRNO(mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, e2, 0) ==
					     MAP_FAILED ?
				     -1 :
				     0,
			     EACCES);
		close(e2);
	}
	close(ffd);
	EXPECT(!say(sock, 'c'), "child: socket");
	return PASS;
}

static int test_fd_passed_with_scm_rights_shares_the_buffer(void)
{
	const size_t len = 8 * PAGE;
	char path[4096];
	unsigned char *m;
	int sv[2], ffd, efd, rofd, status;
	pid_t pid;

	mnt_path(path, sizeof(path), "share-scm");
	EXPECT_OK(make_buffer(path, len, 4, 0600));
	EXPECT_OK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	EXPECT(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(sv[0]);
		_exit(scm_child(sv[1], len));
	}
	close(sv[1]);
	ffd = open(path, O_RDWR | O_CLOEXEC);
	EXPECT_OK(ffd);
	EXPECT_OK(send_fd(sv[0], ffd));
	close(ffd);
	EXPECT(!hear(sv[0], 'a'), "child failed with the FUSE fd");

	efd = umm_open(path, O_RDWR);
	EXPECT(efd >= 0, "umm_open: %s", strerror(errno));
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, efd, 0);
	EXPECT(m != MAP_FAILED, "mmap of umm_open's fd: %s", strerror(errno));
	EXPECT(check_pattern(m, PAGE, 5) < 0, "the child's write through its export is not seen");
	EXPECT_OK(send_fd(sv[0], efd));
	EXPECT(!hear(sv[0], 'b'), "child failed with the exported fd");
	EXPECT(check_pattern(m + PAGE, PAGE, 6) < 0,
	       "the child's write through the passed exported fd is not seen");

	rofd = open(path, O_RDONLY | O_CLOEXEC);
	EXPECT_OK(rofd);
	EXPECT_OK(send_fd(sv[0], rofd));
	close(rofd);
	EXPECT(!hear(sv[0], 'c'), "child failed with the read-only fd");
	EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status),
	       "child failed (status 0x%x)", status);
	munmap(m, len);
	close(efd);
	close(sv[0]);
	EXPECT_OK(unlink(path));
	return PASS;
}

static int test_passthrough_mapping_is_the_memfd_pages(void)
{
	const size_t npages = 32, len = npages * PAGE;
	volatile unsigned char *p, *q;
	char path[4200], dir[4096];
	unsigned char *buf;
	int fd, mfd, pm;

	if (!mode_is_passthrough()) {
		note("mode nopassthrough: the FUSE fd maps the page cache, no zero copy to prove");
		return SKIP;
	}
	if (!build_has_passthrough()) {
		note("SKIP: umm-fs was built without FUSE passthrough (libfuse < 3.17): "
		     "the FUSE fd maps the page cache, no zero copy to prove");
		return SKIP;
	}
	/*
	 * On memfd: pagemap shows the memfd's own pages; a dma-buf's mapping
	 * (udmabuf, where present) is VM_PFNMAP, which pagemap leaves empty
	 * (tests/vm/test_dmabuf checks those by content).
	 */
	mnt_path(dir, sizeof(dir), "zero-copy-memfd");
	EXPECT(!mkdir(dir, 0755) || errno == EEXIST, "mkdir %s: %s", dir, strerror(errno));
	EXPECT_OK(setxattr(dir, "user.umm.heap", "memfd", 5, 0));
	snprintf(path, sizeof(path), "%s/zero-copy", dir);
	EXPECT_OK(make_buffer(path, len, 7, 0644));
	fd = open(path, O_RDWR | O_CLOEXEC);
	EXPECT_OK(fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT(p != MAP_FAILED, "mmap of the FUSE fd in passthrough mode: %s", strerror(errno));
	mfd = umm_open(path, O_RDWR);
	EXPECT(mfd >= 0, "umm_open: %s", strerror(errno));
	q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	EXPECT(q != MAP_FAILED, "mmap of the memfd: %s", strerror(errno));

	/* Write through the FUSE mapping, read through the memfd's. */
	for (size_t i = 0; i < npages; i++)
		p[i * PAGE + 17] = (unsigned char)(0xa0 + i);
	for (size_t i = 0; i < npages; i++) {
		EXPECT(q[i * PAGE + 17] == (unsigned char)(0xa0 + i),
		       "page %zu: write through the FUSE mapping not in the memfd", i);
		q[i * PAGE + 99] = (unsigned char)(0x11 + i);
	}
	for (size_t i = 0; i < npages; i++)
		EXPECT(p[i * PAGE + 99] == (unsigned char)(0x11 + i),
		       "page %zu: write through the memfd not in the FUSE mapping", i);

	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	EXPECT_OK(pm);
	for (size_t i = 0; i < npages; i++) {
		long long a = pfn_of(pm, (const void *)(p + i * PAGE));
		long long b = pfn_of(pm, (const void *)(q + i * PAGE));

		EXPECT(a != -2 && b != -2, "reading /proc/self/pagemap: %s", strerror(errno));
		EXPECT(a != -1, "page %zu of the FUSE mapping is not present after a write", i);
		EXPECT(b != -1, "page %zu of the memfd mapping is not present after a write", i);
		if (a == 0 && b == 0) {
			note("SKIP: pagemap hides PFNs (no CAP_SYS_ADMIN)");
			return SKIP;
		}
		EXPECT(a == b,
		       "page %zu: FUSE mapping PFN 0x%llx, memfd PFN 0x%llx: not the same memory",
		       i, a, b);
	}
	note("%zu pages: the FUSE fd mapping and the memfd mapping share every PFN", npages);
	close(pm);

	/* pread of the passthrough fd sees the mapping's bytes too. */
	buf = malloc(len);
	EXPECT(buf, "malloc");
	EXPECT_OK(pread_all(fd, buf, len, 0));
	for (size_t i = 0; i < npages; i++)
		EXPECT(buf[i * PAGE + 17] == (unsigned char)(0xa0 + i) &&
			       buf[i * PAGE + 99] == (unsigned char)(0x11 + i),
		       "pread of the FUSE fd misses the write to page %zu", i);
	free(buf);
	munmap((void *)p, len);
	munmap((void *)q, len);
	close(fd);
	close(mfd);
	EXPECT_OK(unlink(path));
	return PASS;
}

/*
 * Every fd of the buffer maps MAP_SHARED, in every mode, whatever was opened
 * first: here an O_WRONLY open comes first and stays open. A mapping needs
 * read access as on any file (EACCES for the O_WRONLY fd itself, and for
 * PROT_WRITE of an O_RDONLY fd), and umm_open()'s fd maps too.
 */
static int test_mmap_of_fuse_fd_works_in_every_mode(void)
{
	const size_t len = 4 * PAGE;
	char path[4096];
	unsigned char *p, *q;
	int fd, rfd, wfd, efd;
	unsigned char *m, *buf;

	mnt_path(path, sizeof(path), "mmap-mode");
	EXPECT_OK(make_buffer(path, len, 8, 0644));
	wfd = open(path, O_WRONLY | O_CLOEXEC);
	EXPECT_OK(wfd);
	fd = open(path, O_RDWR | O_CLOEXEC);
	EXPECT_OK(fd);
	rfd = open(path, O_RDONLY | O_CLOEXEC);
	EXPECT_OK(rfd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT(p != MAP_FAILED, "%s, O_RDWR: %s", fuse_map_kind(), strerror(errno));
	EXPECT(check_pattern(p, len, 8) < 0, "the O_RDWR fd's mapping shows other bytes");
	q = mmap(NULL, len, PROT_READ, MAP_SHARED, rfd, 0);
	EXPECT(q != MAP_FAILED, "%s, O_RDONLY: %s", fuse_map_kind(), strerror(errno));
	EXPECT(check_pattern(q, len, 8) < 0, "the O_RDONLY fd's mapping shows other bytes");
	/* The two mappings, and read(2), see one another's writes. */
	fill_pattern(p + 2 * PAGE, PAGE, 15);
	EXPECT(check_pattern(q + 2 * PAGE, PAGE, 15) < 0,
	       "the read-only mapping misses a write through the read-write one");
	buf = malloc(len);
	EXPECT(buf, "malloc");
	EXPECT_OK(pread_all(rfd, buf, len, 0));
	EXPECT(check_pattern(buf + 2 * PAGE, PAGE, 15) < 0,
	       "read(2) misses a write through the mapping");
	fill_pattern(buf, PAGE, 16);
	EXPECT_OK(pwrite_all(wfd, buf, PAGE, 3 * PAGE));
	EXPECT(check_pattern(p + 3 * PAGE, PAGE, 16) < 0 &&
		       check_pattern(q + 3 * PAGE, PAGE, 16) < 0,
	       "the mappings miss a write(2) to the O_WRONLY fd");
	munmap(p, len);
	munmap(q, len);
	/* Access modes as on any file. */
	EXPECT_ERRNO(
		mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0) == MAP_FAILED ? -1 : 0,
		EACCES);
	EXPECT_ERRNO(mmap(NULL, len, PROT_READ, MAP_SHARED, wfd, 0) == MAP_FAILED ? -1 : 0, EACCES);
	/* The pattern again, for what follows. */
	fill_pattern(buf, len, 8);
	EXPECT_OK(pwrite_all(fd, buf, len, 0));
	free(buf);
	close(wfd);
	/* In every mode umm_open gives a mappable fd, coherent with read/write. */
	efd = umm_open(path, O_RDWR);
	EXPECT(efd >= 0, "umm_open: %s", strerror(errno));
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, efd, 0);
	EXPECT(m != MAP_FAILED, "mmap of umm_open's fd: %s", strerror(errno));
	EXPECT(check_pattern(m, len, 8) < 0, "umm_open mapping shows other bytes");
	fill_pattern(m + PAGE, PAGE, 9);
	buf = malloc(len);
	EXPECT(buf, "malloc");
	EXPECT_OK(pread_all(rfd, buf, len, 0));
	EXPECT(check_pattern(buf + PAGE, PAGE, 9) < 0,
	       "read(2) of the FUSE fd misses a write through the exported mapping");
	fill_pattern(buf, PAGE, 10);
	EXPECT_OK(pwrite_all(fd, buf, PAGE, 0));
	EXPECT(check_pattern(m, PAGE, 10) < 0,
	       "the exported mapping misses a write(2) to the FUSE fd");
	free(buf);
	munmap(m, len);
	close(efd);
	close(fd);
	close(rfd);
	EXPECT_OK(unlink(path));
	return PASS;
}

/* Child of the shm-pattern check: opens and maps the path, then takes turns. */
static int shm_child(const char *path, size_t len, int in, int out)
{
	unsigned char *p, page[PAGE];
	struct stat st;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC);
	EXPECT(fd >= 0, "child: open %s: %s", path, strerror(errno));
	EXPECT_OK(fstat(fd, &st));
	EXPECT(st.st_size == (off_t)len, "child: size %lld, expected %zu", (long long)st.st_size,
	       len);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT(p != MAP_FAILED, "child: %s: %s", fuse_map_kind(), strerror(errno));
	EXPECT(check_pattern(p, PAGE, 20) < 0, "child: the parent's page 0 is not in its mapping");
	fill_pattern(p + PAGE, PAGE, 21);
	fill_pattern(page, PAGE, 23);
	EXPECT_OK(pwrite_all(fd, page, PAGE, 3 * PAGE));
	EXPECT(check_pattern(p + 3 * PAGE, PAGE, 23) < 0,
	       "child: its own write(2) to page 3 is not in its mapping");
	EXPECT(!say(out, 'm'), "child: pipe");
	EXPECT(!hear(in, 'w'), "child: pipe");
	EXPECT(check_pattern(p + 2 * PAGE, PAGE, 22) < 0,
	       "child: the parent's write to page 2 is not in its mapping");
	EXPECT_OK(pread_all(fd, page, PAGE, 4 * PAGE));
	EXPECT(check_pattern(page, PAGE, 24) < 0,
	       "child: read(2) misses the parent's write(2) to page 4");
	EXPECT(!say(out, 'd'), "child: pipe");
	/* It keeps its mapping until the parent has checked the export. */
	EXPECT(!hear(in, 'x'), "child: pipe");
	EXPECT(check_pattern(p + 5 * PAGE, PAGE, 25) < 0,
	       "child: a write through the parent's mapping after the export is not seen");
	munmap(p, len);
	close(fd);
	return PASS;
}

/*
 * The shm pattern: open(O_RDWR | O_CREAT), ftruncate(1 MiB), mmap(MAP_SHARED)
 * of that very fd works, in every mode; a second process opens and maps the
 * path while the first holds its mapping, and each sees the other's writes,
 * through the mappings and through read(2)/write(2) of either fd. The first
 * export keeps those pages: with passthrough the FUSE mapping is the exported
 * fd's memory, PFN for PFN (pagemap); without it the export holds the bytes
 * the mount's page cache had. From then on the size is fixed.
 */
static int test_shm_pattern_shares_pages_between_processes(void)
{
	const size_t len = 1 << 20, npages = len / PAGE;
	int to_child[2], to_parent[2], status, fd, rfd, efd, pm;
	char dir[4096], path[4200];
	unsigned char *p, *x, page[PAGE];
	pid_t pid;

	mnt_path(dir, sizeof(dir), "shm");
	EXPECT(!mkdir(dir, 0755) || errno == EEXIST, "mkdir %s: %s", dir, strerror(errno));
	/* memfd: the heap whose exported fd pagemap can follow (udmabuf's is VM_PFNMAP) */
	EXPECT_OK(setxattr(dir, "user.umm.heap", "memfd", 5, 0));
	snprintf(path, sizeof(path), "%s/segment", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	EXPECT_OK(fd);
	EXPECT_OK(ftruncate(fd, (off_t)len));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT(p != MAP_FAILED, "%s of the creating fd: %s", fuse_map_kind(), strerror(errno));
	fill_pattern(p, PAGE, 20);
	EXPECT_OK(pipe2(to_child, O_CLOEXEC));
	EXPECT_OK(pipe2(to_parent, O_CLOEXEC));
	pid = fork();
	EXPECT(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(to_child[1]);
		close(to_parent[0]);
		munmap(p, len);
		close(fd);
		_exit(shm_child(path, len, to_child[0], to_parent[1]));
	}
	close(to_child[0]);
	close(to_parent[1]);
	EXPECT(!hear(to_parent[0], 'm'), "the child did not map the buffer");
	EXPECT(check_pattern(p + PAGE, PAGE, 21) < 0,
	       "the child's write through its mapping is not in the parent's");
	EXPECT(check_pattern(p + 3 * PAGE, PAGE, 23) < 0,
	       "the child's write(2) is not in the parent's mapping");
	fill_pattern(p + 2 * PAGE, PAGE, 22);
	fill_pattern(page, PAGE, 24);
	EXPECT_OK(pwrite_all(fd, page, PAGE, 4 * PAGE));
	EXPECT(check_pattern(p + 4 * PAGE, PAGE, 24) < 0,
	       "the parent's own write(2) to page 4 is not in its mapping");
	EXPECT(!say(to_child[1], 'w'), "pipe");
	EXPECT(!hear(to_parent[0], 'd'), "the child did not finish its checks");
	/* A third open, read-only, reads every page written, whichever way. */
	rfd = open(path, O_RDONLY | O_CLOEXEC);
	EXPECT_OK(rfd);
	for (unsigned i = 0; i < 5; i++) {
		EXPECT_OK(pread_all(rfd, page, PAGE, (off_t)(i * PAGE)));
		EXPECT(check_pattern(page, PAGE, 20 + i) < 0, "read(2) of page %u differs", i);
	}
	close(rfd);

	/* The first export, while the child still holds its mapping. */
	efd = umm_export(fd);
	EXPECT(efd >= 0, "umm_export of the creating fd: %s", strerror(errno));
	x = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, efd, 0);
	EXPECT(x != MAP_FAILED, "mmap of the exported fd: %s", strerror(errno));
	for (unsigned i = 0; i < 5; i++)
		EXPECT(check_pattern(x + i * PAGE, PAGE, 20 + i) < 0,
		       "page %u of the exported fd's mapping differs from what was written", i);
	EXPECT(x[len - 1] == 0, "the last byte of the exported buffer is not zero");
	if (expect_zero_copy()) {
		pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		EXPECT_OK(pm);
		for (size_t i = 0; i < npages; i++) {
			long long a, b;

			p[i * PAGE + 7] = (unsigned char)i;
			EXPECT(x[i * PAGE + 7] == (unsigned char)i,
			       "page %zu: a write through the FUSE mapping is not in the export",
			       i);
			a = pfn_of(pm, p + i * PAGE);
			b = pfn_of(pm, x + i * PAGE);
			EXPECT(a != -2 && b != -2, "reading /proc/self/pagemap: %s",
			       strerror(errno));
			EXPECT(a != -1 && b != -1, "page %zu not present after a write", i);
			if (a == 0 && b == 0) {
				note("pagemap hides PFNs (no CAP_SYS_ADMIN): zero copy not proved");
				break;
			}
			EXPECT(a == b, "page %zu: FUSE mapping PFN 0x%llx, exported fd PFN 0x%llx",
			       i, a, b);
		}
		close(pm);
		note("%zu pages: the shm mapping of the FUSE fd is the exported fd's memory",
		     npages);
	} else {
		note("mode %s, %s: the FUSE mapping is the mount's page cache, a copy of the "
		     "exported memory; no zero copy to prove",
		     mode_is_passthrough() ? "passthrough" : "nopassthrough",
		     build_has_passthrough() ? "passthrough build" : "build without passthrough");
	}
	/* The mount's openers stay coherent with one another after the export. */
	fill_pattern(p + 5 * PAGE, PAGE, 25);
	EXPECT(!say(to_child[1], 'x'), "pipe");
	EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status),
	       "child failed (status 0x%x)", status);
	/* From the first export on, the size is fixed. */
	EXPECT_ERRNO(ftruncate(fd, (off_t)(2 * len)), EBUSY);
	EXPECT_ERRNO(ftruncate(fd, (off_t)PAGE), EBUSY);
	EXPECT_ERRNO(pwrite(fd, page, 1, (off_t)len), EPERM);
	munmap(x, len);
	close(efd);
	munmap(p, len);
	close(fd);
	EXPECT_OK(unlink(path));
	return PASS;
}

/* What a mapping shows after truncations, the same on tmpfs and on umm. */
struct trunc_outcome {
	int fault_past_end; /* page 2 faults (SIGBUS) after the shrink */
	int fault_in_last; /* the last page, partly kept, faults */
	unsigned char kept; /* byte 4096 + 99, kept by the shrink */
	unsigned char cut; /* byte 4096 + 100, cut by the shrink */
	unsigned char regrown; /* byte 3 * 4096 + 5, after growing again */
	int fault_after_grow; /* page 3 faults after growing again */
};

/*
 * Map 4 pages of @fd (O_RDWR, a fresh file), fill them, shrink the file to
 * 4196 bytes through @tfd (another fd of the same file), probe the mapping,
 * grow it back to 4 pages through @tfd, probe again.
 */
static int truncate_under_mapping(int fd, int tfd, struct trunc_outcome *o)
{
	unsigned char *p, v;

	EXPECT_OK(ftruncate(fd, (off_t)(4 * PAGE)));
	p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT(p != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(p, 0x5a, 4 * PAGE);
	EXPECT_OK(ftruncate(tfd, (off_t)(PAGE + 100)));
	o->fault_past_end = read_faults(p + 2 * PAGE, &v);
	o->fault_in_last = read_faults(p + PAGE + 99, &o->kept);
	if (!o->fault_in_last)
		o->fault_in_last = read_faults(p + PAGE + 100, &o->cut);
	EXPECT_OK(ftruncate(tfd, (off_t)(4 * PAGE)));
	o->fault_after_grow = read_faults(p + 3 * PAGE + 5, &o->regrown);
	munmap(p, 4 * PAGE);
	return PASS;
}

/*
 * A buffer never exported is truncated under a mapping exactly as a file on
 * tmpfs (here a memfd, which is one): the bytes kept stay, the cut part of
 * the last page reads zero, a page past the new end faults with SIGBUS, and
 * after growing again the mapping reads zeros there.
 */
static int test_truncate_under_a_mapping_is_as_on_tmpfs(void)
{
	struct trunc_outcome ref, got;
	char path[4096];
	int fd, tfd;

	/* compared with memcmp: the padding too */
	memset(&ref, 0, sizeof(ref));
	memset(&got, 0, sizeof(got));

	fd = memfd_create("umm-test-tmpfs", MFD_CLOEXEC);
	EXPECT_OK(fd);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	tfd = open(path, O_RDWR | O_CLOEXEC);
	EXPECT_OK(tfd);
	if (truncate_under_mapping(fd, tfd, &ref) != PASS)
		return FAIL;
	close(tfd);
	close(fd);
	EXPECT(ref.fault_past_end && !ref.fault_in_last && ref.kept == 0x5a && ref.cut == 0 &&
		       !ref.fault_after_grow && ref.regrown == 0,
	       "tmpfs itself: past end %d, last page %d, kept %#x, cut %#x, after grow %d/%#x",
	       ref.fault_past_end, ref.fault_in_last, ref.kept, ref.cut, ref.fault_after_grow,
	       ref.regrown);

	mnt_path(path, sizeof(path), "trunc-mapped");
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	EXPECT_OK(fd);
	tfd = open(path, O_RDWR | O_CLOEXEC);
	EXPECT_OK(tfd);
	if (truncate_under_mapping(fd, tfd, &got) != PASS)
		return FAIL;
	EXPECT(!memcmp(&ref, &got, sizeof(ref)),
	       "umm (mode %s): past end %s, last page %s, kept %#x, cut %#x, after grow %s/%#x; "
	       "tmpfs: past end %s, last page %s, kept %#x, cut %#x, after grow %s/%#x",
	       mode_is_passthrough() ? "passthrough" : "nopassthrough",
	       got.fault_past_end ? "SIGBUS" : "read", got.fault_in_last ? "SIGBUS" : "read",
	       got.kept, got.cut, got.fault_after_grow ? "SIGBUS" : "read", got.regrown,
	       ref.fault_past_end ? "SIGBUS" : "read", ref.fault_in_last ? "SIGBUS" : "read",
	       ref.kept, ref.cut, ref.fault_after_grow ? "SIGBUS" : "read", ref.regrown);
	close(tfd);
	close(fd);
	EXPECT_OK(unlink(path));
	return PASS;
}

static int test_unlinked_buffer_stays_readable_by_its_holder(void)
{
	const size_t len = 64 * PAGE;
	char path[4096];
	const char *how;
	unsigned char *p, *buf;
	long long before, held;
	struct stat st;
	int fd, rfd;

	/* An unlinked buffer leaves its directories' used_bytes at once; the
	 * mount's budget (df) holds it until the memory is freed. Earlier
	 * checks' unlinked buffers may still be on their way out (RELEASE is
	 * asynchronous, and slow under valgrind): wait until df holds only
	 * what has a name. */
	before = wait_mount_used(used_bytes(umm_mnt()));
	EXPECT(before >= 0, "statvfs of the mount: %s", strerror(errno));
	mnt_path(path, sizeof(path), "unlinked");
	EXPECT_OK(make_buffer(path, len, 11, 0644));
	rfd = open(path, O_RDONLY | O_CLOEXEC);
	EXPECT_OK(rfd);
	p = open_map(path, O_RDONLY, len, &fd, &how);
	EXPECT(p != MAP_FAILED, "cannot map %s", path);
	EXPECT_OK(unlink(path));
	EXPECT_ERRNO(stat(path, &st), ENOENT);
	EXPECT_OK(fstat(rfd, &st));
	EXPECT(st.st_size == (off_t)len, "fstat after unlink: size %lld", (long long)st.st_size);
	held = mount_used();
	EXPECT(held == before + (long long)len,
	       "df used %lld while the unlinked buffer is held, expected %lld", held,
	       before + (long long)len);
	buf = malloc(len);
	EXPECT(buf, "malloc");
	EXPECT_OK(pread_all(rfd, buf, len, 0));
	EXPECT(check_pattern(buf, len, 11) < 0, "read after unlink differs");
	free(buf);
	close(rfd);
	/* The mapping alone keeps it. */
	close(fd);
	EXPECT(check_pattern(p, len, 11) < 0, "%s after unlink differs", how);
	munmap(p, len);
	held = wait_mount_used(before);
	EXPECT(held == before, "df used %lld after the last holder went, expected %lld", held,
	       before);
	return PASS;
}

static int test_export_of_readonly_open_cannot_write(void)
{
	const size_t len = 4 * PAGE;
	char path[4096], val[32], dmabuf[32];
	unsigned char *m, one = 1;
	void *r;
	int fd, efd, wfd;
	ssize_t n;

	mnt_path(path, sizeof(path), "export-ro");
	EXPECT_OK(make_buffer(path, len, 12, 0644));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	EXPECT_OK(fd);
	efd = umm_export(fd);
	EXPECT(efd >= 0, "umm_export of a read-only open: %s", strerror(errno));
	EXPECT((fcntl(efd, F_GETFL) & O_ACCMODE) == O_RDONLY,
	       "export of a read-only open has access mode %d", fcntl(efd, F_GETFL) & O_ACCMODE);
	EXPECT(fcntl(efd, F_GETFD) & FD_CLOEXEC, "exported fd without FD_CLOEXEC");
	EXPECT_ERRNO(write(efd, &one, 1), EBADF);
	EXPECT_ERRNO(pwrite(efd, &one, 1, 0), EBADF);
	EXPECT(ftruncate(efd, 0) == -1 && (errno == EBADF || errno == EINVAL),
	       "ftruncate of the read-only export: %s", strerror(errno));
	EXPECT_ERRNO(
		mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, efd, 0) == MAP_FAILED ? -1 : 0,
		EACCES);
	m = mmap(NULL, len, PROT_READ, MAP_SHARED, efd, 0);
	EXPECT(m != MAP_FAILED, "read-only mmap of the read-only export: %s", strerror(errno));
	EXPECT(check_pattern(m, len, 12) < 0, "read-only export maps other bytes");
	EXPECT_ERRNO(mprotect(m, len, PROT_READ | PROT_WRITE), EACCES);
	/* A private writable mapping is a copy: the buffer does not change. */
	r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, efd, 0);
	EXPECT(r != MAP_FAILED, "MAP_PRIVATE of the export: %s", strerror(errno));
	memset(r, 0x5a, len);
	EXPECT(check_pattern(m, len, 12) < 0, "a MAP_PRIVATE write reached the buffer");
	munmap(r, len);
	munmap(m, len);
	close(efd);
	close(fd);

	/* umm_open(O_RDWR) works for the owner and writes the buffer. */
	wfd = umm_open(path, O_RDWR);
	EXPECT(wfd >= 0, "umm_open O_RDWR by the owner: %s", strerror(errno));
	EXPECT((fcntl(wfd, F_GETFL) & O_ACCMODE) == O_RDWR, "umm_open O_RDWR fd not O_RDWR");
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, wfd, 0);
	EXPECT(m != MAP_FAILED, "mmap of umm_open O_RDWR: %s", strerror(errno));
	fill_pattern(m, len, 13);
	munmap(m, len);
	close(wfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	EXPECT_OK(fd);
	m = malloc(len);
	EXPECT(m, "malloc");
	EXPECT_OK(pread_all(fd, m, len, 0));
	EXPECT(check_pattern(m, len, 13) < 0, "read(2) misses the write through umm_open's fd");
	free(m);
	close(fd);

	/* umm_open(O_WRONLY): never more than write access. */
	wfd = umm_open(path, O_WRONLY);
	if (wfd >= 0) {
		EXPECT((fcntl(wfd, F_GETFL) & O_ACCMODE) == O_WRONLY,
		       "umm_open O_WRONLY returned access mode %d",
		       fcntl(wfd, F_GETFL) & O_ACCMODE);
		close(wfd);
	} else {
		EXPECT(errno == EACCES, "umm_open O_WRONLY: %s", strerror(errno));
	}
	EXPECT_ERRNO(umm_open(path, O_RDWR | O_CREAT), EINVAL);
	EXPECT_ERRNO(umm_open(path, O_RDONLY | O_TRUNC), EINVAL);

	n = getxattr(path, "user.umm.exports", val, sizeof(val) - 1);
	EXPECT(n > 0, "user.umm.exports: %s", strerror(errno));
	val[n] = 0;
	if (getxattr(path, "user.umm.dmabuf", dmabuf, sizeof(dmabuf)) > 0) {
		/* live holders of the dma-buf (none now) + the read-only memfd */
		EXPECT(atoi(val) == 1, "user.umm.exports is %s: all closed but one memfd", val);
	} else {
		/* a memfd cannot tell when a client closes it: every export counts */
		EXPECT(atoi(val) >= 2, "user.umm.exports is %s after at least 2 exports", val);
	}
	EXPECT_OK(unlink(path));
	return PASS;
}

static int test_umm_sync_on_memfd_and_fuse_fd(void)
{
	char path[4096], val[32];
	int fd, efd;
	ssize_t n;

	mnt_path(path, sizeof(path), "sync");
	EXPECT_OK(make_buffer(path, PAGE, 14, 0644));
	efd = umm_open(path, O_RDWR);
	EXPECT(efd >= 0, "umm_open: %s", strerror(errno));
	EXPECT_OK(umm_sync(efd, UMM_SYNC_START | UMM_SYNC_RW));
	EXPECT_OK(umm_sync(efd, UMM_SYNC_END | UMM_SYNC_RW));
	EXPECT_ERRNO(umm_sync(efd, 0x80), EINVAL);
	fd = open(path, O_RDWR | O_CLOEXEC);
	EXPECT_OK(fd);
	EXPECT_OK(umm_sync(fd, UMM_SYNC_START | UMM_SYNC_READ));
	n = getxattr(path, "user.umm.sync", val, sizeof(val) - 1);
	EXPECT(n > 0, "user.umm.sync: %s", strerror(errno));
	val[n] = 0;
	EXPECT(!strcmp(val, "cpu:read"), "user.umm.sync after START|READ: '%s'", val);
	EXPECT_OK(umm_sync(fd, UMM_SYNC_END | UMM_SYNC_READ));
	n = getxattr(path, "user.umm.sync", val, sizeof(val) - 1);
	EXPECT(n > 0, "user.umm.sync: %s", strerror(errno));
	val[n] = 0;
	EXPECT(!strcmp(val, "device"), "user.umm.sync after END: '%s'", val);
	close(fd);
	close(efd);
	EXPECT_OK(unlink(path));
	return PASS;
}

/* Loader: open, read and close @nfiles buffers @rounds times (many async RELEASEs). */
static int release_load(const char *dir, int nfiles, int rounds)
{
	char path[4096 + 32], buf[4096];

	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < nfiles; i++) {
			int fd;

			snprintf(path, sizeof(path), "%s/f%d", dir, i);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				return FAIL;
			if (read(fd, buf, sizeof(buf)) < 0) {
				close(fd);
				return FAIL;
			}
			close(fd);
		}
	return PASS;
}

/*
 * Producer: write a buffer and share it at once: even rounds give it its
 * size, close it, open it O_RDWR, map and export that; odd rounds map the
 * creating fd and export a second open while the creating fd is still open
 * for writing (no writer blocks an export any more). Every mapping is of the
 * FUSE fd, in every mode.
 */
static int produce_and_share(int id, int rounds)
{
	char path[4096], name[64], buf[6000];
	int bad = 0;

	memset(buf, 'p', sizeof(buf));
	for (int i = 0; i < rounds; i++) {
		size_t len = 5000 + (size_t)i % 1000;
		int fd, wfd = -1, efd;
		unsigned char *m, *x;

		snprintf(name, sizeof(name), "produce-%d-%d", id, i);
		mnt_path(path, sizeof(path), name);
		fd = open(path, (i % 2 ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		EXPECT_OK(fd);
		EXPECT_OK(pwrite_all(fd, buf, len, 0));
		EXPECT_OK(ftruncate(fd, (off_t)len));
		if (i % 2) {
			wfd = fd;
		} else {
			EXPECT_OK(close(fd));
			/* The writer is gone (its release may still be in flight). */
		}
		fd = open(path, O_RDWR | O_CLOEXEC);
		EXPECT_OK(fd);
		m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, wfd >= 0 ? wfd : fd, 0);
		if (m == MAP_FAILED) {
			if (bad++ < 3)
				note("producer %d round %d: %s: %s", id, i, fuse_map_kind(),
				     strerror(errno));
		} else {
			if (m[0] != 'p' && bad++ < 3)
				note("producer %d round %d: the mapping shows %#x, not 'p'", id, i,
				     m[0]);
			munmap(m, 4096);
		}
		efd = umm_export(fd);
		if (efd < 0) {
			if (bad++ < 3)
				note("producer %d round %d: umm_export %s: %s", id, i,
				     wfd >= 0 ? "while the creating fd is open" :
						"after the writer closed",
				     strerror(errno));
		} else {
			x = mmap(NULL, len, PROT_READ, MAP_SHARED, efd, 0);
			if (x == MAP_FAILED || x[0] != 'p' || x[len - 1] != 'p') {
				if (bad++ < 3)
					note("producer %d round %d: the exported fd %s", id, i,
					     x == MAP_FAILED ? "does not map" :
							       "misses the bytes written");
			}
			if (x != MAP_FAILED)
				munmap(x, len);
			close(efd);
		}
		if (wfd >= 0)
			close(wfd);
		close(fd);
		EXPECT_OK(unlink(path));
	}
	return bad ? FAIL : PASS;
}

/*
 * A buffer just written is mappable and exportable by the next opener at
 * once, whatever else keeps the daemon busy: the FUSE RELEASE of the
 * writer's fd is asynchronous and can reach the daemon after the next open,
 * and the writer may even still hold it (the producer/consumer pattern of
 * SPEC 6). The processes get a generous deadline, scaled for a slow daemon
 * (itest_time_scale()), and are killed past it.
 */
static int test_closed_buffer_is_shareable_at_once_under_load(void)
{
	const unsigned limit = (CHECK_TIMEOUT_S - 10) * itest_time_scale();
	char dir[4096], path[4096 + 16];
	pid_t kids[8];
	int i, status, failed = 0, left = 8;
	time_t start = time(NULL);

	mnt_path(dir, sizeof(dir), "release-load");
	EXPECT_OK(mkdir(dir, 0755));
	for (i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		EXPECT_OK(make_buffer(path, PAGE, (unsigned)i, 0644));
	}
	for (i = 0; i < 8; i++) {
		kids[i] = fork();
		EXPECT(kids[i] >= 0, "fork: %s", strerror(errno));
		if (kids[i] == 0)
			_exit(i < 4 ? release_load(dir, 20, 150) : produce_and_share(i, 150));
	}
	while (left) {
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid < 0) {
			note("waitpid: %s", strerror(errno));
			failed += left;
			break;
		}
		if (pid == 0) {
			if ((unsigned)(time(NULL) - start) < limit) {
				usleep(20000);
				continue;
			}
			for (i = 0; i < 8; i++)
				if (kids[i] > 0)
					kill(kids[i], SIGKILL);
			note("%d of 8 processes still running after %u s: killed", left, limit);
			while (left && waitpid(-1, &status, 0) > 0)
				left--;
			failed += left ? left : 1;
			break;
		}
		for (i = 0; i < 8; i++)
			if (kids[i] == pid)
				kids[i] = -1;
		left--;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	EXPECT(!failed, "%d of 8 processes failed or were too slow (4 loaders, 4 producers)",
	       failed);
	return PASS;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	umm_mnt();
	RUN(test_two_processes_share_a_buffer_by_path);
	RUN(test_fd_passed_with_scm_rights_shares_the_buffer);
	RUN(test_passthrough_mapping_is_the_memfd_pages);
	RUN(test_mmap_of_fuse_fd_works_in_every_mode);
	RUN(test_shm_pattern_shares_pages_between_processes);
	RUN(test_truncate_under_a_mapping_is_as_on_tmpfs);
	RUN(test_unlinked_buffer_stays_readable_by_its_holder);
	RUN(test_export_of_readonly_open_cannot_write);
	RUN(test_umm_sync_on_memfd_and_fuse_fd);
	RUN(test_closed_buffer_is_shareable_at_once_under_load);
	return itest_finish("test_share");
}
