// SPDX-License-Identifier: MIT
/*
 * io.c - data: reads and writes the daemon serves, copies in and out of a
 * buffer's memory, fallocate, and open/release of a buffer.
 *
 * Everything here runs under the store's lock (see LOCKING in store_i.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_i.h"

/*
 * Let @move move @n bytes at @off of @m (memory of heap @h), into it when
 * @to_mem: through the daemon's own mapping where the heap made one
 * (hugetlbfs has no write(2), a dma-buf heap has only its mapping), else
 * through the fd. On a dma-buf the access is bracketed by DMA_BUF_IOCTL_SYNC,
 * as a client's would be. Returns what @move returned: bytes moved or -errno.
 */
static ssize_t mem_move(struct heap *h, struct heap_buf *m, size_t n, off_t off, bool to_mem,
			store_move_fn move, void *arg)
{
	unsigned dir = to_mem ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ;
	ssize_t r;
	int ret;

	ret = heap_sync(h, m, dir);
	if (ret)
		return ret;
	if (m->map)
		r = move(arg, -1, (char *)m->map + off, off, n);
	else
		r = move(arg, m->fd, NULL, off, n);
	heap_sync(h, m, dir | DMA_BUF_SYNC_END);
	return r;
}

/**
 * store_copy_out() - copy what a store_move_fn was given (@n bytes of the fd @fd
 * at @off, or of @mem) into @buf: bytes copied, or -errno
 */
ssize_t store_copy_out(void *buf, int fd, const void *mem, off_t off, size_t n)
{
	ssize_t r;

	if (mem) {
		memcpy(buf, mem, n);
		return (ssize_t)n;
	}
	r = pread(fd, buf, n, off);
	return r < 0 ? -errno : r;
}

/* a daemon buffer on one side of a mem_move() */
struct plain_io {
	void *buf;
	bool to_mem;
};

static ssize_t plain_move(void *arg, int fd, void *mem, off_t off, size_t n)
{
	struct plain_io *io = arg;
	ssize_t r;

	if (!io->to_mem)
		return store_copy_out(io->buf, fd, mem, off, n);
	if (mem) {
		memcpy(mem, io->buf, n);
		return (ssize_t)n;
	}
	r = pwrite(fd, io->buf, n, off);
	return r < 0 ? -errno : r;
}

/* mem_move() between @m and the daemon's own @buf */
ssize_t io_mem(struct heap *h, struct heap_buf *m, void *buf, size_t n, off_t off, bool to_mem)
{
	struct plain_io io = { .buf = buf, .to_mem = to_mem };

	return mem_move(h, m, n, off, to_mem, plain_move, &io);
}

/**
 * store_open() - open buffer @ino with @flags; see struct store_open_out
 */
int store_open(struct store *s, const struct store_ctx *ctx, uint64_t ino, int flags,
	       struct store_open_out *oo)
{
	struct store_node *n;
	int ret;

	lock(s);
	ret = node_buf_get(s, ino, &n);
	if (!ret)
		ret = buf_open(s, ctx, n, flags, oo);
	unlock(s);
	return ret;
}

/**
 * store_release() - the last fd of an open went away
 */
void store_release(struct store *s, const struct store_ctx *ctx, uint64_t ino, uint64_t fh)
{
	struct store_node *n;
	struct store_handle *h;

	lock(s);
	n = node_get(s, ino);
	h = n ? node_handle(n, fh) : NULL;
	if (h) {
		if (h->passthrough)
			n->buf.npt--;
		if (h->accmode != O_RDONLY)
			n->buf.nwriters--;
		n->nopen--;
		if (h->prev)
			h->prev->next = h->next;
		else
			n->buf.handles = h->next;
		if (h->next)
			h->next->prev = h->prev;
		free(h);
		pthread_cond_broadcast(&s->released);
		buf_maybe_free(s, n, ctx);
	}
	unlock(s);
}

/**
 * store_read_to() - read of a daemon-served open, moved by @move (see
 * store_move_fn): what @move returned, 0 at or past the end (@move not called),
 * or -errno (@move not called)
 */
ssize_t store_read_to(struct store *s, uint64_t ino, uint64_t fh, size_t size, off_t off,
		      store_move_fn move, void *arg)
{
	struct store_handle *h;
	struct heap_buf *m;
	struct store_node *n;
	ssize_t ret;

	lock(s);
	n = node_get(s, ino);
	h = n ? node_handle(n, fh) : NULL;
	if (!h) {
		ret = -EBADF;
		goto out;
	}
	if (h->accmode == O_WRONLY) {
		ret = -EBADF;
		goto out;
	}
	m = &n->buf.mem;
	s->reads++;
	if (off < 0) {
		ret = -EINVAL;
		goto out;
	}
	if ((uint64_t)off >= buf_len(&n->buf)) {
		ret = 0;
		goto out;
	}
	if (size > buf_len(&n->buf) - (uint64_t)off)
		size = (size_t)(buf_len(&n->buf) - (uint64_t)off);
	if (!size) {
		ret = 0;
		goto out;
	}
	ret = mem_move(buf_heap_now(n), m, size, off, false, move, arg);
	if (ret > 0)
		s->read_bytes += (uint64_t)ret;
	now(&n->atime);
out:
	unlock(s);
	return ret;
}

/*
 * A write of @size bytes at @off of a daemon-served open, moved by @move (see
 * store_move_fn): what @move returned, or -errno.
 *
 * A staged buffer grows within its budgets; a sealed one cannot grow: a write
 * past its end gets -EPERM, as the memfd's seal gives a passthrough writer.
 */
