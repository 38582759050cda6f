// SPDX-License-Identifier: MIT
/*
 * buffer.c - the buffer life cycle and its backing memory: the staging
 * memfd, resizing, the move to its heap at the first export (placement,
 * copies, the devices' import check), opens and their passthrough backing
 * files, and freeing.
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
#include <linux/dma-buf.h>
#include <time.h>
#include <unistd.h>

#include "store_i.h"

/*
 * Drop @n's passthrough backing id (and one left from a move to its heap):
 * opens made with it keep their backing file. Without a request (@ctx NULL,
 * the export thread) the id is only set aside, for the next request to drop.
 */
static void backing_drop(struct store_node *n, const struct store_ctx *ctx)
{
	struct store_buffer *b = &n->buf;

	if (!ctx || !ctx->backing_close) {
		if (b->backing_id > 0 && !b->stale_backing_id)
			b->stale_backing_id = b->backing_id;
		b->backing_id = 0;
		return;
	}
	if (b->backing_id > 0)
		ctx->backing_close(ctx->req, b->backing_id);
	if (b->stale_backing_id > 0)
		ctx->backing_close(ctx->req, b->stale_backing_id);
	b->backing_id = 0;
	b->stale_backing_id = 0;
}

void buf_node_free(struct store *s, struct store_node *n, const struct store_ctx *ctx)
{
	tab_remove_ino(s, n);
	s->nnodes--;
	if (n->is_dir) {
		constraints_fini(&n->dir.own);
		free(n->dir.size_from);
		s->ndirs--;
	} else {
		/* handles the kernel never released: a daemon leaving a lazy unmount */
		while (n->buf.handles) {
			struct store_handle *h = n->buf.handles;

			n->buf.handles = h->next;
			free(h);
		}
		backing_drop(n, ctx);
		heap_free(n->buf.staged ? heap_staging() : n->buf.heap, &n->buf.mem);
		constraints_fini(&n->buf.eff);
		budget_charge(s, n, 0);
		s->nbuffers--;
	}
	xattr_free_all(n);
	free(n->name);
	free(n);
}

/* Free @n if nothing refers to it any more: no name, no lookup, no open. */
void buf_maybe_free(struct store *s, struct store_node *n, const struct store_ctx *ctx)
{
	if (n == s->root || n->parent || n->nlookup || n->nopen)
		return;
	buf_node_free(s, n, ctx);
}

struct heap *buf_heap_now(struct store_node *n)
{
	return n->buf.staged ? heap_staging() : n->buf.heap;
}

/* Copy @len bytes from the start of @src (of heap @sh) to @dst (of heap @dh). */
static int copy_mem(struct heap *sh, struct heap_buf *src, struct heap *dh, struct heap_buf *dst,
		    uint64_t len)
{
	char *tmp = NULL;
	int ret = 0;

	if (!len)
		return 0;
	if (src->map && dst->map && !sh->ops->sync && !dh->ops->sync) {
		memcpy(dst->map, src->map, len);
		return 0;
	}
	tmp = malloc(len < COPY_CHUNK ? len : COPY_CHUNK);
	if (!tmp)
		return -ENOMEM;
	for (uint64_t off = 0; off < len;) {
		size_t n = len - off < COPY_CHUNK ? (size_t)(len - off) : COPY_CHUNK;
		ssize_t r = io_mem(sh, src, tmp, n, (off_t)off, false), w;

		if (r <= 0) {
			ret = r < 0 ? (int)r : -EIO;
			break;
		}
		w = io_mem(dh, dst, tmp, (size_t)r, (off_t)off, true);
		if (w != r) {
			/* a short write is no error of its own: say EIO */
			ret = w < 0 ? (int)w : -EIO;
			break;
		}
		off += (uint64_t)r;
	}
	free(tmp);
	return ret;
}

/*
 * The name of @n's memory, "umm:<path>", into @label: heaps give it to the
 * dma-bufs they make (DMA_BUF_SET_NAME), so kernel debug views and fdinfo
 * tell where a dma-buf came from. The kernel keeps 31 bytes: a longer path
 * keeps its end, after "umm:...".
 */
