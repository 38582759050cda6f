// SPDX-License-Identifier: MIT
/*
 * constraints.c - constraint sets: parse, merge along the path, format, check a
 * buffer against them, and choose the heap that meets them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "constraints.h"

static const struct {
	const char *name;
	int bit;
} cset_names[] = {
	{ "size", UMM_C_SIZE },
	{ "align", UMM_C_ALIGN },
	{ "contiguous", UMM_C_CONTIGUOUS },
	{ "cache", UMM_C_CACHE },
	{ "heap", UMM_C_HEAP },
	{ "devices", UMM_C_DEVICES },
	{ "max_bytes", UMM_C_MAX_BYTES },
};

/**
 * constraints_bit() - the UMM_C_* bit of a constraint name ("size", ...)
 * Returns the bit, or 0 for a name that is no settable constraint.
 */
int constraints_bit(const char *name)
{
	for (size_t i = 0; i < sizeof(cset_names) / sizeof(cset_names[0]); i++)
		if (!strcmp(name, cset_names[i].name))
			return cset_names[i].bit;
	return 0;
}

/**
 * constraints_init() - an empty set (no constraint)
 */
void constraints_init(struct constraints *c)
{
	memset(c, 0, sizeof(*c));
	c->align = HEAP_PAGE_SIZE;
	c->cache = UMM_CACHE_CACHED;
}

/**
 * constraints_fini() - free what @c holds; @c is empty afterwards
 */
void constraints_fini(struct constraints *c)
{
	free(c->devices);
	constraints_init(c);
}

/**
 * constraints_copy() - deep copy @src into an uninitialized @dst
 * Returns 0 or -ENOMEM (then @dst is empty).
 */
