// SPDX-License-Identifier: MIT
/*
 * test_constraints.c - constraint sets (alloc/constraints.c): set/get/clear,
 * merging along the path, the effective line.
 *
 * Every test runs in its own process (Criterion).
 */
#define _GNU_SOURCE
#include "unit_i.h"

/* The effective set of a parent with @parent, then a child with @child. */
static int merge2(struct constraints *eff, const struct constraints *parent,
		  const struct constraints *child, const char **conflict)
{
	int ret;

	constraints_init(eff);
	ret = constraints_merge(eff, parent, conflict);
	cr_assert_eq(ret, 0, "merging the parent failed: %d", ret);
	return constraints_merge(eff, child, conflict);
}

static void eff_line(const struct constraints *eff, char *buf, size_t n)
{
	int len = constraints_format(eff, buf, n);

	cr_assert(len >= 0 && (size_t)len < n, "format length %d", len);
	cr_assert_eq((size_t)len, strlen(buf));
}

Test(constraints, merge_alignment_takes_the_larger)
{
	struct constraints p, c, eff;
	const char *why;

	constraints_init(&p);
	constraints_init(&c);
	cset(&p, UMM_C_ALIGN, "64K");
	cset(&c, UMM_C_ALIGN, "16K");
	cr_assert_eq(merge2(&eff, &p, &c, &why), 0);
	cr_assert_eq(eff.align, 64 * KiB, "child 16K under parent 64K gave %" PRIu64, eff.align);
	constraints_fini(&eff);

	cset(&c, UMM_C_ALIGN, "1M");
	cr_assert_eq(merge2(&eff, &p, &c, &why), 0);
	cr_assert_eq(eff.align, MiB, "child 1M under parent 64K gave %" PRIu64, eff.align);
	cr_assert(eff.set & UMM_C_ALIGN);
	constraints_fini(&eff);

	/* a child that sets nothing inherits */
	constraints_clear(&c, UMM_C_ALIGN);
	cr_assert_eq(merge2(&eff, &p, &c, &why), 0);
	cr_assert_eq(eff.align, 64 * KiB);
	constraints_fini(&eff);
	constraints_fini(&p);
	constraints_fini(&c);
}

Test(constraints, merge_contiguous_once_1_stays_1)
{
	struct constraints p, c, eff;
	const char *why;

	constraints_init(&p);
	constraints_init(&c);
	cset(&p, UMM_C_CONTIGUOUS, "1");
	cset(&c, UMM_C_CONTIGUOUS, "0");
	cr_assert_eq(merge2(&eff, &p, &c, &why), 0);
	cr_assert(eff.contiguous, "a child's contiguous=0 loosened the parent's 1");
	constraints_fini(&eff);

	cset(&p, UMM_C_CONTIGUOUS, "0");
	cset(&c, UMM_C_CONTIGUOUS, "1");
	cr_assert_eq(merge2(&eff, &p, &c, &why), 0);
	cr_assert(eff.contiguous, "a child's contiguous=1 was lost");
	constraints_fini(&eff);
	constraints_fini(&p);
	constraints_fini(&c);
}

Test(constraints, merge_device_lists_add_up)
{
	struct constraints p, c, eff;
	const char *why;

	constraints_init(&p);
	constraints_init(&c);
	cset(&p, UMM_C_DEVICES, "/dev/dri/card0 /dev/video0");
	cset(&c, UMM_C_DEVICES, "/dev/video0 /dev/dri/renderD128");
	cr_assert_eq(merge2(&eff, &p, &c, &why), 0);
	cr_assert_str_eq(eff.devices, "/dev/dri/card0 /dev/video0 /dev/dri/renderD128");
	constraints_fini(&eff);

	/* an empty child list keeps the parent's */
	cset(&c, UMM_C_DEVICES, "");
	cr_assert_eq(merge2(&eff, &p, &c, &why), 0);
	cr_assert_str_eq(eff.devices, "/dev/dri/card0 /dev/video0");
	constraints_fini(&eff);
	constraints_fini(&p);
	constraints_fini(&c);
}

Test(constraints, merge_device_union_over_the_limit_is_einval_naming_devices)
{
	struct constraints p, c, eff;
	char list[UMM_DEVICES_MAX * 16] = "";
	const char *why;

	constraints_init(&p);
	constraints_init(&c);
	for (int i = 0; i < UMM_DEVICES_MAX; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s/dev/p%d",
			 i ? " " : "", i);
	cset(&p, UMM_C_DEVICES, list);
	cset(&c, UMM_C_DEVICES, "/dev/extra");
	cr_assert_eq(merge2(&eff, &p, &c, &why), -EINVAL);
	cr_assert_str_eq(why, "devices");
	constraints_fini(&eff);
	constraints_fini(&p);
	constraints_fini(&c);
}

