// SPDX-License-Identifier: MIT
/*
 * test_heaps.c - one conformance suite, run against every heap the mount
 * lists in its root's user.umm.heaps (SPEC 3-6), the way the kernel's dma-buf
 * heap selftest runs one suite against every heap.
 *
 * For each heap NAME a directory with user.umm.heap=NAME (and a cache mode
 * the heap offers) holds the checks' buffers:
 *  - sizes 4K, 64K, 1M, 16M and 5000 (rounded up to 8K) are allocated there,
 *    land on NAME, and keep what is written;
 *  - bytes written through one path (write(2) on the FUSE fd, a mapping of
 *    the FUSE fd, a mapping of umm_open()'s fd) are read back through the
 *    others; the FUSE fd maps in every mode but one: with passthrough, a
 *    buffer with a memfd (user.umm.memfd not empty) maps its own pages, one
 *    without (dma-heap, DRM) gives ENODEV; without passthrough every buffer
 *    maps the mount's page cache, which reaches the memory when written back
 *    (msync);
 *  - alignment, contiguity and cache requests the heap cannot meet get
 *    EOPNOTSUPP at create, a size over its max_size ENOSPC (exactly max_size
 *    works where it is small enough to allocate here);
 *  - user.umm.sync round trips, umm_sync() on the exported fd;
 *  - dma-buf heaps: the exported fd's fdinfo names the buffer "umm:<path>",
 *    user.umm.dmabuf is its inode, user.umm.exports goes 1 then 0; memfd:
 *    user.umm.dmabuf is empty and user.umm.exports counts exports;
 *  - umm_open(O_RDONLY) grants no write access (a read-only fd, or EACCES
 *    on a heap whose dma-bufs are read-write only);
 *  - a buffer filled by write() with no size is placed on NAME at its first
 *    export (not by reading it), and keeps the exact size its writes reached
 *    (100000 bytes);
 *  - an unlinked buffer keeps its data while an exported fd holds it;
 *  - the heap's directory holds no bytes after the checks.
 *
 * On a machine with no dma-buf exporter only memfd is listed, and the suite
 * is one of the host's integration tests; tests/vm/inside runs it in the VM,
 * where udmabuf, dma-heap:system and drm:card0 are there too.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/mman.h>

#include <umm.h>

#include "itest.h"
#include "vmtest.h"

#define PAGE 4096UL
#define MAX_HEAPS 32
/* The largest max_size whose buffer this suite allocates to prove it works. */
#define MAX_SIZE_PROBE (128UL << 20)

/**
 * struct heap_line - one line of user.umm.heaps
 * @name:       the heap's name
 * @dmabuf:     it makes dma-bufs
 * @contig_max: largest contiguous buffer, 0 for "contiguous=no"
 * @cache:      its cache modes, as listed ("cached,writecombine")
 * @max_size:   largest buffer, 0 for "max_size=none"
 */
struct heap_line {
	char name[64];
	int dmabuf;
	unsigned long long contig_max;
	char cache[64];
	unsigned long long max_size;
};

static struct heap_line heaps[MAX_HEAPS];
static int nheaps;
/* The heap under test, and its directory in the mount. */
static const struct heap_line *cur;
static char cur_dir[1024];

static const char *const cache_modes[] = { "cached", "uncached", "writecombine" };

/* Does the heap under test offer cache mode @mode? */
static int heap_has_cache(const char *mode)
{
	char list[80];

	snprintf(list, sizeof(list), ",%s,", cur->cache);
	for (char *p = strstr(list, mode); p; p = strstr(p + 1, mode))
		if (p[-1] == ',' && p[strlen(mode)] == ',')
			return 1;
	return 0;
}

/* Parse one "NAME key=value ..." line into @h. Return 0, or -1 if malformed. */
static int parse_heap_line(char *line, struct heap_line *h)
{
	char *save = NULL, *tok;
	int seen = 0;

	memset(h, 0, sizeof(*h));
	tok = strtok_r(line, " ", &save);
	if (!tok || strlen(tok) >= sizeof(h->name))
		return -1;
	strcpy(h->name, tok);
	while ((tok = strtok_r(NULL, " ", &save))) {
		char *eq = strchr(tok, '=');
		long long v;

		if (!eq)
			return -1;
		*eq++ = '\0';
		if (!strcmp(tok, "dmabuf")) {
			h->dmabuf = !strcmp(eq, "yes");
			seen |= 1;
		} else if (!strcmp(tok, "contiguous")) {
			v = strcmp(eq, "no") ? parse_size_text(eq) : 0;
			if (v < 0)
				return -1;
			h->contig_max = (unsigned long long)v;
			seen |= 2;
		} else if (!strcmp(tok, "cache")) {
			snprintf(h->cache, sizeof(h->cache), "%s", eq);
			seen |= 4;
		} else if (!strcmp(tok, "max_size")) {
			v = strcmp(eq, "none") ? parse_size_text(eq) : 0;
			if (v < 0)
				return -1;
			h->max_size = (unsigned long long)v;
			seen |= 8;
		}
	}
	return seen == 15 ? 0 : -1;
}

