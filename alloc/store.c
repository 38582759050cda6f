// SPDX-License-Identifier: MIT
/*
 * store.c - nodes, names, the buffer life cycle and accounting.
 *
 * One mutex guards everything; every exported function takes it. Buffers are
 * charged their size rounded up to a page against the mount's size=, the
 * owner's user_size=, and every ancestor's user.umm.max_bytes, before any
 * memory is allocated, so no path grows a buffer past a budget.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/dma-buf.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "store_i.h"

#define XATTR_UMM "user.umm."
#define XATTR_USER "user."
#define UMM_XATTR_BYTES_MAX (1u << 20) /* stored user.* values per node */
#define COPY_CHUNK (1u << 20)

static void lock(struct umm_store *s)
{
	pthread_mutex_lock(&s->lock);
}

static void unlock(struct umm_store *s)
{
	pthread_mutex_unlock(&s->lock);
}

static void now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

/* ---- tables ---- */

static uint64_t hash_ino(uint64_t ino)
{
	ino ^= ino >> 33;
	ino *= 0xff51afd7ed558ccdULL;
	ino ^= ino >> 33;
	return ino;
}

static uint64_t hash_name(uint64_t parent, const char *name)
{
	uint64_t h = 1469598103934665603ULL ^ hash_ino(parent);

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ULL;
	return h;
}

static void tab_insert_ino(struct umm_store *s, struct umm_node *n)
{
	size_t i = hash_ino(n->ino) & (s->tab_size - 1);

	n->ino_next = s->ino_tab[i];
	s->ino_tab[i] = n;
}

static void tab_insert_name(struct umm_store *s, struct umm_node *n)
{
	size_t i = hash_name(n->parent->ino, n->name) & (s->tab_size - 1);

	n->name_next = s->name_tab[i];
	s->name_tab[i] = n;
}

static void tab_remove_ino(struct umm_store *s, struct umm_node *n)
{
	struct umm_node **p = &s->ino_tab[hash_ino(n->ino) & (s->tab_size - 1)];

	for (; *p; p = &(*p)->ino_next) {
		if (*p == n) {
			*p = n->ino_next;
			return;
		}
	}
}

static void tab_remove_name(struct umm_store *s, struct umm_node *n)
{
	struct umm_node **p = &s->name_tab[hash_name(n->parent->ino, n->name) & (s->tab_size - 1)];

	for (; *p; p = &(*p)->name_next) {
		if (*p == n) {
			*p = n->name_next;
			return;
		}
	}
}

/* Grow both tables when they get full; on allocation failure keep the old ones. */
static void tab_maybe_grow(struct umm_store *s)
{
	size_t old = s->tab_size, nsize = old * 2;
	struct umm_node **it, **nt;

	if (s->nnodes < old)
		return;
	it = calloc(nsize, sizeof(*it));
	nt = calloc(nsize, sizeof(*nt));
	if (!it || !nt) {
		free(it);
		free(nt);
		return;
	}
	struct umm_node **oi = s->ino_tab, **on = s->name_tab;

	s->ino_tab = it;
	s->name_tab = nt;
	s->tab_size = nsize;
	for (size_t i = 0; i < old; i++) {
		for (struct umm_node *n = oi[i], *next; n; n = next) {
			next = n->ino_next;
			tab_insert_ino(s, n);
		}
		for (struct umm_node *n = on[i], *next; n; n = next) {
			next = n->name_next;
			tab_insert_name(s, n);
		}
	}
	free(oi);
	free(on);
}

static struct umm_node *node_get(struct umm_store *s, uint64_t ino)
{
	struct umm_node *n = s->ino_tab[hash_ino(ino) & (s->tab_size - 1)];

	for (; n; n = n->ino_next)
		if (n->ino == ino)
			return n;
	return NULL;
}

static struct umm_node *child_get(struct umm_store *s, struct umm_node *dir, const char *name)
{
	struct umm_node *n = s->name_tab[hash_name(dir->ino, name) & (s->tab_size - 1)];

	for (; n; n = n->name_next)
		if (n->parent == dir && !strcmp(n->name, name))
			return n;
	return NULL;
}

/* ---- nodes ---- */