void buf_mem_label(const struct store_node *n, char label[DMA_BUF_NAME_LEN])
{
	char path[4096];
	size_t plen;

	node_path(n, path, sizeof(path));
	plen = strlen(path);
	if (plen + 4 < DMA_BUF_NAME_LEN)
		snprintf(label, DMA_BUF_NAME_LEN, "umm:%s", path);
	else
		snprintf(label, DMA_BUF_NAME_LEN, "umm:...%s",
			 path + plen - (DMA_BUF_NAME_LEN - 8));
}

/*
 * The next path of the normalized device list at *@p into @dev (@n bytes),
 * advancing *@p. Returns @dev, or NULL at the end of the list.
 */
char *buf_next_device(const char **p, char *dev, size_t n)
{
	while (*p && **p) {
		size_t l = strcspn(*p, " ");
		const char *at = *p;

		*p += l;
		*p += strspn(*p, " ");
		if (l && l < n) {
			memcpy(dev, at, l);
			dev[l] = '\0';
			return dev;
		}
	}
	return NULL;
}

/*
 * Does every device of @devices (a normalized list) import the dma-buf of
 * @mem? Returns 0, or -errno with the reason in @why.
 */
static int devices_import(struct store *s, const char *devices, const struct heap_buf *mem,
			  char *why, size_t len)
{
	char dev[UMM_DEVICE_PATH_MAX + 1];
	int ret;

	for (const char *p = devices; buf_next_device(&p, dev, sizeof(dev));) {
		ret = (s->cfg.device_import ? s->cfg.device_import :
					      heap_device_import)(dev, mem->dmabuf_fd, why, len);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * New memory for buffer @n, @size bytes (a copy of the first @size bytes of
 * @src, of heap @sh, when @src is given): from the first heap, in preference
 * order, that meets @n's constraints, can allocate it, and whose dma-buf every
 * listed device imports (a heap that fails is passed over for the next). On
 * success @out is the memory, sealed, in the CPU domain, and @n->buf.heap its
 * heap. Returns 0 or -errno (-ENOSPC for the size, -EOPNOTSUPP for a property),
 * with one line for the log in @why.
 */
int buf_place(struct store *s, struct store_node *n, uint64_t size, struct heap *sh,
	      struct heap_buf *src, struct heap_buf *out, char *why, size_t whylen)
{
	const struct constraints *eff = &n->buf.eff;
	char first[160] = "", label[DMA_BUF_NAME_LEN];
	int first_ret = 0;

	buf_mem_label(n, label);

	for (unsigned i = 0; i < s->cfg.nheaps; i++) {
		struct heap *h = &s->cfg.heaps[i];
		struct heap_req req;
		struct heap_buf mem;
		char reason[160] = "";
		bool size_only;
		int ret;

		if (constraints_heap_unmet(h, eff, size, &size_only))
			continue;
		constraints_heap_req(eff, size, &req);
		req.name = label;
		ret = heap_alloc(h, &req, &mem);
		if (ret) {
			snprintf(reason, sizeof(reason), "%s cannot allocate %llu bytes: %s",
				 h->name, (unsigned long long)req.size, strerror(-ret));
		} else {
			if (src)
				ret = copy_mem(sh, src, h, &mem,
					       src->size < size ? src->size : size);
			if (!ret)
				ret = heap_seal(h, &mem);
			if (!ret && mem.dmabuf_fd >= 0)
				ret = devices_import(s, eff->devices, &mem, reason, sizeof(reason));
			if (ret && !reason[0])
				snprintf(reason, sizeof(reason), "%s: %s", h->name, strerror(-ret));
			if (ret)
				heap_free(h, &mem);
		}
		if (!ret) {
			heap_sync(h, &mem, DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE);
			*out = mem;
			n->buf.heap = h;
			return 0;
		}
		if (!first_ret) {
			first_ret = ret;
			snprintf(first, sizeof(first), "%s", reason);
		}
		if (ret == -EMFILE || ret == -ENFILE)
			return ret;
	}
	if (!first_ret)
		return constraints_choose_heap(s->cfg.heaps, s->cfg.nheaps, eff, size, why, whylen);
	snprintf(why, whylen, "no heap could give it: %s", first);
	if (first_ret == -ENOMEM || first_ret == -ENOSPC)
		return -ENOSPC;
	return first_ret == -EINVAL || first_ret == -EACCES || first_ret == -EPERM ? -EOPNOTSUPP :
										     first_ret;
}

/* Does a heap without dma-bufs (memfd) meet @eff for @size? */
static bool exact_heap_allowed(struct store *s, const struct constraints *eff, uint64_t size)
{
	for (unsigned i = 0; i < s->cfg.nheaps; i++) {
		bool size_only;

		if (!s->cfg.heaps[i].caps.dmabuf &&
		    !constraints_heap_unmet(&s->cfg.heaps[i], eff, size, &size_only))
			return true;
	}
	return false;
}

/* How long an open or resize waits for a release the kernel has yet to send. */
#define RELEASE_WAIT_NS 1000000000L

/*
 * Wait until @n has at most @max_open handles and @max_writers daemon-served
 * writers, or a second has passed. The kernel sends RELEASE asynchronously:
 * right after a writer's close(), the next open may still see it.
 * Called with the lock held; returns with it held.
 */
static void wait_released(struct store *s, struct store_node *n, unsigned max_open,
			  unsigned max_writers)
{
	struct timespec dl;

	if (n->nopen <= max_open && n->buf.nwriters <= max_writers)
		return;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_nsec += RELEASE_WAIT_NS % 1000000000L;
	dl.tv_sec += RELEASE_WAIT_NS / 1000000000L + dl.tv_nsec / 1000000000L;
	dl.tv_nsec %= 1000000000L;
	while (n->nopen > max_open || n->buf.nwriters > max_writers)
		if (pthread_cond_timedwait(&s->released, &s->lock, &dl) == ETIMEDOUT)
			break;
}

/* Is a refusal of @b worth a log line (none in the last second)? */
static bool busy_log_due(struct store_buffer *b)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	if (b->busy_logged && (uint64_t)t.tv_sec < b->busy_logged + 1)
		return false;
	b->busy_logged = (uint64_t)t.tv_sec;
	return true;
}

/*
 * Pages that fallocate(FALLOC_FL_KEEP_SIZE) put past the end of staged buffer
 * @n go (and their charge) when its size is fixed: a heap's memory ends at
 * the buffer's last page.
 */
static void drop_prealloc(struct store *s, struct store_node *n)
{
	struct store_buffer *b = &n->buf;
	uint64_t from = heap_page_round(b->mem.size);

	if (!b->prealloc)
		return;
	if (b->prealloc > from)
		(void)fallocate(b->mem.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)from,
				(off_t)(b->prealloc - from));
	b->prealloc = 0;
	budget_charge(s, n, budget_charge_of(b->mem.size));
}

