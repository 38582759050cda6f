// SPDX-License-Identifier: MIT
/*
 * umm-ls.c - the ls(1) of umm(7): list buffers and directories with their
 * umm attributes, and (-p) the processes that hold each buffer.
 *
 * Everything comes from what any user can read: stat(2), readdir(3), the
 * user.umm.* extended attributes (getxattr(2), listxattr(2)) and /proc. So
 * this file doubles as an example of the xattr interface: see xattr_get(),
 * the tables buffer_xattrs[] and dir_xattrs[], and print_effective_json(),
 * which parses user.umm.effective. No libumm, no export socket, and never an
 * open(2) of a buffer: opening a filling buffer read-only would seal it
 * (umm(7), LIFE CYCLE OF A BUFFER), and a listing must change nothing.
 *
 * The work is done in three steps:
 *   1. collect: stat every operand, read the directories (recursively with
 *      -R) and the attributes of each entry into listings: one a directory
 *      listed, plus one for the operands that are listed themselves;
 *   2. with -p, scan /proc once and attach to each buffer the processes that
 *      hold it (an fd of the mount, an exported fd, a mapping);
 *   3. print every listing, as text or as JSON Lines, then the totals per heap.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "parse.h"

#ifndef UMM_VERSION
#define UMM_VERSION "unknown"
#endif

/* /dev/fuse: a process that holds it is a FUSE daemon (see scan_process()). */
#define FUSE_DEV_MAJOR 10
#define FUSE_DEV_MINOR 229

#define COLOR_DIR "\033[1;34m"
#define COLOR_OFF "\033[0m"

static const char *prog = "umm-ls";

static struct {
	bool longfmt; /* -l */
	bool recursive; /* -R */
	bool all; /* -a */
	bool human; /* -H */
	bool procs; /* -p */
	bool dirs_self; /* -d */
	bool json; /* --json */
	bool color; /* stdout is a terminal and NO_COLOR is unset */
} opt;

/* 1 once anything could not be listed (ls(1) style); 2 for usage errors. */
static int exit_status;

/*
 * The attributes umm-ls reads. A buffer is recognised by user.umm.heap and a
 * directory by user.umm.effective: every buffer and directory of a umm mount
 * has them, and no other file system does.
 */
enum { XB_HEAP, XB_CACHE, XB_SYNC, XB_CONTIGUOUS, XB_EXPORTS, XB_DMABUF, XB_MEMFD, XB_NR };

static const char *const buffer_xattrs[XB_NR] = {
	[XB_HEAP] = "user.umm.heap", /* the heap that holds the memory */
	[XB_CACHE] = "user.umm.cache", /* cached, uncached or writecombine */
	[XB_SYNC] = "user.umm.sync", /* cpu, cpu:read, cpu:write or device */
	[XB_CONTIGUOUS] = "user.umm.contiguous", /* 0 or 1 */
	[XB_EXPORTS] = "user.umm.exports", /* fds handed out by the export socket */
	[XB_DMABUF] = "user.umm.dmabuf", /* the dma-buf's inode number, or empty */
	[XB_MEMFD] = "user.umm.memfd", /* "MAJOR:MINOR INODE" of the memfd, or empty */
};

enum { XD_EFFECTIVE, XD_USED, XD_NR };

static const char *const dir_xattrs[XD_NR] = {
	[XD_EFFECTIVE] = "user.umm.effective", /* all effective constraints, one line */
	[XD_USED] = "user.umm.used_bytes", /* bytes charged to the subtree */
};

/* The constraints a directory can set itself (listed by listxattr(2)). */
static const char *const constraint_names[] = {
	"size", "align", "contiguous", "cache", "heap", "devices", "max_bytes",
};

#define NR_CONSTRAINTS (sizeof(constraint_names) / sizeof(constraint_names[0]))
#define XATTR_PREFIX "user.umm."

enum entry_type { ENT_BUFFER, ENT_DIR };

/* How a process holds a buffer; also the order in which holders are printed. */
enum hold_kind { HOLD_FD, HOLD_EXPORT, HOLD_MAP };

static const char *const hold_kind_names[] = {
	[HOLD_FD] = "fd",
	[HOLD_EXPORT] = "export",
	[HOLD_MAP] = "map",
};

struct holder {
	pid_t pid;
	char *comm;
	enum hold_kind kind;
	int fd; /* -1 for a mapping */
};

struct entry {
	char *path; /* as listed: an operand, or the directory's path + "/" + name */
	char *name; /* what a text listing shows: the name, or the operand */
	enum entry_type type;
	struct stat st;
	/* Raw attribute values, NULL where they could not be read. */
	char *bx[XB_NR]; /* buffers */
	char *dx[XD_NR]; /* directories */
	char *own[NR_CONSTRAINTS]; /* directories, with --json: set on the dir itself */
	struct holder *holders;
	size_t nholders;
};

/* The entries of one directory listed, or (title NULL) the file operands. */
struct listing {
	char *title;
	struct entry *ents;
	size_t n;
};

static struct listing *listings;
static size_t nlistings;

/* The chain of directories being listed, to stop -R in a bind-mount loop. */
struct chain {
	dev_t dev;
	ino_t ino;
	const struct chain *up;
};

/* ---------------------------------------------------------------------- */
/* Memory and messages                                                      */

static void out_of_memory(void)
{
	fprintf(stderr, "%s: out of memory\n", prog);
	exit(1);
}

static void *xreallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		out_of_memory();
	/* Never realloc(p, 0): it may free p and return NULL. */
	p = realloc(p, n && size ? n * size : 1);
	if (!p)
		out_of_memory();
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		out_of_memory();
	return d;
}

