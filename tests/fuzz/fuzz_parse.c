/* SPDX-License-Identifier: MIT */
/*
 * fuzz_parse.c - libFuzzer target for alloc/parse.c, the parser of every
 * user-supplied text (xattr values and mount options).
 *
 * The first byte of the input selects the function, the rest is its text
 * (exactly that many bytes, in a buffer of its own so ASan sees any read past
 * the end). Besides "no crash, no sanitizer report", each case checks what
 * parse.h promises: the output is written on success only, accepted values are
 * in range, and what a parser accepts survives a round trip (format then
 * parse, normalize then re-parse). A broken promise aborts: a crash.
 *
 *   tests/fuzz/run-fuzz.sh parse [SECONDS]
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "fuzz_parse: %s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                                          \
			abort();                                                           \
		}                                                                          \
	} while (0)

/* A byte that no parser writes: outputs must keep it when parsing fails. */
#define POISON 0xa5

static bool all_poison(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != POISON)
			return false;
	return true;
}

/* A malloc'd copy of s[0..len) with a NUL after it (a C string up to the first NUL). */
static char *cstr(const char *s, size_t len)
{
	char *c = malloc(len + 1);

	CHECK(c);
	memcpy(c, s, len);
	c[len] = '\0';
	return c;
}

/* Does a parse_format_size() of v parse back to v? */
static void check_format_round_trip(uint64_t v)
{
	char buf[UMM_FORMAT_SIZE_BUF], small[4];
	uint64_t back;
	int n;

	n = parse_format_size(v, buf, sizeof(buf));
	CHECK(n > 0 && (size_t)n < sizeof(buf) && strlen(buf) == (size_t)n);
	CHECK(parse_size(buf, (size_t)n, &back) == 0 && back == v);
	CHECK(parse_size_str(buf, &back) == 0 && back == v);
	/* snprintf-like truncation: same length, NUL-terminated prefix */
	CHECK(parse_format_size(v, small, sizeof(small)) == n);
	CHECK(strlen(small) == (n < (int)sizeof(small) ? (size_t)n : sizeof(small) - 1));
	CHECK(memcmp(small, buf, strlen(small)) == 0);
	CHECK(parse_format_size(v, NULL, 0) == n);
}

static void fuzz_size(const char *s, size_t len)
{
	uint64_t v, v2;
	char *c;
	int ret;

	memset(&v, POISON, sizeof(v));
	ret = parse_size(s, len, &v);
	CHECK(ret == 0 || ret == -22);
	if (ret) {
		CHECK(all_poison(&v, sizeof(v)));
	} else {
		check_format_round_trip(v);
	}
	/* the C-string variant agrees wherever the text has no NUL */
	c = cstr(s, len);
	if (strlen(c) == len) {
		memset(&v2, POISON, sizeof(v2));
		CHECK(parse_size_str(c, &v2) == ret);
		CHECK(ret ? all_poison(&v2, sizeof(v2)) : v2 == v);
	}
	free(c);
}

static void fuzz_size_str(const char *s, size_t len)
{
	char *c = cstr(s, len);
	uint64_t v;
	int ret;

	memset(&v, POISON, sizeof(v));
	ret = parse_size_str(c, &v);
	CHECK(ret == 0 || ret == -22);
	if (ret)
		CHECK(all_poison(&v, sizeof(v)));
	else
		check_format_round_trip(v);
	free(c);
}

static void fuzz_bool(const char *s, size_t len)
{
	bool b;
	int ret;

	memset(&b, POISON, sizeof(b));
	ret = parse_bool01(s, len, &b);
	CHECK(ret == 0 || ret == -22);
	if (ret) {
		CHECK(all_poison(&b, sizeof(b)));
		return;
	}
	CHECK(len >= 1 && len <= 2 && s[0] == (b ? '1' : '0'));
}

static void fuzz_cache(const char *s, size_t len)
{
	enum heap_cache c, c2;
	const char *name;
	int ret;

	memset(&c, POISON, sizeof(c));
	ret = parse_cache(s, len, &c);
	CHECK(ret == 0 || ret == -22);
	if (ret) {
		CHECK(all_poison(&c, sizeof(c)));
		return;
	}
	CHECK((unsigned)c < UMM_CACHE_NR);
	name = parse_cache_name(c);
	CHECK(name && parse_cache(name, strlen(name), &c2) == 0 && c2 == c);
}

