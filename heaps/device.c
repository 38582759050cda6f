// SPDX-License-Identifier: MIT
/*
 * device.c - can a device use a buffer? (user.umm.devices)
 *
 * Only DRM devices can be asked: PRIME import of the dma-buf into a GEM
 * handle is the test, and it is what a real user of the device would do. The
 * path is a user's, and the daemon runs as root, so nothing is opened before
 * stat() shows a DRM character device: opening an arbitrary device node can
 * act on it (a watchdog starts counting, a tape rewinds).
 *
 * Open device fds are kept, keyed by device number, so the checks made at
 * every setxattr and at every buffer's allocation cost no open. One lock
 * covers the cache and the import itself: a GEM handle is per open file and
 * not reference-counted, so two threads importing the same dma-buf would get
 * the same handle and one would close it under the other.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <xf86drm.h>

#include "heap_i.h"

#define DEVICE_DRM_MAJOR 226
#define DEVICE_CACHE_MAX 16

/*
 * The cache is one process-wide object, not a heap's priv: the devices of
 * user.umm.devices need not be heaps at all, two heaps must not open the same
 * device twice, and heap_device_check() and heap_device_import() are called
 * by alloc/ with no heap or handle to reach one through.
 * heap_release_all() empties it.
 */
static struct device_cache {
	pthread_mutex_t lock;
	unsigned n;
	struct {
		dev_t rdev;
		int fd;
	} ent[DEVICE_CACHE_MAX];
} devices = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * An fd of DRM device @dev that has PRIME import, from the cache or opened
 * now. Called with devices.lock held. Returns the fd (owned by the cache) or
 * -errno with the reason in @why.
 */
static int device_open(const char *dev, char *why, size_t n)
{
	uint64_t prime = 0;
	struct stat st;
	int fd, ret;

	if (stat(dev, &st) < 0) {
		ret = -errno;
		snprintf(why, n, "cannot open %s: %s", dev, strerror(-ret));
		return ret;
	}
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != DEVICE_DRM_MAJOR) {
		snprintf(why, n, "%s: only DRM devices can be checked for import", dev);
		return -EOPNOTSUPP;
	}
	for (unsigned i = 0; i < devices.n; i++)
		if (devices.ent[i].rdev == st.st_rdev)
			return devices.ent[i].fd;
	fd = open(dev, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		snprintf(why, n, "cannot open %s: %s", dev, strerror(-ret));
		return ret;
	}
	/* opening a primary node first makes us its master: give that up (see drm.c) */
	drmDropMaster(fd);
	if (drmGetCap(fd, DRM_CAP_PRIME, &prime) || !(prime & DRM_PRIME_CAP_IMPORT)) {
		snprintf(why, n, "%s cannot import: no PRIME import", dev);
		close(fd);
		return -EOPNOTSUPP;
	}
	if (devices.n == DEVICE_CACHE_MAX) {
		/* a full cache: drop the oldest entry, whose fd no caller holds now */
		close(devices.ent[0].fd);
		memmove(&devices.ent[0], &devices.ent[1],
			sizeof(devices.ent[0]) * (DEVICE_CACHE_MAX - 1));
		devices.n--;
	}
	devices.ent[devices.n].rdev = st.st_rdev;
	devices.ent[devices.n].fd = fd;
	devices.n++;
	return fd;
}

/**
 * heap_device_check() - could @dev import dma-bufs at all?
 * @dev: a device path, as in user.umm.devices
 * @why: set to a one-line reason when the answer is no
 * @n:   the size of @why
 *
 * For validating user.umm.devices when it is set: @dev must exist, be a DRM
 * device, open, and have PRIME import. Thread-safe.
 * Returns 0, -EOPNOTSUPP (not a DRM device, or no PRIME import) or -errno
 * (cannot be found or opened: -ENOENT, -EACCES...).
 */
int heap_device_check(const char *dev, char *why, size_t n)
{
	int fd;

	pthread_mutex_lock(&devices.lock);
	fd = device_open(dev, why, n);
	pthread_mutex_unlock(&devices.lock);
	return fd < 0 ? fd : 0;
}

/**
 * heap_device_import() - can @dev import the dma-buf @dmabuf_fd?
 * @dev:       a device path, as in user.umm.devices
 * @dmabuf_fd: the buffer's dma-buf (the caller keeps it)
 * @why:       set to a one-line reason when the answer is no
 * @n:         the size of @why
 *
 * The checks of heap_device_check(), then a PRIME import of the buffer into
 * a GEM handle, which is closed at once. Thread-safe.
 * Returns 0, -EOPNOTSUPP or -errno as heap_device_check(), or the import's
 * -errno (-EINVAL, -ENOMEM... a device that cannot reach the memory).
 */
int heap_device_import(const char *dev, int dmabuf_fd, char *why, size_t n)
{
	uint32_t handle;
	int fd, ret;

	pthread_mutex_lock(&devices.lock);
	fd = device_open(dev, why, n);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	if (drmPrimeFDToHandle(fd, dmabuf_fd, &handle)) {
		ret = errno ? -errno : -EIO;
		snprintf(why, n, "%s cannot import: PRIME import failed: %s", dev, strerror(-ret));
		goto out;
	}
	drmCloseBufferHandle(fd, handle);
	ret = 0;
out:
	pthread_mutex_unlock(&devices.lock);
	return ret;
}

/**
 * heap_device_release() - close the device fds the checks keep
 *
 * Called by heap_release_all(); the cache fills again on the next check.
 */
void heap_device_release(void)
{
	pthread_mutex_lock(&devices.lock);
	for (unsigned i = 0; i < devices.n; i++)
		close(devices.ent[i].fd);
	devices.n = 0;
	pthread_mutex_unlock(&devices.lock);
}
