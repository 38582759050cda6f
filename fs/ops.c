// SPDX-License-Identifier: MIT
/*
 * ops.c - the FUSE low-level operations: each one calls the store and turns
 * its 0 / -errno into exactly one reply, on every path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <string.h>
#include <sys/xattr.h>

#include "fs_i.h"

/* Attributes and names change only through this mount's own requests. */
#define FS_TIMEOUT 1.0

static struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

#ifdef UMM_HAVE_PASSTHROUGH
static int fs_backing_open(void *req, int fd)
{
	return fuse_passthrough_open(req, fd);
}

static void fs_backing_close(void *req, int id)
{
	fuse_passthrough_close(req, id);
}
#endif

static void ctx_of(fuse_req_t req, struct store_ctx *ctx)
{
	const struct fuse_ctx *fc = fuse_req_ctx(req);

	memset(ctx, 0, sizeof(*ctx));
	ctx->uid = fc->uid;
	ctx->gid = fc->gid;
	ctx->req = req;
#ifdef UMM_HAVE_PASSTHROUGH
	if (fs_of(req)->passthrough) {
		ctx->backing_open = fs_backing_open;
		ctx->backing_close = fs_backing_close;
	}
#endif
}

/*
 * The request cleared set-user/group-ID bits as a side effect (a write or an
 * open for writing by another uid): the kernel's cached mode is stale. Called
 * after the reply, so the kernel holds no lock of the request.
 */
static void mode_inval(struct fs *fs, fuse_ino_t ino, bool changed)
{
	if (changed)
		fuse_lowlevel_notify_inval_inode(fs->se, ino, -1, 0);
}

/*
 * How long the kernel may keep the attributes @st of @ino: FS_TIMEOUT, or
 * not at all for a buffer with holes (store_attr_settled()), so that stat
 * shows at once the pages a mapping faulted in.
 */
static double attr_timeout(fuse_req_t req, const struct stat *st)
{
	if (S_ISREG(st->st_mode) && !store_attr_settled(fs_of(req)->store, st->st_ino))
		return 0.0;
	return FS_TIMEOUT;
}

/* The entry of @st; @settled: its attributes may be kept (attr_timeout()). */
static void entry_of(struct fuse_entry_param *e, const struct stat *st, bool settled)
{
	memset(e, 0, sizeof(*e));
	e->ino = st->st_ino;
	e->attr = *st;
	e->attr_timeout = settled ? FS_TIMEOUT : 0.0;
	e->entry_timeout = FS_TIMEOUT;
}

/*
 * FUSE over io_uring (libfuse >= 3.18): asked for where the kernel offers it
 * (its fuse module's enable_uring parameter on); the start-up line says
 * which transport the daemon uses and why. libfuse still falls back to
 * /dev/fuse if it cannot set up the rings: user.umm.stats tells the
 * transport of the request that reads it.
 */
static void init_transport(struct fs *fs, struct fuse_conn_info *conn)
{
	const char *why = "";

#ifdef FUSE_CAP_OVER_IO_URING
	if (!fs->uring) {
		why = " (-o nouring)";
	} else if (fuse_set_feature_flag(conn, FUSE_CAP_OVER_IO_URING)) {
		fs_log("serving requests over io_uring (one queue a CPU)");
		return;
	} else {
		fs->uring = false;
		why = " (the kernel offers no FUSE over io_uring: "
		      "/sys/module/fuse/parameters/enable_uring is off, or absent)";
	}
#else
	why = " (this libfuse has no io_uring: it needs 3.18)";
#endif
	fs_log("serving requests from /dev/fuse%s", why);
}

/* The transport of request @req, for user.umm.stats. */
static const char *req_transport(fuse_req_t req)
{
#ifdef FUSE_CAP_OVER_IO_URING
	if (fuse_req_is_uring(req))
		return "io_uring";
#endif
	return "dev_fuse";
}

