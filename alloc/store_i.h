/* SPDX-License-Identifier: MIT */
/*
 * store_i.h - private to alloc/: the node, the store, and the seams between
 * the files that implement alloc/store.h:
 *
 *   store.c   the store and its namespace (lookup, mkdir, create, rename...)
 *   node.c    the node tree: hash tables, attach/detach, effective
 *             constraints, stat
 *   budget.c  budgets and accounting (charges)
 *   buffer.c  the buffer life cycle and backing memory (staging, resize,
 *             the move to a heap at export, opens, freeing)
 *   io.c      reads, writes, copies, fallocate, open/release
 *   xattr.c   the user.umm.* attributes (one table) and stored user.* ones
 *
 * LOCKING
 *
 * One mutex, store.lock, guards every node, handle, table, budget and
 * counter of a store. Every function of store.h takes it on entry and drops
 * it on return; every function declared below expects it held (they never
 * take it). Under it run, on purpose, some slow things, so that no other
 * request sees a buffer half-moved: heap allocation and resizing (a memfd's
 * ftruncate, a dma-heap or DRM allocation), whole-buffer copies when a
 * buffer moves to its heap or is reallocated, the devices' import check
 * (user.umm.devices: heaps/device.c takes its own lock inside this one:
 * store, then device, never the other way), the passthrough backing
 * registration (store_ctx.backing_open, an ioctl on /dev/fuse), and the
 * move callback of store_read_to() (fs/ops.c replies to a large read from
 * inside it: a write to /dev/fuse, which never waits on a client).
 *
 * Nothing under the lock waits on a client. The one wait, for the release
 * of opens a resize must not leave behind (wait_released(): the kernel sends
 * RELEASE after close() returns), sleeps on store.released with the lock
 * dropped, at most a second, and only on a FUSE thread. store_export(), on
 * the export thread, never waits: a buffer that other opens still hold when
 * it must move to its heap gives -EBUSY, and libumm asks again.
 */
#ifndef UMM_STORE_I_H
#define UMM_STORE_I_H

#include <linux/dma-buf.h>
#include <pthread.h>
#include <time.h>

#include "constraints.h"
#include "store.h"

struct store_xattr {
	struct store_xattr *next;
	char *name;
	size_t len;
	char value[];
};

/**
 * struct store_buffer - a buffer's memory and state
 * @heap:       the heap chosen at creation (the memory is there once exported)
 * @mem:        the memory; while @staged, a plain growable memfd
 * @len:        the file's length where it is less than @mem.size (a heap of
 *              whole pages holding a buffer filled to another length), else 0;
 *              such a buffer is never passed through, so reads stop at @len
 * @staged:     @mem is a growable memfd, not yet the heap's memory: from
 *              creation until the first export (or a size the directory fixed)
 * @want:       the request the directory's constraints made at creation
 * @eff:        the directory's effective constraints at creation: the heaps
 *              its memory may move to when its size is fixed, and the devices
 *              its dma-buf was checked against
 * @charged:    bytes charged to the budgets
 * @prealloc:   while @staged, the end of pages fallocate(FALLOC_FL_KEEP_SIZE)
 *              allocated past the file's end (charged too), 0 for none
 * @cache:      CPU mapping type
 * @sync:       CPU/device domain
 * @exports:    fds handed out through the export socket
 * @memfd_exports: of which memfds (read-only trades of a udmabuf buffer)
 * @nwriters:   handles open for writing (their writes all reach the daemon)
 * @npt:        handles open with the passthrough backing id
 * @backing_id: the passthrough backing id registered for @mem, 0 for none
 * @handles:    its open handles (freed with it, also at unmount)
 * @stale_backing_id: one registered for memory the buffer moved away from
 *              (at export, outside any FUSE request), for the next request
 *              to drop
 * @busy_logged: CLOCK_MONOTONIC second of the last "cannot move" log line
 *              (an export refused while other opens hold it, tried again)
 * @declared:   its size was chosen (the directory's user.umm.size, truncate,
 *              fallocate) rather than reached by writes; a chosen size never
 *              grows by a write
 */
struct store_buffer {
	struct heap *heap;
	struct heap_buf mem;
	uint64_t len;
	bool staged;
	struct heap_req want;
	struct constraints eff;
	uint64_t charged;
	uint64_t prealloc;
	enum heap_cache cache;
	enum buf_sync sync;
	uint64_t exports;
	uint64_t memfd_exports;
	unsigned nwriters;
	unsigned npt;
	int backing_id;
	int stale_backing_id;
	struct store_handle *handles;
	bool declared;
	uint64_t busy_logged;
};

/**
 * struct store_dir - a directory
 * @own:      its own constraint set
 * @first, @last: children in creation order (readdir order)
 * @next_cookie: readdir offset the next child gets
 * @used:     bytes charged to buffers in the subtree
 * @nchildren: entries
 * @size_from: the device list user.umm.size_from took @own's size from, or
 *            NULL (the size was set directly, or is not set)
 */
struct store_dir {
	struct constraints own;
	char *size_from;
	struct store_node *first, *last;
	uint64_t next_cookie;
	uint64_t used;
	uint64_t nchildren;
};

