/* SPDX-License-Identifier: MIT */
/*
 * demo_i.h - umm-demo's own: the options, the test pattern, the messages
 * between its processes, the roles, the parent and the report, grouped by
 * the file that holds them.
 *
 * The pipeline, from the parent's side:
 *
 *     producer --FRAME k--> filter --FRAME k--> consumer
 *         ^                                         |
 *         +-----------------FREE slot---------------+
 *
 * umm-demo.c (options) -> demo_parent.c (mount, ring, start the roles)
 * -> demo_roles.c (camera, filter, display) -> demo_report.c (what it did).
 */
#ifndef UMM_DEMO_I_H
#define UMM_DEMO_I_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tool_i.h"

#define DEFAULT_WIDTH 1280
#define DEFAULT_HEIGHT 720
#define DEFAULT_FRAMES 120
#define DEFAULT_RING 4
#define DEFAULT_OUTDIR "umm-demo-out"
#define MAX_DIM 16384
#define MAX_FRAMES 1000000000U
/* All slot fds go in one SCM_RIGHTS message, which carries at most 253. */
#define MAX_RING 64
#define RING_NAME "ring"
#define STATS_XATTR "user.umm.stats"

/* The fds a role process finds open: its parent, its upstream, its downstream. */
#define CTL_FD 3
#define IN_FD 4
#define OUT_FD 5

enum role { ROLE_PRODUCER, ROLE_FILTER, ROLE_CONSUMER, NR_ROLES };

struct demo_config {
	unsigned int width;
	unsigned int height;
	unsigned int frames;
	unsigned int ring;
	const char *mount; /* -m: an existing umm mount, or NULL */
	const char *outdir;
	const char *umm_fs; /* --umm-fs, or NULL */
	const char *ring_dir; /* roles only: the ring directory */
	const char *camera; /* --camera: a V4L2 capture node, or NULL */
	const char *display; /* --display: a V4L2 output node, or NULL */
	const char *heap; /* --heap: the ring's user.umm.heap, or NULL */
	const char *cache; /* --cache: the ring's user.umm.cache, or NULL */
	size_t frame_bytes; /* roles only, with --camera: the bytes of a frame */
	int role; /* a role, or -1 in the parent */
};

/* ---- demo_pattern.c: the test pattern ------------------------------------ */

struct pattern {
	unsigned int width;
	unsigned int height;
	unsigned int side; /* of the moving square */
	unsigned int cell; /* of a bit of the frame number */
	uint32_t *bars; /* one row of colour bars, drawn scrolled */
	uint32_t *ramp; /* one row of a grey ramp, for the bottom quarter */
};

int demo_pattern_init(struct pattern *p, unsigned int width, unsigned int height);
void demo_pattern_free(struct pattern *p);
void demo_pattern_row(const struct pattern *p, uint32_t *row, unsigned int y, uint32_t k);
void demo_invert_pixels(uint32_t *px, size_t n);
void demo_invert_bytes(void *p, size_t n);
bool demo_ppm_wanted(uint32_t k, uint32_t n);

/* ---- demo_msg.c: messages between the processes -------------------------- */

enum msg_type {
	MSG_READY = 1, /* role -> parent: every slot is mapped; flags: MSG_F_MEMFD */
	MSG_GO, /* parent -> role: start */
	MSG_FDS, /* producer -> filter: one fd per slot, with SCM_RIGHTS */
	MSG_FRAME, /* producer -> filter -> consumer: frame @frame is in slot @slot */
	MSG_FREE, /* consumer -> producer: slot @slot may be drawn into again */
	MSG_DONE, /* role -> parent: @bytes touched, @errors, @pfn */
	MSG_QUIT, /* parent -> role: unmap, close, exit */
	MSG_LAST = MSG_QUIT,
};

/* MSG_READY: some slot could not be mapped by its FUSE fd (no passthrough). */
#define MSG_F_MEMFD 1U

struct demo_msg {
	uint32_t type;
	uint32_t frame;
	uint32_t slot;
	uint32_t flags;
	uint64_t bytes; /* bytes of buffer memory the role read or wrote in place */
	uint64_t errors; /* pixels that were wrong (consumer) */
	uint64_t pfn; /* physical page of slot 0's first page, 0 if hidden */
	uint64_t sum; /* MSG_FRAME with --camera: the frame's sum, as the camera wrote it;
		       * MSG_DONE: frames the camera dropped (producer) */
};