static void fs_op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fs *fs = userdata;

	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* RELEASE travels as a background request: let many be in flight */
	conn->max_background = 64;
	/* the writeback cache would turn passthrough off and hide writes from budgets */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	/*
	 * The daemon clears set-user/group-ID bits itself (kill_suid in the
	 * store): without this, the kernel asks for security.capability before
	 * every write, passthrough writes included (file_remove_privs on a
	 * FUSE inode, which never caches it).
	 */
#ifdef FUSE_CAP_HANDLE_KILLPRIV_V2
	if (conn->capable & FUSE_CAP_HANDLE_KILLPRIV_V2)
		conn->want |= FUSE_CAP_HANDLE_KILLPRIV_V2;
#endif
#ifdef UMM_HAVE_PASSTHROUGH
	if (fs->passthrough && fuse_set_feature_flag(conn, FUSE_CAP_PASSTHROUGH)) {
		conn->max_backing_stack_depth = 1;
	} else if (fs->passthrough) {
		fs_log("the kernel offers no FUSE passthrough: buffers are served by the daemon");
		fs->passthrough = false;
	}
#else
	fs->passthrough = false;
#endif
	store_set_passthrough(fs->store, fs->passthrough);
	init_transport(fs, conn);
}

static void fs_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	struct stat st;
	bool settled;
	int ret = store_lookup(fs_of(req)->store, parent, name, &st, &settled);

	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	entry_of(&e, &st, settled);
	fuse_reply_entry(req, &e);
}

static void fs_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct store_ctx ctx;

	ctx_of(req, &ctx);
	store_forget(fs_of(req)->store, &ctx, ino, nlookup);
	fuse_reply_none(req);
}

static void fs_op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct store_ctx ctx;

	ctx_of(req, &ctx);
	for (size_t i = 0; i < count; i++)
		store_forget(fs_of(req)->store, &ctx, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void fs_op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	bool settled;
	int ret = store_getattr(fs_of(req)->store, ino, &st, &settled);

	(void)fi;
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_attr(req, &st, settled ? FS_TIMEOUT : 0.0);
}

static void fs_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			  struct fuse_file_info *fi)
{
	struct store_setattr sa = { 0 };
	struct store_ctx ctx;
	struct stat st;
	int ret;

	if (to_set & FUSE_SET_ATTR_MODE)
		sa.valid |= UMM_SET_MODE, sa.mode = attr->st_mode;
	if (to_set & FUSE_SET_ATTR_UID)
		sa.valid |= UMM_SET_UID, sa.uid = attr->st_uid;
	if (to_set & FUSE_SET_ATTR_GID)
		sa.valid |= UMM_SET_GID, sa.gid = attr->st_gid;
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (attr->st_size < 0) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		sa.valid |= UMM_SET_SIZE, sa.size = (uint64_t)attr->st_size;
	}
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		sa.valid |= UMM_SET_ATIME_NOW;
	else if (to_set & FUSE_SET_ATTR_ATIME)
		sa.valid |= UMM_SET_ATIME, sa.atime = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		sa.valid |= UMM_SET_MTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_MTIME)
		sa.valid |= UMM_SET_MTIME, sa.mtime = attr->st_mtim;
	if (to_set & FUSE_SET_ATTR_CTIME)
		sa.valid |= UMM_SET_CTIME, sa.ctime = attr->st_ctim;
	/* FATTR_KILL_SUIDGID (killpriv v2): the kernel leaves it to the daemon */
	if (to_set & (FUSE_SET_ATTR_KILL_SUID | FUSE_SET_ATTR_KILL_SGID))
		sa.valid |= UMM_SET_KILL_SUIDGID;
	sa.fh = fi ? fi->fh : 0;
	ctx_of(req, &ctx);
	ret = store_setattr(fs_of(req)->store, &ctx, ino, &sa, &st);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_attr(req, &st, attr_timeout(req, &st));
}

static void fs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fuse_entry_param e;
	struct store_ctx ctx;
	struct stat st;
	int ret;

	ctx_of(req, &ctx);
	ret = store_mkdir(fs_of(req)->store, &ctx, parent, name, mode, &st);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	entry_of(&e, &st, attr_timeout(req, &st) > 0);
	fuse_reply_entry(req, &e);
}

