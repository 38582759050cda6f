// SPDX-License-Identifier: MIT
/*
 * ls_json.c - step 3 of umm-ls with --json: one JSON object a line for each
 * buffer and directory, and for each total per heap. The keys are
 * documented in umm-ls(1), JSON OUTPUT: keep the two in step, and only ever
 * add keys.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ls_i.h"

static const char *const hold_kind_names[] = {
	[HOLD_FD] = "fd",
	[HOLD_EXPORT] = "export",
	[HOLD_MAP] = "map",
};

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

	if (ls_size_value(s, &v))
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
	copy = ls_xstrdup(eff);
	putchar('{');
	for (word = strtok_r(copy, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
		char *val = strchr(word, '=');

		if (word[0] == '/' || !val) {
			/* One more device path (anything else is not umm's format). */
			if (in_devices) {
				if (any_device)
					putchar(',');
				tool_json_str(stdout, word);
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
				tool_json_str(stdout, val);
		} else {
			tool_json_str(stdout, val);
		}
	}
	if (in_devices)
		putchar(']');
	putchar('}');
	free(copy);
}

/**
 * ls_print_entry_json() - print one buffer or directory as a line of JSON
 * @e: the entry
 *
 * The keys are documented in umm-ls(1), JSON OUTPUT: keep the two in step,
 * and only ever add keys.
 */
void ls_print_entry_json(const struct entry *e)
{
	bool first = true, own_first = true;
	char mode[8];
	uint64_t v;
	size_t i;

	putchar('{');
	json_key(&first, "type");
	tool_json_str(stdout, e->type == ENT_DIR ? "dir" : "buffer");
	json_key(&first, "path");
	tool_json_str(stdout, e->path);
	json_key(&first, "name");
	tool_json_str(stdout, e->name);
	json_key(&first, "ino");
	printf("%" PRIu64, (uint64_t)e->st.st_ino);
	json_key(&first, "mode");
	snprintf(mode, sizeof(mode), "%04o", (unsigned int)(e->st.st_mode & 07777));
	tool_json_str(stdout, mode);
	json_key(&first, "uid");
	printf("%u", (unsigned int)e->st.st_uid);
	json_key(&first, "user");
	tool_json_str(stdout, ls_user_name(e->st.st_uid));
	json_key(&first, "gid");
	printf("%u", (unsigned int)e->st.st_gid);
	json_key(&first, "group");
	tool_json_str(stdout, ls_group_name(e->st.st_gid));

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
			json_key(&own_first, ls_constraint_names[i]);
			tool_json_str(stdout, e->own[i]);
		}
		puts("}}");
		return;
	}

	json_key(&first, "size");
	printf("%" PRIu64, (uint64_t)e->st.st_size);
	json_key(&first, "heap");
	tool_json_str(stdout, e->bx[XB_HEAP]);
	json_key(&first, "cache");
	tool_json_str(stdout, e->bx[XB_CACHE]);
	json_key(&first, "sync");
	tool_json_str(stdout, e->bx[XB_SYNC]);
	json_key(&first, "contiguous");
	json_bool01(e->bx[XB_CONTIGUOUS]);
	json_key(&first, "exports");
	json_size(e->bx[XB_EXPORTS]);
	json_key(&first, "dmabuf");
	if (ls_parse_u64(e->bx[XB_DMABUF], &v))
		printf("%" PRIu64, v);
	else
		fputs("null", stdout);
	json_key(&first, "memfd");
	tool_json_str(stdout, e->bx[XB_MEMFD] && *e->bx[XB_MEMFD] ? e->bx[XB_MEMFD] : NULL);
	if (ls_opt.procs) {
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
			tool_json_str(stdout, h->comm);
			json_key(&hfirst, "kind");
			tool_json_str(stdout, hold_kind_names[h->kind]);
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

/* One total per heap (ls_print_totals()): {"type":"total",...}. */
void ls_print_total_json(const char *heap, uint64_t buffers, uint64_t bytes)
{
	bool first = true;

	putchar('{');
	json_key(&first, "type");
	tool_json_str(stdout, "total");
	json_key(&first, "heap");
	tool_json_str(stdout, heap);
	json_key(&first, "buffers");
	printf("%" PRIu64, buffers);
	json_key(&first, "bytes");
	printf("%" PRIu64, bytes);
	puts("}");
}