static int check_name(const char *name)
{
	size_t len = strlen(name);

	if (!len || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if (len > UMM_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static struct umm_node *node_new(struct umm_store *s, bool is_dir, mode_t mode, uid_t uid,
				 gid_t gid)
{
	struct umm_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->ino = s->next_ino++;
	n->is_dir = is_dir;
	n->mode = mode & 07777;
	n->uid = uid;
	n->gid = gid;
	now(&n->atime);
	n->mtime = n->ctime = n->atime;
	if (is_dir) {
		umm_constraints_init(&n->dir.own);
		n->dir.next_cookie = 3;
		n->nlink = 2;
	} else {
		n->buf.mem.fd = -1;
		n->buf.mem.dmabuf_fd = -1;
		umm_constraints_init(&n->buf.eff);
		n->nlink = 1;
	}
	return n;
}

static void xattrs_free(struct umm_node *n)
{
	for (struct umm_xattr *x = n->xattrs, *next; x; x = next) {
		next = x->next;
		free(x->name);
		free(x);
	}
	n->xattrs = NULL;
}

/* Link @n under @dir as @name (the name is taken over). */
static void node_attach(struct umm_store *s, struct umm_node *dir, struct umm_node *n, char *name)
{
	n->parent = dir;
	n->name = name;
	n->cookie = dir->dir.next_cookie++;
	n->prev = dir->dir.last;
	n->next = NULL;
	if (dir->dir.last)
		dir->dir.last->next = n;
	else
		dir->dir.first = n;
	dir->dir.last = n;
	dir->dir.nchildren++;
	if (n->is_dir)
		dir->nlink++;
	tab_insert_name(s, n);
}

static void node_detach(struct umm_store *s, struct umm_node *n)
{
	struct umm_node *dir = n->parent;

	tab_remove_name(s, n);
	if (n->prev)
		n->prev->next = n->next;
	else
		dir->dir.first = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		dir->dir.last = n->prev;
	dir->dir.nchildren--;
	if (n->is_dir)
		dir->nlink--;
	n->parent = NULL;
	n->prev = n->next = NULL;
}

/* ---- accounting ---- */

static struct umm_user *user_get(struct umm_store *s, uid_t uid, bool create)
{
	struct umm_user *u;

	for (size_t i = 0; i < s->nusers; i++)
		if (s->users[i].uid == uid)
			return &s->users[i];
	if (!create)
		return NULL;
	u = realloc(s->users, (s->nusers + 1) * sizeof(*u));
	if (!u)
		return NULL;
	s->users = u;
	u = &s->users[s->nusers++];
	u->uid = uid;
	u->used = 0;
	return u;
}

static void chain_add(struct umm_node *dir, int64_t delta)
{
	for (; dir; dir = dir->parent)
		dir->dir.used += (uint64_t)delta;
}

/* Would @delta more bytes under @dir break a user.umm.max_bytes? */
static bool chain_fits(struct umm_node *dir, uint64_t delta)
{
	for (; dir; dir = dir->parent)
		if ((dir->dir.own.set & UMM_C_MAX_BYTES) &&
		    (dir->dir.used + delta < dir->dir.used ||
		     dir->dir.used + delta > dir->dir.own.max_bytes))
			return false;
	return true;
}

/*
 * Charge buffer @n @bytes in all (instead of what it has now). Growth is
 * checked against every budget first: -ENOSPC and nothing changed.
 */
static int charge(struct umm_store *s, struct umm_node *n, uint64_t bytes)
{
	uint64_t old = n->buf.charged;
	const char *over = NULL;
	struct umm_user *u;

	if (bytes > old) {
		uint64_t d = bytes - old;

		u = user_get(s, n->uid, true);
		if (!u)
			return -ENOMEM;
		if (s->used + d < s->used || s->used + d > s->cfg.size)
			over = "the mount's size=";
		else if (s->cfg.user_size &&
			 (u->used + d < u->used || u->used + d > s->cfg.user_size))
			over = "its owner's user_size=";
		else if (!chain_fits(n->parent, d))
			over = "a user.umm.max_bytes on its path";
		if (over) {
			if (s->cfg.log)
				s->cfg.log("%s: %llu bytes more refused: they would exceed %s",
					   n->name ? n->name : "(new buffer)",
					   (unsigned long long)d, over);
			return -ENOSPC;
		}
	} else {
		u = user_get(s, n->uid, false);
	}
	s->used += bytes - old;
	if (u)
		u->used += bytes - old;
	chain_add(n->parent, (int64_t)(bytes - old));
	n->buf.charged = bytes;
	return 0;
}

/* The bytes a buffer of @size is charged. */
static uint64_t charge_of(uint64_t size)
{
	uint64_t r = heap_page_round(size);

	return size && !r ? UINT64_MAX : r;
}

/* ---- effective constraints ---- */

/* The effective set of directory @dir into @eff (initialized here). */
static int effective(struct umm_node *dir, struct umm_constraints *eff)
{
	/* mkdir and rename keep every directory within UMM_DEPTH_MAX of the root */
	struct umm_node *path[UMM_DEPTH_MAX + 1];
	const char *conflict;
	size_t depth = 0;
	int ret = 0;

	umm_constraints_init(eff);
	for (struct umm_node *d = dir; d && depth < UMM_DEPTH_MAX + 1; d = d->parent)
		path[depth++] = d;
	while (depth--) {
		ret = umm_constraints_merge(eff, &path[depth]->dir.own, &conflict);
		if (ret)
			break;
	}
	if (ret)
		umm_constraints_fini(eff);
	return ret;
}

static void buf_props(const struct umm_node *n, struct umm_bufprops *p)
{
	const struct umm_buffer *b = &n->buf;

	p->heap = b->heap->name;
	p->align = b->staged ? b->want.align : b->mem.align;
	p->contiguous = b->staged ? b->want.contiguous : b->mem.contiguous;
	p->cache = b->cache;
	p->devices = b->eff.devices;
}

/*
 * Does every buffer under @dir meet the effective set it would have, given
 * @eff for @dir itself? On false, *@why names the failing constraint.
 */
static int subtree_meets(struct umm_node *dir, const struct umm_constraints *eff, const char **why)
{
	for (struct umm_node *c = dir->dir.first; c; c = c->next) {
		if (!c->is_dir) {
			struct umm_bufprops p;

			buf_props(c, &p);
			if (!umm_constraints_met(eff, &p, why))
				return -EBUSY;
			continue;
		}
		struct umm_constraints sub;
		int ret = umm_constraints_copy(&sub, eff);

		if (ret)
			return ret;
		ret = umm_constraints_merge(&sub, &c->dir.own, why);
		if (!ret)
			ret = subtree_meets(c, &sub, why);
		else
			ret = -EBUSY;
		umm_constraints_fini(&sub);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- stat ---- */

/*
 * The buffer's length as files see it: its memory's size, or less where a
 * heap holds whole pages of a buffer filled to a length that is no multiple
 * of the page size (@len then says how much of it is the file).
 */
static uint64_t buf_len(const struct umm_buffer *b)
{
	return b->len ? b->len : b->mem.size;
}

static void fill_stat(const struct umm_node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_mode = (n->is_dir ? S_IFDIR : S_IFREG) | n->mode;
	st->st_nlink = n->nlink;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_blksize = HEAP_PAGE_SIZE;
	st->st_atim = n->atime;
	st->st_mtim = n->mtime;
	st->st_ctim = n->ctime;
	if (n->is_dir) {
		/* as tmpfs: 20 bytes an entry, . and .. included */
		st->st_size = (off_t)(n->dir.nchildren + 2) * 20;
		return;
	}
	st->st_size = (off_t)buf_len(&n->buf);
	/* a dma-buf heap's memory is all there from the start */
	st->st_blocks = (blkcnt_t)(n->buf.mem.size / 512);
	if (n->buf.mem.fd >= 0) {
		struct stat ms;

		/* memory actually held: untouched memfd pages hold none */
		if (!fstat(n->buf.mem.fd, &ms))
			st->st_blocks = ms.st_blocks;
	}
}

/*
 * A write or truncate by @ctx clears the set-user-ID bit, and the set-group-ID
 * bit where group execution is allowed or the caller is not of the file's
 * group (its primary group), unless the caller is root (as the VFS does for
 * callers without CAP_FSETID); a change of owner (@always) clears them for
 * root too. The daemon does it: it asks the kernel
 * to leave it to the file system (FUSE_CAP_HANDLE_KILLPRIV_V2), which spares
 * a security.capability lookup before every passthrough write.
 */
static void kill_suid(struct umm_node *n, const struct umm_ctx *ctx, bool always)
{
	mode_t old = n->mode;

	if (n->is_dir || (!always && ctx && !ctx->uid))
		return;
	n->mode &= ~(mode_t)S_ISUID;
	/* set-group-ID without group execution stays for members of the group */
	if ((n->mode & S_IXGRP) || (!always && ctx && ctx->gid != n->gid))
		n->mode &= ~(mode_t)S_ISGID;
	if (n->mode != old && ctx && ctx->mode_changed)
		*ctx->mode_changed = true;
}

/* ---- buffer life cycle ---- */

/*
 * Drop @n's passthrough backing id (and one left from a move to its heap):
 * opens made with it keep their backing file. Without a request (@ctx NULL,
 * the export thread) the id is only set aside, for the next request to drop.
 */
static void backing_drop(struct umm_node *n, const struct umm_ctx *ctx)
{
	struct umm_buffer *b = &n->buf;

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

static void node_free(struct umm_store *s, struct umm_node *n, const struct umm_ctx *ctx)
{
	tab_remove_ino(s, n);
	s->nnodes--;
	if (n->is_dir) {
		umm_constraints_fini(&n->dir.own);
		s->ndirs--;
	} else {
		/* handles the kernel never released: a daemon leaving a lazy unmount */
		while (n->buf.handles) {
			struct umm_handle *h = n->buf.handles;

			n->buf.handles = h->next;
			free(h);
		}
		backing_drop(n, ctx);
		heap_free(n->buf.staged ? heap_staging() : n->buf.heap, &n->buf.mem);
		umm_constraints_fini(&n->buf.eff);
		charge(s, n, 0);
		s->nbuffers--;
	}
	xattrs_free(n);
	free(n->name);
	free(n);
}

/* Free @n if nothing refers to it any more: no name, no lookup, no open. */
static void maybe_free(struct umm_store *s, struct umm_node *n, const struct umm_ctx *ctx)
{
	if (n == s->root || n->parent || n->nlookup || n->nopen)
		return;
	node_free(s, n, ctx);
}

static struct heap *buf_heap_now(struct umm_node *n)
{
	return n->buf.staged ? heap_staging() : n->buf.heap;
}

/*
 * Let @move move @n bytes at @off of @m (memory of heap @h), into it when
 * @to_mem: through the daemon's own mapping where the heap made one
 * (hugetlbfs has no write(2), a dma-buf heap has only its mapping), else
 * through the fd. On a dma-buf the access is bracketed by DMA_BUF_IOCTL_SYNC,
 * as a client's would be. Returns what @move returned: bytes moved or -errno.
 */
static ssize_t mem_move(struct heap *h, struct heap_buf *m, size_t n, off_t off, bool to_mem,
			umm_move_fn move, void *arg)
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
 * umm_copy_out() - copy what a umm_move_fn was given (@n bytes of the fd @fd
 * at @off, or of @mem) into @buf: bytes copied, or -errno
 */
ssize_t umm_copy_out(void *buf, int fd, const void *mem, off_t off, size_t n)
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
		return umm_copy_out(io->buf, fd, mem, off, n);
	if (mem) {
		memcpy(mem, io->buf, n);
		return (ssize_t)n;
	}
	r = pwrite(fd, io->buf, n, off);
	return r < 0 ? -errno : r;
}

/* mem_move() between @m and the daemon's own @buf */
static ssize_t mem_io(struct heap *h, struct heap_buf *m, void *buf, size_t n, off_t off,
		      bool to_mem)
{
	struct plain_io io = { .buf = buf, .to_mem = to_mem };

	return mem_move(h, m, n, off, to_mem, plain_move, &io);
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
		ssize_t r = mem_io(sh, src, tmp, n, (off_t)off, false), w;

		if (r <= 0) {
			ret = r < 0 ? (int)r : -EIO;
			break;
		}
		w = mem_io(dh, dst, tmp, (size_t)r, (off_t)off, true);
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
 * The path of @n under the mount's root into @out ("/a/b"); a name alone for
 * an unlinked buffer (its last name, if known). Truncated to @len - 1 bytes.
 */
static void node_path(const struct umm_node *n, char *out, size_t len)
{
	const struct umm_node *path[UMM_DEPTH_MAX + 2];
	size_t depth = 0, used = 0;

	out[0] = '\0';
	if (!len)
		return;
	for (const struct umm_node *p = n; p && p->parent && depth < UMM_DEPTH_MAX + 2;
	     p = p->parent)
		path[depth++] = p;
	if (!depth) {
		snprintf(out, len, "/%s", n->name ? n->name : "");
		return;
	}
	while (depth-- && used < len - 1) {
		int w = snprintf(out + used, len - used, "/%s", path[depth]->name);

		used += w < 0 ? 0 : (size_t)w;
	}
}

/*
 * The name of @n's memory, "umm:<path>", into @label: heaps give it to the
 * dma-bufs they make (DMA_BUF_SET_NAME), so kernel debug views and fdinfo
 * tell where a dma-buf came from. The kernel keeps 31 bytes: a longer path
 * keeps its end, after "umm:...".
 */
static void mem_label(const struct umm_node *n, char label[DMA_BUF_NAME_LEN])
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
static char *next_device(const char **p, char *dev, size_t n)
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
static int devices_import(struct umm_store *s, const char *devices, const struct heap_buf *mem,
			  char *why, size_t len)
{
	char dev[UMM_DEVICE_PATH_MAX + 1];
	int ret;

	for (const char *p = devices; next_device(&p, dev, sizeof(dev));) {
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
static int place(struct umm_store *s, struct umm_node *n, uint64_t size, struct heap *sh,
		 struct heap_buf *src, struct heap_buf *out, char *why, size_t whylen)
{
	const struct umm_constraints *eff = &n->buf.eff;
	char first[160] = "", label[DMA_BUF_NAME_LEN];
	int first_ret = 0;

	mem_label(n, label);

	for (unsigned i = 0; i < s->cfg.nheaps; i++) {
		struct heap *h = &s->cfg.heaps[i];
		struct heap_req req;
		struct heap_buf mem;
		char reason[160] = "";
		bool size_only;
		int ret;

		if (umm_heap_unmet(h, eff, size, &size_only))
			continue;
		umm_heap_req(eff, size, &req);
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
		return umm_choose_heap(s->cfg.heaps, s->cfg.nheaps, eff, size, why, whylen);
	snprintf(why, whylen, "no heap could give it: %s", first);
	if (first_ret == -ENOMEM || first_ret == -ENOSPC)
		return -ENOSPC;
	return first_ret == -EINVAL || first_ret == -EACCES || first_ret == -EPERM ? -EOPNOTSUPP :
										     first_ret;
}

/* Does a heap without dma-bufs (memfd) meet @eff for @size? */
static bool exact_heap_allowed(struct umm_store *s, const struct umm_constraints *eff,
			       uint64_t size)
{
	for (unsigned i = 0; i < s->cfg.nheaps; i++) {
		bool size_only;

		if (!s->cfg.heaps[i].caps.dmabuf &&
		    !umm_heap_unmet(&s->cfg.heaps[i], eff, size, &size_only))
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
static void wait_released(struct umm_store *s, struct umm_node *n, unsigned max_open,
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

/*
 * Pages that fallocate(FALLOC_FL_KEEP_SIZE) put past the end of staged buffer
 * @n go (and their charge) when its size is fixed: a heap's memory ends at
 * the buffer's last page.
 */
static void drop_prealloc(struct umm_store *s, struct umm_node *n)
{
	struct umm_buffer *b = &n->buf;
	uint64_t from = heap_page_round(b->mem.size);

	if (!b->prealloc)
		return;
	if (b->prealloc > from)
		(void)fallocate(b->mem.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)from,
				(off_t)(b->prealloc - from));
	b->prealloc = 0;
	charge(s, n, charge_of(b->mem.size));
}

/*
 * Fix the size of a staged buffer: the first heap its constraints allow adopts
 * the staging memfd (no devices to check), or the first heap that can gets a
 * copy in memory of its own (charged while the staging copy still exists).
 */
static int realize(struct umm_store *s, struct umm_node *n)
{
	struct umm_buffer *b = &n->buf;
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
			    umm_heap_unmet(h, &b->eff, size, &size_only))
				continue;
			umm_heap_req(&b->eff, size, &req);
			mem_label(n, label);
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
	wait_released(s, n, 1, UINT_MAX);
	if (n->nopen > 1) {
		if (s->cfg.log)
			s->cfg.log("%s cannot move to its heap while %u fds hold it open",
				   n->name ? n->name : "(unlinked)", n->nopen);
		return -EBUSY;
	}
	ret = charge(s, n, old_charge + charge_of(size));
	if (ret)
		return ret;
	ret = place(s, n, size, heap_staging(), &b->mem, &mem, why, sizeof(why));
	if (ret) {
		if (s->cfg.log)
			s->cfg.log("%s cannot be placed: %s", n->name ? n->name : "(unlinked)",
				   why);
		charge(s, n, old_charge);
		return ret;
	}
	backing_drop(n, NULL);
	heap_free(heap_staging(), &b->mem);
	b->mem = mem;
	b->staged = false;
	b->len = mem.size != filled ? filled : 0;
	charge(s, n, charge_of(mem.size));
	return 0;
}

/* Why a buffer changes size: a size someone chose, a write past the end, O_TRUNC. */
enum resize_why { RESIZE_DECLARE, RESIZE_WRITE, RESIZE_TRUNC };

/*
 * Resize buffer @n to @size. @issuer is the handle the request came through,
 * or NULL. A staged buffer grows or shrinks in place; a sealed one is
 * reallocated and copied, only when it was never exported and nobody but a
 * daemon-served @issuer holds it open. A sealed buffer grown by a write is
 * filled again (staged), so the writes that follow cost no copy; one resized
 * by a chosen size is sealed again at once.
 */
static int resize(struct umm_store *s, struct umm_node *n, uint64_t size, struct umm_handle *issuer,
		  const struct umm_ctx *ctx, enum resize_why why)
{
	struct umm_buffer *b = &n->buf;
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
			charge(s, n, charge_of(size));
		}
		return 0;
	}
	if (b->staged) {
		/* pages allocated past the end stay where the file grows short of them */
		uint64_t keep = size > buf_len(b) && size < b->prealloc ? b->prealloc : 0;
		uint64_t c = charge_of(keep > size ? keep : size);
		char whyno[160];

		/* a size no allowed heap can hold is refused now, not when sealed */
		if (size > b->mem.size) {
			ret = umm_choose_heap(s->cfg.heaps, s->cfg.nheaps, &b->eff, size, whyno,
					      sizeof(whyno));
			if (ret < 0) {
				if (s->cfg.log)
					s->cfg.log("resize of %s to %llu refused: %s",
						   n->name ? n->name : "(unlinked)",
						   (unsigned long long)size, whyno);
				return ret;
			}
		}
		if (c > old_charge) {
			ret = charge(s, n, c);
			if (ret)
				return ret;
		}
		ret = heap_resize(heap_staging(), &b->mem, size);
		if (ret) {
			charge(s, n, old_charge);
			return ret;
		}
		b->prealloc = keep;
		if (c < old_charge)
			charge(s, n, c);
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
	ret = charge(s, n, old_charge + charge_of(size));
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
		charge(s, n, old_charge);
		return ret;
	}
	backing_drop(n, ctx);
	heap_free(b->heap, &b->mem);
	b->mem = mem;
	b->len = 0;
	b->staged = true;
	b->prealloc = 0;
	b->declared = why == RESIZE_DECLARE && size;
	b->charged = old_charge + charge_of(size);
	charge(s, n, charge_of(size));
	/* emptied or grown by a write: filled again; given a size: fixed again */
	if (size && why == RESIZE_DECLARE)
		ret = realize(s, n);
	return ret;
}

/* ---- the store ---- */

/**
 * umm_store_new() - a store with an empty root directory (mode 1777, root's)
 * Returns 0 or -ENOMEM. The heaps in @cfg must outlive the store.
 */
int umm_store_new(struct umm_store **out, const struct umm_config *cfg)
{
	struct umm_store *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	pthread_condattr_t ca;

	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->released, &ca);
	pthread_condattr_destroy(&ca);
	s->cfg = *cfg;
	s->next_ino = UMM_ROOT_INO;
	s->tab_size = 1024;
	s->ino_tab = calloc(s->tab_size, sizeof(*s->ino_tab));
	s->name_tab = calloc(s->tab_size, sizeof(*s->name_tab));
	if (s->ino_tab)
		s->root = node_new(s, true, 01777, 0, 0);
	if (!s->root || !s->name_tab) {
		free(s->root);
		free(s->ino_tab);
		free(s->name_tab);
		free(s);
		return -ENOMEM;
	}
	tab_insert_ino(s, s->root);
	s->nnodes = 1;
	s->ndirs = 1;
	*out = s;
	return 0;
}

static void free_subtree(struct umm_store *s, struct umm_node *dir)
{
	while (dir->dir.first) {
		struct umm_node *c = dir->dir.first;

		if (c->is_dir)
			free_subtree(s, c);
		node_detach(s, c);
		c->nlookup = 0;
		c->nopen = 0;
		node_free(s, c, NULL);
	}
}

/**
 * umm_store_free() - free every node, buffer and the store itself
 *
 * Unlinked buffers still held open are freed too: call this only once the
 * filesystem is unmounted.
 */
void umm_store_free(struct umm_store *s)
{
	if (!s)
		return;
	free_subtree(s, s->root);
	for (size_t i = 0; i < s->tab_size; i++) {
		while (s->ino_tab[i]) {
			struct umm_node *n = s->ino_tab[i];

			if (n == s->root) {
				s->ino_tab[i] = n->ino_next;
				continue;
			}
			n->nlookup = 0;
			n->nopen = 0;
			node_free(s, n, NULL);
		}
	}
	umm_constraints_fini(&s->root->dir.own);
	xattrs_free(s->root);
	free(s->root);
	free(s->ino_tab);
	free(s->name_tab);
	free(s->users);
	free(s->socket);
	pthread_cond_destroy(&s->released);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/**
 * umm_store_set_socket() - the path the root's user.umm.socket gives
 */
void umm_store_set_socket(struct umm_store *s, const char *path)
{
	char *p = strdup(path);

	lock(s);
	free(s->socket);
	s->socket = p;
	unlock(s);
}

/**
 * umm_store_stats() - counters: buffers, directories, bytes charged, requests
 */
void umm_store_stats(struct umm_store *s, struct umm_stats *st)
{
	lock(s);
	st->buffers = s->nbuffers;
	st->dirs = s->ndirs;
	st->used = s->used;
	st->reads = s->reads;
	st->writes = s->writes;
	unlock(s);
}

/* ---- operations ---- */

static int dir_get(struct umm_store *s, uint64_t ino, struct umm_node **out)
{
	struct umm_node *n = node_get(s, ino);

	if (!n)
		return -ENOENT;
	if (!n->is_dir)
		return -ENOTDIR;
	*out = n;
	return 0;
}

/**
 * umm_lookup() - find @name in directory @parent; counts one kernel lookup
 */
int umm_lookup(struct umm_store *s, uint64_t parent, const char *name, struct stat *st)
{
	struct umm_node *dir, *n;
	int ret;

	lock(s);
	ret = dir_get(s, parent, &dir);
	if (ret)
		goto out;
	if (strlen(name) > UMM_NAME_MAX) {
		ret = -ENAMETOOLONG;
		goto out;
	}
	n = child_get(s, dir, name);
	if (!n) {
		ret = -ENOENT;
		goto out;
	}
	n->nlookup++;
	fill_stat(n, st);
out:
	unlock(s);
	return ret;
}

/**
 * umm_forget() - the kernel dropped @count lookups of @ino
 */
void umm_forget(struct umm_store *s, const struct umm_ctx *ctx, uint64_t ino, uint64_t count)
{
	struct umm_node *n;

	lock(s);
	n = node_get(s, ino);
	if (n && n != s->root) {
		n->nlookup = count > n->nlookup ? 0 : n->nlookup - count;
		maybe_free(s, n, ctx);
	}
	unlock(s);
}

/**
 * umm_getattr() - attributes of @ino
 */
int umm_getattr(struct umm_store *s, uint64_t ino, struct stat *st)
{
	struct umm_node *n;
	int ret = 0;

	lock(s);
	n = node_get(s, ino);
	if (n)
		fill_stat(n, st);
	else
		ret = -ENOENT;
	unlock(s);
	return ret;
}

/**
 * umm_store_passthrough() - say whether the kernel took FUSE passthrough
 * (the mount's negotiation may turn off what the configuration asked for)
 */
void umm_store_passthrough(struct umm_store *s, bool on)
{
	lock(s);
	s->cfg.passthrough = on;
	unlock(s);
}

/**
 * umm_attr_settled() - whether the attributes of @ino change only through
 * requests the daemon serves, so the kernel may keep them a while
 *
 * Not so for a buffer in a memfd with a hole below its end: a load or store
 * through a mapping (which the daemon never sees) fills the hole, and its
 * st_blocks grows, as on tmpfs.
 */
static bool node_settled(const struct umm_node *n)
{
	off_t hole;

	if (n->is_dir || n->buf.mem.fd < 0 || n->buf.mem.map || !buf_len(&n->buf))
		return true;
	hole = lseek(n->buf.mem.fd, 0, SEEK_HOLE);
	return hole >= 0 && (uint64_t)hole >= buf_len(&n->buf);
}

bool umm_attr_settled(struct umm_store *s, uint64_t ino)
{
	struct umm_node *n;
	bool settled = true;

	lock(s);
	n = node_get(s, ino);
	if (n)
		settled = node_settled(n);
	unlock(s);
	return settled;
}

static struct umm_handle *handle_of(struct umm_node *n, uint64_t fh)
{
	struct umm_handle *h = (struct umm_handle *)(uintptr_t)fh;

	return h && h->node == n ? h : NULL;
}

/**
 * umm_setattr() - change mode, owner, size or times (the kernel checked the
 * caller's right to); on success @st holds the new attributes
 */
int umm_setattr(struct umm_store *s, const struct umm_ctx *ctx, uint64_t ino,
		const struct umm_setattr *sa, struct stat *st)
{
	struct umm_node *n;
	bool sized;
	int ret = 0;

	lock(s);
	n = node_get(s, ino);
	if (!n) {
		ret = -ENOENT;
		goto out;
	}
	/*
	 * As on tmpfs, ftruncate(2) (which names the open, @sa->fh) moves
	 * mtime and ctime; truncate(2) moves them where the size changes or
	 * the file holds pages (tmpfs truncates them, same size or not).
	 */
	if (sa->valid & UMM_SET_SIZE) {
		struct stat now_st;

		fill_stat(n, &now_st);
		sized = n->is_dir || sa->fh || sa->size != buf_len(&n->buf) || now_st.st_blocks;
	} else {
		sized = false;
	}
	if (sa->valid & UMM_SET_SIZE) {
		ret = resize(s, n, sa->size, sa->fh ? handle_of(n, sa->fh) : NULL, ctx,
			     sa->size ? RESIZE_DECLARE : RESIZE_TRUNC);
		if (ret)
			goto out;
		if (sized)
			now(&n->mtime);
	}
	if (sa->valid & UMM_SET_MODE)
		n->mode = sa->mode & 07777;
	/* after a mode the kernel sent with them: it clears less than tmpfs */
	if (sa->valid & (UMM_SET_UID | UMM_SET_GID))
		kill_suid(n, ctx, true); /* chown clears them, for root too */
	else if (sa->valid & (UMM_SET_SIZE | UMM_SET_KILL_SUIDGID))
		kill_suid(n, ctx, false);
	if ((sa->valid & (UMM_SET_UID | UMM_SET_GID)) && !n->is_dir) {
		uid_t nuid = (sa->valid & UMM_SET_UID) ? sa->uid : n->uid;

		if (nuid != n->uid) {
			/* the charge follows the owner */
			uint64_t c = n->buf.charged;
			struct umm_user *u = user_get(s, nuid, true);
			struct umm_user *o = user_get(s, n->uid, false);

			if (!u) {
				ret = -ENOMEM;
				goto out;
			}
			if (o)
				o->used -= c;
			u->used += c;
		}
	}
	if (sa->valid & UMM_SET_UID)
		n->uid = sa->uid;
	if (sa->valid & UMM_SET_GID)
		n->gid = sa->gid;
	if (sa->valid & UMM_SET_ATIME_NOW)
		now(&n->atime);
	else if (sa->valid & UMM_SET_ATIME)
		n->atime = sa->atime;
	if (sa->valid & UMM_SET_MTIME_NOW)
		now(&n->mtime);
	else if (sa->valid & UMM_SET_MTIME)
		n->mtime = sa->mtime;
	if (sa->valid & UMM_SET_CTIME)
		n->ctime = sa->ctime;
	else if (sized || (sa->valid & ~(UMM_SET_SIZE | UMM_SET_KILL_SUIDGID)))
		now(&n->ctime);
	fill_stat(n, st);
out:
	unlock(s);
	return ret;
}

static gid_t new_gid(const struct umm_node *dir, const struct umm_ctx *ctx)
{
	return (dir->mode & S_ISGID) ? dir->gid : ctx->gid;
}

static unsigned depth_of(const struct umm_node *n)
{
	unsigned d = 0;

	for (; n->parent; n = n->parent)
		d++;
	return d;
}

/* Levels of directories below @dir (0 for a directory with no subdirectory). */
static unsigned height_of(const struct umm_node *dir)
{
	unsigned h = 0;

	for (const struct umm_node *c = dir->dir.first; c; c = c->next) {
		if (c->is_dir) {
			unsigned ch = 1 + height_of(c);

			if (ch > h)
				h = ch;
		}
	}
	return h;
}

/*
 * Like tmpfs's default nr_inodes: one node per page of the size budget, so
 * names and directories, which no byte budget charges, stay bounded too.
 */
static bool nodes_full(const struct umm_store *s)
{
	return s->nnodes >= s->cfg.size / HEAP_PAGE_SIZE + 1;
}

static int prepare_new(struct umm_store *s, uint64_t parent, const char *name,
		       struct umm_node **dirp, char **namep)
{
	int ret = dir_get(s, parent, dirp);

	if (ret)
		return ret;
	ret = check_name(name);
	if (ret)
		return ret;
	if (!(*dirp)->nlink)
		return -ENOENT;
	if (child_get(s, *dirp, name))
		return -EEXIST;
	if (nodes_full(s))
		return -ENOSPC;
	*namep = strdup(name);
	return *namep ? 0 : -ENOMEM;
}

/**
 * umm_mkdir() - a new directory inheriting @parent's constraints; counts one lookup
 */
int umm_mkdir(struct umm_store *s, const struct umm_ctx *ctx, uint64_t parent, const char *name,
	      mode_t mode, struct stat *st)
{
	struct umm_node *dir, *n;
	char *nm;
	int ret;

	lock(s);
	ret = prepare_new(s, parent, name, &dir, &nm);
	if (ret)
		goto out;
	if (depth_of(dir) + 1 > UMM_DEPTH_MAX) {
		free(nm);
		ret = -EMLINK;
		goto out;
	}
	n = node_new(s, true, mode | (dir->mode & S_ISGID), ctx->uid, new_gid(dir, ctx));
	if (!n) {
		free(nm);
		ret = -ENOMEM;
		goto out;
	}
	tab_insert_ino(s, n);
	s->nnodes++;
	s->ndirs++;
	node_attach(s, dir, n, nm);
	now(&dir->mtime);
	dir->ctime = dir->mtime;
	n->nlookup++;
	fill_stat(n, st);
	tab_maybe_grow(s);
out:
	unlock(s);
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
static int open_buffer(struct umm_store *s, const struct umm_ctx *ctx, struct umm_node *n,
		       int flags, struct umm_open_out *oo)
{
	struct umm_buffer *b = &n->buf;
	int acc = flags & O_ACCMODE;
	bool pt_mode = s->cfg.passthrough && ctx->backing_open;
	struct umm_handle *h;
	bool pt = false;
	int ret;

	/* O_TRUNC truncates whatever the access mode (the kernel checked write permission) */
	if (flags & O_TRUNC) {
		kill_suid(n, ctx, false);
		if (buf_len(b) || b->prealloc) {
			ret = resize(s, n, 0, NULL, ctx, RESIZE_TRUNC);
			if (ret)
				return ret;
		}
		/* as on tmpfs, also when it was empty already */
		now(&n->mtime);
		n->ctime = n->mtime;
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
		kill_suid(n, ctx, false);
	return 0;
}

/**
 * umm_create() - a new buffer @name in @parent, opened with @flags
 *
 * Where the directory sets user.umm.size, the memory is allocated now from the
 * heap its constraints choose; otherwise the buffer starts empty and staged.
 * Counts one lookup. Returns 0, -EEXIST, -ENOSPC (a budget or no heap large
 * enough), -EOPNOTSUPP (no heap meets a constraint), -ENOMEM.
 */
int umm_create(struct umm_store *s, const struct umm_ctx *ctx, uint64_t parent, const char *name,
	       mode_t mode, int flags, struct stat *st, struct umm_open_out *oo)
{
	struct umm_constraints eff;
	struct umm_node *dir, *n;
	char why[160];
	uint64_t size;
	char *nm;
	bool charge_refused = false;
	int ret, h;

	lock(s);
	ret = prepare_new(s, parent, name, &dir, &nm);
	if (ret)
		goto out;
	if (s->cfg.nr_buffers && s->nbuffers >= s->cfg.nr_buffers) {
		free(nm);
		ret = -ENOSPC;
		if (s->cfg.log)
			s->cfg.log("create %s refused: nr_buffers=%llu reached", name,
				   (unsigned long long)s->cfg.nr_buffers);
		goto out;
	}
	ret = effective(dir, &eff);
	if (ret) {
		free(nm);
		goto out;
	}
	size = (eff.set & UMM_C_SIZE) ? eff.size : 0;
	h = umm_choose_heap(s->cfg.heaps, s->cfg.nheaps, &eff, size, why, sizeof(why));
	if (h < 0) {
		if (s->cfg.log)
			s->cfg.log("create %s refused: %s", name, why);
		ret = h;
		goto out_eff;
	}
	n = node_new(s, false, mode, ctx->uid, new_gid(dir, ctx));
	if (!n) {
		ret = -ENOMEM;
		goto out_eff;
	}
	n->buf.heap = &s->cfg.heaps[h];
	umm_heap_req(&eff, 0, &n->buf.want);
	n->buf.want.name = "umm";
	n->buf.eff = eff;
	umm_constraints_init(&eff); /* the buffer owns the set now */
	n->buf.cache = n->buf.eff.cache;
	n->buf.sync = UMM_SYNC_CPU;
	n->buf.declared = size != 0;
	n->parent = dir; /* for the quota check before attaching */
	n->name = nm; /* for the log line of a refused charge */
	if (size) {
		ret = charge(s, n, charge_of(size));
		charge_refused = ret == -ENOSPC;
		if (!ret) {
			ret = place(s, n, heap_page_round(size), NULL, NULL, &n->buf.mem, why,
				    sizeof(why));
			if (ret && ret != -EMFILE && ret != -ENFILE && s->cfg.log)
				s->cfg.log("create %s refused: %s", name, why);
			charge_refused |= ret == -ENOSPC || ret == -EOPNOTSUPP;
			if (!ret && n->buf.mem.size > size)
				/* the heap's granule (huge pages) is what the buffer holds */
				ret = charge(s, n, charge_of(n->buf.mem.size));
			if (ret) {
				heap_free(n->buf.heap, &n->buf.mem);
				charge(s, n, 0);
			}
		}
	} else {
		ret = heap_alloc(heap_staging(), &(struct heap_req){ .align = HEAP_PAGE_SIZE },
				 &n->buf.mem);
		n->buf.staged = true;
	}
	n->parent = NULL;
	n->name = NULL;
	if (ret == -EMFILE || ret == -ENFILE) {
		/* the daemon's fd table is full: to the caller that is a full mount */
		if (s->cfg.log)
			s->cfg.log("create %s refused: the daemon has no fd left (%s)", name,
				   strerror(-ret));
		ret = -ENOSPC;
	} else if (ret && !charge_refused && s->cfg.log) {
		s->cfg.log("create %s failed: %s", name, strerror(-ret));
	}
	if (ret) {
		umm_constraints_fini(&n->buf.eff);
		free(n);
		goto out_eff;
	}
	tab_insert_ino(s, n);
	s->nnodes++;
	s->nbuffers++;
	node_attach(s, dir, n, nm);
	nm = NULL;
	now(&dir->mtime);
	dir->ctime = dir->mtime;
	ret = open_buffer(s, ctx, n, flags & ~O_TRUNC, oo);
	if (ret) {
		node_detach(s, n);
		chain_add(dir, -(int64_t)n->buf.charged);
		node_free(s, n, ctx);
		goto out_eff;
	}
	n->nlookup++;
	fill_stat(n, st);
	tab_maybe_grow(s);
out_eff:
	free(nm);
	umm_constraints_fini(&eff);
out:
	unlock(s);
	return ret;
}

/**
 * umm_open() - open buffer @ino with @flags; see struct umm_open_out
 */
int umm_open(struct umm_store *s, const struct umm_ctx *ctx, uint64_t ino, int flags,
	     struct umm_open_out *oo)
{
	struct umm_node *n;
	int ret;

	lock(s);
	n = node_get(s, ino);
	if (!n)
		ret = -ENOENT;
	else if (n->is_dir)
		ret = -EISDIR;
	else
		ret = open_buffer(s, ctx, n, flags, oo);
	unlock(s);
	return ret;
}

/**
 * umm_release() - the last fd of an open went away
 */
void umm_release(struct umm_store *s, const struct umm_ctx *ctx, uint64_t ino, uint64_t fh)
{
	struct umm_node *n;
	struct umm_handle *h;

	lock(s);
	n = node_get(s, ino);
	h = n ? handle_of(n, fh) : NULL;
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
		maybe_free(s, n, ctx);
	}
	unlock(s);
}

/**
 * umm_read_to() - read of a daemon-served open, moved by @move (see
 * umm_move_fn): what @move returned, 0 at or past the end (@move not called),
 * or -errno (@move not called)
 */
ssize_t umm_read_to(struct umm_store *s, uint64_t ino, uint64_t fh, size_t size, off_t off,
		    umm_move_fn move, void *arg)
{
	struct umm_handle *h;
	struct heap_buf *m;
	struct umm_node *n;
	ssize_t ret;

	lock(s);
	n = node_get(s, ino);
	h = n ? handle_of(n, fh) : NULL;
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
 * umm_move_fn): what @move returned, or -errno.
 *
 * A staged buffer grows within its budgets; a sealed one cannot grow: a write
 * past its end gets -EPERM, as the memfd's seal gives a passthrough writer.
 */
static ssize_t write_from(struct umm_store *s, const struct umm_ctx *ctx, uint64_t ino, uint64_t fh,
			  size_t size, off_t off, umm_move_fn move, void *arg)
{
	struct umm_handle *h;
	struct heap_buf *m;
	struct umm_node *n;
	uint64_t end;
	ssize_t ret;

	lock(s);
	n = node_get(s, ino);
	h = n ? handle_of(n, fh) : NULL;
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
		ret = resize(s, n, end, h, ctx, RESIZE_WRITE);
		if (ret == -EBUSY)
			ret = -EPERM;
		if (ret)
			goto out;
	}
	ret = mem_move(buf_heap_now(n), m, size, off, true, move, arg);
	if (ret > 0)
		s->write_bytes += (uint64_t)ret;
	if (ret > 0)
		kill_suid(n, ctx, false);
	now(&n->mtime);
	n->ctime = n->mtime;
out:
	unlock(s);
	return ret;
}

/**
 * umm_read() - umm_read_to() into @buf: bytes read, or -errno
 */
ssize_t umm_read(struct umm_store *s, uint64_t ino, uint64_t fh, char *buf, size_t size, off_t off)
{
	struct plain_io io = { .buf = buf, .to_mem = false };

	return umm_read_to(s, ino, fh, size, off, plain_move, &io);
}

/**
 * umm_write() - write of a daemon-served open out of @buf: bytes written, or -errno
 */
ssize_t umm_write(struct umm_store *s, const struct umm_ctx *ctx, uint64_t ino, uint64_t fh,
		  const char *buf, size_t size, off_t off)
{
	struct plain_io io = { .buf = (void *)buf, .to_mem = true };

	return write_from(s, ctx, ino, fh, size, off, plain_move, &io);
}

/**
 * umm_fallocate() - fallocate(2) on an open buffer, as tmpfs does it
 *
 * Mode 0 sizes the buffer up to @off + @len where that is past its end (like
 * an extending write) and FALLOC_FL_KEEP_SIZE does not; both then allocate the
 * range's pages where the memory is a memfd (st_blocks counts them), pages
 * past the end included while the buffer is growable (they are charged, and
 * go when its size is fixed). FALLOC_FL_PUNCH_HOLE (with KEEP_SIZE) gives a
 * memfd's pages back (they read as zeros). Other modes, and punching memory
 * with a dma-buf (a dma-buf heap's, or a udmabuf's memfd): -EOPNOTSUPP. mtime and ctime move, as a write moves them.
 */
int umm_fallocate(struct umm_store *s, const struct umm_ctx *ctx, uint64_t ino, uint64_t fh,
		  int mode, off_t off, off_t len)
{
	const int known = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
	struct umm_handle *h;
	struct umm_buffer *b;
	struct umm_node *n;
	uint64_t end, size;
	bool memfd;
	int ret = 0;

	if (off < 0 || len <= 0 || off > INT64_MAX - len)
		return -EINVAL;
	if ((mode & ~known) || ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE)))
		return -EOPNOTSUPP;
	end = (uint64_t)off + (uint64_t)len;
	lock(s);
	n = node_get(s, ino);
	h = n && !n->is_dir ? handle_of(n, fh) : NULL;
	if (!n) {
		ret = -ENOENT;
		goto out;
	}
	if (n->is_dir) {
		ret = -EISDIR;
		goto out;
	}
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
		ret = resize(s, n, end, h, ctx, RESIZE_DECLARE);
		if (ret)
			goto out;
	}
	size = buf_len(b);
	if (!memfd)
		goto stamp;
	if (end > size && b->staged) {
		/* KEEP_SIZE past the end: the pages are charged as if the file reached them */
		uint64_t old_charge = b->charged, c = charge_of(end);

		if (c > old_charge) {
			ret = charge(s, n, c);
			if (ret)
				goto out;
		}
		if (fallocate(b->mem.fd, mode, off, len) < 0) {
			ret = errno == EFBIG ? -ENOSPC : -errno;
			charge(s, n, old_charge);
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
	if (!ret) {
		kill_suid(n, ctx, false);
		now(&n->mtime);
		n->ctime = n->mtime;
	}
out:
	unlock(s);
	return ret;
}

/**
 * umm_unlink() - remove buffer @name; its memory goes with the last reference
 */
int umm_unlink(struct umm_store *s, const struct umm_ctx *ctx, uint64_t parent, const char *name)
{
	struct umm_node *dir, *n;
	int ret;

	lock(s);
	ret = dir_get(s, parent, &dir);
	if (ret)
		goto out;
	n = child_get(s, dir, name);
	if (!n) {
		ret = -ENOENT;
		goto out;
	}
	if (n->is_dir) {
		ret = -EISDIR;
		goto out;
	}
	/* the subtree no longer holds it; the mount and its owner do until freed */
	chain_add(dir, -(int64_t)n->buf.charged);
	node_detach(s, n);
	n->nlink = 0;
	now(&dir->mtime);
	dir->ctime = n->ctime = dir->mtime;
	maybe_free(s, n, ctx);
out:
	unlock(s);
	return ret;
}

/**
 * umm_rmdir() - remove empty directory @name
 */
int umm_rmdir(struct umm_store *s, uint64_t parent, const char *name)
{
	struct umm_node *dir, *n;
	int ret;

	lock(s);
	ret = dir_get(s, parent, &dir);
	if (ret)
		goto out;
	n = child_get(s, dir, name);
	if (!n)
		ret = -ENOENT;
	else if (!n->is_dir)
		ret = -ENOTDIR;
	else if (n->dir.nchildren)
		ret = -ENOTEMPTY;
	if (ret)
		goto out;
	node_detach(s, n);
	n->nlink = 0;
	now(&dir->mtime);
	dir->ctime = dir->mtime;
	maybe_free(s, n, NULL);
out:
	unlock(s);
	return ret;
}

/* Does @n, moved under @newdir, meet the effective constraints there? */
static int move_allowed(struct umm_store *s, struct umm_node *n, struct umm_node *newdir)
{
	struct umm_constraints eff;
	const char *why = NULL;
	uint64_t bytes = n->is_dir ? n->dir.used : n->buf.charged;
	int ret;

	ret = effective(newdir, &eff);
	if (ret)
		return ret;
	if (n->is_dir) {
		ret = umm_constraints_merge(&eff, &n->dir.own, &why);
		if (!ret)
			ret = subtree_meets(n, &eff, &why);
	} else {
		struct umm_bufprops p;

		buf_props(n, &p);
		if (!umm_constraints_met(&eff, &p, &why))
			ret = -EXDEV;
	}
	umm_constraints_fini(&eff);
	if (!ret) {
		/* the quota of the target's subtree, not counting what is there already */
		chain_add(n->parent, -(int64_t)bytes);
		if (!chain_fits(newdir, bytes)) {
			why = "max_bytes";
			ret = -EXDEV;
		}
		chain_add(n->parent, (int64_t)bytes);
	}
	if (ret) {
		if (s->cfg.log)
			s->cfg.log("rename of %s refused: it does not meet the target's %s",
				   n->name, why ? why : "constraints");
		return ret == -ENOMEM ? ret : -EXDEV;
	}
	return 0;
}

static bool is_ancestor(const struct umm_node *a, const struct umm_node *n)
{
	for (; n; n = n->parent)
		if (n == a)
			return true;
	return false;
}

/**
 * umm_rename() - move @name of @parent to @newname of @newparent
 *
 * Within a directory always; into another only where the node meets the
 * target's effective constraints, else -EXDEV. @flags: RENAME_NOREPLACE;
 * RENAME_EXCHANGE and others get -EINVAL.
 */
int umm_rename(struct umm_store *s, const struct umm_ctx *ctx, uint64_t parent, const char *name,
	       uint64_t newparent, const char *newname, unsigned flags)
{
	struct umm_node *dir, *ndir, *n, *old;
	char *nm;
	int ret;

	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL;
	lock(s);
	ret = dir_get(s, parent, &dir);
	if (!ret)
		ret = dir_get(s, newparent, &ndir);
	if (!ret)
		ret = check_name(newname);
	if (ret)
		goto out;
	n = child_get(s, dir, name);
	if (!n) {
		ret = -ENOENT;
		goto out;
	}
	old = child_get(s, ndir, newname);
	if (old == n)
		goto out;
	if (old && (flags & RENAME_NOREPLACE)) {
		ret = -EEXIST;
		goto out;
	}
	if (old && old->is_dir != n->is_dir) {
		ret = n->is_dir ? -ENOTDIR : -EISDIR;
		goto out;
	}
	if (old && old->is_dir && old->dir.nchildren) {
		ret = -ENOTEMPTY;
		goto out;
	}
	if (n->is_dir && is_ancestor(n, ndir)) {
		ret = -EINVAL;
		goto out;
	}
	if (n->is_dir && ndir != dir && depth_of(ndir) + 1 + height_of(n) > UMM_DEPTH_MAX) {
		ret = -EMLINK;
		goto out;
	}
	if (ndir != dir) {
		ret = move_allowed(s, n, ndir);
		if (ret)
			goto out;
	}
	nm = strdup(newname);
	if (!nm) {
		ret = -ENOMEM;
		goto out;
	}
	if (old) {
		if (!old->is_dir)
			chain_add(ndir, -(int64_t)old->buf.charged);
		node_detach(s, old);
		old->nlink = 0;
		maybe_free(s, old, ctx);
	}
	uint64_t bytes = n->is_dir ? n->dir.used : n->buf.charged;

	chain_add(dir, -(int64_t)bytes);
	node_detach(s, n);
	free(n->name);
	node_attach(s, ndir, n, nm);
	chain_add(ndir, (int64_t)bytes);
	if (!n->is_dir && n->buf.mem.dmabuf_fd >= 0) {
		char label[DMA_BUF_NAME_LEN];

		mem_label(n, label);
		heap_dmabuf_set_name(n->buf.mem.dmabuf_fd, label);
	}
	now(&n->ctime);
	dir->mtime = dir->ctime = ndir->mtime = ndir->ctime = n->ctime;
out:
	unlock(s);
	return ret;
}

/**
 * umm_opendir() - -ENOTDIR unless @ino is a directory
 */
int umm_opendir(struct umm_store *s, uint64_t ino)
{
	struct umm_node *n;
	int ret;

	lock(s);
	ret = dir_get(s, ino, &n);
	unlock(s);
	return ret;
}

/**
 * umm_readdir() - entries of @ino after offset @off, through @fill
 *
 * Offsets: 1 is ".", 2 is "..", then each child's creation cookie, so entries
 * added or removed meanwhile never make readdir skip or repeat another. With
 * @plus, each child added counts one lookup.
 */
int umm_readdir(struct umm_store *s, uint64_t ino, off_t off, bool plus, umm_fill_fn fill,
		void *arg)
{
	struct umm_node *dir;
	struct stat st;
	int ret;

	lock(s);
	ret = dir_get(s, ino, &dir);
	if (ret)
		goto out;
	if (off < 1) {
		fill_stat(dir, &st);
		if (fill(arg, ".", &st, true, 1))
			goto out;
		off = 1;
	}
	if (off < 2) {
		fill_stat(dir->parent ? dir->parent : dir, &st);
		if (fill(arg, "..", &st, true, 2))
			goto out;
		off = 2;
	}
	for (struct umm_node *c = dir->dir.first; c; c = c->next) {
		if ((off_t)c->cookie <= off)
			continue;
		fill_stat(c, &st);
		if (fill(arg, c->name, &st, node_settled(c), (off_t)c->cookie))
			break;
		if (plus)
			c->nlookup++;
	}
out:
	unlock(s);
	return ret;
}

/**
 * umm_statfs() - the mount's budget and what is used, in 4 KiB blocks
 */
void umm_statfs(struct umm_store *s, struct statvfs *sv)
{
	lock(s);
	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = HEAP_PAGE_SIZE;
	sv->f_frsize = HEAP_PAGE_SIZE;
	sv->f_blocks = s->cfg.size / HEAP_PAGE_SIZE;
	sv->f_bfree = s->used >= s->cfg.size ? 0 : (s->cfg.size - s->used) / HEAP_PAGE_SIZE;
	sv->f_bavail = sv->f_bfree;
	sv->f_files = s->cfg.size / HEAP_PAGE_SIZE + 1;
	if (s->cfg.nr_buffers && s->cfg.nr_buffers + s->ndirs < sv->f_files)
		sv->f_files = s->cfg.nr_buffers + s->ndirs;
	sv->f_ffree = sv->f_files > s->nnodes ? sv->f_files - s->nnodes : 0;
	sv->f_namemax = UMM_NAME_MAX;
	unlock(s);
}

/* ---- xattrs ---- */

enum xkind {
	X_NONE,
	X_CSET, /* a settable directory constraint */
	X_EFFECTIVE, /* ro, directories */
	X_USED, /* ro, directories */
	X_HEAPS, /* ro, root */
	X_SOCKET, /* ro, root */
	X_STATS, /* ro, root */
	X_CACHE, /* buffers: rw until exported */
	X_SYNC, /* buffers: rw */
	X_HEAP, /* buffers: ro */
	X_CONTIG, /* buffers: ro */
	X_EXPORTS, /* buffers: ro */
	X_DMABUF, /* buffers: ro */
	X_MEMFD, /* buffers: ro */
};

static const char *const buf_names[] = { "cache",   "sync",   "heap", "contiguous",
					 "exports", "dmabuf", "memfd" };

/* What a user.umm.* name means on @n; X_NONE for a name that is none of ours. */
static enum xkind umm_name_kind(struct umm_store *s, const struct umm_node *n, const char *key,
				int *bit)
{
	*bit = 0;
	if (n->is_dir) {
		*bit = umm_cset_from_name(key);
		if (*bit)
			return X_CSET;
		if (!strcmp(key, "effective"))
			return X_EFFECTIVE;
		if (!strcmp(key, "used_bytes"))
			return X_USED;
		if (n == s->root && !strcmp(key, "heaps"))
			return X_HEAPS;
		if (n == s->root && !strcmp(key, "socket"))
			return X_SOCKET;
		if (n == s->root && !strcmp(key, "stats"))
			return X_STATS;
		return X_NONE;
	}
	for (size_t i = 0; i < sizeof(buf_names) / sizeof(buf_names[0]); i++)
		if (!strcmp(key, buf_names[i]))
			return (enum xkind)(X_CACHE + i);
	return X_NONE;
}

static struct umm_xattr **xattr_find(struct umm_node *n, const char *name)
{
	struct umm_xattr **p = &n->xattrs;

	for (; *p; p = &(*p)->next)
		if (!strcmp((*p)->name, name))
			return p;
	return NULL;
}

/* Store a plain user.* xattr, untouched. */
static int xattr_store(struct umm_node *n, const char *name, const char *value, size_t size,
		       int flags)
{
	struct umm_xattr **p = xattr_find(n, name), *x;
	size_t old = p ? (*p)->len : 0, nlen = strlen(name) + 1;

	if (p && (flags & XATTR_CREATE))
		return -EEXIST;
	if (!p && (flags & XATTR_REPLACE))
		return -ENODATA;
	if (!p && n->xattr_names + nlen > UMM_XATTR_LIST_MAX / 2)
		return -ENOSPC;
	if (n->xattr_bytes - old + size > UMM_XATTR_BYTES_MAX)
		return -ENOSPC;
	x = malloc(sizeof(*x) + size);
	if (!x)
		return -ENOMEM;
	x->name = strdup(name);
	if (!x->name) {
		free(x);
		return -ENOMEM;
	}
	x->len = size;
	memcpy(x->value, value, size);
	if (p) {
		struct umm_xattr *o = *p;

		x->next = o->next;
		*p = x;
		free(o->name);
		free(o);
	} else {
		x->next = n->xattrs;
		n->xattrs = x;
		n->xattr_names += nlen;
	}
	n->xattr_bytes = n->xattr_bytes - old + size;
	return 0;
}

/*
 * Can every device of @devices (a normalized list) be checked for import?
 * Only DRM devices with PRIME import can: others get -EOPNOTSUPP, a path that
 * is no usable device -EINVAL; one log line names the device and why.
 */
static int devices_usable(struct umm_store *s, const char *devices)
{
	char dev[UMM_DEVICE_PATH_MAX + 1], why[200] = "";
	int ret;

	for (const char *p = devices; next_device(&p, dev, sizeof(dev));) {
		ret = (s->cfg.device_check ? s->cfg.device_check : heap_device_check)(dev, why,
										      sizeof(why));
		if (ret) {
			if (s->cfg.log)
				s->cfg.log("user.umm.devices refused: %s", why);
			return ret == -EOPNOTSUPP ? ret : -EINVAL;
		}
	}
	return 0;
}

/* Set constraint @bit of directory @n from @value, if the result is consistent. */
static int dir_set_constraint(struct umm_store *s, struct umm_node *n, int bit, const char *key,
			      const char *value, size_t size, int flags)
{
	struct umm_constraints own, eff;
	const char *why = NULL;
	int ret;

	if ((flags & XATTR_CREATE) && (n->dir.own.set & bit))
		return -EEXIST;
	if ((flags & XATTR_REPLACE) && !(n->dir.own.set & bit))
		return -ENODATA;
	ret = umm_constraints_copy(&own, &n->dir.own);
	if (ret)
		return ret;
	ret = umm_constraints_set(&own, bit, value, size);
	if (ret)
		goto out_own;
	if (bit == UMM_C_DEVICES) {
		ret = devices_usable(s, own.devices);
		if (ret)
			goto out_own;
	}
	ret = effective(n->parent, &eff);
	if (ret)
		goto out_own;
	ret = umm_constraints_merge(&eff, &own, &why);
	if (ret) {
		if (s->cfg.log)
			s->cfg.log("user.umm.%s refused: conflicts with an ancestor's %s", key,
				   why);
		ret = -EINVAL;
		goto out_eff;
	}
	if ((own.set & UMM_C_MAX_BYTES) && own.max_bytes < n->dir.used) {
		why = "max_bytes";
		ret = -EBUSY;
	} else {
		ret = subtree_meets(n, &eff, &why);
	}
	if (ret) {
		if (s->cfg.log)
			s->cfg.log(
				"user.umm.%s refused: existing buffers or directories would not meet %s",
				key, why ? why : key);
		goto out_eff;
	}
	umm_constraints_fini(&n->dir.own);
	n->dir.own = own;
	own.devices = NULL;
out_eff:
	umm_constraints_fini(&eff);
out_own:
	umm_constraints_fini(&own);
	return ret;
}

/*
 * How many references to @m's dma-buf exist besides the daemon's own (its fd,
 * and its mapping where it has one): open fds handed out, their mappings and
 * device imports. From the kernel's dma-buf debug view (debugfs, root only);
 * -1 where that cannot be known (no dma-buf, no debugfs).
 */
static long dmabuf_holders(const struct heap_buf *m)
{
	unsigned long ino, bino;
	long count, found = -1;
	struct stat st;
	char line[512];
	FILE *f;

	if (m->dmabuf_fd < 0 || fstat(m->dmabuf_fd, &st))
		return -1;
	ino = (unsigned long)st.st_ino;
	f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "re");
	if (!f)
		return -1;
	/* size flags mode count exp_name ino name: numbers as the kernel prints them */
	while (found < 0 && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*u %*x %*x %ld %*s %lu", &count, &bino) == 2 && bino == ino)
			found = count - 1 - (m->map && m->fd < 0 ? 1 : 0);
	fclose(f);
	return found < 0 ? -1 : found;
}

static unsigned sync_flags(enum umm_sync d)
{
	switch (d) {
	case UMM_SYNC_CPU_READ:
		return DMA_BUF_SYNC_READ;
	case UMM_SYNC_CPU_WRITE:
		return DMA_BUF_SYNC_WRITE;
	default:
		return DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE;
	}
}

/* user.umm.sync: begin CPU access, or end it (device) */
static int buf_set_sync(struct umm_node *n, const char *value, size_t size)
{
	struct umm_buffer *b = &n->buf;
	enum umm_sync d;
	int ret;

	ret = parse_sync(value, size, &d);
	if (ret)
		return ret;
	if (d == b->sync)
		return 0;
	if (b->sync != UMM_SYNC_DEVICE) {
		ret = heap_sync(buf_heap_now(n), &b->mem, sync_flags(b->sync) | DMA_BUF_SYNC_END);
		if (ret)
			return ret;
	}
	if (d != UMM_SYNC_DEVICE) {
		ret = heap_sync(buf_heap_now(n), &b->mem, sync_flags(d));
		if (ret)
			return ret;
	}
	b->sync = d;
	return 0;
}

/**
 * umm_setxattr() - set a user.umm.* constraint or property, or store a user.* xattr
 *
 * Returns 0, -EINVAL for a value that does not parse or an unknown user.umm.
 * name, -EPERM for a read-only one, -EBUSY where existing buffers would not
 * meet a tightened constraint, -EOPNOTSUPP outside user.*, -ERANGE/-E2BIG for
 * names/values over the limits.
 */
int umm_setxattr(struct umm_store *s, const struct umm_ctx *ctx, uint64_t ino, const char *name,
		 const char *value, size_t size, int flags)
{
	struct umm_node *n;
	enum xkind k;
	int ret = 0, bit;

	(void)ctx;
	if (strlen(name) > 255)
		return -ERANGE;
	if (size > UMM_XATTR_VALUE_MAX)
		return -E2BIG;
	if (strncmp(name, XATTR_USER, strlen(XATTR_USER)))
		return -EOPNOTSUPP;
	lock(s);
	n = node_get(s, ino);
	if (!n) {
		ret = -ENOENT;
		goto out;
	}
	if (strncmp(name, XATTR_UMM, strlen(XATTR_UMM))) {
		ret = xattr_store(n, name, value, size, flags);
		goto done;
	}
	const char *key = name + strlen(XATTR_UMM);

	k = umm_name_kind(s, n, key, &bit);
	switch (k) {
	case X_CSET:
		ret = dir_set_constraint(s, n, bit, key, value, size, flags);
		break;
	case X_CACHE: {
		enum umm_cache c;

		ret = parse_cache(value, size, &c);
		if (ret)
			break;
		if (n->buf.exports) {
			ret = c == n->buf.cache ? 0 : -EPERM;
			break;
		}
		if (!(n->buf.heap->caps.cache_modes & (1u << c))) {
			ret = -EOPNOTSUPP;
			break;
		}
		n->buf.cache = c;
		break;
	}
	case X_SYNC:
		ret = buf_set_sync(n, value, size);
		break;
	case X_NONE:
		ret = -EINVAL;
		break;
	default:
		ret = -EPERM;
		break;
	}
	if (ret && s->cfg.log)
		s->cfg.log("setxattr %s on %s refused: %s", name, n->name ? n->name : "/",
			   strerror(-ret));
done:
	if (!ret)
		now(&n->ctime);
out:
	unlock(s);
	return ret;
}

/* The value of a user.umm.* name of @n into @out (NUL-terminated); length or -errno. */
static int umm_value(struct umm_store *s, struct umm_node *n, enum xkind k, int bit, char *out,
		     size_t len)
{
	struct umm_constraints eff;
	int ret;

	switch (k) {
	case X_CSET:
		return umm_constraints_get(&n->dir.own, bit, out, len);
	case X_EFFECTIVE:
		ret = effective(n, &eff);
		if (ret)
			return ret;
		ret = umm_constraints_format(&eff, out, len);
		umm_constraints_fini(&eff);
		return ret;
	case X_USED:
		return snprintf(out, len, "%llu", (unsigned long long)n->dir.used);
	case X_HEAPS: {
		size_t used = 0;

		out[0] = '\0';
		for (unsigned i = 0; i < s->cfg.nheaps && used < len; i++) {
			if (i && used < len - 1)
				out[used++] = '\n', out[used] = '\0';
			used += (size_t)heap_describe(&s->cfg.heaps[i], out + used, len - used);
		}
		return (int)(used < len ? used : len - 1);
	}
	case X_SOCKET:
		return snprintf(out, len, "%s", s->socket ? s->socket : "");
	case X_CACHE:
		return snprintf(out, len, "%s", parse_cache_name(n->buf.cache));
	case X_SYNC:
		return snprintf(out, len, "%s", parse_sync_name(n->buf.sync));
	case X_HEAP:
		return snprintf(out, len, "%s", n->buf.heap->name);
	case X_CONTIG:
		return snprintf(out, len, "%d", n->buf.staged ? 0 : n->buf.mem.contiguous);
	case X_EXPORTS: {
		long held = dmabuf_holders(&n->buf.mem);

		/* memfds handed out cannot be followed: each counts for good */
		return snprintf(out, len, "%llu",
				held >= 0 ? (unsigned long long)held + n->buf.memfd_exports :
					    (unsigned long long)n->buf.exports);
	}
	case X_DMABUF: {
		struct stat st;

		if (n->buf.mem.dmabuf_fd < 0 || fstat(n->buf.mem.dmabuf_fd, &st))
			return snprintf(out, len, "%s", "");
		return snprintf(out, len, "%llu", (unsigned long long)st.st_ino);
	}
	case X_MEMFD: {
		struct stat st;

		/* as /proc/PID/maps and fdinfo name it: device (hex) and inode */
		if (n->buf.mem.fd < 0 || fstat(n->buf.mem.fd, &st))
			return snprintf(out, len, "%s", "");
		return snprintf(out, len, "%02x:%02x %llu", major(st.st_dev), minor(st.st_dev),
				(unsigned long long)st.st_ino);
	}
	case X_STATS:
		return snprintf(out, len,
				"buffers=%llu dirs=%llu used=%llu reads=%llu read_bytes=%llu "
				"writes=%llu write_bytes=%llu exports=%llu passthrough=%s",
				(unsigned long long)s->nbuffers, (unsigned long long)s->ndirs,
				(unsigned long long)s->used, (unsigned long long)s->reads,
				(unsigned long long)s->read_bytes, (unsigned long long)s->writes,
				(unsigned long long)s->write_bytes, (unsigned long long)s->exports,
				s->cfg.passthrough ? "yes" : "no");
	default:
		return -ENODATA;
	}
}

static ssize_t reply_value(const char *v, size_t vlen, char *buf, size_t size)
{
	if (!size)
		return (ssize_t)vlen;
	if (vlen > size)
		return -ERANGE;
	memcpy(buf, v, vlen);
	return (ssize_t)vlen;
}

/**
 * umm_getxattr() - value of @name on @ino; with @size 0 its length only
 * Returns the length, -ENODATA for a name not set, -ERANGE when @size is short.
 */
ssize_t umm_getxattr(struct umm_store *s, uint64_t ino, const char *name, char *buf, size_t size)
{
	/* longest value: the effective line with 16 device paths of 255 bytes */
	char tmp[UMM_DEVICES_MAX * 256 + 1024];
	struct umm_node *n;
	ssize_t ret;
	int bit;

	lock(s);
	n = node_get(s, ino);
	if (!n) {
		ret = -ENOENT;
		goto out;
	}
	if (!strncmp(name, XATTR_UMM, strlen(XATTR_UMM))) {
		enum xkind k = umm_name_kind(s, n, name + strlen(XATTR_UMM), &bit);
		int len = umm_value(s, n, k, bit, tmp, sizeof(tmp));

		if (len >= (int)sizeof(tmp))
			len = -E2BIG;
		ret = len < 0 ? len : reply_value(tmp, (size_t)len, buf, size);
		goto out;
	}
	struct umm_xattr **p = xattr_find(n, name);

	ret = p ? reply_value((*p)->value, (*p)->len, buf, size) : -ENODATA;
out:
	unlock(s);
	return ret;
}

static size_t list_add(char *buf, size_t size, size_t used, const char *prefix, const char *name)
{
	size_t len = strlen(prefix) + strlen(name) + 1;

	if (buf && used + len <= size)
		snprintf(buf + used, len, "%s%s", prefix, name);
	return used + len;
}

/**
 * umm_listxattr() - NUL-separated names of @ino's xattrs; with @size 0 the length
 */
ssize_t umm_listxattr(struct umm_store *s, uint64_t ino, char *buf, size_t size)
{
	struct umm_node *n;
	size_t used = 0;
	ssize_t ret;

	lock(s);
	n = node_get(s, ino);
	if (!n) {
		ret = -ENOENT;
		goto out;
	}
	if (n->is_dir) {
		for (size_t i = 0; i < 7; i++) {
			static const char *const cs[] = { "size", "align",   "contiguous", "cache",
							  "heap", "devices", "max_bytes" };

			if (n->dir.own.set & umm_cset_from_name(cs[i]))
				used = list_add(buf, size, used, XATTR_UMM, cs[i]);
		}
		used = list_add(buf, size, used, XATTR_UMM, "effective");
		used = list_add(buf, size, used, XATTR_UMM, "used_bytes");
		if (n == s->root) {
			used = list_add(buf, size, used, XATTR_UMM, "heaps");
			used = list_add(buf, size, used, XATTR_UMM, "socket");
			used = list_add(buf, size, used, XATTR_UMM, "stats");
		}
	} else {
		for (size_t i = 0; i < sizeof(buf_names) / sizeof(buf_names[0]); i++)
			used = list_add(buf, size, used, XATTR_UMM, buf_names[i]);
	}
	for (struct umm_xattr *x = n->xattrs; x; x = x->next)
		used = list_add(buf, size, used, "", x->name);
	ret = size && used > size ? -ERANGE : (ssize_t)used;
out:
	unlock(s);
	return ret;
}

/**
 * umm_removexattr() - remove a directory's own constraint or a stored user.* xattr
 */
int umm_removexattr(struct umm_store *s, uint64_t ino, const char *name)
{
	struct umm_node *n;
	int ret = 0, bit;

	lock(s);
	n = node_get(s, ino);
	if (!n) {
		ret = -ENOENT;
		goto out;
	}
	if (!strncmp(name, XATTR_UMM, strlen(XATTR_UMM))) {
		enum xkind k = umm_name_kind(s, n, name + strlen(XATTR_UMM), &bit);

		if (k == X_CSET && (n->dir.own.set & bit))
			umm_constraints_clear(&n->dir.own, bit);
		else if (k == X_CSET || k == X_NONE)
			ret = -ENODATA;
		else
			ret = -EPERM;
	} else {
		struct umm_xattr **p = xattr_find(n, name), *x;

		if (!p) {
			ret = -ENODATA;
			goto out;
		}
		x = *p;
		*p = x->next;
		n->xattr_names -= strlen(x->name) + 1;
		n->xattr_bytes -= x->len;
		free(x->name);
		free(x);
	}
	if (!ret)
		now(&n->ctime);
out:
	unlock(s);
	return ret;
}

/**
 * umm_export() - an fd of buffer @ino's memory with access @accmode, for the
 * export socket
 *
 * A staged buffer is sealed first (-EBUSY while a daemon-served writer other
 * than the traded fd still fills it, -EINVAL while it is empty).
 * Returns the fd (owned by the caller) or -errno.
 */
int umm_export(struct umm_store *s, uint64_t ino, int accmode, uint32_t *kind, uint64_t *size)
{
	struct umm_node *n;
	bool dmabuf;
	int ret;

	lock(s);
	n = node_get(s, ino);
	if (!n) {
		ret = -ENOENT;
		goto out;
	}
	if (n->is_dir) {
		ret = -EISDIR;
		goto out;
	}
	if (n->buf.staged) {
		if (!n->buf.mem.size) {
			ret = -EINVAL;
			goto out;
		}
		ret = realize(s, n);
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
	*kind = dmabuf ? 2 : 1;
	*size = buf_len(&n->buf);
out:
	unlock(s);
	return ret;
}
