/* SPDX-License-Identifier: MIT */
/*
 * store.h - the filesystem's logic without FUSE: directories (constraint sets),
 * buffers, names, xattrs, accounting and the choice of heap.
 *
 * Every function here takes the store's lock itself and returns 0, a count or
 * an fd >= 0, or -errno. fs/ turns those into FUSE replies; nothing here knows
 * about FUSE, except that passthrough backing files are registered through the
 * callbacks in struct store_ctx.
 */
#ifndef UMM_STORE_H
#define UMM_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "constraints.h"
#include "heap.h"

#define UMM_ROOT_INO 1
#define UMM_NAME_MAX 255
#define UMM_XATTR_VALUE_MAX 65536
#define UMM_XATTR_LIST_MAX 65536
/* deepest directory nesting; checks walk subtrees recursively */
#define UMM_DEPTH_MAX 256

struct store;

/**
 * struct store_config - budgets and heaps of one mount
 * @size:       bytes all buffers may hold together
 * @user_size:  bytes the buffers of one uid may hold, 0 for no limit
 * @nr_buffers: buffer count limit, 0 for no limit
 * @heaps:      heaps allowed, in order of preference (the store keeps the pointer)
 * @nheaps:     how many
 * @passthrough: register passthrough backing files for zero-copy opens
 * @log:        one line per refused request (may be NULL)
 * @device_check:  can device @dev be tested for import (user.umm.devices)?
 *                 NULL: heap_device_check()
 * @device_import: does device @dev import dma-buf @fd? NULL: heap_device_import()
 * @device_sizeimage: bytes a buffer of V4L2 node @dev needs (user.umm.size_from)?
 *                 NULL: heap_device_sizeimage()
 */
struct store_config {
	uint64_t size;
	uint64_t user_size;
	uint64_t nr_buffers;
	struct heap *heaps;
	unsigned nheaps;
	bool passthrough;
	void (*log)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
	int (*device_check)(const char *dev, char *why, size_t n);
	int (*device_import)(const char *dev, int fd, char *why, size_t n);
	int (*device_sizeimage)(const char *dev, uint64_t *size, char *desc, size_t dn, char *why,
				size_t n);
};

/**
 * struct store_ctx - who makes a request, and how to register a backing file
 * @uid, @gid:     the caller's credentials (owner of what it creates)
 * @req:           opaque, passed back to the callbacks
 * @backing_open:  register @fd as a passthrough backing file; returns an id > 0,
 *                 or <= 0 when passthrough is not possible. Called with the
 *                 store's lock held. NULL: no passthrough for this request.
 * @backing_close: drop an id from @backing_open. Called with the lock held.
 * @mode_changed:  if not NULL, set to true when the request changed the
 *                 node's mode as a side effect (set-user/group-ID cleared by
 *                 a write or an open), which the kernel's cached attributes
 *                 do not show yet
 */
struct store_ctx {
	uid_t uid;
	gid_t gid;
	void *req;
	int (*backing_open)(void *req, int fd);
	void (*backing_close)(void *req, int id);
	bool *mode_changed;
};

/**
 * struct store_open_out - how an open must be answered
 * @fh:         handle to pass back to read/write/release
 * @backing_id: > 0: answer with this passthrough backing id (mmap maps the
 *              backing memfd); 0: no backing file
 * @direct_io:  the daemon serves read(2) and write(2) of this open with direct
 *              I/O (with a backing id: it overrides passthrough for I/O, not
 *              for mmap; without one: no shared mmap); false without a
 *              backing id: the kernel caches the pages (shared mmap of that
 *              cache, writes through to the daemon)
 */
struct store_open_out {
	uint64_t fh;
	int backing_id;
	bool direct_io;
};

enum {
	UMM_SET_MODE = 1 << 0,
	UMM_SET_UID = 1 << 1,
	UMM_SET_GID = 1 << 2,
	UMM_SET_SIZE = 1 << 3,
	UMM_SET_ATIME = 1 << 4,
	UMM_SET_MTIME = 1 << 5,
	UMM_SET_ATIME_NOW = 1 << 6,
	UMM_SET_MTIME_NOW = 1 << 7,
	UMM_SET_CTIME = 1 << 8,
	UMM_SET_KILL_SUIDGID = 1 << 9, /* clear set-user/group-ID as a write would */
};

/**
 * struct store_setattr - what a setattr changes (@valid: UMM_SET_* bits)
 * @fh: the handle the change came through, 0 for a change by path
 */