static void fs_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct store_ctx ctx;

	ctx_of(req, &ctx);
	fuse_reply_err(req, -store_unlink(fs_of(req)->store, &ctx, parent, name));
}

static void fs_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, -store_rmdir(fs_of(req)->store, parent, name));
}

static void fs_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
			 const char *newname, unsigned int flags)
{
	struct store_ctx ctx;

	ctx_of(req, &ctx);
	fuse_reply_err(req, -store_rename(fs_of(req)->store, &ctx, parent, name, newparent, newname,
					  flags));
}

/* Hard links, symlinks and device nodes have no place among buffers. */
static void fs_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino, (void)newparent, (void)newname;
	fuse_reply_err(req, EPERM);
}

static void fs_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link, (void)parent, (void)name;
	fuse_reply_err(req, EPERM);
}

static void fs_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			dev_t rdev)
{
	(void)parent, (void)name, (void)rdev;
	/* a plain file by mknod(2) is a buffer like any other */
	if (S_ISREG(mode)) {
		struct fuse_entry_param e;
		struct store_open_out oo;
		struct store_ctx ctx;
		struct stat st;
		int ret;

		ctx_of(req, &ctx);
		ctx.backing_open = NULL;
		ret = store_create(fs_of(req)->store, &ctx, parent, name, mode, O_WRONLY, &st, &oo);
		if (ret) {
			fuse_reply_err(req, -ret);
			return;
		}
		store_release(fs_of(req)->store, &ctx, st.st_ino, oo.fh);
		entry_of(&e, &st, attr_timeout(req, &st) > 0);
		fuse_reply_entry(req, &e);
		return;
	}
	fuse_reply_err(req, EPERM);
}

static void open_reply_fi(struct fuse_file_info *fi, const struct store_open_out *oo)
{
	fi->fh = oo->fh;
	fi->keep_cache = 0;
	/*
	 * Nothing to flush: writes are direct, or written through the page
	 * cache as they happen (no writeback cache). Without this,
	 * every close() of a buffer's fd waits for a FLUSH reply, and so would
	 * the export thread closing a client's fd of this very mount: a forced
	 * request, waited for uninterruptibly, that only we can answer.
	 */
	fi->noflush = 1;
	/*
	 * FOPEN_KEEP_CACHE with a backing id makes the open fail: never both.
	 * Without a backing id and direct I/O the kernel caches the pages;
	 * keep_cache 0 drops them at each open, so an open sees what the
	 * buffer's other holders (exported fds, devices) wrote before it.
	 */
	fi->direct_io = oo->direct_io;
#ifdef UMM_HAVE_PASSTHROUGH
	fi->backing_id = oo->backing_id;
#endif
}

static void fs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			 struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	struct store_open_out oo;
	struct store_ctx ctx;
	struct stat st;
	int ret;

	ctx_of(req, &ctx);
	ret = store_create(fs_of(req)->store, &ctx, parent, name, mode, fi->flags, &st, &oo);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	entry_of(&e, &st, attr_timeout(req, &st) > 0);
	open_reply_fi(fi, &oo);
	if (fuse_reply_create(req, &e, fi))
		store_release(fs_of(req)->store, &ctx, st.st_ino, oo.fh);
}

static void fs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct store_open_out oo;
	bool changed = false;
	struct store_ctx ctx;
	int ret;

	ctx_of(req, &ctx);
	ctx.mode_changed = &changed;
	ret = store_open(fs->store, &ctx, ino, fi->flags, &oo);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	open_reply_fi(fi, &oo);
	if (fuse_reply_open(req, fi))
		store_release(fs->store, &ctx, ino, oo.fh);
	else
		mode_inval(fs, ino, changed);
}