/* Read the mount's user.umm.heaps into heaps[]. Return 0 or -1 (message printed). */
static int read_heaps(void)
{
	static char text[65536];
	char *save = NULL, *line;
	ssize_t n;

	n = getxattr(umm_mnt(), "user.umm.heaps", text, sizeof(text) - 1);
	if (n < 0) {
		fprintf(stderr, "getxattr user.umm.heaps of %s: %s\n", umm_mnt(), strerror(errno));
		return -1;
	}
	text[n] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char copy[512];

		snprintf(copy, sizeof(copy), "%s", line);
		if (nheaps == MAX_HEAPS || parse_heap_line(copy, &heaps[nheaps])) {
			fprintf(stderr, "user.umm.heaps: cannot use the line '%s'\n", line);
			return -1;
		}
		printf("heap %s: dmabuf=%s contiguous=%llu cache=%s max_size=%llu\n",
		       heaps[nheaps].name, heaps[nheaps].dmabuf ? "yes" : "no",
		       heaps[nheaps].contig_max, heaps[nheaps].cache, heaps[nheaps].max_size);
		nheaps++;
	}
	if (!nheaps) {
		fprintf(stderr, "user.umm.heaps lists no heap\n");
		return -1;
	}
	return 0;
}

/* Path @name under the heap's directory into @buf. */
static const char *hpath(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", cur_dir, name);
	return buf;
}

/* Make subdirectory @name of the heap's directory, with user.umm.size @size if not NULL. */
static int subdir(char *buf, size_t len, const char *name, const char *size)
{
	hpath(buf, len, name);
	if (mkdir(buf, 0755))
		return -1;
	if (size && xset(buf, "user.umm.size", size))
		return -1;
	return 0;
}

/* Does the buffer @path have a memfd (so that passthrough can serve it)? */
static int has_memfd(const char *path)
{
	char v[128];

	return xget(path, "user.umm.memfd", v, sizeof(v)) > 0;
}

/* Is the daemon serving the FUSE fds with passthrough (a build and a mode with it)? */
static int passthrough_on(void)
{
	return mode_is_passthrough() && build_has_passthrough();
}

/*
 * Is an mmap of the FUSE fd of @path expected to work? Where the buffer has
 * a memfd: with passthrough its pages are the mapping, without the mount's
 * page cache is. A buffer without one is served with direct I/O: ENODEV.
 */
static int expect_fuse_mmap(const char *path)
{
	return has_memfd(path);
}

/* Is a mapping of the FUSE fd of @path the buffer's own memory (zero copy)? */
static int expect_fuse_zero_copy(const char *path)
{
	return passthrough_on() && has_memfd(path);
}

/* Check that user.umm.heap of @path names the heap under test. */
static int heap_is_cur(const char *path)
{
	char v[128];

	EXPECT(xget(path, "user.umm.heap", v, sizeof(v)) >= 0, "getxattr user.umm.heap of %s: %s",
	       path, strerror(errno));
	EXPECT(!strcmp(v, cur->name), "user.umm.heap of %s is '%s', expected '%s'", path, v,
	       cur->name);
	return PASS;
}

/* Wait (up to 2 s, scaled) until xattr @name of @path reads @want; return the last value in @got. */
static int wait_xattr(const char *path, const char *name, const char *want, char *got, size_t len)
{
	unsigned n = 40 * itest_time_scale();

	for (unsigned i = 0; i < n; i++) {
		if (xget(path, name, got, len) >= 0 && !strcmp(got, want))
			return 0;
		usleep(50000);
	}
	return -1;
}

/*
 * The name umm gives the dma-buf of the buffer at @rel (its path in the
 * mount): "umm:<path>", or where that is over the kernel's 31 bytes,
 * "umm:..." and the path's last 24 bytes.
 */
static void dmabuf_name_of(const char *rel, char *out, size_t len)
{
	size_t l = strlen(rel);

	if (l + 4 < 32)
		snprintf(out, len, "umm:%s", rel);
	else
		snprintf(out, len, "umm:...%s", rel + l - 24);
}

/* A sized buffer @path of @len bytes holding pattern @seed, written with write(2). */
static int create_filled(const char *path, size_t len, unsigned seed)
{
	char *buf = malloc(len);
	int fd, ret = -1;

	if (!buf)
		return -1;
	fill_pattern(buf, len, seed);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		ret = pwrite_all(fd, buf, len, 0);
		if (close(fd))
			ret = -1;
	}
	free(buf);
	return ret;
}

/* --- the checks: each runs with cur and cur_dir set --- */

/*
 * Each size lands on the heap, is st_size bytes rounded up to the page, and
 * keeps a pattern written and read back with write(2)/read(2).
 */
