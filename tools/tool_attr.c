// SPDX-License-Identifier: MIT
/*
 * tool_attr.c - umm's extended attributes as the tools use them: reading one
 * as a string, setting a number, and finding a KEY=VALUE word in the
 * one-line values (user.umm.effective, user.umm.stats).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "tool_i.h"

/**
 * tool_xattr_get() - read one extended attribute as a string
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
 * the file (reading user.* attributes needs it), -ENOMEM.
 */
int tool_xattr_get(const char *path, bool follow, const char *name, char **value)
{
	ssize_t len, got;
	char *buf;
	int tries, err;

	for (tries = 0; tries < 5; tries++) {
		len = follow ? getxattr(path, name, NULL, 0) : lgetxattr(path, name, NULL, 0);
		if (len < 0)
			return -errno;
		buf = malloc((size_t)len + 1);
		if (!buf)
			return -ENOMEM;
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
 * tool_xattr_set_u64() - set an attribute to a number, in decimal
 * @path:  the file or directory (a symbolic link is followed)
 * @name:  the attribute, such as "user.umm.size"
 * @value: the number
 *
 * Return: 0, or -errno.
 */
int tool_xattr_set_u64(const char *path, const char *name, uint64_t value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, value);
	return setxattr(path, name, buf, strlen(buf), 0) == 0 ? 0 : -errno;
}

/**
 * tool_attr_value() - the value of @key in a "KEY=VALUE KEY=VALUE ..." line
 * @line: the line, such as user.umm.effective or user.umm.stats; or NULL
 * @key:  the key, such as "heap"
 * @len:  set to the length of the value (it ends at a space or the end)
 *
 * The first word that starts with "@key=" is the one.
 * Return: where the value starts in @line, or NULL when no word has @key
 * (or @line is NULL).
 */
const char *tool_attr_value(const char *line, const char *key, size_t *len)
{
	size_t kl = strlen(key);
	const char *p = line;

	while (p) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			*len = strcspn(p + kl + 1, " ");
			return p + kl + 1;
		}
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return NULL;
}