/*
 * Fix the size of a staged buffer: the first heap its constraints allow adopts
 * the staging memfd (no devices to check), or the first heap that can gets a
 * copy in memory of its own (charged while the staging copy still exists).
 */
static int realize(struct store *s, struct store_node *n, bool wait)
{
	struct store_buffer *b = &n->buf;
	uint64_t old_charge, size, filled;
	struct heap_buf mem;
	char why[200];
	int ret;

	if (!b->staged)
		return 0;
	if (!b->mem.size)
		return -EINVAL;
	drop_prealloc(s, n);
	old_charge = b->charged;
	filled = b->mem.size;
	size = heap_page_round(b->mem.size);
	if (!b->eff.devices || !*b->eff.devices) {
		/*
		 * A dma-buf covers whole pages (udmabuf wants the memfd that
		 * long too), so a size that is no multiple of the page size
		 * would grow: such a buffer stays in a memfd where the
		 * constraints allow one, and keeps its exact size.
		 */
		bool exact = size != b->mem.size && exact_heap_allowed(s, &b->eff, size);

		for (unsigned i = 0; i < s->cfg.nheaps; i++) {
			struct heap *h = &s->cfg.heaps[i];
			char label[DMA_BUF_NAME_LEN];
			struct heap_req req;
			bool size_only;

			if ((exact && h->caps.dmabuf) ||
			    constraints_heap_unmet(h, &b->eff, size, &size_only))
				continue;
			constraints_heap_req(&b->eff, size, &req);
			buf_mem_label(n, label);
			req.name = label;
			ret = heap_adopt(h, &req, &b->mem);
			if (!ret) {
				b->heap = h;
				b->staged = false;
				b->len = b->mem.size != filled ? filled : 0;
				heap_sync(h, &b->mem, DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE);
				return 0;
			}
			if (ret != -EOPNOTSUPP && ret != -ENOSPC)
				return ret;
			break; /* only the first choice adopts: the others copy */
		}
	}
	/*
	 * A copy leaves every open's backing file on the old memfd: only the
	 * fd being traded (or none) may hold the buffer.
	 */
	if (wait)
		wait_released(s, n, 1, UINT_MAX);
	if (n->nopen > 1) {
		/* an export does not wait (its client tries again): a line a second */
		if (s->cfg.log && (wait || busy_log_due(b)))
			s->cfg.log("%s cannot move to its heap while %u fds hold it open",
				   n->name ? n->name : "(unlinked)", n->nopen);
		return -EBUSY;
	}
	ret = budget_charge(s, n, old_charge + budget_charge_of(size));
	if (ret)
		return ret;
	ret = buf_place(s, n, size, heap_staging(), &b->mem, &mem, why, sizeof(why));
	if (ret) {
		if (s->cfg.log)
			s->cfg.log("%s cannot be placed: %s", n->name ? n->name : "(unlinked)",
				   why);
		budget_charge(s, n, old_charge);
		return ret;
	}
	backing_drop(n, NULL);
	heap_free(heap_staging(), &b->mem);
	b->mem = mem;
	b->staged = false;
	b->len = mem.size != filled ? filled : 0;
	budget_charge(s, n, budget_charge_of(mem.size));
	return 0;
}

