/*
 * umm.h - client library of umm, the filesystem of memory buffers.
 *
 * Link with -lumm (pkg-config: umm). Every function follows the system call
 * convention: it returns -1 and sets errno on failure. Every function is
 * thread-safe.
 */
#ifndef UMM_H
#define UMM_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Flags of umm_sync(). The values equal those of DMA_BUF_SYNC_* in
 * <linux/dma-buf.h>, so they pass straight to DMA_BUF_IOCTL_SYNC. As there,
 * UMM_SYNC_START is 0: a flags word without UMM_SYNC_END begins CPU access.
 */
#define UMM_SYNC_READ (1U << 0)
#define UMM_SYNC_WRITE (2U << 0)
#define UMM_SYNC_RW (UMM_SYNC_READ | UMM_SYNC_WRITE)
#define UMM_SYNC_START (0U << 2)
#define UMM_SYNC_END (1U << 2)

/* Read-only xattr of a umm mount's root: the path of its export socket. */
#define UMM_XATTR_SOCKET "user.umm.socket"

/**
 * umm_open() - open a buffer and get its mappable fd.
 * @path:  path of a buffer on a umm mount.
 * @flags: O_RDONLY, O_WRONLY or O_RDWR, optionally with O_CLOEXEC. Any other
 *         flag (O_CREAT, O_TRUNC, O_APPEND, O_PATH, ...) is refused.
 *
 * Opens @path with @flags, so the kernel checks permissions as for open(2),
 * then trades that fd for the buffer's dma-buf fd (or its memfd on heaps
 * without dma-buf) like umm_export(), and closes the opened fd. The returned
 * fd never grants more access than @flags asked for.
 *
 * Return: a new fd, owned by the caller, with FD_CLOEXEC always set; or -1
 * with errno set: EINVAL for bad @flags, any error of open(2) or of
 * umm_export().
 */
int umm_open(const char *path, int flags);

/**
 * umm_export() - trade an open fd of a umm buffer for its mappable fd.
 * @fuse_fd: an fd opened on a umm mount (not O_PATH), for example one
 *           received from another process. It is not consumed.
 *
 * Finds the mount's export socket (the root's "user.umm.socket" xattr; the
 * path is remembered per mount device), sends @fuse_fd to the daemon and
 * returns what the daemon answers: the buffer's dma-buf fd, or its memfd on
 * heaps without dma-buf, with the access mode of @fuse_fd or less.
 *
 * Return: a new fd, owned by the caller, with FD_CLOEXEC set; or -1 with
 * errno set: EBADF (@fuse_fd not open, or O_PATH), EXDEV (@fuse_fd is not on
 * a umm mount), EISDIR (a directory), ENOENT (the buffer is gone), EACCES
 * (the heap cannot make an fd of that access mode), EPROTO (the daemon gave
 * an answer this library does not understand), ECONNREFUSED or ENOENT (no
 * daemon serves the socket), or any other errno the daemon reports.
 */
int umm_export(int fuse_fd);

/**
 * umm_sync() - begin or end CPU access to a buffer.
 * @fd:    a dma-buf fd, a memfd (as returned by umm_open()/umm_export()), or
 *         an fd opened on a umm buffer.
 * @flags: UMM_SYNC_START or UMM_SYNC_END, ORed with UMM_SYNC_READ,
 *         UMM_SYNC_WRITE or UMM_SYNC_RW.
 *
 * Bracket CPU access to a mapping of a buffer with umm_sync(START | mode) and
 * umm_sync(END | mode), as with DMA_BUF_IOCTL_SYNC. On a dma-buf this is that
 * ioctl. A memfd is CPU-coherent, so only a full memory barrier is issued. On
 * an fd of the umm mount the buffer's "user.umm.sync" xattr is written
 * ("cpu", "cpu:read", "cpu:write" on START, "device" on END).
 *
 * Return: 0, or -1 with errno set: EINVAL for bad @flags, EBADF if @fd is not
 * open (or O_PATH), ENOTTY if @fd is none of the above, or an error of the
 * ioctl or of fsetxattr(2).
 */
int umm_sync(int fd, unsigned flags);

#ifdef __cplusplus
}
#endif

#endif /* UMM_H */
