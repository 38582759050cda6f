// SPDX-License-Identifier: MIT
/*
 * test_store.c - the store (alloc/) used directly, without FUSE, on the real
 * memfd heap: creation, accounting, write growth, unlink, rename, tightening,
 * xattrs, sealed buffers, export, readdir offsets and the return of memory
 * and fds. The store and the log capture are per test.
 *
 * Every test runs in its own process (Criterion).
 */
#define _GNU_SOURCE
#include "unit_i.h"

static struct heap g_heaps[HEAP_MAX];
static unsigned g_nheaps;
static struct store *S;
static char g_log[8192];

static const struct store_ctx CTX = { .uid = 1000, .gid = 1000 };
static const struct store_ctx CTX2 = { .uid = 1001, .gid = 1001 };

/* every log line of the test, one after the other */
__attribute__((format(printf, 1, 2))) static void test_log(const char *fmt, ...)
{
	size_t used = strlen(g_log);
	va_list ap;

	if (used + 2 >= sizeof(g_log))
		return;
	va_start(ap, fmt);
	vsnprintf(g_log + used, sizeof(g_log) - used - 1, fmt, ap);
	va_end(ap);
	strcat(g_log, "\n");
}

/*
 * The store's own logic for device lists (parsing, inheritance, EBUSY) is what
 * these tests check; whether a real device imports a real dma-buf is tested
 * against real devices in the VM (tests/vm). This machine may have none, so
 * every absolute path counts as a device that could be tested.
 */
static int any_device(const char *dev, char *why, size_t n)
{
	(void)why;
	(void)n;
	return dev[0] == '/' ? 0 : -EINVAL;
}

/*
 * The format of two V4L2 nodes, for user.umm.size_from: the store's logic
 * (largest of a list, the size it sets, what drops it) is tested here; the
 * real VIDIOC_G_FMT of a real node in the VM (tests/vm/test_v4l2.sh).
 */
static int fake_sizeimage(const char *dev, uint64_t *size, char *desc, size_t dn, char *why,
			  size_t n)
{
	snprintf(desc, dn, "%s", "fake");
	if (!strcmp(dev, "/dev/video0"))
		*size = 460800;
	else if (!strcmp(dev, "/dev/video1"))
		*size = 829440;
	else if (!strcmp(dev, "/dev/dri/card0")) {
		snprintf(why, n, "%s is a DRM device: it has no format to take a size from", dev);
		return -EOPNOTSUPP;
	} else {
		snprintf(why, n, "cannot open %s: %s", dev, strerror(ENOENT));
		return -ENOENT;
	}
	return 0;
}

static void store_up(uint64_t size, uint64_t user_size, uint64_t nr_buffers)
{
	struct store_config cfg = { 0 };
	int ret;

	ret = heap_discover(g_heaps, HEAP_MAX, &g_nheaps);
	cr_assert_eq(ret, 0, "heap_discover: %d", ret);
	cr_assert_geq(g_nheaps, 1);
	cr_assert_str_eq(g_heaps[0].name, "memfd");
	cfg.size = size;
	cfg.user_size = user_size;
	cfg.nr_buffers = nr_buffers;
	cfg.heaps = g_heaps;
	cfg.nheaps = g_nheaps;
	cfg.passthrough = false;
	cfg.log = test_log;
	cfg.device_check = any_device;
	cfg.device_sizeimage = fake_sizeimage;
	ret = store_new(&S, &cfg);
	cr_assert_eq(ret, 0, "store_new: %d", ret);
}

static void store_down(void)
{
	store_free(S);
	S = NULL;
	heap_release_all(g_heaps, g_nheaps);
}

TestSuite(store, .fini = store_down);

static uint64_t mkdir_(uint64_t parent, const char *name)
{
	struct stat st;
	int ret = store_mkdir(S, &CTX, parent, name, 0755, &st);

	cr_assert_eq(ret, 0, "mkdir %s: %d", name, ret);
	cr_assert(S_ISDIR(st.st_mode));
	return st.st_ino;
}

static int setx_ret(uint64_t ino, const char *name, const char *value)
{
	return store_setxattr(S, &CTX, ino, name, value, strlen(value), 0);
}

static void setx(uint64_t ino, const char *name, const char *value)
{
	int ret = setx_ret(ino, name, value);

	cr_assert_eq(ret, 0, "setxattr %s=%s: %d (log: %s)", name, value, ret, g_log);
}

/* The value of @name as a C string in @buf (asserts it is there). */
static const char *getx(uint64_t ino, const char *name, char *buf, size_t n)
{
	ssize_t len = store_getxattr(S, ino, name, buf, n - 1);

	cr_assert_geq(len, 0, "getxattr %s: %zd", name, len);
	buf[len] = '\0';
	return buf;
}

static ssize_t getx_ret(uint64_t ino, const char *name)
{
	char buf[8192];

	return store_getxattr(S, ino, name, buf, sizeof(buf));
}

static uint64_t used_of(uint64_t ino)
{
	char buf[32];

	return strtoull(getx(ino, "user.umm.used_bytes", buf, sizeof(buf)), NULL, 10);
}

static int create_as(const struct store_ctx *ctx, uint64_t parent, const char *name, int flags,
		     uint64_t *ino, uint64_t *fh)
{
	struct store_open_out oo = { 0 };
	struct stat st;
	int ret = store_create(S, ctx, parent, name, 0644, flags | O_CREAT, &st, &oo);

	if (ret)
		return ret;
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(oo.backing_id, 0, "no passthrough was asked for");
	if (ino)
		*ino = st.st_ino;
	if (fh)
		*fh = oo.fh;
	else
		store_release(S, ctx, st.st_ino, oo.fh);
	return 0;
}

/* create, asserting success */
static uint64_t create_(uint64_t parent, const char *name, int flags, uint64_t *fh)
{
	uint64_t ino = 0;
	int ret = create_as(&CTX, parent, name, flags, &ino, fh);

	cr_assert_eq(ret, 0, "create %s: %d (log: %s)", name, ret, g_log);
	return ino;
}

/* create, release the handle: a buffer nobody holds open (one lookup) */
static uint64_t create_closed(uint64_t parent, const char *name)
{
	uint64_t fh, ino = create_(parent, name, O_RDWR, &fh);

	store_release(S, &CTX, ino, fh);
	return ino;
}

static uint64_t open_(uint64_t ino, int flags)
{
	struct store_open_out oo = { 0 };
	int ret = store_open(S, &CTX, ino, flags, &oo);

	cr_assert_eq(ret, 0, "open %" PRIu64 ": %d (log: %s)", ino, ret, g_log);
	return oo.fh;
}

/* lookup without keeping a lookup count */
static int lookup_(uint64_t parent, const char *name, struct stat *st)
{
	struct stat tmp;
	int ret;

	if (!st)
		st = &tmp;
	ret = store_lookup(S, parent, name, st, NULL);
	if (!ret)
		store_forget(S, &CTX, st->st_ino, 1);
	return ret;
}

static off_t size_of(uint64_t ino)
{
	struct stat st;

	cr_assert_eq(store_getattr(S, ino, &st, NULL), 0);
	return st.st_size;
}

static int resize_(uint64_t ino, uint64_t size, uint64_t fh)
{
	struct store_setattr sa = { .valid = UMM_SET_SIZE, .size = size, .fh = fh };
	struct stat st;

	return store_setattr(S, &CTX, ino, &sa, &st);
}

static struct store_stats stats_(void)
{
	struct store_stats st;

	store_stats(S, &st);
	return st;
}

