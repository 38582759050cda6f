/* SPDX-License-Identifier: MIT */
/*
 * heap_i.h - what the backends see beyond heap.h: the backend descriptor the
 * registry holds, and the helpers heap.c shares among them.
 *
 * The registry is the list heap_backends in heaps/meson.build. From it the
 * build generates heap_backends.h, whose HEAP_BACKENDS expands
 * HEAP_BACKEND(id) once per backend, in preference order; heap.c makes its
 * static const table from it and this file the declarations. Adding a heap is
 * one file id.c that defines `const struct heap_backend id_heap_backend`, and
 * its id in that list.
 */
#ifndef UMM_HEAP_I_H
#define UMM_HEAP_I_H

#include "heap.h"
#include "heap_backends.h"

/**
 * struct heap_backend - one entry of the registry
 * @name:     the kind of heap it makes: every heap it fills is named @name or
 *            "@name:SUB" (the core drops any other, and any name that is not a
 *            valid heap name)
 * @probe:    fill up to @max heaps (@max >= 1) of this kind in @heaps, which
 *            are zeroed, and set *@n to how many. Returns 0 (also with *@n == 0:
 *            none on this machine) or -errno; on error nothing is kept open.
 *            What a heap keeps open for the daemon's life goes in its priv
 *            and is closed by its ops->release.
 * @required: discovery fails without a heap of this kind, and a slot is kept
 *            for it however many heaps the backends before it find (memfd)
 */
struct heap_backend {
	const char *name;
	int (*probe)(struct heap *heaps, unsigned max, unsigned *n);
	bool required;
};

#define HEAP_BACKEND(id) extern const struct heap_backend id##_heap_backend;
HEAP_BACKENDS
#undef HEAP_BACKEND

/* heap.c: helpers for the backends */
int heap_memfd_new(const char *name, unsigned extra_flags);
int heap_memory_fits(uint64_t size);
int heap_dmabuf_sync(int dmabuf_fd, unsigned flags);
/* seal (a no-op), free and sync of heaps whose memory is a mapped dma-buf */
int heap_mapped_seal(struct heap *h, struct heap_buf *buf);
void heap_mapped_free(struct heap *h, struct heap_buf *buf);
int heap_mapped_sync(struct heap *h, struct heap_buf *buf, unsigned flags);

/* device.c */
void heap_device_release(void);

#endif /* UMM_HEAP_I_H */
