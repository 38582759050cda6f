// SPDX-License-Identifier: MIT
/*
 * test_dmabuf.c - end to end with real dma-buf devices (SPEC 3-6): the VM's
 * /dev/udmabuf, /dev/dma_heap/system and vgem's /dev/dri/card0.
 *
 *  - zero copy: bytes written through the FUSE fd's mapping (passthrough
 *    mode; write(2) otherwise) are read through the mapping of umm_open()'s
 *    dma-buf and through vgem (PRIME import of that dma-buf, MAP_DUMB of the
 *    imported handle, mmap of the card at that offset), and the three
 *    mappings hold the same physical frames (/proc/self/pagemap);
 *  - a 96 MiB buffer, over udmabuf's 64 MiB, lands on dma-heap:system;
 *  - user.umm.devices=/dev/dri/card0 gives buffers vgem imports;
 *    user.umm.devices=/dev/null gets EOPNOTSUPP;
 *  - user.umm.cache=writecombine gives drm:card0 buffers, mappable through
 *    umm_open();
 *  - user.umm.sync round trips while the client brackets its own access with
 *    DMA_BUF_IOCTL_SYNC;
 *  - the exported fd's fdinfo names the buffer "umm:<path>".
 *
 * Not a host test: without /dev/udmabuf or /dev/dri/card0 it exits 77 and
 * says which is missing. tests/vm/inside runs it in the VM, in both modes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <xf86drm.h>

#include <umm.h>

#include "itest.h"
#include "vmtest.h"

#define PAGE 4096UL
#define CARD "/dev/dri/card0"
#define UDMABUF "/dev/udmabuf"

/* Make directory @name of the mount with the constraint @key=@value (if @key). */
static int newdir(char *buf, size_t len, const char *name, const char *key, const char *value)
{
	mnt_path(buf, len, name);
	if (mkdir(buf, 0755))
		return -1;
	if (key && xset(buf, key, value))
		return -1;
	return 0;
}