static int test_sizes_allocate_on_the_heap_and_keep_data(void)
{
	static const struct {
		const char *text;
		size_t bytes;
	} sizes[] = {
		{ "4K", 4096 },	     { "64K", 65536 }, { "1M", 1 << 20 },
		{ "16M", 16 << 20 }, { "5000", 8192 },
	};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char dir[2048], path[4200], name[32], v[16];
		size_t len = sizes[i].bytes;
		struct stat st;
		char *buf;
		int fd;

		if (cur->max_size && len > cur->max_size)
			continue;
		snprintf(name, sizeof(name), "size-%s", sizes[i].text);
		EXPECT_OK(subdir(dir, sizeof(dir), name, sizes[i].text));
		snprintf(path, sizeof(path), "%s/buf", dir);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		EXPECT(fd >= 0, "create %s in a dir of size %s: %s", path, sizes[i].text,
		       strerror(errno));
		EXPECT_OK(fstat(fd, &st));
		EXPECT((size_t)st.st_size == len, "user.umm.size %s: st_size %lld, expected %zu",
		       sizes[i].text, (long long)st.st_size, len);
		if (heap_is_cur(path) != PASS)
			return FAIL;
		if (!cur->contig_max) {
			EXPECT(xget(path, "user.umm.contiguous", v, sizeof(v)) >= 0 &&
				       !strcmp(v, "0"),
			       "user.umm.contiguous of a buffer of a heap without contiguous "
			       "memory is '%s'",
			       v);
		}
		buf = malloc(len);
		EXPECT(buf, "malloc");
		fill_pattern(buf, len, (unsigned)i + 1);
		EXPECT_OK(pwrite_all(fd, buf, len, 0));
		memset(buf, 0, len);
		EXPECT_OK(pread_all(fd, buf, len, 0));
		EXPECT(check_pattern(buf, len, (unsigned)i + 1) < 0,
		       "size %s: byte %ld read back differs from what was written", sizes[i].text,
		       check_pattern(buf, len, (unsigned)i + 1));
		free(buf);
		close(fd);
		EXPECT_OK(unlink(path));
	}
	return PASS;
}

/*
 * Bytes written through any path are read back through every other: write(2)
 * on the FUSE fd, a mapping of the FUSE fd (in every mode, but ENODEV with
 * passthrough for a buffer without a memfd), a mapping of umm_open()'s fd.
 * A mapping of the mount's page cache (no passthrough) reaches the memory
 * when written back: msync(MS_SYNC).
 */
static int test_content_is_the_same_through_every_path(void)
{
	const size_t len = 1 << 20;
	char dir[2048], path[4200];
	unsigned char *buf, *x, *f;
	int fd, xfd;

	EXPECT_OK(subdir(dir, sizeof(dir), "paths", "1M"));
	snprintf(path, sizeof(path), "%s/buf", dir);
	buf = malloc(len);
	EXPECT(buf, "malloc");

	/* 1: write(2) on the FUSE fd, read through the mapping of umm_open()'s fd */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	EXPECT(fd >= 0, "create %s: %s", path, strerror(errno));
	fill_pattern(buf, len, 11);
	EXPECT_OK(pwrite_all(fd, buf, len, 0));
	xfd = umm_open(path, O_RDWR);
	EXPECT(xfd >= 0, "umm_open %s: %s", path, strerror(errno));
	x = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, xfd, 0);
	EXPECT(x != MAP_FAILED, "mmap of umm_open()'s fd: %s", strerror(errno));
	EXPECT(check_pattern(x, len, 11) < 0,
	       "byte %ld of umm_open()'s mapping differs from what write(2) wrote",
	       check_pattern(x, len, 11));

	/* 2: the mapping of umm_open()'s fd, read with read(2) on the FUSE fd */
	fill_pattern(x, len, 12);
	EXPECT_OK(pread_all(fd, buf, len, 0));
	EXPECT(check_pattern(buf, len, 12) < 0,
	       "byte %ld read(2) from the FUSE fd differs from what umm_open()'s mapping wrote",
	       check_pattern(buf, len, 12));

	/* 3: the mapping of the FUSE fd, where there is one */
	f = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!expect_fuse_mmap(path)) {
		EXPECT(f == MAP_FAILED && errno == ENODEV,
		       "mmap of the FUSE fd (mode %s, heap %s, no memfd): %s, expected ENODEV",
		       mode_is_passthrough() ? "passthrough" : "nopassthrough", cur->name,
		       f == MAP_FAILED ? strerror(errno) : "ok");
		note("mmap of the FUSE fd: ENODEV, as expected on %s (direct I/O)", cur->name);
	} else {
		EXPECT(f != MAP_FAILED, "mmap of the FUSE fd (mode %s, heap %s, %s memfd): %s",
		       mode_is_passthrough() ? "passthrough" : "nopassthrough", cur->name,
		       has_memfd(path) ? "with a" : "no", strerror(errno));
		EXPECT(check_pattern(f, len, 12) < 0,
		       "byte %ld of the FUSE fd's mapping differs from what umm_open()'s "
		       "mapping wrote",
		       check_pattern(f, len, 12));
		fill_pattern(f, len, 13);
		if (!expect_fuse_zero_copy(path)) {
			/* the page cache: written back to the buffer's memory on msync */
			EXPECT_OK(msync(f, len, MS_SYNC));
			note("mmap of the FUSE fd: the page cache, written back by msync (%s)",
			     cur->name);
		}
		EXPECT(check_pattern(x, len, 13) < 0,
		       "byte %ld of umm_open()'s mapping differs from what the FUSE mapping wrote",
		       check_pattern(x, len, 13));
		EXPECT_OK(pread_all(fd, buf, len, 0));
		EXPECT(check_pattern(buf, len, 13) < 0,
		       "byte %ld read(2) differs from what the FUSE mapping wrote",
		       check_pattern(buf, len, 13));
		munmap(f, len);
	}

	/* 4: a second open by path sees the same bytes */
	munmap(x, len);
	close(xfd);
	close(fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	EXPECT(fd >= 0, "reopen %s: %s", path, strerror(errno));
	memset(buf, 0, len);
	EXPECT_OK(pread_all(fd, buf, len, 0));
	{
		unsigned want = expect_fuse_mmap(path) ? 13 : 12;

		EXPECT(check_pattern(buf, len, want) < 0,
		       "byte %ld read(2) after reopening differs", check_pattern(buf, len, want));
	}
	close(fd);
	free(buf);
	EXPECT_OK(unlink(path));
	return PASS;
}