static uint64_t statfs_used(void)
{
	struct statvfs sv;

	store_statfs(S, &sv);
	cr_assert_eq(sv.f_bsize, 4096);
	return (sv.f_blocks - sv.f_bfree) * sv.f_frsize;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* ---- creation and accounting ---- */

Test(store, create_in_a_sized_dir_allocates_at_once)
{
	struct store_open_out oo;
	struct stat st;
	char buf[128];
	uint64_t d;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	setx(d, "user.umm.size", "1M");
	cr_assert_eq(store_create(S, &CTX, d, "b", 0640, O_RDWR | O_CREAT, &st, &oo), 0);
	cr_assert_eq(st.st_size, (off_t)MiB);
	cr_assert_eq(st.st_mode, S_IFREG | 0640);
	cr_assert_eq(st.st_uid, 1000);
	cr_assert_eq(st.st_gid, 1000);
	cr_assert_eq(size_of(st.st_ino), (off_t)MiB);
	cr_assert_eq(used_of(d), MiB);
	cr_assert_eq(used_of(ROOT), MiB);
	cr_assert_str_eq(getx(st.st_ino, "user.umm.heap", buf, sizeof(buf)), "memfd");
	cr_assert_str_eq(getx(st.st_ino, "user.umm.cache", buf, sizeof(buf)), "cached");
	cr_assert_str_eq(getx(st.st_ino, "user.umm.sync", buf, sizeof(buf)), "cpu");
	cr_assert_str_eq(getx(st.st_ino, "user.umm.exports", buf, sizeof(buf)), "0");
	cr_assert_str_eq(getx(st.st_ino, "user.umm.dmabuf", buf, sizeof(buf)), "");
	cr_assert_eq(stats_().buffers, 1);
	cr_assert_eq(stats_().used, MiB);
	cr_assert_eq(statfs_used(), MiB);
	/* sized at once: a write past its end is refused */
	cr_assert_eq(store_write(S, &CTX, st.st_ino, oo.fh, "x", 1, (off_t)MiB), -EPERM);
	cr_assert_str_eq(
		getx(d, "user.umm.effective", buf, sizeof(buf)),
		"size=1M align=4K contiguous=0 cache=cached heap=auto devices= max_bytes=none");
	store_release(S, &CTX, st.st_ino, oo.fh);
}

Test(store, create_in_a_plain_dir_starts_empty_and_charges_nothing)
{
	uint64_t d, b, fh;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	b = create_(d, "b", O_WRONLY, &fh);
	cr_assert_eq(size_of(b), 0);
	cr_assert_eq(used_of(d), 0);
	cr_assert_eq(stats_().buffers, 1);
	cr_assert_eq(create_as(&CTX, d, "b", O_WRONLY, NULL, NULL), -EEXIST);
	store_release(S, &CTX, b, fh);
}

Test(store, create_over_the_mount_size_is_enospc_and_changes_nothing)
{
	uint64_t d;

	store_up(MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	setx(d, "user.umm.size", "512K");
	create_closed(d, "b1");
	create_closed(d, "b2");
	cr_assert_eq(used_of(d), MiB);
	cr_assert_eq(create_as(&CTX, d, "b3", O_RDWR, NULL, NULL), -ENOSPC);
	cr_assert_eq(used_of(d), MiB);
	cr_assert_eq(used_of(ROOT), MiB);
	cr_assert_eq(stats_().buffers, 2);
	cr_assert_eq(stats_().used, MiB);
	cr_assert_eq(lookup_(d, "b3", NULL), -ENOENT);
	cr_assert_eq(statfs_used(), MiB);
	/* a size that does not fit even alone */
	setx(d, "user.umm.size", "2M");
	cr_assert_eq(create_as(&CTX, d, "big", O_RDWR, NULL, NULL), -ENOSPC);
	cr_assert_eq(lookup_(d, "big", NULL), -ENOENT);
	cr_assert_eq(stats_().buffers, 2);
}

Test(store, user_size_is_charged_per_uid)
{
	uint64_t d;

	store_up(16 * MiB, 512 * KiB, 0);
	d = mkdir_(ROOT, "d");
	setx(d, "user.umm.size", "512K");
	cr_assert_eq(create_as(&CTX, d, "a1", O_RDWR, NULL, NULL), 0);
	cr_assert_eq(create_as(&CTX, d, "a2", O_RDWR, NULL, NULL), -ENOSPC, "uid 1000 is full");
	cr_assert_eq(create_as(&CTX2, d, "b1", O_RDWR, NULL, NULL), 0,
		     "uid 1001 has its own budget");
	cr_assert_eq(create_as(&CTX2, d, "b2", O_RDWR, NULL, NULL), -ENOSPC, "uid 1001 is full");
	cr_assert_eq(used_of(d), MiB);
	cr_assert_eq(stats_().buffers, 2);
	cr_assert_eq(lookup_(d, "a2", NULL), -ENOENT);
	cr_assert_eq(lookup_(d, "b2", NULL), -ENOENT);
}

Test(store, nr_buffers_limits_the_count_of_buffers_not_dirs)
{
	uint64_t d, s, b1;

	store_up(16 * MiB, 0, 2);
	d = mkdir_(ROOT, "d");
	s = mkdir_(ROOT, "sized");
	setx(s, "user.umm.size", "4K");
	b1 = create_closed(d, "b1");
	create_closed(s, "b2");
	cr_assert_eq(create_as(&CTX, d, "b3", O_RDWR, NULL, NULL), -ENOSPC);
	cr_assert_eq(create_as(&CTX, s, "b3", O_RDWR, NULL, NULL), -ENOSPC);
	cr_assert_eq(stats_().buffers, 2);
	cr_assert_eq(lookup_(d, "b3", NULL), -ENOENT);
	mkdir_(d, "more-dirs-are-fine");
	/* a freed buffer makes room again */
	cr_assert_eq(store_unlink(S, &CTX, d, "b1"), 0);
	store_forget(S, &CTX, b1, 1);
	cr_assert_eq(stats_().buffers, 1);
	create_closed(d, "b3");
}

Test(store, an_ancestors_max_bytes_caps_the_subtree)
{
	uint64_t a, b, c;

	store_up(64 * MiB, 0, 0);
	a = mkdir_(ROOT, "a");
	setx(a, "user.umm.max_bytes", "1M");
	b = mkdir_(a, "b");
	c = mkdir_(a, "c");
	setx(b, "user.umm.size", "512K");
	setx(c, "user.umm.size", "4K");
	create_closed(b, "x1");
	create_closed(b, "x2");
	cr_assert_eq(create_as(&CTX, b, "x3", O_RDWR, NULL, NULL), -ENOSPC);
	cr_assert_eq(create_as(&CTX, c, "y1", O_RDWR, NULL, NULL), -ENOSPC, "a is full");
	cr_assert_eq(used_of(a), MiB);
	cr_assert_eq(used_of(b), MiB);
	cr_assert_eq(used_of(c), 0);
	cr_assert_eq(stats_().buffers, 2);
	cr_assert_eq(lookup_(b, "x3", NULL), -ENOENT);
	cr_assert_eq(lookup_(c, "y1", NULL), -ENOENT);
	/* outside the subtree nothing is limited */
	uint64_t o = mkdir_(ROOT, "o");

	setx(o, "user.umm.size", "2M");
	create_closed(o, "z");
	cr_assert_eq(used_of(ROOT), 3 * MiB);
}

/* ---- write growth ---- */

Test(store, write_grows_a_staged_buffer_within_budgets_and_enospc_beyond)
{
	char data[4096], back[4096];
	uint64_t d, b, fh, rfh;

	store_up(MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	b = create_(d, "f", O_WRONLY, &fh);
	memset(data, 'a', sizeof(data));
	cr_assert_eq(store_write(S, &CTX, b, fh, data, 100, 0), 100);
	cr_assert_eq(size_of(b), 100);
	cr_assert_eq(used_of(d), 4096);
	cr_assert_eq(store_write(S, &CTX, b, fh, data, 4096, 4000), 4096);
	cr_assert_eq(size_of(b), 8096);
	cr_assert_eq(used_of(d), 8192);
	/* up to the budget exactly */
	cr_assert_eq(store_write(S, &CTX, b, fh, "z", 1, (off_t)MiB - 1), 1);
	cr_assert_eq(size_of(b), (off_t)MiB);
	cr_assert_eq(used_of(d), MiB);
	/* one byte more: nothing changes */
	cr_assert_eq(store_write(S, &CTX, b, fh, "z", 1, (off_t)MiB), -ENOSPC);
	cr_assert_eq(size_of(b), (off_t)MiB);
	cr_assert_eq(used_of(d), MiB);
	cr_assert_eq(stats_().used, MiB);
	/* the bytes written are there */
	rfh = open_(b, O_RDONLY);
	cr_assert_eq(store_read(S, b, rfh, back, 4096, 4000), 4096);
	cr_assert_eq(memcmp(back, data, 4096), 0);
	cr_assert_eq(store_read(S, b, rfh, back, 10, (off_t)MiB - 1), 1);
	cr_assert_eq(back[0], 'z');
	cr_assert_eq(store_write(S, &CTX, b, rfh, "q", 1, 0), -EBADF,
		     "write on a read-only handle");
	cr_assert_eq(store_read(S, b, fh, back, 1, 0), -EBADF, "read on a write-only handle");
	store_release(S, &CTX, b, rfh);
	store_release(S, &CTX, b, fh);
}

Test(store, write_growth_respects_user_size_and_ancestor_max_bytes)
{
	char page[4096] = { 0 };
	uint64_t q, d, b, fh, b2, fh2;

	store_up(64 * MiB, 16 * KiB, 0);
	q = mkdir_(ROOT, "q");
	setx(q, "user.umm.max_bytes", "8K");
	d = mkdir_(q, "d");
	b = create_(d, "f", O_RDWR, &fh);
	cr_assert_eq(store_write(S, &CTX, b, fh, page, 4096, 4096), 4096);
	cr_assert_eq(used_of(q), 8192);
	cr_assert_eq(store_write(S, &CTX, b, fh, page, 1, 8192), -ENOSPC, "max_bytes of q");
	cr_assert_eq(size_of(b), 8192);
	cr_assert_eq(used_of(q), 8192);
	/* user_size: uid 1000 holds 8K in q; 8K more elsewhere is fine, then full */
	b2 = create_(ROOT, "g", O_RDWR, &fh2);
	cr_assert_eq(store_write(S, &CTX, b2, fh2, page, 4096, 4096), 4096);
	cr_assert_eq(store_write(S, &CTX, b2, fh2, page, 1, 8192), -ENOSPC, "user_size");
	cr_assert_eq(size_of(b2), 8192);
	cr_assert_eq(stats_().used, 16 * KiB);
	store_release(S, &CTX, b, fh);
	store_release(S, &CTX, b2, fh2);
}

Test(store, fallocate_and_truncate_size_a_staged_buffer_within_budgets)
{
	uint64_t d, b, fh;

	store_up(MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	b = create_(d, "f", O_RDWR, &fh);
	cr_assert_eq(store_fallocate(S, &CTX, b, fh, 0, 0, 65536), 0);
	cr_assert_eq(size_of(b), 65536);
	cr_assert_eq(used_of(d), 65536);
	cr_assert_eq(store_fallocate(S, &CTX, b, fh, 0, 0, (off_t)(2 * MiB)), -ENOSPC);
	cr_assert_eq(size_of(b), 65536);
	cr_assert_eq(resize_(b, 2 * MiB, fh), -ENOSPC);
	cr_assert_eq(size_of(b), 65536);
	cr_assert_eq(resize_(b, 4096, fh), 0);
	cr_assert_eq(size_of(b), 4096);
	cr_assert_eq(used_of(d), 4096);
	store_release(S, &CTX, b, fh);
}

/* ---- unlink ---- */

Test(store, unlink_of_an_open_buffer_keeps_it_readable_and_frees_on_release_and_forget)
{
	char back[16] = "";
	uint64_t d, b, fh;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	setx(d, "user.umm.size", "1M");
	b = create_(d, "b", O_RDWR, &fh);
	cr_assert_eq(store_write(S, &CTX, b, fh, "payload", 7, 4096), 7);
	cr_assert_eq(store_unlink(S, &CTX, d, "b"), 0);
	cr_assert_eq(lookup_(d, "b", NULL), -ENOENT, "the name goes at once");
	cr_assert_eq(used_of(d), 0, "the subtree no longer holds it");
	cr_assert_eq(used_of(ROOT), 0);
	cr_assert_eq(store_read(S, b, fh, back, 7, 4096), 7);
	cr_assert_eq(memcmp(back, "payload", 7), 0);
	cr_assert_eq(statfs_used(), MiB, "the memory is held while open");
	cr_assert_eq(stats_().buffers, 1);
	store_release(S, &CTX, b, fh);
	cr_assert_eq(statfs_used(), MiB, "the kernel still holds a lookup");
	store_forget(S, &CTX, b, 1);
	cr_assert_eq(statfs_used(), 0);
	cr_assert_eq(stats_().buffers, 0);
	cr_assert_eq(stats_().used, 0);
	cr_assert_eq(store_getattr(S, b, &(struct stat){ 0 }, NULL), -ENOENT);
}

Test(store, unlink_of_a_dir_is_eisdir_and_rmdir_of_a_full_dir_is_enotempty)
{
	uint64_t d;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	create_closed(d, "b");
	cr_assert_eq(store_unlink(S, &CTX, ROOT, "d"), -EISDIR);
	cr_assert_eq(store_rmdir(S, ROOT, "d"), -ENOTEMPTY);
	cr_assert_eq(store_rmdir(S, d, "b"), -ENOTDIR);
	cr_assert_eq(store_unlink(S, &CTX, d, "nope"), -ENOENT);
}

/* ---- rename ---- */

Test(store, rename_within_a_dir_always_works)
{
	struct stat st;
	uint64_t d, b;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	setx(d, "user.umm.size", "64K");
	b = create_closed(d, "b");
	create_closed(d, "other");
	cr_assert_eq(store_rename(S, &CTX, d, "b", d, "c", 0), 0);
	cr_assert_eq(lookup_(d, "b", NULL), -ENOENT);
	cr_assert_eq(lookup_(d, "c", &st), 0);
	cr_assert_eq(st.st_ino, b);
	cr_assert_eq(used_of(d), 128 * KiB);
	cr_assert_eq(store_rename(S, &CTX, d, "c", d, "other", RENAME_NOREPLACE), -EEXIST);
	cr_assert_eq(store_rename(S, &CTX, d, "c", d, "other", RENAME_EXCHANGE), -EINVAL);
	/* replacing uncharges the replaced one from the subtree */
	cr_assert_eq(store_rename(S, &CTX, d, "c", d, "other", 0), 0);
	cr_assert_eq(lookup_(d, "other", &st), 0);
	cr_assert_eq(st.st_ino, b);
	cr_assert_eq(used_of(d), 64 * KiB);
}

Test(store, rename_across_dirs_to_a_larger_alignment_is_exdev)
{
	uint64_t d, t, h;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	setx(d, "user.umm.size", "1M");
	create_closed(d, "b");
	t = mkdir_(ROOT, "t");
	setx(t, "user.umm.align", "2M");
	cr_assert_eq(store_rename(S, &CTX, d, "b", t, "b", 0), -EXDEV);
	cr_assert_eq(lookup_(d, "b", NULL), 0, "the buffer stays");
	cr_assert_eq(lookup_(t, "b", NULL), -ENOENT);
	cr_assert_eq(used_of(d), MiB);
	cr_assert_eq(used_of(t), 0);
	/* another heap */
	h = mkdir_(ROOT, "h");
	setx(h, "user.umm.heap", "udmabuf");
	cr_assert_eq(store_rename(S, &CTX, d, "b", h, "b", 0), -EXDEV);
	/* a nested target inherits the alignment */
	uint64_t tt = mkdir_(t, "sub");

	cr_assert_eq(store_rename(S, &CTX, d, "b", tt, "b", 0), -EXDEV);
	cr_assert_eq(used_of(d), MiB);
}

Test(store, rename_across_dirs_over_the_target_quota_is_exdev)
{
	uint64_t d, q, sub;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	setx(d, "user.umm.size", "1M");
	create_closed(d, "b");
	q = mkdir_(ROOT, "q");
	setx(q, "user.umm.max_bytes", "512K");
	sub = mkdir_(q, "sub");
	cr_assert_eq(store_rename(S, &CTX, d, "b", q, "b", 0), -EXDEV);
	cr_assert_eq(store_rename(S, &CTX, d, "b", sub, "b", 0), -EXDEV, "q's quota covers sub");
	cr_assert_eq(used_of(d), MiB);
	cr_assert_eq(used_of(q), 0);
	cr_assert_eq(lookup_(d, "b", NULL), 0);
	/* a quota exactly large enough admits it */
	setx(q, "user.umm.max_bytes", "1M");
	cr_assert_eq(store_rename(S, &CTX, d, "b", sub, "b", 0), 0);
	cr_assert_eq(used_of(q), MiB);
}

Test(store, rename_across_compatible_dirs_moves_the_charge)
{
	uint64_t d, e, b;
	struct stat st;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	setx(d, "user.umm.size", "1M");
	b = create_closed(d, "b");
	e = mkdir_(ROOT, "e");
	setx(e, "user.umm.align", "4K");
	cr_assert_eq(store_rename(S, &CTX, d, "b", e, "moved", 0), 0);
	cr_assert_eq(used_of(d), 0);
	cr_assert_eq(used_of(e), MiB);
	cr_assert_eq(used_of(ROOT), MiB);
	cr_assert_eq(stats_().used, MiB);
	cr_assert_eq(lookup_(e, "moved", &st), 0);
	cr_assert_eq(st.st_ino, b);
	cr_assert_eq(lookup_(d, "b", NULL), -ENOENT);
	/* and a whole directory with its buffers */
	uint64_t f = mkdir_(ROOT, "f");

	cr_assert_eq(store_rename(S, &CTX, ROOT, "e", f, "e", 0), 0);
	cr_assert_eq(used_of(f), MiB);
	cr_assert_eq(used_of(e), MiB);
	cr_assert_eq(used_of(ROOT), MiB);
	cr_assert_eq(store_rename(S, &CTX, ROOT, "f", e, "loop", 0), -EINVAL, "into itself");
}

Test(store, rename_of_a_dir_whose_buffers_miss_the_target_is_exdev)
{
	uint64_t a, d, t;

	store_up(64 * MiB, 0, 0);
	a = mkdir_(ROOT, "a");
	d = mkdir_(a, "d");
	setx(d, "user.umm.size", "8K");
	create_closed(d, "b");
	t = mkdir_(ROOT, "t");
	setx(t, "user.umm.align", "64K");
	cr_assert_eq(store_rename(S, &CTX, a, "d", t, "d", 0), -EXDEV);
	cr_assert_eq(used_of(a), 8192);
	cr_assert_eq(used_of(t), 0);
}

/* ---- tightening ---- */

Test(store, tightening_align_over_existing_buffers_is_ebusy)
{
	char buf[128];
	uint64_t a, d;

	store_up(64 * MiB, 0, 0);
	a = mkdir_(ROOT, "a");
	d = mkdir_(a, "d");
	setx(d, "user.umm.size", "64K");
	create_closed(d, "b");
	cr_assert_eq(setx_ret(d, "user.umm.align", "2M"), -EBUSY);
	cr_assert_eq(getx_ret(d, "user.umm.align"), -ENODATA, "nothing was set");
	cr_assert_eq(setx_ret(a, "user.umm.align", "64K"), -EBUSY, "an ancestor too");
	cr_assert_eq(getx_ret(a, "user.umm.align"), -ENODATA);
	cr_assert_str_eq(
		getx(d, "user.umm.effective", buf, sizeof(buf)),
		"size=64K align=4K contiguous=0 cache=cached heap=auto devices= max_bytes=none");
	/* what the buffers meet is fine */
	setx(d, "user.umm.align", "4K");
	setx(d, "user.umm.cache", "cached");
	setx(d, "user.umm.heap", "memfd");
	cr_assert_eq(setx_ret(d, "user.umm.cache", "writecombine"), -EBUSY);
	cr_assert_eq(setx_ret(a, "user.umm.heap", "udmabuf"), -EBUSY);
	cr_assert_eq(setx_ret(d, "user.umm.contiguous", "1"), -EBUSY);
	cr_assert_str_eq(getx(d, "user.umm.cache", buf, sizeof(buf)), "cached");
	/* size is no constraint on existing buffers */
	setx(d, "user.umm.size", "1M");
}

Test(store, max_bytes_below_used_is_ebusy)
{
	char buf[32];
	uint64_t d, sub;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	sub = mkdir_(d, "sub");
	setx(sub, "user.umm.size", "512K");
	create_closed(sub, "b1");
	create_closed(sub, "b2");
	cr_assert_eq(setx_ret(d, "user.umm.max_bytes", "512K"), -EBUSY);
	cr_assert_eq(getx_ret(d, "user.umm.max_bytes"), -ENODATA);
	cr_assert_eq(setx_ret(ROOT, "user.umm.max_bytes", "1020K"), -EBUSY);
	setx(d, "user.umm.max_bytes", "1M");
	cr_assert_str_eq(getx(d, "user.umm.max_bytes", buf, sizeof(buf)), "1M");
	cr_assert_eq(setx_ret(d, "user.umm.max_bytes", "4K"), -EBUSY);
	cr_assert_str_eq(getx(d, "user.umm.max_bytes", buf, sizeof(buf)), "1M", "kept");
}

Test(store, heap_conflicting_with_an_ancestor_is_einval)
{
	char buf[128];
	uint64_t d;

	store_up(64 * MiB, 0, 0);
	setx(ROOT, "user.umm.heap", "memfd");
	d = mkdir_(ROOT, "d");
	g_log[0] = '\0';
	cr_assert_eq(setx_ret(d, "user.umm.heap", "udmabuf"), -EINVAL);
	cr_assert_not_null(strstr(g_log, "ancestor's heap"), "log: %s", g_log);
	cr_assert_eq(getx_ret(d, "user.umm.heap"), -ENODATA);
	setx(ROOT, "user.umm.cache", "cached");
	cr_assert_eq(setx_ret(d, "user.umm.cache", "uncached"), -EINVAL);
	cr_assert_str_eq(
		getx(d, "user.umm.effective", buf, sizeof(buf)),
		"size=none align=4K contiguous=0 cache=cached heap=memfd devices= max_bytes=none");
	/* heap=auto: no setting of its own */
	setx(d, "user.umm.heap", "memfd");
	setx(d, "user.umm.heap", "auto");
	cr_assert_eq(getx_ret(d, "user.umm.heap"), -ENODATA);
}

/* ---- xattrs ---- */

Test(store, unknown_umm_names_are_einval)
{
	uint64_t d, b;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	b = create_closed(d, "b");
	cr_assert_eq(setx_ret(d, "user.umm.bogus", "1"), -EINVAL);
	cr_assert_eq(setx_ret(d, "user.umm.", "1"), -EINVAL);
	cr_assert_eq(setx_ret(d, "user.umm.heaps", "x"), -EINVAL, "heaps is on the root only");
	cr_assert_eq(setx_ret(b, "user.umm.size", "4K"), -EINVAL, "size is a directory's");
	cr_assert_eq(setx_ret(b, "user.umm.align", "4K"), -EINVAL);
	cr_assert_eq(getx_ret(d, "user.umm.bogus"), -ENODATA);
	cr_assert_eq(setx_ret(d, "trusted.x", "1"), -EOPNOTSUPP);
	cr_assert_eq(getx_ret(d, "trusted.x"), -ENODATA);
}

Test(store, read_only_umm_names_are_eperm)
{
	static const char *const dir_ro[] = { "user.umm.effective", "user.umm.used_bytes" };
	static const char *const root_ro[] = { "user.umm.heaps", "user.umm.socket" };
	static const char *const buf_ro[] = { "user.umm.heap", "user.umm.contiguous",
					      "user.umm.exports", "user.umm.dmabuf" };
	char before[256], after[256];
	uint64_t d, b;

	store_up(64 * MiB, 0, 0);
	store_set_socket(S, "/run/umm/test.sock");
	d = mkdir_(ROOT, "d");
	b = create_closed(d, "b");
	for (size_t i = 0; i < ARRAY_SIZE(dir_ro); i++) {
		cr_assert_eq(setx_ret(d, dir_ro[i], "0"), -EPERM, "%s", dir_ro[i]);
		cr_assert_eq(setx_ret(ROOT, dir_ro[i], "0"), -EPERM, "%s", dir_ro[i]);
		cr_assert_eq(store_removexattr(S, d, dir_ro[i]), -EPERM, "%s", dir_ro[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(root_ro); i++) {
		getx(ROOT, root_ro[i], before, sizeof(before));
		cr_assert_eq(setx_ret(ROOT, root_ro[i], "x"), -EPERM, "%s", root_ro[i]);
		cr_assert_str_eq(getx(ROOT, root_ro[i], after, sizeof(after)), before);
	}
	for (size_t i = 0; i < ARRAY_SIZE(buf_ro); i++) {
		getx(b, buf_ro[i], before, sizeof(before));
		cr_assert_eq(setx_ret(b, buf_ro[i], "1"), -EPERM, "%s", buf_ro[i]);
		cr_assert_str_eq(getx(b, buf_ro[i], after, sizeof(after)), before);
	}
	cr_assert_str_eq(getx(ROOT, "user.umm.socket", after, sizeof(after)), "/run/umm/test.sock");
	getx(ROOT, "user.umm.heaps", after, sizeof(after));
	cr_assert_eq(strncmp(after, "memfd dmabuf=no ", 16), 0, "heaps: %s", after);
}

Test(store, bad_values_are_einval_and_keep_the_value)
{
	static const struct {
		const char *name, *good, *bad;
	} cases[] = {
		{ "user.umm.size", "8M", "8Q" },
		{ "user.umm.size", "8M", "" },
		{ "user.umm.align", "64K", "3K" },
		{ "user.umm.align", "64K", "64K " },
		{ "user.umm.contiguous", "0", "2" },
		{ "user.umm.cache", "cached", "fast" },
		{ "user.umm.heap", "memfd", "Bad Name" },
		{ "user.umm.devices", "/dev/null", "relative" },
		{ "user.umm.max_bytes", "1G", "-1" },
	};
	char buf[128];
	uint64_t d, b;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		setx(d, cases[i].name, cases[i].good);
		cr_assert_eq(setx_ret(d, cases[i].name, cases[i].bad), -EINVAL, "%s=%s",
			     cases[i].name, cases[i].bad);
		cr_assert_str_eq(getx(d, cases[i].name, buf, sizeof(buf)), cases[i].good, "%s",
				 cases[i].name);
	}
	cr_assert_eq(store_setxattr(S, &CTX, d, "user.umm.size", "4K\0", 3, 0), -EINVAL);
	cr_assert_str_eq(getx(d, "user.umm.size", buf, sizeof(buf)), "8M");
	/* buffers (memfd has no dma-buf and 4K alignment) */
	cr_assert_eq(store_removexattr(S, d, "user.umm.devices"), 0);
	cr_assert_eq(store_removexattr(S, d, "user.umm.align"), 0);
	b = create_closed(d, "b");
	cr_assert_eq(setx_ret(b, "user.umm.cache", "fast"), -EINVAL);
	cr_assert_eq(setx_ret(b, "user.umm.sync", "gpu"), -EINVAL);
	cr_assert_str_eq(getx(b, "user.umm.cache", buf, sizeof(buf)), "cached");
	cr_assert_str_eq(getx(b, "user.umm.sync", buf, sizeof(buf)), "cpu");
	setx(b, "user.umm.sync", "device");
	cr_assert_str_eq(getx(b, "user.umm.sync", buf, sizeof(buf)), "device");
	cr_assert_eq(setx_ret(b, "user.umm.cache", "writecombine"), -EOPNOTSUPP,
		     "memfd maps cached only");
	cr_assert_str_eq(getx(b, "user.umm.cache", buf, sizeof(buf)), "cached");
}

Test(store, other_user_xattrs_are_stored_byte_exact)
{
	static const char bin[] = { 'a', '\0', '\xff', '\n', '\0', 'z', '\0' };
	char buf[64];
	uint64_t d, b;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	b = create_closed(d, "b");
	uint64_t nodes[] = { ROOT, d, b };

	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
		cr_assert_eq(store_setxattr(S, &CTX, nodes[i], "user.fmt", bin, sizeof(bin), 0), 0);
		memset(buf, 0x55, sizeof(buf));
		cr_assert_eq(store_getxattr(S, nodes[i], "user.fmt", buf, sizeof(buf)),
			     (ssize_t)sizeof(bin));
		cr_assert_eq(memcmp(buf, bin, sizeof(bin)), 0);
		cr_assert_eq((unsigned char)buf[sizeof(bin)], 0x55, "wrote past the value");
		cr_assert_eq(store_setxattr(S, &CTX, nodes[i], "user.empty", "", 0, 0), 0);
		cr_assert_eq(store_getxattr(S, nodes[i], "user.empty", buf, sizeof(buf)), 0);
		cr_assert_eq(store_getxattr(S, nodes[i], "user.none", buf, sizeof(buf)), -ENODATA);
		cr_assert_eq(store_removexattr(S, nodes[i], "user.fmt"), 0);
		cr_assert_eq(store_getxattr(S, nodes[i], "user.fmt", buf, sizeof(buf)), -ENODATA);
		cr_assert_eq(store_removexattr(S, nodes[i], "user.fmt"), -ENODATA);
	}
	/* 64 KiB is the largest value */
	char *big = malloc(UMM_XATTR_VALUE_MAX + 1), *back = malloc(UMM_XATTR_VALUE_MAX);

	for (size_t i = 0; i <= UMM_XATTR_VALUE_MAX; i++)
		big[i] = (char)(i * 7);
	cr_assert_eq(store_setxattr(S, &CTX, b, "user.big", big, UMM_XATTR_VALUE_MAX, 0), 0);
	cr_assert_eq(store_getxattr(S, b, "user.big", back, UMM_XATTR_VALUE_MAX),
		     (ssize_t)UMM_XATTR_VALUE_MAX);
	cr_assert_eq(memcmp(big, back, UMM_XATTR_VALUE_MAX), 0);
	cr_assert_eq(store_setxattr(S, &CTX, b, "user.big2", big, UMM_XATTR_VALUE_MAX + 1, 0),
		     -E2BIG);
	free(big);
	free(back);
}

Test(store, xattr_create_and_replace_flags)
{
	char buf[32];
	uint64_t d;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	cr_assert_eq(store_setxattr(S, &CTX, d, "user.x", "1", 1, XATTR_REPLACE), -ENODATA);
	cr_assert_eq(getx_ret(d, "user.x"), -ENODATA);
	cr_assert_eq(store_setxattr(S, &CTX, d, "user.x", "1", 1, XATTR_CREATE), 0);
	cr_assert_eq(store_setxattr(S, &CTX, d, "user.x", "2", 1, XATTR_CREATE), -EEXIST);
	cr_assert_str_eq(getx(d, "user.x", buf, sizeof(buf)), "1");
	cr_assert_eq(store_setxattr(S, &CTX, d, "user.x", "22", 2, XATTR_REPLACE), 0);
	cr_assert_str_eq(getx(d, "user.x", buf, sizeof(buf)), "22");
	cr_assert_eq(store_setxattr(S, &CTX, d, "user.x", "333", 3, 0), 0);
	cr_assert_str_eq(getx(d, "user.x", buf, sizeof(buf)), "333");
	/* the same for constraints */
	cr_assert_eq(store_setxattr(S, &CTX, d, "user.umm.align", "8K", 2, XATTR_REPLACE),
		     -ENODATA);
	cr_assert_eq(getx_ret(d, "user.umm.align"), -ENODATA);
	cr_assert_eq(store_setxattr(S, &CTX, d, "user.umm.align", "8K", 2, XATTR_CREATE), 0);
	cr_assert_eq(store_setxattr(S, &CTX, d, "user.umm.align", "16K", 3, XATTR_CREATE), -EEXIST);
	cr_assert_str_eq(getx(d, "user.umm.align", buf, sizeof(buf)), "8K");
	cr_assert_eq(store_setxattr(S, &CTX, d, "user.umm.align", "16K", 3, XATTR_REPLACE), 0);
	cr_assert_str_eq(getx(d, "user.umm.align", buf, sizeof(buf)), "16K");
	/* removexattr drops the directory's own setting */
	cr_assert_eq(store_removexattr(S, d, "user.umm.align"), 0);
	cr_assert_eq(getx_ret(d, "user.umm.align"), -ENODATA);
	cr_assert_eq(store_removexattr(S, d, "user.umm.align"), -ENODATA);
}

Test(store, getxattr_size_0_gives_the_length_and_a_short_buffer_is_erange)
{
	char buf[128];
	const char *line =
		"size=none align=4K contiguous=0 cache=cached heap=auto devices= max_bytes=none";
	uint64_t d;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	setx(d, "user.pixfmt", "NV12");
	cr_assert_eq(store_getxattr(S, d, "user.pixfmt", NULL, 0), 4);
	cr_assert_eq(store_getxattr(S, d, "user.pixfmt", buf, 3), -ERANGE);
	cr_assert_eq(store_getxattr(S, d, "user.pixfmt", buf, 4), 4);
	cr_assert_eq(store_getxattr(S, d, "user.umm.effective", NULL, 0), (ssize_t)strlen(line));
	cr_assert_eq(store_getxattr(S, d, "user.umm.effective", buf, strlen(line) - 1), -ERANGE);
	cr_assert_eq(store_getxattr(S, d, "user.umm.effective", buf, strlen(line)),
		     (ssize_t)strlen(line));
	cr_assert_eq(memcmp(buf, line, strlen(line)), 0);
	cr_assert_eq(store_getxattr(S, d, "user.umm.used_bytes", NULL, 0), 1);
	cr_assert_eq(store_getxattr(S, d, "user.umm.used_bytes", buf, 0), 1);
	setx(d, "user.umm.size", "8M");
	cr_assert_eq(store_getxattr(S, d, "user.umm.size", NULL, 0), 2);
	cr_assert_eq(store_getxattr(S, d, "user.umm.size", buf, 1), -ERANGE);
}

Test(store, effective_with_a_long_device_list_is_returned_whole)
{
	/* static: a failed assertion leaves the test without leaking them */
	static char list[UMM_DEVICES_MAX * 256], expect[UMM_DEVICES_MAX * 256 + 256], buf[16384];
	size_t diff = 0;
	ssize_t len;
	uint64_t d;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	/* UMM_DEVICES_MAX paths of the largest length: a valid value */
	for (int i = 0; i < UMM_DEVICES_MAX; i++) {
		char path[UMM_DEVICE_PATH_MAX + 1];

		/* "/dev/NN" then 'x' up to 255 bytes */
		memset(path, 'x', UMM_DEVICE_PATH_MAX);
		path[UMM_DEVICE_PATH_MAX] = '\0';
		memcpy(path, "/dev/", 5);
		path[5] = (char)('0' + i / 10);
		path[6] = (char)('0' + i % 10);
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? " " : "",
			 path);
	}
	setx(d, "user.umm.devices", list);
	snprintf(expect, sizeof(expect),
		 "size=none align=4K contiguous=0 cache=cached heap=auto devices=%s max_bytes=none",
		 list);
	len = store_getxattr(S, d, "user.umm.devices", NULL, 0);
	cr_assert_eq(len, (ssize_t)strlen(list), "own devices: %zd", len);
	len = store_getxattr(S, d, "user.umm.effective", NULL, 0);
	cr_assert_eq(len, (ssize_t)strlen(expect), "effective length %zd, want %zu", len,
		     strlen(expect));
	len = store_getxattr(S, d, "user.umm.effective", buf, sizeof(buf));
	cr_assert_eq(len, (ssize_t)strlen(expect), "effective length %zd, want %zu", len,
		     strlen(expect));
	while (diff < strlen(expect) && buf[diff] == expect[diff])
		diff++;
	cr_assert_eq(diff, strlen(expect), "effective line (%zu bytes) differs from byte %zu on",
		     strlen(expect), diff);
}

/* The names in a listxattr reply, checked against @want (any order). */
static void list_is(uint64_t ino, const char *const *want, size_t nwant)
{
	char buf[4096];
	ssize_t len = store_listxattr(S, ino, buf, sizeof(buf));
	size_t n = 0, total = 0;

	cr_assert_gt(len, 0);
	cr_assert_eq(buf[len - 1], '\0', "list not NUL-terminated");
	for (const char *p = buf; p < buf + len; p += strlen(p) + 1) {
		bool found = false;

		for (size_t i = 0; i < nwant; i++)
			found |= !strcmp(p, want[i]);
		cr_assert(found, "unexpected name %s", p);
		n++;
	}
	cr_assert_eq(n, nwant, "%zu names, want %zu", n, nwant);
	for (size_t i = 0; i < nwant; i++)
		total += strlen(want[i]) + 1;
	cr_assert_eq((size_t)len, total);
	cr_assert_eq(store_listxattr(S, ino, NULL, 0), len, "size 0 gives the length");
	cr_assert_eq(store_listxattr(S, ino, buf, (size_t)len - 1), -ERANGE);
}

Test(store, listxattr_lists_own_constraints_effective_used_and_user_names)
{
	static const char *const plain[] = { "user.umm.effective", "user.umm.used_bytes" };
	static const char *const dir[] = { "user.umm.size", "user.umm.max_bytes",
					   "user.umm.effective", "user.umm.used_bytes",
					   "user.pixfmt" };
	static const char *const root[] = { "user.umm.effective", "user.umm.used_bytes",
					    "user.umm.heaps", "user.umm.socket", "user.umm.stats" };
	static const char *const buf[] = {
		"user.umm.cache",      "user.umm.sync",	   "user.umm.heap",
		"user.umm.contiguous", "user.umm.exports", "user.umm.dmabuf",
		"user.umm.memfd",      "user.a",	   "user.b"
	};
	uint64_t d, b;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	list_is(d, plain, ARRAY_SIZE(plain));
	list_is(ROOT, root, ARRAY_SIZE(root));
	setx(d, "user.umm.max_bytes", "1G");
	setx(d, "user.umm.size", "4K");
	setx(d, "user.pixfmt", "NV12");
	list_is(d, dir, ARRAY_SIZE(dir));
	b = create_closed(d, "b");
	setx(b, "user.a", "1");
	setx(b, "user.b", "");
	list_is(b, buf, ARRAY_SIZE(buf));
}

Test(store, size_from_takes_the_largest_sizeimage_until_size_is_set_directly)
{
	static const char *const dir[] = { "user.umm.size", "user.umm.size_from",
					   "user.umm.effective", "user.umm.used_bytes" };
	char buf[256];
	uint64_t d, sub, b;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	cr_assert_eq(getx_ret(d, "user.umm.size_from"), -ENODATA);
	setx(d, "user.umm.size_from", "/dev/video1  /dev/video0");
	cr_assert_str_eq(getx(d, "user.umm.size_from", buf, sizeof(buf)),
			 "/dev/video1 /dev/video0");
	cr_assert_str_eq(getx(d, "user.umm.size", buf, sizeof(buf)), "810K");
	list_is(d, dir, ARRAY_SIZE(dir));
	/* subdirectories inherit the size, not the attribute */
	sub = mkdir_(d, "sub");
	cr_assert_eq(getx_ret(sub, "user.umm.size_from"), -ENODATA);
	b = create_closed(sub, "frame");
	cr_assert_eq(size_of(b), 831488, "829440 rounded up to pages");
	/* a refused list keeps what was there, and the log says why */
	cr_assert_eq(setx_ret(d, "user.umm.size_from", "/dev/dri/card0"), -EOPNOTSUPP);
	cr_assert(strstr(g_log, "/dev/dri/card0 is a DRM device"), "log: %s", g_log);
	cr_assert_eq(setx_ret(d, "user.umm.size_from", "/dev/video0 /dev/nothing"), -EINVAL);
	cr_assert(strstr(g_log, "cannot open /dev/nothing"), "log: %s", g_log);
	cr_assert_eq(setx_ret(d, "user.umm.size_from", ""), -EINVAL);
	cr_assert_eq(setx_ret(d, "user.umm.size_from", "video0"), -EINVAL);
	cr_assert_str_eq(getx(d, "user.umm.size_from", buf, sizeof(buf)),
			 "/dev/video1 /dev/video0");
	cr_assert_str_eq(getx(d, "user.umm.size", buf, sizeof(buf)), "810K");
	cr_assert_eq(store_setxattr(S, &CTX, d, "user.umm.size_from", "/dev/video0", 11,
				    XATTR_CREATE),
		     -EEXIST);
	/* one node: its own size */
	setx(d, "user.umm.size_from", "/dev/video0");
	cr_assert_str_eq(getx(d, "user.umm.size", buf, sizeof(buf)), "450K");
	/* a size set directly is no longer the device's */
	setx(d, "user.umm.size", "1M");
	cr_assert_eq(getx_ret(d, "user.umm.size_from"), -ENODATA);
	cr_assert_eq(store_setxattr(S, &CTX, d, "user.umm.size_from", "/dev/video0", 11,
				    XATTR_REPLACE),
		     -ENODATA);
	/* removing size_from removes the size it set */
	setx(d, "user.umm.size_from", "/dev/video0");
	cr_assert_eq(store_removexattr(S, d, "user.umm.size_from"), 0);
	cr_assert_eq(getx_ret(d, "user.umm.size"), -ENODATA);
	cr_assert_eq(getx_ret(d, "user.umm.size_from"), -ENODATA);
	cr_assert_eq(store_removexattr(S, d, "user.umm.size_from"), -ENODATA);
	/* and removing the size removes size_from */
	setx(d, "user.umm.size_from", "/dev/video0");
	cr_assert_eq(store_removexattr(S, d, "user.umm.size"), 0);
	cr_assert_eq(getx_ret(d, "user.umm.size_from"), -ENODATA);
	/* buffers only */
	cr_assert_eq(setx_ret(b, "user.umm.size_from", "/dev/video0"), -EINVAL);
}

/* lookup and getattr say, under their own lock, whether the kernel may keep the attributes */
Test(store, getattr_and_lookup_tell_whether_the_attributes_may_be_kept)
{
	static char page[8192];
	struct stat st;
	bool settled = false;
	uint64_t d, b, fh;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	b = create_(d, "b", O_RDWR, &fh);
	cr_assert_eq(store_getattr(S, b, &st, &settled), 0);
	cr_assert(settled, "an empty buffer");
	/* a hole below the end: a mapping may fill it, unseen: st_blocks may grow */
	cr_assert_eq(store_write(S, &CTX, b, fh, "x", 1, 8192), 1);
	cr_assert_eq(store_getattr(S, b, &st, &settled), 0);
	cr_assert(!settled, "a growable buffer with a hole");
	cr_assert_eq(settled, store_attr_settled(S, b));
	cr_assert_eq(store_lookup(S, d, "b", &st, &settled), 0);
	cr_assert(!settled, "lookup of a growable buffer with a hole");
	store_forget(S, &CTX, b, 1);
	/* filled: no hole left */
	cr_assert_eq(store_write(S, &CTX, b, fh, page, sizeof(page), 0), (ssize_t)sizeof(page));
	cr_assert_eq(store_getattr(S, b, &st, &settled), 0);
	cr_assert(settled, "a buffer without holes");
	cr_assert_eq(settled, store_attr_settled(S, b));
	cr_assert_eq(store_getattr(S, d, &st, &settled), 0);
	cr_assert(settled, "a directory");
	store_release(S, &CTX, b, fh);
}

/* ---- sealed buffers ---- */

Test(store, sealed_write_past_the_end_is_eperm)
{
	char back[8];
	uint64_t d, b, fh;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	setx(d, "user.umm.size", "8K");
	b = create_(d, "b", O_RDWR, &fh);
	cr_assert_eq(store_write(S, &CTX, b, fh, "abcd", 4, 8190), -EPERM);
	cr_assert_eq(store_write(S, &CTX, b, fh, "abcd", 4, 8192), -EPERM);
	cr_assert_eq(store_write(S, &CTX, b, fh, "abcd", 4, 8188), 4, "within the size");
	cr_assert_eq(size_of(b), 8192);
	cr_assert_eq(store_read(S, b, fh, back, 8, 8188), 4, "short read at the end");
	cr_assert_eq(memcmp(back, "abcd", 4), 0);
	cr_assert_eq(store_fallocate(S, &CTX, b, fh, FALLOC_FL_KEEP_SIZE, 0, 4096), 0);
	cr_assert_eq(used_of(d), 8192);
	store_release(S, &CTX, b, fh);
}

Test(store, sealed_resize_while_another_handle_is_open_is_ebusy)
{
	uint64_t d, b, fh, fh2;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	setx(d, "user.umm.size", "8K");
	b = create_(d, "b", O_RDWR, &fh);
	fh2 = open_(b, O_RDONLY);
	cr_assert_eq(resize_(b, 16384, fh), -EBUSY, "through its own handle, another open");
	cr_assert_eq(resize_(b, 16384, 0), -EBUSY, "by path, two opens");
	cr_assert_eq(size_of(b), 8192);
	cr_assert_eq(used_of(d), 8192);
	store_release(S, &CTX, b, fh2);
	cr_assert_eq(resize_(b, 16384, 0), -EBUSY, "by path while one is open");
	/* the caller's own daemon-served handle alone is fine (truncate(1) style) */
	cr_assert_eq(resize_(b, 16384, fh), 0);
	cr_assert_eq(size_of(b), 16384);
	cr_assert_eq(used_of(d), 16384);
	store_release(S, &CTX, b, fh);
}

Test(store, sealed_resize_by_path_with_nothing_open_keeps_the_data)
{
	char back[16];
	uint64_t d, b, fh;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	setx(d, "user.umm.size", "64K");
	b = create_(d, "b", O_RDWR, &fh);
	cr_assert_eq(store_write(S, &CTX, b, fh, "hello world", 11, 0), 11);
	cr_assert_eq(store_write(S, &CTX, b, fh, "tail", 4, 65532), 4);
	store_release(S, &CTX, b, fh);

	cr_assert_eq(resize_(b, 2 * MiB, 0), 0);
	cr_assert_eq(size_of(b), (off_t)(2 * MiB));
	cr_assert_eq(used_of(d), 2 * MiB);
	cr_assert_eq(stats_().used, 2 * MiB, "the old memory is uncharged");
	fh = open_(b, O_RDWR);
	cr_assert_eq(store_read(S, b, fh, back, 11, 0), 11);
	cr_assert_eq(memcmp(back, "hello world", 11), 0);
	cr_assert_eq(store_read(S, b, fh, back, 4, 65532), 4);
	cr_assert_eq(memcmp(back, "tail", 4), 0);
	cr_assert_eq(store_read(S, b, fh, back, 4, 65536), 4);
	cr_assert_eq(memcmp(back, "\0\0\0\0", 4), 0, "the new part reads zeros");
	cr_assert_eq(store_write(S, &CTX, b, fh, "x", 1, (off_t)(2 * MiB)), -EPERM, "still sized");
	store_release(S, &CTX, b, fh);

	cr_assert_eq(resize_(b, 5, 0), 0);
	cr_assert_eq(size_of(b), 5);
	cr_assert_eq(used_of(d), 4096);
	fh = open_(b, O_RDONLY);
	cr_assert_eq(store_read(S, b, fh, back, 16, 0), 5);
	cr_assert_eq(memcmp(back, "hello", 5), 0);
	store_release(S, &CTX, b, fh);
	cr_assert_eq(stats_().used, 4096);
}

Test(store, sealed_resize_that_would_exceed_the_budget_is_enospc_and_keeps_the_buffer)
{
	char back[4];
	uint64_t d, b, fh;

	store_up(MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	setx(d, "user.umm.size", "512K");
	b = create_(d, "b", O_RDWR, &fh);
	cr_assert_eq(store_write(S, &CTX, b, fh, "keep", 4, 0), 4);
	store_release(S, &CTX, b, fh);
	cr_assert_eq(resize_(b, 2 * MiB, 0), -ENOSPC);
	cr_assert_eq(size_of(b), 512 * 1024);
	cr_assert_eq(used_of(d), 512 * KiB);
	fh = open_(b, O_RDONLY);
	cr_assert_eq(store_read(S, b, fh, back, 4, 0), 4);
	cr_assert_eq(memcmp(back, "keep", 4), 0);
	store_release(S, &CTX, b, fh);
}

Test(store, a_reader_never_fixes_the_size_of_a_buffer)
{
	char back[8];
	uint64_t d, b, fh, rfh;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	b = create_(d, "b", O_WRONLY, &fh);
	cr_assert_eq(store_write(S, &CTX, b, fh, "abc", 3, 0), 3);
	store_release(S, &CTX, b, fh);
	rfh = open_(b, O_RDONLY);
	cr_assert_eq(store_read(S, b, rfh, back, 8, 0), 3);
	fh = open_(b, O_WRONLY);
	cr_assert_eq(store_write(S, &CTX, b, fh, "d", 1, 3), 1, "a reader holds it: it grows");
	cr_assert_eq(size_of(b), 4);
	cr_assert_eq(store_read(S, b, rfh, back, 8, 0), 4, "the reader sees the growth");
	cr_assert_eq(memcmp(back, "abcd", 4), 0);
	cr_assert_eq(resize_(b, 2, fh), 0, "and shrinks");
	cr_assert_eq(store_read(S, b, rfh, back, 8, 0), 2);
	store_release(S, &CTX, b, rfh);
	store_release(S, &CTX, b, fh);
}

Test(store, read_write_open_of_a_buffer_filled_by_writes_keeps_it_filling)
{
	char back[8];
	uint64_t d, b, fh;

	/* dd seek= opens O_RDWR to write past the end of what an earlier writer left */
	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	b = create_(d, "b", O_WRONLY, &fh);
	cr_assert_eq(store_write(S, &CTX, b, fh, "abc", 3, 0), 3);
	store_release(S, &CTX, b, fh);
	fh = open_(b, O_RDWR);
	cr_assert_eq(store_write(S, &CTX, b, fh, "def", 3, 3), 3);
	cr_assert_eq(store_read(S, b, fh, back, 8, 0), 6);
	cr_assert_eq(memcmp(back, "abcdef", 6), 0);
	store_release(S, &CTX, b, fh);
}

Test(store, a_truncated_buffer_still_grows_by_writes)
{
	uint64_t d, b, fh;

	/* truncate -s 8K, then append: as on tmpfs */
	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	b = create_(d, "b", O_WRONLY, &fh);
	store_release(S, &CTX, b, fh);
	cr_assert_eq(resize_(b, 8192, 0), 0, "truncate -s 8K");
	fh = open_(b, O_RDWR);
	cr_assert_eq(store_write(S, &CTX, b, fh, "x", 1, 8192), 1);
	cr_assert_eq(size_of(b), 8193);
	store_release(S, &CTX, b, fh);
	fh = open_(b, O_WRONLY);
	cr_assert_eq(store_write(S, &CTX, b, fh, "x", 1, 10000), 1);
	cr_assert_eq(size_of(b), 10001);
	store_release(S, &CTX, b, fh);
}

/* ---- export ---- */

Test(store, export_fixes_the_size_while_writers_go_on_inside_it)
{
	uint32_t kind = 0;
	uint64_t size = 0, d, b, fh;
	char back[4];
	int fd;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	b = create_(d, "b", O_RDWR, &fh);
	cr_assert_eq(store_write(S, &CTX, b, fh, "data", 4, 0), 4);
	fd = store_export(S, b, O_RDONLY, &kind, &size);
	cr_assert_geq(fd, 0, "export with a writer open: %d", fd);
	cr_assert_eq(kind, 1, "memfd");
	cr_assert_eq(size, 4);
	cr_assert_eq(store_write(S, &CTX, b, fh, "D", 1, 0), 1, "a write inside still works");
	cr_assert_eq(pread(fd, back, 4, 0), 4);
	cr_assert_eq(memcmp(back, "Data", 4), 0, "and the export sees it");
	cr_assert_eq(store_write(S, &CTX, b, fh, "!", 1, 4), -EPERM, "no growth once exported");
	cr_assert_eq(resize_(b, 2, fh), -EBUSY, "no shrink once exported");
	cr_assert_eq(resize_(b, 8192, 0), -EBUSY, "nor growth by truncate");
	cr_assert_eq(size_of(b), 4);
	store_release(S, &CTX, b, fh);
	cr_assert_eq(resize_(b, 8192, 0), -EBUSY, "fixed for life, holders or not");
	close(fd);
}

Test(store, export_of_an_empty_buffer_is_einval)
{
	uint32_t kind = 0;
	uint64_t size = 0, d, b;
	char buf[8];

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	b = create_closed(d, "b");
	cr_assert_eq(store_export(S, b, O_RDWR, &kind, &size), -EINVAL);
	cr_assert_str_eq(getx(b, "user.umm.exports", buf, sizeof(buf)), "0");
	cr_assert_eq(store_export(S, d, O_RDWR, &kind, &size), -EISDIR);
}

Test(store, export_gives_an_fd_of_the_requested_access_and_pins_the_size)
{
	uint32_t kind = 0;
	uint64_t size = 0, d, b, fh;
	char buf[16];
	int ro, rw;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	setx(d, "user.umm.size", "8K");
	b = create_(d, "b", O_RDWR, &fh);
	cr_assert_eq(store_write(S, &CTX, b, fh, "shared", 6, 0), 6);
	store_release(S, &CTX, b, fh);

	ro = store_export(S, b, O_RDONLY, &kind, &size);
	cr_assert_geq(ro, 0, "export: %d", ro);
	cr_assert_eq(kind, 1);
	cr_assert_eq(size, 8192);
	cr_assert_eq(fcntl(ro, F_GETFL) & O_ACCMODE, O_RDONLY);
	cr_assert(fcntl(ro, F_GETFD) & FD_CLOEXEC);
	errno = 0;
	cr_assert_eq(write(ro, "x", 1), -1);
	cr_assert_eq(errno, EBADF, "write on a read-only export: %s", strerror(errno));
	cr_assert_eq(pread(ro, buf, 6, 0), 6);
	cr_assert_eq(memcmp(buf, "shared", 6), 0);
	cr_assert_str_eq(getx(b, "user.umm.exports", buf, sizeof(buf)), "1");
	close(ro);

	/* exported once: no resize any more, by path or otherwise; the memfd
	 * cannot tell when the client closes it */
	cr_assert_eq(resize_(b, 16384, 0), -EBUSY);
	cr_assert_eq(resize_(b, 0, 0), -EBUSY);
	cr_assert_eq(size_of(b), 8192);
	cr_assert_str_eq(getx(b, "user.umm.exports", buf, sizeof(buf)), "1");
	cr_assert_eq(setx_ret(b, "user.umm.cache", "uncached"), -EPERM,
		     "cache fixed once exported");

	rw = store_export(S, b, O_RDWR, &kind, &size);
	cr_assert_geq(rw, 0);
	cr_assert_eq(fcntl(rw, F_GETFL) & O_ACCMODE, O_RDWR);
	cr_assert_eq(pwrite(rw, "SHARED", 6, 0), 6);
	errno = 0;
	cr_assert_eq(pwrite(rw, "x", 1, 8192), -1, "the export cannot grow the buffer");
	cr_assert_eq(errno, EPERM, "%s", strerror(errno));
	fh = open_(b, O_RDONLY);
	cr_assert_eq(store_read(S, b, fh, buf, 6, 0), 6);
	cr_assert_eq(memcmp(buf, "SHARED", 6), 0, "the export writes the buffer's own pages");
	store_release(S, &CTX, b, fh);
	cr_assert_str_eq(getx(b, "user.umm.exports", buf, sizeof(buf)), "2");
	close(rw);
}

/* ---- readdir ---- */

struct names {
	char name[32][32];
	off_t next[32];
	int n, cap;
};

static int collect(void *arg, const char *name, const struct stat *st, bool settled, off_t next)
{
	struct names *c = arg;

	(void)st;
	if (c->n >= c->cap)
		return 1;
	snprintf(c->name[c->n], sizeof(c->name[0]), "%s", name);
	c->next[c->n] = next;
	c->n++;
	return 0;
}

static void readdir_(uint64_t ino, off_t off, int cap, struct names *out)
{
	memset(out, 0, sizeof(*out));
	out->cap = cap;
	cr_assert_eq(store_readdir(S, ino, off, false, collect, out), 0);
}

static void names_are(const struct names *got, const char *const *want, int n)
{
	cr_assert_eq(got->n, n, "%d entries, want %d", got->n, n);
	for (int i = 0; i < n; i++)
		cr_assert_str_eq(got->name[i], want[i], "entry %d", i);
}

Test(store, readdir_offsets_stay_valid_when_entries_are_removed_between_calls)
{
	static const char *const first[] = { ".", "..", "a", "b" };
	static const char *const rest[] = { "d", "e", "f" };
	static const char *const all[] = { ".", "..", "a", "d", "e", "f" };
	struct names got;
	uint64_t d;
	off_t off;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	create_closed(d, "a");
	create_closed(d, "b");
	create_closed(d, "c");
	create_closed(d, "e-will-go");
	mkdir_(d, "d");
	create_closed(d, "e");
	readdir_(d, 0, 4, &got);
	names_are(&got, first, 4);
	off = got.next[3];
	/* remove the entry just returned, one not yet returned, add one */
	cr_assert_eq(store_unlink(S, &CTX, d, "b"), 0);
	cr_assert_eq(store_unlink(S, &CTX, d, "c"), 0);
	cr_assert_eq(store_unlink(S, &CTX, d, "e-will-go"), 0);
	create_closed(d, "f");
	readdir_(d, off, 32, &got);
	names_are(&got, rest, 3);
	/* offsets are strictly increasing, and each resumes right after its entry */
	readdir_(d, 0, 32, &got);
	names_are(&got, all, 6);
	for (int i = 1; i < got.n; i++)
		cr_assert_gt(got.next[i], got.next[i - 1]);
	for (int i = 0; i < got.n; i++) {
		struct names tail;

		readdir_(d, got.next[i], 32, &tail);
		cr_assert_eq(tail.n, got.n - i - 1, "resume after %s", got.name[i]);
		if (tail.n)
			cr_assert_str_eq(tail.name[0], got.name[i + 1]);
	}
	cr_assert_eq(store_readdir(S, d + 1000, 0, false, collect, &got), -ENOENT);
}

/* ---- memory returns ---- */

Test(store, freeing_everything_returns_buffers_bytes_and_fds_to_baseline)
{
	struct store_stats st;
	struct statvfs sv;
	uint32_t kind;
	uint64_t size, d, s, sub, b1, b2, b3, b4, fh1, fh2, fh3, fh4, rfh;
	int base, fd;
	char page[4096] = { 1 };

	store_up(64 * MiB, 0, 0);
	base = count_fds();

	d = mkdir_(ROOT, "d");
	s = mkdir_(ROOT, "s");
	sub = mkdir_(s, "sub");
	setx(s, "user.umm.size", "1M");
	setx(d, "user.note", "x");
	b1 = create_(s, "b1", O_RDWR, &fh1); /* sized */
	b2 = create_(d, "b2", O_WRONLY, &fh2); /* staged, grown by writes */
	cr_assert_eq(store_write(S, &CTX, b2, fh2, page, sizeof(page), 8192), 4096);
	store_release(S, &CTX, b2, fh2);
	rfh = open_(b2, O_RDONLY); /* seals it */
	store_release(S, &CTX, b2, rfh);
	cr_assert_eq(resize_(b2, 65536, 0), 0); /* reallocated */
	b3 = create_(sub, "b3", O_RDWR, &fh3);
	store_release(S, &CTX, b3, fh3);
	fd = store_export(S, b3, O_RDWR, &kind, &size);
	cr_assert_geq(fd, 0);
	close(fd);
	b4 = create_(d, "b4", O_RDWR, &fh4); /* staged, empty */
	cr_assert_eq(store_rename(S, &CTX, s, "b1", d, "b1", 0), 0);
	cr_assert_gt(count_fds(), base);
	cr_assert_eq(stats_().buffers, 4);

	/* unlink while open, then everything else */
	cr_assert_eq(store_unlink(S, &CTX, d, "b1"), 0);
	cr_assert_eq(store_unlink(S, &CTX, d, "b2"), 0);
	cr_assert_eq(store_unlink(S, &CTX, sub, "b3"), 0);
	cr_assert_eq(store_unlink(S, &CTX, d, "b4"), 0);
	store_release(S, &CTX, b1, fh1);
	store_release(S, &CTX, b4, fh4);
	store_forget(S, &CTX, b1, 1);
	store_forget(S, &CTX, b2, 1);
	store_forget(S, &CTX, b3, 1);
	store_forget(S, &CTX, b4, 1);
	cr_assert_eq(store_rmdir(S, s, "sub"), 0);
	cr_assert_eq(store_rmdir(S, ROOT, "s"), 0);
	cr_assert_eq(store_rmdir(S, ROOT, "d"), 0);
	store_forget(S, &CTX, sub, 1);
	store_forget(S, &CTX, s, 1);
	store_forget(S, &CTX, d, 1);

	store_stats(S, &st);
	cr_assert_eq(st.buffers, 0);
	cr_assert_eq(st.used, 0);
	cr_assert_eq(st.dirs, 1, "only the root");
	cr_assert_eq(used_of(ROOT), 0);
	store_statfs(S, &sv);
	cr_assert_eq(sv.f_bfree, sv.f_blocks);
	cr_assert_eq(count_fds(), base, "daemon fds back to baseline");
}

/* ---- names, tables, directories, statfs ---- */

Test(store, bad_names_are_refused)
{
	char longname[UMM_NAME_MAX + 2];
	struct stat st;
	uint64_t d;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_assert_eq(create_as(&CTX, d, ".", O_RDWR, NULL, NULL), -EINVAL);
	cr_assert_eq(create_as(&CTX, d, "..", O_RDWR, NULL, NULL), -EINVAL);
	cr_assert_eq(create_as(&CTX, d, "", O_RDWR, NULL, NULL), -EINVAL);
	cr_assert_eq(create_as(&CTX, d, longname, O_RDWR, NULL, NULL), -ENAMETOOLONG);
	cr_assert_eq(store_mkdir(S, &CTX, d, longname, 0755, &st), -ENAMETOOLONG);
	cr_assert_eq(store_lookup(S, d, longname, &st, NULL), -ENAMETOOLONG);
	longname[UMM_NAME_MAX] = '\0';
	create_closed(d, longname);
	cr_assert_eq(store_rename(S, &CTX, d, longname, d, "..", 0), -EINVAL);
	cr_assert_eq(stats_().buffers, 1);
}

Test(store, a_removed_dir_takes_no_new_entries)
{
	struct stat st;
	uint64_t d;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	cr_assert_eq(store_rmdir(S, ROOT, "d"), 0);
	/* the kernel may still hold a lookup of it */
	cr_assert_eq(create_as(&CTX, d, "b", O_RDWR, NULL, NULL), -ENOENT);
	cr_assert_eq(store_mkdir(S, &CTX, d, "x", 0755, &st), -ENOENT);
	cr_assert_eq(stats_().buffers, 0);
	store_forget(S, &CTX, d, 1);
	cr_assert_eq(stats_().dirs, 1);
	cr_assert_eq(store_getattr(S, d, &st, NULL), -ENOENT);
}

Test(store, lookups_survive_the_tables_growing)
{
	enum { N = 2500 };
	static uint64_t ino[N];
	char name[32];
	struct stat st;

	store_up(64 * MiB, 0, 0);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "dir%d", i);
		ino[i] = mkdir_(ROOT, name);
	}
	cr_assert_eq(stats_().dirs, N + 1);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "dir%d", i);
		cr_assert_eq(lookup_(ROOT, name, &st), 0, "%s", name);
		cr_assert_eq(st.st_ino, ino[i]);
		cr_assert_eq(store_getattr(S, ino[i], &st, NULL), 0);
	}
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "dir%d", i);
		cr_assert_eq(store_rmdir(S, ROOT, name), 0);
		store_forget(S, &CTX, ino[i], 1);
	}
	cr_assert_eq(stats_().dirs, 1);
}

