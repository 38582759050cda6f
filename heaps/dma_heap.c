// SPDX-License-Identifier: MIT
/*
 * dma_heap.c - the dma-heap heaps: DMA_HEAP_IOCTL_ALLOC on /dev/dma_heap/NAME.
 *
 * One heap per entry of /dev/dma_heap, named "dma-heap:NAME". The memory is a
 * dma-buf and nothing else: there is no memfd, so the daemon maps the dma-buf
 * once at allocation and does all its I/O through that mapping, and FUSE
 * passthrough (which needs read_iter/write_iter) is not possible. The size is
 * fixed at allocation: not growable, no adopt (the core allocates and copies).
 *
 * The kernel says nothing about what a heap gives, so it is read from the name
 * by the conventions the upstream and vendor kernels follow:
 *  - "cma", "reserved" or "carveout" in the name: a CMA area or a reserved
 *    carveout, physically contiguous, bounded by CmaTotal (/proc/meminfo; for
 *    a carveout that is only an upper bound, the kernel refuses beyond it;
 *    without CmaTotal, contiguous up to MemTotal and no size limit);
 *  - "uncached" in the name (system-uncached and the like): mapped uncached or
 *    write-combined by the exporter, never cached;
 *  - anything else ("system"): scattered pages, cached.
 *
 * A heap of scattered pages takes them as it goes and, asked for more than
 * there is, runs into the OOM killer (seen with the system heap on 6.12): a
 * request above MemAvailable is refused with -ENOSPC before the ioctl.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-heap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "heap_i.h"

#define DMA_HEAP_DIR "/dev/dma_heap"
#define DMA_HEAP_PREFIX "dma-heap:"

/* the heap's /dev/dma_heap/NAME fd lives in h->priv for the daemon's life */
static int dma_heap_dev_fd(const struct heap *h)
{
	return (int)(intptr_t)h->priv;
}

static int dma_heap_alloc(struct heap *h, const struct heap_req *req, struct heap_buf *out)
{
	struct dma_heap_allocation_data data = {
		.len = req->size,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	void *map;
	int ret;

	if (!req->size)
		return -EINVAL;
	/* the system heap allocates page by page until the OOM killer stops it */
	if (!h->caps.contiguous) {
		ret = heap_memory_fits(req->size);
		if (ret)
			return ret;
	}
	do {
		ret = ioctl(dma_heap_dev_fd(h), DMA_HEAP_IOCTL_ALLOC, &data);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return errno == ENOMEM ? -ENOSPC : -errno;
	map = mmap(NULL, req->size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)data.fd, 0);
	if (map == MAP_FAILED) {
		ret = errno == ENOMEM ? -ENOSPC : -errno;
		close((int)data.fd);
		return ret;
	}
	heap_dmabuf_set_name((int)data.fd, req->name ? req->name : "umm");
	*out = (struct heap_buf){
		.fd = -1,
		.dmabuf_fd = (int)data.fd,
		.size = req->size,
		.align = HEAP_PAGE_SIZE,
		.contiguous = h->caps.contiguous,
		.sealed = true,
		.map = map,
	};
	return 0;
}

static void dma_heap_release(struct heap *h)
{
	close(dma_heap_dev_fd(h));
}

static const struct heap_ops dma_heap_ops = {
	.alloc = dma_heap_alloc,
	.seal = heap_mapped_seal,
	.free = heap_mapped_free,
	.sync = heap_mapped_sync,
	.release = dma_heap_release,
};

/* the field @key ("CmaTotal:") of /proc/meminfo in bytes, 0 if absent */
static uint64_t meminfo_bytes(const char *key)
{
	size_t klen = strlen(key);
	unsigned long long kb = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen)) {
			if (sscanf(line + klen, " %llu kB", &kb) != 1)
				kb = 0;
			break;
		}
	}
	fclose(f);
	return (uint64_t)kb << 10;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static void dma_heap_setup(struct heap *h, const char *heap_name, const char *name, int fd)
{
	bool contig = strstr(name, "cma") || strstr(name, "reserved") || strstr(name, "carveout");
	uint64_t cma = contig ? meminfo_bytes("CmaTotal:") : 0;

	memset(h, 0, sizeof(*h));
	/* the caller checked that @heap_name, NUL included, fits */
	memcpy(h->name, heap_name, sizeof(h->name));
	h->ops = &dma_heap_ops;
	h->priv = (void *)(intptr_t)fd;
	h->caps.dmabuf = true;
	h->caps.contiguous = contig;
	h->caps.max_size = cma;
	/* a carveout outside CMA: bounded by memory, the kernel says the rest */
	h->caps.contig_max = contig && !cma ? meminfo_bytes("MemTotal:") : cma;
	if (strstr(name, "uncached"))
		h->caps.cache_modes = 1u << UMM_CACHE_UNCACHED | 1u << UMM_CACHE_WRITECOMBINE;
	else
		h->caps.cache_modes = 1u << UMM_CACHE_CACHED;
	h->caps.align = HEAP_PAGE_SIZE;
	h->caps.growable = false;
}

/*
 * One heap per entry of /dev/dma_heap, in name order; an entry that cannot be
 * opened, or whose "dma-heap:NAME" does not fit a heap name, is skipped (the
 * core drops a name with bytes a heap name may not have). Each heap keeps its
 * device open in its priv until its release. Returns 0 (also with *@n == 0,
 * where there is no /dev/dma_heap) or -errno, with nothing kept open.
 */
static int dma_heap_probe(struct heap *heaps, unsigned max, unsigned *n)
{
	char full[sizeof(DMA_HEAP_PREFIX) + sizeof(((struct dirent *)0)->d_name)];
	struct dirent **ents;
	int cnt, dfd;

	*n = 0;
	dfd = open(DMA_HEAP_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 0;
	cnt = scandir(DMA_HEAP_DIR, &ents, not_dot, by_name);
	if (cnt < 0) {
		int ret = -errno;

		close(dfd);
		return ret;
	}
	for (int i = 0; i < cnt; i++) {
		const char *name = ents[i]->d_name;
		int len = snprintf(full, sizeof(full), DMA_HEAP_PREFIX "%s", name);
		int fd;

		if (*n >= max || len < 0 || (size_t)len >= UMM_HEAP_NAME_MAX)
			continue;
		fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		dma_heap_setup(&heaps[*n], full, name, fd);
		(*n)++;
	}
	for (int i = 0; i < cnt; i++)
		free(ents[i]);
	free(ents);
	close(dfd);
	return 0;
}

const struct heap_backend dma_heap_heap_backend = {
	.name = "dma-heap",
	.probe = dma_heap_probe,
};