static ssize_t write_from(struct store *s, const struct store_ctx *ctx, uint64_t ino, uint64_t fh,
			  size_t size, off_t off, store_move_fn move, void *arg)
{
	struct store_handle *h;
	struct heap_buf *m;
	struct store_node *n;
	uint64_t end;
	ssize_t ret;

	lock(s);
	n = node_get(s, ino);
	h = n ? node_handle(n, fh) : NULL;
	if (!h || h->accmode == O_RDONLY) {
		ret = -EBADF;
		goto out;
	}
	s->writes++;
	if (off < 0 || (uint64_t)off > (uint64_t)INT64_MAX - size) {
		ret = -EFBIG;
		goto out;
	}
	m = &n->buf.mem;
	end = (uint64_t)off + size;
	if (end > buf_len(&n->buf)) {
		/* a sealed buffer grows only while nobody else holds it (and is filled again) */
		ret = buf_resize(s, n, end, h, ctx, RESIZE_WRITE);
		if (ret == -EBUSY)
			ret = -EPERM;
		if (ret)
			goto out;
	}
	ret = mem_move(buf_heap_now(n), m, size, off, true, move, arg);
	if (ret > 0)
		s->write_bytes += (uint64_t)ret;
	if (ret > 0)
		node_modified(n, ctx);
out:
	unlock(s);
	return ret;
}

/**
 * store_read() - store_read_to() into @buf: bytes read, or -errno
 */
ssize_t store_read(struct store *s, uint64_t ino, uint64_t fh, char *buf, size_t size, off_t off)
{
	struct plain_io io = { .buf = buf, .to_mem = false };

	return store_read_to(s, ino, fh, size, off, plain_move, &io);
}

/**
 * store_write() - write of a daemon-served open out of @buf: bytes written, or -errno
 */
ssize_t store_write(struct store *s, const struct store_ctx *ctx, uint64_t ino, uint64_t fh,
		    const char *buf, size_t size, off_t off)
{
	struct plain_io io = { .buf = (void *)buf, .to_mem = true };

	return write_from(s, ctx, ino, fh, size, off, plain_move, &io);
}

/**
 * store_fallocate() - fallocate(2) on an open buffer, as tmpfs does it
 *
 * Mode 0 sizes the buffer up to @off + @len where that is past its end (like
 * an extending write) and FALLOC_FL_KEEP_SIZE does not; both then allocate the
 * range's pages where the memory is a memfd (st_blocks counts them), pages
 * past the end included while the buffer is growable (they are charged, and
 * go when its size is fixed). FALLOC_FL_PUNCH_HOLE (with KEEP_SIZE) gives a
 * memfd's pages back (they read as zeros). Other modes, and punching memory
 * with a dma-buf (a dma-buf heap's, or a udmabuf's memfd): -EOPNOTSUPP. mtime and ctime move, as a write moves them.
 */
int store_fallocate(struct store *s, const struct store_ctx *ctx, uint64_t ino, uint64_t fh,
		    int mode, off_t off, off_t len)
{
	const int known = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
	struct store_handle *h;
	struct store_buffer *b;
	struct store_node *n;
	uint64_t end, size;
	bool memfd;
	int ret = 0;

	if (off < 0 || len <= 0 || off > INT64_MAX - len)
		return -EINVAL;
	if ((mode & ~known) || ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE)))
		return -EOPNOTSUPP;
	end = (uint64_t)off + (uint64_t)len;
	lock(s);
	ret = node_buf_get(s, ino, &n);
	if (ret)
		goto out;
	h = node_handle(n, fh);
	if (!h || h->accmode == O_RDONLY) {
		ret = -EBADF;
		goto out;
	}
	b = &n->buf;
	memfd = b->mem.fd >= 0 && !b->mem.map;
	if (mode & FALLOC_FL_PUNCH_HOLE) {
		/*
		 * As tmpfs: the whole range, past the end too. Not under a
		 * dma-buf (udmabuf pins the pages: a punched page would part
		 * the memfd from what devices see).
		 */
		if (!memfd || b->mem.dmabuf_fd >= 0)
			ret = -EOPNOTSUPP;
		else if (fallocate(b->mem.fd, mode, off, len) < 0)
			ret = -errno;
		goto stamp;
	}
	if (end > buf_len(b) && !(mode & FALLOC_FL_KEEP_SIZE)) {
		ret = buf_resize(s, n, end, h, ctx, RESIZE_DECLARE);
		if (ret)
			goto out;
	}
	size = buf_len(b);
	if (!memfd)
		goto stamp;
	if (end > size && b->staged) {
		/* KEEP_SIZE past the end: the pages are charged as if the file reached them */
		uint64_t old_charge = b->charged, c = budget_charge_of(end);

		if (c > old_charge) {
			ret = budget_charge(s, n, c);
			if (ret)
				goto out;
		}
		if (fallocate(b->mem.fd, mode, off, len) < 0) {
			ret = errno == EFBIG ? -ENOSPC : -errno;
			budget_charge(s, n, old_charge);
			goto out;
		}
		if (end > b->prealloc)
			b->prealloc = end;
	} else if ((uint64_t)off < size) {
		/* a fixed size: only the pages within it */
		if (fallocate(b->mem.fd, mode & FALLOC_FL_KEEP_SIZE, off,
			      (off_t)((end < size ? end : size) - (uint64_t)off)) < 0) {
			ret = -errno;
			goto out;
		}
	}
stamp:
	if (!ret)
		node_modified(n, ctx);
out:
	unlock(s);
	return ret;
}