Test(store, setgid_dir_hands_its_group_down)
{
	struct store_setattr sa = { .valid = UMM_SET_MODE | UMM_SET_GID, .mode = 02775, .gid = 50 };
	struct stat st;
	uint64_t d, b;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	cr_assert_eq(store_setattr(S, &CTX, d, &sa, &st), 0);
	cr_assert_eq(st.st_mode, S_IFDIR | 02775);
	cr_assert_eq(store_mkdir(S, &CTX, d, "sub", 0755, &st), 0);
	cr_assert_eq(st.st_gid, 50);
	cr_assert(st.st_mode & S_ISGID);
	b = create_closed(d, "b");
	cr_assert_eq(store_getattr(S, b, &st, NULL), 0);
	cr_assert_eq(st.st_gid, 50);
	cr_assert_eq(st.st_uid, 1000);
}

Test(store, open_with_o_trunc_empties_a_sized_buffer_nobody_else_holds)
{
	uint64_t d, b, fh, fh2;
	char back[4];

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	setx(d, "user.umm.size", "64K");
	b = create_closed(d, "b");
	fh2 = open_(b, O_RDONLY);
	struct store_open_out oo;

	cr_assert_eq(store_open(S, &CTX, b, O_WRONLY | O_TRUNC, &oo), -EBUSY, "another open");
	cr_assert_eq(size_of(b), 65536);
	store_release(S, &CTX, b, fh2);
	fh = open_(b, O_WRONLY | O_TRUNC);
	cr_assert_eq(size_of(b), 0);
	cr_assert_eq(used_of(d), 0);
	/* filling again: writes grow it */
	cr_assert_eq(store_write(S, &CTX, b, fh, "abc", 3, 0), 3);
	cr_assert_eq(size_of(b), 3);
	cr_assert_eq(used_of(d), 4096);
	store_release(S, &CTX, b, fh);
	fh = open_(b, O_RDONLY);
	cr_assert_eq(store_read(S, b, fh, back, 4, 0), 3);
	cr_assert_eq(memcmp(back, "abc", 3), 0);
	store_release(S, &CTX, b, fh);
}