int demo_send_msg(int fd, const struct demo_msg *m, const int *fds, unsigned int nfds);
int demo_recv_msg(int fd, struct demo_msg *m, int *fds, unsigned int *nfds);

/* ---- demo_roles.c: the producer, the filter, the consumer ---------------- */

extern const char *const demo_role_names[NR_ROLES];

struct slot {
	int fd; /* the buffer's fd on the mount */
	int mfd; /* its memfd from libumm where the FUSE fd cannot be mapped, else -1 */
	void *map;
	int dmabuf; /* with --camera: its dma-buf fd, for the device, else -1 */
	uint32_t len; /* with --camera: the buffer's bytes (whole pages) */
};

struct role_ctx {
	const struct demo_config *cfg;
	struct pattern pat;
	size_t frame_bytes;
	size_t npixels;
	struct slot slots[MAX_RING];
	bool memfd; /* some slot is mapped through libumm */
	uint64_t bytes;
	uint64_t errors;
	uint64_t dropped; /* frames the camera skipped (sequence gaps) */
	int dev; /* with --camera: the role's V4L2 node, or -1 */
};

int demo_role_main(const struct demo_config *cfg);
/* the helpers demo_v4l2.c shares */
int role_recv(int fd, struct demo_msg *m, uint32_t type, int *fds, unsigned int *nfds);
int role_wait_parent(uint32_t type);
int role_send(int fd, const struct demo_msg *m, const int *fds, unsigned int nfds);
int role_ready(struct role_ctx *c);
int role_done(struct role_ctx *c);
int recv_frame(const struct role_ctx *c, uint32_t k, struct demo_msg *out);
int open_slots(struct role_ctx *c, int oflags);
int slot_sync(struct slot *s, unsigned int flags);

/* ---- demo_v4l2.c: --camera and --display, real V4L2 devices -------------- */

/* A V4L2 node's current format, as the parent reads it. */
struct demo_fmt {
	uint32_t width, height, pixelformat, bytesperline, sizeimage;
};

int demo_v4l2_get_fmt(const char *dev, bool output, struct demo_fmt *f);
int demo_v4l2_negotiate(const struct demo_config *cfg, struct demo_fmt *cam, struct demo_fmt *out);
const char *demo_fourcc(uint32_t fourcc, char buf[5]);
int demo_run_camera(struct role_ctx *c);
int demo_run_display(struct role_ctx *c);
void demo_v4l2_close(struct role_ctx *c);

/* ---- demo_parent.c: the mount, the ring, the run ------------------------- */

/* A role process, as the parent sees it. */
struct role_proc {
	pid_t pid;
	int ctl;
	bool reaped;
	int status;
	bool have_ready, have_done;
	struct demo_msg ready, done;
};

struct demo {
	const struct demo_config *cfg;
	struct demo_fmt cam, out; /* with --camera: the devices' formats */
	size_t frame_bytes;
	size_t slot_bytes; /* what the daemon charges for one frame: whole pages */
	char *umm_fs;
	char *umm_ls;
	char self[PATH_MAX]; /* this program, for the roles' argv[0] */
	char tmp[PATH_MAX]; /* our temp dir, or "" */
	struct tool_fs fs; /* fs.root: the mount (ours, or -m's) */
	bool fs_started; /* we started a umm-fs (it may have ended since) */
	char ring_dir[PATH_MAX];
	char outdir[PATH_MAX];
	bool ring_made;
	unsigned int nr_made;
	struct role_proc roles[NR_ROLES];
	uint64_t t_go, t_end;
	bool failed;
	bool cleaned;
};

int demo_main(const struct demo_config *cfg);

/* ---- demo_report.c: what the run did ------------------------------------- */

int demo_read_stats(const struct demo *d, char *buf, size_t len);
int demo_report(struct demo *d, const char *before, const char *after);
int demo_list_ring(struct demo *d);
/* demo_v4l2.c */
int demo_v4l2_holders(const struct demo *d);

#endif /* UMM_DEMO_I_H */
