// SPDX-License-Identifier: MIT
/*
 * parse.c - parsers for every user-supplied text value (xattrs, mount options).
 *
 * Everything here is pure: no globals, no locale (no <ctype.h>, no strtoull,
 * no strcasecmp), no allocation except the device lists. Byte classes are
 * spelled out so the accepted language does not change with LC_CTYPE.
 */
#include "parse.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sync_names[UMM_SYNC_NR] = {
	[UMM_SYNC_CPU] = "cpu",
	[UMM_SYNC_CPU_READ] = "cpu:read",
	[UMM_SYNC_CPU_WRITE] = "cpu:write",
	[UMM_SYNC_DEVICE] = "device",
};

/**
 * strip_newline() - drop the one optional trailing '\n' of a value
 * @s: the text (may be NULL when @len is 0)
 * @len: its length in bytes
 *
 * Only one is dropped: "8M\n\n" keeps a '\n' and so fails in the caller.
 *
 * Return: the length without the trailing newline.
 */
static size_t strip_newline(const char *s, size_t len)
{
	if (len > 0 && s[len - 1] == '\n')
		return len - 1;
	return len;
}

/**
 * text_equals() - compare counted text with a C string, byte for byte
 * @s: the text, not NUL-terminated
 * @len: its length
 * @word: the NUL-terminated word to compare with
 *
 * Return: true if @s holds exactly @word (an embedded NUL never matches).
 */
