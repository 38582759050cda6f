/* SPDX-License-Identifier: MIT */
/*
 * bench_i.h - umm-bench's own: the targets, the buffers a client of each
 * makes, the scenarios (one table, bench_scenarios.c) and the harness that
 * runs them, grouped by the file that holds them.
 *
 *   umm-bench.c        options, main()
 *   bench_guard.c      the process that outlives the benchmark and cleans up
 *   bench_harness.c    the run: every scenario, the targets interleaved,
 *                      repetitions, statistics; a SIGBUS guard
 *   bench_report.c     the table, the JSON file, the targets of issue 5
 *   bench_targets.c    mounting umm twice and tmpfs, the raw heaps, losing
 *                      a umm during the run, cleaning up
 *   bench_buffers.c    a buffer of each target: create, size, map, free
 *   bench_scenarios.c  the scenarios: one short function each, one table
 */
#ifndef UMM_BENCH_I_H
#define UMM_BENCH_I_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/types.h>

#include "tool_i.h"

#define KIB 1024UL
#define MIB (1024UL * 1024UL)
#define PAGE 4096UL
#define BENCH_XATTR "user.bench"
#define DMA_HEAP_PATH "/dev/dma_heap/system"
#define UDMABUF_PATH "/dev/udmabuf"

/* ---- targets (bench_targets.c) ------------------------------------------- */

/*
 * T_UMM: passthrough, over io_uring where there is one; T_NOPT:
 * -o nopassthrough, the same transport; T_DEVFUSE: passthrough, -o nouring
 * (/dev/fuse), to set the transports side by side.
 */
enum target_id { T_UMM, T_NOPT, T_DEVFUSE, T_TMPFS, T_MEMFD, T_DMAHEAP, T_UDMABUF, NR_TARGETS };
#define T_UMM_LAST T_DEVFUSE

/* How a client of a target gets a mapping of a new buffer. */
enum map_way {
	MAP_OWN_FD, /* mmap the fd that created it (tmpfs, memfd, passthrough create) */
	MAP_REOPEN, /* close, open O_RDWR again, mmap that (a passthrough open) */
	MAP_EXPORT, /* mmap what umm_open() gives (no passthrough) */
};

struct target {
	const char *name;
	bool avail;
	bool is_umm;
	char note[256];
	/*
	 * fs.root is where its files go (umm, tmpfs); the rest of fs is its
	 * umm-fs (umm, umm-nopt).
	 */
	struct tool_fs fs;
	bool lost; /* its daemon died, or its mount stopped answering, during the run */
	char transport[16]; /* umm: io_uring or dev_fuse, from user.umm.stats */
	enum map_way way;
};

enum bench_mode { MODE_QUICK, MODE_DEFAULT, MODE_FULL, NR_MODES };

struct config {
	enum bench_mode mode;
	unsigned int reps;
	const char *json;
	const char *only;
	const char *umm_fs;
};

struct bench {
	const struct config *cfg;
	char *umm_fs;
	char tmp[PATH_MAX];
	char tmpfs_dir[PATH_MAX];
	bool tmpfs_mounted;
	struct target t[NR_TARGETS];
	unsigned long mount_size;
	bool cleaned;
	bool failed; /* a umm target was lost: the run stops, the exit status is 1 */
	FILE *json;
	unsigned int nr_results;
	unsigned int seq; /* makes every file name unique */
};

extern struct bench the_bench;

int bench_setup_targets(struct bench *b);
bool bench_umm_lost(struct bench *b, enum target_id id, int err);
void bench_cleanup(struct bench *b);
void bench_unmount_path(const char *mnt, bool now);
int bench_remove_tree(const char *dir);

/* ---- buffers (bench_buffers.c) ------------------------------------------- */

/* A mapped buffer: what a client holds while it uses one. */
struct mbuf {
	int fd, fd2; /* fd2: the memfd behind a udmabuf, or the FUSE fd of an export */
	void *map;
	size_t len;
	char path[PATH_MAX];
};

#define MBUF_NONE ((struct mbuf){ .fd = -1, .fd2 = -1, .map = MAP_FAILED })