Test(constraints, merge_max_bytes_takes_the_smaller)
{
	struct constraints p, c, eff;
	const char *why;

	constraints_init(&p);
	constraints_init(&c);
	cset(&p, UMM_C_MAX_BYTES, "1G");
	cset(&c, UMM_C_MAX_BYTES, "2G");
	cr_assert_eq(merge2(&eff, &p, &c, &why), 0);
	cr_assert_eq(eff.max_bytes, GiB, "child 2G under parent 1G gave %" PRIu64, eff.max_bytes);
	constraints_fini(&eff);

	cset(&c, UMM_C_MAX_BYTES, "512M");
	cr_assert_eq(merge2(&eff, &p, &c, &why), 0);
	cr_assert_eq(eff.max_bytes, 512 * MiB);
	constraints_fini(&eff);

	/* a quota of 0 is a quota, and the smallest */
	cset(&c, UMM_C_MAX_BYTES, "0");
	cr_assert_eq(merge2(&eff, &p, &c, &why), 0);
	cr_assert_eq(eff.max_bytes, 0);
	cr_assert(eff.set & UMM_C_MAX_BYTES);
	constraints_fini(&eff);

	/* a parent without a quota: the child's */
	constraints_clear(&p, UMM_C_MAX_BYTES);
	cset(&c, UMM_C_MAX_BYTES, "2G");
	cr_assert_eq(merge2(&eff, &p, &c, &why), 0);
	cr_assert_eq(eff.max_bytes, 2 * GiB);
	constraints_fini(&eff);
	constraints_fini(&p);
	constraints_fini(&c);
}

Test(constraints, merge_size_nearest_setting_wins)
{
	struct constraints p, c, eff;
	const char *why;

	constraints_init(&p);
	constraints_init(&c);
	cset(&p, UMM_C_SIZE, "8M");
	cset(&c, UMM_C_SIZE, "1M");
	cr_assert_eq(merge2(&eff, &p, &c, &why), 0);
	cr_assert_eq(eff.size, MiB);
	constraints_fini(&eff);

	cset(&c, UMM_C_SIZE, "16M");
	cr_assert_eq(merge2(&eff, &p, &c, &why), 0);
	cr_assert_eq(eff.size, 16 * MiB, "size is not a tightening: the nearest setting wins");
	constraints_fini(&eff);

	constraints_clear(&c, UMM_C_SIZE);
	cr_assert_eq(merge2(&eff, &p, &c, &why), 0);
	cr_assert_eq(eff.size, 8 * MiB);
	cr_assert(eff.set & UMM_C_SIZE);
	constraints_fini(&eff);
	constraints_fini(&p);
	constraints_fini(&c);
}

Test(constraints, merge_conflicting_heap_is_einval_naming_heap)
{
	struct constraints p, c, eff;
	const char *why = "unset";

	constraints_init(&p);
	constraints_init(&c);
	cset(&p, UMM_C_HEAP, "memfd");
	cset(&c, UMM_C_HEAP, "udmabuf");
	cr_assert_eq(merge2(&eff, &p, &c, &why), -EINVAL);
	cr_assert_not_null(why);
	cr_assert_str_eq(why, "heap");
	constraints_fini(&eff);

	/* the same heap again is no conflict */
	cset(&c, UMM_C_HEAP, "memfd");
	cr_assert_eq(merge2(&eff, &p, &c, &why), 0);
	cr_assert_null(why);
	cr_assert_str_eq(eff.heap, "memfd");
	constraints_fini(&eff);
	constraints_fini(&p);
	constraints_fini(&c);
}

Test(constraints, merge_conflicting_cache_is_einval_naming_cache)
{
	struct constraints p, c, eff;
	const char *why = "unset";

	constraints_init(&p);
	constraints_init(&c);
	cset(&p, UMM_C_CACHE, "writecombine");
	cset(&c, UMM_C_CACHE, "cached");
	cr_assert_eq(merge2(&eff, &p, &c, &why), -EINVAL);
	cr_assert_not_null(why);
	cr_assert_str_eq(why, "cache");
	constraints_fini(&eff);

	cset(&c, UMM_C_CACHE, "writecombine");
	cr_assert_eq(merge2(&eff, &p, &c, &why), 0);
	cr_assert_eq(eff.cache, UMM_CACHE_WRITECOMBINE);
	constraints_fini(&eff);

	/* a parent that does not set the cache leaves the child free to */
	constraints_clear(&p, UMM_C_CACHE);
	cset(&c, UMM_C_CACHE, "uncached");
	cr_assert_eq(merge2(&eff, &p, &c, &why), 0);
	cr_assert_eq(eff.cache, UMM_CACHE_UNCACHED);
	constraints_fini(&eff);
	constraints_fini(&p);
	constraints_fini(&c);
}

