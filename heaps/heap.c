// SPDX-License-Identifier: MIT
/*
 * heap.c - the heap core: checks every request once, then calls the backend.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "heap.h"

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
 *
 * The dma-buf where there is one (its access is fixed; read-only requests are
 * refused where it is writable: -EACCES), else a new open of the memfd through
 * /proc, so its access mode is exactly @accmode and it shares no file offset.
 * Returns an fd (O_CLOEXEC, owned by the caller) or -errno.
 */
int heap_reopen(const struct heap_buf *buf, int accmode)
{
	char path[64];
	int fd;

	if (buf->dmabuf_fd >= 0) {
		int fl = fcntl(buf->dmabuf_fd, F_GETFL);

		if (fl < 0)
			return -errno;
		if ((fl & O_ACCMODE) != accmode)
			return -EACCES;
		fd = fcntl(buf->dmabuf_fd, F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? -errno : fd;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", buf->fd);
	fd = open(path, accmode | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/**
 * heap_describe() - one line of user.umm.heaps for @h (no newline)
 * Returns the length written or needed, like snprintf.
 */
int heap_describe(const struct heap *h, char *out, size_t n)
{
	char max[24] = "none", contig[24] = "0";
	char modes[64] = "";
	size_t len = 0;

	if (h->caps.max_size)
		parse_format_size(h->caps.max_size, max, sizeof(max));
	if (h->caps.contiguous)
		parse_format_size(h->caps.contig_max, contig, sizeof(contig));
	for (int m = 0; m < UMM_CACHE_NR; m++) {
		if (!(h->caps.cache_modes & (1u << m)))
			continue;
		len += snprintf(modes + len, sizeof(modes) - len, "%s%s", len ? "," : "",
				parse_cache_name(m));
	}
	return snprintf(out, n, "%s dmabuf=%s contiguous=%s cache=%s max_size=%s", h->name,
			h->caps.dmabuf ? "yes" : "no", h->caps.contiguous ? contig : "no", modes,
			max);
}

/**
 * heap_discover() - probe every backend; fills @heaps in default preference order
 * Returns 0 or -errno; *@n heaps were found (memfd is always among them).
 */
int heap_discover(struct heap *heaps, unsigned max, unsigned *n)
{
	int ret;

	*n = 0;
	if (max < 1)
		return -ENOSPC;
	memset(&heaps[0], 0, sizeof(heaps[0]));
	ret = memfd_heap_probe(&heaps[0]);
	if (ret)
		return ret;
	*n = 1;
	return 0;
}

/**
 * heap_release_all() - free what heap_discover() set up
 */
void heap_release_all(struct heap *heaps, unsigned n)
{
	(void)heaps;
	(void)n;
}
