/* SPDX-License-Identifier: MIT */
/*
 * store_i.h - private to alloc/: the node, the tables, the accounting.
 */
#ifndef UMM_STORE_I_H
#define UMM_STORE_I_H

#include <pthread.h>

#include "constraints.h"
#include "store.h"

struct umm_xattr {
	struct umm_xattr *next;
	char *name;
	size_t len;
	char value[];
};

/**
 * struct umm_buffer - a buffer's memory and state
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
 * @declared:   its size was chosen (the directory's user.umm.size, truncate,
 *              fallocate) rather than reached by writes; a chosen size never
 *              grows by a write
 */
struct umm_buffer {
	struct heap *heap;
	struct heap_buf mem;
	uint64_t len;
	bool staged;
	struct heap_req want;
	struct umm_constraints eff;
	uint64_t charged;
	uint64_t prealloc;
	enum umm_cache cache;
	enum umm_sync sync;
	uint64_t exports;
	uint64_t memfd_exports;
	unsigned nwriters;
	unsigned npt;
	int backing_id;
	int stale_backing_id;
	struct umm_handle *handles;
	bool declared;
};

/**
 * struct umm_dir - a directory
 * @own:      its own constraint set
 * @first, @last: children in creation order (readdir order)
 * @next_cookie: readdir offset the next child gets
 * @used:     bytes charged to buffers in the subtree
 * @nchildren: entries
 */
struct umm_dir {
	struct umm_constraints own;
	struct umm_node *first, *last;
	uint64_t next_cookie;
	uint64_t used;
	uint64_t nchildren;
};

struct umm_node {
	uint64_t ino;
	bool is_dir;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec atime, mtime, ctime;
	uint32_t nlink;
	uint64_t nlookup;
	unsigned nopen;
	struct umm_node *parent;
	char *name;
	uint64_t cookie;
	struct umm_node *prev, *next; /* siblings */
	struct umm_node *name_next; /* name table chain */
	struct umm_node *ino_next; /* inode table chain */
	struct umm_xattr *xattrs;
	size_t xattr_names, xattr_bytes;
	union {
		struct umm_dir dir;
		struct umm_buffer buf;
	};
};

/**
 * struct umm_handle - one open of a buffer
 */
struct umm_handle {
	struct umm_node *node;
	struct umm_handle *prev, *next; /* the buffer's handles */
	int accmode;
	bool passthrough;
};

struct umm_user {
	uid_t uid;
	uint64_t used;
};

struct umm_store {
	pthread_mutex_t lock;
	pthread_cond_t released; /* broadcast whenever a handle is released */
	struct umm_config cfg;
	struct umm_node *root;
	uint64_t next_ino;
	struct umm_node **ino_tab;
	struct umm_node **name_tab;
	size_t tab_size; /* both tables, a power of two */
	size_t nnodes;
	uint64_t used;
	uint64_t nbuffers;
	uint64_t ndirs;
	struct umm_user *users;
	size_t nusers;
	char *socket;
	uint64_t reads, writes; /* daemon-served read and write requests */
	uint64_t read_bytes, write_bytes; /* and the bytes they moved */
	uint64_t exports; /* fds handed out by the export socket */
};

#endif /* UMM_STORE_I_H */
