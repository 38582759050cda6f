// SPDX-License-Identifier: MIT
/*
 * Unit tests for alloc/parse.c: every parser of user-supplied text.
 *
 * Inputs are given with an explicit length (T("...") = text, sizeof - 1) so
 * the tables can hold NUL bytes inside a value, as setxattr may pass them.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define T(lit) lit, sizeof(lit) - 1
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define TiB (UINT64_C(1) << 40)

/* A sentinel the parsers must leave alone on failure. */
#define UNTOUCHED UINT64_C(0xdeadbeefcafef00d)

struct size_case {
	const char *s;
	size_t len;
	uint64_t want;
};

struct bad_case {
	const char *s;
	size_t len;
};

/* ---- parse_size ---------------------------------------------------------- */

static const struct size_case good_sizes[] = {
	{ T("0"), 0 },
	{ T("1"), 1 },
	{ T("4096"), 4096 },
	{ T("1k"), KiB },
	{ T("1K"), KiB },
	{ T("1m"), MiB },
	{ T("1M"), MiB },
	{ T("1g"), GiB },
	{ T("1G"), GiB },
	{ T("1t"), TiB },
	{ T("1T"), TiB },
	{ T("0K"), 0 },
	{ T("0T"), 0 },
	{ T("8M"), 8 * MiB },
	{ T("3G"), 3 * GiB },
	{ T("1536"), 1536 },
	{ T("007"), 7 },
	{ T("00000000000000000001"), 1 }, /* 20 digits, the limit */
	{ T("18446744073709551615"), UINT64_MAX },
	{ T("16777215T"), UINT64_C(16777215) << 40 },
	{ T("17179869183G"), UINT64_C(17179869183) << 30 },
	{ T("17592186044415M"), UINT64_C(17592186044415) << 20 },
	{ T("18014398509481983K"), UINT64_C(18014398509481983) << 10 },
};

Test(parse_size, accepts_digits_and_every_suffix_in_either_case)
{
	for (size_t i = 0; i < ARRAY_SIZE(good_sizes); i++) {
		uint64_t v = UNTOUCHED;
		int ret = parse_size(good_sizes[i].s, good_sizes[i].len, &v);

		cr_expect_eq(ret, 0, "parse_size(\"%s\") = %d", good_sizes[i].s, ret);
		cr_expect_eq(v, good_sizes[i].want, "parse_size(\"%s\") gave %" PRIu64,
			     good_sizes[i].s, v);
	}
}

Test(parse_size, accepts_one_trailing_newline)
{
	static const struct size_case cases[] = {
		{ T("8M\n"), 8 * MiB }, { T("0\n"), 0 },
		{ T("4096\n"), 4096 },	{ T("18446744073709551615\n"), UINT64_MAX },
		{ T("1t\n"), TiB },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t v = UNTOUCHED;

		cr_expect_eq(parse_size(cases[i].s, cases[i].len, &v), 0, "case %zu", i);
		cr_expect_eq(v, cases[i].want, "case %zu", i);
	}
}

static const struct bad_case bad_sizes[] = {
	{ T("") },
	{ T("\n") },
	{ T("8M\n\n") },
	{ T("\n8M") },
	{ T("8M\r\n") },
	{ T("-1") },
	{ T("+1") },
	{ T("-0") },
	{ T(" 1") },
	{ T("1 ") },
	{ T("1\t") },
	{ T("1 K") },
	{ T("1KK") },
	{ T("1Km") },
	{ T("K") },
	{ T("k\n") },
	{ T("1.5M") },
	{ T("1,5M") },
	{ T("0x10") },
	{ T("0X10") },
	{ T("1e3") },
	{ T("1P") },
	{ T("1E") },
	{ T("1B") },
	{ T("1KB") },
	{ T("1KiB") },
	{ T("1Mi") },
	{ T("M1") },
	{ T("one") },
	{ T("\xef\xbc\x91") }, /* FULLWIDTH DIGIT ONE */
	{ T("1\0") }, /* NUL inside the length */
	{ T("\0001") },
	{ T("1\0002") },
	{ T("8\0M") },
	{ T("8M\0") },
	{ T("18446744073709551616") }, /* UINT64_MAX + 1 */
	{ T("99999999999999999999") }, /* 20 digits, too big */
	{ T("99999999999999999999G") },
	{ T("000000000000000000001") }, /* 21 digits */
	{ T("100000000000000000000") },
	{ T("16777216T") }, /* 16E: 2^64 */
	{ T("16777217T") },
	{ T("17179869184G") }, /* 2^64 */
	{ T("17592186044416M") },
	{ T("18014398509481984K") },
	{ T("18446744073709551615K") },
};

