// SPDX-License-Identifier: MIT
/*
 * bench_buffers.c - a buffer of each target, made the way a client of that
 * target makes one: a file in a (sized) directory of umm or tmpfs, a memfd,
 * a dma-buf of the system heap, a udmabuf; mapped, touched and freed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <umm.h>

#include "bench_i.h"

/* A new name under @t's root (in @dir when not NULL); 0 or -ENAMETOOLONG. */
int bench_new_name(struct bench *b, const struct target *t, const char *dir, char *buf, size_t len)
{
	b->seq++;
	if (dir)
		return tool_fmt_path(buf, len, "%s/%s/b%u", t->fs.root, dir, b->seq);
	return tool_fmt_path(buf, len, "%s/b%u", t->fs.root, b->seq);
}

/*
 * The sized directory of @t for buffers of @size (umm: user.umm.size), made
 * if missing; its name relative to the root goes to @rel. Return: 0 or -errno.
 */
int bench_sized_dir(const struct target *t, size_t size, char *rel, size_t len)
{
	char path[PATH_MAX];
	int ret;

	ret = tool_fmt_path(rel, len, "s%zu", size);
	if (ret < 0 || tool_fmt_path(path, sizeof(path), "%s/%s", t->fs.root, rel) < 0)
		return -ENAMETOOLONG;
	if (mkdir(path, 0755) < 0) {
		if (errno == EEXIST)
			return 0;
		return -errno;
	}
	if (!t->is_umm)
		return 0;
	return tool_xattr_set_u64(path, "user.umm.size", size);
}

/* A dma-buf of @len bytes from the system DMA heap: its fd, or -errno. */
int bench_dmaheap_alloc(size_t len)
{
	struct dma_heap_allocation_data d = { .len = len, .fd_flags = O_RDWR | O_CLOEXEC };
	int fd = open(DMA_HEAP_PATH, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = ioctl(fd, DMA_HEAP_IOCTL_ALLOC, &d) < 0 ? -errno : (int)d.fd;
	close(fd);
	return ret;
}

/* A udmabuf over a new sealed memfd; the memfd goes to *@mfd. Its fd, or -errno. */
int bench_udmabuf_alloc(size_t len, int *mfd)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = len };
	int fd, dev, ret;

	fd = memfd_create("umm-bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	dev = open(UDMABUF_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	c.memfd = (uint32_t)fd;
	ret = ioctl(dev, UDMABUF_CREATE, &c);
	if (ret < 0)
		ret = -errno;
	close(dev);
	if (ret < 0)
		close(fd);
	else
		*mfd = fd;
	return ret;
}

/**
 * bench_buf_make() - create, size, open and map a buffer of @len bytes on @t.
 * @b:   the benchmark.
 * @t:   the target.
 * @dir: for umm and tmpfs, the sized directory (from bench_sized_dir()) to create
 *       in; the umm directory gives the size, tmpfs needs ftruncate().
 * @len: the size, a multiple of the page size.
 * @m:   filled in; release with bench_buf_free().
 *
 * Every step a client of that target must take is done here, so the time
 * of an allocation is bench_buf_make() + touching + bench_buf_free().
 *
 * Return: 0, or -errno.
 */
int bench_buf_make(struct bench *b, const struct target *t, const char *dir, size_t len,
		   struct mbuf *m)
{
	int ret, mfd = -1, fd = -1;

	*m = (struct mbuf){ .fd = -1, .fd2 = -1, .map = MAP_FAILED, .len = len };
	switch ((enum target_id)(t - b->t)) {
	case T_MEMFD:
		fd = memfd_create("umm-bench", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, (off_t)len) < 0)
			goto fail;
		break;
	case T_DMAHEAP:
		fd = bench_dmaheap_alloc(len);
		if (fd < 0) {
			errno = -fd;
			goto fail;
		}
		break;
	case T_UDMABUF:
		fd = bench_udmabuf_alloc(len, &mfd);
		if (fd < 0) {
			errno = -fd;
			goto fail;
		}
		m->fd2 = mfd;
		break;
	default:
		ret = bench_new_name(b, t, dir, m->path, sizeof(m->path));
		if (ret < 0)
			return ret;
		fd = open(m->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			goto fail;
		if (!t->is_umm && ftruncate(fd, (off_t)len) < 0)
			goto fail;
		if (t->way == MAP_REOPEN) {
			close(fd);
			fd = open(m->path, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				goto fail;
		} else if (t->way == MAP_EXPORT) {
			m->fd2 = fd;
			fd = umm_open(m->path, O_RDWR);
			if (fd < 0)
				goto fail;
		}
		break;
	}
	m->fd = fd;
	m->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m->map == MAP_FAILED)
		goto fail;
	return 0;
fail:
	ret = -errno;
	m->fd = fd;
	return ret;
}

/* Unmap, close and unlink what bench_buf_make() made (of it). */
void bench_buf_free(struct mbuf *m)
{
	if (m->map != MAP_FAILED)
		munmap(m->map, m->len);
	if (m->fd >= 0)
		close(m->fd);
	if (m->fd2 >= 0)
		close(m->fd2);
	if (m->path[0])
		unlink(m->path);
	*m = MBUF_NONE;
}

/* Write one byte in every page, as a first use of the memory does. */
void bench_touch_pages(void *map, size_t len)
{
	volatile char *p = map;
	size_t off;

	for (off = 0; off < len; off += PAGE)
		p[off] = 1;
}

/**
 * bench_probe_map_way() - how a client maps a new buffer on umm target @t.
 * @b: the benchmark.
 * @t: T_UMM or T_NOPT.
 *
 * With passthrough, the creating open of a buffer maps its memfd; without,
 * it maps the kernel's page cache of the FUSE file (see OPENING, MAPPING AND
 * EXPORTING in umm(7)), so there umm_open()'s fd, the memory itself, comes
 * first. The first way that works is the one the scenarios time.
 *
 * Return: 0, or -errno when no way works (then @t is no umm to measure).
 */
int bench_probe_map_way(struct bench *b, struct target *t)
{
	static const enum map_way pt_ways[] = { MAP_OWN_FD, MAP_REOPEN, MAP_EXPORT };
	/* without passthrough the FUSE fd maps the page cache: the export is zero copy */
	static const enum map_way nopt_ways[] = { MAP_EXPORT, MAP_OWN_FD };
	bool nopt = t == &b->t[T_NOPT];
	const enum map_way *ways = nopt ? nopt_ways : pt_ways;
	unsigned int nways = nopt ? 2 : 3;
	char dir[64];
	struct mbuf m;
	unsigned int i;
	int ret;

	ret = bench_sized_dir(t, PAGE, dir, sizeof(dir));
	if (ret < 0)
		return ret;
	for (i = 0; i < nways; i++) {
		t->way = ways[i];
		ret = bench_buf_make(b, t, dir, PAGE, &m);
		bench_buf_free(&m);
		if (ret == 0)
			return 0;
	}
	return ret;
}