/* Make room for one more element of size bytes at the end of arr, zeroed. */
static void *grow_array(void *arr, size_t *n, size_t size)
{
	arr = xreallocarray(arr, *n + 1, size);
	memset((char *)arr + *n * size, 0, size);
	(*n)++;
	return arr;
}

/* Append one zeroed element to the array arr of n elements; gives its address. */
#define GROW(arr, n) ((arr) = grow_array((arr), &(n), sizeof(*(arr))), &(arr)[(n)-1])

/* "dir" + "/" + "name", without doubling a slash the operand already ends with. */
static char *path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	bool slash = dl && dir[dl - 1] != '/';
	char *p = xreallocarray(NULL, dl + slash + nl + 1, 1);

	memcpy(p, dir, dl);
	if (slash)
		p[dl] = '/';
	memcpy(p + dl + slash, name, nl + 1);
	return p;
}

/**
 * utf8_seq() - the valid UTF-8 sequence at the start of a string
 * @s: a NUL-terminated string whose first byte is >= 0x80
 * @cp: set to the code point
 *
 * Overlong forms, surrogates and code points above U+10FFFF are invalid. The
 * terminating NUL is never a continuation byte, so this never reads past it.
 *
 * Return: the length of the sequence (2 to 4), or 0 if it is not valid.
 */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t c;
	size_t n, i;

	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/**
 * put_text() - print a name or value for a terminal or a line-based reader
 * @f: the stream
 * @s: the string
 *
 * As ls -b does: a backslash is doubled, newline and tab become \n and \t,
 * other control bytes (C0, DEL, C1) and bytes that are not valid UTF-8 become
 * a backslash and three octal digits. So one entry is always one line, and a
 * name cannot move the cursor or change the colours of the terminal.
 */
static void put_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	while (*p) {
		if (*p == '\\') {
			fputs("\\\\", f);
			p++;
		} else if (*p >= 0x20 && *p < 0x7f) {
			putc(*p++, f);
		} else if (*p == '\n') {
			fputs("\\n", f);
			p++;
		} else if (*p == '\t') {
			fputs("\\t", f);
			p++;
		} else if (*p >= 0x80 && (n = utf8_seq(p, &cp)) && cp >= 0xa0) {
			fwrite(p, 1, n, f);
			p += n;
		} else {
			/* All the bytes of a C1 character too: some terminals obey them. */
			n = *p >= 0x80 ? utf8_seq(p, &cp) : 0;
			if (!n)
				n = 1;
			while (n--)
				fprintf(f, "\\%03o", *p++);
		}
	}
}

