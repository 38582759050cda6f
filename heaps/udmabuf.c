// SPDX-License-Identifier: MIT
/*
 * udmabuf.c - the udmabuf heap: a memfd, sealed against shrinking, wrapped as a
 * dma-buf by /dev/udmabuf.
 *
 * The memfd stays the daemon's I/O and passthrough fd; the dma-buf maps the
 * very same shmem pages, so what a client writes through the FUSE file is what
 * a device reads. Growable: a buffer is staged in a plain memfd and adopted at
 * seal time, with no copy. The kernel refuses a memfd that could shrink (the
 * dma-buf pins its pages), so the size is fixed before UDMABUF_CREATE.
 *
 * Limits are the module's: size_limit_mb caps one buffer (64 MiB by default),
 * read at probe time and again when the kernel refuses a size, as root may
 * change it at run time. list_limit caps the entries of UDMABUF_CREATE_LIST,
 * which is not used here (one memfd, one entry).
 *
 * /dev/udmabuf is opened by the probe and kept in the heap's priv until its
 * release: no state at file scope.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/udmabuf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "heap_i.h"

#define UDMABUF_DEV "/dev/udmabuf"
#define UDMABUF_PARAMS "/sys/module/udmabuf/parameters/"
#define UDMABUF_SIZE_LIMIT_MB_DEFAULT 64

/* the heap's /dev/udmabuf fd lives in h->priv for the daemon's life */
static int udmabuf_dev_fd(const struct heap *h)
{
	return (int)(intptr_t)h->priv;
}

static long read_param(const char *name, long dflt)
{
	char path[128], buf[32] = "";
	long v = dflt;
	char *end;
	FILE *f;

	snprintf(path, sizeof(path), UDMABUF_PARAMS "%s", name);
	f = fopen(path, "re");
	if (!f)
		return dflt;
	if (fgets(buf, sizeof(buf), f)) {
		errno = 0;
		v = strtol(buf, &end, 10);
		if (errno || end == buf || v <= 0)
			v = dflt;
	}
	fclose(f);
	return v;
}

static uint64_t udmabuf_size_limit(void)
{
	return (uint64_t)read_param("size_limit_mb", UDMABUF_SIZE_LIMIT_MB_DEFAULT) << 20;
}

/*
 * Wrap @memfd (size fixed and sealed against shrinking) as a dma-buf of @size
 * bytes with @h's device. Returns the dma-buf fd or -errno: -ENOSPC above the
 * module's limit, which the kernel reports as EINVAL (E2BIG on some versions).
 */
static int udmabuf_wrap(struct heap *h, int memfd, uint64_t size)
{
	struct udmabuf_create create = {
		.memfd = (__u32)memfd,
		.flags = UDMABUF_FLAGS_CLOEXEC,
		.offset = 0,
		.size = size,
	};
	int fd, err;

	do {
		fd = ioctl(udmabuf_dev_fd(h), UDMABUF_CREATE, &create);
	} while (fd < 0 && errno == EINTR);
	if (fd >= 0)
		return fd;
	err = errno;
	if (err == E2BIG || (err == EINVAL && size > udmabuf_size_limit()))
		return -ENOSPC;
	return -err;
}

/*
 * Make the memfd of @buf (unsealed, no dma-buf yet, @buf->size > 0) a udmabuf:
 * its length is raised to whole pages (udmabuf maps whole pages only), then it
 * is sealed, then wrapped. Sealing cannot be undone, so every refusal that can
 * be foreseen comes first; if the kernel still refuses the wrap, @buf is left
 * sealed (and marked so) at its page-rounded size and the error is returned.
 */