Test(store, statfs_reports_the_budget_in_pages)
{
	struct statvfs sv;
	uint64_t d;

	store_up(8 * MiB, 0, 10);
	d = mkdir_(ROOT, "d");
	setx(d, "user.umm.size", "5000");
	create_closed(d, "b");
	store_statfs(S, &sv);
	cr_assert_eq(sv.f_bsize, 4096);
	cr_assert_eq(sv.f_frsize, 4096);
	cr_assert_eq(sv.f_blocks, 2048);
	cr_assert_eq(sv.f_bfree, 2046, "5000 bytes are charged two pages");
	cr_assert_eq(sv.f_bavail, sv.f_bfree);
	cr_assert_eq(sv.f_namemax, 255);
	cr_assert_eq(sv.f_files - sv.f_ffree, 3, "root, d and b");
	cr_assert_eq(used_of(d), 8192);
}

Test(store, directories_nest_at_most_umm_depth_max_levels_then_emlink)
{
	struct stat st;
	uint64_t d = ROOT;
	char name[16];

	store_up(64 * MiB, 0, 0);
	setx(ROOT, "user.umm.size", "4K");
	for (int i = 0; i < UMM_DEPTH_MAX; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		d = mkdir_(d, name);
	}
	cr_assert_eq(store_mkdir(S, &CTX, d, "deeper", 0755, &st), -EMLINK);
	/* a buffer at the deepest level is fine, and a check walks the whole depth */
	create_closed(d, "b");
	setx(ROOT, "user.umm.max_bytes", "1M");
	cr_assert_eq(used_of(ROOT), 4096);
}

