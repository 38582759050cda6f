// SPDX-License-Identifier: MIT
/*
 * v4l2_hold - a camera that holds one umm buffer, for test_camera.sh:
 *
 *   v4l2_hold CAPTURE_NODE BUFFER_PATH
 *
 * Opens BUFFER_PATH with umm_open() (its dma-buf), queues that dma-buf as the
 * only buffer of the capture node (V4L2_MEMORY_DMABUF) and streams, queuing
 * it again after each frame. Then it obeys lines on stdin, answering one
 * line each on stdout:
 *
 *   frames K   capture K more frames into the buffer: "ok K SEQ" (the last
 *              frame's sequence number), or "error ..."
 *   alone      close its own dma-buf fd, the buffer being queued: only the
 *              device holds it now: "alone" (no "frames" after this: a
 *              queue needs the fd)
 *   take       wait for the frame the device writes into the buffer it
 *              holds alone, and take it: "took SEQ BYTESUSED"
 *   stop       (or end of input) stop streaming and close the node, which
 *              lets go of the dma-buf: "released"
 *
 * The first line it prints is "streaming INO", INO the dma-buf's inode, once
 * the first frame arrived. Every wait for a frame has a deadline of 20 s.
 * Exit 0, or 1 after an error (said on stdout and stderr), 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <umm.h>

#define FRAME_WAIT_MS 20000

static int cam = -1;
static struct v4l2_buffer qb;

static int die(const char *what)
{
	printf("error %s: %s\n", what, strerror(errno));
	fprintf(stderr, "v4l2_hold: %s: %s\n", what, strerror(errno));
	return 1;
}

/* One frame: wait for the buffer to fill and take it; queue it again with @again. */
static int one_frame(unsigned *seq, unsigned *used, int again)
{
	struct pollfd p = { .fd = cam, .events = POLLIN };
	struct v4l2_buffer b = { .type = qb.type, .memory = V4L2_MEMORY_DMABUF };
	int n;

	do
		n = poll(&p, 1, FRAME_WAIT_MS);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		errno = ETIMEDOUT;
	if (n <= 0 || ioctl(cam, VIDIOC_DQBUF, &b) < 0)
		return -1;
	if (b.bytesused == 0 || (b.flags & V4L2_BUF_FLAG_ERROR)) {
		errno = EIO;
		return -1;
	}
	*seq = b.sequence;
	*used = b.bytesused;
	return again ? ioctl(cam, VIDIOC_QBUF, &qb) : 0;
}

int main(int argc, char **argv)
{
	struct v4l2_requestbuffers rb = { .count = 1,
					  .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					  .memory = V4L2_MEMORY_DMABUF };
	char line[64];
	unsigned seq = 0, used = 0, k;
	struct stat st;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: v4l2_hold CAPTURE_NODE BUFFER_PATH\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = umm_open(argv[2], O_RDWR);
	if (fd < 0 || fstat(fd, &st) < 0)
		return die("umm_open");
	cam = open(argv[1], O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (cam < 0)
		return die(argv[1]);
	if (ioctl(cam, VIDIOC_REQBUFS, &rb) < 0 || rb.count < 1)
		return die("VIDIOC_REQBUFS");
	qb = (struct v4l2_buffer){ .index = 0,
				   .type = rb.type,
				   .memory = V4L2_MEMORY_DMABUF,
				   .m.fd = fd,
				   .length = (unsigned)st.st_size };
	if (ioctl(cam, VIDIOC_QBUF, &qb) < 0)
		return die("VIDIOC_QBUF");
	if (ioctl(cam, VIDIOC_STREAMON, &rb.type) < 0)
		return die("VIDIOC_STREAMON");
	if (one_frame(&seq, &used, 1) < 0)
		return die("the first frame");
	printf("streaming %lu\n", (unsigned long)st.st_ino);

	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "frames %u", &k) == 1 && fd >= 0) {
			for (unsigned i = 0; i < k; i++)
				if (one_frame(&seq, &used, 1) < 0)
					return die("a frame");
			printf("ok %u %u\n", k, seq);
		} else if (strncmp(line, "alone", 5) == 0 && fd >= 0) {
			/* vb2 keeps its own reference to the queued dma-buf: ours can go */
			close(fd);
			fd = -1;
			printf("alone\n");
		} else if (strncmp(line, "take", 4) == 0 && fd < 0) {
			if (one_frame(&seq, &used, 0) < 0)
				return die("the last frame");
			printf("took %u %u\n", seq, used);
		} else if (strncmp(line, "stop", 4) == 0) {
			break;
		} else {
			printf("error unknown command, or not now\n");
		}
	}
	ioctl(cam, VIDIOC_STREAMOFF, &rb.type);
	close(cam);
	if (fd >= 0)
		close(fd);
	printf("released\n");
	return 0;
}
