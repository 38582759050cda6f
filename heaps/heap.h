/* SPDX-License-Identifier: MIT */
/*
 * heap.h - the heap interface alloc/ and fs/ use: one backend a file, each
 * behind a static const ops table.
 *
 * The core (heap.c) checks sizes, alignment and names once, so backends never
 * repeat it. heaps/ takes nothing from alloc/ and includes no FUSE header;
 * what a backend needs beyond this file is in heap_i.h.
 */
#ifndef UMM_HEAP_H
#define UMM_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "heap_defs.h"

#define HEAP_PAGE_SIZE 4096ULL
#define HEAP_HUGE_SIZE (2ULL << 20)
#define HEAP_MAX 32

struct heap;

/**
 * struct heap_caps - what a heap can give
 * @dmabuf:      buffers have a dma-buf fd
 * @contiguous:  buffers can be physically contiguous (up to @contig_max bytes)
 * @contig_max:  largest contiguous buffer, 0 if @contiguous is false
 * @cache_modes: bitmask of 1u << enum heap_cache the heap can map
 * @max_size:    largest single buffer, 0 for no limit beyond memory
 * @align:       largest start alignment the heap guarantees
 * @growable:    buffers can start empty and grow before they are sealed
 */
struct heap_caps {
	bool dmabuf;
	bool contiguous;
	uint64_t contig_max;
	unsigned cache_modes;
	uint64_t max_size;
	uint64_t align;
	bool growable;
};

/**
 * struct heap_req - one allocation request, already checked by the core
 * @size:       bytes, a multiple of the page size (0 for an empty growable buffer)
 * @align:      start alignment, a power of two >= page size
 * @contiguous: physically contiguous memory required
 * @cache:      CPU mapping type
 * @name:       a name for debugging views (memfd name, dma-buf name)
 */
struct heap_req {
	uint64_t size;
	uint64_t align;
	bool contiguous;
	enum heap_cache cache;
	const char *name;
};

/**
 * struct heap_buf - memory a heap handed out
 * @fd:         fd the daemon reads and writes, and the passthrough backing file;
 *              a memfd for memfd-based heaps
 * @dmabuf_fd:  the dma-buf fd, -1 if the heap makes none
 * @size:       bytes the buffer holds now
 * @align:      start alignment the memory really has
 * @contiguous: whether the memory is physically contiguous
 * @sealed:     size fixed (F_SEAL_GROW|F_SEAL_SHRINK on memfds)
 * @map:        the daemon's own mapping (MAP_SHARED, read-write, @size bytes),
 *              for heaps whose fd has no write(2) (hugetlb) and for heaps with
 *              no memfd at all (@fd == -1: dma-heap, drm); NULL otherwise
 * @priv:       backend data
 */
struct heap_buf {
	int fd;
	int dmabuf_fd;
	uint64_t size;
	uint64_t align;
	bool contiguous;
	bool sealed;
	void *map;
	void *priv;
};

/**
 * struct heap_ops - a backend
 * @alloc:  allocate @req->size bytes into @out. Returns 0 or -errno (-ENOMEM,
 *          -ENOSPC, -EOPNOTSUPP). On failure @out is untouched.
 * @resize: change the size of an unsealed (growable) buffer. Returns 0 or -errno.
 *          Optional: NULL for heaps that are not growable.
 * @seal:   fix the size. Returns 0 or -errno. After it, no fd of the buffer can
 *          change its size.
 * @adopt:  take a filled staging memfd (@buf, unsealed) as this heap's memory
 *          for @req, sealing it. Returns 0, or -EOPNOTSUPP where the heap must
 *          allocate its own memory (the core then allocates and copies).
 *          Optional.
 * @free:   release everything @buf holds. Never fails.
 * @sync:   begin/end CPU access (DMA_BUF_SYNC_* flags). Optional: NULL means
 *          CPU-coherent memory and nothing to do.
 * @release: close what the probe kept open for the daemon's life (device fds).
 *          Called once by heap_release_all(), after every buffer is freed.
 *          Optional.
 */
struct heap_ops {
	int (*alloc)(struct heap *h, const struct heap_req *req, struct heap_buf *out);
	int (*resize)(struct heap *h, struct heap_buf *buf, uint64_t size);
	int (*seal)(struct heap *h, struct heap_buf *buf);
	int (*adopt)(struct heap *h, const struct heap_req *req, struct heap_buf *buf);
	void (*free)(struct heap *h, struct heap_buf *buf);
	int (*sync)(struct heap *h, struct heap_buf *buf, unsigned flags);
	void (*release)(struct heap *h);
};

/**
 * struct heap - one heap found at start-up
 * @name: its name, as in heap= and user.umm.heap
 * @ops:  its backend
 * @caps: what it can give
 * @priv: backend data
 */
struct heap {
	char name[UMM_HEAP_NAME_MAX];
	const struct heap_ops *ops;
	struct heap_caps caps;
	void *priv;
};

/* heap.c: the requests, checked once, then passed to the backend */
int heap_alloc(struct heap *h, const struct heap_req *req, struct heap_buf *out);
int heap_resize(struct heap *h, struct heap_buf *buf, uint64_t size);
int heap_seal(struct heap *h, struct heap_buf *buf);
int heap_adopt(struct heap *h, const struct heap_req *req, struct heap_buf *buf);
void heap_free(struct heap *h, struct heap_buf *buf);
int heap_sync(struct heap *h, struct heap_buf *buf, unsigned flags);
int heap_reopen(const struct heap_buf *buf, int accmode, bool *dmabuf);
/* heap.c: the registry */
int heap_discover(struct heap *heaps, unsigned max, unsigned *n);
void heap_release_all(struct heap *heaps, unsigned n);
int heap_describe(const struct heap *h, char *out, size_t n);
/* heap.c: helpers */
uint64_t heap_page_round(uint64_t size);
int heap_dmabuf_set_name(int dmabuf_fd, const char *name);

/* memfd.c */
struct heap *heap_staging(void);

/* device.c */
int heap_device_check(const char *dev, char *why, size_t n);
int heap_device_import(const char *dev, int dmabuf_fd, char *why, size_t n);
int heap_device_sizeimage(const char *dev, uint64_t *size, char *desc, size_t dn, char *why,
			  size_t n);

#endif /* UMM_HEAP_H */