/* A buffer created in @dir (sized) must fail with @err. */
static int create_fails(const char *dir, int err, const char *what)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/buf", dir);
	errno = 0;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		char v[128] = "?";

		xget(path, "user.umm.heap", v, sizeof(v));
		close(fd);
		unlink(path);
		EXPECT(0, "%s: create in a heap=%s dir succeeded (on heap %s), expected %s", what,
		       cur->name, v, strerror(err));
	}
	EXPECT(errno == err, "%s: create failed with %s, expected %s", what, strerror(errno),
	       strerror(err));
	return PASS;
}

/* Alignment, contiguity and cache modes the heap lacks: EOPNOTSUPP at create. */
static int test_unmet_properties_are_eopnotsupp_at_create(void)
{
	char dir[2048], name[64];
	int n = 0;

	/* 1G: no heap here gives that alignment */
	EXPECT_OK(subdir(dir, sizeof(dir), "align-1G", "64K"));
	EXPECT_OK(xset(dir, "user.umm.align", "1G"));
	if (create_fails(dir, EOPNOTSUPP, "user.umm.align=1G") != PASS)
		return FAIL;

	/* contiguous memory: none at all, or more than the heap can give */
	if (!cur->contig_max) {
		EXPECT_OK(subdir(dir, sizeof(dir), "contiguous", "64K"));
	} else if (cur->contig_max + PAGE <= MAX_SIZE_PROBE &&
		   (!cur->max_size || cur->contig_max + PAGE <= cur->max_size)) {
		char size[32];

		snprintf(size, sizeof(size), "%llu", cur->contig_max + PAGE);
		EXPECT_OK(subdir(dir, sizeof(dir), "contiguous", size));
	} else {
		dir[0] = '\0';
		note("%s gives contiguous memory up to %llu: not checked", cur->name,
		     cur->contig_max);
	}
	if (dir[0]) {
		EXPECT_OK(xset(dir, "user.umm.contiguous", "1"));
		if (create_fails(dir, EOPNOTSUPP, "user.umm.contiguous=1") != PASS)
			return FAIL;
	}

	/*
	 * Cache modes: a child cannot change its parent's mode, so each gets a
	 * directory of its own beside the heap's, restricted to the same heap.
	 */
	for (size_t i = 0; i < sizeof(cache_modes) / sizeof(cache_modes[0]); i++) {
		if (heap_has_cache(cache_modes[i]))
			continue;
		snprintf(dir, sizeof(dir), "%s-cache-%s", cur_dir, cache_modes[i]);
		snprintf(name, sizeof(name), "cache=%s", cache_modes[i]);
		EXPECT_OK(mkdir(dir, 0755));
		EXPECT_OK(xset(dir, "user.umm.heap", cur->name));
		EXPECT_OK(xset(dir, "user.umm.size", "64K"));
		EXPECT(!xset(dir, "user.umm.cache", cache_modes[i]),
		       "setxattr user.umm.cache=%s on an empty dir: %s", cache_modes[i],
		       strerror(errno));
		if (create_fails(dir, EOPNOTSUPP, name) != PASS)
			return FAIL;
		n++;
	}
	note("%d cache mode(s) %s lacks refused", n, cur->name);
	return PASS;
}

