// SPDX-License-Identifier: MIT
/*
 * umm.c - libumm's public entry points: trade an fd of a umm mount for the
 * buffer's mappable fd (umm_open, umm_export), and bracket CPU access
 * (umm_sync). Finding a mount's export socket is here; talking to it is in
 * conn.c.
 *
 * Runs in the library user's threads, any number at once; nothing here keeps
 * state of its own. Internal functions return -errno; only the public entry
 * points turn that into -1 and errno.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "umm.h"
#include "umm_i.h"

#define EXPORT_BUSY_NS 1000000000L /* how long an EBUSY export is tried again */

_Static_assert(UMM_SYNC_READ == DMA_BUF_SYNC_READ, "UMM_SYNC_READ");
_Static_assert(UMM_SYNC_WRITE == DMA_BUF_SYNC_WRITE, "UMM_SYNC_WRITE");
_Static_assert(UMM_SYNC_RW == DMA_BUF_SYNC_RW, "UMM_SYNC_RW");
_Static_assert(UMM_SYNC_START == DMA_BUF_SYNC_START, "UMM_SYNC_START");
_Static_assert(UMM_SYNC_END == DMA_BUF_SYNC_END, "UMM_SYNC_END");

#define UMM_XATTR_SYNC "user.umm.sync"

#define SYNC_MAX_EAGAIN 1000

static int set_errno(int ret)
{
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

/*
 * Check a user.umm.socket value of @len bytes in @path (UMM_SOCKPATH_MAX
 * bytes of room) and NUL-terminate it. A trailing NUL or newline is tolerated.
 */
static int socket_value_check(char *path, ssize_t len)
{
	while (len > 0 && (path[len - 1] == '\0' || path[len - 1] == '\n'))
		len--;
	if (len <= 0 || (size_t)len >= UMM_SOCKPATH_MAX)
		return -EPROTO;
	if (path[0] != '/' || memchr(path, '\0', len))
		return -EPROTO;
	path[len] = '\0';
	return 0;
}

/*
 * Walk up from the directory that holds the file of @fd (as named by
 * /proc/self/fd) to the highest directory of device @dev: the mount root.
 * A component that does not exist any more (an unlinked buffer or directory)
 * is skipped. Then read the socket xattr there.
 */
static int find_socket_from_root(int fd, dev_t dev, char *path)
{
	char proc[64];
	char dir[PATH_MAX];
	char root[PATH_MAX];
	struct stat st;
	ssize_t n;
	int found = 0;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, dir, sizeof(dir) - 1);
	if (n < 0)
		return -errno;
	dir[n] = '\0';
	/* pipe:[..], socket:[..], anon_inode:..: not a file of any mount. */
	if (dir[0] != '/')
		return -EXDEV;

	for (;;) {
		char *slash = strrchr(dir, '/');

		if (slash == dir) {
			if (dir[1] == '\0')
				break; /* just checked "/" */
			dir[1] = '\0';
		} else {
			*slash = '\0';
		}
		if (stat(dir, &st) == 0) {
			if (st.st_dev == dev) {
				memcpy(root, dir, strlen(dir) + 1);
				found = 1;
			} else if (found) {
				break;
			}
		}
	}
	if (!found)
		return -EXDEV;

	n = getxattr(root, UMM_XATTR_SOCKET, path, UMM_SOCKPATH_MAX);
	if (n < 0) {
		if (errno == ERANGE)
			return -ENAMETOOLONG;
		/* No socket at the root: not a umm mount (or a bind mount of a subdirectory). */
		return -EXDEV;
	}
	return socket_value_check(path, n);
}

static int find_socket(int fd, dev_t dev, char *path)
{
	ssize_t n = fgetxattr(fd, UMM_XATTR_SOCKET, path, UMM_SOCKPATH_MAX);

	if (n >= 0)
		return socket_value_check(path, n);
	switch (errno) {
	case ERANGE:
		return -ENAMETOOLONG;
	case ENOTSUP:
		/* The fd's filesystem has no xattrs at all: not umm. */
		return -EXDEV;
	case ENODATA:
	case EACCES:
	case EPERM:
		/* Only the root carries it (or @fd's own mode hides it): look there. */
		return find_socket_from_root(fd, dev, path);
	default:
		return -errno;
	}
}
/*
 * The device of @fd's file system. AT_STATX_DONT_SYNC: the device never
 * changes, so there is no need to ask a FUSE daemon for fresh attributes.
 */
