// SPDX-License-Identifier: MIT
/*
 * test_choose_heap.c - the choice of heap (constraints_choose_heap()), against a
 * made-up table of heaps: it never calls the ops, so the fake heaps have none.
 *
 * Every test runs in its own process (Criterion).
 */
#define _GNU_SOURCE
#include "unit_i.h"

/* a dma-buf heap of plain pages, 64M at most, no write-combine */
static const struct heap FAKE_SYS = {
	.name = "fake-sys",
	.caps = { .dmabuf = true,
		  .cache_modes = CM(UMM_CACHE_CACHED) | CM(UMM_CACHE_UNCACHED),
		  .max_size = 64 * MiB,
		  .align = 4096 },
};
/* a CMA-like heap: contiguous up to 16M, 1M alignment, write-combine */
static const struct heap FAKE_CMA = {
	.name = "fake-cma",
	.caps = { .dmabuf = true,
		  .contiguous = true,
		  .contig_max = 16 * MiB,
		  .cache_modes = CM(UMM_CACHE_CACHED) | CM(UMM_CACHE_WRITECOMBINE),
		  .max_size = 16 * MiB,
		  .align = MiB },
};
/* like memfd: CPU only, cached only, no size limit, growable */
static const struct heap FAKE_CPU = {
	.name = "fake-cpu",
	.caps = { .cache_modes = CM(UMM_CACHE_CACHED), .align = 4096, .growable = true },
};

static int choose(const struct heap *const *tab, unsigned n, const struct constraints *eff,
		  uint64_t size, char *why, size_t whylen)
{
	struct heap heaps[8];

	cr_assert_leq(n, ARRAY_SIZE(heaps));
	for (unsigned i = 0; i < n; i++)
		heaps[i] = *tab[i];
	why[0] = '\0';
	return constraints_choose_heap(heaps, n, eff, size, why, whylen);
}

#define CHOOSE(tab, eff, size, why) choose(tab, ARRAY_SIZE(tab), eff, size, why, sizeof(why))

static const struct heap *const ALL3[] = { &FAKE_SYS, &FAKE_CMA, &FAKE_CPU };

Test(choose_heap, no_constraints_take_the_first_heap_in_preference_order)
{
	static const struct heap *const cpu_first[] = { &FAKE_CPU, &FAKE_SYS, &FAKE_CMA };
	static const struct heap *const cma_first[] = { &FAKE_CMA, &FAKE_CPU, &FAKE_SYS };
	struct constraints e;
	char why[160];

	constraints_init(&e);
	cr_assert_eq(CHOOSE(ALL3, &e, MiB, why), 0);
	cr_assert_eq(CHOOSE(cpu_first, &e, MiB, why), 0);
	cr_assert_eq(CHOOSE(cma_first, &e, MiB, why), 0);
	/* size 0 (a buffer created empty) fits every heap */
	cr_assert_eq(CHOOSE(ALL3, &e, 0, why), 0);
	constraints_fini(&e);
}

Test(choose_heap, first_heap_meeting_every_constraint_is_chosen)
{
	struct constraints e;
	char why[160];

	constraints_init(&e);
	cset(&e, UMM_C_CONTIGUOUS, "1");
	cr_assert_eq(CHOOSE(ALL3, &e, 4 * MiB, why), 1, "contiguous 4M: %s", why);
	cr_assert_eq(CHOOSE(ALL3, &e, 16 * MiB, why), 1, "contiguous 16M (the limit): %s", why);
	constraints_fini(&e);

	constraints_init(&e);
	cset(&e, UMM_C_CACHE, "writecombine");
	cr_assert_eq(CHOOSE(ALL3, &e, MiB, why), 1, "writecombine: %s", why);
	cset(&e, UMM_C_CACHE, "uncached");
	cr_assert_eq(CHOOSE(ALL3, &e, MiB, why), 0, "uncached: %s", why);
	constraints_fini(&e);

	constraints_init(&e);
	cr_assert_eq(CHOOSE(ALL3, &e, 128 * MiB, why), 2, "128M goes past sys and cma: %s", why);
	cr_assert_eq(CHOOSE(ALL3, &e, 64 * MiB, why), 0, "64M is sys's limit: %s", why);
	cr_assert_eq(CHOOSE(ALL3, &e, 64 * MiB - 1, why), 0, "rounds up to 64M: %s", why);
	cr_assert_eq(CHOOSE(ALL3, &e, 64 * MiB + 1, why), 2, "rounds up past 64M: %s", why);
	cset(&e, UMM_C_ALIGN, "1M");
	cr_assert_eq(CHOOSE(ALL3, &e, MiB, why), 1, "align 1M: %s", why);
	constraints_fini(&e);

	constraints_init(&e);
	cset(&e, UMM_C_DEVICES, "/dev/dri/card0");
	cr_assert_eq(CHOOSE(ALL3, &e, MiB, why), 0, "devices need a dma-buf: %s", why);
	cset(&e, UMM_C_CONTIGUOUS, "1");
	cr_assert_eq(CHOOSE(ALL3, &e, MiB, why), 1, "devices + contiguous: %s", why);
	constraints_fini(&e);
}