/* A size over max_size: ENOSPC at create and at truncate; max_size itself works. */
static int test_size_over_max_size_is_enospc(void)
{
	char dir[2048], path[4200], size[32];
	struct stat st;
	int fd;

	if (!cur->max_size) {
		note("%s lists max_size=none", cur->name);
		return SKIP;
	}
	if (cur->max_size <= MAX_SIZE_PROBE) {
		snprintf(size, sizeof(size), "%llu", cur->max_size);
		EXPECT_OK(subdir(dir, sizeof(dir), "max-size", size));
		snprintf(path, sizeof(path), "%s/buf", dir);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		EXPECT(fd >= 0, "create a buffer of exactly max_size %llu: %s", cur->max_size,
		       strerror(errno));
		EXPECT_OK(fstat(fd, &st));
		EXPECT((unsigned long long)st.st_size == cur->max_size, "st_size %lld",
		       (long long)st.st_size);
		if (heap_is_cur(path) != PASS)
			return FAIL;
		close(fd);
		EXPECT_OK(unlink(path));
	} else {
		note("max_size %llu: too large to allocate here, only the refusal is checked",
		     cur->max_size);
	}

	snprintf(size, sizeof(size), "%llu", cur->max_size + PAGE);
	EXPECT_OK(subdir(dir, sizeof(dir), "over-max-size", size));
	if (create_fails(dir, ENOSPC, "user.umm.size=max_size+4K") != PASS)
		return FAIL;

	/*
	 * An unsized buffer whose chosen size is over the limit: the resize
	 * fails, or, where the buffer stays growable on its staging memfd until
	 * its first export, its placement does; it never lands on another heap.
	 */
	if (cur->max_size <= MAX_SIZE_PROBE) {
		int xfd, err;

		EXPECT_OK(subdir(dir, sizeof(dir), "over-max-truncate", NULL));
		snprintf(path, sizeof(path), "%s/buf", dir);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		EXPECT(fd >= 0, "create an unsized buffer: %s", strerror(errno));
		if (ftruncate(fd, (off_t)(cur->max_size + PAGE)) == 0) {
			close(fd);
			note("ftruncate to max_size+4K accepted while growable; placing it must fail");
			errno = 0;
			xfd = umm_open(path, O_RDWR);
			err = errno;
			if (xfd >= 0) {
				char v[128] = "?";

				xget(path, "user.umm.heap", v, sizeof(v));
				close(xfd);
				unlink(path);
				EXPECT(0,
				       "a buffer of max_size+4K in a heap=%s dir was placed on %s",
				       cur->name, v);
			}
			EXPECT(err == ENOSPC,
			       "placing a buffer of max_size+4K: %s, expected ENOSPC",
			       strerror(err));
		} else {
			EXPECT(errno == ENOSPC, "ftruncate to max_size+4K: %s, expected ENOSPC",
			       strerror(errno));
			close(fd);
		}
		EXPECT_OK(unlink(path));
	}
	return PASS;
}

/* user.umm.sync takes each value and reads it back; umm_sync() works on the exported fd. */
static int test_sync_round_trips(void)
{
	static const char *const values[] = { "cpu", "cpu:read", "cpu:write", "device", "cpu" };
	char dir[2048], path[4200], v[64];
	int xfd;

	EXPECT_OK(subdir(dir, sizeof(dir), "sync", "64K"));
	snprintf(path, sizeof(path), "%s/buf", dir);
	EXPECT_OK(create_filled(path, 65536, 3));
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		EXPECT(!xset(path, "user.umm.sync", values[i]), "setxattr user.umm.sync=%s: %s",
		       values[i], strerror(errno));
		EXPECT(xget(path, "user.umm.sync", v, sizeof(v)) >= 0, "getxattr user.umm.sync: %s",
		       strerror(errno));
		EXPECT(!strcmp(v, values[i]), "user.umm.sync reads '%s' after setting '%s'", v,
		       values[i]);
	}
	EXPECT(xset(path, "user.umm.sync", "sideways") && errno == EINVAL,
	       "user.umm.sync=sideways: %s, expected EINVAL", strerror(errno));
	EXPECT_OK(xset(path, "user.umm.sync", "device"));

	xfd = umm_open(path, O_RDWR);
	EXPECT(xfd >= 0, "umm_open: %s", strerror(errno));
	EXPECT(umm_sync(xfd, UMM_SYNC_START | UMM_SYNC_RW) == 0, "umm_sync(START|RW): %s",
	       strerror(errno));
	EXPECT(umm_sync(xfd, UMM_SYNC_END | UMM_SYNC_RW) == 0, "umm_sync(END|RW): %s",
	       strerror(errno));
	EXPECT(umm_sync(xfd, UMM_SYNC_START | UMM_SYNC_READ) == 0, "umm_sync(START|READ): %s",
	       strerror(errno));
	EXPECT(umm_sync(xfd, UMM_SYNC_END | UMM_SYNC_READ) == 0, "umm_sync(END|READ): %s",
	       strerror(errno));
	close(xfd);
	EXPECT_OK(unlink(path));
	return PASS;
}

/*
 * dma-buf heaps: the exported fd is a dma-buf named "umm:<path in the mount>"
 * whose inode is user.umm.dmabuf, and user.umm.exports counts it while it is
 * open. memfd: no dma-buf, and exports counts every export made.
 */