static int fd_dev(int fd, dev_t *dev)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, 0, &stx) < 0)
		return -errno;
	*dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	return 0;
}

/* Trade @fd, known not to be O_PATH, through the socket of its mount. */
static int trade_fd(int fd)
{
	char path[UMM_SOCKPATH_MAX];
	char fresh[UMM_SOCKPATH_MAX];
	dev_t dev = 0;
	int ret;

	ret = fd_dev(fd, &dev);
	if (ret < 0)
		return ret;

	if (!conn_path_get(dev, path)) {
		ret = find_socket(fd, dev, path);
		if (ret < 0)
			return ret;
		conn_path_put(dev, path);
		return conn_export(dev, path, fd);
	}

	ret = conn_export(dev, path, fd);
	switch (ret) {
	case -ENOENT:
	case -ECONNREFUSED:
	case -ENOTSOCK:
	case -ECONNRESET:
	case -EXDEV:
		/* Maybe another mount got this device number since: look again. */
		conn_path_drop(dev);
		if (find_socket(fd, dev, fresh) < 0)
			break;
		conn_path_put(dev, fresh);
		if (strcmp(fresh, path))
			ret = conn_export(dev, fresh, fd);
		break;
	default:
		break;
	}
	return ret;
}

/*
 * trade_fd(), again while the daemon says EBUSY, for up to a second: the
 * kernel tells the daemon of a close() asynchronously, so right after this
 * process (or another) closed the buffer, the daemon may still count that
 * open, and a buffer moving to its heap at its first export must not be held
 * by other opens. The daemon never waits for them itself: its export thread
 * serves every client.
 */
static int trade_fd_retry(int fd)
{
	struct timespec t0, t, pause = { 0, 5 * 1000 * 1000 };
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ret = trade_fd(fd);
		if (ret != -EBUSY)
			return ret;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) >=
		    EXPORT_BUSY_NS)
			return ret;
		nanosleep(&pause, NULL);
	}
}

static int do_export(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	if (fl & O_PATH)
		return -EBADF;
	return trade_fd_retry(fd);
}

int umm_export(int fuse_fd)
{
	return set_errno(do_export(fuse_fd));
}

int umm_open(const char *path, int flags)
{
	int accmode = flags & O_ACCMODE;
	int fd, ret;

	if ((flags & ~(O_ACCMODE | O_CLOEXEC)) || accmode == O_ACCMODE) {
		errno = EINVAL;
		return -1;
	}
	/* Our own fd is closed at once, so it must never reach an exec()ed child. */
	fd = open(path, accmode | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	ret = trade_fd_retry(fd); /* opened just now, without O_PATH: no need to check */
	close(fd);
	return set_errno(ret);
}

static int do_sync(int fd, unsigned int flags)
{
	struct dma_buf_sync sync = { .flags = flags };
	const char *domain;
	int tries = 0;
	int ret;

	/* START is 0: any flags word without END is a START. */
	if ((flags & ~(UMM_SYNC_RW | UMM_SYNC_END)) || !(flags & UMM_SYNC_RW))
		return -EINVAL;

	/* EAGAIN is bounded: a FUSE daemon could answer it forever. */
	do {
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
	} while (ret < 0 && (errno == EINTR || (errno == EAGAIN && ++tries < SYNC_MAX_EAGAIN)));
	if (!ret)
		return 0;
	/* An older FUSE kernel may pass a daemon's ENOSYS through for an unknown ioctl. */
	if (errno != ENOTTY && errno != ENOSYS)
		return -errno;

	if (fcntl(fd, F_GET_SEALS) >= 0) {
		/* memfd (shmem): CPU-coherent, only order this thread's accesses. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		return 0;
	}
	if (errno == EBADF)
		return -EBADF;

	if (fgetxattr(fd, UMM_XATTR_SYNC, NULL, 0) < 0) {
		if (errno == EBADF)
			return -EBADF;
		return -ENOTTY;
	}
	if (flags & UMM_SYNC_END)
		domain = "device";
	else if ((flags & UMM_SYNC_RW) == UMM_SYNC_READ)
		domain = "cpu:read";
	else if ((flags & UMM_SYNC_RW) == UMM_SYNC_WRITE)
		domain = "cpu:write";
	else
		domain = "cpu";
	if (fsetxattr(fd, UMM_XATTR_SYNC, domain, strlen(domain), 0) < 0)
		return -errno;
	return 0;
}

int umm_sync(int fd, unsigned flags)
{
	return set_errno(do_sync(fd, flags));
}
