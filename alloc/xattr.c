// SPDX-License-Identifier: MIT
/*
 * xattr.c - the extended attributes: the user.umm.* names (directory
 * constraints, read-only reports, a buffer's cache and sync domain) and the
 * stored user.* ones.
 *
 * Everything here runs under the store's lock (see LOCKING in store_i.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "store_i.h"

#define XATTR_UMM "user.umm."

#define XATTR_USER "user."

#define UMM_XATTR_BYTES_MAX (1u << 20) /* stored user.* values per node */

void xattr_free_all(struct store_node *n)
{
	for (struct store_xattr *x = n->xattrs, *next; x; x = next) {
		next = x->next;
		free(x->name);
		free(x);
	}
	n->xattrs = NULL;
}

/*
 * The user.umm.* attributes: one row each of struct xattr_def in xattrs[]
 * (at the end of the getters and setters below). Adding an attribute is one
 * row plus its get (and set) function.
 */

/* Where a name applies. */
enum {
	XA_DIR = 1 << 0, /* every directory, the root included */
	XA_ROOT = 1 << 1, /* the root only */
	XA_BUF = 1 << 2, /* buffers */
};

/**
 * struct xattr_def - one user.umm.* attribute
 * @name:    the name after "user.umm."
 * @applies: XA_* where it exists
 * @get:     its value of @n into @out (NUL-terminated): the length, or -errno
 * @set:     set it from @value; NULL: read-only (-EPERM)
 * @clear:   remove it (removexattr); NULL: -EPERM
 * @listed:  whether listxattr names it on @n; NULL: always
 */
struct xattr_def {
	const char *name;
	unsigned applies;
	int (*get)(const struct xattr_def *d, struct store *s, struct store_node *n, char *out,
		   size_t len);
	int (*set)(const struct xattr_def *d, struct store *s, struct store_node *n,
		   const char *value, size_t size, int flags);
	int (*clear)(const struct xattr_def *d, struct store_node *n);
	bool (*listed)(const struct xattr_def *d, const struct store_node *n);
};

static struct store_xattr **xattr_find(struct store_node *n, const char *name)
{
	struct store_xattr **p = &n->xattrs;

	for (; *p; p = &(*p)->next)
		if (!strcmp((*p)->name, name))
			return p;
	return NULL;
}

