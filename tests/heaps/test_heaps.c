// SPDX-License-Identifier: MIT
/*
 * test_heaps.c - the heaps' conformance suite: the same cases over every heap
 * this machine has, through heap.h alone (the way the kernel's dma-buf heap
 * selftest runs one suite over every heap).
 *
 * Suite "heaps" runs each case once per backend of the registry (the list in
 * heaps/meson.build, through heap_backends.h), on every heap of that kind that
 * heap_discover() finds; a kind this machine lacks is skipped with the reason
 * (a required one, memfd, fails instead). A new backend is covered with no
 * edit here. The cases:
 *  - alloc of several sizes, every alignment and cache mode the heap offers,
 *    and contiguity where it has it, gives at least what was asked;
 *  - the fd/dmabuf_fd contract: a dma-buf exactly where caps.dmabuf says, the
 *    memory reachable through fd or map, close-on-exec fds of the buffer's
 *    size, heap_reopen() of the access asked (read-only grants no write);
 *  - the memory maps read-write, and what one fd or mapping writes every
 *    other reads (with heap_sync() around the CPU access);
 *  - resize of an unsealed buffer where the heap is growable, -EPERM once
 *    sealed, -ENOSPC above max_size;
 *  - seal fixes the size (memfd seals, ftruncate refused) and keeps the data;
 *  - adopt of a filled staging memfd keeps its bytes, or is -EOPNOTSUPP and
 *    leaves it as it was;
 *  - free closes every fd and mapping and may be repeated;
 *  - bad requests get the core's errno and leave the output untouched;
 *  - heap_describe() names the heap and its caps.
 * Suite "registry": what heap_discover() and heap_release_all() promise for
 * every heap, the staging heap; suite "device": the user.umm.devices checks
 * on paths that are not DRM devices (real devices are tested in tests/vm).
 *
 * Every test runs in its own process (Criterion), so the heaps are discovered
 * per test and released at its end.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "heap_i.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PAGE HEAP_PAGE_SIZE
#define SYNC_RW (DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE)

/* The registry's backends, from the same list heap.c makes its table from. */
static const struct heap_backend *const backends[] = {
#define HEAP_BACKEND(id) &id##_heap_backend,
	HEAP_BACKENDS
#undef HEAP_BACKEND
};

/* A test's parameter: the index of a backend in backends[]. */
struct kind {
	unsigned idx;
};

static void kinds_free(struct criterion_test_params *p)
{
	cr_free(p->params);
}

/* Made at run time, so in cr_malloc()'s memory, which the test's process sees. */
static struct criterion_test_params kinds_params(void)
{
	struct kind *kinds = cr_malloc(sizeof(*kinds) * ARRAY_SIZE(backends));

	cr_assert_not_null(kinds);
	for (unsigned i = 0; i < ARRAY_SIZE(backends); i++)
		kinds[i].idx = i;
	return cr_make_param_array(struct kind, kinds, ARRAY_SIZE(backends), kinds_free);
}

static struct heap g_heaps[HEAP_MAX];
static unsigned g_nheaps;

static void heaps_down(void)
{
	heap_release_all(g_heaps, g_nheaps);
	g_nheaps = 0;
}

static bool of_kind(const struct heap *h, const char *kind)
{
	size_t klen = strlen(kind);

	return !strncmp(h->name, kind, klen) && (!h->name[klen] || h->name[klen] == ':');
}

/*
 * Discover the heaps and run @fn on each of @k's kind; skip when there is
 * none (fail for a required kind: heap_discover() must not succeed without).
 */