/* "umm-ls: PATH: message", and the exit status becomes 1. */
static void complain(const char *path, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	put_text(stderr, path);
	fputs(": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit_status = 1;
}

/* ---------------------------------------------------------------------- */
/* Reading the attributes                                                   */

/**
 * xattr_get() - read one extended attribute as a string
 * @path: the file
 * @follow: follow a symbolic link at the end of @path (getxattr) or not
 *          (lgetxattr)
 * @name: the attribute, such as "user.umm.heap"
 * @value: set to a malloc()ed, NUL-terminated copy of the value on success
 *
 * umm's values are short text. The size is asked first, then the value read;
 * should it grow in between (another process set it), ERANGE says so and
 * the two steps are tried again. One trailing newline is dropped, as umm
 * itself ignores one in the values it reads.
 *
 * Return: 0, or -errno: -ENODATA when the file has no such attribute (so it
 * is not on a umm mount, for the names umm always has), -EOPNOTSUPP when its
 * file system has no user.* attributes, -EACCES without read permission on
 * the file (reading user.* attributes needs it).
 */
static int xattr_get(const char *path, bool follow, const char *name, char **value)
{
	ssize_t len, got;
	char *buf;
	int tries, err;

	for (tries = 0; tries < 5; tries++) {
		len = follow ? getxattr(path, name, NULL, 0) : lgetxattr(path, name, NULL, 0);
		if (len < 0)
			return -errno;
		buf = xreallocarray(NULL, (size_t)len + 1, 1);
		got = follow ? getxattr(path, name, buf, (size_t)len) :
			       lgetxattr(path, name, buf, (size_t)len);
		if (got >= 0) {
			buf[got] = '\0';
			if (got > 0 && buf[got - 1] == '\n')
				buf[got - 1] = '\0';
			*value = buf;
			return 0;
		}
		err = errno;
		free(buf);
		if (err != ERANGE)
			return -err;
	}
	return -ERANGE;
}

/**
 * read_own_constraints() - the constraints a directory sets itself
 * @e: the directory's entry; fills e->own[]
 * @path: where to read its attributes
 * @follow: as for xattr_get()
 *
 * listxattr(2) names the constraints the directory sets itself, then the
 * read-only ones and other user.* attributes; reading a constraint the
 * directory only inherits would give ENODATA. Errors leave e->own[] empty.
 */
static void read_own_constraints(struct entry *e, const char *path, bool follow)
{
	ssize_t len, got;
	char *list = NULL;
	size_t off, i;
	int tries;

	for (tries = 0; tries < 5; tries++) {
		len = follow ? listxattr(path, NULL, 0) : llistxattr(path, NULL, 0);
		if (len <= 0)
			return;
		list = xreallocarray(NULL, (size_t)len + 1, 1);
		got = follow ? listxattr(path, list, (size_t)len) :
			       llistxattr(path, list, (size_t)len);
		if (got >= 0)
			break;
		free(list);
		list = NULL;
		if (errno != ERANGE)
			return;
	}
	if (!list)
		return;
	/* NUL-separated names; the extra NUL guards a list that lacks the last one. */
	list[got] = '\0';
	for (off = 0; off < (size_t)got; off += strlen(list + off) + 1) {
		const char *n = list + off;

		if (strncmp(n, XATTR_PREFIX, strlen(XATTR_PREFIX)))
			continue;
		for (i = 0; i < NR_CONSTRAINTS; i++) {
			if (!strcmp(n + strlen(XATTR_PREFIX), constraint_names[i]) && !e->own[i])
				xattr_get(path, follow, n, &e->own[i]);
		}
	}
	free(list);
}

static void entry_free(struct entry *e)
{
	size_t i;

	free(e->path);
	free(e->name);
	for (i = 0; i < XB_NR; i++)
		free(e->bx[i]);
	for (i = 0; i < XD_NR; i++)
		free(e->dx[i]);
	for (i = 0; i < NR_CONSTRAINTS; i++)
		free(e->own[i]);
	for (i = 0; i < e->nholders; i++)
		free(e->holders[i].comm);
	free(e->holders);
	memset(e, 0, sizeof(*e));
}

/**
 * entry_load() - stat one name and read its umm attributes
 * @e: the entry, with path and name set by the caller
 * @dfd: the directory that holds it, or AT_FDCWD for an operand
 * @at: its name relative to @dfd
 * @operand: a command-line operand: a symbolic link is followed (as ls does),
 *           and every failure is reported; for a name found in a directory,
 *           one that vanished in between is skipped silently, and one whose
 *           attributes the caller may not read is listed with them unknown
 *
 * Return: true if the entry is to be listed, false if not (reported, or gone).
 */
static bool entry_load(struct entry *e, int dfd, const char *at, bool operand)
{
	char procpath[32 + NAME_MAX + 1], *ident = NULL;
	const char *xpath = e->path, *idname;
	bool follow = operand;
	size_t i;
	int ret;

	if (fstatat(dfd, at, &e->st, operand ? 0 : AT_SYMLINK_NOFOLLOW)) {
		if (!operand && errno == ENOENT)
			return false;
		fprintf(stderr, "%s: cannot access '", prog);
		put_text(stderr, e->path);
		fprintf(stderr, "': %s\n", strerror(errno));
		exit_status = 1;
		return false;
	}
	if (!S_ISREG(e->st.st_mode) && !S_ISDIR(e->st.st_mode)) {
		/* umm refuses every other type (EPERM), so this is some other fs. */
		complain(e->path, "not on a umm mount");
		return false;
	}
	e->type = S_ISDIR(e->st.st_mode) ? ENT_DIR : ENT_BUFFER;
	/*
	 * There is no getxattrat(): a path longer than PATH_MAX (umm nests 256
	 * levels of 255-byte names) is reached through the open directory.
	 */
	if (dfd != AT_FDCWD && strlen(e->path) >= PATH_MAX) {
		if (snprintf(procpath, sizeof(procpath), "/proc/self/fd/%d/%s", dfd, at) >=
		    (int)sizeof(procpath))
			return false; /* a name longer than NAME_MAX: cannot happen */
		xpath = procpath;
	}

	idname = e->type == ENT_DIR ? dir_xattrs[XD_EFFECTIVE] : buffer_xattrs[XB_HEAP];
	ret = xattr_get(xpath, follow, idname, &ident);
	if (ret == -ENODATA || ret == -EOPNOTSUPP) {
		complain(e->path, "not on a umm mount");
		return false;
	}
	if (ret == -ENOENT && !operand)
		return false;
	if (ret < 0 && (operand || ret != -EACCES)) {
		complain(e->path, "cannot read %s: %s", idname, strerror(-ret));
		return false;
	}
	if (ret == -EACCES)
		return true; /* listed, with every attribute unknown */

	/* The rest are best effort: a value that cannot be read is shown as unknown. */
	if (e->type == ENT_DIR) {
		e->dx[XD_EFFECTIVE] = ident;
		for (i = 1; i < XD_NR; i++)
			xattr_get(xpath, follow, dir_xattrs[i], &e->dx[i]);
		if (opt.json)
			read_own_constraints(e, xpath, follow);
	} else {
		e->bx[XB_HEAP] = ident;
		for (i = 1; i < XB_NR; i++)
			xattr_get(xpath, follow, buffer_xattrs[i], &e->bx[i]);
	}
	return true;
}

/* ---------------------------------------------------------------------- */
/* Collecting the listing                                                   */

static size_t new_listing(const char *title)
{
	struct listing *g = GROW(listings, nlistings);

	g->title = title ? xstrdup(title) : NULL;
	return nlistings - 1;
}

/*
 * qsort() for arrays that may be empty: an empty array's pointer may be NULL,
 * and qsort() must not be given NULL even with no elements (UBSan says so).
 */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

static int entry_cmp(const void *a, const void *b)
{
	/* Byte order, as ls sorts with LC_ALL=C: the same on every machine. */
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/**
 * collect_dir() - read one directory into a new listing, then (-R) its subdirectories
 * @path: the directory's path as listed: the listing's title and the prefix of
 *        its entries' paths
 * @fd: an open fd of the directory; closed here
 * @up: the directories being listed above this one (NULL at an operand)
 */
static void collect_dir(const char *path, int fd, const struct chain *up)
{
	struct chain here;
	struct dirent *de;
	struct entry *ents;
	struct stat st;
	size_t li, i, n;
	DIR *d;

	if (fstat(fd, &st)) {
		complain(path, "%s", strerror(errno));
		close(fd);
		return;
	}
	d = fdopendir(fd);
	if (!d) {
		complain(path, "cannot read directory: %s", strerror(errno));
		close(fd);
		return;
	}
	here = (struct chain){ .dev = st.st_dev, .ino = st.st_ino, .up = up };
	li = new_listing(path);
	for (;;) {
		struct listing *g = &listings[li];
		struct entry *e;

		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_name[0] == '.' && !opt.all)
			continue;
		e = GROW(g->ents, g->n);
		e->path = path_join(path, de->d_name);
		e->name = xstrdup(de->d_name);
		if (!entry_load(e, dirfd(d), de->d_name, false)) {
			entry_free(e);
			g->n--;
		}
	}
	if (errno)
		complain(path, "cannot read directory: %s", strerror(errno));

	/* listings[] may move as subdirectories add listings; ents[] does not. */
	ents = listings[li].ents;
	n = listings[li].n;
	sort(ents, n, sizeof(*ents), entry_cmp);

	for (i = 0; opt.recursive && i < n; i++) {
		const struct chain *c;
		int sub;

		if (ents[i].type != ENT_DIR)
			continue;
		for (c = &here; c; c = c->up) {
			if (c->dev == ents[i].st.st_dev && c->ino == ents[i].st.st_ino)
				break;
		}
		if (c) {
			complain(ents[i].path, "not listing already-listed directory");
			continue;
		}
		sub = openat(dirfd(d), ents[i].name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			if (errno != ENOENT)
				complain(ents[i].path, "cannot open directory: %s",
					 strerror(errno));
			continue;
		}
		collect_dir(ents[i].path, sub, &here);
	}
	closedir(d);
}

/* ---------------------------------------------------------------------- */
/* Holders: who has a buffer open or mapped (-p)                            */

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

static bool parse_u64(const char *s, uint64_t *v)
{
	uint64_t n = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
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

	for (li = 0; li < nlistings; li++) {
		for (i = 0; i < listings[li].n; i++) {
			struct entry *e = &listings[li].ents[i];
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
			if (parse_u64(e->bx[XB_DMABUF], &ino)) {
				k = GROW(keys, nkeys);
				*k = (struct key){ 0, (ino_t)ino, KEY_DMABUF, e };
			}
		}
	}
	sort(keys, nkeys, sizeof(*keys), key_cmp);
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
		h->comm = xstrdup(comm);
		h->kind = f[i].kind;
		h->fd = f[i].fd;
	}
	free(f);
}

