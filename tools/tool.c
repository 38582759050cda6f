// SPDX-License-Identifier: MIT
/*
 * tool.c - helpers of the tools that mount umm-fs themselves.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool_i.h"

/**
 * tool_is_executable() - is @path a regular file we may execute?
 */
bool tool_is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/**
 * tool_path_search() - the first executable @name in $PATH
 * Return: a malloc'd path, or NULL.
 */
char *tool_path_search(const char *name)
{
	const char *p = getenv("PATH");
	char buf[PATH_MAX];

	while (p && *p) {
		size_t n = strcspn(p, ":");

		if (n &&
		    snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, name) < (int)sizeof(buf) &&
		    tool_is_executable(buf))
			return strdup(buf);
		p += n;
		if (*p == ':')
			p++;
	}
	return NULL;
}

/* @rel beside this program, if executable: a malloc'd real path, or NULL. */
static char *beside_self(const char *rel)
{
	char self[PATH_MAX], buf[PATH_MAX], real[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0 || (size_t)n >= sizeof(self) - 1)
		return NULL;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	if (snprintf(buf, sizeof(buf), "%s/%s", self, rel) >= (int)sizeof(buf) ||
	    !tool_is_executable(buf))
		return NULL;
	/* build/tools/../fs/umm-fs reads better as build/fs/umm-fs */
	return strdup(realpath(buf, real) ? real : buf);
}

/**
 * tool_find() - where program @name is, when nobody said
 * @name: "umm-fs" or "umm-ls"
 * @rel:  where it is beside this program in a build tree ("../fs/umm-fs")
 *
 * In order: beside this program (a build tree), the installed one
 * (UMM_SBINDIR for umm-fs), the first in $PATH.
 * Return: a malloc'd path, or NULL.
 */
char *tool_find(const char *name, const char *rel)
{
	char buf[PATH_MAX];
	char *p = beside_self(rel);

	if (!p && !strcmp(name, "umm-fs") &&
	    snprintf(buf, sizeof(buf), "%s/%s", UMM_SBINDIR, name) < (int)sizeof(buf) &&
	    tool_is_executable(buf))
		p = strdup(buf);
	if (!p)
		p = tool_path_search(name);
	return p;
}

/* Undo the octal escapes (\040 and the like) of a /proc/self/mountinfo field. */
static void unescape_mountinfo(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

/**
 * tool_is_mounted() - is something mounted on @path?
 *
 * Read from /proc/self/mountinfo: a stat of a FUSE mount point would wait for
 * the very daemon this asks about.
 * Return: 1, 0, or -errno.
 */
int tool_is_mounted(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, *field, *save;
	size_t cap = 0;
	int found = 0, i;

	if (!f)
		return -errno;
	while (!found && getline(&line, &cap, f) > 0) {
		/* field 5 is the mount point */
		field = strtok_r(line, " ", &save);
		for (i = 1; field && i < 5; i++)
			field = strtok_r(NULL, " ", &save);
		if (!field)
			continue;
		unescape_mountinfo(field);
		found = strcmp(field, path) == 0;
	}
	free(line);
	fclose(f);
	return found;
}