static void run_on_kind(const struct kind *k, void (*fn)(struct heap *h))
{
	const struct heap_backend *b = backends[k->idx];
	char found[HEAP_MAX * UMM_HEAP_NAME_MAX] = "";
	unsigned ran = 0;
	int ret;

	ret = heap_discover(g_heaps, HEAP_MAX, &g_nheaps);
	cr_assert_eq(ret, 0, "heap_discover: %d", ret);
	for (unsigned i = 0; i < g_nheaps; i++) {
		if (i)
			strcat(found, " ");
		strcat(found, g_heaps[i].name);
	}
	for (unsigned i = 0; i < g_nheaps; i++) {
		if (!of_kind(&g_heaps[i], b->name))
			continue;
		cr_log_info("%s: on %s", b->name, g_heaps[i].name);
		fn(&g_heaps[i]);
		ran++;
	}
	if (!ran && b->required)
		cr_assert_fail("no %s heap, which is required (heap_discover found: %s)", b->name,
			       found);
	if (!ran)
		cr_skip("no heap of kind %s on this machine (heap_discover found: %s)", b->name,
			found);
}

/*
 * HEAP_TEST(name) { ... h ... } is a case run on every heap, one test of
 * suite "heaps" per backend.
 */
#define HEAP_TEST(name)                                                    \
	static void name(struct heap *h);                                  \
	ParameterizedTestParameters(heaps, name)                           \
	{                                                                  \
		return kinds_params();                                     \
	}                                                                  \
	ParameterizedTest(struct kind *k, heaps, name, .fini = heaps_down) \
	{                                                                  \
		run_on_kind(k, name);                                      \
	}                                                                  \
	static void name(struct heap *h)

/* ------------------------------------------------------------------------ */
/* helpers                                                                  */
/* ------------------------------------------------------------------------ */

static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	cr_assert_not_null(d, "opendir /proc/self/fd: %s", strerror(errno));
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static struct heap_req req_of(const struct heap *h, uint64_t size)
{
	struct heap_req r = { .size = size, .align = PAGE, .name = "umm-test" };

	/* the first cache mode the heap has */
	while (r.cache < UMM_CACHE_NR && !(h->caps.cache_modes & (1u << r.cache)))
		r.cache++;
	return r;
}

static void alloc_ok(struct heap *h, const struct heap_req *r, struct heap_buf *b)
{
	int ret = heap_alloc(h, r, b);

	cr_assert_eq(ret, 0,
		     "%s: heap_alloc(size %llu, align %llu, contiguous %d, cache %s) = %d (%s)",
		     h->name, (unsigned long long)r->size, (unsigned long long)r->align,
		     r->contiguous, heap_cache_name(r->cache), ret, strerror(-ret));
}

static void *map_fd(int fd, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	cr_assert_neq(p, MAP_FAILED, "mmap of fd %d (%llu bytes): %s", fd, (unsigned long long)size,
		      strerror(errno));
	return p;
}

static void fill(unsigned char *p, uint64_t n, unsigned seed)
{
	for (uint64_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 31 + seed);
}

static void expect_filled(const char *what, const unsigned char *p, uint64_t n, unsigned seed)
{
	for (uint64_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(i * 31 + seed))
			cr_assert_fail("%s: byte %llu is %#x, want %#x", what,
				       (unsigned long long)i, p[i], (unsigned char)(i * 31 + seed));
}

static void sync_ok(struct heap *h, struct heap_buf *b, unsigned flags)
{
	int ret = heap_sync(h, b, flags);

	cr_assert_eq(ret, 0, "%s: heap_sync(%#x) = %d", h->name, flags, ret);
}

static bool cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	cr_assert_geq(fl, 0, "F_GETFD of %d: %s", fd, strerror(errno));
	return fl & FD_CLOEXEC;
}

/* ------------------------------------------------------------------------ */
/* heaps: the cases every heap passes                                       */
/* ------------------------------------------------------------------------ */