Test(store, rename_that_would_nest_too_deep_is_emlink)
{
	uint64_t deep = ROOT, top, sub;
	char name[16];

	store_up(64 * MiB, 0, 0);
	for (int i = 0; i < UMM_DEPTH_MAX - 1; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		deep = mkdir_(deep, name);
	}
	top = mkdir_(ROOT, "top");
	sub = mkdir_(top, "sub");
	(void)sub;
	/* top/sub under a dir at depth 255 would put sub at 257 */
	cr_assert_eq(store_rename(S, &CTX, ROOT, "top", deep, "top", 0), -EMLINK);
	/* a leaf directory fits exactly */
	cr_assert_eq(store_rename(S, &CTX, top, "sub", deep, "sub", 0), 0);
}

Test(store, names_are_bounded_by_the_size_budget_like_tmpfs_nr_inodes)
{
	struct stat st;
	uint64_t d0 = 0;
	char name[16];
	int ret = 0, i;

	/* 64 KiB of budget: 16 pages, so the root and 16 more nodes */
	store_up(64 * KiB, 0, 0);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		ret = store_mkdir(S, &CTX, ROOT, name, 0755, &st);
		if (ret)
			break;
		if (!i)
			d0 = st.st_ino;
	}
	cr_assert_eq(ret, -ENOSPC);
	cr_assert_eq(i, 16, "made %d directories", i);
	cr_assert_eq(store_rmdir(S, ROOT, "d0"), 0);
	/* the node goes with the kernel's last lookup */
	cr_assert_eq(store_mkdir(S, &CTX, ROOT, "again", 0755, &st), -ENOSPC);
	store_forget(S, &CTX, d0, 1);
	cr_assert_eq(store_mkdir(S, &CTX, ROOT, "again", 0755, &st), 0);
}

