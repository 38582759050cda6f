/* SPDX-License-Identifier: MIT */
/*
 * export.h - the export socket of umm-fs: trades an open fd of the mount for
 * the buffer's memfd or dma-buf (SPEC 6). No FUSE in here. The interface for
 * main.c, which starts and stops the server from its main thread; the server
 * runs in threads of its own. The wire protocol (lib/proto_i.h) is the
 * business of the export_*.c files alone (export_i.h).
 */
#ifndef UMM_FS_EXPORT_H
#define UMM_FS_EXPORT_H

#include <stdint.h>
#include <sys/types.h>

struct export_server;

/**
 * struct export_ops - what the export server needs from the filesystem.
 *
 * Both members are called only from the server's own thread, one call at a
 * time, never with a lock of the server held. They run concurrently with the
 * FUSE worker threads: take the filesystem's own locks as needed, and never
 * wait for anything the FUSE threads might wait for in turn.
 */
struct export_ops {
	/**
	 * @export_fd: turn a buffer into an fd for the client.
	 * @ctx:     the ctx given to export_start().
	 * @ino:     inode number (st_ino) of the fd the client sent; it is an fd of
	 *           this mount and a regular file, but may name a buffer that no
	 *           longer exists.
	 * @accmode: the access mode of the client's fd: O_RDONLY, O_WRONLY or
	 *           O_RDWR. The returned fd must not allow more.
	 * @kind:    set to the buffer's kind on success: 1 for a memfd, 2 for a
	 *           dma-buf (enum proto_kind in lib/proto_i.h: UMM_KIND_MEMFD,
	 *           UMM_KIND_DMABUF). Anything else is refused with -EIO.
	 * @size:    set to the buffer's size in bytes on success.
	 *
	 * Return: an fd >= 0 owned by the caller (the server sends it and closes
	 * it), or -errno, sent to the client as is (for example -ENOENT for a
	 * buffer that is gone, -EACCES for an access mode the heap cannot give).
	 */
	int (*export_fd)(void *ctx, uint64_t ino, int accmode, uint32_t *kind, uint64_t *size);

	/**
	 * @log: optional; one log line (no trailing newline, no program name
	 * prefix; the text starts with "export: "). If NULL, lines go to stderr
	 * as "umm-fs: export: ...". The server limits itself to a few lines a
	 * second, so a hostile client cannot flood the log.
	 */
	void (*log)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
};

/**
 * export_start() - create the export socket and start serving it.
 * @out:       set to the new server on success.
 * @path:      socket path (shorter than sun_path). Missing parent directories
 *             are made with mode 0755. A stale socket there is replaced; a
 *             socket a live server answers on gives -EADDRINUSE; anything
 *             that is not a socket gives -EEXIST.
 * @mount_dev: st_dev of the mount: only fds of this device are accepted.
 * @ops:       callbacks (copied; @ops->export_fd is required).
 * @ctx:       passed to @ops->export_fd.
 *
 * The socket gets mode 0666: access to a buffer is checked when the client
 * opens it, the socket only trades fds the client already holds. The server
 * runs in its own thread, with all signals blocked.
 *
 * Return: 0, or -errno (nothing is left behind).
 */
int export_start(struct export_server **out, const char *path, dev_t mount_dev,
		 const struct export_ops *ops, void *ctx);

/**
 * export_stop() - stop serving, close every client, remove the socket.
 * @srv: from export_start(), or NULL (then nothing happens).
 *
 * Waits for the server thread, so an @ops->export_fd call in progress ends
 * before this returns; no callback runs afterwards. Call it before tearing
 * down what ctx points to. The socket file is unlinked only if it is still
 * the one this server bound. Received fds of other filesystems are closed by
 * a helper thread (a close(2) of a FUSE file waits for that filesystem's
 * daemon); this waits up to 2 s for it, then leaves it to finish on its own.
 */
void export_stop(struct export_server *srv);

#endif /* UMM_FS_EXPORT_H */