HEAP_TEST(alloc_gives_at_least_the_size_alignment_and_contiguity_asked)
{
	static const uint64_t pages[] = { 1, 2, 3, 16, 257, 4096 };

	for (size_t i = 0; i < ARRAY_SIZE(pages); i++) {
		for (uint64_t align = PAGE; align && align <= h->caps.align; align <<= 1) {
			struct heap_req r = req_of(h, pages[i] * PAGE);
			struct heap_buf b;

			if (h->caps.max_size && r.size > h->caps.max_size)
				continue;
			r.align = align;
			alloc_ok(h, &r, &b);
			cr_expect_geq(b.size, r.size, "%s: size %llu for %llu", h->name,
				      (unsigned long long)b.size, (unsigned long long)r.size);
			cr_expect_eq(b.size % PAGE, 0, "%s: size %llu", h->name,
				     (unsigned long long)b.size);
			cr_expect_geq(b.align, align, "%s: align %llu for %llu", h->name,
				      (unsigned long long)b.align, (unsigned long long)align);
			heap_free(h, &b);
		}
	}
	for (int m = 0; m < UMM_CACHE_NR; m++) {
		struct heap_req r = req_of(h, 2 * PAGE);
		struct heap_buf b;

		if (!(h->caps.cache_modes & (1u << m)))
			continue;
		r.cache = (enum heap_cache)m;
		alloc_ok(h, &r, &b);
		heap_free(h, &b);
	}
	if (h->caps.contiguous) {
		struct heap_req r =
			req_of(h, h->caps.contig_max < (4 << 20) ? h->caps.contig_max : 4 << 20);
		struct heap_buf b;

		r.contiguous = true;
		alloc_ok(h, &r, &b);
		cr_expect(b.contiguous, "%s: a contiguous request gave scattered memory", h->name);
		heap_free(h, &b);
	}
}

HEAP_TEST(fds_follow_the_dmabuf_contract)
{
	struct heap_req r = req_of(h, 2 * PAGE);
	struct heap_buf b;

	alloc_ok(h, &r, &b);
	if (h->caps.dmabuf)
		cr_expect_geq(b.dmabuf_fd, 0, "%s: caps.dmabuf but no dma-buf", h->name);
	else
		cr_expect_eq(b.dmabuf_fd, -1, "%s: a dma-buf the caps do not list", h->name);
	cr_expect(b.fd >= 0 || b.map, "%s: neither an fd nor a mapping of the memory", h->name);
	if (b.fd >= 0) {
		struct stat st;

		cr_expect(cloexec(b.fd), "%s: fd without FD_CLOEXEC", h->name);
		cr_assert_eq(fstat(b.fd, &st), 0);
		cr_expect_eq((uint64_t)st.st_size, b.size, "%s: fd of %lld bytes, buffer of %llu",
			     h->name, (long long)st.st_size, (unsigned long long)b.size);
		/* a memfd: the size is fixed by seals, which it must take */
		cr_expect_geq(fcntl(b.fd, F_GET_SEALS), 0, "%s: fd is not a memfd: %s", h->name,
			      strerror(errno));
	}
	if (b.dmabuf_fd >= 0) {
		cr_expect(cloexec(b.dmabuf_fd), "%s: dma-buf without FD_CLOEXEC", h->name);
		cr_expect_eq(fcntl(b.dmabuf_fd, F_GETFL) & O_ACCMODE, O_RDWR,
			     "%s: dma-buf not read-write", h->name);
		/* a dma-buf's size is what SEEK_END gives */
		cr_expect_eq((uint64_t)lseek(b.dmabuf_fd, 0, SEEK_END), b.size,
			     "%s: dma-buf size differs from the buffer's", h->name);
	}
	heap_free(h, &b);
}