/**
 * scan_holders() - attach to every buffer listed the processes that hold it
 *
 * One pass over /proc for the whole listing: each process's fds are stat()ed
 * and its maps read once, and looked up among the identities of all buffers.
 */
static void scan_holders(void)
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
	if (!proc) {
		complain("/proc", "%s", strerror(errno));
		return;
	}
	while ((de = readdir(proc))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || end == de->d_name || pid <= 0 || pid == self)
			continue;
		scan_process(dirfd(proc), de->d_name, &unreadable);
	}
	closedir(proc);
	for (li = 0; li < nlistings; li++) {
		for (i = 0; i < listings[li].n; i++) {
			struct entry *e = &listings[li].ents[i];

			if (e->nholders > 1)
				sort(e->holders, e->nholders, sizeof(*e->holders), holder_cmp);
		}
	}
	if (unreadable)
		fprintf(stderr,
			"%s: note: %u process%s could not be read; what they hold is not shown\n",
			prog, unreadable, unreadable == 1 ? "" : "es");
}

/* ---------------------------------------------------------------------- */
/* Text output                                                              */

/**
 * format_size() - a size for a text column
 * @v: bytes
 * @buf: where to write it
 * @size: the size of @buf (at least 24)
 *
 * In bytes; with -H as ls -h prints it: in K, M, G, T, P or E (powers of
 * 1024), rounded up, with one decimal below 10 (so 5000 is 4.9K, 1048575 is
 * 1.0M).
 */
static void format_size(uint64_t v, char *buf, size_t size)
{
	static const char units[] = "KMGTPE";
	uint64_t d = 1024, q, tenths;
	int u = 0;

	if (!opt.human || v < 1024) {
		snprintf(buf, size, "%" PRIu64, v);
		return;
	}
	while (u < 5 && v / d >= 1024) {
		d *= 1024;
		u++;
	}
	q = v / d;
	if (q < 10) {
		/* The remainder is below d <= 2^60, so r * 10 cannot overflow. */
		tenths = q * 10 + ((v % d) * 10 + d - 1) / d;
		if (tenths < 100) {
			snprintf(buf, size, "%" PRIu64 ".%" PRIu64 "%c", tenths / 10, tenths % 10,
				 units[u]);
			return;
		}
		snprintf(buf, size, "10%c", units[u]);
		return;
	}
	q += v % d != 0;
	if (q >= 1024 && u < 5)
		snprintf(buf, size, "1.0%c", units[u + 1]);
	else
		snprintf(buf, size, "%" PRIu64 "%c", q, units[u]);
}

/**
 * size_value() - a size as umm prints it, in bytes
 * @s: decimal digits with an optional K, M, G or T suffix (umm(7), Sizes)
 * @v: set to the number of bytes
 *
 * The daemon's own parser (alloc/parse.c, libc only), so umm-ls reads
 * exactly what umm writes.
 * Return: true, or false for NULL, "none", or anything else umm does not write.
 */
