// SPDX-License-Identifier: MIT
/*
 * device.c - can a device use a buffer? (user.umm.devices)
 *
 * Two kinds of device can be asked, each with what a real user of it does:
 * a DRM device imports the dma-buf into a GEM handle (PRIME); a V4L2 video
 * node (capture or output, single-planar, streaming) takes it as a buffer of
 * its queue: VIDIOC_REQBUFS of one V4L2_MEMORY_DMABUF buffer, then
 * VIDIOC_PREPARE_BUF of the dma-buf at the node's current format (vb2 checks
 * that it holds sizeimage bytes), then the queue is freed again. A node
 * another process streams on refuses (EBUSY): check before streaming. The
 * path is a user's, and the daemon runs as root, so nothing is opened before
 * stat() shows a DRM or V4L2 character device: opening an arbitrary device
 * node can act on it (a watchdog starts counting, a tape rewinds).
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
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <xf86drm.h>

#include "heap_i.h"

#define DEVICE_DRM_MAJOR 226
#define DEVICE_V4L2_MAJOR 81
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
		uint32_t v4l2_type; /* V4L2_BUF_TYPE_VIDEO_*, 0 for a DRM device */
	} ent[DEVICE_CACHE_MAX];
} devices = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * An fd of DRM device @dev that has PRIME import, from the cache or opened
 * now. Called with devices.lock held. Returns the fd (owned by the cache) or
 * -errno with the reason in @why.
 */
/*
 * Can V4L2 node @fd (@dev) take dma-bufs? Its queue type (capture or output,
 * single-planar) into *@type: 0, or -EOPNOTSUPP with the reason in @why.
 */