/*
 * Resize buffer @n to @size. @issuer is the handle the request came through,
 * or NULL. A staged buffer grows or shrinks in place; a sealed one is
 * reallocated and copied, only when it was never exported and nobody but a
 * daemon-served @issuer holds it open. A sealed buffer grown by a write is
 * filled again (staged), so the writes that follow cost no copy; one resized
 * by a chosen size is sealed again at once.
 */
int buf_resize(struct store *s, struct store_node *n, uint64_t size, struct store_handle *issuer,
	       const struct store_ctx *ctx, enum resize_why why)
{
	struct store_buffer *b = &n->buf;
	uint64_t old_charge = b->charged;
	struct heap_buf mem;
	int ret;

	if (n->is_dir)
		return -EISDIR;
	if (size > (uint64_t)INT64_MAX)
		return -EFBIG;
	if (b->staged)
		b->declared = why == RESIZE_DECLARE && size;
	if (size == buf_len(b)) {
		/* as tmpfs, truncation drops the pages past the end, same size or not */
		if (b->staged && b->prealloc) {
			ret = heap_resize(heap_staging(), &b->mem, size);
			if (ret)
				return ret;
			b->prealloc = 0;
			budget_charge(s, n, budget_charge_of(size));
		}
		return 0;
	}
	if (b->staged) {
		/* pages allocated past the end stay where the file grows short of them */
		uint64_t keep = size > buf_len(b) && size < b->prealloc ? b->prealloc : 0;
		uint64_t c = budget_charge_of(keep > size ? keep : size);
		char whyno[160];

		/* a size no allowed heap can hold is refused now, not when sealed */
		if (size > b->mem.size) {
			ret = constraints_choose_heap(s->cfg.heaps, s->cfg.nheaps, &b->eff, size,
						      whyno, sizeof(whyno));
			if (ret < 0) {
				if (s->cfg.log)
					s->cfg.log("resize of %s to %llu refused: %s",
						   n->name ? n->name : "(unlinked)",
						   (unsigned long long)size, whyno);
				return ret;
			}
		}
		if (c > old_charge) {
			ret = budget_charge(s, n, c);
			if (ret)
				return ret;
		}
		ret = heap_resize(heap_staging(), &b->mem, size);
		if (ret) {
			budget_charge(s, n, old_charge);
			return ret;
		}
		b->prealloc = keep;
		if (c < old_charge)
			budget_charge(s, n, c);
		return 0;
	}
	if (why == RESIZE_WRITE && b->declared) {
		if (s->cfg.log)
			s->cfg.log("write past the end of %s refused: its size %llu is fixed%s",
				   n->name ? n->name : "(unlinked)", (unsigned long long)buf_len(b),
				   b->exports ? " (exported)" : " (user.umm.size)");
		return -EPERM;
	}
	if (!b->exports)
		wait_released(s, n, issuer ? 1u : 0u, UINT_MAX);
	if (b->exports || n->nopen > (issuer ? 1u : 0u) || (issuer && issuer->passthrough)) {
		if (s->cfg.log)
			s->cfg.log("resize of %s to %llu refused: buffer is %s",
				   n->name ? n->name : "(unlinked)", (unsigned long long)size,
				   b->exports ? "exported" : "open");
		return -EBUSY;
	}
	/* reallocate: a new staging memfd, a copy, then the heap as at creation */
	ret = budget_charge(s, n, old_charge + budget_charge_of(size));
	if (ret)
		return ret;
	ret = heap_alloc(heap_staging(),
			 &(struct heap_req){ .align = HEAP_PAGE_SIZE, .name = b->want.name }, &mem);
	if (!ret)
		ret = heap_resize(heap_staging(), &mem, size);
	if (!ret)
		ret = copy_mem(b->heap, &b->mem, heap_staging(), &mem,
			       size < buf_len(b) ? size : buf_len(b));
	if (ret) {
		heap_free(heap_staging(), &mem);
		budget_charge(s, n, old_charge);
		return ret;
	}
	backing_drop(n, ctx);
	heap_free(b->heap, &b->mem);
	b->mem = mem;
	b->len = 0;
	b->staged = true;
	b->prealloc = 0;
	b->declared = why == RESIZE_DECLARE && size;
	b->charged = old_charge + budget_charge_of(size);
	budget_charge(s, n, budget_charge_of(size));
	/* emptied or grown by a write: filled again; given a size: fixed again */
	if (size && why == RESIZE_DECLARE)
		ret = realize(s, n, true);
	return ret;
}