Test(constraints, format_gives_the_effective_line_exactly)
{
	struct constraints c;
	char line[256];

	constraints_init(&c);
	eff_line(&c, line, sizeof(line));
	cr_assert_str_eq(
		line,
		"size=none align=4K contiguous=0 cache=cached heap=auto devices= max_bytes=none");

	cset(&c, UMM_C_SIZE, "8M");
	eff_line(&c, line, sizeof(line));
	cr_assert_str_eq(
		line,
		"size=8M align=4K contiguous=0 cache=cached heap=auto devices= max_bytes=none");

	cset(&c, UMM_C_SIZE, "1536");
	cset(&c, UMM_C_ALIGN, "2097152");
	cset(&c, UMM_C_CONTIGUOUS, "1");
	cset(&c, UMM_C_CACHE, "writecombine");
	cset(&c, UMM_C_HEAP, "fake-cma");
	cset(&c, UMM_C_DEVICES, "  /dev/a\t/dev/b /dev/a\n");
	cset(&c, UMM_C_MAX_BYTES, "3G");
	eff_line(&c, line, sizeof(line));
	cr_assert_str_eq(line, "size=1536 align=2M contiguous=1 cache=writecombine heap=fake-cma "
			       "devices=/dev/a /dev/b max_bytes=3G");

	cset(&c, UMM_C_SIZE, "0");
	cset(&c, UMM_C_MAX_BYTES, "0");
	eff_line(&c, line, sizeof(line));
	cr_assert_str_eq(line, "size=0 align=2M contiguous=1 cache=writecombine heap=fake-cma "
			       "devices=/dev/a /dev/b max_bytes=0");

	/* snprintf-like: a short buffer is truncated, the full length returned */
	char small[8];
	int len = constraints_format(&c, small, sizeof(small));

	cr_assert_eq((size_t)len, strlen(line));
	cr_assert_str_eq(small, "size=0 ");
	constraints_fini(&c);
}

Test(constraints, set_heap_auto_clears_the_setting)
{
	struct constraints c;
	char buf[64];

	constraints_init(&c);
	cset(&c, UMM_C_HEAP, "memfd");
	cr_assert(c.set & UMM_C_HEAP);
	cr_assert_eq(constraints_get(&c, UMM_C_HEAP, buf, sizeof(buf)), 5);
	cr_assert_str_eq(buf, "memfd");

	cset(&c, UMM_C_HEAP, "auto");
	cr_assert_not(c.set & UMM_C_HEAP, "heap=auto left the heap bit set");
	cr_assert_str_eq(c.heap, "");
	cr_assert_eq(constraints_get(&c, UMM_C_HEAP, buf, sizeof(buf)), -ENODATA);
	constraints_format(&c, buf, sizeof(buf));
	cr_assert(strstr(buf, " heap=auto "), "line: %s", buf);
	constraints_fini(&c);
}

/* A full copy of the observable state of a set. */
struct snap {
	unsigned set;
	uint64_t size, align, max_bytes;
	bool contiguous;
	enum heap_cache cache;
	char heap[UMM_HEAP_NAME_MAX];
	char devices[256];
	const char *devices_ptr;
};

static void snap_take(const struct constraints *c, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	s->set = c->set;
	s->size = c->size;
	s->align = c->align;
	s->max_bytes = c->max_bytes;
	s->contiguous = c->contiguous;
	s->cache = c->cache;
	memcpy(s->heap, c->heap, sizeof(s->heap));
	snprintf(s->devices, sizeof(s->devices), "%s", c->devices ? c->devices : "(null)");
	s->devices_ptr = c->devices;
}

static void snap_same(const struct snap *a, const struct snap *b, const char *what)
{
	cr_assert_eq(a->set, b->set, "%s: set bits changed %#x -> %#x", what, a->set, b->set);
	cr_assert_eq(a->size, b->size, "%s: size changed", what);
	cr_assert_eq(a->align, b->align, "%s: align changed", what);
	cr_assert_eq(a->max_bytes, b->max_bytes, "%s: max_bytes changed", what);
	cr_assert_eq(a->contiguous, b->contiguous, "%s: contiguous changed", what);
	cr_assert_eq(a->cache, b->cache, "%s: cache changed", what);
	cr_assert_str_eq(a->heap, b->heap, "%s: heap changed", what);
	cr_assert_str_eq(a->devices, b->devices, "%s: devices changed", what);
	cr_assert_eq(a->devices_ptr, b->devices_ptr, "%s: devices reallocated", what);
}

