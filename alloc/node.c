// SPDX-License-Identifier: MIT
/*
 * node.c - the node tree: inodes and names in two hash tables, lookup,
 * attach and detach, the effective constraints of a directory, and what
 * stat(2) shows of a node.
 *
 * Everything here runs under the store's lock (see LOCKING in store_i.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_i.h"

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

void tab_insert_ino(struct store *s, struct store_node *n)
{
	size_t i = hash_ino(n->ino) & (s->tab_size - 1);

	n->ino_next = s->ino_tab[i];
	s->ino_tab[i] = n;
}

static void tab_insert_name(struct store *s, struct store_node *n)
{
	size_t i = hash_name(n->parent->ino, n->name) & (s->tab_size - 1);

	n->name_next = s->name_tab[i];
	s->name_tab[i] = n;
}

void tab_remove_ino(struct store *s, struct store_node *n)
{
	struct store_node **p = &s->ino_tab[hash_ino(n->ino) & (s->tab_size - 1)];

	for (; *p; p = &(*p)->ino_next) {
		if (*p == n) {
			*p = n->ino_next;
			return;
		}
	}
}

static void tab_remove_name(struct store *s, struct store_node *n)
{
	struct store_node **p =
		&s->name_tab[hash_name(n->parent->ino, n->name) & (s->tab_size - 1)];

	for (; *p; p = &(*p)->name_next) {
		if (*p == n) {
			*p = n->name_next;
			return;
		}
	}
}

/* Grow both tables when they get full; on allocation failure keep the old ones. */
void tab_maybe_grow(struct store *s)
{
	size_t old = s->tab_size, nsize = old * 2;
	struct store_node **it, **nt;

	if (s->nnodes < old)
		return;
	it = calloc(nsize, sizeof(*it));
	nt = calloc(nsize, sizeof(*nt));
	if (!it || !nt) {
		free(it);
		free(nt);
		return;
	}
	struct store_node **oi = s->ino_tab, **on = s->name_tab;

	s->ino_tab = it;
	s->name_tab = nt;
	s->tab_size = nsize;
	for (size_t i = 0; i < old; i++) {
		for (struct store_node *n = oi[i], *next; n; n = next) {
			next = n->ino_next;
			tab_insert_ino(s, n);
		}
		for (struct store_node *n = on[i], *next; n; n = next) {
			next = n->name_next;
			tab_insert_name(s, n);
		}
	}
	free(oi);
	free(on);
}

struct store_node *node_get(struct store *s, uint64_t ino)
{
	struct store_node *n = s->ino_tab[hash_ino(ino) & (s->tab_size - 1)];

	for (; n; n = n->ino_next)
		if (n->ino == ino)
			return n;
	return NULL;
}

struct store_node *node_child(struct store *s, struct store_node *dir, const char *name)
{
	struct store_node *n = s->name_tab[hash_name(dir->ino, name) & (s->tab_size - 1)];

	for (; n; n = n->name_next)
		if (n->parent == dir && !strcmp(n->name, name))
			return n;
	return NULL;
}