int bench_new_name(struct bench *b, const struct target *t, const char *dir, char *buf, size_t len);
int bench_sized_dir(const struct target *t, size_t size, char *rel, size_t len);
int bench_dmaheap_alloc(size_t len);
int bench_udmabuf_alloc(size_t len, int *mfd);
int bench_buf_make(struct bench *b, const struct target *t, const char *dir, size_t len,
		   struct mbuf *m);
void bench_buf_free(struct mbuf *m);
void bench_touch_pages(void *map, size_t len);
int bench_probe_map_way(struct bench *b, struct target *t);

/* ---- scenarios (bench_scenarios.c) --------------------------------------- */

struct scenario;

/* The targets a scenario runs on. */
#define TG(id) (1U << (id))
#define TG_ALL (TG(NR_TARGETS) - 1)
#define TG_FILES (TG(T_UMM) | TG(T_NOPT) | TG(T_DEVFUSE) | TG(T_TMPFS)) /* files in a directory */
#define TG_FDS (TG_FILES | TG(T_MEMFD)) /* read(2) and write(2) */
#define TG_UMMS (TG(T_UMM) | TG(T_NOPT) | TG(T_DEVFUSE))

#define MODES_ALL ((1U << NR_MODES) - 1)

/**
 * struct scen_def - one scenario: a row of the table in bench_scenarios.c.
 * @name:     as printed and in JSON; --only matches it, or its part before '-'.
 * @unit:     of the figure.
 * @higher:   a higher figure is better.
 * @targets:  TG() of the targets it runs on; elsewhere its figure is "n/a".
 * @modes:    1U << MODE_* of the modes it runs in.
 * @size:     by mode: bytes, entries or processes (JSON "size").
 * @block:    read()/write() block size (JSON "block").
 * @ops:      by mode: operations in one sample (JSON "ops").
 * @fresh:    a new setup for every repetition (a new buffer: how fast one
 *            buffer's memory is depends on where it landed).
 * @once:     one sample only (what it makes stays), and a note that comes
 *            with it does not void the figure.
 * @setup:    per target, before its first sample (and before each with
 *            @fresh); NULL for none. Return: 0 or -errno.
 * @run:      one sample: sets *value in @unit. Return: 0 or -errno.
 * @teardown: undoes @setup (NULL: what setup made stays until the temp
 *            dir goes).
 */
struct scen_def {
	const char *name;
	const char *unit;
	bool higher;
	unsigned int targets;
	unsigned int modes;
	size_t size[NR_MODES];
	size_t block;
	unsigned int ops[NR_MODES];
	bool fresh;
	bool once;
	int (*setup)(struct bench *b, struct scenario *s, enum target_id id);
	int (*run)(struct bench *b, struct scenario *s, enum target_id id, double *value);
	void (*teardown)(struct bench *b, struct scenario *s, enum target_id id);
};

struct result {
	bool have;
	double median, min, max;
};

/* A scenario in this run: its row, its figures for the mode, its state. */
struct scenario {
	const struct scen_def *def;
	size_t size;
	size_t block;
	unsigned int iters;
	/* per target: state kept across the repetitions */
	struct mbuf m[NR_TARGETS];
	char dir[NR_TARGETS][PATH_MAX];
	double *samples[NR_TARGETS];
	unsigned int nsamples[NR_TARGETS];
	struct result res[NR_TARGETS];
	char why[NR_TARGETS][96]; /* why a target has no figure */
};

unsigned int bench_make_scenarios(const struct config *cfg, struct scenario **out);
unsigned int bench_mode_reps(enum bench_mode mode);

/* ---- the run (bench_harness.c) ------------------------------------------- */

extern const char *const bench_mode_names[NR_MODES];

int bench_main(const struct config *cfg);

/* ---- output (bench_report.c) --------------------------------------------- */

void bench_report_start(struct bench *b);
void bench_report_scenario(struct bench *b, struct scenario *s);
void bench_report_goals(struct bench *b, struct scenario *list, unsigned int n);
void bench_report_end(struct bench *b, double seconds);

/* ---- the guard (bench_guard.c) ------------------------------------------- */

int bench_guard_main(const struct config *cfg);

#endif /* UMM_BENCH_I_H */