static bool size_value(const char *s, uint64_t *v)
{
	return s && !parse_size_str(s, v);
}

static void mode_string(mode_t m, char *s)
{
	s[0] = S_ISDIR(m) ? 'd' : S_ISREG(m) ? '-' : '?';
	s[1] = m & S_IRUSR ? 'r' : '-';
	s[2] = m & S_IWUSR ? 'w' : '-';
	s[3] = m & S_ISUID ? (m & S_IXUSR ? 's' : 'S') : (m & S_IXUSR ? 'x' : '-');
	s[4] = m & S_IRGRP ? 'r' : '-';
	s[5] = m & S_IWGRP ? 'w' : '-';
	s[6] = m & S_ISGID ? (m & S_IXGRP ? 's' : 'S') : (m & S_IXGRP ? 'x' : '-');
	s[7] = m & S_IROTH ? 'r' : '-';
	s[8] = m & S_IWOTH ? 'w' : '-';
	s[9] = m & S_ISVTX ? (m & S_IXOTH ? 't' : 'T') : (m & S_IXOTH ? 'x' : '-');
	s[10] = '\0';
}

/*
 * User and group names. A listing shows few owners but many entries, and each
 * getpwuid() may read /etc/passwd again, so the names are remembered.
 */
struct id_name {
	bool group;
	unsigned int id;
	char *name; /* NULL: no such user or group */
};

static struct id_name *id_names;
static size_t nid_names;

static const char *id_name(bool group, unsigned int id)
{
	struct id_name *n;
	struct passwd *pw;
	struct group *gr;
	size_t i;

	for (i = 0; i < nid_names; i++) {
		if (id_names[i].group == group && id_names[i].id == id)
			return id_names[i].name;
	}
	n = GROW(id_names, nid_names);
	n->group = group;
	n->id = id;
	if (group) {
		gr = getgrgid((gid_t)id);
		n->name = gr ? xstrdup(gr->gr_name) : NULL;
	} else {
		pw = getpwuid((uid_t)id);
		n->name = pw ? xstrdup(pw->pw_name) : NULL;
	}
	return n->name;
}

static const char *user_name(uid_t uid)
{
	return id_name(false, (unsigned int)uid);
}

static const char *group_name(gid_t gid)
{
	return id_name(true, (unsigned int)gid);
}

/*
 * One value of user.umm.effective ("KEY=VALUE KEY=VALUE ..."), copied into
 * buf (size bytes); "?" if the value is unknown, missing or too long.
 */
static void effective_value(const char *eff, const char *key, char *buf, size_t size)
{
	size_t kl = strlen(key), vl;
	const char *p = eff;

	snprintf(buf, size, "?");
	while (p) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			p += kl + 1;
			vl = strcspn(p, " ");
			if (vl < size) {
				memcpy(buf, p, vl);
				buf[vl] = '\0';
			}
			return;
		}
		p = strchr(p, ' ');
		if (p)
			p++;
	}
}

enum { C_MODE, C_USER, C_GROUP, C_SIZE, C_HEAP, C_CACHE, C_SYNC, C_CONTIG, C_EXPORTS, C_NR };

/**
 * long_columns() - the -l columns of an entry, before the name
 * @e: the entry
 * @cols: filled with the text of each column (at most 63 bytes; "?" for an
 *        attribute that could not be read)
 */
static void long_columns(const struct entry *e, char cols[C_NR][64])
{
	const char *name;
	uint64_t v;
	size_t i;

	mode_string(e->st.st_mode, cols[C_MODE]);
	name = user_name(e->st.st_uid);
	if (name)
		snprintf(cols[C_USER], 64, "%s", name);
	else
		snprintf(cols[C_USER], 64, "%u", (unsigned int)e->st.st_uid);
	name = group_name(e->st.st_gid);
	if (name)
		snprintf(cols[C_GROUP], 64, "%s", name);
	else
		snprintf(cols[C_GROUP], 64, "%u", (unsigned int)e->st.st_gid);

	if (e->type == ENT_BUFFER) {
		format_size((uint64_t)e->st.st_size, cols[C_SIZE], 64);
		snprintf(cols[C_HEAP], 64, "%s", e->bx[XB_HEAP] ? e->bx[XB_HEAP] : "?");
		snprintf(cols[C_CACHE], 64, "%s", e->bx[XB_CACHE] ? e->bx[XB_CACHE] : "?");
		snprintf(cols[C_SYNC], 64, "%s", e->bx[XB_SYNC] ? e->bx[XB_SYNC] : "?");
		snprintf(cols[C_CONTIG], 64, "%s",
			 e->bx[XB_CONTIGUOUS] ? e->bx[XB_CONTIGUOUS] : "?");
		snprintf(cols[C_EXPORTS], 64, "%s", e->bx[XB_EXPORTS] ? e->bx[XB_EXPORTS] : "?");
	} else {
		/* A directory: bytes used by its subtree, and its effective constraints. */
		const char *eff = e->dx[XD_EFFECTIVE];

		if (size_value(e->dx[XD_USED], &v))
			format_size(v, cols[C_SIZE], 64);
		else
			snprintf(cols[C_SIZE], 64, "?");
		effective_value(eff, "heap", cols[C_HEAP], 64);
		effective_value(eff, "cache", cols[C_CACHE], 64);
		snprintf(cols[C_SYNC], 64, "-");
		effective_value(eff, "contiguous", cols[C_CONTIG], 64);
		snprintf(cols[C_EXPORTS], 64, "-");
	}
	/* Attribute values are umm's own short text, but a column is one line. */
	for (i = 0; i < C_NR; i++) {
		for (char *p = cols[i]; *p; p++) {
			if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
				*p = '?';
		}
	}
}