struct store_node {
	uint64_t ino;
	bool is_dir;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec atime, mtime, ctime;
	uint32_t nlink;
	uint64_t nlookup;
	unsigned nopen;
	struct store_node *parent;
	char *name;
	uint64_t cookie;
	struct store_node *prev, *next; /* siblings */
	struct store_node *name_next; /* name table chain */
	struct store_node *ino_next; /* inode table chain */
	struct store_xattr *xattrs;
	size_t xattr_names, xattr_bytes;
	union {
		struct store_dir dir;
		struct store_buffer buf;
	};
};

/**
 * struct store_handle - one open of a buffer
 */
struct store_handle {
	struct store_node *node;
	struct store_handle *prev, *next; /* the buffer's handles */
	int accmode;
	bool passthrough;
};

struct store_user {
	uid_t uid;
	uint64_t used;
};

struct store {
	pthread_mutex_t lock;
	pthread_cond_t released; /* broadcast whenever a handle is released */
	struct store_config cfg;
	struct store_node *root;
	uint64_t next_ino;
	struct store_node **ino_tab;
	struct store_node **name_tab;
	size_t tab_size; /* both tables, a power of two */
	size_t nnodes;
	uint64_t used;
	uint64_t nbuffers;
	uint64_t ndirs;
	struct store_user *users;
	size_t nusers;
	char *socket;
	uint64_t reads, writes; /* daemon-served read and write requests */
	uint64_t read_bytes, write_bytes; /* and the bytes they moved */
	uint64_t exports; /* fds handed out by the export socket */
	const char *transport; /* of the last stats request (store_set_transport()), or NULL */
};

static inline void lock(struct store *s)
{
	pthread_mutex_lock(&s->lock);
}

static inline void unlock(struct store *s)
{
	pthread_mutex_unlock(&s->lock);
}

static inline void now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

#define COPY_CHUNK (1u << 20) /* bytes a copy between memories moves at a time */

/* Why a buffer changes size: a size someone chose, a write past the end, O_TRUNC. */
enum resize_why { RESIZE_DECLARE, RESIZE_WRITE, RESIZE_TRUNC };

/* node.c */
void tab_insert_ino(struct store *s, struct store_node *n);
void tab_remove_ino(struct store *s, struct store_node *n);
void tab_maybe_grow(struct store *s);
struct store_node *node_get(struct store *s, uint64_t ino);
struct store_node *node_child(struct store *s, struct store_node *dir, const char *name);
int node_check_name(const char *name);
struct store_node *node_new(struct store *s, bool is_dir, mode_t mode, uid_t uid, gid_t gid);
void node_attach(struct store *s, struct store_node *dir, struct store_node *n, char *name);
void node_detach(struct store *s, struct store_node *n);
int node_effective(struct store_node *dir, struct constraints *eff);
void node_buf_props(const struct store_node *n, struct constraints_bufprops *p);
int node_subtree_meets(struct store_node *dir, const struct constraints *eff, const char **why);
uint64_t buf_len(const struct store_buffer *b);
void node_fill_stat(const struct store_node *n, struct stat *st);
void node_kill_suid(struct store_node *n, const struct store_ctx *ctx, bool always);
void node_modified(struct store_node *n, const struct store_ctx *ctx);
void node_path(const struct store_node *n, char *out, size_t len);
int node_dir_get(struct store *s, uint64_t ino, struct store_node **out);
int node_buf_get(struct store *s, uint64_t ino, struct store_node **out);
bool node_settled(const struct store_node *n);
struct store_handle *node_handle(struct store_node *n, uint64_t fh);
gid_t node_new_gid(const struct store_node *dir, const struct store_ctx *ctx);
unsigned node_depth(const struct store_node *n);
unsigned node_height(const struct store_node *dir);
bool node_table_full(const struct store *s);

/* budget.c */
struct store_user *budget_user(struct store *s, uid_t uid, bool create);
void budget_chain_add(struct store_node *dir, int64_t delta);
bool budget_chain_fits(struct store_node *dir, uint64_t delta);
int budget_charge(struct store *s, struct store_node *n, uint64_t bytes);
uint64_t budget_charge_of(uint64_t size);

/* buffer.c */
void buf_node_free(struct store *s, struct store_node *n, const struct store_ctx *ctx);
void buf_maybe_free(struct store *s, struct store_node *n, const struct store_ctx *ctx);
struct heap *buf_heap_now(struct store_node *n);
void buf_mem_label(const struct store_node *n, char label[DMA_BUF_NAME_LEN]);
char *buf_next_device(const char **p, char *dev, size_t n);
int buf_place(struct store *s, struct store_node *n, uint64_t size, struct heap *sh,
	      struct heap_buf *src, struct heap_buf *out, char *why, size_t whylen);
int buf_resize(struct store *s, struct store_node *n, uint64_t size, struct store_handle *issuer,
	       const struct store_ctx *ctx, enum resize_why why);
int buf_open(struct store *s, const struct store_ctx *ctx, struct store_node *n, int flags,
	     struct store_open_out *oo);

/* io.c */
ssize_t io_mem(struct heap *h, struct heap_buf *m, void *buf, size_t n, off_t off, bool to_mem);

/* xattr.c */
void xattr_free_all(struct store_node *n);

#endif /* UMM_STORE_I_H */
