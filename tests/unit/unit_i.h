/* SPDX-License-Identifier: MIT */
/*
 * unit_i.h - what the unit tests of alloc/ share: headers and units.
 */
#ifndef UMM_UNIT_I_H
#define UMM_UNIT_I_H

#include <criterion/criterion.h>
#include <pthread.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "constraints.h"
#include "heap.h"
#include "parse.h"
#include "store.h"

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define ROOT ((uint64_t)UMM_ROOT_INO)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CM(m) (1u << (m))

/* Set constraint @which of @c from @value, which must be valid. */
static inline void cset(struct constraints *c, int which, const char *value)
{
	int ret = constraints_set(c, which, value, strlen(value));

	cr_assert_eq(ret, 0, "constraints_set(%#x, \"%s\") = %d, want 0", which, value, ret);
}

#endif /* UMM_UNIT_I_H */