/* Does user.umm.heaps list heap @name? */
static int mount_has_heap(const char *name)
{
	char text[4096];
	size_t l = strlen(name);

	if (xget(umm_mnt(), "user.umm.heaps", text, sizeof(text)) < 0)
		return 0;
	for (char *line = text; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (!strncmp(line, name, l) && line[l] == ' ')
			return 1;
	return 0;
}

/* Check that user.umm.heap of @path is @want. */
static int heap_is(const char *path, const char *want)
{
	char v[128];

	xget(path, "user.umm.heap", v, sizeof(v));
	if (strcmp(v, want) && !mount_has_heap(want))
		note("user.umm.heaps of the mount does not list %s", want);
	EXPECT(!strcmp(v, want), "user.umm.heap of %s is '%s', expected '%s'", path, v, want);
	note("%s: heap %s", path + strlen(umm_mnt()), v);
	return PASS;
}

/*
 * struct vgem_map - a dma-buf imported into vgem and mapped through it
 * @card:   the card's fd (our own open)
 * @handle: the GEM handle of the import
 * @efd:    the imported handle exported again (-1 if not needed)
 * @p:      the mapping, MAP_FAILED if none
 * @len:    its length
 */
struct vgem_map {
	int card;
	uint32_t handle;
	int efd;
	void *p;
	size_t len;
};

/*
 * Import @dmabuf into /dev/dri/card0 (drmPrimeFDToHandle) and, where @len,
 * map it through vgem.
 *
 * The direct way is DRM_IOCTL_MODE_MAP_DUMB of the imported handle and an
 * mmap of the card fd at that fake offset. It works for vgem's own objects
 * (a drm:card0 buffer imports back as vgem's object), but the DRM core
 * refuses it (EINVAL) for a foreign dma-buf: drm_gem_dumb_map_offset() does
 * not map imported objects. Then the imported handle is exported again
 * (drmPrimeHandleToFD): that must give back the very dma-buf that was
 * imported (same inode, so vgem holds that buffer and no copy), and its
 * mapping is the one used.
 * Return 0, or -1 with a message printed.
 */
static int vgem_import(int dmabuf, size_t len, struct vgem_map *m)
{
	struct drm_mode_map_dumb md = { 0 };
	struct stat a, b;

	memset(m, 0, sizeof(*m));
	m->p = MAP_FAILED;
	m->efd = -1;
	m->card = open(CARD, O_RDWR | O_CLOEXEC);
	if (m->card < 0) {
		note("open %s: %s", CARD, strerror(errno));
		return -1;
	}
	if (drmPrimeFDToHandle(m->card, dmabuf, &m->handle)) {
		note("drmPrimeFDToHandle on %s: %s", CARD, strerror(errno));
		close(m->card);
		m->card = -1;
		return -1;
	}
	if (!len)
		return 0;
	md.handle = m->handle;
	if (!drmIoctl(m->card, DRM_IOCTL_MODE_MAP_DUMB, &md)) {
		m->p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, m->card,
			    (off_t)md.offset);
		if (m->p == MAP_FAILED) {
			note("mmap of %s at the imported handle's offset %#llx: %s", CARD,
			     (unsigned long long)md.offset, strerror(errno));
			return -1;
		}
		note("vgem maps the imported handle (MAP_DUMB + mmap of the card)");
		m->len = len;
		return 0;
	}
	if (errno != EINVAL) {
		note("DRM_IOCTL_MODE_MAP_DUMB of the imported handle: %s", strerror(errno));
		return -1;
	}
	if (drmPrimeHandleToFD(m->card, m->handle, DRM_CLOEXEC | DRM_RDWR, &m->efd)) {
		note("drmPrimeHandleToFD of the imported handle: %s", strerror(errno));
		return -1;
	}
	if (fstat(dmabuf, &a) || fstat(m->efd, &b) || a.st_ino != b.st_ino) {
		note("vgem's export of the imported handle is not the imported dma-buf "
		     "(inode %llu vs %llu)",
		     (unsigned long long)a.st_ino, (unsigned long long)b.st_ino);
		return -1;
	}
	m->p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, m->efd, 0);
	if (m->p == MAP_FAILED) {
		note("mmap of vgem's export of the imported handle: %s", strerror(errno));
		return -1;
	}
	note("vgem refuses MAP_DUMB of an imported handle (EINVAL); its re-export of the "
	     "handle is the same dma-buf (inode %llu), mapped instead",
	     (unsigned long long)b.st_ino);
	m->len = len;
	return 0;
}

static void vgem_release(struct vgem_map *m)
{
	if (m->p != MAP_FAILED && m->p)
		munmap(m->p, m->len);
	if (m->efd >= 0)
		close(m->efd);
	if (m->card >= 0) {
		drmCloseBufferHandle(m->card, m->handle);
		close(m->card);
	}
	m->card = -1;
}

/* DMA_BUF_IOCTL_SYNC on @fd with @flags; 0 or -1 (errno). */
static int dmabuf_sync(int fd, unsigned long long flags)
{
	struct dma_buf_sync s = { .flags = flags };
	int r;

	do {
		r = ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
	} while (r < 0 && (errno == EINTR || errno == EAGAIN));
	return r;
}

/* Is the mapping at @addr a VM_PFNMAP one ("pf" in its VmFlags in /proc/self/smaps)? */
static int is_pfnmap(const void *addr)
{
	unsigned long lo, hi, a = (unsigned long)(uintptr_t)addr;
	char line[512];
	int in = 0, ret = 0;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = a >= lo && a < hi;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8)) {
			ret = strstr(line, " pf") != NULL;
			break;
		}
	}
	fclose(f);
	return ret;
}

/*
 * Compare the physical frames of @npages pages of mappings @a and @b (whose
 * pages have been touched). Return PASS, FAIL, or SKIP where pagemap cannot
 * tell: PFNs hidden, or a VM_PFNMAP mapping (dma-buf exporters such as
 * udmabuf and the system heap map with PFNs, and pagemap reports such a
 * mapping as a hole).
 */
