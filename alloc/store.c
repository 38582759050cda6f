// SPDX-License-Identifier: MIT
/*
 * store.c - the store and its namespace: creation and teardown, lookup,
 * attributes, mkdir, create, unlink, rmdir, rename, readdir, statfs.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_i.h"

/**
 * store_new() - a store with an empty root directory (mode 1777, root's)
 * Returns 0 or -ENOMEM. The heaps in @cfg must outlive the store.
 */
int store_new(struct store **out, const struct store_config *cfg)
{
	struct store *s = calloc(1, sizeof(*s));

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

static void free_subtree(struct store *s, struct store_node *dir)
{
	while (dir->dir.first) {
		struct store_node *c = dir->dir.first;

		if (c->is_dir)
			free_subtree(s, c);
		node_detach(s, c);
		c->nlookup = 0;
		c->nopen = 0;
		buf_node_free(s, c, NULL);
	}
}

/**
 * store_free() - free every node, buffer and the store itself
 *
 * Unlinked buffers still held open are freed too: call this only once the
 * filesystem is unmounted.
 */
void store_free(struct store *s)
{
	if (!s)
		return;
	free_subtree(s, s->root);
	for (size_t i = 0; i < s->tab_size; i++) {
		while (s->ino_tab[i]) {
			struct store_node *n = s->ino_tab[i];

			if (n == s->root) {
				s->ino_tab[i] = n->ino_next;
				continue;
			}
			n->nlookup = 0;
			n->nopen = 0;
			buf_node_free(s, n, NULL);
		}
	}
	constraints_fini(&s->root->dir.own);
	free(s->root->dir.size_from);
	xattr_free_all(s->root);
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
 * store_set_socket() - the path the root's user.umm.socket gives
 */
void store_set_socket(struct store *s, const char *path)
{
	char *p = strdup(path);

	lock(s);
	free(s->socket);
	s->socket = p;
	unlock(s);
}

/**
 * store_stats() - counters: buffers, directories, bytes charged, requests
 */
void store_stats(struct store *s, struct store_stats *st)
{
	lock(s);
	st->buffers = s->nbuffers;
	st->dirs = s->ndirs;
	st->used = s->used;
	st->reads = s->reads;
	st->writes = s->writes;
	unlock(s);
}

/**
 * store_lookup() - find @name in directory @parent; counts one kernel lookup.
 * @settled, if not NULL, says whether the kernel may keep the attributes
 * (store_attr_settled()), found under the same lock
 */
int store_lookup(struct store *s, uint64_t parent, const char *name, struct stat *st, bool *settled)
{
	struct store_node *dir, *n;
	int ret;

	lock(s);
	ret = node_dir_get(s, parent, &dir);
	if (ret)
		goto out;
	if (strlen(name) > UMM_NAME_MAX) {
		ret = -ENAMETOOLONG;
		goto out;
	}
	n = node_child(s, dir, name);
	if (!n) {
		ret = -ENOENT;
		goto out;
	}
	n->nlookup++;
	node_fill_stat(n, st);
	if (settled)
		*settled = node_settled(n);
out:
	unlock(s);
	return ret;
}

/**
 * store_forget() - the kernel dropped @count lookups of @ino
 */
void store_forget(struct store *s, const struct store_ctx *ctx, uint64_t ino, uint64_t count)
{
	struct store_node *n;

	lock(s);
	n = node_get(s, ino);
	if (n && n != s->root) {
		n->nlookup = count > n->nlookup ? 0 : n->nlookup - count;
		buf_maybe_free(s, n, ctx);
	}
	unlock(s);
}

/**
 * store_getattr() - attributes of @ino; @settled as for store_lookup()
 */
int store_getattr(struct store *s, uint64_t ino, struct stat *st, bool *settled)
{
	struct store_node *n;
	int ret = 0;

	lock(s);
	n = node_get(s, ino);
	if (n) {
		node_fill_stat(n, st);
		if (settled)
			*settled = node_settled(n);
	} else {
		ret = -ENOENT;
	}
	unlock(s);
	return ret;
}

/**
 * store_set_passthrough() - say whether the kernel took FUSE passthrough
 * (the mount's negotiation may turn off what the configuration asked for)
 */
void store_set_passthrough(struct store *s, bool on)
{
	lock(s);
	s->cfg.passthrough = on;
	unlock(s);
}

/**
 * store_set_transport() - the FUSE transport of the latest request that asked
 * for user.umm.stats: "io_uring" or "dev_fuse" (a string that lives for good)
 */
void store_set_transport(struct store *s, const char *name)
{
	lock(s);
	s->transport = name;
	unlock(s);
}

/**
 * store_attr_settled() - whether the kernel may keep the attributes of @ino
 * for a while: they change only through requests the daemon serves (see
 * node_settled())
 */
bool store_attr_settled(struct store *s, uint64_t ino)
{
	struct store_node *n;
	bool settled = true;

	lock(s);
	n = node_get(s, ino);
	if (n)
		settled = node_settled(n);
	unlock(s);
	return settled;
}

/**
 * store_setattr() - change mode, owner, size or times (the kernel checked the
 * caller's right to); on success @st holds the new attributes
 */
int store_setattr(struct store *s, const struct store_ctx *ctx, uint64_t ino,
		  const struct store_setattr *sa, struct stat *st)
{
	struct store_node *n;
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

		node_fill_stat(n, &now_st);
		sized = n->is_dir || sa->fh || sa->size != buf_len(&n->buf) || now_st.st_blocks;
	} else {
		sized = false;
	}
	if (sa->valid & UMM_SET_SIZE) {
		ret = buf_resize(s, n, sa->size, sa->fh ? node_handle(n, sa->fh) : NULL, ctx,
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
		node_kill_suid(n, ctx, true); /* chown clears them, for root too */
	else if (sa->valid & (UMM_SET_SIZE | UMM_SET_KILL_SUIDGID))
		node_kill_suid(n, ctx, false);
	if ((sa->valid & (UMM_SET_UID | UMM_SET_GID)) && !n->is_dir) {
		uid_t nuid = (sa->valid & UMM_SET_UID) ? sa->uid : n->uid;

		if (nuid != n->uid) {
			/* the charge follows the owner */
			uint64_t c = n->buf.charged;
			struct store_user *u = budget_user(s, nuid, true);
			struct store_user *o = budget_user(s, n->uid, false);

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
	node_fill_stat(n, st);
out:
	unlock(s);
	return ret;
}

static int prepare_new(struct store *s, uint64_t parent, const char *name, struct store_node **dirp,
		       char **namep)
{
	int ret = node_dir_get(s, parent, dirp);

	if (ret)
		return ret;
	ret = node_check_name(name);
	if (ret)
		return ret;
	if (!(*dirp)->nlink)
		return -ENOENT;
	if (node_child(s, *dirp, name))
		return -EEXIST;
	if (node_table_full(s))
		return -ENOSPC;
	*namep = strdup(name);
	return *namep ? 0 : -ENOMEM;
}

/**
 * store_mkdir() - a new directory inheriting @parent's constraints; counts one lookup
 */
int store_mkdir(struct store *s, const struct store_ctx *ctx, uint64_t parent, const char *name,
		mode_t mode, struct stat *st)
{
	struct store_node *dir, *n;
	char *nm;
	int ret;

	lock(s);
	ret = prepare_new(s, parent, name, &dir, &nm);
	if (ret)
		goto out;
	if (node_depth(dir) + 1 > UMM_DEPTH_MAX) {
		free(nm);
		ret = -EMLINK;
		goto out;
	}
	n = node_new(s, true, mode | (dir->mode & S_ISGID), ctx->uid, node_new_gid(dir, ctx));
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
	node_fill_stat(n, st);
	tab_maybe_grow(s);
out:
	unlock(s);
	return ret;
}

/**
 * store_create() - a new buffer @name in @parent, opened with @flags
 *
 * Where the directory sets user.umm.size, the memory is allocated now from the
 * heap its constraints choose; otherwise the buffer starts empty and staged.
 * Counts one lookup. Returns 0, -EEXIST, -ENOSPC (a budget or no heap large
 * enough), -EOPNOTSUPP (no heap meets a constraint), -ENOMEM.
 */
int store_create(struct store *s, const struct store_ctx *ctx, uint64_t parent, const char *name,
		 mode_t mode, int flags, struct stat *st, struct store_open_out *oo)
{
	struct constraints eff;
	struct store_node *dir, *n;
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
	ret = node_effective(dir, &eff);
	if (ret) {
		free(nm);
		goto out;
	}
	size = (eff.set & UMM_C_SIZE) ? eff.size : 0;
	h = constraints_choose_heap(s->cfg.heaps, s->cfg.nheaps, &eff, size, why, sizeof(why));
	if (h < 0) {
		if (s->cfg.log)
			s->cfg.log("create %s refused: %s", name, why);
		ret = h;
		goto out_eff;
	}
	n = node_new(s, false, mode, ctx->uid, node_new_gid(dir, ctx));
	if (!n) {
		ret = -ENOMEM;
		goto out_eff;
	}
	n->buf.heap = &s->cfg.heaps[h];
	constraints_heap_req(&eff, 0, &n->buf.want);
	n->buf.want.name = "umm";
	n->buf.eff = eff;
	constraints_init(&eff); /* the buffer owns the set now */
	n->buf.cache = n->buf.eff.cache;
	n->buf.sync = UMM_SYNC_CPU;
	n->buf.declared = size != 0;
	n->parent = dir; /* for the quota check before attaching */
	n->name = nm; /* for the log line of a refused charge */
	if (size) {
		ret = budget_charge(s, n, budget_charge_of(size));
		charge_refused = ret == -ENOSPC;
		if (!ret) {
			ret = buf_place(s, n, heap_page_round(size), NULL, NULL, &n->buf.mem, why,
					sizeof(why));
			if (ret && ret != -EMFILE && ret != -ENFILE && s->cfg.log)
				s->cfg.log("create %s refused: %s", name, why);
			charge_refused |= ret == -ENOSPC || ret == -EOPNOTSUPP;
			if (!ret && n->buf.mem.size > size)
				/* the heap's granule (huge pages) is what the buffer holds */
				ret = budget_charge(s, n, budget_charge_of(n->buf.mem.size));
			if (ret) {
				heap_free(n->buf.heap, &n->buf.mem);
				budget_charge(s, n, 0);
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
		constraints_fini(&n->buf.eff);
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
	ret = buf_open(s, ctx, n, flags & ~O_TRUNC, oo);
	if (ret) {
		node_detach(s, n);
		budget_chain_add(dir, -(int64_t)n->buf.charged);
		buf_node_free(s, n, ctx);
		goto out_eff;
	}
	n->nlookup++;
	node_fill_stat(n, st);
	tab_maybe_grow(s);
out_eff:
	free(nm);
	constraints_fini(&eff);
out:
	unlock(s);
	return ret;
}

/**
 * store_unlink() - remove buffer @name; its memory goes with the last reference
 */
int store_unlink(struct store *s, const struct store_ctx *ctx, uint64_t parent, const char *name)
{
	struct store_node *dir, *n;
	int ret;

	lock(s);
	ret = node_dir_get(s, parent, &dir);
	if (ret)
		goto out;
	n = node_child(s, dir, name);
	if (!n) {
		ret = -ENOENT;
		goto out;
	}
	if (n->is_dir) {
		ret = -EISDIR;
		goto out;
	}
	/* the subtree no longer holds it; the mount and its owner do until freed */
	budget_chain_add(dir, -(int64_t)n->buf.charged);
	node_detach(s, n);
	n->nlink = 0;
	now(&dir->mtime);
	dir->ctime = n->ctime = dir->mtime;
	buf_maybe_free(s, n, ctx);
out:
	unlock(s);
	return ret;
}

/**
 * store_rmdir() - remove empty directory @name
 */
int store_rmdir(struct store *s, uint64_t parent, const char *name)
{
	struct store_node *dir, *n;
	int ret;

	lock(s);
	ret = node_dir_get(s, parent, &dir);
	if (ret)
		goto out;
	n = node_child(s, dir, name);
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
	buf_maybe_free(s, n, NULL);
out:
	unlock(s);
	return ret;
}

/* Does @n, moved under @newdir, meet the effective constraints there? */
static int move_allowed(struct store *s, struct store_node *n, struct store_node *newdir)
{
	struct constraints eff;
	const char *why = NULL;
	uint64_t bytes = n->is_dir ? n->dir.used : n->buf.charged;
	int ret;

	ret = node_effective(newdir, &eff);
	if (ret)
		return ret;
	if (n->is_dir) {
		ret = constraints_merge(&eff, &n->dir.own, &why);
		if (!ret)
			ret = node_subtree_meets(n, &eff, &why);
	} else {
		struct constraints_bufprops p;

		node_buf_props(n, &p);
		if (!constraints_met(&eff, &p, &why))
			ret = -EXDEV;
	}
	constraints_fini(&eff);
	if (!ret) {
		/* the quota of the target's subtree, not counting what is there already */
		budget_chain_add(n->parent, -(int64_t)bytes);
		if (!budget_chain_fits(newdir, bytes)) {
			why = "max_bytes";
			ret = -EXDEV;
		}
		budget_chain_add(n->parent, (int64_t)bytes);
	}
	if (ret) {
		if (s->cfg.log)
			s->cfg.log("rename of %s refused: it does not meet the target's %s",
				   n->name, why ? why : "constraints");
		return ret == -ENOMEM ? ret : -EXDEV;
	}
	return 0;
}

static bool is_ancestor(const struct store_node *a, const struct store_node *n)
{
	for (; n; n = n->parent)
		if (n == a)
			return true;
	return false;
}

/**
 * store_rename() - move @name of @parent to @newname of @newparent
 *
 * Within a directory always; into another only where the node meets the
 * target's effective constraints, else -EXDEV. @flags: RENAME_NOREPLACE;
 * RENAME_EXCHANGE and others get -EINVAL.
 */
int store_rename(struct store *s, const struct store_ctx *ctx, uint64_t parent, const char *name,
		 uint64_t newparent, const char *newname, unsigned flags)
{
	struct store_node *dir, *ndir, *n, *old;
	char *nm;
	int ret;

	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL;
	lock(s);
	ret = node_dir_get(s, parent, &dir);
	if (!ret)
		ret = node_dir_get(s, newparent, &ndir);
	if (!ret)
		ret = node_check_name(newname);
	if (ret)
		goto out;
	n = node_child(s, dir, name);
	if (!n) {
		ret = -ENOENT;
		goto out;
	}
	old = node_child(s, ndir, newname);
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
	if (n->is_dir && ndir != dir && node_depth(ndir) + 1 + node_height(n) > UMM_DEPTH_MAX) {
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
			budget_chain_add(ndir, -(int64_t)old->buf.charged);
		node_detach(s, old);
		old->nlink = 0;
		buf_maybe_free(s, old, ctx);
	}
	uint64_t bytes = n->is_dir ? n->dir.used : n->buf.charged;

	budget_chain_add(dir, -(int64_t)bytes);
	node_detach(s, n);
	free(n->name);
	node_attach(s, ndir, n, nm);
	budget_chain_add(ndir, (int64_t)bytes);
	if (!n->is_dir && n->buf.mem.dmabuf_fd >= 0) {
		char label[DMA_BUF_NAME_LEN];

		buf_mem_label(n, label);
		heap_dmabuf_set_name(n->buf.mem.dmabuf_fd, label);
	}
	now(&n->ctime);
	dir->mtime = dir->ctime = ndir->mtime = ndir->ctime = n->ctime;
out:
	unlock(s);
	return ret;
}

/**
 * store_opendir() - -ENOTDIR unless @ino is a directory
 */
int store_opendir(struct store *s, uint64_t ino)
{
	struct store_node *n;
	int ret;

	lock(s);
	ret = node_dir_get(s, ino, &n);
	unlock(s);
	return ret;
}

/**
 * store_readdir() - entries of @ino after offset @off, through @fill
 *
 * Offsets: 1 is ".", 2 is "..", then each child's creation cookie, so entries
 * added or removed meanwhile never make readdir skip or repeat another. With
 * @plus, each child added counts one lookup.
 */
int store_readdir(struct store *s, uint64_t ino, off_t off, bool plus, store_fill_fn fill,
		  void *arg)
{
	struct store_node *dir;
	struct stat st;
	int ret;

	lock(s);
	ret = node_dir_get(s, ino, &dir);
	if (ret)
		goto out;
	if (off < 1) {
		node_fill_stat(dir, &st);
		if (fill(arg, ".", &st, true, 1))
			goto out;
		off = 1;
	}
	if (off < 2) {
		node_fill_stat(dir->parent ? dir->parent : dir, &st);
		if (fill(arg, "..", &st, true, 2))
			goto out;
		off = 2;
	}
	for (struct store_node *c = dir->dir.first; c; c = c->next) {
		if ((off_t)c->cookie <= off)
			continue;
		node_fill_stat(c, &st);
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
 * store_statfs() - the mount's budget and what is used, in 4 KiB blocks
 */
void store_statfs(struct store *s, struct statvfs *sv)
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
