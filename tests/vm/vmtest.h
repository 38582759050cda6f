/* SPDX-License-Identifier: MIT */
/*
 * vmtest.h - helpers the VM tests (test_heaps.c, test_dmabuf.c) share, on top
 * of tests/integration/itest.h.
 */
#ifndef UMM_VMTEST_H
#define UMM_VMTEST_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>

/* A text xattr of @path into @buf (trailing newline cut); length, or -1 (errno). */
static inline ssize_t xget(const char *path, const char *name, char *buf, size_t len)
{
	ssize_t n = getxattr(path, name, buf, len - 1);

	if (n < 0) {
		snprintf(buf, len, "<%s>", strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return n;
}

static inline int xset(const char *path, const char *name, const char *value)
{
	return setxattr(path, name, value, strlen(value), 0);
}

/*
 * The line @key ("name:", "ino:") of /proc/self/fdinfo/@fd, its value after
 * the tab into @out. Return 0 or -1 (no such line).
 */
static inline int fdinfo_field(int fd, const char *key, char *out, size_t len)
{
	char path[64], line[512];
	size_t klen = strlen(key);
	int ret = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen))
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(out, len, "%s", line + klen + strspn(line + klen, " \t"));
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

#endif /* UMM_VMTEST_H */
