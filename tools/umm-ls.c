// SPDX-License-Identifier: MIT
/*
 * umm-ls.c - the ls(1) of umm(7): list buffers and directories with their
 * umm attributes, and (-p) the processes that hold each buffer. This file
 * holds the options, main() and the memory and message helpers of the rest.
 *
 * Everything comes from what any user can read: stat(2), readdir(3), the
 * user.umm.* extended attributes (getxattr(2), listxattr(2)) and /proc. So
 * umm-ls doubles as an example of the xattr interface: see ls_attr.c, its
 * tables of attributes, and print_effective_json() in ls_json.c, which parses
 * user.umm.effective. No libumm, no export socket, and never an open(2) of a
 * buffer: opening a filling buffer read-only would seal it (umm(7), LIFE
 * CYCLE OF A BUFFER), and a listing must change nothing.
 *
 * The work is done in three steps:
 *   1. collect (ls_collect.c, ls_attr.c): stat every operand, read the
 *      directories (recursively with -R) and the attributes of each entry
 *      into listings: one a directory listed, plus one for the operands that
 *      are listed themselves;
 *   2. with -p (ls_holders.c), scan /proc once and attach to each buffer the
 *      processes that hold it (an fd of the mount, an exported fd, a mapping);
 *   3. print every listing, as text (ls_print.c) or as JSON Lines
 *      (ls_json.c), then the totals per heap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ls_i.h"

struct ls_opts ls_opt;
int ls_exit_status;

/* ---- memory and messages ------------------------------------------------- */

/* umm-ls does not go on without memory: a message, and exit status 1. */
void ls_out_of_memory(void)
{
	fprintf(stderr, "%s: out of memory\n", tool_name());
	exit(1);
}

/* reallocarray() that never fails (ls_out_of_memory()) and never frees. */
void *ls_xreallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		ls_out_of_memory();
	/* Never realloc(p, 0): it may free p and return NULL. */
	p = realloc(p, n && size ? n * size : 1);
	if (!p)
		ls_out_of_memory();
	return p;
}

/* strdup() that never fails. */
char *ls_xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		ls_out_of_memory();
	return d;
}

/* Make room for one more element of size bytes at the end of arr, zeroed. */
void *ls_grow_array(void *arr, size_t *n, size_t size)
{
	arr = ls_xreallocarray(arr, *n + 1, size);
	memset((char *)arr + *n * size, 0, size);
	(*n)++;
	return arr;
}

/*
 * qsort() for arrays that may be empty: an empty array's pointer may be NULL,
 * and qsort() must not be given NULL even with no elements (UBSan says so).
 */
void ls_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/* "umm-ls: PATH: message", and the exit status becomes 1. */
void ls_complain(const char *path, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tool_name());
	tool_put_text(stderr, path);
	fputs(": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ls_exit_status = 1;
}

/* ---- options and the three steps ----------------------------------------- */

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
		tool_name());
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

	tool_init("umm-ls");
	while ((c = getopt_long(argc, argv, "adHlpR", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			ls_opt.all = true;
			break;
		case 'd':
			ls_opt.dirs_self = true;
			break;
		case 'H':
			ls_opt.human = true;
			break;
		case 'l':
			ls_opt.longfmt = true;
			break;
		case 'p':
			ls_opt.procs = true;
			break;
		case 'R':
			ls_opt.recursive = true;
			break;
		case 'j':
			ls_opt.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			tool_version();
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (ls_opt.dirs_self)
		ls_opt.recursive = false;
	/* NO_COLOR set to anything, even empty, turns colour off. */
	ls_opt.color = !ls_opt.json && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");

	operands = optind < argc ? (const char *const *)argv + optind : dot;
	nops = optind < argc ? (size_t)(argc - optind) : 1;

	/* Step 1: operands. Files (and with -d, directories) go first, as with ls. */
	files = ls_new_listing(NULL);
	for (i = 0; i < nops; i++) {
		struct entry e = { 0 };

		e.path = ls_xstrdup(operands[i]);
		e.name = ls_xstrdup(operands[i]);
		if (!ls_entry_load(&e, AT_FDCWD, operands[i], true)) {
			ls_entry_free(&e);
			continue;
		}
		if (e.type == ENT_DIR && !ls_opt.dirs_self)
			*GROW(dirs, ndirs) = e;
		else
			*GROW(ls_listings[files].ents, ls_listings[files].n) = e;
	}
	ls_sort(ls_listings[files].ents, ls_listings[files].n, sizeof(struct entry), ls_entry_cmp);
	ls_sort(dirs, ndirs, sizeof(*dirs), ls_entry_cmp);
	for (i = 0; i < ndirs; i++) {
		int fd = open(dirs[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0)
			ls_complain(dirs[i].path, "cannot open directory: %s", strerror(errno));
		else
			ls_collect_dir(dirs[i].path, fd, NULL);
		ls_entry_free(&dirs[i]);
	}
	free(dirs);

	/* Step 2: who holds what. */
	if (ls_opt.procs)
		ls_scan_holders();

	/* Step 3: print. Headers as ls prints them: several operands, or -R. */
	titles = nops > 1 || ls_opt.recursive;
	blank = ls_listings[files].n > 0;
	for (li = 0; li < ls_nlistings; li++) {
		const struct listing *g = &ls_listings[li];

		if (ls_opt.json) {
			for (i = 0; i < g->n; i++)
				ls_print_entry_json(&g->ents[i]);
			continue;
		}
		if (!g->title) {
			ls_print_listing_text(g);
			continue;
		}
		if (titles) {
			/* An empty line between ls_listings, as ls prints it. */
			if (blank)
				putchar('\n');
			blank = true;
			tool_put_text(stdout, g->title);
			fputs(":\n", stdout);
		}
		ls_print_listing_text(g);
	}
	if (ls_opt.longfmt || ls_opt.json)
		ls_print_totals(titles);

	ls_free_listings();
	ls_free_names();

	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "%s: write error: %s\n", tool_name(), strerror(errno));
		return 1;
	}
	return ls_exit_status;
}