static int udmabuf_make(struct heap *h, struct heap_buf *buf, const char *name)
{
	uint64_t size = heap_page_round(buf->size);
	struct stat st;
	int dfd;

	if (!size)
		return -EINVAL;
	if (size > udmabuf_size_limit())
		return -ENOSPC;
	if (fstat(buf->fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size < size && ftruncate(buf->fd, (off_t)size) < 0)
		return errno == EFBIG ? -ENOSPC : -errno;
	buf->size = size;
	if (fcntl(buf->fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK) < 0)
		return -errno;
	buf->sealed = true;
	dfd = udmabuf_wrap(h, buf->fd, size);
	if (dfd < 0)
		return dfd;
	heap_dmabuf_set_name(dfd, name ? name : "umm");
	buf->dmabuf_fd = dfd;
	buf->align = HEAP_PAGE_SIZE;
	buf->contiguous = false;
	return 0;
}

/*
 * A buffer of size 0 starts as a bare memfd (there is no empty dma-buf) and
 * gets its dma-buf when it is sealed; the store stages such buffers on the
 * staging heap instead, so this is for the interface's growable contract.
 */
static int udmabuf_heap_alloc(struct heap *h, const struct heap_req *req, struct heap_buf *out)
{
	struct heap_buf buf = { .dmabuf_fd = -1, .size = req->size, .align = HEAP_PAGE_SIZE };
	int ret;

	/* contiguity and alignment above a page never get here (caps) */
	buf.fd = heap_memfd_new(req->name ? req->name : "umm", 0);
	if (buf.fd < 0)
		return buf.fd;
	if (ftruncate(buf.fd, (off_t)req->size) < 0) {
		ret = errno == EFBIG ? -ENOSPC : -errno;
		goto err_close;
	}
	if (req->size) {
		ret = udmabuf_make(h, &buf, req->name);
		if (ret)
			goto err_close;
	}
	*out = buf;
	return 0;

err_close:
	close(buf.fd);
	return ret;
}

/* only a buffer allocated empty and not yet sealed has no dma-buf */
static int udmabuf_heap_resize(struct heap *h, struct heap_buf *buf, uint64_t size)
{
	(void)h;
	if (buf->dmabuf_fd >= 0)
		return -EPERM;
	if (ftruncate(buf->fd, (off_t)size) < 0)
		return errno == EFBIG ? -ENOSPC : -errno;
	buf->size = size;
	return 0;
}

static int udmabuf_heap_seal(struct heap *h, struct heap_buf *buf)
{
	if (buf->dmabuf_fd < 0 && buf->size)
		return udmabuf_make(h, buf, NULL);
	if (fcntl(buf->fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK) < 0)
		return -errno;
	return 0;
}

/* the staged memfd becomes the buffer, with no copy */
static int udmabuf_heap_adopt(struct heap *h, const struct heap_req *req, struct heap_buf *buf)
{
	if (req->contiguous || req->align > HEAP_PAGE_SIZE || buf->map || buf->fd < 0 ||
	    buf->dmabuf_fd >= 0 || !buf->size)
		return -EOPNOTSUPP;
	return udmabuf_make(h, buf, req->name);
}

static void udmabuf_heap_free(struct heap *h, struct heap_buf *buf)
{
	(void)h;
	if (buf->dmabuf_fd >= 0)
		close(buf->dmabuf_fd);
	if (buf->fd >= 0)
		close(buf->fd);
}

static int udmabuf_heap_sync(struct heap *h, struct heap_buf *buf, unsigned flags)
{
	(void)h;
	if (buf->dmabuf_fd < 0)
		return 0;
	return heap_dmabuf_sync(buf->dmabuf_fd, flags);
}

static void udmabuf_heap_release(struct heap *h)
{
	close(udmabuf_dev_fd(h));
}

static const struct heap_ops udmabuf_heap_ops = {
	.alloc = udmabuf_heap_alloc,
	.resize = udmabuf_heap_resize,
	.seal = udmabuf_heap_seal,
	.adopt = udmabuf_heap_adopt,
	.free = udmabuf_heap_free,
	.sync = udmabuf_heap_sync,
	.release = udmabuf_heap_release,
};

/*
 * The udmabuf heap, where /dev/udmabuf opens: none (0, *@n == 0) where it
 * does not. Its fd is kept in the heap's priv until the heap's release.
 */
static int udmabuf_heap_probe(struct heap *heaps, unsigned max, unsigned *n)
{
	long limit_mb = read_param("size_limit_mb", UDMABUF_SIZE_LIMIT_MB_DEFAULT);
	struct heap *h = &heaps[0];
	int fd;

	(void)max;
	*n = 0;
	fd = open(UDMABUF_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	snprintf(h->name, sizeof(h->name), "udmabuf");
	h->ops = &udmabuf_heap_ops;
	h->caps = (struct heap_caps){
		.dmabuf = true,
		.contiguous = false,
		.cache_modes = 1u << UMM_CACHE_CACHED,
		.max_size = (uint64_t)limit_mb << 20,
		.align = HEAP_PAGE_SIZE,
		.growable = true,
	};
	h->priv = (void *)(intptr_t)fd;
	*n = 1;
	return 0;
}

const struct heap_backend udmabuf_heap_backend = {
	.name = "udmabuf",
	.probe = udmabuf_heap_probe,
};