static int test_export_identity_and_count(void)
{
	char dir[2048], path[4200], v[128], name[128], ino[64], want[64];
	const char *rel;
	struct stat st;
	int xfd;

	EXPECT_OK(subdir(dir, sizeof(dir), "x", "64K"));
	snprintf(path, sizeof(path), "%s/buf", dir);
	EXPECT_OK(create_filled(path, 65536, 4));
	rel = path + strlen(umm_mnt());

	if (!cur->dmabuf) {
		long before, after;

		EXPECT(xget(path, "user.umm.dmabuf", v, sizeof(v)) == 0,
		       "user.umm.dmabuf of a %s buffer is '%s', expected empty", cur->name, v);
		EXPECT(xget(path, "user.umm.exports", v, sizeof(v)) >= 0, "user.umm.exports: %s",
		       strerror(errno));
		before = atol(v);
		xfd = umm_open(path, O_RDWR);
		EXPECT(xfd >= 0, "umm_open: %s", strerror(errno));
		EXPECT(fdinfo_field(xfd, "name:", name, sizeof(name)) < 0,
		       "the exported fd of a heap without dma-buf shows a dma-buf name '%s'", name);
		close(xfd);
		EXPECT(xget(path, "user.umm.exports", v, sizeof(v)) >= 0, "user.umm.exports: %s",
		       strerror(errno));
		after = atol(v);
		EXPECT(after == before + 1, "user.umm.exports went from %ld to %ld over one export",
		       before, after);
		EXPECT_OK(unlink(path));
		return PASS;
	}

	EXPECT(wait_xattr(path, "user.umm.exports", "0", v, sizeof(v)) == 0,
	       "user.umm.exports of a buffer never exported is '%s', expected 0", v);
	xfd = umm_open(path, O_RDWR);
	EXPECT(xfd >= 0, "umm_open: %s", strerror(errno));
	EXPECT(fdinfo_field(xfd, "name:", name, sizeof(name)) == 0,
	       "fdinfo of the exported fd has no name: line (not a dma-buf?)");
	dmabuf_name_of(rel, want, sizeof(want));
	EXPECT(!strcmp(name, want), "fdinfo name of the exported dma-buf is '%s', expected '%s'",
	       name, want);
	EXPECT(fdinfo_field(xfd, "ino:", ino, sizeof(ino)) == 0, "fdinfo has no ino: line");
	EXPECT_OK(fstat(xfd, &st));
	EXPECT(xget(path, "user.umm.dmabuf", v, sizeof(v)) > 0, "user.umm.dmabuf is empty: %s",
	       strerror(errno));
	EXPECT(!strcmp(v, ino), "user.umm.dmabuf is '%s', fdinfo's ino is '%s'", v, ino);
	EXPECT(strtoull(v, NULL, 10) == (unsigned long long)st.st_ino,
	       "user.umm.dmabuf %s is not the exported fd's st_ino %llu", v,
	       (unsigned long long)st.st_ino);
	EXPECT(wait_xattr(path, "user.umm.exports", "1", v, sizeof(v)) == 0,
	       "user.umm.exports with one exported fd open is '%s', expected 1", v);
	close(xfd);
	EXPECT(wait_xattr(path, "user.umm.exports", "0", v, sizeof(v)) == 0,
	       "user.umm.exports after closing the exported fd is '%s', expected 0", v);
	EXPECT_OK(unlink(path));
	return PASS;
}

/* A long path: the dma-buf name keeps its end, as "umm:..." and the last 24 bytes. */
static int test_long_path_dmabuf_name_keeps_its_end(void)
{
	char dir[2048], path[4200], name[128], want[64];
	const char *rel;
	int xfd;

	if (!cur->dmabuf)
		return SKIP;
	EXPECT_OK(subdir(dir, sizeof(dir), "a-directory-with-a-long-name", "4K"));
	snprintf(path, sizeof(path), "%s/frame-0123456789", dir);
	EXPECT_OK(create_filled(path, 4096, 5));
	rel = path + strlen(umm_mnt());
	EXPECT(strlen(rel) > 27, "path %s is too short for this check", rel);
	xfd = umm_open(path, O_RDWR);
	EXPECT(xfd >= 0, "umm_open: %s", strerror(errno));
	EXPECT(fdinfo_field(xfd, "name:", name, sizeof(name)) == 0, "fdinfo has no name: line");
	dmabuf_name_of(rel, want, sizeof(want));
	EXPECT(!strcmp(name, want), "dma-buf name '%s', expected '%s' (path %s)", name, want, rel);
	close(xfd);
	EXPECT_OK(unlink(path));
	return PASS;
}

/*
 * A buffer filled by write() with no size keeps the size its writes reached
 * (100000 bytes, no multiple of the page) once placed on the heap by its
 * first export: a reader gets the bytes written and no more, as after a cp
 * to tmpfs.
 */
