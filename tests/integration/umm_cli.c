// SPDX-License-Identifier: MIT
/*
 * umm_cli.c - tiny helper for the shell integration tests: the system calls
 * that no standard tool makes with an exact errno.
 *
 *   umm_cli open PATH FLAGS [DATA]   open(2) with FLAGS (comma list of r, w, rw,
 *                                    creat, excl, trunc, append), write DATA
 *   umm_cli rename OLD NEW [noreplace|exchange]
 *                                    renameat2(2)
 *   umm_cli export PATH [r|w|rw]     umm_open(3); prints "size accmode"
 *   umm_cli pwrite PATH OFFSET       write stdin at OFFSET through an O_WRONLY
 *                                    open (O_CREAT, no O_TRUNC), as a filler would
 *   umm_cli truncate PATH SIZE       truncate(2) by path: no fd of the caller open
 *   umm_cli setxattr PATH NAME VALUE [create|replace]
 *                                    setxattr(2) with XATTR_CREATE/XATTR_REPLACE
 *   umm_cli map PATH [auto|export] [close]
 *                                    open PATH O_RDWR and mmap it MAP_SHARED:
 *                                    auto (the default) maps the FUSE fd, and
 *                                    umm_open(3)'s fd where that gives ENODEV
 *                                    (with passthrough, a buffer moved to a
 *                                    dma-buf heap or to huge pages at its
 *                                    export); export always maps
 *                                    umm_open(3)'s fd. With close, the fd is
 *                                    closed once mapped, so only the mapping
 *                                    holds the buffer. Prints "ready fuse FD"
 *                                    or "ready export FD" (FD -1 after close),
 *                                    then waits until killed.
 *
 * Failure: "umm_cli: WHAT: strerror(errno)" on stderr and exit status 1, so
 * that tests can match the errno text as with any other tool.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <umm.h>

static int die(const char *what, const char *arg)
{
	fprintf(stderr, "umm_cli: %s %s: %s\n", what, arg, strerror(errno));
	return 1;
}

static int parse_flags(const char *s, int *flags)
{
	char *copy = strdup(s), *tok, *save = NULL;
	int f = 0, acc = -1;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "r"))
			acc = O_RDONLY;
		else if (!strcmp(tok, "w"))
			acc = O_WRONLY;
		else if (!strcmp(tok, "rw"))
			acc = O_RDWR;
		else if (!strcmp(tok, "creat"))
			f |= O_CREAT;
		else if (!strcmp(tok, "excl"))
			f |= O_EXCL;
		else if (!strcmp(tok, "trunc"))
			f |= O_TRUNC;
		else if (!strcmp(tok, "append"))
			f |= O_APPEND;
		else {
			free(copy);
			return -1;
		}
	}
	free(copy);
	if (acc < 0)
		return -1;
	*flags = f | acc;
	return 0;
}

static int cmd_open(int argc, char **argv)
{
	int flags, fd;

	if (argc < 4 || parse_flags(argv[3], &flags)) {
		fprintf(stderr, "usage: umm_cli open PATH FLAGS [DATA]\n");
		return 2;
	}
	fd = open(argv[2], flags | O_CLOEXEC, 0644);
	if (fd < 0)
		return die("open", argv[2]);
	if (argc > 4) {
		size_t len = strlen(argv[4]);
		ssize_t n = write(fd, argv[4], len);

		if (n < 0)
			return die("write", argv[2]);
		if ((size_t)n != len) {
			fprintf(stderr, "umm_cli: write %s: short write %zd of %zu\n", argv[2], n,
				len);
			return 1;
		}
	}
	if (close(fd))
		return die("close", argv[2]);
	return 0;
}

static int cmd_rename(int argc, char **argv)
{
	unsigned int flags = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: umm_cli rename OLD NEW [noreplace|exchange]\n");
		return 2;
	}
	if (argc > 4) {
		if (!strcmp(argv[4], "noreplace"))
			flags = RENAME_NOREPLACE;
		else if (!strcmp(argv[4], "exchange"))
			flags = RENAME_EXCHANGE;
		else
			return 2;
	}
	if (renameat2(AT_FDCWD, argv[2], AT_FDCWD, argv[3], flags))
		return die("rename", argv[2]);
	return 0;
}

static int cmd_export(int argc, char **argv)
{
	int flags = O_RDONLY, fd, acc;
	struct stat st;

	if (argc < 3) {
		fprintf(stderr, "usage: umm_cli export PATH [r|w|rw]\n");
		return 2;
	}
	if (argc > 3 && parse_flags(argv[3], &flags))
		return 2;
	fd = umm_open(argv[2], flags);
	if (fd < 0)
		return die("umm_open", argv[2]);
	if (fstat(fd, &st))
		return die("fstat of the exported fd of", argv[2]);
	acc = fcntl(fd, F_GETFL) & O_ACCMODE;
	printf("%lld %s\n", (long long)st.st_size,
	       acc == O_RDONLY ? "r" :
	       acc == O_WRONLY ? "w" :
				 "rw");
	close(fd);
	return 0;
}

static int cmd_pwrite(int argc, char **argv)
{
	char buf[65536];
	long long off;
	char *end;
	ssize_t n;
	int fd;

	if (argc < 4) {
		fprintf(stderr, "usage: umm_cli pwrite PATH OFFSET < DATA\n");
		return 2;
	}
	off = strtoll(argv[3], &end, 10);
	if (*end || off < 0)
		return 2;
	fd = open(argv[2], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return die("open", argv[2]);
	while ((n = read(0, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (n > 0) {
			ssize_t w = pwrite(fd, p, (size_t)n, (off_t)off);

			if (w < 0) {
				if (errno == EINTR)
					continue;
				return die("pwrite", argv[2]);
			}
			p += w;
			n -= w;
			off += w;
		}
	}
	if (n < 0)
		return die("read of stdin for", argv[2]);
	if (close(fd))
		return die("close", argv[2]);
	return 0;
}

/* truncate(2) by path, unlike truncate(1), which opens the file and calls ftruncate(2). */
static int cmd_truncate(int argc, char **argv)
{
	long long size;
	char *end;

	if (argc < 4) {
		fprintf(stderr, "usage: umm_cli truncate PATH SIZE\n");
		return 2;
	}
	size = strtoll(argv[3], &end, 10);
	if (*end || size < 0)
		return 2;
	if (truncate(argv[2], (off_t)size))
		return die("truncate", argv[2]);
	return 0;
}

