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

enum umm_cset {
	UMM_C_SIZE = 1 << 0,
	UMM_C_ALIGN = 1 << 1,
	UMM_C_CONTIGUOUS = 1 << 2,
	UMM_C_CACHE = 1 << 3,
	UMM_C_HEAP = 1 << 4,
	UMM_C_DEVICES = 1 << 5,
	UMM_C_MAX_BYTES = 1 << 6,
};

/**
 * struct umm_constraints - a constraint set
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
struct umm_constraints {
	unsigned set;
	uint64_t size;
	uint64_t align;
	bool contiguous;
	enum umm_cache cache;
	char heap[UMM_HEAP_NAME_MAX];
	char *devices;
	uint64_t max_bytes;
};

/**
 * struct umm_bufprops - what a buffer's memory is, to check it against a set
 */
struct umm_bufprops {
	const char *heap;
	uint64_t align;
	bool contiguous;
	enum umm_cache cache;
	const char *devices;
};

/* the names of the settable directory constraints, without "user.umm." */
int umm_cset_from_name(const char *name);

void umm_constraints_init(struct umm_constraints *c);
void umm_constraints_fini(struct umm_constraints *c);
int umm_constraints_copy(struct umm_constraints *dst, const struct umm_constraints *src);
int umm_constraints_set(struct umm_constraints *c, int which, const char *value, size_t len);
void umm_constraints_clear(struct umm_constraints *c, int which);
int umm_constraints_get(const struct umm_constraints *c, int which, char *buf, size_t n);
int umm_constraints_merge(struct umm_constraints *eff, const struct umm_constraints *own,
			  const char **conflict);
int umm_constraints_format(const struct umm_constraints *eff, char *buf, size_t n);
bool umm_constraints_met(const struct umm_constraints *eff, const struct umm_bufprops *b,
			 const char **why);
int umm_choose_heap(struct heap *heaps, unsigned n, const struct umm_constraints *eff,
		    uint64_t size, char *why, size_t whylen);
const char *umm_heap_unmet(const struct heap *h, const struct umm_constraints *eff, uint64_t size,
			   bool *size_only);
void umm_heap_req(const struct umm_constraints *eff, uint64_t size, struct heap_req *req);

#endif /* UMM_CONSTRAINTS_H */