int node_check_name(const char *name)
{
	size_t len = strlen(name);

	if (!len || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if (len > UMM_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

struct store_node *node_new(struct store *s, bool is_dir, mode_t mode, uid_t uid, gid_t gid)
{
	struct store_node *n = calloc(1, sizeof(*n));

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
		constraints_init(&n->dir.own);
		n->dir.next_cookie = 3;
		n->nlink = 2;
	} else {
		n->buf.mem.fd = -1;
		n->buf.mem.dmabuf_fd = -1;
		constraints_init(&n->buf.eff);
		n->nlink = 1;
	}
	return n;
}

/* Link @n under @dir as @name (the name is taken over). */
void node_attach(struct store *s, struct store_node *dir, struct store_node *n, char *name)
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

void node_detach(struct store *s, struct store_node *n)
{
	struct store_node *dir = n->parent;

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

/* The effective set of directory @dir into @eff (initialized here). */
int node_effective(struct store_node *dir, struct constraints *eff)
{
	/* mkdir and rename keep every directory within UMM_DEPTH_MAX of the root */
	struct store_node *path[UMM_DEPTH_MAX + 1];
	const char *conflict;
	size_t depth = 0;
	int ret = 0;

	constraints_init(eff);
	for (struct store_node *d = dir; d && depth < UMM_DEPTH_MAX + 1; d = d->parent)
		path[depth++] = d;
	while (depth--) {
		ret = constraints_merge(eff, &path[depth]->dir.own, &conflict);
		if (ret)
			break;
	}
	if (ret)
		constraints_fini(eff);
	return ret;
}

void node_buf_props(const struct store_node *n, struct constraints_bufprops *p)
{
	const struct store_buffer *b = &n->buf;

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
int node_subtree_meets(struct store_node *dir, const struct constraints *eff, const char **why)
{
	for (struct store_node *c = dir->dir.first; c; c = c->next) {
		if (!c->is_dir) {
			struct constraints_bufprops p;

			node_buf_props(c, &p);
			if (!constraints_met(eff, &p, why))
				return -EBUSY;
			continue;
		}
		struct constraints sub;
		int ret = constraints_copy(&sub, eff);

		if (ret)
			return ret;
		ret = constraints_merge(&sub, &c->dir.own, why);
		if (!ret)
			ret = node_subtree_meets(c, &sub, why);
		else
			ret = -EBUSY;
		constraints_fini(&sub);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The buffer's length as files see it: its memory's size, or less where a
 * heap holds whole pages of a buffer filled to a length that is no multiple
 * of the page size (@len then says how much of it is the file).
 */
uint64_t buf_len(const struct store_buffer *b)
{
	return b->len ? b->len : b->mem.size;
}

void node_fill_stat(const struct store_node *n, struct stat *st)
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
void node_kill_suid(struct store_node *n, const struct store_ctx *ctx, bool always)
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

/*
 * @n's data changed by @ctx (a write, fallocate, O_TRUNC), as the kernel's
 * file_modified(): set-ID bits cleared, mtime and ctime now.
 */
void node_modified(struct store_node *n, const struct store_ctx *ctx)
{
	node_kill_suid(n, ctx, false);
	now(&n->mtime);
	n->ctime = n->mtime;
}

/*
 * The path of @n under the mount's root into @out ("/a/b"); a name alone for
 * an unlinked buffer (its last name, if known). Truncated to @len - 1 bytes.
 */
void node_path(const struct store_node *n, char *out, size_t len)
{
	const struct store_node *path[UMM_DEPTH_MAX + 2];
	size_t depth = 0, used = 0;

	out[0] = '\0';
	if (!len)
		return;
	for (const struct store_node *p = n; p && p->parent && depth < UMM_DEPTH_MAX + 2;
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

/* Directory @ino into *@out: 0, -ENOENT, or -ENOTDIR. */
int node_dir_get(struct store *s, uint64_t ino, struct store_node **out)
{
	struct store_node *n = node_get(s, ino);

	if (!n)
		return -ENOENT;
	if (!n->is_dir)
		return -ENOTDIR;
	*out = n;
	return 0;
}

/* Buffer @ino into *@out: 0, -ENOENT, or -EISDIR. */
int node_buf_get(struct store *s, uint64_t ino, struct store_node **out)
{
	struct store_node *n = node_get(s, ino);

	if (!n)
		return -ENOENT;
	if (n->is_dir)
		return -EISDIR;
	*out = n;
	return 0;
}

/*
 * Do the attributes of @n change only through requests the daemon serves,
 * so that the kernel may keep them a while (store_attr_settled())?
 *
 * Not so for a growable buffer (staged: never exported, in no directory
 * that fixes its size; the buffers that behave as tmpfs files) whose memfd
 * has a hole below its end: a load or store through a mapping, which the
 * daemon never sees, fills the hole, and its st_blocks grows, as on tmpfs.
 * The attributes of a buffer whose size is fixed are kept: its st_blocks
 * follows such faults within the attribute timeout.
 */
bool node_settled(const struct store_node *n)
{
	off_t hole;

	if (n->is_dir || !n->buf.staged || n->buf.mem.fd < 0 || n->buf.mem.map || !buf_len(&n->buf))
		return true;
	hole = lseek(n->buf.mem.fd, 0, SEEK_HOLE);
	return hole >= 0 && (uint64_t)hole >= buf_len(&n->buf);
}

struct store_handle *node_handle(struct store_node *n, uint64_t fh)
{
	struct store_handle *h = (struct store_handle *)(uintptr_t)fh;

	return h && h->node == n ? h : NULL;
}

gid_t node_new_gid(const struct store_node *dir, const struct store_ctx *ctx)
{
	return (dir->mode & S_ISGID) ? dir->gid : ctx->gid;
}

unsigned node_depth(const struct store_node *n)
{
	unsigned d = 0;

	for (; n->parent; n = n->parent)
		d++;
	return d;
}

/* Levels of directories below @dir (0 for a directory with no subdirectory). */
unsigned node_height(const struct store_node *dir)
{
	unsigned h = 0;

	for (const struct store_node *c = dir->dir.first; c; c = c->next) {
		if (c->is_dir) {
			unsigned ch = 1 + node_height(c);

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
bool node_table_full(const struct store *s)
{
	return s->nnodes >= s->cfg.size / HEAP_PAGE_SIZE + 1;
}