Test(choose_heap, heap_restriction_chooses_only_the_named_heap)
{
	struct constraints e;
	char why[160];

	constraints_init(&e);
	cset(&e, UMM_C_HEAP, "fake-cpu");
	cr_assert_eq(CHOOSE(ALL3, &e, MiB, why), 2);
	cset(&e, UMM_C_HEAP, "fake-cma");
	cr_assert_eq(CHOOSE(ALL3, &e, MiB, why), 1);
	/* the named heap too small: the others, though large enough, are not asked */
	cr_assert_eq(CHOOSE(ALL3, &e, 32 * MiB, why), -ENOSPC);
	cr_assert_not_null(strstr(why, "size"), "why: %s", why);
	/* the named heap lacks a property the others have */
	cset(&e, UMM_C_HEAP, "fake-cpu");
	cset(&e, UMM_C_CACHE, "uncached");
	cr_assert_eq(CHOOSE(ALL3, &e, MiB, why), -EOPNOTSUPP);
	cr_assert_not_null(strstr(why, "cache"), "why: %s", why);
	cr_assert_not_null(strstr(why, "fake-cpu"), "why: %s", why);
	constraints_fini(&e);
}

Test(choose_heap, size_above_every_max_size_is_enospc_naming_size)
{
	static const struct heap *const limited[] = { &FAKE_SYS, &FAKE_CMA };
	struct constraints e;
	char why[160];

	constraints_init(&e);
	cr_assert_eq(CHOOSE(limited, &e, 128 * MiB, why), -ENOSPC);
	cr_assert_not_null(strstr(why, "size=134217728"), "why: %s", why);
	cr_assert_eq(CHOOSE(limited, &e, 64 * MiB + 1, why), -ENOSPC);
	cr_assert_not_null(strstr(why, "size="), "why: %s", why);
	/* a size that overflows when rounded to a page */
	cr_assert_eq(CHOOSE(limited, &e, UINT64_MAX, why), -ENOSPC);
	cr_assert_not_null(strstr(why, "size="), "why: %s", why);
	/* no limit at all on fake-cpu, but not even it can round that up */
	cr_assert_eq(CHOOSE(ALL3, &e, UINT64_MAX - 1, why), -ENOSPC);
	constraints_fini(&e);
}

Test(choose_heap, size_on_one_heap_and_a_property_on_the_rest_is_enospc)
{
	static const struct heap *const tab[] = { &FAKE_SYS, &FAKE_CPU };
	struct constraints e;
	char why[160];

	constraints_init(&e);
	cset(&e, UMM_C_CACHE, "uncached");
	/* fake-sys meets uncached but not 128M; fake-cpu is never uncached */
	cr_assert_eq(CHOOSE(tab, &e, 128 * MiB, why), -ENOSPC);
	cr_assert_not_null(strstr(why, "size"), "why: %s", why);
	constraints_fini(&e);
}

