// SPDX-License-Identifier: MIT
/*
 * memfd.c - the memfd heap: memfd_create() memory, CPU sharing only.
 *
 * Always present. Plain buffers are shmem pages with 4 KiB alignment and no
 * contiguity. Where 2 MiB huge pages are reserved (vm.nr_hugepages), a request
 * for 2 MiB alignment or for contiguity up to 2 MiB gets an MFD_HUGETLB memfd:
 * one huge page is physically contiguous, and the kernel reserves the pages at
 * mmap time, so the daemon maps the buffer once at allocation and serves reads
 * and writes through that mapping (hugetlbfs has no write(2)).
 *
 * Also the staging heap (heap_staging()): the same ops, plain growable memfds
 * for buffers still being filled, before their heap is chosen.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "heap_i.h"

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26)
#endif

static long read_long(const char *path)
{
	char buf[32] = "";
	long v = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 10);
	fclose(f);
	return v;
}

static int memfd_heap_alloc(struct heap *h, const struct heap_req *req, struct heap_buf *out)
{
	bool huge = req->contiguous || req->align > HEAP_PAGE_SIZE;
	uint64_t size = req->size;
	void *map = NULL;
	int fd, ret;

	(void)h;
	if (huge) {
		if (!size)
			return -EINVAL;
		size = (size + HEAP_HUGE_SIZE - 1) & ~(HEAP_HUGE_SIZE - 1);
	}
	fd = heap_memfd_new(req->name ? req->name : "umm", huge ? MFD_HUGETLB | MFD_HUGE_2MB : 0);
	if (fd < 0)
		return fd;
	if (ftruncate(fd, (off_t)size) < 0) {
		ret = errno == EFBIG ? -ENOSPC : -errno;
		goto err_close;
	}
	if (huge) {
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
		if (map == MAP_FAILED) {
			/* no reserved huge pages left */
			ret = errno == ENOMEM ? -ENOSPC : -errno;
			goto err_close;
		}
	}
	memset(out, 0, sizeof(*out));
	out->fd = fd;
	out->dmabuf_fd = -1;
	out->size = size;
	out->align = huge ? HEAP_HUGE_SIZE : HEAP_PAGE_SIZE;
	out->contiguous = huge && size <= HEAP_HUGE_SIZE;
	out->map = map;
	if (huge) {
		ret = fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK);
		if (ret < 0) {
			ret = -errno;
			munmap(map, size);
			goto err_close;
		}
		out->sealed = true;
	}
	return 0;

err_close:
	close(fd);
	return ret;
}

static int memfd_heap_resize(struct heap *h, struct heap_buf *buf, uint64_t size)
{
	(void)h;
	if (buf->map)
		return -EOPNOTSUPP;
	if (ftruncate(buf->fd, (off_t)size) < 0)
		return errno == EFBIG ? -ENOSPC : -errno;
	buf->size = size;
	return 0;
}

static int memfd_heap_seal(struct heap *h, struct heap_buf *buf)
{
	(void)h;
	if (fcntl(buf->fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK) < 0)
		return -errno;
	return 0;
}

static int memfd_heap_adopt(struct heap *h, const struct heap_req *req, struct heap_buf *buf)
{
	int ret;

	if (req->contiguous || req->align > HEAP_PAGE_SIZE || buf->map)
		return -EOPNOTSUPP;
	ret = memfd_heap_seal(h, buf);
	if (ret)
		return ret;
	buf->sealed = true;
	return 0;
}

static void memfd_heap_free(struct heap *h, struct heap_buf *buf)
{
	(void)h;
	if (buf->map)
		munmap(buf->map, buf->size);
	if (buf->fd >= 0)
		close(buf->fd);
}

static const struct heap_ops memfd_heap_ops = {
	.alloc = memfd_heap_alloc,
	.resize = memfd_heap_resize,
	.seal = memfd_heap_seal,
	.adopt = memfd_heap_adopt,
	.free = memfd_heap_free,
};

/*
 * The one memfd heap. Only memfd_create() missing makes it fail, and then
 * discovery fails: there is no heap without it.
 */
static int memfd_heap_probe(struct heap *heaps, unsigned max, unsigned *n)
{
	long huge = read_long("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
	struct heap *h = &heaps[0];
	int fd = heap_memfd_new("umm-probe", 0);

	(void)max;
	*n = 0;
	if (fd < 0)
		return fd;
	close(fd);
	snprintf(h->name, sizeof(h->name), "memfd");
	h->ops = &memfd_heap_ops;
	h->caps.dmabuf = false;
	h->caps.cache_modes = 1u << UMM_CACHE_CACHED;
	h->caps.growable = true;
	h->caps.max_size = 0;
	h->caps.contiguous = huge > 0;
	h->caps.contig_max = huge > 0 ? HEAP_HUGE_SIZE : 0;
	h->caps.align = huge > 0 ? HEAP_HUGE_SIZE : HEAP_PAGE_SIZE;
	*n = 1;
	return 0;
}

const struct heap_backend memfd_heap_backend = {
	.name = "memfd",
	.probe = memfd_heap_probe,
	.required = true,
};

/*
 * The staging heap stays a file-scope object, not state in a priv: it holds
 * nothing that changes (no fd, no count; only constants), and heap_staging()
 * takes no handle to hang it on, because alloc/ asks for it with none.
 */
static struct heap staging_heap = {
	.name = "staging",
	.ops = &memfd_heap_ops,
	.caps = {
		.cache_modes = 1u << UMM_CACHE_CACHED,
		.align = HEAP_PAGE_SIZE,
		.growable = true,
	},
};

/**
 * heap_staging() - the heap of buffers still being filled: plain growable memfds
 *
 * Not a choosable heap, not in the registry; a buffer is staged here until
 * its size is fixed, then its heap adopts the memfd or allocates and copies.
 * Returns the one staging heap, valid for the process's life.
 */
struct heap *heap_staging(void)
{
	return &staging_heap;
}