static void print_name(const struct entry *e)
{
	bool dir = e->type == ENT_DIR;

	if (dir && opt.color)
		fputs(COLOR_DIR, stdout);
	put_text(stdout, e->name);
	if (dir && opt.color)
		fputs(COLOR_OFF, stdout);
	/* Directories end in '/', like ls -p (an operand may have one already). */
	if (dir && e->name[0] && e->name[strlen(e->name) - 1] != '/')
		putchar('/');
}

static void print_holders_text(const struct entry *e)
{
	size_t i;

	for (i = 0; i < e->nholders; i++) {
		const struct holder *h = &e->holders[i];

		printf("    %d ", (int)h->pid);
		put_text(stdout, h->comm);
		switch (h->kind) {
		case HOLD_FD:
			printf(" fd %d\n", h->fd);
			break;
		case HOLD_EXPORT:
			printf(" export fd %d\n", h->fd);
			break;
		case HOLD_MAP:
			printf(" map\n");
			break;
		}
	}
}

/**
 * print_listing_text() - print one listing as text
 * @g: the listing
 *
 * Each entry is its name, after its -l columns (padded to the widest value
 * in the listing), followed with -p by its holders.
 */
static void print_listing_text(const struct listing *g)
{
	char(*cols)[C_NR][64] = NULL;
	size_t w[C_NR] = { 0 };
	size_t i, c;

	if (opt.longfmt && g->n) {
		cols = xreallocarray(NULL, g->n, sizeof(*cols));
		for (i = 0; i < g->n; i++) {
			long_columns(&g->ents[i], cols[i]);
			for (c = 0; c < C_NR; c++) {
				size_t l = strlen(cols[i][c]);

				w[c] = l > w[c] ? l : w[c];
			}
		}
	}
	for (i = 0; i < g->n; i++) {
		const struct entry *e = &g->ents[i];

		for (c = 0; cols && c < C_NR; c++) {
			/* Sizes to the right, as ls does; text to the left. */
			if (c == C_SIZE)
				printf("%*s ", (int)w[c], cols[i][c]);
			else
				printf("%-*s ", (int)w[c], cols[i][c]);
		}
		print_name(e);
		if (cols && e->type == ENT_DIR) {
			fputs("  [", stdout);
			put_text(stdout, e->dx[XD_EFFECTIVE] ? e->dx[XD_EFFECTIVE] : "?");
			putchar(']');
		}
		putchar('\n');
		print_holders_text(e);
	}
	free(cols);
}

/* ---------------------------------------------------------------------- */
/* JSON output                                                              */

/**
 * json_str() - print a string as a JSON string
 * @s: the string, or NULL for null
 *
 * Quote, backslash and the control characters are escaped (\b \f \n \r \t,
 * else \u00XX), as are DEL and the C1 controls. Valid UTF-8 is copied. A byte
 * that is not part of valid UTF-8 becomes \u00XX, the code point of the same
 * value (as if the byte were Latin-1): the output is always valid JSON, and
 * only such names do not survive the round trip byte for byte.
 */
static void json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	while (*p) {
		switch (*p) {
		case '"':
			fputs("\\\"", stdout);
			p++;
			continue;
		case '\\':
			fputs("\\\\", stdout);
			p++;
			continue;
		case '\b':
			fputs("\\b", stdout);
			p++;
			continue;
		case '\f':
			fputs("\\f", stdout);
			p++;
			continue;
		case '\n':
			fputs("\\n", stdout);
			p++;
			continue;
		case '\r':
			fputs("\\r", stdout);
			p++;
			continue;
		case '\t':
			fputs("\\t", stdout);
			p++;
			continue;
		}
		if (*p >= 0x20 && *p < 0x7f) {
			putchar(*p++);
		} else if (*p < 0x80) {
			printf("\\u%04x", *p++);
		} else if ((n = utf8_seq(p, &cp)) != 0) {
			if (cp < 0xa0)
				printf("\\u%04x", (unsigned int)cp);
			else
				fwrite(p, 1, n, stdout);
			p += n;
		} else {
			printf("\\u%04x", *p++);
		}
	}
	putchar('"');
}

/* ,"key": (the comma from the second key on) */
static void json_key(bool *first, const char *key)
{
	printf("%s\"%s\":", *first ? "" : ",", key);
	*first = false;
}

/* A decimal or size attribute as a JSON number; null if unknown or "none". */
static void json_size(const char *s)
{
	uint64_t v;

	if (size_value(s, &v))
		printf("%" PRIu64, v);
	else
		fputs("null", stdout);
}

static void json_bool01(const char *s)
{
	if (s && !strcmp(s, "0"))
		fputs("false", stdout);
	else if (s && !strcmp(s, "1"))
		fputs("true", stdout);
	else
		fputs("null", stdout);
}

/**
 * print_effective_json() - user.umm.effective as a JSON object
 * @eff: the value, such as
 *       "size=8M align=4K contiguous=0 cache=cached heap=auto devices= max_bytes=none",
 *       or NULL when unknown (printed as null)
 *
 * The value is KEY=VALUE words separated by single spaces. The devices are
 * themselves separated by spaces, so a word that starts with '/' is one more
 * device path; umm(7) requires absolute device paths, and no key starts with
 * '/'. Sizes become numbers of bytes ("none" is null), contiguous a boolean,
 * devices an array; a key this version does not know is kept as a string.
 */
