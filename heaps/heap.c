// SPDX-License-Identifier: MIT
/*
 * heap.c - the heap core: the registry of backends, the checks every request
 * passes once before its backend sees it, and the helpers backends share.
 *
 * Nothing here knows a backend: they are reached only through the registry
 * table and their ops.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "heap_i.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The registry: every backend, in the order heaps are preferred by default.
 * HEAP_BACKENDS comes from the list in heaps/meson.build (heap_backends.h).
 */
static const struct heap_backend *const heap_backends[] = {
#define HEAP_BACKEND(id) &id##_heap_backend,
	HEAP_BACKENDS
#undef HEAP_BACKEND
};

/**
 * heap_page_round() - round @size up to the page size
 * Returns the rounded size, or 0 when rounding would overflow.
 */
uint64_t heap_page_round(uint64_t size)
{
	if (size > UINT64_MAX - (HEAP_PAGE_SIZE - 1))
		return 0;
	return (size + HEAP_PAGE_SIZE - 1) & ~(HEAP_PAGE_SIZE - 1);
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/**
 * heap_alloc() - allocate from @h after checking @req against its capabilities
 * Returns 0 or -errno: -EINVAL for a malformed request, -ENOSPC above the heap's
 * size limit, -EOPNOTSUPP for a property the heap lacks, or the backend's error.
 */
int heap_alloc(struct heap *h, const struct heap_req *req, struct heap_buf *out)
{
	const struct heap_caps *c = &h->caps;

	if (req->size % HEAP_PAGE_SIZE || !is_pow2(req->align) || req->align < HEAP_PAGE_SIZE ||
	    req->cache >= UMM_CACHE_NR)
		return -EINVAL;
	if (!req->size && !c->growable)
		return -EINVAL;
	if (c->max_size && req->size > c->max_size)
		return -ENOSPC;
	if (req->align > c->align)
		return -EOPNOTSUPP;
	if (req->contiguous && (!c->contiguous || req->size > c->contig_max))
		return -EOPNOTSUPP;
	if (!(c->cache_modes & (1u << req->cache)))
		return -EOPNOTSUPP;
	return h->ops->alloc(h, req, out);
}

/**
 * heap_resize() - change the size of an unsealed buffer
 * Returns 0, -EPERM for a sealed buffer, -EOPNOTSUPP where the heap cannot, or
 * the backend's error.
 */
int heap_resize(struct heap *h, struct heap_buf *buf, uint64_t size)
{
	if (buf->sealed)
		return -EPERM;
	if (!h->ops->resize)
		return -EOPNOTSUPP;
	if (h->caps.max_size && size > h->caps.max_size)
		return -ENOSPC;
	return h->ops->resize(h, buf, size);
}

/**
 * heap_seal() - fix the size of @buf; a no-op for a sealed buffer
 */
int heap_seal(struct heap *h, struct heap_buf *buf)
{
	int ret;

	if (buf->sealed)
		return 0;
	ret = h->ops->seal(h, buf);
	if (!ret)
		buf->sealed = true;
	return ret;
}

/**
 * heap_adopt() - make a filled, unsealed staging memfd @buf @h's memory
 * Returns 0 (then @buf is sealed and belongs to @h), or -EOPNOTSUPP when @h
 * must allocate and copy instead.
 */
int heap_adopt(struct heap *h, const struct heap_req *req, struct heap_buf *buf)
{
	if (!h->ops->adopt)
		return -EOPNOTSUPP;
	return h->ops->adopt(h, req, buf);
}

/**
 * heap_free() - release @buf; it may be passed again safely
 */
void heap_free(struct heap *h, struct heap_buf *buf)
{
	if (buf->fd < 0 && buf->dmabuf_fd < 0)
		return;
	h->ops->free(h, buf);
	buf->fd = -1;
	buf->dmabuf_fd = -1;
	buf->map = NULL;
}

/**
 * heap_sync() - begin or end CPU access (DMA_BUF_SYNC_* flags)
 */
int heap_sync(struct heap *h, struct heap_buf *buf, unsigned flags)
{
	if (!h->ops->sync)
		return 0;
	return h->ops->sync(h, buf, flags);
}

/**
 * heap_reopen() - a new open file of the buffer's memory with access @accmode
 * @dmabuf: set to whether the fd returned is a dma-buf (else a memfd)
 *
 * The dma-buf where there is one, else a new open of the memfd through /proc,
 * so its access mode is exactly @accmode and it shares no file offset.
 * A dma-buf's access mode is fixed when it is made (read-write here), and a
 * dup shares it: a read-only request first tries a new open of the dma-buf
 * through /proc, which gives a file of its own with exactly that mode on
 * kernels that allow reopening it; the kernels seen so far refuse (ENXIO: the
 * dma-buf inode has no open). Then a heap whose dma-buf wraps a memfd
 * (udmabuf) gives a read-only open of that memfd, the same pages; any other
 * refuses with -EACCES rather than hand out a writable fd.
 * Returns an fd (O_CLOEXEC, owned by the caller) or -errno.
 */
int heap_reopen(const struct heap_buf *buf, int accmode, bool *dmabuf)
{
	char path[64];
	int fd;

	*dmabuf = false;
	if (buf->dmabuf_fd >= 0) {
		int fl = fcntl(buf->dmabuf_fd, F_GETFL);

		if (fl < 0)
			return -errno;
		if ((fl & O_ACCMODE) == accmode) {
			fd = fcntl(buf->dmabuf_fd, F_DUPFD_CLOEXEC, 3);
			*dmabuf = fd >= 0;
			return fd < 0 ? -errno : fd;
		}
		if (accmode != O_RDONLY || (fl & O_ACCMODE) != O_RDWR)
			return -EACCES;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", buf->dmabuf_fd);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			*dmabuf = true;
			return fd;
		}
		if (buf->fd < 0 || buf->map)
			return -EACCES;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", buf->fd);
	fd = open(path, accmode | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/**
 * heap_memfd_new() - a new sealable memfd, mode 0600, named @name
 * @name:        its name, as /proc/PID/fd shows it ("memfd:@name")
 * @extra_flags: MFD_* flags beyond MFD_CLOEXEC|MFD_ALLOW_SEALING (MFD_HUGETLB...)
 *
 * MFD_NOEXEC_SEAL is asked for and dropped on kernels that lack it.
 * Returns the fd (owned by the caller) or -errno.
 */
int heap_memfd_new(const char *name, unsigned extra_flags)
{
	unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING | extra_flags;
	int fd;

	fd = memfd_create(name, flags | MFD_NOEXEC_SEAL);
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create(name, flags);
	if (fd < 0)
		return -errno;
	/*
	 * A holder of a read-only export could otherwise reopen the memfd
	 * read-write through /proc/PID/fd: its inode is 0777 by default.
	 */
	if (fchmod(fd, 0600) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/**
 * heap_memory_fits() - could @size more bytes of RAM be had now?
 *
 * For heaps that take pages from the page allocator as they go (the system
 * dma-heap, shmem-backed dumb buffers): the kernel lets such an allocation
 * run on into the OOM killer, which then kills the daemon or a bystander. A
 * request above MemAvailable is refused up front instead. Racy by nature: it
 * catches the one oversized request, not many that add up (the mount's
 * budget is for that).
 * Returns 0, or -ENOSPC when @size is above MemAvailable.
 */
int heap_memory_fits(uint64_t size)
{
	unsigned long long kb;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "re");
	int ret = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
			if (size / 1024 > kb)
				ret = -ENOSPC;
			break;
		}
	}
	fclose(f);
	return ret;
}

/**
 * heap_dmabuf_sync() - DMA_BUF_IOCTL_SYNC on @dmabuf_fd with @flags
 * @flags: DMA_BUF_SYNC_READ/_WRITE, plus DMA_BUF_SYNC_END to end CPU access
 *
 * Retried while interrupted. Returns 0 or -errno.
 */
int heap_dmabuf_sync(int dmabuf_fd, unsigned flags)
{
	struct dma_buf_sync sync = { .flags = flags };
	int ret;

	do {
		ret = ioctl(dmabuf_fd, DMA_BUF_IOCTL_SYNC, &sync);
	} while (ret < 0 && (errno == EINTR || errno == EAGAIN));
	return ret < 0 ? -errno : 0;
}

/*
 * The ops of heaps whose memory is a dma-buf the daemon maps (no memfd):
 * dma-heap:NAME and drm:cardN. A dma-buf's size is fixed when it is made.
 */

/**
 * heap_mapped_seal() - seal a mapped dma-buf: nothing to do, its size is fixed
 * Returns 0.
 */
int heap_mapped_seal(struct heap *h, struct heap_buf *buf)
{
	(void)h;
	(void)buf;
	return 0;
}

/**
 * heap_mapped_free() - unmap @buf and close its dma-buf
 */
void heap_mapped_free(struct heap *h, struct heap_buf *buf)
{
	(void)h;
	if (buf->map)
		munmap(buf->map, buf->size);
	if (buf->dmabuf_fd >= 0)
		close(buf->dmabuf_fd);
}

/**
 * heap_mapped_sync() - begin or end CPU access to @buf's dma-buf
 * Returns 0 or -errno, as heap_dmabuf_sync().
 */
int heap_mapped_sync(struct heap *h, struct heap_buf *buf, unsigned flags)
{
	(void)h;
	return heap_dmabuf_sync(buf->dmabuf_fd, flags);
}

/**
 * heap_dmabuf_set_name() - name the dma-buf @dmabuf_fd (DMA_BUF_SET_NAME)
 *
 * The name shows in /proc/PID/fdinfo and debugfs; it is cut to the kernel's
 * DMA_BUF_NAME_LEN - 1 bytes. Returns 0 or -errno; callers may ignore it.
 */
int heap_dmabuf_set_name(int dmabuf_fd, const char *name)
{
	char cut[DMA_BUF_NAME_LEN];

	snprintf(cut, sizeof(cut), "%s", name);
	if (ioctl(dmabuf_fd, DMA_BUF_SET_NAME_B, cut) < 0)
		return -errno;
	return 0;
}

/**
 * heap_describe() - one line of user.umm.heaps for @h (no newline)
 * Returns the length written or needed, like snprintf.
 */
int heap_describe(const struct heap *h, char *out, size_t n)
{
	char max[24] = "none", contig[24] = "0", align[24];
	char modes[64] = "";
	size_t len = 0;

	heap_format_size(h->caps.align, align, sizeof(align));
	if (h->caps.max_size)
		heap_format_size(h->caps.max_size, max, sizeof(max));
	if (h->caps.contiguous)
		heap_format_size(h->caps.contig_max, contig, sizeof(contig));
	for (int m = 0; m < UMM_CACHE_NR; m++) {
		if (!(h->caps.cache_modes & (1u << m)))
			continue;
		len += snprintf(modes + len, sizeof(modes) - len, "%s%s", len ? "," : "",
				heap_cache_name((enum heap_cache)m));
	}
	return snprintf(out, n, "%s dmabuf=%s contiguous=%s cache=%s max_size=%s align=%s", h->name,
			h->caps.dmabuf ? "yes" : "no", h->caps.contiguous ? contig : "no", modes,
			max, align);
}

/*
 * Keep the @got heaps @b filled at @heaps whose names are valid heap names of
 * @b's kind ("kind" or "kind:SUB"); release and drop the others, so no
 * backend checks its own names. Returns how many are kept, packed at @heaps.
 */
static unsigned heap_keep_named(const struct heap_backend *b, struct heap *heaps, unsigned got)
{
	size_t klen = strlen(b->name);
	unsigned kept = 0;

	for (unsigned i = 0; i < got; i++) {
		struct heap *h = &heaps[i];
		size_t len = strnlen(h->name, sizeof(h->name));

		if (heap_name_valid(h->name, len) && !strncmp(h->name, b->name, klen) &&
		    (!h->name[klen] || h->name[klen] == ':')) {
			if (kept != i)
				heaps[kept] = *h;
			kept++;
			continue;
		}
		if (h->ops && h->ops->release)
			h->ops->release(h);
	}
	memset(&heaps[kept], 0, sizeof(*heaps) * (got - kept));
	return kept;
}

/**
 * heap_discover() - probe every backend of the registry into @heaps
 * @heaps: room for @max heaps
 * @max:   at least the number of required backends (1: memfd)
 * @n:     set to the number of heaps found
 *
 * The heaps come in the registry's order, the default preference order (as
 * heaps/meson.build lists it: udmabuf, memfd pages a device can use; every
 * dma-heap:NAME; every drm:cardN; then memfd, always present and last). A backend
 * that is missing or fails to probe is left out; only a required one (memfd)
 * failing is an error. Every heap found keeps what it opened until
 * heap_release_all().
 * Returns 0, -ENOSPC when @max is too small, or the required backend's -errno
 * (then nothing is kept and *@n is 0).
 */
int heap_discover(struct heap *heaps, unsigned max, unsigned *n)
{
	unsigned reserved = 0;

	*n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(heap_backends); i++)
		reserved += heap_backends[i]->required;
	if (max < 1 || max < reserved)
		return -ENOSPC;
	memset(heaps, 0, sizeof(*heaps) * max);
	for (size_t i = 0; i < ARRAY_SIZE(heap_backends); i++) {
		const struct heap_backend *b = heap_backends[i];
		unsigned room, got = 0;
		int ret;

		/* the slots of the required backends still to come are not offered */
		reserved -= b->required;
		room = max - *n - reserved;
		if (!room)
			continue;
		ret = b->probe(&heaps[*n], room, &got);
		if (ret) {
			got = 0;
			memset(&heaps[*n], 0, sizeof(*heaps) * room);
		}
		got = heap_keep_named(b, &heaps[*n], got);
		if (b->required && !got) {
			heap_release_all(heaps, *n);
			*n = 0;
			return ret ? ret : -ENODEV;
		}
		*n += got;
	}
	return 0;
}

/**
 * heap_release_all() - close what heap_discover() kept open
 * @heaps: heaps heap_discover() filled (or a subset of them)
 * @n:     their number
 *
 * Every buffer of these heaps must have been freed. Also closes the device
 * fds heap_device_check() and heap_device_import() keep.
 */
void heap_release_all(struct heap *heaps, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (heaps[i].ops && heaps[i].ops->release)
			heaps[i].ops->release(&heaps[i]);
		heaps[i].priv = NULL;
	}
	heap_device_release();
}
