/* SPDX-License-Identifier: MIT */
/*
 * ls_i.h - umm-ls's own: its options, what a listing holds, and the
 * functions of each step, grouped by the file that holds them:
 *
 *   umm-ls.c      options, main(): the three steps; memory, messages
 *   ls_attr.c     1. an entry's stat and umm attributes, and their values
 *   ls_collect.c  1. the listings: the operands, the directories (-R)
 *   ls_holders.c  2. -p: who holds each buffer, from /proc
 *   ls_print.c    3. text output, and the totals per heap
 *   ls_json.c     3. JSON Lines output
 */
#ifndef UMM_LS_I_H
#define UMM_LS_I_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "tool_i.h"

struct ls_opts {
	bool longfmt; /* -l */
	bool recursive; /* -R */
	bool all; /* -a */
	bool human; /* -H */
	bool procs; /* -p */
	bool dirs_self; /* -d */
	bool json; /* --json */
	bool color; /* stdout is a terminal and NO_COLOR is unset */
};

extern struct ls_opts ls_opt;

/* 1 once anything could not be listed (ls(1) style); 2 for usage errors. */
extern int ls_exit_status;

/*
 * The attributes umm-ls reads (ls_attr.c names them). A buffer is recognised
 * by user.umm.heap and a directory by user.umm.effective: every buffer and
 * directory of a umm mount has them, and no other file system does.
 */
enum { XB_HEAP, XB_CACHE, XB_SYNC, XB_CONTIGUOUS, XB_EXPORTS, XB_DMABUF, XB_MEMFD, XB_NR };
enum { XD_EFFECTIVE, XD_USED, XD_NR };

/* The constraints a directory can set itself (listed by listxattr(2)). */
#define NR_CONSTRAINTS 7
extern const char *const ls_constraint_names[NR_CONSTRAINTS];

enum entry_type { ENT_BUFFER, ENT_DIR };

/* How a process holds a buffer; also the order in which holders are printed. */
enum hold_kind { HOLD_FD, HOLD_EXPORT, HOLD_MAP };

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

extern struct listing *ls_listings;
extern size_t ls_nlistings;

/* ---- umm-ls.c: memory and messages --------------------------------------- */

void ls_out_of_memory(void);
void *ls_xreallocarray(void *p, size_t n, size_t size);
char *ls_xstrdup(const char *s);
void *ls_grow_array(void *arr, size_t *n, size_t size);
/* Append one zeroed element to the array arr of n elements; gives its address. */
#define GROW(arr, n) ((arr) = ls_grow_array((arr), &(n), sizeof(*(arr))), &(arr)[(n)-1])
void ls_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
__attribute__((format(printf, 2, 3))) void ls_complain(const char *path, const char *fmt, ...);

/* ---- ls_attr.c: an entry's attributes ------------------------------------ */

bool ls_entry_load(struct entry *e, int dfd, const char *at, bool operand);
bool ls_size_value(const char *s, uint64_t *v);
bool ls_parse_u64(const char *s, uint64_t *v);

/* ---- ls_collect.c: the listings ------------------------------------------ */

size_t ls_new_listing(const char *title);
void ls_entry_free(struct entry *e);
int ls_entry_cmp(const void *a, const void *b);
struct chain;
void ls_collect_dir(const char *path, int fd, const struct chain *up);
void ls_free_listings(void);

/* ---- ls_holders.c: who holds what ---------------------------------------- */

void ls_scan_holders(void);

/* ---- ls_print.c: text output --------------------------------------------- */

void ls_format_size(uint64_t v, char *buf, size_t size);
const char *ls_user_name(uid_t uid);
const char *ls_group_name(gid_t gid);
void ls_print_listing_text(const struct listing *g);
void ls_print_totals(bool blank);
void ls_free_names(void);

/* ---- ls_json.c: JSON output ---------------------------------------------- */

void ls_print_entry_json(const struct entry *e);
void ls_print_total_json(const char *heap, uint64_t buffers, uint64_t bytes);

#endif /* UMM_LS_I_H */
