// SPDX-License-Identifier: MIT
/*
 * tool_find.c - finding programs: the umm-fs to mount, umm-ls, fusermount3.
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

/**
 * tool_find_umm_fs() - the umm-fs to mount with.
 * @opt: --umm-fs, or NULL.
 *
 * In order: --umm-fs, $UMM_FS, ../fs/umm-fs beside this program (the build
 * tree), UMM_SBINDIR/umm-fs (the install), $PATH. A path given explicitly
 * must work; nothing else is tried then.
 *
 * Return: a malloc'd string, or NULL with a message printed.
 */
char *tool_find_umm_fs(const char *opt)
{
	const char *env = getenv("UMM_FS");
	char *p;

	if (!opt && env && *env)
		opt = env;
	if (opt) {
		if (tool_is_executable(opt))
			return strdup(opt);
		tool_complain(0, "%s (from %s) is not an executable file", opt,
			      opt == env ? "$UMM_FS" : "--umm-fs");
		return NULL;
	}
	p = tool_find("umm-fs", "../fs/umm-fs");
	if (!p)
		tool_complain(0,
			      "umm-fs not found (beside %s, in " UMM_SBINDIR
			      " or in $PATH): give it with --umm-fs PATH",
			      tool_name());
	return p;
}