static int cmd_setxattr(int argc, char **argv)
{
	int flags = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: umm_cli setxattr PATH NAME VALUE [create|replace]\n");
		return 2;
	}
	if (argc > 5) {
		if (!strcmp(argv[5], "create"))
			flags = XATTR_CREATE;
		else if (!strcmp(argv[5], "replace"))
			flags = XATTR_REPLACE;
		else
			return 2;
	}
	if (setxattr(argv[2], argv[3], argv[4], strlen(argv[4]), flags))
		return die("setxattr", argv[2]);
	return 0;
}

/*
 * Map a buffer and keep the mapping until killed: a holder for umm-ls -p to
 * find. The fd that was mapped is printed, so that a test knows which fd
 * number the holder shows.
 */
static int cmd_map(int argc, char **argv)
{
	bool export = false, keep = true;
	const char *how = "fuse";
	struct stat st;
	void *p;
	int i, fd;

	if (argc < 3) {
		fprintf(stderr, "usage: umm_cli map PATH [auto|export] [close]\n");
		return 2;
	}
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "export"))
			export = true;
		else if (!strcmp(argv[i], "close"))
			keep = false;
		else if (strcmp(argv[i], "auto"))
			return 2;
	}
	fd = -1;
	p = MAP_FAILED;
	if (!export) {
		fd = open(argv[2], O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return die("open", argv[2]);
		if (fstat(fd, &st))
			return die("fstat", argv[2]);
		if (st.st_size == 0) {
			fprintf(stderr, "umm_cli: map %s: empty buffer\n", argv[2]);
			return 1;
		}
		p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED && errno != ENODEV)
			return die("mmap", argv[2]);
		if (p == MAP_FAILED)
			close(fd);
	}
	if (p == MAP_FAILED) {
		/* The daemon serves the FUSE fd with direct I/O: map the memory fd. */
		how = "export";
		fd = umm_open(argv[2], O_RDWR);
		if (fd < 0)
			return die("umm_open", argv[2]);
		if (fstat(fd, &st))
			return die("fstat of the exported fd of", argv[2]);
		p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			return die("mmap of the exported fd of", argv[2]);
	}
	if (!keep) {
		close(fd);
		fd = -1;
	}
	printf("ready %s %d\n", how, fd);
	fflush(stdout);
	for (;;)
		pause();
}

/*
 * Stand in for a syslog daemon: bind a datagram socket at PATH (as /dev/log),
 * print "ready", then print every message received, one a line, until one
 * contains MATCH or SECONDS pass without it (exit 1).
 */
static int cmd_listen(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char msg[2048];
	int fd, secs;

	if (argc < 5 || strlen(argv[2]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: umm_cli listen PATH MATCH SECONDS\n");
		return 2;
	}
	secs = atoi(argv[4]);
	memcpy(sa.sun_path, argv[2], strlen(argv[2]) + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return die("bind", argv[2]);
	printf("ready\n");
	fflush(stdout);
	for (int waited = 0; waited < secs * 10;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0) {
			waited++;
			continue;
		}
		n = recv(fd, msg, sizeof(msg) - 1, 0);
		if (n <= 0)
			continue;
		msg[n] = '\0';
		printf("%s\n", msg);
		fflush(stdout);
		if (strstr(msg, argv[3]))
			return 0;
	}
	fprintf(stderr, "umm_cli listen: no message with '%s' in %d s\n", argv[3], secs);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		goto usage;
	if (!strcmp(argv[1], "open"))
		return cmd_open(argc, argv);
	if (!strcmp(argv[1], "rename"))
		return cmd_rename(argc, argv);
	if (!strcmp(argv[1], "export"))
		return cmd_export(argc, argv);
	if (!strcmp(argv[1], "pwrite"))
		return cmd_pwrite(argc, argv);
	if (!strcmp(argv[1], "truncate"))
		return cmd_truncate(argc, argv);
	if (!strcmp(argv[1], "setxattr"))
		return cmd_setxattr(argc, argv);
	if (!strcmp(argv[1], "map"))
		return cmd_map(argc, argv);
	if (!strcmp(argv[1], "listen"))
		return cmd_listen(argc, argv);
usage:
	fprintf(stderr,
		"usage: umm_cli open|rename|export|pwrite|truncate|setxattr|map|listen ...\n");
	return 2;
}