/*
 * Choose how an open of buffer @n is served and make its handle.
 *
 * With passthrough, every open of a buffer whose memory is a memfd (the
 * memfd and udmabuf heaps, and every buffer not yet exported) gets the
 * memfd as its backing file: its mmap maps the buffer's own pages, from the
 * creating fd on, in any order of opens. A reader's read(2) goes to the
 * memfd too; while the buffer can still change size, a writer's read(2) and
 * write(2) come to the daemon (FOPEN_DIRECT_IO, which the kernel lets
 * override passthrough for I/O but not for mmap): so every change of size
 * passes the budgets here, and a mapping, which cannot grow a file, stays
 * zero copy. Once sealed (a size the directory fixed, or exported) the
 * memfd's seals refuse growth in the kernel, and writers pass through too.
 * Without passthrough the kernel caches the pages of a memfd-backed buffer
 * (read, write through to the daemon, and shared mmap from that cache). A
 * buffer whose memory has no memfd (a dma-buf heap's, from creation in a
 * sized directory or after its export) is served with direct I/O in both
 * modes, so read(2) sees what devices wrote; it is mapped through the
 * exported fd.
 */
int buf_open(struct store *s, const struct store_ctx *ctx, struct store_node *n, int flags,
	     struct store_open_out *oo)
{
	struct store_buffer *b = &n->buf;
	int acc = flags & O_ACCMODE;
	bool pt_mode = s->cfg.passthrough && ctx->backing_open;
	struct store_handle *h;
	bool pt = false;
	int ret;