Test(store, stats_count_daemon_served_bytes_and_memfd_names_the_memory)
{
	char buf[256], want[64];
	uint64_t d, b, fh;
	uint32_t kind;
	uint64_t size;
	struct stat st;
	int fd;

	store_up(64 * MiB, 0, 0);
	d = mkdir_(ROOT, "d");
	b = create_(d, "b", O_WRONLY, &fh);
	cr_assert_eq(store_write(S, &CTX, b, fh, "hello", 5, 0), 5);
	store_release(S, &CTX, b, fh);
	fh = open_(b, O_RDONLY);
	cr_assert_eq(store_read(S, b, fh, buf, sizeof(buf), 0), 5);
	store_release(S, &CTX, b, fh);
	fd = store_export(S, b, O_RDONLY, &kind, &size);
	cr_assert_geq(fd, 0);
	cr_assert_str_eq(getx(ROOT, "user.umm.stats", buf, sizeof(buf)),
			 "buffers=1 dirs=2 used=4096 reads=1 read_bytes=5 writes=1 write_bytes=5 "
			 "exports=1 passthrough=no transport=dev_fuse");
	/* the transport the daemon saw the last stats request come by */
	store_set_transport(S, "io_uring");
	cr_assert(strstr(getx(ROOT, "user.umm.stats", buf, sizeof(buf)), " transport=io_uring"),
		  "stats: %s", buf);
	/* the exported fd is the buffer's memfd: same device and inode */
	cr_assert_eq(fstat(fd, &st), 0);
	snprintf(want, sizeof(want), "%02x:%02x %llu", major(st.st_dev), minor(st.st_dev),
		 (unsigned long long)st.st_ino);
	cr_assert_str_eq(getx(b, "user.umm.memfd", buf, sizeof(buf)), want);
	close(fd);
}