/*
 * A read. A large one of an fd (a memfd) is answered from a mapping made for
 * it, so the kernel copies the pages once, straight into the reader's
 * (umm-bench -o read-1M: ~15% more than through a buffer; libfuse's splice
 * would need pipes larger than pipe-max-size without CAP_SYS_RESOURCE); it
 * is answered under the store's lock, so the buffer cannot shrink under that
 * copy. Anything else is copied into a buffer and answered after: a small
 * read, and @mem, the heap's own mapping, which for a dma-buf the kernel
 * cannot pin to copy from (VM_PFNMAP: the reader would get EIO).
 */
#define READ_MAP_MIN (128 * 1024)

struct read_reply {
	fuse_req_t req; /* NULL once answered */
	char *buf;
};

static ssize_t read_move(void *arg, int fd, void *mem, off_t off, size_t n)
{
	struct read_reply *rr = arg;

	if (!mem && n >= READ_MAP_MIN) {
		off_t mapoff = off & ~(off_t)(getpagesize() - 1);
		size_t maplen = n + (size_t)(off - mapoff);
		void *map = mmap(NULL, maplen, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, mapoff);

		if (map != MAP_FAILED) {
			/* a failed reply (the reader was interrupted) still answers */
			fuse_reply_buf(rr->req, (char *)map + (off - mapoff), n);
			rr->req = NULL;
			munmap(map, maplen);
			return (ssize_t)n;
		}
	}
	rr->buf = malloc(n);
	return rr->buf ? store_copy_out(rr->buf, fd, mem, off, n) : -ENOMEM;
}

static void fs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct read_reply rr = { .req = req };
	ssize_t ret = store_read_to(fs_of(req)->store, ino, fi->fh, size, off, read_move, &rr);

	if (!rr.req)
		return;
	if (ret < 0)
		fuse_reply_err(req, (int)-ret);
	else
		fuse_reply_buf(req, rr.buf, (size_t)ret);
	free(rr.buf);
}

static void fs_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req); /* the reply frees @req */
	bool changed = false;
	struct store_ctx ctx;
	ssize_t ret;

	ctx_of(req, &ctx);
	ctx.mode_changed = &changed;
	ret = store_write(fs->store, &ctx, ino, fi->fh, buf, size, off);
	if (ret < 0)
		fuse_reply_err(req, (int)-ret);
	else
		fuse_reply_write(req, (size_t)ret);
	mode_inval(fs, ino, changed);
}

static void fs_op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
			    struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req); /* the reply frees @req */
	bool changed = false;
	struct store_ctx ctx;

	ctx_of(req, &ctx);
	ctx.mode_changed = &changed;
	fuse_reply_err(req, -store_fallocate(fs->store, &ctx, ino, fi->fh, mode, offset, length));
	mode_inval(fs, ino, changed);
}

static void fs_op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino, (void)fi;
	fuse_reply_err(req, 0);
}

static void fs_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino, (void)datasync, (void)fi;
	fuse_reply_err(req, 0);
}

static void fs_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct store_ctx ctx;

	ctx_of(req, &ctx);
	store_release(fs_of(req)->store, &ctx, ino, fi->fh);
	fuse_reply_err(req, 0);
}

static void fs_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int ret = store_opendir(fs_of(req)->store, ino);

	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	fi->fh = 0;
	fuse_reply_open(req, fi);
}

struct dirbuf {
	fuse_req_t req;
	char *buf;
	size_t size, used;
	bool plus;
};

static int dir_fill(void *arg, const char *name, const struct stat *st, bool settled, off_t next)
{
	struct dirbuf *d = arg;
	size_t len;

	if (d->plus) {
		struct fuse_entry_param e;

		entry_of(&e, st, settled);
		len = fuse_add_direntry_plus(d->req, d->buf + d->used, d->size - d->used, name, &e,
					     next);
	} else {
		len = fuse_add_direntry(d->req, d->buf + d->used, d->size - d->used, name, st,
					next);
	}
	if (len > d->size - d->used)
		return 1;
	d->used += len;
	return 0;
}

static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
	struct dirbuf d = { .req = req, .size = size, .plus = plus };
	int ret;

	d.buf = malloc(size ? size : 1);
	if (!d.buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ret = store_readdir(fs_of(req)->store, ino, off, plus, dir_fill, &d);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_buf(req, d.buf, d.used);
	free(d.buf);
}