static int test_unsized_buffer_keeps_its_exact_size(void)
{
	const size_t len = 100000;
	char dir[2048], path[4200];
	unsigned char *buf;
	struct stat st;
	ssize_t n;
	int fd, xfd;

	EXPECT_OK(subdir(dir, sizeof(dir), "exact", NULL));
	snprintf(path, sizeof(path), "%s/buf", dir);
	buf = malloc(len + PAGE);
	EXPECT(buf, "malloc");
	fill_pattern(buf, len, 7);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	EXPECT(fd >= 0, "create %s: %s", path, strerror(errno));
	EXPECT_OK(pwrite_all(fd, buf, len, 0));
	EXPECT_OK(close(fd));
	xfd = umm_open(path, O_RDWR);
	EXPECT(xfd >= 0, "umm_open %s (its first export): %s", path, strerror(errno));
	close(xfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	EXPECT(fd >= 0, "open O_RDONLY %s: %s", path, strerror(errno));
	if (heap_is_cur(path) != PASS)
		return FAIL;
	EXPECT_OK(fstat(fd, &st));
	n = pread(fd, buf, len + PAGE, 0);
	close(fd);
	free(buf);
	/* gone before the verdict, so that the dir's baseline check still holds */
	EXPECT_OK(unlink(path));
	EXPECT(st.st_size == (off_t)len && n == (ssize_t)len,
	       "a buffer of %zu bytes written, placed on %s: st_size %lld, read(2) gives %zd bytes",
	       len, cur->name, (long long)st.st_size, n);
	return PASS;
}

/*
 * umm_open(O_RDONLY) never grants write access: a read-only fd that maps
 * only PROT_READ, or EACCES where the heap cannot make one (a dma-buf's
 * access mode is fixed when it is made).
 */
static int test_readonly_export_grants_no_write(void)
{
	char dir[2048], path[4200];
	unsigned char *x;
	int xfd, fl;

	EXPECT_OK(subdir(dir, sizeof(dir), "ro", "64K"));
	snprintf(path, sizeof(path), "%s/buf", dir);
	EXPECT_OK(create_filled(path, 65536, 10));
	xfd = umm_open(path, O_RDONLY);
	if (xfd < 0) {
		EXPECT(errno == EACCES, "umm_open O_RDONLY: %s, expected an fd or EACCES",
		       strerror(errno));
		EXPECT(cur->dmabuf, "umm_open O_RDONLY of a %s buffer (no dma-buf): EACCES",
		       cur->name);
		note("umm_open O_RDONLY: EACCES (%s makes read-write dma-bufs only)", cur->name);
	} else {
		fl = fcntl(xfd, F_GETFL);
		EXPECT((fl & O_ACCMODE) == O_RDONLY, "umm_open O_RDONLY gave access mode %d",
		       fl & O_ACCMODE);
		x = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, xfd, 0);
		EXPECT(x == MAP_FAILED, "a read-only export maps PROT_WRITE");
		x = mmap(NULL, 65536, PROT_READ, MAP_SHARED, xfd, 0);
		EXPECT(x != MAP_FAILED, "mmap PROT_READ of a read-only export: %s",
		       strerror(errno));
		EXPECT(check_pattern(x, 65536, 10) < 0, "byte %ld of the read-only mapping differs",
		       check_pattern(x, 65536, 10));
		munmap(x, 65536);
		close(xfd);
	}
	EXPECT_OK(unlink(path));
	return PASS;
}

/*
 * A buffer filled by write() with no size is placed on the heap at its first
 * export: reading it moves nothing (it stays in its growable memfd, no
 * dma-buf yet), the export does (a dma-buf heap's buffer gets its dma-buf).
 */
static int test_unsized_buffer_is_placed_on_the_heap(void)
{
	const size_t len = 100000;
	char dir[2048], path[4200], v[64];
	unsigned char *buf, *x;
	struct stat st;
	int fd, xfd;

	EXPECT_OK(subdir(dir, sizeof(dir), "unsized", NULL));
	snprintf(path, sizeof(path), "%s/buf", dir);
	buf = malloc(len);
	EXPECT(buf, "malloc");
	fill_pattern(buf, len, 6);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	EXPECT(fd >= 0, "create %s: %s", path, strerror(errno));
	/* in pieces, as cp or dd would */
	for (size_t off = 0; off < len; off += 30000) {
		size_t n = len - off < 30000 ? len - off : 30000;

		EXPECT(write(fd, buf + off, n) == (ssize_t)n, "write at %zu: %s", off,
		       strerror(errno));
	}
	EXPECT_OK(close(fd));
	/* a reader moves nothing: it is still growable, and has no dma-buf */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	EXPECT(fd >= 0, "open O_RDONLY %s: %s", path, strerror(errno));
	memset(buf, 0, len);
	EXPECT_OK(pread_all(fd, buf, len, 0));
	EXPECT(check_pattern(buf, len, 6) < 0, "byte %ld read back differs",
	       check_pattern(buf, len, 6));
	EXPECT_OK(fstat(fd, &st));
	EXPECT(st.st_size == (off_t)len, "st_size %lld after the read", (long long)st.st_size);
	close(fd);
	EXPECT(xget(path, "user.umm.dmabuf", v, sizeof(v)) == 0,
	       "user.umm.dmabuf of a buffer never exported is '%s', expected empty", v);
	EXPECT(xget(path, "user.umm.exports", v, sizeof(v)) >= 0 && !strcmp(v, "0"),
	       "user.umm.exports of a buffer never exported is '%s'", v);
	/* the first export places it on the heap */
	xfd = umm_open(path, O_RDWR);
	EXPECT(xfd >= 0, "umm_open: %s", strerror(errno));
	if (heap_is_cur(path) != PASS)
		return FAIL;
	if (cur->dmabuf)
		EXPECT(xget(path, "user.umm.dmabuf", v, sizeof(v)) > 0,
		       "user.umm.dmabuf of a %s buffer after its export is empty", cur->name);
	x = mmap(NULL, len, PROT_READ, MAP_SHARED, xfd, 0);
	EXPECT(x != MAP_FAILED, "mmap of umm_open()'s fd: %s", strerror(errno));
	EXPECT(check_pattern(x, len, 6) < 0, "byte %ld of umm_open()'s mapping differs",
	       check_pattern(x, len, 6));
	munmap(x, len);
	close(xfd);
	free(buf);
	EXPECT_OK(unlink(path));
	return PASS;
}

