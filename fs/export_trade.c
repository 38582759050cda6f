// SPDX-License-Identifier: MIT
/*
 * export_trade.c - the trade at the heart of the export socket: an open fd
 * of this mount in, the buffer's memfd or dma-buf out (SPEC 6).
 *
 * Owns the checks on the fd a client sent (whose file, what type, what
 * access mode), the one call into the filesystem (export_ops.export_fd,
 * which asks the store), and the disposal of the received fd. Runs in the
 * export server's thread only, so nothing here may wait for another
 * filesystem: the fd is looked at with statx(AT_STATX_DONT_SYNC) only, and
 * closed here only if it is of this mount (else the closer thread does it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "export_i.h"
#include "proto_i.h"

/* Is @fd a file of this mount? Never waits for another filesystem's daemon. */
static int fd_is_ours(struct export_server *srv, int fd)
{
	struct statx stx;

	return statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, 0, &stx) == 0 &&
	       makedev(stx.stx_dev_major, stx.stx_dev_minor) == srv->mount_dev;
}

/* Close received @fd at once if @ours (known to be of this mount), else as export_close_received(). */
static void close_fd(struct export_server *srv, int fd, int ours)
{
	if (fd < 0)
		return;
	if (ours || fd_is_ours(srv, fd))
		close(fd);
	else
		export_closer_add(srv->closer, fd);
}

void export_close_received(struct export_server *srv, int fd)
{
	close_fd(srv, fd, 0);
}

/*
 * Check the fd a client sent. statx() with AT_STATX_DONT_SYNC, because a
 * plain fstat() of an fd of another FUSE filesystem may wait for its daemon.
 * Return 0 with *ino and *accmode set, or -errno with *why set. *@ours is
 * set once the fd is known to be of this mount, refused or not.
 */
static int check_fd(struct export_server *srv, int fd, uint64_t *ino, int *accmode, int *ours,
		    const char **why)
{
	struct statx stx;
	int fl;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0) {
		*why = "fcntl failed";
		return -EBADF;
	}
	if (fl & O_PATH) {
		*why = "O_PATH fd";
		return -EBADF;
	}
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE | STATX_INO, &stx) < 0) {
		*why = "statx failed";
		return -EBADF;
	}
	if (makedev(stx.stx_dev_major, stx.stx_dev_minor) != srv->mount_dev) {
		*why = "fd of another filesystem";
		return -EXDEV;
	}
	*ours = 1;
	if (S_ISDIR(stx.stx_mode)) {
		*why = "fd of a directory";
		return -EISDIR;
	}
	if (!S_ISREG(stx.stx_mode)) {
		*why = "fd of a non-regular file";
		return -EINVAL;
	}
	if ((fl & O_ACCMODE) == O_ACCMODE) {
		*why = "fd opened for neither reading nor writing";
		return -EACCES;
	}
	*ino = stx.stx_ino;
	*accmode = fl & O_ACCMODE;
	return 0;
}

int export_trade(struct export_server *srv, int fd, uint32_t *kind, uint64_t *size,
		 const char **why)
{
	uint64_t ino = 0;
	int accmode = 0;
	int ours = 0;
	int out;

	out = check_fd(srv, fd, &ino, &accmode, &ours, why);
	if (!out) {
		out = srv->ops.export_fd(srv->ctx, ino, accmode, kind, size);
		if (out < 0) {
			/* The status must fit a reply: no errno is that large. */
			if (out < -UMM_PROTO_MAX_ERRNO)
				out = -EIO;
			*why = "export_fd failed";
		} else if (!proto_kind_known(*kind)) {
			export_log(srv, "export: export_fd gave unknown kind %u for inode %llu",
				   *kind, (unsigned long long)ino);
			close(out);
			out = -EIO;
			*why = "export_fd failed";
		}
	}
	/* Only now: it may hold the last open of an unlinked buffer. */
	close_fd(srv, fd, ours);
	return out;
}