static void print_effective_json(const char *eff)
{
	bool first = true, in_devices = false, any_device = false;
	char *copy, *word, *save = NULL;

	if (!eff) {
		fputs("null", stdout);
		return;
	}
	copy = xstrdup(eff);
	putchar('{');
	for (word = strtok_r(copy, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
		char *val = strchr(word, '=');

		if (word[0] == '/' || !val) {
			/* One more device path (anything else is not umm's format). */
			if (in_devices) {
				if (any_device)
					putchar(',');
				json_str(word);
				any_device = true;
			}
			continue;
		}
		if (in_devices) {
			putchar(']');
			in_devices = false;
		}
		*val++ = '\0';
		json_key(&first, word);
		if (!strcmp(word, "size") || !strcmp(word, "align") || !strcmp(word, "max_bytes")) {
			json_size(val);
		} else if (!strcmp(word, "contiguous")) {
			json_bool01(val);
		} else if (!strcmp(word, "devices")) {
			/* "devices=/dev/a /dev/b": the first path is in this word. */
			putchar('[');
			in_devices = true;
			any_device = *val != '\0';
			if (any_device)
				json_str(val);
		} else {
			json_str(val);
		}
	}
	if (in_devices)
		putchar(']');
	putchar('}');
	free(copy);
}

/**
 * print_entry_json() - print one buffer or directory as a line of JSON
 * @e: the entry
 *
 * The keys are documented in umm-ls(1), JSON OUTPUT: keep the two in step,
 * and only ever add keys.
 */
static void print_entry_json(const struct entry *e)
{
	bool first = true, own_first = true;
	char mode[8];
	uint64_t v;
	size_t i;

	putchar('{');
	json_key(&first, "type");
	json_str(e->type == ENT_DIR ? "dir" : "buffer");
	json_key(&first, "path");
	json_str(e->path);
	json_key(&first, "name");
	json_str(e->name);
	json_key(&first, "ino");
	printf("%" PRIu64, (uint64_t)e->st.st_ino);
	json_key(&first, "mode");
	snprintf(mode, sizeof(mode), "%04o", (unsigned int)(e->st.st_mode & 07777));
	json_str(mode);
	json_key(&first, "uid");
	printf("%u", (unsigned int)e->st.st_uid);
	json_key(&first, "user");
	json_str(user_name(e->st.st_uid));
	json_key(&first, "gid");
	printf("%u", (unsigned int)e->st.st_gid);
	json_key(&first, "group");
	json_str(group_name(e->st.st_gid));

	if (e->type == ENT_DIR) {
		json_key(&first, "effective");
		print_effective_json(e->dx[XD_EFFECTIVE]);
		json_key(&first, "used_bytes");
		json_size(e->dx[XD_USED]);
		json_key(&first, "own");
		putchar('{');
		for (i = 0; i < NR_CONSTRAINTS; i++) {
			if (!e->own[i])
				continue;
			json_key(&own_first, constraint_names[i]);
			json_str(e->own[i]);
		}
		puts("}}");
		return;
	}

	json_key(&first, "size");
	printf("%" PRIu64, (uint64_t)e->st.st_size);
	json_key(&first, "heap");
	json_str(e->bx[XB_HEAP]);
	json_key(&first, "cache");
	json_str(e->bx[XB_CACHE]);
	json_key(&first, "sync");
	json_str(e->bx[XB_SYNC]);
	json_key(&first, "contiguous");
	json_bool01(e->bx[XB_CONTIGUOUS]);
	json_key(&first, "exports");
	json_size(e->bx[XB_EXPORTS]);
	json_key(&first, "dmabuf");
	if (parse_u64(e->bx[XB_DMABUF], &v))
		printf("%" PRIu64, v);
	else
		fputs("null", stdout);
	json_key(&first, "memfd");
	json_str(e->bx[XB_MEMFD] && *e->bx[XB_MEMFD] ? e->bx[XB_MEMFD] : NULL);
	if (opt.procs) {
		json_key(&first, "holders");
		putchar('[');
		for (i = 0; i < e->nholders; i++) {
			const struct holder *h = &e->holders[i];
			bool hfirst = true;

			if (i)
				putchar(',');
			putchar('{');
			json_key(&hfirst, "pid");
			printf("%d", (int)h->pid);
			json_key(&hfirst, "comm");
			json_str(h->comm);
			json_key(&hfirst, "kind");
			json_str(hold_kind_names[h->kind]);
			if (h->fd >= 0) {
				json_key(&hfirst, "fd");
				printf("%d", h->fd);
			}
			putchar('}');
		}
		putchar(']');
	}
	puts("}");
}

/* ---------------------------------------------------------------------- */
/* Totals per heap                                                          */

struct total {
	const char *heap; /* NULL: unknown */
	uint64_t buffers, bytes;
};

static int total_cmp(const void *a, const void *b)
{
	const struct total *x = a, *y = b;

	if (!x->heap || !y->heap)
		return !x->heap - !y->heap; /* unknown last */
	return strcmp(x->heap, y->heap);
}

/**
 * print_totals() - the number and bytes of the buffers listed, per heap
 * @blank: begin the text with an empty line (after listings with headers)
 *
 * One line a heap, sorted by name; buffers whose heap is unknown last.
 */
static void print_totals(bool blank)
{
	struct total *t = NULL;
	size_t nt = 0, li, i, j;
	char size[32];

	for (li = 0; li < nlistings; li++) {
		for (i = 0; i < listings[li].n; i++) {
			const struct entry *e = &listings[li].ents[i];
			const char *heap = e->bx[XB_HEAP];

			if (e->type != ENT_BUFFER)
				continue;
			for (j = 0; j < nt; j++) {
				if (heap ? t[j].heap && !strcmp(t[j].heap, heap) : !t[j].heap)
					break;
			}
			if (j == nt)
				GROW(t, nt)->heap = heap;
			t[j].buffers++;
			t[j].bytes += (uint64_t)e->st.st_size;
		}
	}
	if (nt)
		sort(t, nt, sizeof(*t), total_cmp);
	for (j = 0; j < nt; j++) {
		if (opt.json) {
			bool first = true;

			putchar('{');
			json_key(&first, "type");
			json_str("total");
			json_key(&first, "heap");
			json_str(t[j].heap);
			json_key(&first, "buffers");
			printf("%" PRIu64, t[j].buffers);
			json_key(&first, "bytes");
			printf("%" PRIu64, t[j].bytes);
			puts("}");
			continue;
		}
		if (blank && !j)
			putchar('\n');
		format_size(t[j].bytes, size, sizeof(size));
		fputs("total ", stdout);
		put_text(stdout, t[j].heap ? t[j].heap : "?");
		printf(": %" PRIu64 " buffer%s, %s%s\n", t[j].buffers, t[j].buffers == 1 ? "" : "s",
		       size, opt.human ? "" : " bytes");
	}
	free(t);
}

/* ---------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-adHlpR] [--json] [PATH...]\n"
		"List the buffers and directories of a umm mount with their umm attributes.\n"
		"\n"
		"  -l        long listing: mode, owner, group, size, heap, cache, sync,\n"
		"            contiguous, exports, name; a directory shows its used bytes and\n"
		"            effective constraints; totals per heap at the end\n"
		"  -R        list subdirectories recursively\n"
		"  -a        show names that start with '.'\n"
		"  -d        list directories themselves, not their contents\n"
		"  -H        sizes in K, M, G (binary, rounded up, like ls -h)\n"
		"  -p        show the processes that hold each buffer (fd, export, map)\n"
		"  --json    one JSON object a line (keys: see umm-ls(1))\n"
		"  --help    this text\n"
		"  --version the version\n"
		"\n"
		"Reads only stat, directories, user.umm.* attributes and /proc: works for any\n"
		"user. See umm-ls(1) and umm(7).\n",
		prog);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const dot[] = { "." };
	const char *const *operands;
	struct entry *dirs = NULL;
	size_t ndirs = 0, nops, files, i, li;
	bool titles, blank;
	int c;

	while ((c = getopt_long(argc, argv, "adHlpR", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			opt.all = true;
			break;
		case 'd':
			opt.dirs_self = true;
			break;
		case 'H':
			opt.human = true;
			break;
		case 'l':
			opt.longfmt = true;
			break;
		case 'p':
			opt.procs = true;
			break;
		case 'R':
			opt.recursive = true;
			break;
		case 'j':
			opt.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("%s %s\n", prog, UMM_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (opt.dirs_self)
		opt.recursive = false;
	/* NO_COLOR set to anything, even empty, turns colour off. */
	opt.color = !opt.json && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");

	operands = optind < argc ? (const char *const *)argv + optind : dot;
	nops = optind < argc ? (size_t)(argc - optind) : 1;

	/* Step 1: operands. Files (and with -d, directories) go first, as with ls. */
	files = new_listing(NULL);
	for (i = 0; i < nops; i++) {
		struct entry e = { 0 };

		e.path = xstrdup(operands[i]);
		e.name = xstrdup(operands[i]);
		if (!entry_load(&e, AT_FDCWD, operands[i], true)) {
			entry_free(&e);
			continue;
		}
		if (e.type == ENT_DIR && !opt.dirs_self)
			*GROW(dirs, ndirs) = e;
		else
			*GROW(listings[files].ents, listings[files].n) = e;
	}
	sort(listings[files].ents, listings[files].n, sizeof(struct entry), entry_cmp);
	sort(dirs, ndirs, sizeof(*dirs), entry_cmp);
	for (i = 0; i < ndirs; i++) {
		int fd = open(dirs[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0)
			complain(dirs[i].path, "cannot open directory: %s", strerror(errno));
		else
			collect_dir(dirs[i].path, fd, NULL);
		entry_free(&dirs[i]);
	}
	free(dirs);

	/* Step 2: who holds what. */
	if (opt.procs)
		scan_holders();

	/* Step 3: print. Headers as ls prints them: several operands, or -R. */
	titles = nops > 1 || opt.recursive;
	blank = listings[files].n > 0;
	for (li = 0; li < nlistings; li++) {
		const struct listing *g = &listings[li];

		if (opt.json) {
			for (i = 0; i < g->n; i++)
				print_entry_json(&g->ents[i]);
			continue;
		}
		if (!g->title) {
			print_listing_text(g);
			continue;
		}
		if (titles) {
			/* An empty line between listings, as ls prints it. */
			if (blank)
				putchar('\n');
			blank = true;
			put_text(stdout, g->title);
			fputs(":\n", stdout);
		}
		print_listing_text(g);
	}
	if (opt.longfmt || opt.json)
		print_totals(titles);

	for (li = 0; li < nlistings; li++) {
		for (i = 0; i < listings[li].n; i++)
			entry_free(&listings[li].ents[i]);
		free(listings[li].ents);
		free(listings[li].title);
	}
	free(listings);
	free(keys);
	for (i = 0; i < nid_names; i++)
		free(id_names[i].name);
	free(id_names);

	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "%s: write error: %s\n", prog, strerror(errno));
		return 1;
	}
	return exit_status;
}