struct store_setattr {
	unsigned valid;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	uint64_t size;
	struct timespec atime, mtime, ctime;
	uint64_t fh;
};

/**
 * typedef store_fill_fn - readdir callback: add one entry (@settled: as
 * store_attr_settled() says of it)
 * Returns 0 when added, > 0 when the reply buffer is full (entry not added).
 */
typedef int (*store_fill_fn)(void *arg, const char *name, const struct stat *st, bool settled,
			     off_t next);

/**
 * struct store_stats - counters for tests and umm-ls
 */
struct store_stats {
	uint64_t buffers, dirs, used, reads, writes;
};

int store_new(struct store **out, const struct store_config *cfg);
void store_free(struct store *s);
void store_set_passthrough(struct store *s, bool on);
void store_set_transport(struct store *s, const char *name);
void store_set_socket(struct store *s, const char *path);
void store_stats(struct store *s, struct store_stats *st);

int store_lookup(struct store *s, uint64_t parent, const char *name, struct stat *st,
		 bool *settled);
void store_forget(struct store *s, const struct store_ctx *ctx, uint64_t ino, uint64_t n);
int store_getattr(struct store *s, uint64_t ino, struct stat *st, bool *settled);
bool store_attr_settled(struct store *s, uint64_t ino);
int store_setattr(struct store *s, const struct store_ctx *ctx, uint64_t ino,
		  const struct store_setattr *sa, struct stat *st);
int store_mkdir(struct store *s, const struct store_ctx *ctx, uint64_t parent, const char *name,
		mode_t mode, struct stat *st);
int store_create(struct store *s, const struct store_ctx *ctx, uint64_t parent, const char *name,
		 mode_t mode, int flags, struct stat *st, struct store_open_out *oo);
int store_open(struct store *s, const struct store_ctx *ctx, uint64_t ino, int flags,
	       struct store_open_out *oo);
void store_release(struct store *s, const struct store_ctx *ctx, uint64_t ino, uint64_t fh);
int store_unlink(struct store *s, const struct store_ctx *ctx, uint64_t parent, const char *name);
int store_rmdir(struct store *s, uint64_t parent, const char *name);
int store_rename(struct store *s, const struct store_ctx *ctx, uint64_t parent, const char *name,
		 uint64_t newparent, const char *newname, unsigned flags);
/*
 * How a daemon-served read moves its bytes, called with the store
 * locked and the buffer synced for CPU access: @n bytes at offset @off of the
 * buffer, which is either the fd @fd (then @mem is NULL) or the memory @mem
 * (then @fd is -1; the heap's mapping: for a dma-buf, VM_PFNMAP, which the CPU
 * may copy from but the kernel cannot pin). Returns the bytes moved or -errno.
 */
typedef ssize_t (*store_move_fn)(void *arg, int fd, void *mem, off_t off, size_t n);
ssize_t store_read_to(struct store *s, uint64_t ino, uint64_t fh, size_t size, off_t off,
		      store_move_fn move, void *arg);
ssize_t store_copy_out(void *buf, int fd, const void *mem, off_t off, size_t n);
ssize_t store_read(struct store *s, uint64_t ino, uint64_t fh, char *buf, size_t size, off_t off);
ssize_t store_write(struct store *s, const struct store_ctx *ctx, uint64_t ino, uint64_t fh,
		    const char *buf, size_t size, off_t off);
int store_fallocate(struct store *s, const struct store_ctx *ctx, uint64_t ino, uint64_t fh,
		    int mode, off_t off, off_t len);
int store_opendir(struct store *s, uint64_t ino);
int store_readdir(struct store *s, uint64_t ino, off_t off, bool plus, store_fill_fn fill,
		  void *arg);
void store_statfs(struct store *s, struct statvfs *sv);
int store_setxattr(struct store *s, const struct store_ctx *ctx, uint64_t ino, const char *name,
		   const char *value, size_t size, int flags);
ssize_t store_getxattr(struct store *s, uint64_t ino, const char *name, char *buf, size_t size);
ssize_t store_listxattr(struct store *s, uint64_t ino, char *buf, size_t size);
int store_removexattr(struct store *s, uint64_t ino, const char *name);
/* What store_export() hands out: the values of the export socket's UMM_KIND_* */
enum store_kind {
	STORE_KIND_MEMFD = 1,
	STORE_KIND_DMABUF = 2,
};

int store_export(struct store *s, uint64_t ino, int accmode, uint32_t *kind, uint64_t *size);

#endif /* UMM_STORE_H */