static int same_frames(const char *what, const void *a, const void *b, size_t npages)
{
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	long long pa = 0, pb = 0;

	if (pm < 0) {
		note("/proc/self/pagemap: %s: frames not compared", strerror(errno));
		return SKIP;
	}
	for (size_t i = 0; i < npages; i++) {
		pa = pfn_of(pm, (const char *)a + i * PAGE);
		pb = pfn_of(pm, (const char *)b + i * PAGE);
		if (pa == -2 || pb == -2) {
			note("reading /proc/self/pagemap: %s", strerror(errno));
			close(pm);
			return FAIL;
		}
		if (pa == 0 && pb == 0) {
			note("pagemap hides PFNs here (no CAP_SYS_ADMIN?): %s not compared", what);
			close(pm);
			return SKIP;
		}
		if ((pa == -1 && is_pfnmap(a)) || (pb == -1 && is_pfnmap(b))) {
			note("%s: not comparable: pagemap shows no frames of a VM_PFNMAP mapping "
			     "(the exporter's mmap); the coherence checks stand for it",
			     what);
			close(pm);
			return SKIP;
		}
		if (pa < 0 || pb < 0 || pa != pb) {
			note("%s: page %zu: PFN %lld vs %lld (-1: not present)", what, i, pa, pb);
			close(pm);
			return FAIL;
		}
	}
	close(pm);
	note("%s: the same %zu physical frames (first PFN %#llx)", what, npages, pa);
	return PASS;
}

/*
 * Zero copy end to end: FUSE mapping (passthrough) -> dma-buf mapping ->
 * vgem's mapping of the imported dma-buf, the same bytes and the same frames.
 */
