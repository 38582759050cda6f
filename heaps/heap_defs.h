/* SPDX-License-Identifier: MIT */
/*
 * heap_defs.h - the words the heaps share with the rest of umm: the cache
 * modes and their names, what a heap name may be, how a size is written.
 *
 * They live in heaps/ because heaps/ takes nothing from alloc/: alloc/parse.h
 * includes this file, and its parsers read these same words from user text.
 * Header-only on purpose: parse.c is also built alone, with no heaps/ object
 * (tests/fuzz/run-fuzz.sh), so what it shares with the heaps cannot need one.
 */
#ifndef UMM_HEAP_DEFS_H
#define UMM_HEAP_DEFS_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/**
 * enum heap_cache - how the CPU maps a buffer (the user.umm.cache values)
 * @UMM_CACHE_CACHED:       cached, coherent with the CPU
 * @UMM_CACHE_UNCACHED:     uncached
 * @UMM_CACHE_WRITECOMBINE: write-combined
 * @UMM_CACHE_NR:           the number of modes, not a mode
 *
 * A heap's caps.cache_modes is a bitmask of 1u << enum heap_cache.
 */
enum heap_cache {
	UMM_CACHE_CACHED = 0,
	UMM_CACHE_UNCACHED = 1,
	UMM_CACHE_WRITECOMBINE = 2,
	UMM_CACHE_NR
};

#define UMM_HEAP_NAME_MAX 64 /* bytes of a heap name, including the NUL */

/**
 * heap_cache_name() - the text of a cache mode, as user.umm.cache takes it
 * @c: the mode
 *
 * Return: a static string, or NULL if @c is out of range.
 */
static inline const char *heap_cache_name(enum heap_cache c)
{
	static const char *const names[UMM_CACHE_NR] = {
		[UMM_CACHE_CACHED] = "cached",
		[UMM_CACHE_UNCACHED] = "uncached",
		[UMM_CACHE_WRITECOMBINE] = "writecombine",
	};

	if ((unsigned)c >= UMM_CACHE_NR)
		return NULL;
	return names[c];
}

/**
 * heap_name_valid() - is @s a well-formed heap name?
 * @s:   the name, not NUL-terminated (no trailing newline handling)
 * @len: its length
 *
 * The one rule for heap names, for the names the backends make and for those
 * users write (heap=, user.umm.heap). Bytes are spelled out, not <ctype.h>,
 * so the rule does not change with the locale.
 *
 * Return: true if @s is 1..63 bytes of [a-z0-9_.:-] starting with [a-z].
 */
static inline bool heap_name_valid(const char *s, size_t len)
{
	if (len == 0 || len >= UMM_HEAP_NAME_MAX)
		return false;
	if (s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == ':' || c == '-')
			continue;
		return false;
	}
	return true;
}

/**
 * heap_format_size() - write a size in the largest binary unit that divides it
 * @v:   the size in bytes
 * @buf: the output buffer (may be NULL if @n is 0)
 * @n:   its size; 24 bytes always suffice
 *
 * Uses the largest of T, G, M, K that divides @v exactly, or no suffix:
 * 0 -> "0", 1536 -> "1536", 4096 -> "4K", 8388608 -> "8M". A SIZE parser
 * (parse_size()) reads every result back to @v.
 *
 * Return: like snprintf(): the length of the full text (without the NUL),
 * which is truncated if it is >= @n.
 */
static inline int heap_format_size(uint64_t v, char *buf, size_t n)
{
	static const char suffix[] = "KMGT";

	if (v != 0) {
		for (int i = 3; i >= 0; i--) {
			unsigned shift = 10 * (unsigned)(i + 1);

			if ((v & ((UINT64_C(1) << shift) - 1)) == 0)
				return snprintf(buf, n, "%" PRIu64 "%c", v >> shift, suffix[i]);
		}
	}
	return snprintf(buf, n, "%" PRIu64, v);
}

#endif /* UMM_HEAP_DEFS_H */
