// SPDX-License-Identifier: MIT
/*
 * ls_collect.c - step 1 of umm-ls: the listings. One for the operands that
 * are listed themselves, and one for each directory listed, its entries read
 * with readdir(3) (and their attributes by ls_attr.c) and sorted; with -R
 * its subdirectories after it, never twice the same in a chain (a
 * bind-mount loop).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ls_i.h"

struct listing *ls_listings;
size_t ls_nlistings;

/* The chain of directories being listed, to stop -R in a bind-mount loop. */
struct chain {
	dev_t dev;
	ino_t ino;
	const struct chain *up;
};

/* "dir" + "/" + "name", without doubling a slash the operand already ends with. */
static char *path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	bool slash = dl && dir[dl - 1] != '/';
	char *p = ls_xreallocarray(NULL, dl + slash + nl + 1, 1);

	memcpy(p, dir, dl);
	if (slash)
		p[dl] = '/';
	memcpy(p + dl + slash, name, nl + 1);
	return p;
}

/* Free what @e holds (not @e itself), and zero it. */
void ls_entry_free(struct entry *e)
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

/* A new, empty listing titled @title (NULL: the operands); its index. */
size_t ls_new_listing(const char *title)
{
	struct listing *g = GROW(ls_listings, ls_nlistings);

	g->title = title ? ls_xstrdup(title) : NULL;
	return ls_nlistings - 1;
}

/* qsort() order of entries: by name. */
int ls_entry_cmp(const void *a, const void *b)
{
	/* Byte order, as ls sorts with LC_ALL=C: the same on every machine. */
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/**
 * ls_collect_dir() - read one directory into a new listing, then (-R) its subdirectories
 * @path: the directory's path as listed: the listing's title and the prefix of
 *        its entries' paths
 * @fd: an open fd of the directory; closed here
 * @up: the directories being listed above this one (NULL at an operand)
 */
void ls_collect_dir(const char *path, int fd, const struct chain *up)
{
	struct chain here;
	struct dirent *de;
	struct entry *ents;
	struct stat st;
	size_t li, i, n;
	DIR *d;

	if (fstat(fd, &st)) {
		ls_complain(path, "%s", strerror(errno));
		close(fd);
		return;
	}
	d = fdopendir(fd);
	if (!d) {
		ls_complain(path, "cannot read directory: %s", strerror(errno));
		close(fd);
		return;
	}
	here = (struct chain){ .dev = st.st_dev, .ino = st.st_ino, .up = up };
	li = ls_new_listing(path);
	for (;;) {
		struct listing *g = &ls_listings[li];
		struct entry *e;

		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_name[0] == '.' && !ls_opt.all)
			continue;
		e = GROW(g->ents, g->n);
		e->path = path_join(path, de->d_name);
		e->name = ls_xstrdup(de->d_name);
		if (!ls_entry_load(e, dirfd(d), de->d_name, false)) {
			ls_entry_free(e);
			g->n--;
		}
	}
	if (errno)
		ls_complain(path, "cannot read directory: %s", strerror(errno));

	/* ls_listings[] may move as subdirectories add ls_listings; ents[] does not. */
	ents = ls_listings[li].ents;
	n = ls_listings[li].n;
	ls_sort(ents, n, sizeof(*ents), ls_entry_cmp);

	for (i = 0; ls_opt.recursive && i < n; i++) {
		const struct chain *c;
		int sub;

		if (ents[i].type != ENT_DIR)
			continue;
		for (c = &here; c; c = c->up) {
			if (c->dev == ents[i].st.st_dev && c->ino == ents[i].st.st_ino)
				break;
		}
		if (c) {
			ls_complain(ents[i].path, "not listing already-listed directory");
			continue;
		}
		sub = openat(dirfd(d), ents[i].name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			if (errno != ENOENT)
				ls_complain(ents[i].path, "cannot open directory: %s",
					    strerror(errno));
			continue;
		}
		ls_collect_dir(ents[i].path, sub, &here);
	}
	closedir(d);
}

/* Free every listing and its entries. */
void ls_free_listings(void)
{
	size_t li, i;

	for (li = 0; li < ls_nlistings; li++) {
		for (i = 0; i < ls_listings[li].n; i++)
			ls_entry_free(&ls_listings[li].ents[i]);
		free(ls_listings[li].ents);
		free(ls_listings[li].title);
	}
	free(ls_listings);
	ls_listings = NULL;
	ls_nlistings = 0;
}