static int test_zero_copy_from_fuse_mapping_to_dmabuf_and_vgem(void)
{
	const size_t len = 1 << 20, npages = len / PAGE;
	unsigned char *f = MAP_FAILED, *x, *buf;
	char dir[2048], path[4200];
	struct vgem_map vm;
	int fd, xfd, r;

	EXPECT_OK(newdir(dir, sizeof(dir), "zero-copy", "user.umm.size", "1M"));
	snprintf(path, sizeof(path), "%s/frame", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	EXPECT(fd >= 0, "create %s: %s", path, strerror(errno));
	if (heap_is(path, "udmabuf") != PASS)
		return FAIL;
	if (mode_is_passthrough() && build_has_passthrough()) {
		f = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		EXPECT(f != MAP_FAILED,
		       "mmap of the FUSE fd of a udmabuf buffer in passthrough "
		       "mode: %s",
		       strerror(errno));
		fill_pattern(f, len, 21);
		note("written through the FUSE fd's mapping (passthrough)");
	} else {
		buf = malloc(len);
		EXPECT(buf, "malloc");
		fill_pattern(buf, len, 21);
		EXPECT_OK(pwrite_all(fd, buf, len, 0));
		free(buf);
		note("mode %s: written with write(2) on the FUSE fd (no FUSE mapping here)",
		     mode_is_passthrough() ? "passthrough, built without it" : "nopassthrough");
	}

	xfd = umm_open(path, O_RDWR);
	EXPECT(xfd >= 0, "umm_open: %s", strerror(errno));
	x = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, xfd, 0);
	EXPECT(x != MAP_FAILED, "mmap of the dma-buf: %s", strerror(errno));
	EXPECT_OK(dmabuf_sync(xfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT(check_pattern(x, len, 21) < 0, "byte %ld of the dma-buf's mapping differs",
	       check_pattern(x, len, 21));
	EXPECT_OK(dmabuf_sync(xfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));

	EXPECT(!vgem_import(xfd, len, &vm), "vgem cannot import and map the dma-buf");
	EXPECT(check_pattern(vm.p, len, 21) < 0, "byte %ld of vgem's mapping differs",
	       check_pattern(vm.p, len, 21));
	/* and back: a write through vgem's mapping is seen by the other two */
	fill_pattern(vm.p, PAGE, 22);
	EXPECT(check_pattern(x, PAGE, 22) < 0, "the dma-buf mapping misses vgem's write");
	if (f != MAP_FAILED)
		EXPECT(check_pattern(f, PAGE, 22) < 0, "the FUSE mapping misses vgem's write");
	buf = malloc(PAGE);
	EXPECT(buf, "malloc");
	EXPECT_OK(pread_all(fd, buf, PAGE, 0));
	EXPECT(check_pattern(buf, PAGE, 22) < 0, "read(2) on the FUSE fd misses vgem's write");
	free(buf);

	if (f != MAP_FAILED) {
		r = same_frames("FUSE mapping vs dma-buf mapping", f, x, npages);
		EXPECT(r != FAIL, "the FUSE mapping and the dma-buf mapping hold different pages");
	}
	r = same_frames("dma-buf mapping vs vgem's mapping", x, vm.p, npages);
	EXPECT(r != FAIL, "the dma-buf mapping and vgem's mapping hold different pages");

	vgem_release(&vm);
	munmap(x, len);
	close(xfd);
	if (f != MAP_FAILED)
		munmap(f, len);
	close(fd);
	EXPECT_OK(unlink(path));
	return PASS;
}

/* 96 MiB is over udmabuf's 64 MiB: the buffer lands on dma-heap:system. */
static int test_96m_buffer_in_a_plain_dir_lands_on_dma_heap_system(void)
{
	const size_t len = 96UL << 20;
	char dir[2048], path[4200], p2[4200];
	unsigned char *x;
	int fd, xfd;

	EXPECT_OK(newdir(dir, sizeof(dir), "big", NULL, NULL));
	/* unsized: its size chosen by ftruncate, placed when exported */
	snprintf(path, sizeof(path), "%s/truncated", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	EXPECT(fd >= 0, "create %s: %s", path, strerror(errno));
	EXPECT_OK(ftruncate(fd, (off_t)len));
	EXPECT_OK(pwrite_all(fd, "tail", 4, (off_t)len - 4));
	close(fd);
	xfd = umm_open(path, O_RDWR);
	EXPECT(xfd >= 0, "umm_open of a 96M buffer: %s", strerror(errno));
	if (heap_is(path, "dma-heap:system") != PASS)
		return FAIL;
	x = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, xfd, 0);
	EXPECT(x != MAP_FAILED, "mmap of the 96M dma-buf: %s", strerror(errno));
	EXPECT(!memcmp(x + len - 4, "tail", 4), "the last bytes written before placement are lost");
	EXPECT(x[0] == 0 && x[len / 2] == 0, "the truncated part is not zeros");
	munmap(x, len);
	close(xfd);
	EXPECT_OK(unlink(path));

	/* sized by the directory */
	EXPECT_OK(xset(dir, "user.umm.size", "96M"));
	snprintf(p2, sizeof(p2), "%s/sized", dir);
	fd = open(p2, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	EXPECT(fd >= 0, "create %s in a dir of size 96M: %s", p2, strerror(errno));
	if (heap_is(p2, "dma-heap:system") != PASS)
		return FAIL;
	close(fd);
	EXPECT_OK(unlink(p2));
	return PASS;
}

/* user.umm.devices=/dev/dri/card0: every new buffer is one vgem imports. */
static int test_devices_card0_gives_buffers_vgem_imports(void)
{
	const size_t len = 64 * PAGE;
	char dir[2048], path[4200], v[128];
	struct vgem_map vm;
	unsigned char *buf;
	int fd, xfd;

	EXPECT_OK(newdir(dir, sizeof(dir), "for-vgem", "user.umm.size", "256K"));
	EXPECT(!xset(dir, "user.umm.devices", CARD), "setxattr user.umm.devices=%s: %s", CARD,
	       strerror(errno));
	EXPECT(xget(dir, "user.umm.devices", v, sizeof(v)) >= 0 && !strcmp(v, CARD),
	       "user.umm.devices reads '%s'", v);
	snprintf(path, sizeof(path), "%s/buf", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	EXPECT(fd >= 0, "create under devices=%s: %s", CARD, strerror(errno));
	xget(path, "user.umm.heap", v, sizeof(v));
	note("a buffer for %s lands on %s", CARD, v);
	EXPECT(xget(path, "user.umm.dmabuf", v, sizeof(v)) > 0,
	       "a buffer under devices=%s has no dma-buf", CARD);
	buf = malloc(len);
	EXPECT(buf, "malloc");
	fill_pattern(buf, len, 31);
	EXPECT_OK(pwrite_all(fd, buf, len, 0));
	free(buf);
	xfd = umm_open(path, O_RDWR);
	EXPECT(xfd >= 0, "umm_open: %s", strerror(errno));
	EXPECT(!vgem_import(xfd, len, &vm), "vgem cannot import a buffer made for it");
	EXPECT(check_pattern(vm.p, len, 31) < 0, "byte %ld seen through vgem differs",
	       check_pattern(vm.p, len, 31));
	vgem_release(&vm);
	close(xfd);
	close(fd);
	EXPECT_OK(unlink(path));

	/* an unsized buffer too, once placed */
	EXPECT_OK(removexattr(dir, "user.umm.size"));
	snprintf(path, sizeof(path), "%s/filled", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	EXPECT(fd >= 0, "create an unsized buffer under devices=%s: %s", CARD, strerror(errno));
	EXPECT(write(fd, "0123456789", 10) == 10, "write: %s", strerror(errno));
	close(fd);
	xfd = umm_open(path, O_RDWR);
	EXPECT(xfd >= 0, "umm_open: %s", strerror(errno));
	EXPECT(!vgem_import(xfd, 0, &vm), "vgem cannot import a placed buffer made for it");
	vgem_release(&vm);
	close(xfd);
	EXPECT_OK(unlink(path));
	return PASS;
}

/* A device that is no DRM device cannot be checked for import: EOPNOTSUPP. */
static int test_devices_dev_null_is_eopnotsupp(void)
{
	char dir[2048], v[64];

	EXPECT_OK(newdir(dir, sizeof(dir), "for-null", NULL, NULL));
	EXPECT_ERRNO(xset(dir, "user.umm.devices", "/dev/null"), EOPNOTSUPP);
	EXPECT_ERRNO(xset(dir, "user.umm.devices", CARD " /dev/null"), EOPNOTSUPP);
	EXPECT(getxattr(dir, "user.umm.devices", v, sizeof(v)) < 0 && errno == ENODATA,
	       "user.umm.devices set after a refusal: %s", errno == ENODATA ? v : strerror(errno));
	return PASS;
}

/* user.umm.cache=writecombine: drm:card0, and mappable through umm_open(). */
static int test_writecombine_dir_gives_drm_card0_buffers(void)
{
	const size_t len = 256 * 1024;
	char dir[2048], path[4200], v[64];
	unsigned char *x, *buf;
	struct vgem_map vm;
	int fd, xfd;

	EXPECT_OK(newdir(dir, sizeof(dir), "wc", "user.umm.size", "256K"));
	EXPECT_OK(xset(dir, "user.umm.cache", "writecombine"));
	snprintf(path, sizeof(path), "%s/scanout", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 && !mount_has_heap("drm:card0"))
		note("user.umm.heaps does not list drm:card0 although %s exists", CARD);
	EXPECT(fd >= 0, "create under cache=writecombine: %s", strerror(errno));
	if (heap_is(path, "drm:card0") != PASS)
		return FAIL;
	EXPECT(xget(path, "user.umm.cache", v, sizeof(v)) >= 0 && !strcmp(v, "writecombine"),
	       "user.umm.cache of the buffer is '%s'", v);
	buf = malloc(len);
	EXPECT(buf, "malloc");
	fill_pattern(buf, len, 41);
	EXPECT_OK(pwrite_all(fd, buf, len, 0));
	EXPECT(mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED && errno == ENODEV,
	       "mmap of the FUSE fd of a drm buffer (no memfd): %s, expected ENODEV",
	       strerror(errno));
	xfd = umm_open(path, O_RDWR);
	EXPECT(xfd >= 0, "umm_open: %s", strerror(errno));
	x = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, xfd, 0);
	EXPECT(x != MAP_FAILED, "mmap of the drm buffer's dma-buf: %s", strerror(errno));
	EXPECT_OK(dmabuf_sync(xfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
	EXPECT(check_pattern(x, len, 41) < 0, "byte %ld of the dma-buf mapping differs",
	       check_pattern(x, len, 41));
	fill_pattern(x, len, 42);
	EXPECT_OK(dmabuf_sync(xfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));
	EXPECT_OK(pread_all(fd, buf, len, 0));
	EXPECT(check_pattern(buf, len, 42) < 0, "byte %ld read(2) misses the mapping's write",
	       check_pattern(buf, len, 42));
	/* the card that made it maps it as well */
	EXPECT(!vgem_import(xfd, len, &vm), "vgem cannot map its own dumb buffer");
	EXPECT(check_pattern(vm.p, len, 42) < 0, "byte %ld through vgem differs",
	       check_pattern(vm.p, len, 42));
	vgem_release(&vm);
	free(buf);
	munmap(x, len);
	close(xfd);
	close(fd);
	EXPECT_OK(unlink(path));
	return PASS;
}

/* user.umm.sync round trips while the client syncs its dma-buf itself. */
static int test_sync_round_trips_with_client_dma_buf_sync(void)
{
	static const char *const values[] = { "cpu", "cpu:read", "cpu:write", "device" };
	static const unsigned long long cflags[] = {
		DMA_BUF_SYNC_RW,
		DMA_BUF_SYNC_READ,
		DMA_BUF_SYNC_WRITE,
		DMA_BUF_SYNC_RW,
	};
	const char *heaps[] = { "udmabuf", "dma-heap:system" };
	char dir[2048], path[4200], v[64];
	unsigned char *x;
	int fd, xfd;

	for (size_t h = 0; h < 2; h++) {
		char name[64];

		snprintf(name, sizeof(name), "sync-%zu", h);
		EXPECT_OK(newdir(dir, sizeof(dir), name, "user.umm.size", "64K"));
		EXPECT_OK(xset(dir, "user.umm.heap", heaps[h]));
		snprintf(path, sizeof(path), "%s/buf", dir);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		EXPECT(fd >= 0, "create on %s: %s", heaps[h], strerror(errno));
		if (heap_is(path, heaps[h]) != PASS)
			return FAIL;
		xfd = umm_open(path, O_RDWR);
		EXPECT(xfd >= 0, "umm_open: %s", strerror(errno));
		x = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, xfd, 0);
		EXPECT(x != MAP_FAILED, "mmap: %s", strerror(errno));
		for (size_t i = 0; i < 4; i++) {
			EXPECT(!xset(path, "user.umm.sync", values[i]), "%s: user.umm.sync=%s: %s",
			       heaps[h], values[i], strerror(errno));
			EXPECT(xget(path, "user.umm.sync", v, sizeof(v)) >= 0 &&
				       !strcmp(v, values[i]),
			       "%s: user.umm.sync reads '%s' after '%s'", heaps[h], v, values[i]);
			/* the client's own bracket, whatever the daemon's domain */
			EXPECT(!dmabuf_sync(xfd, DMA_BUF_SYNC_START | cflags[i]),
			       "%s: DMA_BUF_IOCTL_SYNC START: %s", heaps[h], strerror(errno));
			x[i] = (unsigned char)(0xa0 + i);
			EXPECT(!dmabuf_sync(xfd, DMA_BUF_SYNC_END | cflags[i]),
			       "%s: DMA_BUF_IOCTL_SYNC END: %s", heaps[h], strerror(errno));
			EXPECT(umm_sync(xfd, UMM_SYNC_START | UMM_SYNC_RW) == 0 &&
				       umm_sync(xfd, UMM_SYNC_END | UMM_SYNC_RW) == 0,
			       "%s: umm_sync on the dma-buf: %s", heaps[h], strerror(errno));
		}
		/* umm_sync() on the FUSE fd writes user.umm.sync */
		EXPECT(umm_sync(fd, UMM_SYNC_START | UMM_SYNC_READ) == 0,
		       "umm_sync(START|READ) on the FUSE fd: %s", strerror(errno));
		EXPECT(xget(path, "user.umm.sync", v, sizeof(v)) >= 0 && !strcmp(v, "cpu:read"),
		       "%s: user.umm.sync after umm_sync(START|READ) on the FUSE fd: '%s'",
		       heaps[h], v);
		EXPECT(umm_sync(fd, UMM_SYNC_END | UMM_SYNC_READ) == 0,
		       "umm_sync(END|READ) on the FUSE fd: %s", strerror(errno));
		EXPECT(xget(path, "user.umm.sync", v, sizeof(v)) >= 0 && !strcmp(v, "device"),
		       "%s: user.umm.sync after umm_sync(END) on the FUSE fd: '%s'", heaps[h], v);
		EXPECT(pread(fd, v, 4, 0) == 4 && !memcmp(v, "\xa0\xa1\xa2\xa3", 4),
		       "%s: the bytes written between syncs are not read back", heaps[h]);
		munmap(x, 65536);
		close(xfd);
		close(fd);
		EXPECT_OK(unlink(path));
	}
	return PASS;
}

/* Every dma-buf is named after its buffer: fdinfo of the exported fd shows it. */
static int test_exported_fdinfo_shows_the_umm_name(void)
{
	char dir[2048], path[4200], name[128], exp[64], v[64];
	const char *heaps[] = { "udmabuf", "dma-heap:system", "drm:card0" };
	int xfd;

	EXPECT_OK(newdir(dir, sizeof(dir), "cam", "user.umm.size", "64K"));
	for (size_t h = 0; h < 3; h++) {
		char sub[4096];

		snprintf(sub, sizeof(sub), "%s/%zu", dir, h);
		EXPECT_OK(mkdir(sub, 0755));
		EXPECT_OK(xset(sub, "user.umm.heap", heaps[h]));
		if (!strncmp(heaps[h], "drm:", 4))
			EXPECT_OK(xset(sub, "user.umm.cache", "writecombine"));
		snprintf(path, sizeof(path), "%s/f0", sub);
		xfd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		EXPECT(xfd >= 0, "create on %s: %s", heaps[h], strerror(errno));
		close(xfd);
		xfd = umm_open(path, O_RDWR);
		EXPECT(xfd >= 0, "umm_open: %s", strerror(errno));
		EXPECT(fdinfo_field(xfd, "exp_name:", exp, sizeof(exp)) == 0,
		       "%s: the exported fd is no dma-buf (no exp_name: in fdinfo)", heaps[h]);
		EXPECT(fdinfo_field(xfd, "name:", name, sizeof(name)) == 0,
		       "%s: the dma-buf has no name", heaps[h]);
		snprintf(v, sizeof(v), "umm:/cam/%zu/f0", h);
		EXPECT(!strcmp(name, v), "%s: fdinfo name: '%s', expected '%s'", heaps[h], name, v);
		note("%s: exp_name %s, name %s", heaps[h], exp, name);
		close(xfd);
		EXPECT_OK(unlink(path));
	}
	return PASS;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access(UDMABUF, F_OK) || access(CARD, F_OK)) {
		printf("SKIP: test_dmabuf needs %s%s%s (a real dma-buf device; run it in the VM: "
		       "tests/vm/run)\n",
		       access(UDMABUF, F_OK) ? UDMABUF : "",
		       access(UDMABUF, F_OK) && access(CARD, F_OK) ? " and " : "",
		       access(CARD, F_OK) ? CARD : "");
		return 77;
	}
	RUN(test_zero_copy_from_fuse_mapping_to_dmabuf_and_vgem);
	RUN(test_96m_buffer_in_a_plain_dir_lands_on_dma_heap_system);
	RUN(test_devices_card0_gives_buffers_vgem_imports);
	RUN(test_devices_dev_null_is_eopnotsupp);
	RUN(test_writecombine_dir_gives_drm_card0_buffers);
	RUN(test_sync_round_trips_with_client_dma_buf_sync);
	RUN(test_exported_fdinfo_shows_the_umm_name);
	return itest_finish("test_dmabuf");
}
