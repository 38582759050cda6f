// SPDX-License-Identifier: MIT
/*
 * ls_holders.c - step 2 of umm-ls (-p): who holds each buffer listed. One
 * pass over /proc: each process's fds are stat()ed and its maps read once,
 * and looked up among the identities of all buffers (the file on the mount,
 * its memfd, its dma-buf). The daemon itself, known by its fd of /dev/fuse,
 * is listed only for the fds of the mount it holds.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "ls_i.h"

/* /dev/fuse: a process that holds it is a FUSE daemon (see scan_process()). */
#define FUSE_DEV_MAJOR 10
#define FUSE_DEV_MINOR 229

enum key_kind { KEY_FUSE, KEY_MEMFD, KEY_DMABUF };

/*
 * One identity of a buffer: the (st_dev, st_ino) of its file on the mount,
 * of its memfd (user.umm.memfd), or of its dma-buf (user.umm.dmabuf, an inode
 * number only: dev is 0 there, a device number no file system has).
 */
struct key {
	dev_t dev;
	ino_t ino;
	enum key_kind kind;
	struct entry *e;
};

static struct key *keys;
static size_t nkeys;

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

/**
 * key_find() - the identities of the buffers listed that are (dev, ino)
 * @dev: a device number, or 0 for the inode of a dma-buf
 * @ino: an inode number
 * @first: set to the first match, if there is one
 *
 * A buffer listed twice (two operands naming it) has two sets of keys, so
 * there can be more than one match.
 *
 * Return: the number of matches, which follow each other from *@first.
 */
static size_t key_find(dev_t dev, ino_t ino, const struct key **first)
{
	struct key want = { .dev = dev, .ino = ino };
	const struct key *k = bsearch(&want, keys, nkeys, sizeof(*keys), key_cmp);
	size_t n = 0;

	if (!k)
		return 0;
	while (k > keys && !key_cmp(k - 1, &want))
		k--;
	while (k + n < keys + nkeys && !key_cmp(k + n, &want))
		n++;
	*first = k;
	return n;
}

/* user.umm.memfd is "MAJOR:MINOR INODE", major and minor in hex as in /proc/PID/maps. */
static bool parse_memfd(const char *s, dev_t *dev, ino_t *ino)
{
	unsigned int maj, min;
	unsigned long long i;
	int end = -1;

	if (!s || sscanf(s, "%x:%x %llu%n", &maj, &min, &i, &end) != 3 || end < 0 || s[end])
		return false;
	*dev = makedev(maj, min);
	*ino = (ino_t)i;
	return true;
}

/**
 * build_keys() - the sorted table of the identities of every buffer listed
 *
 * Each buffer is known by the (st_dev, st_ino) of its file on the mount, by
 * user.umm.memfd where it has a memfd, and by user.umm.dmabuf where it has
 * a dma-buf.
 */
static void build_keys(void)
{
	size_t li, i;
	uint64_t ino;

	for (li = 0; li < ls_nlistings; li++) {
		for (i = 0; i < ls_listings[li].n; i++) {
			struct entry *e = &ls_listings[li].ents[i];
			struct key *k;
			dev_t mdev;
			ino_t mino;

			if (e->type != ENT_BUFFER)
				continue;
			k = GROW(keys, nkeys);
			*k = (struct key){ e->st.st_dev, e->st.st_ino, KEY_FUSE, e };
			if (parse_memfd(e->bx[XB_MEMFD], &mdev, &mino)) {
				k = GROW(keys, nkeys);
				*k = (struct key){ mdev, mino, KEY_MEMFD, e };
			}
			if (ls_parse_u64(e->bx[XB_DMABUF], &ino)) {
				k = GROW(keys, nkeys);
				*k = (struct key){ 0, (ino_t)ino, KEY_DMABUF, e };
			}
		}
	}
	ls_sort(keys, nkeys, sizeof(*keys), key_cmp);
}

/* What one process holds, found before we know whether it is the daemon. */
struct found {
	struct entry *e;
	enum hold_kind kind;
	int fd;
};

