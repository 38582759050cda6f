// SPDX-License-Identifier: MIT
/*
 * ls_print.c - step 3 of umm-ls, as text: one line an entry (with -l, its
 * columns padded to the widest in the listing), its holders under it (-p),
 * and the totals per heap (also as JSON, through ls_json.c); sizes, modes,
 * and user and group names, remembered.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ls_i.h"

#define COLOR_DIR "\033[1;34m"
#define COLOR_OFF "\033[0m"

/**
 * ls_format_size() - a size for a text column
 * @v: bytes
 * @buf: where to write it
 * @size: the size of @buf (at least 24)
 *
 * In bytes; with -H as ls -h prints it: in K, M, G, T, P or E (powers of
 * 1024), rounded up, with one decimal below 10 (so 5000 is 4.9K, 1048575 is
 * 1.0M).
 */
void ls_format_size(uint64_t v, char *buf, size_t size)
{
	static const char units[] = "KMGTPE";
	uint64_t d = 1024, q, tenths;
	int u = 0;

	if (!ls_opt.human || v < 1024) {
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
		n->name = gr ? ls_xstrdup(gr->gr_name) : NULL;
	} else {
		pw = getpwuid((uid_t)id);
		n->name = pw ? ls_xstrdup(pw->pw_name) : NULL;
	}
	return n->name;
}

/* The name of user @uid, or NULL: no such user. */
const char *ls_user_name(uid_t uid)
{
	return id_name(false, (unsigned int)uid);
}

/* The name of group @gid, or NULL: no such group. */
const char *ls_group_name(gid_t gid)
{
	return id_name(true, (unsigned int)gid);
}

/*
 * One value of user.umm.effective ("KEY=VALUE KEY=VALUE ..."), copied into
 * buf (size bytes); "?" if the value is unknown, missing or too long.
 */
static void effective_value(const char *eff, const char *key, char *buf, size_t size)
{
	size_t vl;
	const char *v = tool_attr_value(eff, key, &vl);

	snprintf(buf, size, "?");
	if (v && vl < size) {
		memcpy(buf, v, vl);
		buf[vl] = '\0';
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
	name = ls_user_name(e->st.st_uid);
	if (name)
		snprintf(cols[C_USER], 64, "%s", name);
	else
		snprintf(cols[C_USER], 64, "%u", (unsigned int)e->st.st_uid);
	name = ls_group_name(e->st.st_gid);
	if (name)
		snprintf(cols[C_GROUP], 64, "%s", name);
	else
		snprintf(cols[C_GROUP], 64, "%u", (unsigned int)e->st.st_gid);

	if (e->type == ENT_BUFFER) {
		ls_format_size((uint64_t)e->st.st_size, cols[C_SIZE], 64);
		snprintf(cols[C_HEAP], 64, "%s", e->bx[XB_HEAP] ? e->bx[XB_HEAP] : "?");
		snprintf(cols[C_CACHE], 64, "%s", e->bx[XB_CACHE] ? e->bx[XB_CACHE] : "?");
		snprintf(cols[C_SYNC], 64, "%s", e->bx[XB_SYNC] ? e->bx[XB_SYNC] : "?");
		snprintf(cols[C_CONTIG], 64, "%s",
			 e->bx[XB_CONTIGUOUS] ? e->bx[XB_CONTIGUOUS] : "?");
		snprintf(cols[C_EXPORTS], 64, "%s", e->bx[XB_EXPORTS] ? e->bx[XB_EXPORTS] : "?");
	} else {
		/* A directory: bytes used by its subtree, and its effective constraints. */
		const char *eff = e->dx[XD_EFFECTIVE];

		if (ls_size_value(e->dx[XD_USED], &v))
			ls_format_size(v, cols[C_SIZE], 64);
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

	if (dir && ls_opt.color)
		fputs(COLOR_DIR, stdout);
	tool_put_text(stdout, e->name);
	if (dir && ls_opt.color)
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
		tool_put_text(stdout, h->comm);
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
 * ls_print_listing_text() - print one listing as text
 * @g: the listing
 *
 * Each entry is its name, after its -l columns (padded to the widest value
 * in the listing), followed with -p by its holders.
 */
void ls_print_listing_text(const struct listing *g)
{
	char(*cols)[C_NR][64] = NULL;
	size_t w[C_NR] = { 0 };
	size_t i, c;

	if (ls_opt.longfmt && g->n) {
		cols = ls_xreallocarray(NULL, g->n, sizeof(*cols));
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
			tool_put_text(stdout, e->dx[XD_EFFECTIVE] ? e->dx[XD_EFFECTIVE] : "?");
			putchar(']');
		}
		putchar('\n');
		print_holders_text(e);
	}
	free(cols);
}

/* ---- totals per heap ----------------------------------------------------- */

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
 * ls_print_totals() - the number and bytes of the buffers listed, per heap
 * @blank: begin the text with an empty line (after ls_listings with headers)
 *
 * One line a heap, sorted by name; buffers whose heap is unknown last.
 */
void ls_print_totals(bool blank)
{
	struct total *t = NULL;
	size_t nt = 0, li, i, j;
	char size[32];

	for (li = 0; li < ls_nlistings; li++) {
		for (i = 0; i < ls_listings[li].n; i++) {
			const struct entry *e = &ls_listings[li].ents[i];
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
		ls_sort(t, nt, sizeof(*t), total_cmp);
	for (j = 0; j < nt; j++) {
		if (ls_opt.json) {
			ls_print_total_json(t[j].heap, t[j].buffers, t[j].bytes);
			continue;
		}
		if (blank && !j)
			putchar('\n');
		ls_format_size(t[j].bytes, size, sizeof(size));
		fputs("total ", stdout);
		tool_put_text(stdout, t[j].heap ? t[j].heap : "?");
		printf(": %" PRIu64 " buffer%s, %s%s\n", t[j].buffers, t[j].buffers == 1 ? "" : "s",
		       size, ls_opt.human ? "" : " bytes");
	}
	free(t);
}

/* Forget the user and group names. */
void ls_free_names(void)
{
	size_t i;

	for (i = 0; i < nid_names; i++)
		free(id_names[i].name);
	free(id_names);
	id_names = NULL;
	nid_names = 0;
}
