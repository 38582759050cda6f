/* SPDX-License-Identifier: MIT */
/*
 * parse.h - the one place that parses user-supplied text (STYLE rule 5).
 *
 * xattr values arrive from setxattr as (const char *s, size_t len): not
 * NUL-terminated, possibly holding NUL bytes. Mount options arrive as C
 * strings (the *_str functions and parse_heap_list).
 *
 * Common rules for every parser here:
 *  - exactly one optional trailing '\n' is accepted (so `echo 8M > ...` and
 *    `setfattr -v "$(...)"` style input works); otherwise the text must match
 *    exactly: no spaces, no signs, no other bytes;
 *  - the return value is 0 or -EINVAL (parse_devices* may also give -ENOMEM);
 *  - the output is written only on success;
 *  - no locale dependence, no globals, no allocation except in parse_devices
 *    and parse_devices_union.
 *
 * Full kernel-doc comments are on the definitions in parse.c.
 */
#ifndef UMM_PARSE_H
#define UMM_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * enum heap_cache, UMM_HEAP_NAME_MAX and the heap-name rule belong to the heaps
 * (heaps/ takes nothing from alloc/). The path is spelled out because parse.c
 * is also built with only alloc/ and include/ on the path (tests/fuzz).
 */
#include "../heaps/heap_defs.h"

enum buf_sync {
	UMM_SYNC_CPU = 0,
	UMM_SYNC_CPU_READ,
	UMM_SYNC_CPU_WRITE,
	UMM_SYNC_DEVICE,
	UMM_SYNC_NR
};

#define UMM_DEVICES_MAX 16 /* device paths in one list */
#define UMM_HEAP_LIST_MAX 16 /* names in one heap=LIST */
#define UMM_DEVICE_PATH_MAX 255 /* bytes of one device path */
#define UMM_ALIGN_MIN 4096ULL /* page size */
#define UMM_ALIGN_MAX (1ULL << 30)
#define UMM_FORMAT_SIZE_BUF 24 /* enough for any parse_format_size() output */

/* SIZE: decimal digits (at most 20) + optional one of K M G T (either case), binary multiples.
 * Overflow of uint64 anywhere -> -EINVAL. "0" is valid. Empty -> -EINVAL. */
int parse_size(const char *s, size_t len, uint64_t *out);
/* like parse_size but for NUL-terminated strings (mount options) */
int parse_size_str(const char *s, uint64_t *out);

/* "0" or "1" */
int parse_bool01(const char *s, size_t len, bool *out);

int parse_cache(const char *s, size_t len, enum heap_cache *out); /* cached|uncached|writecombine */
const char *parse_cache_name(enum heap_cache c); /* NULL if out of range */
int parse_sync(const char *s, size_t len, enum buf_sync *out); /* cpu|cpu:read|cpu:write|device */
const char *parse_sync_name(enum buf_sync s); /* NULL if out of range */

/* a heap name: "auto" or 1..63 chars of [a-z0-9_.:-], must start with a letter;
 * copies into out (NUL-terminated) */
int parse_heap_name(const char *s, size_t len, char out[UMM_HEAP_NAME_MAX]);
/* heap=LIST mount option (NUL-terminated): names separated by ':' (comma is taken by -o);
 * each a valid heap name other than "auto", no duplicates, 1..16 names (and <= max).
 * The heap kinds "dma-heap" and "drm" take the next element as their NAME/CARD, so
 * "memfd:dma-heap:system:drm:card0" is memfd, dma-heap:system, drm:card0 (SPEC 3). */
int parse_heap_list(const char *s, char names[][UMM_HEAP_NAME_MAX], unsigned max, unsigned *n);

/* user.umm.devices: absolute paths separated by one or more spaces (tabs too);
 * each starts with '/', 2..255 bytes, printable ASCII without spaces;
 * at most UMM_DEVICES_MAX; duplicates collapse.
 * The empty string (or only whitespace) is valid and means "no devices".
 * On success *out is a malloc'd NUL-terminated normalized list (single spaces, order of first
 * appearance); caller frees. -ENOMEM possible here. */
int parse_devices(const char *s, size_t len, char **out);
/* union of two normalized lists a and b (either may be NULL/empty) -> malloc'd normalized list,
 * -EINVAL if the union exceeds UMM_DEVICES_MAX (or a list is malformed). */
int parse_devices_union(const char *a, const char *b, char **out);
/* does normalized list `have` contain every path of normalized list `need`? */
bool parse_devices_contains(const char *have, const char *need);

/* power of two >= page size (4096) and <= 1G */
int parse_align(const char *s, size_t len, uint64_t *out);

/* format a size in the largest binary unit that divides it exactly: 0 -> "0", 4096 -> "4K",
 * 8388608 -> "8M", 1536 -> "1536", 3G -> "3G". Returns snprintf-like length; buf >= 24 bytes
 * suffices. */
int parse_format_size(uint64_t v, char *buf, size_t n);

/* parse a decimal count (nr_buffers): digits only (at most 20), <= UINT64_MAX/2 */
int parse_count_str(const char *s, uint64_t *out);

#endif /* UMM_PARSE_H */