static void fs_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			  struct fuse_file_info *fi)
{
	(void)fi;
	readdir_common(req, ino, size, off, false);
}

static void fs_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			      struct fuse_file_info *fi)
{
	(void)fi;
	readdir_common(req, ino, size, off, true);
}

static void fs_op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino, (void)fi;
	fuse_reply_err(req, 0);
}

static void fs_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	(void)ino;
	store_statfs(fs_of(req)->store, &sv);
	fuse_reply_statfs(req, &sv);
}

static void fs_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			   size_t size, int flags)
{
	struct store_ctx ctx;

	struct fs *fs = fs_of(req); /* the reply frees @req */
	int ret;

	ctx_of(req, &ctx);
	ret = store_setxattr(fs->store, &ctx, ino, name, value, size, flags);
	fuse_reply_err(req, -ret);
	/*
	 * Without passthrough the kernel caches the pages: a change of sync
	 * domain is where a device's writes to the exported memory must become
	 * visible to the mount's readers (and theirs, written back, to it).
	 */
	if (!ret && !fs->passthrough && !strcmp(name, "user.umm.sync"))
		fuse_lowlevel_notify_inval_inode(fs->se, ino, 0, 0);
}

static void xattr_reply(fuse_req_t req, char *buf, size_t size, ssize_t ret)
{
	if (ret < 0)
		fuse_reply_err(req, (int)-ret);
	else if (!size)
		fuse_reply_xattr(req, (size_t)ret);
	else
		fuse_reply_buf(req, buf, (size_t)ret);
}

static void fs_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	char *buf;
	ssize_t ret;

	/*
	 * Only user.* names exist here. Without killpriv v2 (libfuse 3.14) the
	 * kernel asks for security.capability before every write, passthrough
	 * writes included (file_remove_privs; never cached): answer at once,
	 * without the store's lock.
	 */
	if (strncmp(name, "user.", 5)) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	buf = size ? malloc(size) : NULL;

	if (size && !buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (ino == FUSE_ROOT_ID && !strcmp(name, "user.umm.stats"))
		store_set_transport(fs_of(req)->store, req_transport(req));
	ret = store_getxattr(fs_of(req)->store, ino, name, buf, size);
	xattr_reply(req, buf, size, ret);
	free(buf);
}

static void fs_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char *buf = size ? malloc(size) : NULL;
	ssize_t ret;

	if (size && !buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ret = store_listxattr(fs_of(req)->store, ino, buf, size);
	xattr_reply(req, buf, size, ret);
	free(buf);
}

static void fs_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	fuse_reply_err(req, -store_removexattr(fs_of(req)->store, ino, name));
}

const struct fuse_lowlevel_ops fs_ops = {
	.init = fs_op_init,
	.lookup = fs_op_lookup,
	.forget = fs_op_forget,
	.forget_multi = fs_op_forget_multi,
	.getattr = fs_op_getattr,
	.setattr = fs_op_setattr,
	.mkdir = fs_op_mkdir,
	.unlink = fs_op_unlink,
	.rmdir = fs_op_rmdir,
	.rename = fs_op_rename,
	.link = fs_op_link,
	.symlink = fs_op_symlink,
	.mknod = fs_op_mknod,
	.create = fs_op_create,
	.open = fs_op_open,
	.read = fs_op_read,
	.write = fs_op_write,
	.fallocate = fs_op_fallocate,
	.flush = fs_op_flush,
	.fsync = fs_op_fsync,
	.release = fs_op_release,
	.opendir = fs_op_opendir,
	.readdir = fs_op_readdir,
	.readdirplus = fs_op_readdirplus,
	.releasedir = fs_op_releasedir,
	.statfs = fs_op_statfs,
	.setxattr = fs_op_setxattr,
	.getxattr = fs_op_getxattr,
	.listxattr = fs_op_listxattr,
	.removexattr = fs_op_removexattr,
};