static void fuzz_sync(const char *s, size_t len)
{
	enum buf_sync y, y2;
	const char *name;
	int ret;

	memset(&y, POISON, sizeof(y));
	ret = parse_sync(s, len, &y);
	CHECK(ret == 0 || ret == -22);
	if (ret) {
		CHECK(all_poison(&y, sizeof(y)));
		return;
	}
	CHECK((unsigned)y < UMM_SYNC_NR);
	name = parse_sync_name(y);
	CHECK(name && parse_sync(name, strlen(name), &y2) == 0 && y2 == y);
}

static void fuzz_heap_name(const char *s, size_t len)
{
	char out[UMM_HEAP_NAME_MAX], again[UMM_HEAP_NAME_MAX];
	size_t n;
	int ret;

	memset(out, POISON, sizeof(out));
	ret = parse_heap_name(s, len, out);
	CHECK(ret == 0 || ret == -22);
	if (ret) {
		CHECK(all_poison(out, sizeof(out)));
		return;
	}
	n = strnlen(out, sizeof(out));
	CHECK(n >= 1 && n < sizeof(out) && memcmp(out, s, n) == 0);
	CHECK(parse_heap_name(out, n, again) == 0 && strcmp(again, out) == 0);
}

static void fuzz_heap_list(const char *s, size_t len)
{
	enum { ROOM = UMM_HEAP_LIST_MAX + 4 };
	char names[ROOM][UMM_HEAP_NAME_MAX], again[ROOM][UMM_HEAP_NAME_MAX];
	char joined[ROOM * UMM_HEAP_NAME_MAX];
	unsigned max, n, n2, limit, i;
	size_t pos = 0;
	char *c;
	int ret;

	if (len < 1)
		return;
	/* the first byte is the room the caller offers */
	max = (unsigned char)s[0] % (ROOM + 1);
	limit = max < UMM_HEAP_LIST_MAX ? max : UMM_HEAP_LIST_MAX;
	c = cstr(s + 1, len - 1);
	memset(names, POISON, sizeof(names));
	memset(&n, POISON, sizeof(n));
	ret = parse_heap_list(c, names, max, &n);
	CHECK(ret == 0 || ret == -22);
	if (ret) {
		CHECK(all_poison(names, sizeof(names)) && all_poison(&n, sizeof(n)));
		free(c);
		return;
	}
	CHECK(n >= 1 && n <= limit);
	CHECK(all_poison(names[n], sizeof(names) - n * sizeof(names[0])));
	for (i = 0; i < n; i++) {
		size_t l = strnlen(names[i], UMM_HEAP_NAME_MAX);

		CHECK(l >= 1 && l < UMM_HEAP_NAME_MAX && strcmp(names[i], "auto") != 0);
		for (unsigned j = 0; j < i; j++)
			CHECK(strcmp(names[i], names[j]) != 0);
		if (i)
			joined[pos++] = ':';
		memcpy(joined + pos, names[i], l);
		pos += l;
	}
	joined[pos] = '\0';
	/* the names joined again are the same list */
	CHECK(parse_heap_list(joined, again, max, &n2) == 0 && n2 == n);
	for (i = 0; i < n; i++)
		CHECK(strcmp(again[i], names[i]) == 0);
	free(c);
}

/* Is list a normalized device list: paths separated by single spaces? */
static void check_normalized(const char *list)
{
	size_t len = strlen(list), count = 0;

	if (len == 0)
		return;
	CHECK(list[0] == '/' && list[len - 1] != ' ');
	for (size_t i = 0; i < len; i++) {
		CHECK(list[i] > ' ' && list[i] < 0x7f ? true : list[i] == ' ');
		if (list[i] == ' ') {
			CHECK(list[i + 1] == '/');
			count++;
		}
	}
	CHECK(count + 1 <= UMM_DEVICES_MAX);
}

static void fuzz_devices(const char *s, size_t len)
{
	char *out = (char *)&out, *again = NULL, *u = NULL;
	char *const sentinel = (char *)&out;
	int ret;

	ret = parse_devices(s, len, &out);
	CHECK(ret == 0 || ret == -22 || ret == -12);
	if (ret) {
		CHECK(out == sentinel);
		return;
	}
	CHECK(out);
	check_normalized(out);
	/* normalized output re-parses to itself */
	CHECK(parse_devices(out, strlen(out), &again) == 0 && strcmp(again, out) == 0);
	CHECK(parse_devices_contains(out, out));
	CHECK(parse_devices_contains(out, ""));
	CHECK(parse_devices_union(out, out, &u) == 0 && strcmp(u, out) == 0);
	free(u);
	CHECK(parse_devices_union(out, NULL, &u) == 0 && strcmp(u, out) == 0);
	free(u);
	CHECK(parse_devices_union(NULL, out, &u) == 0 && strcmp(u, out) == 0);
	free(u);
	free(again);
	free(out);
}