	/* O_TRUNC truncates whatever the access mode (the kernel checked write permission) */
	if (flags & O_TRUNC) {
		if (buf_len(b) || b->prealloc) {
			ret = buf_resize(s, n, 0, NULL, ctx, RESIZE_TRUNC);
			if (ret)
				return ret;
		}
		/* as on tmpfs, also when it was empty already */
		node_modified(n, ctx);
	}
	memset(oo, 0, sizeof(*oo));
	if (b->stale_backing_id && ctx->backing_close) {
		ctx->backing_close(ctx->req, b->stale_backing_id);
		b->stale_backing_id = 0;
	}
	/*
	 * A write-only open cannot map: it stays the daemon's unless another
	 * open is passed through (the kernel then takes no other kind), so
	 * truncate(1) can still resize a sized directory's buffer it alone
	 * holds.
	 */
	if (pt_mode && !b->mem.map && b->mem.fd >= 0 && (acc != O_WRONLY || b->npt)) {
		if (!b->backing_id) {
			int id = ctx->backing_open(ctx->req, b->mem.fd);

			b->backing_id = id > 0 ? id : 0;
		}
		pt = b->backing_id > 0;
	}
	/* while one passthrough open exists, the kernel takes no other kind */
	if (!pt && b->npt)
		return -EBUSY;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->node = n;
	h->accmode = acc;
	h->passthrough = pt;
	h->next = b->handles;
	if (h->next)
		h->next->prev = h;
	b->handles = h;
	n->nopen++;
	if (pt)
		b->npt++;
	if (acc != O_RDONLY)
		b->nwriters++;
	oo->fh = (uint64_t)(uintptr_t)h;
	oo->backing_id = pt ? b->backing_id : 0;
	/*
	 * A sealed memfd cannot change size: the kernel holds its budget, so
	 * a writer's I/O passes through too. A file shorter than its memory
	 * (b->len) is read up to its length only: by the daemon.
	 */
	oo->direct_io = pt ? (acc != O_RDONLY && !b->mem.sealed) || b->len :
			     pt_mode || b->mem.map || b->mem.fd < 0;
	/* writes that never reach the daemon: the writer clears them at open */
	if (pt && acc != O_RDONLY && !oo->direct_io)
		node_kill_suid(n, ctx, false);
	return 0;
}

/**
 * store_export() - an fd of buffer @ino's memory with access @accmode, for the
 * export socket
 *
 * A staged buffer is sealed first (-EBUSY while a daemon-served writer other
 * than the traded fd still fills it, -EINVAL while it is empty).
 * Returns the fd (owned by the caller) or -errno.
 */
int store_export(struct store *s, uint64_t ino, int accmode, uint32_t *kind, uint64_t *size)
{
	struct store_node *n;
	bool dmabuf;
	int ret;

	lock(s);
	ret = node_buf_get(s, ino, &n);
	if (ret)
		goto out;
	if (n->buf.staged) {
		if (!n->buf.mem.size) {
			ret = -EINVAL;
			goto out;
		}
		ret = realize(s, n, false);
		if (ret)
			goto out;
	}
	ret = heap_reopen(&n->buf.mem, accmode, &dmabuf);
	if (ret < 0)
		goto out;
	n->buf.exports++;
	if (!dmabuf)
		n->buf.memfd_exports++;
	s->exports++;
	*kind = dmabuf ? STORE_KIND_DMABUF : STORE_KIND_MEMFD;
	*size = buf_len(&n->buf);
out:
	unlock(s);
	return ret;
}