Test(constraints, set_bad_values_are_einval_and_leave_the_set_unchanged)
{
	static const struct {
		int which;
		const char *value;
	} bad[] = {
		{ UMM_C_SIZE, "" },
		{ UMM_C_SIZE, "8Q" },
		{ UMM_C_SIZE, "-1" },
		{ UMM_C_SIZE, " 8M" },
		{ UMM_C_SIZE, "99999999999999999999" },
		{ UMM_C_ALIGN, "3K" },
		{ UMM_C_ALIGN, "0" },
		{ UMM_C_ALIGN, "2K" },
		{ UMM_C_ALIGN, "2G" },
		{ UMM_C_ALIGN, "abc" },
		{ UMM_C_CONTIGUOUS, "2" },
		{ UMM_C_CONTIGUOUS, "yes" },
		{ UMM_C_CONTIGUOUS, "" },
		{ UMM_C_CACHE, "fast" },
		{ UMM_C_CACHE, "Cached" },
		{ UMM_C_CACHE, "" },
		{ UMM_C_HEAP, "Bad Name" },
		{ UMM_C_HEAP, "" },
		{ UMM_C_HEAP, "1heap" },
		{ UMM_C_DEVICES, "relative" },
		{ UMM_C_DEVICES, "/dev/a x" },
		{ UMM_C_DEVICES, "/" },
		{ UMM_C_MAX_BYTES, "1.5G" },
		{ UMM_C_MAX_BYTES, "-1" },
		{ 0, "1" },
		{ 1 << 12, "1" },
	};
	struct constraints c;
	struct snap before, after;

	constraints_init(&c);
	cset(&c, UMM_C_SIZE, "8M");
	cset(&c, UMM_C_ALIGN, "64K");
	cset(&c, UMM_C_CONTIGUOUS, "1");
	cset(&c, UMM_C_CACHE, "writecombine");
	cset(&c, UMM_C_HEAP, "fake-cma");
	cset(&c, UMM_C_DEVICES, "/dev/a");
	cset(&c, UMM_C_MAX_BYTES, "1G");
	snap_take(&c, &before);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int ret = constraints_set(&c, bad[i].which, bad[i].value, strlen(bad[i].value));

		cr_assert_eq(ret, -EINVAL, "set(%#x, \"%s\") = %d, want -EINVAL", bad[i].which,
			     bad[i].value, ret);
		snap_take(&c, &after);
		snap_same(&before, &after, bad[i].value);
	}
	/* a value with a NUL inside is not the value before the NUL */
	cr_assert_eq(constraints_set(&c, UMM_C_SIZE, "4K\0", 3), -EINVAL);
	snap_take(&c, &after);
	snap_same(&before, &after, "4K\\0");
	constraints_fini(&c);
}

Test(constraints, set_on_an_empty_set_with_a_bad_value_sets_nothing)
{
	struct constraints c;

	constraints_init(&c);
	cr_assert_eq(constraints_set(&c, UMM_C_ALIGN, "3K", 2), -EINVAL);
	cr_assert_eq(c.set, 0);
	cr_assert_eq(c.align, HEAP_PAGE_SIZE);
	cr_assert_eq(constraints_set(&c, UMM_C_DEVICES, "x", 1), -EINVAL);
	cr_assert_null(c.devices);
	cr_assert_eq(c.set, 0);
	constraints_fini(&c);
}

Test(constraints, get_gives_the_text_as_set_and_enodata_when_unset)
{
	static const struct {
		int which;
		const char *in, *out;
	} cases[] = {
		{ UMM_C_SIZE, "8388608", "8M" },
		{ UMM_C_SIZE, "1536\n", "1536" },
		{ UMM_C_ALIGN, "65536", "64K" },
		{ UMM_C_CONTIGUOUS, "1", "1" },
		{ UMM_C_CACHE, "uncached", "uncached" },
		{ UMM_C_HEAP, "dma-heap:system", "dma-heap:system" },
		{ UMM_C_DEVICES, "/dev/b  /dev/a", "/dev/b /dev/a" },
		{ UMM_C_MAX_BYTES, "0", "0" },
	};
	struct constraints c;
	char buf[64];

	constraints_init(&c);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cr_assert_eq(constraints_get(&c, cases[i].which, buf, sizeof(buf)), -ENODATA,
			     "unset %#x readable", cases[i].which);
		cset(&c, cases[i].which, cases[i].in);
		int len = constraints_get(&c, cases[i].which, buf, sizeof(buf));

		cr_assert_eq(len, (int)strlen(cases[i].out), "%s", cases[i].in);
		cr_assert_str_eq(buf, cases[i].out);
		constraints_clear(&c, cases[i].which);
		cr_assert_eq(constraints_get(&c, cases[i].which, buf, sizeof(buf)), -ENODATA,
			     "cleared %#x still readable", cases[i].which);
	}
	constraints_fini(&c);
}