Test(parse_size, malformed_or_overflowing_text_is_einval_and_output_untouched)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
		uint64_t v = UNTOUCHED;
		int ret = parse_size(bad_sizes[i].s, bad_sizes[i].len, &v);

		cr_expect_eq(ret, -EINVAL, "bad case %zu (\"%s\") gave %d", i, bad_sizes[i].s, ret);
		cr_expect_eq(v, UNTOUCHED, "bad case %zu wrote the output", i);
	}
}

Test(parse_size, overflowing_value_is_einval)
{
	uint64_t v = UNTOUCHED;

	cr_assert_eq(parse_size(T("18446744073709551616"), &v), -EINVAL);
	cr_assert_eq(parse_size(T("99999999999999999999G"), &v), -EINVAL);
	cr_assert_eq(parse_size(T("16777216T"), &v), -EINVAL);
	cr_assert_eq(v, UNTOUCHED);
}

Test(parse_size, exact_maximum_is_accepted)
{
	uint64_t v = 0;

	cr_assert_eq(parse_size(T("18446744073709551615"), &v), 0);
	cr_assert_eq(v, UINT64_MAX);
}

Test(parse_size, length_bounds_the_text_not_the_nul)
{
	const char buf[] = "4096123"; /* only the first 4 bytes are the value */
	uint64_t v = 0;

	cr_assert_eq(parse_size(buf, 4, &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(parse_size(buf, 1, &v), 0);
	cr_assert_eq(v, 4);
}

Test(parse_size, null_text_is_einval)
{
	uint64_t v = UNTOUCHED;

	cr_assert_eq(parse_size(NULL, 0, &v), -EINVAL);
	cr_assert_eq(parse_size(NULL, 3, &v), -EINVAL);
	cr_assert_eq(v, UNTOUCHED);
}

Test(parse_size_str, parses_nul_terminated_strings_like_parse_size)
{
	for (size_t i = 0; i < ARRAY_SIZE(good_sizes); i++) {
		uint64_t v = UNTOUCHED;

		cr_expect_eq(parse_size_str(good_sizes[i].s, &v), 0, "\"%s\"", good_sizes[i].s);
		cr_expect_eq(v, good_sizes[i].want, "\"%s\"", good_sizes[i].s);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
		uint64_t v = UNTOUCHED;

		/* strings with inner NULs read shorter here; skip those that then turn valid */
		if (strlen(bad_sizes[i].s) != bad_sizes[i].len)
			continue;
		cr_expect_eq(parse_size_str(bad_sizes[i].s, &v), -EINVAL, "\"%s\"", bad_sizes[i].s);
		cr_expect_eq(v, UNTOUCHED);
	}
}

Test(parse_size_str, null_is_einval)
{
	uint64_t v = UNTOUCHED;

	cr_assert_eq(parse_size_str(NULL, &v), -EINVAL);
	cr_assert_eq(v, UNTOUCHED);
}

/* ---- parse_bool01 -------------------------------------------------------- */

Test(parse_bool01, accepts_only_zero_and_one)
{
	bool b = true;

	cr_assert_eq(parse_bool01(T("0"), &b), 0);
	cr_assert_eq(b, false);
	cr_assert_eq(parse_bool01(T("1"), &b), 0);
	cr_assert_eq(b, true);
	b = false;
	cr_assert_eq(parse_bool01(T("1\n"), &b), 0);
	cr_assert_eq(b, true);
	cr_assert_eq(parse_bool01(T("0\n"), &b), 0);
	cr_assert_eq(b, false);
}

Test(parse_bool01, anything_else_is_einval_and_output_untouched)
{
	static const struct bad_case cases[] = {
		{ T("") },     { T("\n") },    { T("2") },   { T("00") }, { T("01") },
		{ T("true") }, { T("yes") },   { T(" 1") },  { T("1 ") }, { T("-1") },
		{ T("+1") },   { T("1\n\n") }, { T("1\0") }, { T("\0") }, { T("on") },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		bool b = true;

		cr_expect_eq(parse_bool01(cases[i].s, cases[i].len, &b), -EINVAL, "case %zu", i);
		cr_expect_eq(b, true, "case %zu wrote the output", i);
	}
}

/* ---- parse_cache / parse_sync -------------------------------------------- */

Test(parse_cache, accepts_each_mode_name)
{
	static const struct {
		const char *s;
		size_t len;
		enum heap_cache want;
	} cases[] = {
		{ T("cached"), UMM_CACHE_CACHED },
		{ T("uncached"), UMM_CACHE_UNCACHED },
		{ T("writecombine"), UMM_CACHE_WRITECOMBINE },
		{ T("cached\n"), UMM_CACHE_CACHED },
		{ T("writecombine\n"), UMM_CACHE_WRITECOMBINE },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		enum heap_cache c = UMM_CACHE_NR;

		cr_expect_eq(parse_cache(cases[i].s, cases[i].len, &c), 0, "case %zu", i);
		cr_expect_eq(c, cases[i].want, "case %zu", i);
	}
}

Test(parse_cache, bad_names_are_einval_and_output_untouched)
{
	static const struct bad_case cases[] = {
		{ T("") },
		{ T("\n") },
		{ T("Cached") },
		{ T("CACHED") },
		{ T("cache") },
		{ T("cachedd") },
		{ T(" cached") },
		{ T("cached ") },
		{ T("cached\n\n") },
		{ T("write-combine") },
		{ T("wc") },
		{ T("cached\0") },
		{ T("unc\0ached") },
		{ T("0") },
		{ T("writecombin") },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		enum heap_cache c = UMM_CACHE_NR;

		cr_expect_eq(parse_cache(cases[i].s, cases[i].len, &c), -EINVAL, "case %zu", i);
		cr_expect_eq(c, UMM_CACHE_NR, "case %zu wrote the output", i);
	}
}

Test(parse_cache, names_round_trip_and_out_of_range_is_null)
{
	for (int i = 0; i < UMM_CACHE_NR; i++) {
		const char *name = parse_cache_name((enum heap_cache)i);
		enum heap_cache c = UMM_CACHE_NR;

		cr_assert_not_null(name);
		cr_assert_eq(parse_cache(name, strlen(name), &c), 0);
		cr_assert_eq(c, (enum heap_cache)i);
	}
	cr_assert_str_eq(parse_cache_name(UMM_CACHE_WRITECOMBINE), "writecombine");
	cr_assert_null(parse_cache_name(UMM_CACHE_NR));
	cr_assert_null(parse_cache_name((enum heap_cache)(-1)));
	cr_assert_null(parse_cache_name((enum heap_cache)1000));
}

Test(parse_sync, accepts_each_domain_name)
{
	static const struct {
		const char *s;
		size_t len;
		enum buf_sync want;
	} cases[] = {
		{ T("cpu"), UMM_SYNC_CPU },
		{ T("cpu:read"), UMM_SYNC_CPU_READ },
		{ T("cpu:write"), UMM_SYNC_CPU_WRITE },
		{ T("device"), UMM_SYNC_DEVICE },
		{ T("cpu\n"), UMM_SYNC_CPU },
		{ T("cpu:write\n"), UMM_SYNC_CPU_WRITE },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		enum buf_sync s = UMM_SYNC_NR;

		cr_expect_eq(parse_sync(cases[i].s, cases[i].len, &s), 0, "case %zu", i);
		cr_expect_eq(s, cases[i].want, "case %zu", i);
	}
}

Test(parse_sync, bad_names_are_einval_and_output_untouched)
{
	static const struct bad_case cases[] = {
		{ T("") },	   { T("CPU") },       { T("cpu:") },	  { T("cpu:rw") },
		{ T("cpu:Read") }, { T("cpu: read") }, { T("cpu read") }, { T("cpu:read:write") },
		{ T("dev") },	   { T("devices") },   { T("cpu\0") },	  { T("cpu\n\n") },
		{ T(" cpu") },	   { T("gpu") },       { T(":read") },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		enum buf_sync s = UMM_SYNC_NR;

		cr_expect_eq(parse_sync(cases[i].s, cases[i].len, &s), -EINVAL, "case %zu", i);
		cr_expect_eq(s, UMM_SYNC_NR, "case %zu wrote the output", i);
	}
}

Test(parse_sync, names_round_trip_and_out_of_range_is_null)
{
	for (int i = 0; i < UMM_SYNC_NR; i++) {
		const char *name = parse_sync_name((enum buf_sync)i);
		enum buf_sync s = UMM_SYNC_NR;

		cr_assert_not_null(name);
		cr_assert_eq(parse_sync(name, strlen(name), &s), 0);
		cr_assert_eq(s, (enum buf_sync)i);
	}
	cr_assert_str_eq(parse_sync_name(UMM_SYNC_CPU_READ), "cpu:read");
	cr_assert_null(parse_sync_name(UMM_SYNC_NR));
	cr_assert_null(parse_sync_name((enum buf_sync)(-1)));
}

/* ---- parse_heap_name ----------------------------------------------------- */

#define NAME63 "a12345678901234567890123456789012345678901234567890123456789012"
#define NAME64 NAME63 "3"

Test(parse_heap_name, accepts_auto_and_valid_names)
{
	static const struct {
		const char *s;
		size_t len;
		const char *want;
	} cases[] = {
		{ T("auto"), "auto" },		 { T("memfd"), "memfd" },
		{ T("udmabuf"), "udmabuf" },	 { T("dma-heap:system"), "dma-heap:system" },
		{ T("drm:card0"), "drm:card0" }, { T("a"), "a" },
		{ T("z9_.:-"), "z9_.:-" },	 { T("memfd\n"), "memfd" },
		{ T(NAME63), NAME63 },		 { T(NAME63 "\n"), NAME63 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char out[UMM_HEAP_NAME_MAX];

		memset(out, 'x', sizeof(out));
		cr_expect_eq(parse_heap_name(cases[i].s, cases[i].len, out), 0, "case %zu", i);
		cr_expect_str_eq(out, cases[i].want, "case %zu", i);
	}
}

Test(parse_heap_name, bad_names_are_einval_and_output_untouched)
{
	static const struct bad_case cases[] = {
		{ T("") },	  { T("\n") },	    { T(NAME64) },	 { T("1memfd") },
		{ T("_memfd") },  { T("-memfd") },  { T(":memfd") },	 { T("Memfd") },
		{ T("memFD") },	  { T("mem fd") },  { T(" memfd") },	 { T("memfd ") },
		{ T("mem/fd") },  { T("mem,fd") },  { T("memfd\n\n") },	 { T("mem\0fd") },
		{ T("memfd\0") }, { T("mem\tfd") }, { T("m\xc3\xa9m") }, { T("mem*") },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char out[UMM_HEAP_NAME_MAX];

		memset(out, 'x', sizeof(out));
		cr_expect_eq(parse_heap_name(cases[i].s, cases[i].len, out), -EINVAL, "case %zu",
			     i);
		cr_expect_eq(out[0], 'x', "case %zu wrote the output", i);
	}
}

/* ---- parse_heap_list ----------------------------------------------------- */

Test(parse_heap_list, splits_on_colons_in_order)
{
	char names[UMM_HEAP_LIST_MAX][UMM_HEAP_NAME_MAX];
	unsigned n = 0;

	cr_assert_eq(parse_heap_list("udmabuf:memfd", names, UMM_HEAP_LIST_MAX, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(names[0], "udmabuf");
	cr_assert_str_eq(names[1], "memfd");

	cr_assert_eq(parse_heap_list("memfd", names, 1, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(names[0], "memfd");

	cr_assert_eq(parse_heap_list("memfd\n", names, 1, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(names[0], "memfd");
}

Test(parse_heap_list, dma_heap_and_drm_keep_their_sub_name)
{
	char names[UMM_HEAP_LIST_MAX][UMM_HEAP_NAME_MAX];
	unsigned n = 0;

	cr_assert_eq(parse_heap_list("memfd:dma-heap:system:drm:card0:udmabuf", names,
				     UMM_HEAP_LIST_MAX, &n),
		     0);
	cr_assert_eq(n, 4);
	cr_assert_str_eq(names[0], "memfd");
	cr_assert_str_eq(names[1], "dma-heap:system");
	cr_assert_str_eq(names[2], "drm:card0");
	cr_assert_str_eq(names[3], "udmabuf");

	cr_assert_eq(parse_heap_list("dma-heap:system:dma-heap:reserved", names, UMM_HEAP_LIST_MAX,
				     &n),
		     0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(names[0], "dma-heap:system");
	cr_assert_str_eq(names[1], "dma-heap:reserved");
}

Test(parse_heap_list, sixteen_names_fit)
{
	char names[UMM_HEAP_LIST_MAX][UMM_HEAP_NAME_MAX];
	char list[256] = "";
	unsigned n = 0;

	for (int i = 0; i < 16; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%sh%d", i ? ":" : "",
			 i);
	cr_assert_eq(parse_heap_list(list, names, UMM_HEAP_LIST_MAX, &n), 0);
	cr_assert_eq(n, 16);
	cr_assert_str_eq(names[0], "h0");
	cr_assert_str_eq(names[15], "h15");
}

Test(parse_heap_list, bad_lists_are_einval_and_output_untouched)
{
	static const char *const cases[] = {
		"",
		"\n",
		":",
		"memfd:",
		":memfd",
		"memfd::udmabuf",
		"memfd:memfd", /* duplicate */
		"udmabuf:memfd:udmabuf", /* duplicate */
		"dma-heap:system:dma-heap:system",
		"auto",
		"memfd:auto",
		"memfd,udmabuf",
		"memfd udmabuf",
		" memfd",
		"memfd\n\n",
		"Memfd",
		"1heap",
		"dma-heap:", /* kind without its name */
		"dma-heap::memfd",
		"drm:",
		"h0:h1:h2:h3:h4:h5:h6:h7:h8:h9:h10:h11:h12:h13:h14:h15:h16", /* 17 */
		NAME64,
		"memfd:" NAME64,
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char names[UMM_HEAP_LIST_MAX][UMM_HEAP_NAME_MAX];
		unsigned n = 99;

		memset(names, 'x', sizeof(names));
		cr_expect_eq(parse_heap_list(cases[i], names, UMM_HEAP_LIST_MAX, &n), -EINVAL,
			     "\"%s\"", cases[i]);
		cr_expect_eq(n, 99, "\"%s\" wrote the count", cases[i]);
		cr_expect_eq(names[0][0], 'x', "\"%s\" wrote a name", cases[i]);
	}
}

Test(parse_heap_list, more_names_than_caller_room_is_einval)
{
	char names[2][UMM_HEAP_NAME_MAX];
	unsigned n = 99;

	cr_assert_eq(parse_heap_list("a:b:c", names, 2, &n), -EINVAL);
	cr_assert_eq(n, 99);
	cr_assert_eq(parse_heap_list("a", names, 0, &n), -EINVAL);
	cr_assert_eq(parse_heap_list("a:b", names, 2, &n), 0);
	cr_assert_eq(n, 2);
}

Test(parse_heap_list, room_beyond_sixteen_does_not_lift_the_limit)
{
	char names[20][UMM_HEAP_NAME_MAX];
	unsigned n = 99;

	cr_assert_eq(parse_heap_list("h0:h1:h2:h3:h4:h5:h6:h7:h8:h9:h10:h11:h12:h13:h14:h15:h16",
				     names, 20, &n),
		     -EINVAL);
	cr_assert_eq(n, 99);
}

Test(parse_heap_list, null_arguments_are_einval)
{
	char names[1][UMM_HEAP_NAME_MAX];
	unsigned n = 99;

	cr_assert_eq(parse_heap_list(NULL, names, 1, &n), -EINVAL);
	cr_assert_eq(parse_heap_list("memfd", NULL, 1, &n), -EINVAL);
	cr_assert_eq(parse_heap_list("memfd", names, 1, NULL), -EINVAL);
	cr_assert_eq(n, 99);
}

/* ---- parse_devices ------------------------------------------------------- */

struct devices_case {
	const char *s;
	size_t len;
	const char *want;
};

Test(parse_devices, normalizes_blanks_and_collapses_duplicates)
{
	static const struct devices_case cases[] = {
		{ T(""), "" },
		{ T("\n"), "" },
		{ T("   "), "" },
		{ T(" \t \t"), "" },
		{ T(" \t\n"), "" },
		{ T("/dev/dri/card0"), "/dev/dri/card0" },
		{ T("/dev/dri/card0\n"), "/dev/dri/card0" },
		{ T("  /dev/dri/card0  "), "/dev/dri/card0" },
		{ T("/dev/a /dev/b"), "/dev/a /dev/b" },
		{ T("/dev/a\t\t/dev/b"), "/dev/a /dev/b" },
		{ T(" \t/dev/a   \t /dev/b \t\n"), "/dev/a /dev/b" },
		{ T("/dev/b /dev/a"), "/dev/b /dev/a" }, /* order kept */
		{ T("/dev/a /dev/a"), "/dev/a" },
		{ T("/dev/b /dev/a /dev/b /dev/a /dev/c"), "/dev/b /dev/a /dev/c" },
		{ T("/dev/a /dev/ab"), "/dev/a /dev/ab" }, /* prefixes are distinct */
		{ T("/a"), "/a" }, /* 2 bytes, the minimum */
		{ T("/dev/~!\"#$%&'()*+,-.:;<=>?@[\\]^_`{|}"),
		  "/dev/~!\"#$%&'()*+,-.:;<=>?@[\\]^_`{|}" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *out = NULL;
		int ret = parse_devices(cases[i].s, cases[i].len, &out);

		cr_expect_eq(ret, 0, "case %zu gave %d", i, ret);
		if (ret == 0) {
			cr_expect_str_eq(out, cases[i].want, "case %zu", i);
			free(out);
		}
	}
}

Test(parse_devices, null_with_zero_length_is_the_empty_list)
{
	char *out = NULL;

	cr_assert_eq(parse_devices(NULL, 0, &out), 0);
	cr_assert_str_eq(out, "");
	free(out);
	out = (char *)"untouched";
	cr_assert_eq(parse_devices(NULL, 5, &out), -EINVAL);
	cr_assert_str_eq(out, "untouched");
}

Test(parse_devices, bad_lists_are_einval_and_output_untouched)
{
	static const struct bad_case cases[] = {
		{ T("dev/dri/card0") }, /* relative */
		{ T("/dev/a dev/b") },	 { T("./dev/a") },
		{ T("~/dev") },		 { T("/") }, /* 1 byte */
		{ T("/dev/a /") },	 { T("/dev/a\n\n") },
		{ T("/dev/a\n/dev/b") }, /* newline is not a separator */
		{ T("/dev/a\r") },	 { T("/dev/a\v/dev/b") },
		{ T("/dev/a\f") },	 { T("/dev/\x01") },
		{ T("/dev/\x1b[31m") },	 { T("/dev/\x7f") },
		{ T("/dev/\xc3\xa9") }, /* non-ASCII */
		{ T("/dev/a\0") }, /* NUL inside the length */
		{ T("/dev/a\0/dev/b") }, { T("\0") },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *out = (char *)"untouched";

		cr_expect_eq(parse_devices(cases[i].s, cases[i].len, &out), -EINVAL, "case %zu", i);
		cr_expect_str_eq(out, "untouched", "case %zu wrote the output", i);
	}
}

/* Build "/dev/d0 /dev/d1 ..." with @n distinct paths. */
static void make_device_list(char *buf, size_t size, unsigned n)
{
	buf[0] = '\0';
	for (unsigned i = 0; i < n; i++)
		snprintf(buf + strlen(buf), size - strlen(buf), "%s/dev/d%u", i ? " " : "", i);
}

Test(parse_devices, sixteen_paths_fit_and_seventeen_are_einval)
{
	char list[512];
	char *out = NULL;

	make_device_list(list, sizeof(list), UMM_DEVICES_MAX);
	cr_assert_eq(parse_devices(list, strlen(list), &out), 0);
	cr_assert_str_eq(out, list);
	free(out);

	make_device_list(list, sizeof(list), UMM_DEVICES_MAX + 1);
	out = NULL;
	cr_assert_eq(parse_devices(list, strlen(list), &out), -EINVAL);
	cr_assert_null(out);
}

Test(parse_devices, duplicates_do_not_count_against_the_limit)
{
	char list[1024];
	char *out = NULL;

	make_device_list(list, sizeof(list), UMM_DEVICES_MAX);
	strcat(list, " ");
	make_device_list(list + strlen(list), sizeof(list) - strlen(list), UMM_DEVICES_MAX);
	cr_assert_eq(parse_devices(list, strlen(list), &out), 0);
	make_device_list(list, sizeof(list), UMM_DEVICES_MAX);
	cr_assert_str_eq(out, list);
	free(out);
}

Test(parse_devices, path_of_255_bytes_fits_and_256_is_einval)
{
	char path[300];
	char *out = NULL;

	memset(path, 'x', sizeof(path));
	path[0] = '/';
	cr_assert_eq(parse_devices(path, 255, &out), 0);
	cr_assert_eq(strlen(out), 255);
	cr_assert_eq(memcmp(out, path, 255), 0);
	free(out);

	out = NULL;
	cr_assert_eq(parse_devices(path, 256, &out), -EINVAL);
	cr_assert_null(out);
}

/* ---- parse_devices_union / parse_devices_contains ------------------------ */

Test(parse_devices_union, keeps_order_of_first_appearance_without_duplicates)
{
	static const struct {
		const char *a, *b, *want;
	} cases[] = {
		{ NULL, NULL, "" },
		{ "", "", "" },
		{ NULL, "/dev/a", "/dev/a" },
		{ "/dev/a", NULL, "/dev/a" },
		{ "/dev/a", "", "/dev/a" },
		{ "/dev/a /dev/b", "/dev/c", "/dev/a /dev/b /dev/c" },
		{ "/dev/a /dev/b", "/dev/b /dev/a", "/dev/a /dev/b" },
		{ "/dev/a /dev/b", "/dev/c /dev/a /dev/d", "/dev/a /dev/b /dev/c /dev/d" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *out = NULL;

		cr_expect_eq(parse_devices_union(cases[i].a, cases[i].b, &out), 0, "case %zu", i);
		if (out) {
			cr_expect_str_eq(out, cases[i].want, "case %zu", i);
			free(out);
		}
	}
}

Test(parse_devices_union, more_than_sixteen_distinct_is_einval)
{
	char a[512], b[512];
	char *out = NULL;

	make_device_list(a, sizeof(a), UMM_DEVICES_MAX);
	cr_assert_eq(parse_devices_union(a, a, &out), 0); /* all shared: still 16 */
	cr_assert_str_eq(out, a);
	free(out);

	out = NULL;
	cr_assert_eq(parse_devices_union(a, "/dev/extra", &out), -EINVAL);
	cr_assert_null(out);

	make_device_list(b, sizeof(b), 9);
	cr_assert_eq(parse_devices_union(b,
					 "/dev/x0 /dev/x1 /dev/x2 /dev/x3 /dev/x4 /dev/x5 "
					 "/dev/x6 /dev/x7",
					 &out),
		     -EINVAL);
	cr_assert_null(out);
}

Test(parse_devices_union, malformed_list_is_einval)
{
	char *out = NULL;

	cr_assert_eq(parse_devices_union("/dev/a", "dev/b", &out), -EINVAL);
	cr_assert_eq(parse_devices_union("/dev/\x01", NULL, &out), -EINVAL);
	cr_assert_null(out);
}

Test(parse_devices_contains, checks_every_needed_path)
{
	static const struct {
		const char *have, *need;
		bool want;
	} cases[] = {
		{ NULL, NULL, true },
		{ "", "", true },
		{ NULL, "", true },
		{ "/dev/a", NULL, true },
		{ "/dev/a", "", true },
		{ "/dev/a", "/dev/a", true },
		{ "/dev/a /dev/b", "/dev/b", true },
		{ "/dev/a /dev/b", "/dev/b /dev/a", true },
		{ "/dev/a /dev/b /dev/c", "/dev/c /dev/a", true },
		{ NULL, "/dev/a", false },
		{ "", "/dev/a", false },
		{ "/dev/a", "/dev/a /dev/b", false },
		{ "/dev/ab", "/dev/a", false }, /* no prefix matches */
		{ "/dev/a", "/dev/ab", false },
		{ "/dev/a /dev/b", "/dev/c", false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		cr_expect_eq(parse_devices_contains(cases[i].have, cases[i].need), cases[i].want,
			     "case %zu (\"%s\" >= \"%s\")", i,
			     cases[i].have ? cases[i].have : "NULL",
			     cases[i].need ? cases[i].need : "NULL");
}

Test(parse_devices_contains, a_union_contains_both_of_its_parts)
{
	const char *a = "/dev/dri/card0 /dev/video0";
	const char *b = "/dev/video0 /dev/accel/accel0";
	char *u = NULL;

	cr_assert_eq(parse_devices_union(a, b, &u), 0);
	cr_assert(parse_devices_contains(u, a));
	cr_assert(parse_devices_contains(u, b));
	cr_assert_not(parse_devices_contains(a, u));
	cr_assert_not(parse_devices_contains(b, u));
	free(u);
}

/* ---- parse_align --------------------------------------------------------- */

Test(parse_align, accepts_powers_of_two_from_page_size_to_1g)
{
	for (unsigned shift = 12; shift <= 30; shift++) {
		char buf[UMM_FORMAT_SIZE_BUF];
		uint64_t v = 0;
		int len = snprintf(buf, sizeof(buf), "%" PRIu64, UINT64_C(1) << shift);

		cr_expect_eq(parse_align(buf, (size_t)len, &v), 0, "\"%s\"", buf);
		cr_expect_eq(v, UINT64_C(1) << shift);
	}

	static const struct size_case cases[] = {
		{ T("4K"), 4096 },    { T("4k\n"), 4096 }, { T("64K"), 64 * KiB },
		{ T("2M"), 2 * MiB }, { T("1G"), GiB },	   { T("1048576K"), GiB },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t v = 0;

		cr_expect_eq(parse_align(cases[i].s, cases[i].len, &v), 0, "case %zu", i);
		cr_expect_eq(v, cases[i].want, "case %zu", i);
	}
}

Test(parse_align, non_powers_of_two_small_large_or_malformed_are_einval)
{
	static const struct bad_case cases[] = {
		{ T("0") },	    { T("1") },		 { T("2") },	      { T("2048") },
		{ T("2K") },	    { T("4095") },	 { T("4097") },	      { T("6K") },
		{ T("12K") },	    { T("3M") },	 { T("1536M") },      { T("2G") },
		{ T("1T") },	    { T("1073741825") }, { T("2147483648") }, { T("") },
		{ T("4K ") },	    { T("-4K") },	 { T("4KK") },	      { T("0x1000") },
		{ T("16777216T") },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t v = UNTOUCHED;

		cr_expect_eq(parse_align(cases[i].s, cases[i].len, &v), -EINVAL, "case %zu", i);
		cr_expect_eq(v, UNTOUCHED, "case %zu wrote the output", i);
	}
}

/* ---- parse_format_size --------------------------------------------------- */

Test(parse_format_size, uses_the_largest_exact_binary_unit)
{
	static const struct {
		uint64_t v;
		const char *want;
	} cases[] = {
		{ 0, "0" },
		{ 1, "1" },
		{ 1023, "1023" },
		{ 1024, "1K" },
		{ 1536, "1536" },
		{ 4096, "4K" },
		{ 8388608, "8M" },
		{ 3 * GiB, "3G" },
		{ GiB + KiB, "1048577K" },
		{ 5 * TiB, "5T" },
		{ 1024 * TiB, "1024T" },
		{ UINT64_C(1) << 63, "8388608T" },
		{ UINT64_MAX, "18446744073709551615" },
		{ UINT64_MAX - 1023, "18014398509481983K" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char buf[UMM_FORMAT_SIZE_BUF];
		int len = parse_format_size(cases[i].v, buf, sizeof(buf));

		cr_expect_str_eq(buf, cases[i].want, "case %zu", i);
		cr_expect_eq(len, (int)strlen(cases[i].want), "case %zu", i);
	}
}

Test(parse_format_size, reports_full_length_when_truncated)
{
	char buf[4] = "zzz";

	cr_assert_eq(parse_format_size(UINT64_MAX, buf, sizeof(buf)), 20);
	cr_assert_str_eq(buf, "184");
	cr_assert_eq(parse_format_size(8388608, NULL, 0), 2);
}

/* xorshift64*: deterministic values spread over the whole range */
static uint64_t next_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(2685821657736338717);
}

static void expect_round_trip(uint64_t v)
{
	char buf[UMM_FORMAT_SIZE_BUF];
	uint64_t back = ~v;
	int len = parse_format_size(v, buf, sizeof(buf));

	cr_assert(len > 0 && (size_t)len < sizeof(buf), "length %d for %" PRIu64, len, v);
	cr_assert_eq(parse_size(buf, (size_t)len, &back), 0, "\"%s\" does not parse", buf);
	cr_assert_eq(back, v, "\"%s\" parsed to %" PRIu64 ", not %" PRIu64, buf, back, v);
}

Test(parse_format_size, round_trips_through_parse_size)
{
	uint64_t state = UINT64_C(0x9e3779b97f4a7c15);

	for (uint64_t v = 0; v < 5000; v++)
		expect_round_trip(v);
	for (unsigned shift = 0; shift < 64; shift++) {
		uint64_t p = UINT64_C(1) << shift;

		expect_round_trip(p);
		expect_round_trip(p - 1);
		expect_round_trip(p + 1);
		expect_round_trip(3 * p);
		expect_round_trip(UINT64_MAX - p + 1);
		expect_round_trip(UINT64_MAX >> shift);
	}
	for (int i = 0; i < 100000; i++) {
		uint64_t r = next_rand(&state);

		expect_round_trip(r);
		/* clear low bits so every unit gets exercised */
		expect_round_trip(r & ~((UINT64_C(1) << (r % 64)) - 1));
	}
}

/* ---- parse_count_str ----------------------------------------------------- */

Test(parse_count_str, accepts_digits_up_to_half_of_uint64)
{
	static const struct {
		const char *s;
		uint64_t want;
	} cases[] = {
		{ "0", 0 },	{ "1", 1 },	    { "1000", 1000 },
		{ "0042", 42 }, { "1000\n", 1000 }, { "9223372036854775807", UINT64_MAX / 2 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t v = UNTOUCHED;

		cr_expect_eq(parse_count_str(cases[i].s, &v), 0, "\"%s\"", cases[i].s);
		cr_expect_eq(v, cases[i].want, "\"%s\"", cases[i].s);
	}
}

Test(parse_count_str, suffixes_signs_spaces_and_too_large_are_einval)
{
	static const char *const cases[] = {
		"",
		"\n",
		"-1",
		"+1",
		" 1",
		"1 ",
		"1K",
		"1k",
		"0x10",
		"1.0",
		"1\n\n",
		"9223372036854775808", /* UINT64_MAX / 2 + 1 */
		"18446744073709551615",
		"18446744073709551616",
		"99999999999999999999",
		"000000000000000000001", /* 21 digits */
		NULL,
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t v = UNTOUCHED;

		cr_expect_eq(parse_count_str(cases[i], &v), -EINVAL, "\"%s\"",
			     cases[i] ? cases[i] : "NULL");
		cr_expect_eq(v, UNTOUCHED, "\"%s\" wrote the output", cases[i] ? cases[i] : "NULL");
	}
}
