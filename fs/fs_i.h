/* SPDX-License-Identifier: MIT */
/*
 * fs_i.h - private to umm-fs: the daemon's configuration and the FUSE adapter.
 *
 * main.c: options, heaps, mount, the export socket, logging.
 * ops.c:  the FUSE low-level operations, each a thin call into alloc/store.c.
 */
#ifndef UMM_FS_I_H
#define UMM_FS_I_H

#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdint.h>

#include "heap.h"
#include "store.h"

/**
 * struct fs_config - everything the command line sets (one fuse_opt table fills it)
 */
struct fs_config {
	char *heap;
	char *size;
	char *user_size;
	char *nr_buffers;
	char *socket;
	int nopassthrough;
	int nouring;
	int show_help;
	int show_version;
};

/**
 * struct fs - the running daemon
 * @store:       the filesystem's state
 * @passthrough: zero-copy opens allowed (libfuse, kernel and options agree)
 * @uring:       FUSE over io_uring asked for (libfuse has it, no -o nouring);
 *                whether the kernel took it is in the start-up line, and per
 *                request in fuse_req_is_uring()
 * @heaps:       heaps in preference order
 */
struct fs {
	struct store *store;
	struct fuse_session *se;
	bool passthrough;
	bool uring;
	struct heap heaps[HEAP_MAX];
	unsigned nheaps;
};

/* main.c */
void fs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ops.c */
extern const struct fuse_lowlevel_ops fs_ops;

#endif /* UMM_FS_I_H */