/* Store a plain user.* xattr, untouched. */
static int xattr_store(struct store_node *n, const char *name, const char *value, size_t size,
		       int flags)
{
	struct store_xattr **p = xattr_find(n, name), *x;
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
		struct store_xattr *o = *p;

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
static int devices_usable(struct store *s, const char *devices)
{
	char dev[UMM_DEVICE_PATH_MAX + 1], why[200] = "";
	int ret;

	for (const char *p = devices; buf_next_device(&p, dev, sizeof(dev));) {
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
static int dir_set_constraint(struct store *s, struct store_node *n, int bit, const char *key,
			      const char *value, size_t size, int flags)
{
	struct constraints own, eff;
	const char *why = NULL;
	int ret;

	if ((flags & XATTR_CREATE) && (n->dir.own.set & bit))
		return -EEXIST;
	if ((flags & XATTR_REPLACE) && !(n->dir.own.set & bit))
		return -ENODATA;
	ret = constraints_copy(&own, &n->dir.own);
	if (ret)
		return ret;
	ret = constraints_set(&own, bit, value, size);
	if (ret)
		goto out_own;
	if (bit == UMM_C_DEVICES) {
		ret = devices_usable(s, own.devices);
		if (ret)
			goto out_own;
	}
	ret = node_effective(n->parent, &eff);
	if (ret)
		goto out_own;
	ret = constraints_merge(&eff, &own, &why);
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
		ret = node_subtree_meets(n, &eff, &why);
	}
	if (ret) {
		if (s->cfg.log)
			s->cfg.log(
				"user.umm.%s refused: existing buffers or directories would not meet %s",
				key, why ? why : key);
		goto out_eff;
	}
	constraints_fini(&n->dir.own);
	n->dir.own = own;
	own.devices = NULL;
out_eff:
	constraints_fini(&eff);
out_own:
	constraints_fini(&own);
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

static unsigned sync_flags(enum buf_sync d)
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
static int buf_set_sync(struct store_node *n, const char *value, size_t size)
{
	struct store_buffer *b = &n->buf;
	enum buf_sync d;
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

/* ---- the rows' functions ---- */

/* A directory constraint: the UMM_C_* bit of its name. */
static int cset_bit(const struct xattr_def *d)
{
	return constraints_bit(d->name);
}

static int cset_get(const struct xattr_def *d, struct store *s, struct store_node *n, char *out,
		    size_t len)
{
	return constraints_get(&n->dir.own, cset_bit(d), out, len);
}

/* A size set or removed directly no longer comes from user.umm.size_from. */
static void size_from_drop(struct store_node *n, int bit)
{
	if (bit == UMM_C_SIZE) {
		free(n->dir.size_from);
		n->dir.size_from = NULL;
	}
}

static int cset_set(const struct xattr_def *d, struct store *s, struct store_node *n,
		    const char *value, size_t size, int flags)
{
	int ret = dir_set_constraint(s, n, cset_bit(d), d->name, value, size, flags);

	if (!ret)
		size_from_drop(n, cset_bit(d));
	return ret;
}

static int cset_clear(const struct xattr_def *d, struct store_node *n)
{
	if (!(n->dir.own.set & cset_bit(d)))
		return -ENODATA;
	constraints_clear(&n->dir.own, cset_bit(d));
	size_from_drop(n, cset_bit(d));
	return 0;
}

/*
 * user.umm.size_from of a directory: V4L2 video nodes, as user.umm.devices
 * lists them; the directory's user.umm.size becomes the largest sizeimage of
 * their current formats (VIDIOC_G_FMT), read now, once.
 */
static int size_from_set(const struct xattr_def *d, struct store *s, struct store_node *n,
			 const char *value, size_t size, int flags)
{
	char dev[UMM_DEVICE_PATH_MAX + 1], why[200] = "", desc[96], num[24];
	struct constraints list;
	uint64_t max = 0, one;
	char *keep;
	int ret;

	if ((flags & XATTR_CREATE) && n->dir.size_from)
		return -EEXIST;
	if ((flags & XATTR_REPLACE) && !n->dir.size_from)
		return -ENODATA;
	constraints_init(&list);
	ret = constraints_set(&list, UMM_C_DEVICES, value, size);
	if (ret)
		goto out;
	if (!list.devices || !list.devices[0]) {
		if (s->cfg.log)
			s->cfg.log("user.umm.size_from refused: it needs at least one V4L2 node");
		ret = -EINVAL;
		goto out;
	}
	for (const char *p = list.devices; buf_next_device(&p, dev, sizeof(dev));) {
		ret = (s->cfg.device_sizeimage ? s->cfg.device_sizeimage : heap_device_sizeimage)(
			dev, &one, desc, sizeof(desc), why, sizeof(why));
		if (ret) {
			if (s->cfg.log)
				s->cfg.log("user.umm.size_from refused: %s", why);
			ret = ret == -EOPNOTSUPP ? ret : -EINVAL;
			goto out;
		}
		if (one > max)
			max = one;
	}
	keep = strdup(list.devices);
	if (!keep) {
		ret = -ENOMEM;
		goto out;
	}
	snprintf(num, sizeof(num), "%llu", (unsigned long long)max);
	ret = dir_set_constraint(s, n, UMM_C_SIZE, d->name, num, strlen(num), 0);
	if (ret) {
		free(keep);
		goto out;
	}
	free(n->dir.size_from);
	n->dir.size_from = keep;
out:
	constraints_fini(&list);
	return ret;
}

static int size_from_get(const struct xattr_def *d, struct store *s, struct store_node *n,
			 char *out, size_t len)
{
	return n->dir.size_from ? snprintf(out, len, "%s", n->dir.size_from) : -ENODATA;
}

static int size_from_clear(const struct xattr_def *d, struct store_node *n)
{
	if (!n->dir.size_from)
		return -ENODATA;
	constraints_clear(&n->dir.own, UMM_C_SIZE);
	size_from_drop(n, UMM_C_SIZE);
	return 0;
}

static bool size_from_listed(const struct xattr_def *d, const struct store_node *n)
{
	return n->dir.size_from;
}

/* A constraint is listed where the directory sets it itself. */
static bool cset_listed(const struct xattr_def *d, const struct store_node *n)
{
	return n->dir.own.set & cset_bit(d);
}

static int effective_get(const struct xattr_def *d, struct store *s, struct store_node *n,
			 char *out, size_t len)
{
	struct constraints eff;
	int ret = node_effective(n, &eff);

	if (ret)
		return ret;
	ret = constraints_format(&eff, out, len);
	constraints_fini(&eff);
	return ret;
}

static int used_get(const struct xattr_def *d, struct store *s, struct store_node *n, char *out,
		    size_t len)
{
	return snprintf(out, len, "%llu", (unsigned long long)n->dir.used);
}

static int heaps_get(const struct xattr_def *d, struct store *s, struct store_node *n, char *out,
		     size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < s->cfg.nheaps && used < len; i++) {
		if (i && used < len - 1)
			out[used++] = '\n', out[used] = '\0';
		used += (size_t)heap_describe(&s->cfg.heaps[i], out + used, len - used);
	}
	return (int)(used < len ? used : len - 1);
}

static int socket_get(const struct xattr_def *d, struct store *s, struct store_node *n, char *out,
		      size_t len)
{
	return snprintf(out, len, "%s", s->socket ? s->socket : "");
}

static int stats_get(const struct xattr_def *d, struct store *s, struct store_node *n, char *out,
		     size_t len)
{
	return snprintf(out, len,
			"buffers=%llu dirs=%llu used=%llu reads=%llu read_bytes=%llu "
			"writes=%llu write_bytes=%llu exports=%llu passthrough=%s transport=%s",
			(unsigned long long)s->nbuffers, (unsigned long long)s->ndirs,
			(unsigned long long)s->used, (unsigned long long)s->reads,
			(unsigned long long)s->read_bytes, (unsigned long long)s->writes,
			(unsigned long long)s->write_bytes, (unsigned long long)s->exports,
			s->cfg.passthrough ? "yes" : "no",
			s->transport ? s->transport : "dev_fuse");
}

static int cache_get(const struct xattr_def *d, struct store *s, struct store_node *n, char *out,
		     size_t len)
{
	return snprintf(out, len, "%s", parse_cache_name(n->buf.cache));
}

/* user.umm.cache of a buffer: any mode its heap offers, until exported */
static int cache_set(const struct xattr_def *d, struct store *s, struct store_node *n,
		     const char *value, size_t size, int flags)
{
	enum heap_cache c;
	int ret = parse_cache(value, size, &c);

	if (ret)
		return ret;
	if (n->buf.exports)
		return c == n->buf.cache ? 0 : -EPERM;
	if (!(n->buf.heap->caps.cache_modes & (1u << c)))
		return -EOPNOTSUPP;
	n->buf.cache = c;
	return 0;
}

static int sync_get(const struct xattr_def *d, struct store *s, struct store_node *n, char *out,
		    size_t len)
{
	return snprintf(out, len, "%s", parse_sync_name(n->buf.sync));
}

static int sync_set(const struct xattr_def *d, struct store *s, struct store_node *n,
		    const char *value, size_t size, int flags)
{
	return buf_set_sync(n, value, size);
}

static int heap_get(const struct xattr_def *d, struct store *s, struct store_node *n, char *out,
		    size_t len)
{
	return snprintf(out, len, "%s", n->buf.heap->name);
}

static int contig_get(const struct xattr_def *d, struct store *s, struct store_node *n, char *out,
		      size_t len)
{
	return snprintf(out, len, "%d", n->buf.staged ? 0 : n->buf.mem.contiguous);
}

static int exports_get(const struct xattr_def *d, struct store *s, struct store_node *n, char *out,
		       size_t len)
{
	long held = dmabuf_holders(&n->buf.mem);

	/* memfds handed out cannot be followed: each counts for good */
	return snprintf(out, len, "%llu",
			held >= 0 ? (unsigned long long)held + n->buf.memfd_exports :
				    (unsigned long long)n->buf.exports);
}

static int dmabuf_get(const struct xattr_def *d, struct store *s, struct store_node *n, char *out,
		      size_t len)
{
	struct stat st;

	if (n->buf.mem.dmabuf_fd < 0 || fstat(n->buf.mem.dmabuf_fd, &st))
		return snprintf(out, len, "%s", "");
	return snprintf(out, len, "%llu", (unsigned long long)st.st_ino);
}

/* as /proc/PID/maps and fdinfo name it: device (hex) and inode */
static int memfd_get(const struct xattr_def *d, struct store *s, struct store_node *n, char *out,
		     size_t len)
{
	struct stat st;

	if (n->buf.mem.fd < 0 || fstat(n->buf.mem.fd, &st))
		return snprintf(out, len, "%s", "");
	return snprintf(out, len, "%02x:%02x %llu", major(st.st_dev), minor(st.st_dev),
			(unsigned long long)st.st_ino);
}

#define CSET(nm)                                                                 \
	{                                                                        \
		.name = nm, .applies = XA_DIR, .get = cset_get, .set = cset_set, \
		.clear = cset_clear, .listed = cset_listed,                      \
	}
#define RO(nm, where, fn)                               \
	{                                               \
		.name = nm, .applies = where, .get = fn \
	}
#define RW(nm, where, fn, setfn)                                      \
	{                                                             \
		.name = nm, .applies = where, .get = fn, .set = setfn \
	}

/* In listing order. */
static const struct xattr_def xattrs[] = {
	CSET("size"),
	CSET("align"),
	CSET("contiguous"),
	CSET("cache"),
	CSET("heap"),
	CSET("devices"),
	CSET("max_bytes"),
	{
		.name = "size_from",
		.applies = XA_DIR,
		.get = size_from_get,
		.set = size_from_set,
		.clear = size_from_clear,
		.listed = size_from_listed,
	},
	RO("effective", XA_DIR, effective_get),
	RO("used_bytes", XA_DIR, used_get),
	RO("heaps", XA_ROOT, heaps_get),
	RO("socket", XA_ROOT, socket_get),
	RO("stats", XA_ROOT, stats_get),
	RW("cache", XA_BUF, cache_get, cache_set),
	RW("sync", XA_BUF, sync_get, sync_set),
	RO("heap", XA_BUF, heap_get),
	RO("contiguous", XA_BUF, contig_get),
	RO("exports", XA_BUF, exports_get),
	RO("dmabuf", XA_BUF, dmabuf_get),
	RO("memfd", XA_BUF, memfd_get),
};

static bool xattr_applies(const struct xattr_def *d, struct store *s, const struct store_node *n)
{
	if (!n->is_dir)
		return d->applies & XA_BUF;
	return (d->applies & XA_DIR) || ((d->applies & XA_ROOT) && n == s->root);
}

/* The row of user.umm.@key on @n, or NULL for a name that is none of ours. */
static const struct xattr_def *xattr_def(struct store *s, const struct store_node *n,
					 const char *key)
{
	for (size_t i = 0; i < sizeof(xattrs) / sizeof(xattrs[0]); i++)
		if (xattr_applies(&xattrs[i], s, n) && !strcmp(xattrs[i].name, key))
			return &xattrs[i];
	return NULL;
}

/* ---- the store's entry points ---- */

int store_setxattr(struct store *s, const struct store_ctx *ctx, uint64_t ino, const char *name,
		   const char *value, size_t size, int flags)
{
	const struct xattr_def *d;
	struct store_node *n;
	int ret = 0;

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
	d = xattr_def(s, n, name + strlen(XATTR_UMM));
	ret = !d ? -EINVAL : !d->set ? -EPERM : d->set(d, s, n, value, size, flags);
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
 * store_getxattr() - value of @name on @ino; with @size 0 its length only
 * Returns the length, -ENODATA for a name not set, -ERANGE when @size is short.
 */
ssize_t store_getxattr(struct store *s, uint64_t ino, const char *name, char *buf, size_t size)
{
	/* longest value: the effective line with 16 device paths of 255 bytes */
	char tmp[UMM_DEVICES_MAX * 256 + 1024];
	const struct xattr_def *d;
	struct store_xattr **p;
	struct store_node *n;
	ssize_t ret;
	int len;

	lock(s);
	n = node_get(s, ino);
	if (!n) {
		ret = -ENOENT;
		goto out;
	}
	if (!strncmp(name, XATTR_UMM, strlen(XATTR_UMM))) {
		d = xattr_def(s, n, name + strlen(XATTR_UMM));
		len = d ? d->get(d, s, n, tmp, sizeof(tmp)) : -ENODATA;
		if (len >= (int)sizeof(tmp))
			len = -E2BIG;
		ret = len < 0 ? len : reply_value(tmp, (size_t)len, buf, size);
		goto out;
	}
	p = xattr_find(n, name);
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
 * store_listxattr() - NUL-separated names of @ino's xattrs; with @size 0 the length
 */
ssize_t store_listxattr(struct store *s, uint64_t ino, char *buf, size_t size)
{
	struct store_node *n;
	size_t used = 0;
	ssize_t ret;

	lock(s);
	n = node_get(s, ino);
	if (!n) {
		ret = -ENOENT;
		goto out;
	}
	for (size_t i = 0; i < sizeof(xattrs) / sizeof(xattrs[0]); i++) {
		const struct xattr_def *d = &xattrs[i];

		if (xattr_applies(d, s, n) && (!d->listed || d->listed(d, n)))
			used = list_add(buf, size, used, XATTR_UMM, d->name);
	}
	for (struct store_xattr *x = n->xattrs; x; x = x->next)
		used = list_add(buf, size, used, "", x->name);
	ret = size && used > size ? -ERANGE : (ssize_t)used;
out:
	unlock(s);
	return ret;
}

/**
 * store_removexattr() - remove a directory's own constraint or a stored user.* xattr
 */
int store_removexattr(struct store *s, uint64_t ino, const char *name)
{
	const struct xattr_def *d;
	struct store_node *n;
	int ret = 0;

	lock(s);
	n = node_get(s, ino);
	if (!n) {
		ret = -ENOENT;
		goto out;
	}
	if (!strncmp(name, XATTR_UMM, strlen(XATTR_UMM))) {
		d = xattr_def(s, n, name + strlen(XATTR_UMM));
		ret = !d ? -ENODATA : !d->clear ? -EPERM : d->clear(d, n);
	} else {
		struct store_xattr **p = xattr_find(n, name), *x;

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