static void found_add(struct found **f, size_t *n, struct entry *e, enum hold_kind kind, int fd)
{
	size_t i;

	/* One "map" a buffer and process, however many areas map it. */
	for (i = 0; kind == HOLD_MAP && i < *n; i++) {
		if ((*f)[i].e == e && (*f)[i].kind == HOLD_MAP)
			return;
	}
	*GROW(*f, *n) = (struct found){ e, kind, fd };
}

/* Read a small /proc file (comm) into buf, without its newline. */
static bool read_small(int dfd, const char *name, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return true;
}

/**
 * fd_is_dmabuf() - is an fd of a process a dma-buf with that inode number?
 * @pfd: the process's directory in /proc
 * @fdnum: the fd
 * @ino: user.umm.dmabuf of a buffer
 *
 * /proc/PID/fdinfo/FD says so: every dma-buf shows an "exp_name:" line, and
 * its "ino:" line is the number user.umm.dmabuf gives.
 *
 * Return: true if it is; false if not, or if the fd is gone.
 */
static bool fd_is_dmabuf(int pfd, int fdnum, ino_t ino)
{
	bool exporter = false, same = true;
	char path[64], *line = NULL;
	size_t cap = 0;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "fdinfo/%d", fdnum);
	fd = openat(pfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return false;
	}
	while (getline(&line, &cap, f) > 0) {
		unsigned long long i;

		if (!strncmp(line, "exp_name:", 9))
			exporter = true;
		else if (sscanf(line, "ino: %llu", &i) == 1)
			same = (ino_t)i == ino;
	}
	free(line);
	fclose(f);
	return exporter && same;
}

/**
 * scan_fds() - find the buffers among the open fds of a process
 * @pfd: the process's directory in /proc
 * @f: the array of what was found, appended to
 * @n: its length
 * @is_daemon: set when the process holds /dev/fuse
 *
 * Each fd is stat()ed through its /proc/PID/fd link, which gives the open
 * file itself: an fd of the mount has the buffer's st_dev and st_ino, an
 * exported memfd the device and inode of user.umm.memfd.
 *
 * Return: false if the fds may not be read (another user's process).
 */
static bool scan_fds(int pfd, struct found **f, size_t *n, bool *is_daemon)
{
	struct dirent *de;
	int fdd;
	DIR *d;

	fdd = openat(pfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fdd < 0)
		return errno != EACCES && errno != EPERM;
	d = fdopendir(fdd);
	if (!d) {
		close(fdd);
		return true;
	}
	while ((de = readdir(d))) {
		const struct key *k;
		struct stat st;
		size_t nk, i;
		char *end;
		long fd;

		fd = strtol(de->d_name, &end, 10);
		if (*end || end == de->d_name || fd < 0 || fd > INT_MAX)
			continue;
		/* stat() through the magic link: the open file itself. */
		if (fstatat(dirfd(d), de->d_name, &st, 0))
			continue; /* closed meanwhile */
		if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(FUSE_DEV_MAJOR, FUSE_DEV_MINOR))
			*is_daemon = true;
		nk = key_find(st.st_dev, st.st_ino, &k);
		for (i = 0; i < nk; i++)
			found_add(f, n, k[i].e, k[i].kind == KEY_FUSE ? HOLD_FD : HOLD_EXPORT,
				  (int)fd);
		nk = key_find(0, st.st_ino, &k);
		for (i = 0; i < nk; i++) {
			if (fd_is_dmabuf(pfd, (int)fd, st.st_ino))
				found_add(f, n, k[i].e, HOLD_EXPORT, (int)fd);
		}
	}
	closedir(d);
	return true;
}

/**
 * scan_maps() - find the buffers among the mappings of a process
 * @pfd: the process's directory in /proc
 * @f: the array of what was found, appended to
 * @n: its length
 *
 * A line of /proc/PID/maps is
 *   START-END PERMS OFFSET MAJOR:MINOR INODE [PATH]
 * with the device in hex, as user.umm.memfd writes it. A mapping of an fd of
 * the mount shows the buffer's file there; a mapping of an exported memfd
 * (and, on some kernels, a passthrough mapping) shows the memfd; a dma-buf's
 * shows the path "/dmabuf:NAME" and the dma-buf's inode.
 *
 * Return: false if the maps may not be read (another user's process).
 */