Test(constraints, clear_restores_the_default_of_that_field_only)
{
	struct constraints c;

	constraints_init(&c);
	cset(&c, UMM_C_ALIGN, "1M");
	cset(&c, UMM_C_CACHE, "uncached");
	cset(&c, UMM_C_DEVICES, "/dev/x");
	constraints_clear(&c, UMM_C_ALIGN);
	cr_assert_eq(c.align, HEAP_PAGE_SIZE);
	cr_assert_eq(c.cache, UMM_CACHE_UNCACHED);
	cr_assert_eq(c.set, (unsigned)(UMM_C_CACHE | UMM_C_DEVICES));
	constraints_clear(&c, UMM_C_DEVICES);
	cr_assert_null(c.devices);
	constraints_clear(&c, UMM_C_CACHE);
	cr_assert_eq(c.cache, UMM_CACHE_CACHED);
	cr_assert_eq(c.set, 0);
	constraints_fini(&c);
}

Test(constraints, copy_is_deep)
{
	struct constraints a, b;

	constraints_init(&a);
	cset(&a, UMM_C_DEVICES, "/dev/a /dev/b");
	cset(&a, UMM_C_ALIGN, "8K");
	cr_assert_eq(constraints_copy(&b, &a), 0);
	cr_assert_neq(a.devices, b.devices);
	cr_assert_str_eq(b.devices, "/dev/a /dev/b");
	cr_assert_eq(b.align, 8 * KiB);
	constraints_fini(&a);
	cr_assert_str_eq(b.devices, "/dev/a /dev/b");
	constraints_fini(&b);
}

Test(constraints, cset_names_map_to_bits)
{
	cr_assert_eq(constraints_bit("size"), UMM_C_SIZE);
	cr_assert_eq(constraints_bit("align"), UMM_C_ALIGN);
	cr_assert_eq(constraints_bit("contiguous"), UMM_C_CONTIGUOUS);
	cr_assert_eq(constraints_bit("cache"), UMM_C_CACHE);
	cr_assert_eq(constraints_bit("heap"), UMM_C_HEAP);
	cr_assert_eq(constraints_bit("devices"), UMM_C_DEVICES);
	cr_assert_eq(constraints_bit("max_bytes"), UMM_C_MAX_BYTES);
	cr_assert_eq(constraints_bit("effective"), 0);
	cr_assert_eq(constraints_bit("used_bytes"), 0);
	cr_assert_eq(constraints_bit(""), 0);
}

Test(constraints, met_names_the_first_constraint_a_buffer_fails)
{
	struct constraints e;
	struct constraints_bufprops b = { .heap = "memfd",
					  .align = 4096,
					  .contiguous = false,
					  .cache = UMM_CACHE_CACHED,
					  .devices = NULL };
	const char *why = "unset";

	constraints_init(&e);
	cr_assert(constraints_met(&e, &b, &why));
	cr_assert_null(why);

	cset(&e, UMM_C_ALIGN, "64K");
	cr_assert_not(constraints_met(&e, &b, &why));
	cr_assert_str_eq(why, "align");
	b.align = 2 * MiB;
	cr_assert(constraints_met(&e, &b, &why));

	cset(&e, UMM_C_CONTIGUOUS, "1");
	cr_assert_not(constraints_met(&e, &b, &why));
	cr_assert_str_eq(why, "contiguous");
	b.contiguous = true;

	cset(&e, UMM_C_CACHE, "writecombine");
	cr_assert_not(constraints_met(&e, &b, &why));
	cr_assert_str_eq(why, "cache");
	b.cache = UMM_CACHE_WRITECOMBINE;

	cset(&e, UMM_C_DEVICES, "/dev/a");
	cr_assert_not(constraints_met(&e, &b, &why));
	cr_assert_str_eq(why, "devices");
	b.devices = "/dev/b /dev/a";
	cr_assert(constraints_met(&e, &b, &why));

	cset(&e, UMM_C_HEAP, "udmabuf");
	cr_assert_not(constraints_met(&e, &b, &why));
	cr_assert_str_eq(why, "heap");
	b.heap = "udmabuf";
	cr_assert(constraints_met(&e, &b, &why));
	constraints_fini(&e);
}
