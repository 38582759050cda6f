// SPDX-License-Identifier: MIT
/*
 * demo_v4l2.c - umm-demo with real devices at both ends (--camera,
 * --display). The producer is a V4L2 video capture node writing each frame
 * straight into a ring buffer's dma-buf (V4L2_MEMORY_DMABUF); the consumer
 * queues the same dma-buf to a V4L2 video output node:
 *
 *   camera --DQBUF--> producer --FRAME k, sum--> filter --FRAME k--> consumer --QBUF--> output
 *      ^                 |                                              |
 *      +------QBUF-------+<-----------------FREE slot------------(DQBUF)+
 *
 * No byte is copied. The producer reads each frame once to sum it as the
 * camera wrote it, the filter (demo_roles.c) inverts every bit in place, and
 * the consumer reads it once to check that the inverse of what it sees sums
 * to the camera's sum before it hands the buffer to the output. A camera
 * that wrote nothing into a slot would leave the filter's inverted previous
 * frame there: the producer checks for that too.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <umm.h>

#include "demo_i.h"

/* A device that gives no frame and no buffer back for this long is stuck. */
#define V4L2_WAIT_MS 10000

const char *demo_fourcc(uint32_t fourcc, char buf[5])
{
	for (int i = 0; i < 4; i++) {
		char ch = (char)((fourcc >> (8 * i)) & 0xff);

		buf[i] = ch > ' ' && ch < 127 ? ch : '.';
	}
	buf[4] = '\0';
	return buf;
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do
		r = ioctl(fd, req, arg);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

/*
 * Open V4L2 node @dev, which must be a single-planar streaming video output
 * (@output) or capture node, and read its format into @fmt.
 * Returns the fd, or -errno with a message printed.
 */
static int open_node(const char *dev, bool output, struct v4l2_format *fmt)
{
	uint32_t want = output ? V4L2_CAP_VIDEO_OUTPUT : V4L2_CAP_VIDEO_CAPTURE, caps;
	struct v4l2_capability cap = { 0 };
	int fd, ret;

	fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		tool_complain(-ret, "%s", dev);
		return ret;
	}
	ret = xioctl(fd, VIDIOC_QUERYCAP, &cap);
	if (ret < 0) {
		tool_complain(-ret, "%s: VIDIOC_QUERYCAP (is it a V4L2 node?)", dev);
		goto fail;
	}
	caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
	if (!(caps & want) || !(caps & V4L2_CAP_STREAMING)) {
		tool_complain(0, "%s (%s) is no single-planar streaming video %s node", dev,
			      (const char *)cap.card, output ? "output" : "capture");
		ret = -EINVAL;
		goto fail;
	}
	*fmt = (struct v4l2_format){ .type = output ? V4L2_BUF_TYPE_VIDEO_OUTPUT :
						      V4L2_BUF_TYPE_VIDEO_CAPTURE };
	ret = xioctl(fd, VIDIOC_G_FMT, fmt);
	if (ret < 0) {
		tool_complain(-ret, "%s: VIDIOC_G_FMT", dev);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return ret;
}

static void fmt_from(struct demo_fmt *f, const struct v4l2_format *v)
{
	*f = (struct demo_fmt){
		.width = v->fmt.pix.width,
		.height = v->fmt.pix.height,
		.pixelformat = v->fmt.pix.pixelformat,
		.bytesperline = v->fmt.pix.bytesperline,
		.sizeimage = v->fmt.pix.sizeimage,
	};
}

/** demo_v4l2_get_fmt() - the current format of capture (or @output) node @dev */
int demo_v4l2_get_fmt(const char *dev, bool output, struct demo_fmt *f)
{
	struct v4l2_format v;
	int fd = open_node(dev, output, &v);

	if (fd < 0)
		return fd;
	fmt_from(f, &v);
	close(fd);
	return 0;
}

static bool same_fmt(const struct demo_fmt *a, const struct demo_fmt *b)
{
	return a->width == b->width && a->height == b->height && a->pixelformat == b->pixelformat &&
	       a->bytesperline == b->bytesperline;
}

/**
 * demo_v4l2_negotiate() - the camera's format, and the display's set to it
 * @cfg: the options (camera and display paths)
 * @cam: the camera's current format (it is not changed)
 * @out: the display's format after asking it for the camera's (VIDIOC_S_FMT);
 *       a display that cannot take it keeps its own, which is said
 *
 * Return: 0, or -errno with a message printed.
 */
int demo_v4l2_negotiate(const struct demo_config *cfg, struct demo_fmt *cam, struct demo_fmt *out)
{
	struct v4l2_format v;
	char a[5], b[5];
	int fd, ret;

	ret = demo_v4l2_get_fmt(cfg->camera, false, cam);
	if (ret < 0 || !cfg->display)
		return ret;
	fd = open_node(cfg->display, true, &v);
	if (fd < 0)
		return fd;
	fmt_from(out, &v);
	if (!same_fmt(cam, out)) {
		v.fmt.pix.width = cam->width;
		v.fmt.pix.height = cam->height;
		v.fmt.pix.pixelformat = cam->pixelformat;
		v.fmt.pix.bytesperline = cam->bytesperline;
		v.fmt.pix.sizeimage = 0;
		ret = xioctl(fd, VIDIOC_S_FMT, &v);
		if (ret < 0) {
			tool_complain(-ret, "%s: VIDIOC_S_FMT %ux%u %s", cfg->display, cam->width,
				      cam->height, demo_fourcc(cam->pixelformat, a));
			close(fd);
			return ret;
		}
		fmt_from(out, &v);
	}
	close(fd);
	if (!same_fmt(cam, out))
		tool_say("%s shows %ux%u %s (%u bytes a line), not the camera's %ux%u %s (%u): it "
			 "shows the camera's bytes at its own size",
			 cfg->display, out->width, out->height, demo_fourcc(out->pixelformat, a),
			 out->bytesperline, cam->width, cam->height,
			 demo_fourcc(cam->pixelformat, b), cam->bytesperline);
	return 0;
}

/* Is @fd a dma-buf? /proc names what an fd is. */
static bool is_dmabuf(int fd)
{
	char path[64], link[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	return strstr(link, "dmabuf") != NULL;
}

/*
 * The dma-buf of every slot, for the device: the fd map_slot() got from
 * libumm where it has one, else one from umm_export() of the FUSE fd.
 */
static int slot_dmabufs(struct role_ctx *c)
{
	char heap[64] = "";
	struct stat st;

	for (unsigned int i = 0; i < c->cfg->ring; i++) {
		struct slot *s = &c->slots[i];

		s->dmabuf = s->mfd >= 0 ? s->mfd : umm_export(s->fd);
		if (s->dmabuf < 0) {
			tool_complain(errno, "umm_export of frame%u", i);
			return -errno;
		}
		if (!is_dmabuf(s->dmabuf)) {
			if (fgetxattr(s->fd, "user.umm.heap", heap, sizeof(heap) - 1) < 0)
				snprintf(heap, sizeof(heap), "?");
			tool_complain(0,
				      "frame%u is a buffer of heap %s, which makes no dma-buf: a "
				      "device cannot take it",
				      i, heap);
			return -EOPNOTSUPP;
		}
		if (fstat(s->fd, &st) < 0 || st.st_size < (off_t)c->frame_bytes ||
		    st.st_size > UINT32_MAX) {
			tool_complain(0, "frame%u is %jd bytes, a frame %zu", i,
				      (intmax_t)st.st_size, c->frame_bytes);
			return -EINVAL;
		}
		s->len = (uint32_t)st.st_size;
	}
	return 0;
}

/* Open the role's node, check its format still fits, and ask for a queue of the ring. */
static int open_device(struct role_ctx *c, const char *dev, bool output, struct v4l2_format *fmt)
{
	struct v4l2_requestbuffers rb = { .count = c->cfg->ring,
					  .type = output ? V4L2_BUF_TYPE_VIDEO_OUTPUT :
							   V4L2_BUF_TYPE_VIDEO_CAPTURE,
					  .memory = V4L2_MEMORY_DMABUF };
	int ret;

	c->dev = open_node(dev, output, fmt);
	if (c->dev < 0)
		return c->dev;
	if (fmt->fmt.pix.sizeimage > c->slots[0].len ||
	    (!output && fmt->fmt.pix.sizeimage != c->frame_bytes)) {
		tool_complain(0,
			      "%s's format changed since the ring was made: %u bytes a frame now",
			      dev, fmt->fmt.pix.sizeimage);
		return -EINVAL;
	}
	ret = xioctl(c->dev, VIDIOC_REQBUFS, &rb);
	if (ret < 0) {
		tool_complain(-ret, "%s: VIDIOC_REQBUFS of %u dma-bufs%s", dev, c->cfg->ring,
			      ret == -EBUSY ? " (another process streams on it)" : "");
		return ret;
	}
	if (rb.count < c->cfg->ring) {
		tool_complain(0, "%s takes %u buffers, not the ring's %u", dev, rb.count,
			      c->cfg->ring);
		return -ENOMEM;
	}
	return 0;
}

/* Queue slot @i to the role's device: its dma-buf, @used bytes of it for an output. */
static int queue_slot(struct role_ctx *c, const struct v4l2_format *fmt, unsigned int i,
		      const char *dev)
{
	struct v4l2_buffer b = {
		.index = i,
		.type = fmt->type,
		.memory = V4L2_MEMORY_DMABUF,
		.field = fmt->fmt.pix.field,
		.length = c->slots[i].len,
		.m.fd = c->slots[i].dmabuf,
	};
	int ret;

	if (fmt->type == V4L2_BUF_TYPE_VIDEO_OUTPUT)
		b.bytesused = fmt->fmt.pix.sizeimage;
	ret = xioctl(c->dev, VIDIOC_QBUF, &b);
	if (ret < 0)
		tool_complain(-ret, "%s: VIDIOC_QBUF of frame%u's dma-buf", dev, i);
	return ret;
}

static int stream(struct role_ctx *c, uint32_t type, bool on, const char *dev)
{
	int ret = xioctl(c->dev, on ? VIDIOC_STREAMON : VIDIOC_STREAMOFF, &type);

	if (ret < 0)
		tool_complain(-ret, "%s: %s", dev, on ? "VIDIOC_STREAMON" : "VIDIOC_STREAMOFF");
	return ret;
}

/* FNV-1a over 64-bit words of @n bytes at @p (page-aligned), inverted first with @inv. */
static uint64_t frame_sum(const void *p, size_t n, bool inv, uint64_t *isum)
{
	const uint64_t *q = p;
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL, hi = h, w;
	size_t i;

	for (i = 0; i < n / 8; i++) {
		w = inv ? ~q[i] : q[i];
		h = (h ^ w) * 0x100000001b3ULL;
		if (isum)
			hi = (hi ^ ~w) * 0x100000001b3ULL;
	}
	for (i = n / 8 * 8; i < n; i++) {
		w = (uint8_t)(inv ? ~b[i] : b[i]);
		h = (h ^ w) * 0x100000001b3ULL;
		if (isum)
			hi = (hi ^ (uint8_t)~w) * 0x100000001b3ULL;
	}
	if (isum)
		*isum = hi;
	return h;
}

/*
 * The camera: opens every slot by path, gives the filter their fds, queues
 * their dma-bufs to the capture node, and sends each frame on as the camera
 * fills it; a slot the consumer frees goes back to the camera.
 */
int demo_run_camera(struct role_ctx *c)
{
	const char *dev = c->cfg->camera;
	unsigned int ring = c->cfg->ring, i;
	uint64_t before[MAX_RING] = { 0 }, isum;
	bool filled[MAX_RING] = { false }, have_seq = false;
	struct demo_msg m = { .type = MSG_FDS };
	struct v4l2_format fmt;
	uint32_t k = 0, seq = 0;
	int fds[MAX_RING], ret;

	ret = open_slots(c, O_RDWR);
	if (ret == 0)
		ret = slot_dmabufs(c);
	if (ret == 0)
		ret = open_device(c, dev, false, &fmt);
	for (i = 0; ret == 0 && i < ring; i++)
		ret = queue_slot(c, &fmt, i, dev);
	if (ret < 0)
		return ret;
	for (i = 0; i < ring; i++)
		fds[i] = c->slots[i].fd;
	ret = role_send(OUT_FD, &m, fds, ring);
	if (ret == 0)
		ret = role_ready(c);
	if (ret == 0)
		ret = role_wait_parent(MSG_GO);
	if (ret == 0)
		ret = stream(c, fmt.type, true, dev);
	while (ret == 0 && k < c->cfg->frames) {
		struct pollfd pfd[3] = { { .fd = c->dev, .events = POLLIN },
					 { .fd = IN_FD, .events = POLLIN },
					 { .fd = CTL_FD, .events = POLLIN } };
		struct v4l2_buffer b = { .type = fmt.type, .memory = V4L2_MEMORY_DMABUF };
		uint32_t s = k % ring;
		int n = poll(pfd, 3, V4L2_WAIT_MS);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -ETIMEDOUT;
			tool_complain(-ret, "%s gave no frame in %d s", dev, V4L2_WAIT_MS / 1000);
			break;
		}
		if (pfd[2].revents) {
			ret = -ECANCELED;
			break;
		}
		if (pfd[1].revents) {
			ret = role_recv(IN_FD, &m, MSG_FREE, NULL, NULL);
			if (ret == 0 && m.slot >= ring)
				ret = -EPROTO;
			if (ret == 0)
				ret = queue_slot(c, &fmt, m.slot, dev);
			continue;
		}
		ret = xioctl(c->dev, VIDIOC_DQBUF, &b);
		if (ret == -EAGAIN) {
			ret = 0;
			continue;
		}
		if (ret < 0) {
			tool_complain(-ret, "%s: VIDIOC_DQBUF", dev);
			break;
		}
		if (b.flags & V4L2_BUF_FLAG_ERROR) {
			/* a frame the device itself marks as bad: not sent on; the slot goes back */
			c->dropped++;
			ret = queue_slot(c, &fmt, b.index, dev);
			continue;
		}
		if (b.index != s || b.bytesused < c->frame_bytes) {
			tool_complain(0, "%s gave frame%u with %u bytes; frame%u with %zu was due",
				      dev, b.index, b.bytesused, s, c->frame_bytes);
			ret = -EPROTO;
			break;
		}
		if (have_seq && b.sequence > seq + 1)
			c->dropped += b.sequence - seq - 1;
		seq = b.sequence;
		have_seq = true;
		ret = slot_sync(&c->slots[s], UMM_SYNC_START | UMM_SYNC_READ);
		if (ret < 0)
			break;
		m = (struct demo_msg){ .type = MSG_FRAME, .frame = k, .slot = s };
		m.sum = frame_sum(c->slots[s].map, c->frame_bytes, false, &isum);
		ret = slot_sync(&c->slots[s], UMM_SYNC_END | UMM_SYNC_READ);
		if (ret < 0)
			break;
		c->bytes += c->frame_bytes;
		if (filled[s] && m.sum == before[s]) {
			if (c->errors++ < 5)
				tool_complain(0,
					      "frame %" PRIu32
					      ": frame%u still holds the frame before "
					      "it, as the filter left it: %s wrote nothing",
					      k, s, dev);
		}
		before[s] = isum;
		filled[s] = true;
		ret = role_send(OUT_FD, &m, NULL, 0);
		k++;
	}
	if (ret < 0)
		return ret;
	/* the camera keeps the ring's dma-bufs until its fd is closed (demo_v4l2_close) */
	ret = stream(c, fmt.type, false, dev);
	return ret < 0 ? ret : role_done(c);
}

/*
 * Take back every buffer the output is done with and free its slot for the
 * producer; with @wait, wait until there is one.
 */
static int reap(struct role_ctx *c, uint32_t type, bool wait, unsigned int *queued)
{
	const char *dev = c->cfg->display;
	int ret;

	while (*queued) {
		struct v4l2_buffer b = { .type = type, .memory = V4L2_MEMORY_DMABUF };
		struct pollfd pfd[2] = { { .fd = c->dev, .events = POLLOUT },
					 { .fd = CTL_FD, .events = POLLIN } };
		struct demo_msg m;
		int n;

		ret = xioctl(c->dev, VIDIOC_DQBUF, &b);
		if (ret == 0) {
			(*queued)--;
			wait = false;
			m = (struct demo_msg){ .type = MSG_FREE, .slot = b.index };
			ret = role_send(OUT_FD, &m, NULL, 0);
			if (ret < 0)
				return ret;
			continue;
		}
		if (ret != -EAGAIN) {
			tool_complain(-ret, "%s: VIDIOC_DQBUF", dev);
			return ret;
		}
		if (!wait)
			return 0;
		n = poll(pfd, 2, V4L2_WAIT_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -ETIMEDOUT;
			tool_complain(-ret, "%s gave no buffer back in %d s", dev,
				      V4L2_WAIT_MS / 1000);
			return ret;
		}
		if (pfd[1].revents)
			return -ECANCELED;
	}
	return 0;
}

/*
 * The display: opens every slot by path, read-only without an output; checks each frame's sum
 * in place, queues its dma-buf to the output node (with --display), and
 * frees the slot once the output gives it back.
 */
int demo_run_display(struct role_ctx *c)
{
	const char *dev = c->cfg->display;
	unsigned int ring = c->cfg->ring, queued = 0;
	struct v4l2_format fmt;
	struct demo_msg m;
	bool streaming = false;
	uint64_t sum;
	uint32_t k, s;
	int ret;

	/* a dma-buf for the output comes only from a read-write open (a dma-buf cannot be reopened read-only) */
	ret = open_slots(c, dev ? O_RDWR : O_RDONLY);
	if (ret == 0 && dev)
		ret = slot_dmabufs(c);
	if (ret == 0 && dev)
		ret = open_device(c, dev, true, &fmt);
	if (ret == 0)
		ret = role_ready(c);
	if (ret == 0)
		ret = role_wait_parent(MSG_GO);

	for (k = 0; ret == 0 && k < c->cfg->frames; k++) {
		ret = recv_frame(c, k, &m);
		if (ret < 0)
			break;
		s = k % ring;
		ret = slot_sync(&c->slots[s], UMM_SYNC_START | UMM_SYNC_READ);
		if (ret < 0)
			break;
		sum = frame_sum(c->slots[s].map, c->frame_bytes, true, NULL);
		ret = slot_sync(&c->slots[s], UMM_SYNC_END | UMM_SYNC_READ);
		if (ret < 0)
			break;
		c->bytes += c->frame_bytes;
		if (sum != m.sum && c->errors++ < 5)
			tool_complain(0,
				      "frame %" PRIu32 " in frame%u is not the camera's, inverted "
				      "(sum %016" PRIx64 ", the camera's %016" PRIx64 ")",
				      k, s, sum, m.sum);
		if (!dev) {
			m = (struct demo_msg){ .type = MSG_FREE, .frame = k, .slot = s };
			ret = role_send(OUT_FD, &m, NULL, 0);
			continue;
		}
		ret = queue_slot(c, &fmt, s, dev);
		if (ret < 0)
			break;
		queued++;
		if (!streaming) {
			ret = stream(c, fmt.type, true, dev);
			streaming = ret == 0;
		}
		/* the output holding the whole ring: wait for one back */
		if (ret == 0)
			ret = reap(c, fmt.type, queued == ring, &queued);
	}
	if (ret == 0 && dev)
		ret = reap(c, fmt.type, true, &queued);
	if (ret == 0 && streaming)
		ret = stream(c, fmt.type, false, dev);
	return ret < 0 ? ret : role_done(c);
}

/* Close the role's device: it lets go of the ring's dma-bufs. */
void demo_v4l2_close(struct role_ctx *c)
{
	if (c->dev >= 0)
		close(c->dev);
	c->dev = -1;
}

/*
 * References process @pid holds to the dma-buf of inode @ino: its fds and
 * its mappings (each holds the file), as /proc shows them.
 */
static unsigned int pid_refs(pid_t pid, unsigned long ino)
{
	char path[PATH_MAX], link[256], line[512], name[256];
	unsigned long mino;
	unsigned int n = 0;
	struct dirent *e;
	struct stat st;
	ssize_t len;
	DIR *dir;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	while (dir && (e = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", (int)pid, e->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (strstr(link, "dmabuf") && stat(path, &st) == 0 && st.st_ino == ino)
			n++;
	}
	if (dir)
		closedir(dir);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %lu %255s", &mino, name) == 2 && mino == ino &&
		    strstr(name, "dmabuf"))
			n++;
	if (f)
		fclose(f);
	return n;
}

/* References every process holds to the dma-buf of inode @ino. */
static unsigned int all_refs(unsigned long ino)
{
	unsigned int n = 0;
	struct dirent *e;
	DIR *dir = opendir("/proc");
	char *end;
	long pid;

	while (dir && (e = readdir(dir))) {
		pid = strtol(e->d_name, &end, 10);
		if (pid > 0 && !*end)
			n += pid_refs((pid_t)pid, ino);
	}
	if (dir)
		closedir(dir);
	return n;
}

/**
 * demo_v4l2_holders() - who holds each ring buffer's dma-buf, as the kernel says
 * @d: the demo, its roles still holding the ring
 *
 * Each buffer's line of the kernel's dma-buf debug view (debugfs, root
 * only): its exporter, its name, its references. Those processes hold (the
 * daemon's and the roles' fds and mappings, and anyone else's, from /proc)
 * are taken from the count; what is left is the devices' own: V4L2 keeps a reference to
 * every dma-buf queued to a node until the node is closed, and the roles
 * keep theirs open until told to quit. Each buffer must have one per device.
 *
 * Return: 0 (also where the view cannot be read: a note says so), or -1
 * when a buffer is not held by every device (reported).
 */
int demo_v4l2_holders(const struct demo *d)
{
	unsigned int want = d->cfg->display ? 2 : 1, bad = 0;
	char path[PATH_MAX], ino[32], line[512], exp[64], name[256];
	unsigned long bino, dino;
	long count;
	ssize_t n;
	FILE *f;

	f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "re");
	if (!f) {
		tool_say("no dma-buf debug view (/sys/kernel/debug/dma_buf/bufinfo: %s): the "
			 "devices' references are not shown",
			 strerror(errno));
		return 0;
	}
	printf("dma-bufs (/sys/kernel/debug/dma_buf/bufinfo; processes' references from /proc):\n");
	for (unsigned int i = 0; i < d->cfg->ring; i++) {
		unsigned int procs = 0;

		if (tool_fmt_path(path, sizeof(path), "%s/frame%u", d->ring_dir, i) < 0)
			continue;
		n = getxattr(path, "user.umm.dmabuf", ino, sizeof(ino) - 1);
		if (n <= 0)
			continue;
		ino[n] = '\0';
		dino = strtoul(ino, NULL, 10);
		count = -1;
		rewind(f);
		while (count < 0 && fgets(line, sizeof(line), f))
			if (sscanf(line, "%*u %*x %*x %ld %63s %lu %255s", &count, exp, &bino,
				   name) != 4 ||
			    bino != dino)
				count = -1;
		if (count < 0)
			continue;
		procs = all_refs(dino);
		printf("  frame%u  %s  ino %lu  %s: %ld references, %u of processes, %ld of "
		       "devices (%s%s%s)\n",
		       i, exp, dino, name, count, procs, count - (long)procs, d->cfg->camera,
		       d->cfg->display ? ", " : "", d->cfg->display ? d->cfg->display : "");
		if (count - (long)procs != (long)want)
			bad++;
	}
	fclose(f);
	if (bad) {
		tool_complain(0, "%u buffers not held by %u devices each while streaming", bad,
			      want);
		return -1;
	}
	return 0;
}