static bool text_equals(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

/**
 * parse_digits() - parse 1..20 decimal digits into a uint64_t
 * @s: the digits, not NUL-terminated
 * @len: their number
 * @out: where the value goes, on success only
 *
 * Return: 0, or -EINVAL if @len is 0 or more than 20, a byte is not '0'..'9',
 * or the value does not fit in 64 bits.
 */
static int parse_digits(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/**
 * parse_size() - parse a SIZE value: decimal digits and an optional binary suffix
 * @s: the text, not NUL-terminated (an xattr value)
 * @len: its length in bytes
 * @out: the size in bytes, written on success only
 *
 * SIZE is 1..20 decimal digits followed by at most one of K, M, G, T (either
 * case; 1K = 1024). One trailing '\n' is accepted. "0" is valid.
 *
 * Return: 0, or -EINVAL for empty or malformed text or a value that does not
 * fit in 64 bits (before or after the suffix is applied).
 */
int parse_size(const char *s, size_t len, uint64_t *out)
{
	unsigned shift = 0;
	uint64_t v;

	if (!s)
		return -EINVAL;
	len = strip_newline(s, len);
	if (len == 0)
		return -EINVAL;
	switch (s[len - 1]) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	}
	if (shift)
		len--;
	if (parse_digits(s, len, &v))
		return -EINVAL;
	if (v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

/**
 * parse_size_str() - parse_size() for a NUL-terminated string (mount options)
 * @s: the string
 * @out: the size in bytes, written on success only
 *
 * Return: 0, or -EINVAL as parse_size() (also for a NULL @s).
 */
int parse_size_str(const char *s, uint64_t *out)
{
	if (!s)
		return -EINVAL;
	return parse_size(s, strlen(s), out);
}

/**
 * parse_bool01() - parse a flag written as "0" or "1"
 * @s: the text, not NUL-terminated
 * @len: its length
 * @out: the flag, written on success only
 *
 * Return: 0, or -EINVAL for anything but "0" or "1" (plus one optional '\n').
 */
int parse_bool01(const char *s, size_t len, bool *out)
{
	if (!s)
		return -EINVAL;
	len = strip_newline(s, len);
	if (len != 1 || (s[0] != '0' && s[0] != '1'))
		return -EINVAL;
	*out = s[0] == '1';
	return 0;
}

/**
 * parse_cache() - parse a cache mode name
 * @s: the text, not NUL-terminated
 * @len: its length
 * @out: the mode, written on success only
 *
 * Accepts "cached", "uncached" or "writecombine", lower case only.
 *
 * Return: 0 or -EINVAL.
 */
int parse_cache(const char *s, size_t len, enum heap_cache *out)
{
	if (!s)
		return -EINVAL;
	len = strip_newline(s, len);
	for (int i = 0; i < UMM_CACHE_NR; i++) {
		if (text_equals(s, len, heap_cache_name((enum heap_cache)i))) {
			*out = (enum heap_cache)i;
			return 0;
		}
	}
	return -EINVAL;
}

/**
 * parse_cache_name() - the text form of a cache mode
 * @c: the mode
 *
 * Return: a static string that parse_cache() accepts, or NULL if @c is out of
 * range.
 */
const char *parse_cache_name(enum heap_cache c)
{
	return heap_cache_name(c);
}

/**
 * parse_sync() - parse a sync domain name
 * @s: the text, not NUL-terminated
 * @len: its length
 * @out: the domain, written on success only
 *
 * Accepts "cpu", "cpu:read", "cpu:write" or "device", lower case only.
 *
 * Return: 0 or -EINVAL.
 */
int parse_sync(const char *s, size_t len, enum buf_sync *out)
{
	if (!s)
		return -EINVAL;
	len = strip_newline(s, len);
	for (int i = 0; i < UMM_SYNC_NR; i++) {
		if (text_equals(s, len, sync_names[i])) {
			*out = (enum buf_sync)i;
			return 0;
		}
	}
	return -EINVAL;
}

/**
 * parse_sync_name() - the text form of a sync domain
 * @s: the domain
 *
 * Return: a static string that parse_sync() accepts, or NULL if @s is out of
 * range.
 */
const char *parse_sync_name(enum buf_sync s)
{
	if ((unsigned)s >= UMM_SYNC_NR)
		return NULL;
	return sync_names[s];
}

/**
 * parse_heap_name() - parse a heap name (the user.umm.heap value)
 * @s: the text, not NUL-terminated
 * @len: its length
 * @out: buffer of UMM_HEAP_NAME_MAX bytes; receives the NUL-terminated name on
 *       success only
 *
 * A heap name is "auto" or 1..63 bytes of [a-z0-9_.:-] that start with a
 * letter ("auto" itself fits that rule). Whether such a heap exists is the
 * caller's business.
 *
 * Return: 0 or -EINVAL.
 */
int parse_heap_name(const char *s, size_t len, char out[UMM_HEAP_NAME_MAX])
{
	if (!s)
		return -EINVAL;
	len = strip_newline(s, len);
	if (!heap_name_valid(s, len))
		return -EINVAL;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

/**
 * is_heap_kind_prefix() - does a heap=LIST element name a heap kind with a sub-name?
 * @s: the element, not NUL-terminated
 * @len: its length
 *
 * The kinds "dma-heap" and "drm" (SPEC 3) are spelled "dma-heap:NAME" and
 * "drm:CARD", so in a ':'-separated list they swallow the element after them.
 *
 * Return: true for "dma-heap" and "drm".
 */
static bool is_heap_kind_prefix(const char *s, size_t len)
{
	return text_equals(s, len, "dma-heap") || text_equals(s, len, "drm");
}

/**
 * parse_heap_list() - parse the heap=LIST mount option
 * @s: the NUL-terminated option value
 * @names: array of @max names; receives the names in order, on success only
 * @max: room in @names
 * @n: receives the number of names, on success only
 *
 * Names are separated by single ':' (',' separates -o options). Each is a valid
 * heap name other than "auto"; an element "dma-heap" or "drm" joins with the
 * element after it ("dma-heap:system" is one name). Empty elements, duplicate
 * names and more than min(@max, UMM_HEAP_LIST_MAX) names are errors. One
 * trailing '\n' is accepted.
 *
 * Return: 0 or -EINVAL.
 */
int parse_heap_list(const char *s, char names[][UMM_HEAP_NAME_MAX], unsigned max, unsigned *n)
{
	char tmp[UMM_HEAP_LIST_MAX][UMM_HEAP_NAME_MAX];
	unsigned limit = max < UMM_HEAP_LIST_MAX ? max : UMM_HEAP_LIST_MAX;
	unsigned count = 0;
	size_t len, pos = 0;

	if (!s || !n || !names)
		return -EINVAL;
	len = strip_newline(s, strlen(s));
	if (len == 0)
		return -EINVAL;
	for (;;) {
		const char *colon = memchr(s + pos, ':', len - pos);
		size_t end = colon ? (size_t)(colon - s) : len;

		if (end < len && is_heap_kind_prefix(s + pos, end - pos)) {
			const char *next = memchr(s + end + 1, ':', len - end - 1);
			size_t sub_end = next ? (size_t)(next - s) : len;

			/* "dma-heap:" with nothing after it is an empty element */
			if (sub_end == end + 1)
				return -EINVAL;
			end = sub_end;
		}
		if (!heap_name_valid(s + pos, end - pos) || text_equals(s + pos, end - pos, "auto"))
			return -EINVAL;
		for (unsigned i = 0; i < count; i++)
			if (text_equals(s + pos, end - pos, tmp[i]))
				return -EINVAL;
		if (count == limit)
			return -EINVAL;
		memcpy(tmp[count], s + pos, end - pos);
		tmp[count][end - pos] = '\0';
		count++;
		if (end == len)
			break;
		pos = end + 1;
	}
	memcpy(names, tmp, sizeof(tmp[0]) * count);
	*n = count;
	return 0;
}

/* A device list while it is built: pointers into the caller's text. */
struct devlist {
	const char *path[UMM_DEVICES_MAX];
	size_t len[UMM_DEVICES_MAX];
	unsigned n;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/**
 * devlist_add_path() - validate one device path and append it unless already there
 * @dl: the list
 * @p: the path, not NUL-terminated
 * @len: its length
 *
 * Return: 0, or -EINVAL if the path is not 2..255 bytes of printable ASCII
 * without spaces starting with '/', or the list would exceed UMM_DEVICES_MAX.
 */
static int devlist_add_path(struct devlist *dl, const char *p, size_t len)
{
	if (len < 2 || len > UMM_DEVICE_PATH_MAX || p[0] != '/')
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c <= 0x20 || c >= 0x7f)
			return -EINVAL;
	}
	for (unsigned i = 0; i < dl->n; i++)
		if (dl->len[i] == len && memcmp(dl->path[i], p, len) == 0)
			return 0;
	if (dl->n == UMM_DEVICES_MAX)
		return -EINVAL;
	dl->path[dl->n] = p;
	dl->len[dl->n] = len;
	dl->n++;
	return 0;
}

/**
 * devlist_add_text() - append every path of a blank-separated text to a list
 * @dl: the list; it keeps pointers into @s
 * @s: the text, not NUL-terminated (may be NULL when @len is 0)
 * @len: its length
 *
 * Return: 0 or -EINVAL as devlist_add_path().
 */
static int devlist_add_text(struct devlist *dl, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t start;
		int ret;

		if (is_blank(s[i])) {
			i++;
			continue;
		}
		start = i;
		while (i < len && !is_blank(s[i]))
			i++;
		ret = devlist_add_path(dl, s + start, i - start);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * devlist_format() - write a list in normalized form
 * @dl: the list
 * @out: receives a malloc'd string, paths joined by single spaces ("" if empty)
 *
 * Return: 0 or -ENOMEM.
 */
static int devlist_format(const struct devlist *dl, char **out)
{
	size_t total = 1, pos = 0;
	char *buf;

	for (unsigned i = 0; i < dl->n; i++)
		total += dl->len[i] + 1;
	buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	for (unsigned i = 0; i < dl->n; i++) {
		if (i)
			buf[pos++] = ' ';
		memcpy(buf + pos, dl->path[i], dl->len[i]);
		pos += dl->len[i];
	}
	buf[pos] = '\0';
	*out = buf;
	return 0;
}

/**
 * parse_devices() - parse and normalize a user.umm.devices value
 * @s: the text, not NUL-terminated
 * @len: its length
 * @out: receives a malloc'd normalized list on success only; caller frees
 *
 * Paths are separated by runs of spaces or tabs; leading and trailing blanks
 * and one trailing '\n' are ignored. Each path starts with '/', is 2..255
 * bytes of printable ASCII without spaces. Duplicates collapse to the first
 * one; at most UMM_DEVICES_MAX distinct paths. Only blanks (or nothing) is a
 * valid, empty list (*out = ""). Paths are compared byte for byte, not
 * resolved.
 *
 * Return: 0, -EINVAL, or -ENOMEM.
 */
int parse_devices(const char *s, size_t len, char **out)
{
	struct devlist dl = { .n = 0 };
	int ret;

	if (!s && len)
		return -EINVAL;
	len = strip_newline(s, len);
	ret = devlist_add_text(&dl, s, len);
	if (ret)
		return ret;
	return devlist_format(&dl, out);
}

/**
 * parse_devices_union() - the union of two normalized device lists
 * @a: a normalized list, or NULL / "" for none
 * @b: a normalized list, or NULL / "" for none
 * @out: receives a malloc'd normalized list (paths of @a, then new ones of @b)
 *       on success only; caller frees
 *
 * Used for effective constraints, where device lists add up down the tree.
 * The lists are checked again as they are read.
 *
 * Return: 0, -EINVAL if the union holds more than UMM_DEVICES_MAX paths or a
 * list is malformed, or -ENOMEM.
 */
int parse_devices_union(const char *a, const char *b, char **out)
{
	struct devlist dl = { .n = 0 };
	int ret;

	if (a) {
		ret = devlist_add_text(&dl, a, strlen(a));
		if (ret)
			return ret;
	}
	if (b) {
		ret = devlist_add_text(&dl, b, strlen(b));
		if (ret)
			return ret;
	}
	return devlist_format(&dl, out);
}

/**
 * list_has_path() - does a blank-separated list hold a path?
 * @list: NUL-terminated list, or NULL
 * @p: the path, not NUL-terminated
 * @len: its length (> 0)
 *
 * Return: true if some element of @list equals @p byte for byte.
 */
static bool list_has_path(const char *list, const char *p, size_t len)
{
	if (!list)
		return false;
	while (*list) {
		size_t l;

		if (is_blank(*list)) {
			list++;
			continue;
		}
		for (l = 0; list[l] && !is_blank(list[l]); l++)
			;
		if (l == len && memcmp(list, p, len) == 0)
			return true;
		list += l;
	}
	return false;
}

/**
 * parse_devices_contains() - is one device list a subset of another?
 * @have: normalized list, or NULL / "" for none
 * @need: normalized list, or NULL / "" for none
 *
 * Used to check that a buffer, tested for the devices in @have, may live in
 * a directory whose effective list is @need. Paths compare byte for byte.
 *
 * Return: true if every path in @need is also in @have (so an empty @need is
 * always contained).
 */
bool parse_devices_contains(const char *have, const char *need)
{
	if (!need)
		return true;
	while (*need) {
		size_t l;

		if (is_blank(*need)) {
			need++;
			continue;
		}
		for (l = 0; need[l] && !is_blank(need[l]); l++)
			;
		if (!list_has_path(have, need, l))
			return false;
		need += l;
	}
	return true;
}

/**
 * parse_align() - parse an alignment (the user.umm.align value)
 * @s: the text, not NUL-terminated
 * @len: its length
 * @out: the alignment in bytes, written on success only
 *
 * A SIZE (see parse_size()) that is a power of two from the page size
 * (4096) to 1G inclusive.
 *
 * Return: 0 or -EINVAL.
 */
int parse_align(const char *s, size_t len, uint64_t *out)
{
	uint64_t v;

	if (parse_size(s, len, &v))
		return -EINVAL;
	if (v < UMM_ALIGN_MIN || v > UMM_ALIGN_MAX || (v & (v - 1)) != 0)
		return -EINVAL;
	*out = v;
	return 0;
}

/**
 * parse_format_size() - format a size the way parse_size() reads it back
 * @v: the size in bytes
 * @buf: the output buffer (may be NULL if @n is 0)
 * @n: its size; UMM_FORMAT_SIZE_BUF (24) always suffices
 *
 * Uses the largest of T, G, M, K that divides @v exactly, or no suffix:
 * 0 -> "0", 1536 -> "1536", 4096 -> "4K", 8388608 -> "8M".
 * parse_size() of the result gives @v back, for every @v.
 *
 * Return: like snprintf(): the length the full text has (without the NUL),
 * which is truncated if it is >= @n.
 */
int parse_format_size(uint64_t v, char *buf, size_t n)
{
	return heap_format_size(v, buf, n);
}

/**
 * parse_count_str() - parse a decimal count (the nr_buffers mount option)
 * @s: the NUL-terminated text
 * @out: the count, written on success only
 *
 * 1..20 decimal digits (one trailing '\n' accepted), value at most
 * UINT64_MAX / 2 so callers can add to it without overflow.
 *
 * Return: 0 or -EINVAL.
 */
int parse_count_str(const char *s, uint64_t *out)
{
	uint64_t v;

	if (!s)
		return -EINVAL;
	if (parse_digits(s, strip_newline(s, strlen(s)), &v) || v > UINT64_MAX / 2)
		return -EINVAL;
	*out = v;
	return 0;
}