/* Unlinking a buffer whose exported fd is open keeps its data until that fd goes. */
static int test_unlink_while_exported_keeps_the_data(void)
{
	const size_t len = 256 * 1024;
	char dir[2048], path[4200];
	unsigned char *x, *buf;
	long long used;
	int fd, xfd;

	EXPECT_OK(subdir(dir, sizeof(dir), "unlink", "256K"));
	snprintf(path, sizeof(path), "%s/buf", dir);
	EXPECT_OK(create_filled(path, len, 8));
	fd = open(path, O_RDWR | O_CLOEXEC);
	EXPECT(fd >= 0, "open: %s", strerror(errno));
	xfd = umm_export(fd);
	EXPECT(xfd >= 0, "umm_export: %s", strerror(errno));
	x = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, xfd, 0);
	EXPECT(x != MAP_FAILED, "mmap of the exported fd: %s", strerror(errno));
	EXPECT_OK(unlink(path));
	EXPECT(access(path, F_OK) && errno == ENOENT, "%s still there after unlink", path);
	EXPECT(check_pattern(x, len, 8) < 0, "byte %ld of the mapping changed at unlink",
	       check_pattern(x, len, 8));
	/* still writable, and the FUSE fd held open sees the same bytes */
	fill_pattern(x, len, 9);
	buf = malloc(len);
	EXPECT(buf, "malloc");
	EXPECT_OK(pread_all(fd, buf, len, 0));
	EXPECT(check_pattern(buf, len, 9) < 0,
	       "byte %ld read(2) on the unlinked buffer's FUSE fd differs from the mapping",
	       check_pattern(buf, len, 9));
	close(fd);
	/* only the exported fd and its mapping hold it now */
	EXPECT(check_pattern(x, len, 9) < 0, "byte %ld changed when the FUSE fd closed",
	       check_pattern(x, len, 9));
	munmap(x, len);
	close(xfd);
	free(buf);
	used = wait_used_bytes(dir, 0);
	EXPECT(used == 0, "used_bytes of the dir is %lld after the last holder went", used);
	return PASS;
}

/* Set by run_heap(): an earlier check of this heap failed (and may have left buffers). */
static int earlier_failed;

/* Every buffer of the heap's directory is gone: its bytes are returned. */
static int test_heap_dir_returns_to_zero(void)
{
	long long used = wait_used_bytes(cur_dir, 0);

	if (used != 0 && earlier_failed) {
		note("used_bytes of %s is %lld, but an earlier check failed and may have left "
		     "its buffers",
		     cur_dir, used);
		return SKIP;
	}
	EXPECT(used == 0, "used_bytes of %s is %lld after every check", cur_dir, used);
	return PASS;
}

static void run_heap(const struct heap_line *h)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} checks[] = {
#define C(f) { #f, f }
		C(test_sizes_allocate_on_the_heap_and_keep_data),
		C(test_content_is_the_same_through_every_path),
		C(test_unmet_properties_are_eopnotsupp_at_create),
		C(test_size_over_max_size_is_enospc),
		C(test_sync_round_trips),
		C(test_export_identity_and_count),
		C(test_long_path_dmabuf_name_keeps_its_end),
		C(test_readonly_export_grants_no_write),
		C(test_unsized_buffer_is_placed_on_the_heap),
		C(test_unsized_buffer_keeps_its_exact_size),
		C(test_unlink_while_exported_keeps_the_data),
		C(test_heap_dir_returns_to_zero),
#undef C
	};
	int failed = itest_nfail;
	char label[256];

	cur = h;
	snprintf(cur_dir, sizeof(cur_dir), "%s/heap-%s", umm_mnt(), h->name);
	printf("=== heap %s (dir %s)\n", h->name, cur_dir);
	if (mkdir(cur_dir, 0755) || xset(cur_dir, "user.umm.heap", h->name)) {
		printf("FAIL heap %s: cannot make its directory: %s\n", h->name, strerror(errno));
		itest_nfail++;
		return;
	}
	/* a cache mode the heap offers: cached where it can, else its first */
	if (!heap_has_cache("cached")) {
		char mode[64];

		snprintf(mode, sizeof(mode), "%.*s", (int)strcspn(h->cache, ","), h->cache);
		if (xset(cur_dir, "user.umm.cache", mode)) {
			printf("FAIL heap %s: user.umm.cache=%s: %s\n", h->name, mode,
			       strerror(errno));
			itest_nfail++;
			return;
		}
	}
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		snprintf(label, sizeof(label), "%s: %s", h->name, checks[i].name);
		earlier_failed = itest_nfail > failed;
		itest_run(label, checks[i].fn);
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (read_heaps())
		return 1;
	for (int i = 0; i < nheaps; i++)
		run_heap(&heaps[i]);
	return itest_finish("test_heaps");
}