HEAP_TEST(reopen_gives_the_access_asked_and_read_only_grants_no_write)
{
	struct heap_req r = req_of(h, PAGE);
	struct heap_buf b;
	bool dmabuf;
	int fd;

	alloc_ok(h, &r, &b);
	fd = heap_reopen(&b, O_RDWR, &dmabuf);
	cr_assert_geq(fd, 0, "%s: heap_reopen(O_RDWR) = %d", h->name, fd);
	cr_expect_eq(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	cr_expect(cloexec(fd));
	cr_expect_eq(dmabuf, b.dmabuf_fd >= 0, "%s: O_RDWR reopen: dmabuf %d", h->name, dmabuf);
	close(fd);

	fd = heap_reopen(&b, O_RDONLY, &dmabuf);
	if (fd == -EACCES) {
		/* allowed only where the only file of the memory is a read-write dma-buf */
		cr_expect(b.dmabuf_fd >= 0 && (b.fd < 0 || b.map),
			  "%s: O_RDONLY reopen refused with a memfd to reopen", h->name);
	} else {
		cr_assert_geq(fd, 0, "%s: heap_reopen(O_RDONLY) = %d", h->name, fd);
		cr_expect_eq(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
		cr_expect_eq(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
			     MAP_FAILED, "%s: a read-only reopen maps writable", h->name);
		cr_expect_eq(write(fd, "x", 1), -1, "%s: a read-only reopen writes", h->name);
		close(fd);
	}
	heap_free(h, &b);
}

HEAP_TEST(memory_maps_read_write_and_every_view_sees_the_same_bytes)
{
	struct heap_req r = req_of(h, 5 * PAGE);
	unsigned char *views[3];
	unsigned nviews = 0;
	struct heap_buf b;

	alloc_ok(h, &r, &b);
	if (b.map)
		views[nviews++] = b.map;
	if (b.fd >= 0)
		views[nviews++] = map_fd(b.fd, b.size);
	if (b.dmabuf_fd >= 0)
		views[nviews++] = map_fd(b.dmabuf_fd, b.size);
	cr_assert_geq(nviews, 1, "%s: no view of the memory", h->name);
	for (unsigned w = 0; w < nviews; w++) {
		sync_ok(h, &b, DMA_BUF_SYNC_START | SYNC_RW);
		fill(views[w], b.size, w + 1);
		sync_ok(h, &b, DMA_BUF_SYNC_END | SYNC_RW);
		sync_ok(h, &b, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
		for (unsigned v = 0; v < nviews; v++) {
			char what[128];

			snprintf(what, sizeof(what), "%s: view %u after writes through view %u",
				 h->name, v, w);
			expect_filled(what, views[v], b.size, w + 1);
		}
		sync_ok(h, &b, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	}
	if (b.fd >= 0 && !b.map) {
		unsigned char page[PAGE];

		/* a memfd serves pread too (the daemon's path) */
		cr_assert_eq(pread(b.fd, page, sizeof(page), PAGE), (ssize_t)sizeof(page));
		for (size_t i = 0; i < sizeof(page); i++)
			cr_assert_eq(page[i], (unsigned char)((i + PAGE) * 31 + nviews));
	}
	for (unsigned v = 0; v < nviews; v++)
		if (views[v] != b.map)
			munmap(views[v], b.size);
	heap_free(h, &b);
}

HEAP_TEST(resize_changes_an_unsealed_buffer_and_a_sealed_one_is_eperm)
{
	struct heap_req r = req_of(h, 0);
	struct heap_buf b;
	struct stat st;
	int ret;

	if (!h->caps.growable) {
		ret = heap_alloc(h, &r, &b);
		cr_expect_eq(ret, -EINVAL, "%s: empty buffer of a fixed-size heap: %d", h->name,
			     ret);
		r.size = PAGE;
		alloc_ok(h, &r, &b);
		ret = heap_resize(h, &b, 2 * PAGE);
		cr_expect(ret == -EPERM || ret == -EOPNOTSUPP, "%s: resize = %d", h->name, ret);
		cr_expect_eq(b.size, PAGE);
		heap_free(h, &b);
		return;
	}
	alloc_ok(h, &r, &b);
	cr_expect_eq(b.size, 0);
	cr_expect_not(b.sealed);
	ret = heap_resize(h, &b, 3 * PAGE);
	cr_assert_eq(ret, 0, "%s: resize to 3 pages = %d", h->name, ret);
	cr_expect_eq(b.size, 3 * PAGE);
	cr_assert_geq(b.fd, 0, "%s: an unsealed buffer with no fd", h->name);
	cr_assert_eq(fstat(b.fd, &st), 0);
	cr_expect_eq((uint64_t)st.st_size, 3 * PAGE);
	cr_assert_eq(pwrite(b.fd, "umm", 3, PAGE), 3);
	ret = heap_resize(h, &b, 2 * PAGE);
	cr_assert_eq(ret, 0, "%s: resize to 2 pages = %d", h->name, ret);
	cr_expect_eq(b.size, 2 * PAGE);
	if (h->caps.max_size) {
		ret = heap_resize(h, &b, h->caps.max_size + PAGE);
		cr_expect_eq(ret, -ENOSPC, "%s: resize above max_size = %d", h->name, ret);
		cr_expect_eq(b.size, 2 * PAGE);
	}
	ret = heap_seal(h, &b);
	cr_assert_eq(ret, 0, "%s: seal = %d", h->name, ret);
	if (h->caps.dmabuf)
		cr_expect_geq(b.dmabuf_fd, 0, "%s: sealed with no dma-buf", h->name);
	ret = heap_resize(h, &b, 4 * PAGE);
	cr_expect_eq(ret, -EPERM, "%s: resize of a sealed buffer = %d", h->name, ret);
	cr_expect_eq(b.size, 2 * PAGE);
	heap_free(h, &b);
}

HEAP_TEST(seal_fixes_the_size_of_every_fd_and_keeps_the_data)
{
	struct heap_req r = req_of(h, 2 * PAGE);
	struct heap_buf b;
	unsigned char *p;
	int ret;

	alloc_ok(h, &r, &b);
	p = b.map ? b.map : map_fd(b.fd >= 0 ? b.fd : b.dmabuf_fd, b.size);
	sync_ok(h, &b, DMA_BUF_SYNC_START | SYNC_RW);
	fill(p, b.size, 7);
	sync_ok(h, &b, DMA_BUF_SYNC_END | SYNC_RW);
	ret = heap_seal(h, &b);
	cr_assert_eq(ret, 0, "%s: seal = %d", h->name, ret);
	cr_expect(b.sealed);
	cr_expect_eq(heap_seal(h, &b), 0, "%s: a second seal", h->name);
	cr_expect_eq(heap_resize(h, &b, 3 * PAGE), -EPERM);
	if (b.fd >= 0) {
		int seals = fcntl(b.fd, F_GET_SEALS);

		cr_expect_eq(seals & (F_SEAL_GROW | F_SEAL_SHRINK), F_SEAL_GROW | F_SEAL_SHRINK,
			     "%s: seals %#x", h->name, seals);
		cr_expect_eq(ftruncate(b.fd, (off_t)(3 * PAGE)), -1);
		cr_expect_eq(errno, EPERM, "%s: ftruncate of a sealed memfd: %s", h->name,
			     strerror(errno));
	}
	sync_ok(h, &b, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	expect_filled("after seal", p, b.size, 7);
	sync_ok(h, &b, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	if (p != b.map)
		munmap(p, b.size);
	heap_free(h, &b);
}

HEAP_TEST(adopt_keeps_a_filled_staging_memfd_or_is_eopnotsupp_and_leaves_it)
{
	struct heap *st = heap_staging();
	struct heap_req sr = { .align = PAGE };
	struct heap_req r;
	unsigned char data[10000];
	unsigned char *p;
	struct heap_buf b;
	int fd, ret;

	alloc_ok(st, &sr, &b);
	fill(data, sizeof(data), 3);
	cr_assert_eq(pwrite(b.fd, data, sizeof(data), 0), (ssize_t)sizeof(data));
	b.size = sizeof(data); /* as the store keeps it: the bytes written */
	r = req_of(h, heap_page_round(sizeof(data)));

	if (!h->caps.contiguous) {
		struct heap_req bad = r;

		bad.contiguous = true;
		ret = heap_adopt(h, &bad, &b);
		cr_expect_eq(ret, -EOPNOTSUPP, "%s: adopt of a contiguous request = %d", h->name,
			     ret);
		cr_expect_not(b.sealed);
	}
	fd = b.fd;
	ret = heap_adopt(h, &r, &b);
	if (!h->ops->adopt)
		cr_expect_eq(ret, -EOPNOTSUPP, "%s: adopt without the op = %d", h->name, ret);
	if (ret == -EOPNOTSUPP) {
		cr_log_info("%s: adopt: -EOPNOTSUPP (the core allocates and copies)", h->name);
		cr_expect_eq(b.fd, fd);
		cr_expect_not(b.sealed, "%s: a refused adopt sealed the memfd", h->name);
		cr_expect_eq(b.dmabuf_fd, -1);
		cr_expect_eq(ftruncate(b.fd, 3 * PAGE), 0, "%s: a refused adopt fixed the size",
			     h->name);
		heap_free(st, &b);
		return;
	}
	cr_assert_eq(ret, 0, "%s: adopt = %d", h->name, ret);
	cr_expect(b.sealed, "%s: an adopted buffer is not sealed", h->name);
	cr_expect_geq(b.size, sizeof(data));
	if (h->caps.dmabuf)
		cr_expect_geq(b.dmabuf_fd, 0, "%s: adopted with no dma-buf", h->name);
	p = map_fd(b.dmabuf_fd >= 0 ? b.dmabuf_fd : b.fd, b.size);
	sync_ok(h, &b, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	expect_filled("adopted", p, sizeof(data), 3);
	for (uint64_t i = sizeof(data); i < b.size; i++)
		cr_assert_eq(p[i], 0, "%s: byte %llu past the data", h->name,
			     (unsigned long long)i);
	sync_ok(h, &b, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	munmap(p, b.size);
	heap_free(h, &b);
}

HEAP_TEST(free_closes_every_fd_and_mapping_and_may_be_repeated)
{
	struct heap_req r = req_of(h, 4 * PAGE);
	unsigned before = open_fds();
	unsigned char vec[4];
	struct heap_buf b;
	void *map;

	alloc_ok(h, &r, &b);
	cr_expect_gt(open_fds(), before, "%s: a buffer with no fd", h->name);
	map = b.map;
	heap_free(h, &b);
	if (map)
		cr_expect_eq(mincore(map, 4 * PAGE, vec), -1, "%s: the mapping outlives the free",
			     h->name);
	cr_expect_eq(open_fds(), before, "%s: fds left open by the free", h->name);
	cr_expect_eq(b.fd, -1);
	cr_expect_eq(b.dmabuf_fd, -1);
	cr_expect_null(b.map);
	heap_free(h, &b);
	cr_expect_eq(open_fds(), before);
}

/* heap_alloc() of @r must fail with @want and leave the output untouched */
static void expect_refused(struct heap *h, const struct heap_req *r, int want, const char *why)
{
	struct heap_buf b, canary;
	int ret;

	memset(&b, 0xa5, sizeof(b));
	memcpy(&canary, &b, sizeof(b));
	ret = heap_alloc(h, r, &b);
	if (!ret)
		heap_free(h, &b);
	cr_expect_eq(ret, want, "%s: %s: %d (%s), want %d", h->name, why, ret, strerror(-ret),
		     want);
	cr_expect(!memcmp(&b, &canary, sizeof(b)), "%s: %s: the output was written", h->name, why);
}

HEAP_TEST(bad_requests_get_the_core_errno_and_leave_the_output_untouched)
{
	struct heap_req r;

	r = req_of(h, PAGE + 1);
	expect_refused(h, &r, -EINVAL, "a size that is not whole pages");
	r = req_of(h, PAGE);
	r.align = 0;
	expect_refused(h, &r, -EINVAL, "alignment 0");
	r.align = 3 * PAGE;
	expect_refused(h, &r, -EINVAL, "alignment not a power of two");
	r.align = PAGE / 2;
	expect_refused(h, &r, -EINVAL, "alignment below a page");
	r = req_of(h, PAGE);
	r.cache = UMM_CACHE_NR;
	expect_refused(h, &r, -EINVAL, "a cache mode out of range");
	if (!h->caps.growable) {
		r = req_of(h, 0);
		expect_refused(h, &r, -EINVAL, "size 0 on a fixed-size heap");
	}
	if (h->caps.max_size) {
		r = req_of(h, h->caps.max_size + PAGE);
		expect_refused(h, &r, -ENOSPC, "a size above max_size");
	}
	if (h->caps.align < (1ULL << 62)) {
		r = req_of(h, PAGE);
		r.align = h->caps.align * 2;
		expect_refused(h, &r, -EOPNOTSUPP, "an alignment above the heap's");
	}
	r = req_of(h, PAGE);
	r.contiguous = true;
	if (!h->caps.contiguous) {
		expect_refused(h, &r, -EOPNOTSUPP, "contiguity the heap lacks");
	} else if (!h->caps.max_size || h->caps.contig_max + PAGE <= h->caps.max_size) {
		r.size = h->caps.contig_max + PAGE;
		expect_refused(h, &r, -EOPNOTSUPP, "contiguity above contig_max");
	}
	for (int m = 0; m < UMM_CACHE_NR; m++) {
		if (h->caps.cache_modes & (1u << m))
			continue;
		r = req_of(h, PAGE);
		r.cache = (enum heap_cache)m;
		expect_refused(h, &r, -EOPNOTSUPP, heap_cache_name(r.cache));
	}
}

HEAP_TEST(describe_names_the_heap_and_its_caps)
{
	char line[256], want[UMM_HEAP_NAME_MAX + 32];
	int len = heap_describe(h, NULL, 0);

	cr_assert_gt(len, 0);
	cr_assert_lt((size_t)len, sizeof(line));
	cr_assert_eq(heap_describe(h, line, sizeof(line)), len);
	cr_expect_eq(strlen(line), (size_t)len);
	snprintf(want, sizeof(want), "%s dmabuf=%s ", h->name, h->caps.dmabuf ? "yes" : "no");
	cr_expect_eq(strncmp(line, want, strlen(want)), 0, "%s: \"%s\"", h->name, line);
	for (int m = 0; m < UMM_CACHE_NR; m++)
		if (h->caps.cache_modes & (1u << m))
			cr_expect_not_null(strstr(line, heap_cache_name((enum heap_cache)m)),
					   "%s: \"%s\" lacks %s", h->name, line,
					   heap_cache_name((enum heap_cache)m));
	snprintf(want, sizeof(want), " align=");
	heap_format_size(h->caps.align, want + strlen(want), sizeof(want) - strlen(want));
	cr_expect_not_null(strstr(line, want), "%s: \"%s\" lacks \"%s\"", h->name, line, want);
}

/* ------------------------------------------------------------------------ */
/* registry                                                                 */
/* ------------------------------------------------------------------------ */

TestSuite(registry, .fini = heaps_down);

Test(registry, every_heap_has_a_valid_unique_name_of_its_kind_ops_and_caps_and_memfd_is_last)
{
	int ret = heap_discover(g_heaps, HEAP_MAX, &g_nheaps);

	cr_assert_eq(ret, 0, "heap_discover: %d", ret);
	cr_assert_geq(g_nheaps, 1);
	cr_expect_str_eq(g_heaps[g_nheaps - 1].name, "memfd");
	for (unsigned i = 0; i < g_nheaps; i++) {
		const struct heap *h = &g_heaps[i];
		const struct heap_caps *c = &h->caps;
		unsigned kinds_of = 0;

		cr_expect(heap_name_valid(h->name, strlen(h->name)), "bad name \"%s\"", h->name);
		for (size_t b = 0; b < ARRAY_SIZE(backends); b++)
			kinds_of += of_kind(h, backends[b]->name);
		cr_expect_eq(kinds_of, 1, "%s: of %u kinds", h->name, kinds_of);
		for (unsigned j = 0; j < i; j++)
			cr_expect_str_neq(h->name, g_heaps[j].name);
		cr_assert_not_null(h->ops, "%s: no ops", h->name);
		cr_expect(h->ops->alloc && h->ops->seal && h->ops->free,
			  "%s: a required op is NULL", h->name);
		cr_expect_eq(!!h->ops->resize, c->growable, "%s: resize op vs growable", h->name);
		cr_expect(c->align >= PAGE && !(c->align & (c->align - 1)), "%s: align %llu",
			  h->name, (unsigned long long)c->align);
		cr_expect(c->cache_modes && c->cache_modes < (1u << UMM_CACHE_NR),
			  "%s: cache modes %#x", h->name, c->cache_modes);
		cr_expect(c->contiguous ? c->contig_max >= PAGE : !c->contig_max,
			  "%s: contiguous %d, contig_max %llu", h->name, c->contiguous,
			  (unsigned long long)c->contig_max);
	}
}

Test(registry, the_heaps_come_in_the_order_of_the_backends)
{
	size_t b = 0;
	int ret = heap_discover(g_heaps, HEAP_MAX, &g_nheaps);

	cr_assert_eq(ret, 0);
	for (unsigned i = 0; i < g_nheaps; i++) {
		while (b < ARRAY_SIZE(backends) && !of_kind(&g_heaps[i], backends[b]->name))
			b++;
		cr_expect_lt(b, ARRAY_SIZE(backends), "%s out of the registry's order",
			     g_heaps[i].name);
	}
}

Test(registry, room_for_one_heap_gives_the_required_memfd)
{
	int ret = heap_discover(g_heaps, 1, &g_nheaps);

	cr_assert_eq(ret, 0, "heap_discover: %d", ret);
	cr_assert_eq(g_nheaps, 1);
	cr_expect_str_eq(g_heaps[0].name, "memfd");
}

Test(registry, no_room_is_enospc)
{
	unsigned n = 7;

	cr_expect_eq(heap_discover(g_heaps, 0, &n), -ENOSPC);
	cr_expect_eq(n, 0);
}

Test(registry, release_closes_what_discover_opened)
{
	unsigned before = open_fds();

	for (int round = 0; round < 3; round++) {
		cr_assert_eq(heap_discover(g_heaps, HEAP_MAX, &g_nheaps), 0);
		heap_release_all(g_heaps, g_nheaps);
		g_nheaps = 0;
		cr_expect_eq(open_fds(), before, "round %d: fds left open", round);
	}
}

Test(registry, staging_is_a_growable_memfd_heap_outside_the_registry)
{
	struct heap *st = heap_staging();
	struct heap_req r = { .align = PAGE };
	struct heap_buf b;

	cr_assert_eq(heap_discover(g_heaps, HEAP_MAX, &g_nheaps), 0);
	cr_expect_str_eq(st->name, "staging");
	cr_expect(st->caps.growable);
	cr_expect_not(st->caps.dmabuf);
	for (unsigned i = 0; i < g_nheaps; i++)
		cr_expect_neq(&g_heaps[i], st);
	cr_expect_eq(heap_staging(), st, "one staging heap");
	alloc_ok(st, &r, &b);
	cr_expect_geq(fcntl(b.fd, F_GET_SEALS), 0);
	cr_expect_eq(heap_resize(st, &b, 2 * PAGE), 0);
	heap_free(st, &b);
}

/* ------------------------------------------------------------------------ */
/* device                                                                   */
/* ------------------------------------------------------------------------ */

Test(device, a_missing_path_is_enoent_with_a_reason)
{
	char why[256] = "";

	cr_expect_eq(heap_device_check("/nonexistent/umm-dev", why, sizeof(why)), -ENOENT);
	cr_expect_not_null(strstr(why, "/nonexistent/umm-dev"), "why: \"%s\"", why);
}

Test(device, a_device_that_is_not_drm_is_eopnotsupp_for_check_and_import)
{
	char why[256] = "";

	cr_expect_eq(heap_device_check("/dev/null", why, sizeof(why)), -EOPNOTSUPP);
	cr_expect_not_null(strstr(why, "only DRM devices"), "why: \"%s\"", why);
	why[0] = '\0';
	cr_expect_eq(heap_device_import("/dev/null", 0, why, sizeof(why)), -EOPNOTSUPP);
	cr_expect_neq(why[0], '\0');
}
