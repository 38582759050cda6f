// SPDX-License-Identifier: MIT
/*
 * ls_attr.c - an entry's stat and its umm attributes, which umm-ls reads
 * with getxattr(2) and listxattr(2) only (an example of the xattr
 * interface): the tables of the attributes of buffers and directories, the
 * constraints a directory sets itself, and the parsers of the values.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "ls_i.h"
#include "parse.h"

static const char *const buffer_xattrs[XB_NR] = {
	[XB_HEAP] = "user.umm.heap", /* the heap that holds the memory */
	[XB_CACHE] = "user.umm.cache", /* cached, uncached or writecombine */
	[XB_SYNC] = "user.umm.sync", /* cpu, cpu:read, cpu:write or device */
	[XB_CONTIGUOUS] = "user.umm.contiguous", /* 0 or 1 */
	[XB_EXPORTS] = "user.umm.exports", /* fds handed out by the export socket */
	[XB_DMABUF] = "user.umm.dmabuf", /* the dma-buf's inode number, or empty */
	[XB_MEMFD] = "user.umm.memfd", /* "MAJOR:MINOR INODE" of the memfd, or empty */
};

static const char *const dir_xattrs[XD_NR] = {
	[XD_EFFECTIVE] = "user.umm.effective", /* all effective constraints, one line */
	[XD_USED] = "user.umm.used_bytes", /* bytes charged to the subtree */
};

const char *const ls_constraint_names[] = {
	"size", "align", "contiguous", "cache", "heap", "devices", "max_bytes",
};

#define XATTR_PREFIX "user.umm."

/* tool_xattr_get(), where running out of memory ends umm-ls, as everywhere in it. */
static int xattr_get(const char *path, bool follow, const char *name, char **value)
{
	int ret = tool_xattr_get(path, follow, name, value);

	if (ret == -ENOMEM)
		ls_out_of_memory();
	return ret;
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
		list = ls_xreallocarray(NULL, (size_t)len + 1, 1);
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
			if (!strcmp(n + strlen(XATTR_PREFIX), ls_constraint_names[i]) && !e->own[i])
				xattr_get(path, follow, n, &e->own[i]);
		}
	}
	free(list);
}

/**
 * ls_entry_load() - stat one name and read its umm attributes
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
bool ls_entry_load(struct entry *e, int dfd, const char *at, bool operand)
{
	char procpath[32 + NAME_MAX + 1], *ident = NULL;
	const char *xpath = e->path, *idname;
	bool follow = operand;
	size_t i;
	int ret;

	if (fstatat(dfd, at, &e->st, operand ? 0 : AT_SYMLINK_NOFOLLOW)) {
		if (!operand && errno == ENOENT)
			return false;
		fprintf(stderr, "%s: cannot access '", tool_name());
		tool_put_text(stderr, e->path);
		fprintf(stderr, "': %s\n", strerror(errno));
		ls_exit_status = 1;
		return false;
	}
	if (!S_ISREG(e->st.st_mode) && !S_ISDIR(e->st.st_mode)) {
		/* umm refuses every other type (EPERM), so this is some other fs. */
		ls_complain(e->path, "not on a umm mount");
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
		ls_complain(e->path, "not on a umm mount");
		return false;
	}
	if (ret == -ENOENT && !operand)
		return false;
	if (ret < 0 && (operand || ret != -EACCES)) {
		ls_complain(e->path, "cannot read %s: %s", idname, strerror(-ret));
		return false;
	}
	if (ret == -EACCES)
		return true; /* listed, with every attribute unknown */

	/* The rest are best effort: a value that cannot be read is shown as unknown. */
	if (e->type == ENT_DIR) {
		e->dx[XD_EFFECTIVE] = ident;
		for (i = 1; i < XD_NR; i++)
			xattr_get(xpath, follow, dir_xattrs[i], &e->dx[i]);
		if (ls_opt.json)
			read_own_constraints(e, xpath, follow);
	} else {
		e->bx[XB_HEAP] = ident;
		for (i = 1; i < XB_NR; i++)
			xattr_get(xpath, follow, buffer_xattrs[i], &e->bx[i]);
	}
	return true;
}

/* ---- the values ---------------------------------------------------------- */

/**
 * ls_size_value() - a size as umm prints it, in bytes
 * @s: decimal digits with an optional K, M, G or T suffix (umm(7), Sizes)
 * @v: set to the number of bytes
 *
 * The daemon's own parser (alloc/parse.c, libc only), so umm-ls reads
 * exactly what umm writes.
 * Return: true, or false for NULL, "none", or anything else umm does not write.
 */
bool ls_size_value(const char *s, uint64_t *v)
{
	return s && !parse_size_str(s, v);
}

/* A decimal number, digits only, as user.umm.dmabuf gives it. */
bool ls_parse_u64(const char *s, uint64_t *v)
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
