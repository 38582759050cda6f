// SPDX-License-Identifier: MIT
/*
 * budget.c - budgets and accounting: the charge of a buffer against the
 * mount's size=, its owner's user_size= and every user.umm.max_bytes on its
 * path, checked before any memory is allocated.
 *
 * Everything here runs under the store's lock (see LOCKING in store_i.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "store_i.h"

struct store_user *budget_user(struct store *s, uid_t uid, bool create)
{
	struct store_user *u;

	for (size_t i = 0; i < s->nusers; i++)
		if (s->users[i].uid == uid)
			return &s->users[i];
	if (!create)
		return NULL;
	u = realloc(s->users, (s->nusers + 1) * sizeof(*u));
	if (!u)
		return NULL;
	s->users = u;
	u = &s->users[s->nusers++];
	u->uid = uid;
	u->used = 0;
	return u;
}

void budget_chain_add(struct store_node *dir, int64_t delta)
{
	for (; dir; dir = dir->parent)
		dir->dir.used += (uint64_t)delta;
}

/* Would @delta more bytes under @dir break a user.umm.max_bytes? */
bool budget_chain_fits(struct store_node *dir, uint64_t delta)
{
	for (; dir; dir = dir->parent)
		if ((dir->dir.own.set & UMM_C_MAX_BYTES) &&
		    (dir->dir.used + delta < dir->dir.used ||
		     dir->dir.used + delta > dir->dir.own.max_bytes))
			return false;
	return true;
}

/*
 * Charge buffer @n @bytes in all (instead of what it has now). Growth is
 * checked against every budget first: -ENOSPC and nothing changed.
 */
int budget_charge(struct store *s, struct store_node *n, uint64_t bytes)
{
	uint64_t old = n->buf.charged;
	const char *over = NULL;
	struct store_user *u;

	if (bytes > old) {
		uint64_t d = bytes - old;

		u = budget_user(s, n->uid, true);
		if (!u)
			return -ENOMEM;
		if (s->used + d < s->used || s->used + d > s->cfg.size)
			over = "the mount's size=";
		else if (s->cfg.user_size &&
			 (u->used + d < u->used || u->used + d > s->cfg.user_size))
			over = "its owner's user_size=";
		else if (!budget_chain_fits(n->parent, d))
			over = "a user.umm.max_bytes on its path";
		if (over) {
			if (s->cfg.log)
				s->cfg.log("%s: %llu bytes more refused: they would exceed %s",
					   n->name ? n->name : "(new buffer)",
					   (unsigned long long)d, over);
			return -ENOSPC;
		}
	} else {
		u = budget_user(s, n->uid, false);
	}
	s->used += bytes - old;
	if (u)
		u->used += bytes - old;
	budget_chain_add(n->parent, (int64_t)(bytes - old));
	n->buf.charged = bytes;
	return 0;
}

/* The bytes a buffer of @size is charged. */
uint64_t budget_charge_of(uint64_t size)
{
	uint64_t r = heap_page_round(size);

	return size && !r ? UINT64_MAX : r;
}