static int v4l2_usable(int fd, const char *dev, uint32_t *type, char *why, size_t n)
{
	struct v4l2_requestbuffers rb = { .count = 0, .memory = V4L2_MEMORY_DMABUF };
	struct v4l2_capability cap = { 0 };
	uint32_t caps;

	if (ioctl(fd, VIDIOC_QUERYCAP, &cap) < 0) {
		snprintf(why, n, "%s: VIDIOC_QUERYCAP: %s", dev, strerror(errno));
		return -EOPNOTSUPP;
	}
	caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
	if (caps & V4L2_CAP_VIDEO_CAPTURE)
		*type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	else if (caps & V4L2_CAP_VIDEO_OUTPUT)
		*type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	else {
		snprintf(why, n, "%s is no single-planar video capture or output node", dev);
		return -EOPNOTSUPP;
	}
	if (!(caps & V4L2_CAP_STREAMING)) {
		snprintf(why, n, "%s cannot stream", dev);
		return -EOPNOTSUPP;
	}
	rb.type = *type;
	if (ioctl(fd, VIDIOC_REQBUFS, &rb) < 0 ||
	    !(rb.capabilities & V4L2_BUF_CAP_SUPPORTS_DMABUF)) {
		snprintf(why, n, "%s cannot import: its queue takes no dma-bufs", dev);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int device_open(const char *dev, char *why, size_t n, uint32_t *v4l2_type)
{
	uint64_t prime = 0;
	uint32_t type = 0;
	struct stat st;
	int fd, ret;

	if (stat(dev, &st) < 0) {
		ret = -errno;
		snprintf(why, n, "cannot open %s: %s", dev, strerror(-ret));
		return ret;
	}
	if (!S_ISCHR(st.st_mode) ||
	    (major(st.st_rdev) != DEVICE_DRM_MAJOR && major(st.st_rdev) != DEVICE_V4L2_MAJOR)) {
		snprintf(why, n,
			 "%s: only DRM devices and V4L2 video nodes can be checked for import",
			 dev);
		return -EOPNOTSUPP;
	}
	for (unsigned i = 0; i < devices.n; i++)
		if (devices.ent[i].rdev == st.st_rdev) {
			*v4l2_type = devices.ent[i].v4l2_type;
			return devices.ent[i].fd;
		}
	fd = open(dev, O_RDWR | O_CLOEXEC | O_NOCTTY |
			       (major(st.st_rdev) == DEVICE_V4L2_MAJOR ? O_NONBLOCK : 0));
	if (fd < 0) {
		ret = -errno;
		snprintf(why, n, "cannot open %s: %s", dev, strerror(-ret));
		return ret;
	}
	if (major(st.st_rdev) == DEVICE_V4L2_MAJOR) {
		ret = v4l2_usable(fd, dev, &type, why, n);
		if (ret) {
			close(fd);
			return ret;
		}
	} else {
		/* opening a primary node first makes us its master: give that up (see drm.c) */
		drmDropMaster(fd);
		if (drmGetCap(fd, DRM_CAP_PRIME, &prime) || !(prime & DRM_PRIME_CAP_IMPORT)) {
			snprintf(why, n, "%s cannot import: no PRIME import", dev);
			close(fd);
			return -EOPNOTSUPP;
		}
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
	devices.ent[devices.n].v4l2_type = type;
	devices.n++;
	*v4l2_type = type;
	return fd;
}

/*
 * V4L2 node @fd (@dev, queue @type) takes dma-buf @dmabuf_fd as a buffer at
 * its current format? One buffer is requested, prepared and freed again.
 * Returns 0 or -errno with the reason (the size the node needs) in @why.
 */
static int v4l2_import(int fd, const char *dev, uint32_t type, int dmabuf_fd, char *why, size_t n)
{
	struct v4l2_requestbuffers rb = { .count = 1, .type = type, .memory = V4L2_MEMORY_DMABUF };
	struct v4l2_format fmt = { .type = type };
	struct v4l2_buffer vb = { .index = 0, .type = type, .memory = V4L2_MEMORY_DMABUF };
	off_t size = lseek(dmabuf_fd, 0, SEEK_END);
	char fourcc[5];
	int ret = 0;

	if (ioctl(fd, VIDIOC_G_FMT, &fmt) < 0) {
		ret = -errno;
		snprintf(why, n, "%s: VIDIOC_G_FMT: %s", dev, strerror(-ret));
		return ret;
	}
	if (ioctl(fd, VIDIOC_REQBUFS, &rb) < 0 || rb.count < 1) {
		ret = rb.count < 1 ? -ENOMEM : -errno;
		snprintf(why, n, "%s cannot import: VIDIOC_REQBUFS: %s%s", dev, strerror(-ret),
			 ret == -EBUSY ? " (another process streams on it)" : "");
		return ret;
	}
	vb.m.fd = dmabuf_fd;
	vb.length = size > 0 ? (uint32_t)size : 0;
	if (ioctl(fd, VIDIOC_PREPARE_BUF, &vb) < 0) {
		ret = -errno;
		memcpy(fourcc, &fmt.fmt.pix.pixelformat, 4);
		fourcc[4] = '\0';
		if (size >= 0 && (uint64_t)size < fmt.fmt.pix.sizeimage)
			snprintf(
				why, n,
				"%s needs %u bytes a buffer (%ux%u %s, %u bytes a line); this one has %lld",
				dev, fmt.fmt.pix.sizeimage, fmt.fmt.pix.width, fmt.fmt.pix.height,
				fourcc, fmt.fmt.pix.bytesperline, (long long)size);
		else
			snprintf(why, n, "%s cannot import: VIDIOC_PREPARE_BUF: %s", dev,
				 strerror(-ret));
	}
	rb.count = 0;
	ioctl(fd, VIDIOC_REQBUFS, &rb);
	return ret;
}

/**
 * heap_device_check() - could @dev import dma-bufs at all?
 * @dev: a device path, as in user.umm.devices
 * @why: set to a one-line reason when the answer is no
 * @n:   the size of @why
 *
 * For validating user.umm.devices when it is set: @dev must exist, be a DRM
 * device with PRIME import or a streaming V4L2 capture or output node whose
 * queue takes dma-bufs, and open. Thread-safe.
 * Returns 0, -EOPNOTSUPP (no such device, or it cannot import) or -errno
 * (cannot be found or opened: -ENOENT, -EACCES...).
 */
int heap_device_check(const char *dev, char *why, size_t n)
{
	uint32_t type;
	int fd;

	pthread_mutex_lock(&devices.lock);
	fd = device_open(dev, why, n, &type);
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
 * a GEM handle, which is closed at once, or for a V4L2 node one prepared
 * buffer of its queue at its current format, freed at once. Thread-safe.
 * Returns 0, -EOPNOTSUPP or -errno as heap_device_check(), or the import's
 * -errno (-EINVAL, -ENOMEM... a device that cannot reach the memory).
 */
int heap_device_import(const char *dev, int dmabuf_fd, char *why, size_t n)
{
	uint32_t handle, type;
	int fd, ret;

	pthread_mutex_lock(&devices.lock);
	fd = device_open(dev, why, n, &type);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	if (type) {
		ret = v4l2_import(fd, dev, type, dmabuf_fd, why, n);
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
 * heap_device_sizeimage() - how many bytes a buffer of V4L2 node @dev needs
 * @dev:  a V4L2 video node path (capture or output, single-planar)
 * @size: set to the sizeimage of the node's current format (VIDIOC_G_FMT)
 * @desc: set to the format, as "640x360 YUYV, 1280 bytes a line"
 * @dn:   the size of @desc
 * @why:  set to a one-line reason when there is no answer
 * @n:    the size of @why
 *
 * For user.umm.size_from. The node is checked as by heap_device_check().
 * G_FMT needs no queue, so this works while another process streams.
 * Thread-safe. Returns 0, -EOPNOTSUPP (a DRM device, or a node that cannot
 * import) or -errno as heap_device_check().
 */
int heap_device_sizeimage(const char *dev, uint64_t *size, char *desc, size_t dn, char *why,
			  size_t n)
{
	struct v4l2_format fmt = { 0 };
	uint32_t type;
	char fourcc[5];
	int fd, ret = 0;

	pthread_mutex_lock(&devices.lock);
	fd = device_open(dev, why, n, &type);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	if (!type) {
		snprintf(why, n, "%s is a DRM device: it has no format to take a size from", dev);
		ret = -EOPNOTSUPP;
		goto out;
	}
	fmt.type = type;
	if (ioctl(fd, VIDIOC_G_FMT, &fmt) < 0) {
		ret = -errno;
		snprintf(why, n, "%s: VIDIOC_G_FMT: %s", dev, strerror(-ret));
		goto out;
	}
	if (!fmt.fmt.pix.sizeimage) {
		snprintf(why, n, "%s reports a sizeimage of 0", dev);
		ret = -EINVAL;
		goto out;
	}
	*size = fmt.fmt.pix.sizeimage;
	memcpy(fourcc, &fmt.fmt.pix.pixelformat, 4);
	fourcc[4] = '\0';
	snprintf(desc, dn, "%ux%u %s, %u bytes a line", fmt.fmt.pix.width, fmt.fmt.pix.height,
		 fourcc, fmt.fmt.pix.bytesperline);
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