Test(choose_heap, contiguous_size_beyond_contig_max_is_enospc_naming_the_heap_too_small)
{
	static const struct heap *const tab[] = { &FAKE_SYS, &FAKE_CMA };
	struct constraints e;
	char why[160];

	constraints_init(&e);
	cset(&e, UMM_C_CONTIGUOUS, "1");
	cr_assert_eq(CHOOSE(tab, &e, 32 * MiB, why), -ENOSPC);
	cr_assert_not_null(strstr(why, "size=33554432"), "why: %s", why);
	/*
	 * Only fake-cma is ruled out by the size; fake-sys (64M) is ruled out by
	 * contiguity. A line saying fake-sys's largest is smaller than 32M is false.
	 */
	cr_assert_not_null(strstr(why, "fake-cma"), "why names the wrong heap: %s", why);
	constraints_fini(&e);
}

Test(choose_heap, contiguity_no_heap_has_is_eopnotsupp_naming_contiguous)
{
	static const struct heap *const tab[] = { &FAKE_SYS, &FAKE_CPU };
	struct constraints e;
	char why[160];

	constraints_init(&e);
	cset(&e, UMM_C_CONTIGUOUS, "1");
	cr_assert_eq(CHOOSE(tab, &e, MiB, why), -EOPNOTSUPP);
	cr_assert_not_null(strstr(why, "contiguous"), "why: %s", why);
	constraints_fini(&e);
}

Test(choose_heap, cache_mode_no_heap_has_is_eopnotsupp_naming_cache)
{
	static const struct heap *const tab[] = { &FAKE_SYS, &FAKE_CPU };
	struct constraints e;
	char why[160];

	constraints_init(&e);
	cset(&e, UMM_C_CACHE, "writecombine");
	cr_assert_eq(CHOOSE(tab, &e, MiB, why), -EOPNOTSUPP);
	cr_assert_not_null(strstr(why, "cache"), "why: %s", why);
	constraints_fini(&e);
}

Test(choose_heap, alignment_no_heap_has_is_eopnotsupp_naming_align)
{
	struct constraints e;
	char why[160];

	constraints_init(&e);
	cset(&e, UMM_C_ALIGN, "2M");
	cr_assert_eq(CHOOSE(ALL3, &e, 4 * MiB, why), -EOPNOTSUPP);
	cr_assert_not_null(strstr(why, "align"), "why: %s", why);
	constraints_fini(&e);
}

Test(choose_heap, devices_without_a_dmabuf_heap_is_eopnotsupp_naming_devices)
{
	static const struct heap *const tab[] = { &FAKE_CPU };
	struct constraints e;
	char why[160];

	constraints_init(&e);
	cset(&e, UMM_C_DEVICES, "/dev/dri/card0");
	cr_assert_eq(CHOOSE(tab, &e, MiB, why), -EOPNOTSUPP);
	cr_assert_not_null(strstr(why, "devices"), "why: %s", why);
	/* an empty device list asks nothing */
	cset(&e, UMM_C_DEVICES, "");
	cr_assert_eq(CHOOSE(tab, &e, MiB, why), 0);
	constraints_fini(&e);
}

Test(choose_heap, unknown_heap_name_is_eopnotsupp_naming_the_heap)
{
	struct constraints e;
	char why[160];

	constraints_init(&e);
	cset(&e, UMM_C_HEAP, "fake-gpu");
	cr_assert_eq(CHOOSE(ALL3, &e, MiB, why), -EOPNOTSUPP);
	cr_assert_not_null(strstr(why, "heap=fake-gpu"), "why: %s", why);
	constraints_fini(&e);
}

Test(choose_heap, empty_table_is_eopnotsupp)
{
	struct constraints e;
	char why[160];

	constraints_init(&e);
	cr_assert_eq(choose(NULL, 0, &e, MiB, why, sizeof(why)), -EOPNOTSUPP);
	cr_assert_neq(why[0], '\0');
	constraints_fini(&e);
}

Test(choose_heap, heap_req_carries_the_constraints_and_a_page_rounded_size)
{
	struct constraints e;
	struct heap_req r;

	constraints_init(&e);
	cset(&e, UMM_C_ALIGN, "1M");
	cset(&e, UMM_C_CONTIGUOUS, "1");
	cset(&e, UMM_C_CACHE, "writecombine");
	constraints_heap_req(&e, 5000, &r);
	cr_assert_eq(r.size, 8192);
	cr_assert_eq(r.align, MiB);
	cr_assert(r.contiguous);
	cr_assert_eq(r.cache, UMM_CACHE_WRITECOMBINE);
	constraints_fini(&e);
}
