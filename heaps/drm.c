// SPDX-License-Identifier: MIT
/*
 * drm.c - the drm heaps: a dumb buffer on /dev/dri/cardN, exported by PRIME.
 *
 * One heap per card node that has dumb buffers and can export them, named
 * "drm:cardN". Dumb buffers are the one allocation every KMS driver offers,
 * and they can be scanned out; the driver maps them write-combined. Like a
 * dma-heap buffer, the memory is only a dma-buf: the daemon maps it once and
 * does its I/O through that mapping, and its size is fixed at allocation.
 *
 * A dumb buffer is asked for as width 1024, 32 bits a pixel (a pitch of one
 * page) and height size / 4096 rows. The kernel computes the size in 32 bits
 * (drm_mode_create_dumb), so one buffer is below 4 GiB.
 *
 * The GEM handle is closed as soon as the dma-buf exists: the dma-buf holds
 * the object, and no handle outlives the call, so the device fd, shared by
 * every thread, needs no lock (DRM ioctls are safe to issue concurrently and
 * each CREATE_DUMB gets a handle of its own).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>

#include "heap_i.h"

#define DRM_DIR "/dev/dri"
#define DRM_DUMB_BPP 32
#define DRM_DUMB_WIDTH 1024 /* rows of one page at 32 bpp */
/* the largest height * pitch drm_mode_create_dumb() accepts */
#define DRM_DUMB_MAX ((0xffffffffULL / HEAP_PAGE_SIZE) * HEAP_PAGE_SIZE)

/* the card's fd lives in h->priv for the daemon's life */
static int drm_dev_fd(const struct heap *h)
{
	return (int)(intptr_t)h->priv;
}

static void drm_close_handle(int fd, uint32_t handle)
{
	struct drm_gem_close gc = { .handle = handle };

	drmIoctl(fd, DRM_IOCTL_GEM_CLOSE, &gc);
}

static int drm_heap_alloc(struct heap *h, const struct heap_req *req, struct heap_buf *out)
{
	struct drm_mode_create_dumb create = {
		.height = (uint32_t)(req->size / HEAP_PAGE_SIZE),
		.width = DRM_DUMB_WIDTH,
		.bpp = DRM_DUMB_BPP,
	};
	int fd = drm_dev_fd(h), dfd, ret;
	void *map;

	if (!req->size)
		return -EINVAL;
	if (req->size > DRM_DUMB_MAX)
		return -ENOSPC;
	ret = heap_memory_fits(req->size);
	if (ret)
		return ret;
	if (drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &create))
		return errno == ENOMEM ? -ENOSPC : -errno;
	if (create.size < req->size) {
		drm_close_handle(fd, create.handle);
		return -ENOSPC;
	}
	ret = drmPrimeHandleToFD(fd, create.handle, DRM_CLOEXEC | DRM_RDWR, &dfd);
	if (ret)
		ret = errno ? -errno : -EIO;
	drm_close_handle(fd, create.handle);
	if (ret)
		return ret == -ENOMEM ? -ENOSPC : ret;
	map = mmap(NULL, req->size, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	if (map == MAP_FAILED) {
		ret = errno == ENOMEM ? -ENOSPC : -errno;
		close(dfd);
		return ret;
	}
	heap_dmabuf_set_name(dfd, req->name ? req->name : "umm");
	*out = (struct heap_buf){
		.fd = -1,
		.dmabuf_fd = dfd,
		.size = req->size,
		.align = HEAP_PAGE_SIZE,
		.sealed = true,
		.map = map,
	};
	return 0;
}

static void drm_heap_release(struct heap *h)
{
	close(drm_dev_fd(h));
}

static const struct heap_ops drm_heap_ops = {
	.alloc = drm_heap_alloc,
	.seal = heap_mapped_seal,
	.free = heap_mapped_free,
	.sync = heap_mapped_sync,
	.release = drm_heap_release,
};

/* "cardN", N decimal: the primary nodes */
static int is_card(const struct dirent *d)
{
	const char *p = d->d_name;

	if (strncmp(p, "card", 4) || !p[4])
		return 0;
	for (p += 4; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

static int by_number(const struct dirent **a, const struct dirent **b)
{
	unsigned long x = strtoul((*a)->d_name + 4, NULL, 10);
	unsigned long y = strtoul((*b)->d_name + 4, NULL, 10);

	return x < y ? -1 : x > y;
}

/*
 * Open card @name if it can be a heap: it has PRIME export, and a one-page
 * dumb buffer can be made, exported and mapped. The trial is the test because
 * DRM_CAP_DUMB_BUFFER is answered only by KMS drivers, while render-only
 * ones (vgem) make dumb buffers all the same.
 * The first opener of a primary node becomes its DRM master, which would keep
 * a compositor started later from taking the display: the master role is
 * dropped at once (dumb buffers and PRIME need none). Returns the fd or -1.
 */
static int drm_open_card(struct heap *h, int dirfd, const char *name)
{
	struct heap_req req = {
		.size = HEAP_PAGE_SIZE,
		.align = HEAP_PAGE_SIZE,
		.cache = UMM_CACHE_WRITECOMBINE,
		.name = "umm-probe",
	};
	struct heap_buf buf;
	uint64_t prime = 0;
	int fd = openat(dirfd, name, O_RDWR | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -1;
	drmDropMaster(fd);
	if (drmGetCap(fd, DRM_CAP_PRIME, &prime) || !(prime & DRM_PRIME_CAP_EXPORT))
		goto err_close;
	h->priv = (void *)(intptr_t)fd;
	if (drm_heap_alloc(h, &req, &buf))
		goto err_close;
	heap_mapped_free(h, &buf);
	return fd;

err_close:
	h->priv = NULL;
	close(fd);
	return -1;
}

/*
 * One heap per DRM card node that can export, /dev/dri/cardN in the order of
 * N; a card that cannot be opened, or cannot make, export and map a dumb
 * buffer, is skipped. Each heap keeps its card open in its priv until its
 * release. Returns 0 (also with *@n == 0, where there is no /dev/dri) or
 * -errno, with nothing kept open.
 */
static int drm_heap_probe(struct heap *heaps, unsigned max, unsigned *n)
{
	struct dirent **ents;
	int cnt, dirfd;

	*n = 0;
	dirfd = open(DRM_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return 0;
	cnt = scandir(DRM_DIR, &ents, is_card, by_number);
	if (cnt < 0) {
		int ret = -errno;

		close(dirfd);
		return ret;
	}
	for (int i = 0; i < cnt && *n < max; i++) {
		struct heap *h = &heaps[*n];
		const char *card = ents[i]->d_name;
		int fd;

		if (strlen(card) > UMM_HEAP_NAME_MAX - sizeof("drm:"))
			continue;
		memset(h, 0, sizeof(*h));
		fd = drm_open_card(h, dirfd, card);
		if (fd < 0)
			continue;
		snprintf(h->name, sizeof(h->name), "drm:%.*s", UMM_HEAP_NAME_MAX - 5, card);
		h->ops = &drm_heap_ops;
		h->priv = (void *)(intptr_t)fd;
		h->caps = (struct heap_caps){
			.dmabuf = true,
			.cache_modes = 1u << UMM_CACHE_WRITECOMBINE,
			.max_size = DRM_DUMB_MAX,
			.align = HEAP_PAGE_SIZE,
		};
		(*n)++;
	}
	for (int i = 0; i < cnt; i++)
		free(ents[i]);
	free(ents);
	close(dirfd);
	return 0;
}

const struct heap_backend drm_heap_backend = {
	.name = "drm",
	.probe = drm_heap_probe,
};
