// SPDX-License-Identifier: MIT
/*
 * v4l2_bufcaps - does a V4L2 video node take dma-bufs? Usage:
 *
 *   v4l2_bufcaps DEVICE capture|output
 *
 * Asks the node's queue of that type for zero buffers of memory
 * V4L2_MEMORY_DMABUF (VIDIOC_REQBUFS with count 0 frees nothing and reports
 * the queue's capabilities) and prints what it supports: "mmap", "userptr",
 * "dmabuf". Exit 0 when it takes dma-bufs, 1 when it does not or the ioctl
 * fails (with the reason on stderr), 2 on bad usage. For tests/vm/test_v4l2.sh.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct v4l2_requestbuffers rb = { .count = 0, .memory = V4L2_MEMORY_DMABUF };
	int fd;

	if (argc != 3 || (strcmp(argv[2], "capture") && strcmp(argv[2], "output"))) {
		fprintf(stderr, "usage: v4l2_bufcaps DEVICE capture|output\n");
		return 2;
	}
	rb.type = strcmp(argv[2], "capture") ? V4L2_BUF_TYPE_VIDEO_OUTPUT :
					       V4L2_BUF_TYPE_VIDEO_CAPTURE;
	fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "v4l2_bufcaps: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (ioctl(fd, VIDIOC_REQBUFS, &rb) < 0) {
		fprintf(stderr, "v4l2_bufcaps: %s: VIDIOC_REQBUFS (DMABUF, %s): %s\n", argv[1],
			argv[2], strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	printf("%s%s%s\n", rb.capabilities & V4L2_BUF_CAP_SUPPORTS_MMAP ? "mmap " : "",
	       rb.capabilities & V4L2_BUF_CAP_SUPPORTS_USERPTR ? "userptr " : "",
	       rb.capabilities & V4L2_BUF_CAP_SUPPORTS_DMABUF ? "dmabuf" : "");
	return rb.capabilities & V4L2_BUF_CAP_SUPPORTS_DMABUF ? 0 : 1;
}