static bool scan_maps(int pfd, struct found **f, size_t *n)
{
	char *line = NULL;
	size_t cap = 0;
	FILE *m;
	int fd;

	fd = openat(pfd, "maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno != EACCES && errno != EPERM;
	m = fdopen(fd, "r");
	if (!m) {
		close(fd);
		return true;
	}
	while (getline(&line, &cap, m) > 0) {
		unsigned int maj, min;
		unsigned long long ino;
		const struct key *k;
		int pathoff = -1;
		size_t nk, i;

		if (sscanf(line, "%*x-%*x %*s %*x %x:%x %llu %n", &maj, &min, &ino, &pathoff) < 3 ||
		    !ino)
			continue;
		nk = key_find(makedev(maj, min), (ino_t)ino, &k);
		for (i = 0; i < nk; i++)
			found_add(f, n, k[i].e, HOLD_MAP, -1);
		nk = key_find(0, (ino_t)ino, &k);
		for (i = 0; i < nk && pathoff >= 0; i++) {
			if (strstr(line + pathoff, "dmabuf"))
				found_add(f, n, k[i].e, HOLD_MAP, -1);
		}
	}
	free(line);
	fclose(m);
	return true;
}

static int holder_cmp(const void *a, const void *b)
{
	const struct holder *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

/**
 * scan_process() - find what one process holds of the buffers listed
 * @procfd: an fd of /proc
 * @pidname: the process's directory in /proc
 * @unreadable: incremented when its fds or maps may not be read
 *
 * The daemon serving a mount holds every buffer's memory (an fd of each memfd,
 * and maps some); it is recognised by its fd of /dev/fuse, and its memory fds
 * and mappings are not listed. A process that vanishes meanwhile is skipped.
 */
static void scan_process(int procfd, const char *pidname, unsigned int *unreadable)
{
	struct found *f = NULL;
	bool is_daemon = false, readable;
	char comm[64];
	size_t n = 0, i;
	int pfd;

	pfd = openat(procfd, pidname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return;
	if (!read_small(pfd, "comm", comm, sizeof(comm))) {
		close(pfd);
		return;
	}
	readable = scan_fds(pfd, &f, &n, &is_daemon);
	readable &= scan_maps(pfd, &f, &n);
	close(pfd);
	if (!readable)
		(*unreadable)++;

	for (i = 0; i < n; i++) {
		struct entry *e = f[i].e;
		struct holder *h;

		if (is_daemon && f[i].kind != HOLD_FD)
			continue;
		h = GROW(e->holders, e->nholders);
		h->pid = (pid_t)strtol(pidname, NULL, 10);
		h->comm = ls_xstrdup(comm);
		h->kind = f[i].kind;
		h->fd = f[i].fd;
	}
	free(f);
}

/**
 * ls_scan_holders() - attach to every buffer listed the processes that hold it
 *
 * One pass over /proc for the whole listing: each process's fds are stat()ed
 * and its maps read once, and looked up among the identities of all buffers.
 */
void ls_scan_holders(void)
{
	unsigned int unreadable = 0;
	struct dirent *de;
	size_t li, i;
	pid_t self = getpid();
	DIR *proc;

	build_keys();
	if (!nkeys)
		return;
	proc = opendir("/proc");
	if (!proc)
		ls_complain("/proc", "%s", strerror(errno));
	while (proc && (de = readdir(proc))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || end == de->d_name || pid <= 0 || pid == self)
			continue;
		scan_process(dirfd(proc), de->d_name, &unreadable);
	}
	if (proc)
		closedir(proc);
	/* The keys point into the listings: needed no more once the holders are in. */
	free(keys);
	keys = NULL;
	nkeys = 0;
	for (li = 0; li < ls_nlistings; li++) {
		for (i = 0; i < ls_listings[li].n; i++) {
			struct entry *e = &ls_listings[li].ents[i];

			if (e->nholders > 1)
				ls_sort(e->holders, e->nholders, sizeof(*e->holders), holder_cmp);
		}
	}
	if (unreadable)
		fprintf(stderr,
			"%s: note: %u process%s could not be read; what they hold is not shown\n",
			tool_name(), unreadable, unreadable == 1 ? "" : "es");
}
