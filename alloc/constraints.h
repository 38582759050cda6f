/* SPDX-License-Identifier: MIT */
/*
 * constraints.h - a directory's constraint set, merging along the path, and the
 * choice of heap. Pure functions: no locks, no I/O, no FUSE.
 */
#ifndef UMM_CONSTRAINTS_H
#define UMM_CONSTRAINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heap.h"
#include "parse.h"

enum cset_bit {
	UMM_C_SIZE = 1 << 0,
	UMM_C_ALIGN = 1 << 1,
	UMM_C_CONTIGUOUS = 1 << 2,
	UMM_C_CACHE = 1 << 3,
	UMM_C_HEAP = 1 << 4,
	UMM_C_DEVICES = 1 << 5,
	UMM_C_MAX_BYTES = 1 << 6,
};

/**
 * struct constraints - a constraint set
 * @set:        UMM_C_* bits: which fields hold a value
 * @size:       size of each new buffer
 * @align:      start alignment
 * @contiguous: physically contiguous memory required
 * @cache:      CPU mapping type
 * @heap:       the one heap allowed ("" for any)
 * @devices:    normalized device list (malloc'd) or NULL
 * @max_bytes:  quota of the subtree (own setting; the effective set holds the
 *              tightest along the path)
 */
struct constraints {
	unsigned set;
	uint64_t size;
	uint64_t align;
	bool contiguous;
	enum heap_cache cache;
	char heap[UMM_HEAP_NAME_MAX];
	char *devices;
	uint64_t max_bytes;
};

/**
 * struct constraints_bufprops - what a buffer's memory is, to check it against a set
 */
struct constraints_bufprops {
	const char *heap;
	uint64_t align;
	bool contiguous;
	enum heap_cache cache;
	const char *devices;
};

/* the names of the settable directory constraints, without "user.umm." */
int constraints_bit(const char *name);

void constraints_init(struct constraints *c);
void constraints_fini(struct constraints *c);
int constraints_copy(struct constraints *dst, const struct constraints *src);
int constraints_set(struct constraints *c, int which, const char *value, size_t len);
void constraints_clear(struct constraints *c, int which);
int constraints_get(const struct constraints *c, int which, char *buf, size_t n);
int constraints_merge(struct constraints *eff, const struct constraints *own,
		      const char **conflict);
int constraints_format(const struct constraints *eff, char *buf, size_t n);
bool constraints_met(const struct constraints *eff, const struct constraints_bufprops *b,
		     const char **why);
int constraints_choose_heap(struct heap *heaps, unsigned n, const struct constraints *eff,
			    uint64_t size, char *why, size_t whylen);
const char *constraints_heap_unmet(const struct heap *h, const struct constraints *eff,
				   uint64_t size, bool *size_only);
void constraints_heap_req(const struct constraints *eff, uint64_t size, struct heap_req *req);

#endif /* UMM_CONSTRAINTS_H */