int constraints_copy(struct constraints *dst, const struct constraints *src)
{
	*dst = *src;
	dst->devices = NULL;
	if (src->devices) {
		dst->devices = strdup(src->devices);
		if (!dst->devices) {
			constraints_init(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

/**
 * constraints_set() - parse @value into constraint @which of @c
 * Returns 0, or -EINVAL for a value that does not parse (then @c is unchanged),
 * or -ENOMEM.
 */
int constraints_set(struct constraints *c, int which, const char *value, size_t len)
{
	char heap[UMM_HEAP_NAME_MAX];
	enum heap_cache cache;
	char *devices;
	uint64_t v;
	bool b;
	int ret;

	switch (which) {
	case UMM_C_SIZE:
	case UMM_C_MAX_BYTES:
		ret = parse_size(value, len, &v);
		if (ret)
			return ret;
		if (which == UMM_C_SIZE)
			c->size = v;
		else
			c->max_bytes = v;
		break;
	case UMM_C_ALIGN:
		ret = parse_align(value, len, &v);
		if (ret)
			return ret;
		c->align = v;
		break;
	case UMM_C_CONTIGUOUS:
		ret = parse_bool01(value, len, &b);
		if (ret)
			return ret;
		c->contiguous = b;
		break;
	case UMM_C_CACHE:
		ret = parse_cache(value, len, &cache);
		if (ret)
			return ret;
		c->cache = cache;
		break;
	case UMM_C_HEAP:
		ret = parse_heap_name(value, len, heap);
		if (ret)
			return ret;
		/* "auto" is the same as no setting of its own */
		if (!strcmp(heap, "auto")) {
			constraints_clear(c, UMM_C_HEAP);
			return 0;
		}
		memcpy(c->heap, heap, sizeof(heap));
		break;
	case UMM_C_DEVICES:
		ret = parse_devices(value, len, &devices);
		if (ret)
			return ret;
		free(c->devices);
		c->devices = devices;
		break;
	default:
		return -EINVAL;
	}
	c->set |= which;
	return 0;
}

/**
 * constraints_clear() - drop constraint @which from @c
 */
void constraints_clear(struct constraints *c, int which)
{
	struct constraints empty;

	constraints_init(&empty);
	switch (which) {
	case UMM_C_SIZE:
		c->size = 0;
		break;
	case UMM_C_ALIGN:
		c->align = empty.align;
		break;
	case UMM_C_CONTIGUOUS:
		c->contiguous = false;
		break;
	case UMM_C_CACHE:
		c->cache = empty.cache;
		break;
	case UMM_C_HEAP:
		c->heap[0] = '\0';
		break;
	case UMM_C_DEVICES:
		free(c->devices);
		c->devices = NULL;
		break;
	case UMM_C_MAX_BYTES:
		c->max_bytes = 0;
		break;
	}
	c->set &= ~which;
}

/**
 * constraints_get() - the text of constraint @which, as set
 * Returns the length (snprintf-like), or -ENODATA when @c does not set it.
 */
int constraints_get(const struct constraints *c, int which, char *buf, size_t n)
{
	char num[24];

	if (!(c->set & which))
		return -ENODATA;
	switch (which) {
	case UMM_C_SIZE:
		parse_format_size(c->size, num, sizeof(num));
		return snprintf(buf, n, "%s", num);
	case UMM_C_MAX_BYTES:
		parse_format_size(c->max_bytes, num, sizeof(num));
		return snprintf(buf, n, "%s", num);
	case UMM_C_ALIGN:
		parse_format_size(c->align, num, sizeof(num));
		return snprintf(buf, n, "%s", num);
	case UMM_C_CONTIGUOUS:
		return snprintf(buf, n, "%d", c->contiguous);
	case UMM_C_CACHE:
		return snprintf(buf, n, "%s", parse_cache_name(c->cache));
	case UMM_C_HEAP:
		return snprintf(buf, n, "%s", c->heap);
	case UMM_C_DEVICES:
		return snprintf(buf, n, "%s", c->devices ? c->devices : "");
	}
	return -ENODATA;
}

/**
 * constraints_merge() - add a directory's own set @own to the effective set
 * @eff of its parent, giving the directory's effective set in @eff
 *
 * A child tightens, never loosens: alignment takes the larger, contiguity once 1
 * stays 1, device lists add up, the quota takes the smaller. size is the nearest
 * setting. heap and cache cannot differ from an ancestor's: that is a conflict.
 * Returns 0, or -EINVAL with *@conflict naming the constraint, or -ENOMEM.
 */
int constraints_merge(struct constraints *eff, const struct constraints *own, const char **conflict)
{
	*conflict = NULL;
	if (own->set & UMM_C_HEAP) {
		if ((eff->set & UMM_C_HEAP) && strcmp(eff->heap, own->heap)) {
			*conflict = "heap";
			return -EINVAL;
		}
		memcpy(eff->heap, own->heap, sizeof(eff->heap));
	}
	if (own->set & UMM_C_CACHE) {
		if ((eff->set & UMM_C_CACHE) && eff->cache != own->cache) {
			*conflict = "cache";
			return -EINVAL;
		}
		eff->cache = own->cache;
	}
	if (own->set & UMM_C_DEVICES) {
		char *u;
		int ret = parse_devices_union(eff->devices, own->devices, &u);

		if (ret) {
			*conflict = "devices";
			return ret;
		}
		free(eff->devices);
		eff->devices = u;
	}
	if (own->set & UMM_C_SIZE)
		eff->size = own->size;
	if ((own->set & UMM_C_ALIGN) && own->align > eff->align)
		eff->align = own->align;
	if (own->set & UMM_C_CONTIGUOUS)
		eff->contiguous = eff->contiguous || own->contiguous;
	if ((own->set & UMM_C_MAX_BYTES) &&
	    (!(eff->set & UMM_C_MAX_BYTES) || own->max_bytes < eff->max_bytes))
		eff->max_bytes = own->max_bytes;
	eff->set |= own->set;
	return 0;
}

/**
 * constraints_format() - the one line of user.umm.effective
 * Returns the length (snprintf-like).
 */
int constraints_format(const struct constraints *eff, char *buf, size_t n)
{
	char size[24] = "none", align[24], max[24] = "none";

	if (eff->set & UMM_C_SIZE)
		parse_format_size(eff->size, size, sizeof(size));
	parse_format_size(eff->align, align, sizeof(align));
	if (eff->set & UMM_C_MAX_BYTES)
		parse_format_size(eff->max_bytes, max, sizeof(max));
	return snprintf(buf, n,
			"size=%s align=%s contiguous=%d cache=%s heap=%s devices=%s max_bytes=%s",
			size, align, eff->contiguous, parse_cache_name(eff->cache),
			(eff->set & UMM_C_HEAP) ? eff->heap : "auto",
			eff->devices ? eff->devices : "", max);
}

/**
 * constraints_met() - does a buffer with properties @b meet @eff?
 * On false, *@why names the first constraint it fails. The size and the quota
 * are not checked here (accounting does that).
 */
bool constraints_met(const struct constraints *eff, const struct constraints_bufprops *b,
		     const char **why)
{
	*why = NULL;
	if ((eff->set & UMM_C_HEAP) && strcmp(eff->heap, b->heap))
		*why = "heap";
	else if (eff->align > b->align)
		*why = "align";
	else if (eff->contiguous && !b->contiguous)
		*why = "contiguous";
	else if ((eff->set & UMM_C_CACHE) && eff->cache != b->cache)
		*why = "cache";
	else if (eff->devices && *eff->devices &&
		 !(b->devices && parse_devices_contains(b->devices, eff->devices)))
		*why = "devices";
	return !*why;
}

/**
 * constraints_heap_req() - the allocation request a buffer of @size under @eff makes
 */
void constraints_heap_req(const struct constraints *eff, uint64_t size, struct heap_req *req)
{
	memset(req, 0, sizeof(*req));
	req->size = heap_page_round(size);
	req->align = eff->align;
	req->contiguous = eff->contiguous;
	req->cache = eff->cache;
}

/**
 * constraints_heap_unmet() - why heap @h cannot hold a buffer of @size bytes under @eff
 * Returns NULL if it can, else the name of the first constraint it cannot meet;
 * *@size_only tells whether the size alone is what it cannot meet.
 */
const char *constraints_heap_unmet(const struct heap *h, const struct constraints *eff,
				   uint64_t size, bool *size_only)
{
	const struct heap_caps *c = &h->caps;
	uint64_t rsize = heap_page_round(size);

	*size_only = false;
	if ((eff->set & UMM_C_HEAP) && strcmp(eff->heap, h->name))
		return "heap";
	if (eff->align > c->align)
		return "align";
	if (eff->contiguous && !c->contiguous)
		return "contiguous";
	if (!(c->cache_modes & (1u << eff->cache)))
		return "cache";
	if (eff->devices && *eff->devices && !c->dmabuf)
		return "devices";
	if ((size && !rsize) || (c->max_size && rsize > c->max_size) ||
	    (eff->contiguous && rsize > c->contig_max)) {
		*size_only = true;
		return "size";
	}
	return NULL;
}

/**
 * constraints_choose_heap() - the first heap of @heaps (in preference order) that can
 * hold a buffer of @size bytes under the effective constraints @eff
 *
 * Returns its index, -ENOSPC when heaps meet every property but not the size,
 * or -EOPNOTSUPP when no heap meets a property; then @why holds one line naming
 * the constraint no heap met.
 */
int constraints_choose_heap(struct heap *heaps, unsigned n, const struct constraints *eff,
			    uint64_t size, char *why, size_t whylen)
{
	const char *first = NULL, *first_heap = "", *size_heap = "";
	bool size_fail = false;

	for (unsigned i = 0; i < n; i++) {
		bool size_only;
		const char *unmet = constraints_heap_unmet(&heaps[i], eff, size, &size_only);

		if (!unmet)
			return (int)i;
		if (size_only && !size_fail)
			size_heap = heaps[i].name;
		size_fail |= size_only;
		/* the most telling reason: the first heap not ruled out by name */
		if (!first || (!strcmp(first, "heap") && strcmp(unmet, "heap"))) {
			first = unmet;
			first_heap = heaps[i].name;
		}
	}
	if (!first || !strcmp(first, "heap"))
		snprintf(why, whylen, "no heap meets heap=%s",
			 (eff->set & UMM_C_HEAP) ? eff->heap : "auto");
	else if (size_fail)
		snprintf(why, whylen, "no heap meets size=%llu (the limit of %s is smaller)",
			 (unsigned long long)size, size_heap);
	else
		snprintf(why, whylen, "no heap meets %s (%s cannot)", first, first_heap);
	return size_fail ? -ENOSPC : -EOPNOTSUPP;
}