/* Splits s[0..len) at its first NUL (or in the middle) into two C strings. */
static void split2(const char *s, size_t len, char **a, char **b)
{
	const char *nul = memchr(s, '\0', len);
	size_t cut = nul ? (size_t)(nul - s) : len / 2;

	*a = cstr(s, cut);
	*b = cstr(s + (nul ? cut + 1 : cut), len - cut - (nul ? 1 : 0));
}

static void fuzz_devices_union(const char *s, size_t len)
{
	char *a, *b, *u = (char *)&u, *na = NULL, *nb = NULL, *again = NULL;
	char *const sentinel = (char *)&u;
	int ret;

	split2(s, len, &a, &b);
	ret = parse_devices_union(a, b, &u);
	CHECK(ret == 0 || ret == -22 || ret == -12);
	if (ret) {
		CHECK(u == sentinel);
		goto out;
	}
	check_normalized(u);
	CHECK(parse_devices(u, strlen(u), &again) == 0 && strcmp(again, u) == 0);
	/* the union holds both lists, as they normalize */
	if (parse_devices(a, strlen(a), &na) == 0)
		CHECK(parse_devices_contains(u, na));
	if (parse_devices(b, strlen(b), &nb) == 0)
		CHECK(parse_devices_contains(u, nb));
out:
	free(again);
	free(na);
	free(nb);
	if (u != sentinel)
		free(u);
	free(a);
	free(b);
}

static void fuzz_devices_contains(const char *s, size_t len)
{
	char *a, *b;

	split2(s, len, &a, &b);
	(void)parse_devices_contains(a, b);
	(void)parse_devices_contains(b, a);
	(void)parse_devices_contains(a, a);
	free(a);
	free(b);
}

static void fuzz_align(const char *s, size_t len)
{
	uint64_t v, v2;
	int ret;

	memset(&v, POISON, sizeof(v));
	ret = parse_align(s, len, &v);
	CHECK(ret == 0 || ret == -22);
	if (ret) {
		CHECK(all_poison(&v, sizeof(v)));
		return;
	}
	CHECK(v >= UMM_ALIGN_MIN && v <= UMM_ALIGN_MAX && (v & (v - 1)) == 0);
	CHECK(parse_size(s, len, &v2) == 0 && v2 == v);
}

static void fuzz_format_size(const char *s, size_t len)
{
	uint64_t v = 0;

	memcpy(&v, s, len < sizeof(v) ? len : sizeof(v));
	check_format_round_trip(v);
	/* also the neighbourhood of the interesting values: 2^k, 2^k - 1, 2^k + 1 */
	if (len > sizeof(v)) {
		uint64_t p = UINT64_C(1) << ((unsigned char)s[sizeof(v)] % 64);

		check_format_round_trip(p);
		check_format_round_trip(p - 1);
		check_format_round_trip(p + 1);
		check_format_round_trip(p * 3);
	}
}

static void fuzz_count(const char *s, size_t len)
{
	char *c = cstr(s, len);
	uint64_t v, v2;
	int ret;

	memset(&v, POISON, sizeof(v));
	ret = parse_count_str(c, &v);
	CHECK(ret == 0 || ret == -22);
	if (ret) {
		CHECK(all_poison(&v, sizeof(v)));
	} else {
		CHECK(v <= UINT64_MAX / 2);
		/* digits only: parse_size reads the same number */
		CHECK(parse_size_str(c, &v2) == 0 && v2 == v);
	}
	free(c);
}

static void fuzz_names(const char *s, size_t len)
{
	int i = 0;

	memcpy(&i, s, len < sizeof(i) ? len : sizeof(i));
	CHECK((parse_cache_name((enum heap_cache)i) != NULL) == (i >= 0 && i < UMM_CACHE_NR));
	CHECK((parse_sync_name((enum buf_sync)i) != NULL) == (i >= 0 && i < UMM_SYNC_NR));
}

static void (*const targets[])(const char *s, size_t len) = {
	fuzz_size,	fuzz_size_str,	  fuzz_bool,	fuzz_cache,	    fuzz_sync,
	fuzz_heap_name, fuzz_heap_list,	  fuzz_devices, fuzz_devices_union, fuzz_devices_contains,
	fuzz_align,	fuzz_format_size, fuzz_count,	fuzz_names,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	/* exactly size - 1 bytes: a read past the end is an ASan report */
	text = malloc(size - 1 ? size - 1 : 1);
	CHECK(text);
	memcpy(text, data + 1, size - 1);
	targets[data[0] % (sizeof(targets) / sizeof(targets[0]))](text, size - 1);
	free(text);
	return 0;
}
