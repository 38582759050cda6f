// SPDX-License-Identifier: MIT
/*
 * demo_roles.c - umm-demo's three role processes, in the order the frames
 * go through them: the producer (the camera) draws frame k into slot
 * k % ring, the filter (the processing) inverts it in place, the consumer
 * (the display) checks every pixel and writes a few frames as PPM files,
 * then frees the slot for the producer. Each maps the ring's buffers itself;
 * only small messages (demo_msg.c) pass between them.
 *
 * A role is this program exec'd again by the parent with a hidden --role,
 * its sockets on CTL_FD (the parent), IN_FD (the role before) and OUT_FD
 * (the role after).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include <umm.h>

#include "demo_i.h"

const char *const demo_role_names[NR_ROLES] = { "producer", "filter", "consumer" };

/* In a role process: which one. */
static int this_role = -1;

/*
 * Has the parent ended the run (spoken or gone away)? When it has, the
 * roles' neighbours may be gone too, and that is no error worth a message.
 */
static bool parent_ended(void)
{
	struct pollfd pfd = { .fd = CTL_FD, .events = POLLIN };

	return poll(&pfd, 1, 0) > 0;
}

/**
 * role_recv() - wait for a message from the neighbour on @fd.
 * @fd:   IN_FD (from the previous role).
 * @m:    the message.
 * @type: the type it must have.
 * @fds, @nfds: as for demo_recv_msg().
 *
 * Watches the parent's socket too: the parent speaks or goes away only when
 * the run is over for us, so either ends the wait.
 *
 * Return: 0; -ECANCELED when the parent ended the run (no message needed);
 * another -errno, with a message printed.
 */
int role_recv(int fd, struct demo_msg *m, uint32_t type, int *fds, unsigned int *nfds)
{
	struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN },
				 { .fd = CTL_FD, .events = POLLIN } };
	int ret;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			tool_complain(-ret, "poll");
			return ret;
		}
		if (pfd[1].revents)
			return -ECANCELED;
		if (pfd[0].revents)
			break;
	}
	ret = demo_recv_msg(fd, m, fds, nfds);
	if (ret < 0 && parent_ended())
		return -ECANCELED;
	if (ret == -EPIPE) {
		tool_complain(0, "the %s went away",
			      demo_role_names[(this_role + NR_ROLES - 1) % NR_ROLES]);
		return ret;
	}
	if (ret < 0) {
		tool_complain(-ret, "receiving a message");
		return ret;
	}
	if (m->type != type) {
		tool_complain(0, "message of type %" PRIu32 " where %" PRIu32 " was due", m->type,
			      type);
		return -EPROTO;
	}
	return 0;
}

/* Wait for the parent's message of @type; -ECANCELED when it went away. */
int role_wait_parent(uint32_t type)
{
	struct demo_msg m;
	int ret;

	ret = demo_recv_msg(CTL_FD, &m, NULL, NULL);
	if (ret == -EPIPE)
		return -ECANCELED;
	if (ret < 0) {
		tool_complain(-ret, "receiving from the parent");
		return ret;
	}
	if (m.type == MSG_QUIT && type != MSG_QUIT)
		return -ECANCELED;
	if (m.type != type) {
		tool_complain(0,
			      "message of type %" PRIu32 " from the parent where %" PRIu32
			      " was due",
			      m.type, type);
		return -EPROTO;
	}
	return 0;
}

int role_send(int fd, const struct demo_msg *m, const int *fds, unsigned int nfds)
{
	int ret = demo_send_msg(fd, m, fds, nfds);

	if (ret < 0 && parent_ended())
		return -ECANCELED;
	if (ret < 0)
		tool_complain(-ret, "sending to the %s",
			      fd == OUT_FD ? demo_role_names[(this_role + 1) % NR_ROLES] :
					     "parent");
	return ret;
}

static int slot_path(const struct role_ctx *c, unsigned int i, char *buf, size_t len)
{
	int ret = tool_fmt_path(buf, len, "%s/frame%u", c->cfg->ring_dir, i);

	if (ret < 0)
		tool_complain(-ret, "%s/frame%u", c->cfg->ring_dir, i);
	return ret;
}

/*
 * Does the mapping at @addr map a memfd (with passthrough, the backing file
 * of a FUSE open), rather than the FUSE file's page cache? /proc/self/maps
 * names the file a mapping really maps.
 */
static bool maps_memfd(const void *addr)
{
	char line[512], start[32];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return false;
	snprintf(start, sizeof(start), "%lx-", (unsigned long)(uintptr_t)addr);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, start, strlen(start))) {
			found = strstr(line, "/memfd:") != NULL;
			break;
		}
	fclose(f);
	return found;
}

/**
 * map_slot() - map one slot of the ring for this role.
 * @c:      the role.
 * @s:      the slot; @s->fd is its open fd on the mount.
 * @path:   its path if this role opened it by path, NULL for an fd received
 *          from another process.
 * @oflags: the mode @s->fd was opened with (O_RDONLY or O_RDWR).
 *
 * With FUSE passthrough, an mmap of the fd on the mount maps the buffer's own
 * pages. Without it that mmap maps the kernel's page cache of the file (or
 * gets ENODEV), and libumm gives the buffer's memfd to map instead:
 * umm_open() for a path, umm_export() for a received fd. Both map the same
 * memory; neither copies.
 *
 * Return: 0, or -errno with a message printed.
 */
static int map_slot(struct role_ctx *c, struct slot *s, const char *path, int oflags)
{
	int prot = (oflags & O_ACCMODE) == O_RDONLY ? PROT_READ : PROT_READ | PROT_WRITE;
	const char *what = path ? path : "a received fd";
	int ret;

	s->map = mmap(NULL, c->frame_bytes, prot, MAP_SHARED, s->fd, 0);
	if (s->map != MAP_FAILED && maps_memfd(s->map))
		return 0;
	if (s->map != MAP_FAILED) {
		/* no passthrough: the FUSE file's page cache, a copy; map the memory */
		munmap(s->map, c->frame_bytes);
		s->map = MAP_FAILED;
		errno = ENODEV;
	}
	ret = -errno;
	if (ret != -ENODEV) {
		tool_complain(-ret, "mmap of %s", what);
		return ret;
	}
	s->mfd = path ? umm_open(path, oflags | O_CLOEXEC) : umm_export(s->fd);
	if (s->mfd < 0) {
		ret = -errno;
		tool_complain(-ret, "%s of %s", path ? "umm_open" : "umm_export", what);
		return ret;
	}
	s->map = mmap(NULL, c->frame_bytes, prot, MAP_SHARED, s->mfd, 0);
	if (s->map == MAP_FAILED) {
		ret = -errno;
		tool_complain(-ret, "mmap of the memfd of %s", what);
		return ret;
	}
	c->memfd = true;
	return 0;
}

/*
 * Begin or end CPU access to a slot. On a dma-buf heap this is what keeps
 * caches and devices coherent; on memfd it costs a barrier, or one xattr
 * write through the FUSE fd. It never moves pixels.
 */
int slot_sync(struct slot *s, unsigned int flags)
{
	if (umm_sync(s->mfd >= 0 ? s->mfd : s->fd, flags) < 0) {
		tool_complain(errno, "umm_sync");
		return -errno;
	}
	return 0;
}

/* The physical frame of the page at @addr, or 0 where the kernel hides it. */
static uint64_t page_pfn(const void *addr)
{
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t ent = 0;
	ssize_t n;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = pread(fd, &ent, sizeof(ent), (off_t)((uintptr_t)addr / (uintptr_t)psz * sizeof(ent)));
	close(fd);
	/* Bit 63: present; bits 0-54: the PFN, zero without CAP_SYS_ADMIN. */
	if (n != (ssize_t)sizeof(ent) || !(ent & (1ULL << 63)))
		return 0;
	return ent & ((1ULL << 55) - 1);
}

int role_done(struct role_ctx *c)
{
	struct demo_msg m = {
		.type = MSG_DONE,
		.bytes = c->bytes,
		.errors = c->errors,
		.pfn = page_pfn(c->slots[0].map),
		.sum = c->dropped,
	};

	return role_send(CTL_FD, &m, NULL, 0);
}

int role_ready(struct role_ctx *c)
{
	struct demo_msg m = { .type = MSG_READY, .flags = c->memfd ? MSG_F_MEMFD : 0 };

	return role_send(CTL_FD, &m, NULL, 0);
}

/*
 * Receive MSG_FRAME for frame @k into @m and check that it names the slot it
 * must.
 */
int recv_frame(const struct role_ctx *c, uint32_t k, struct demo_msg *out)
{
	struct demo_msg m;
	int ret;

	ret = role_recv(IN_FD, &m, MSG_FRAME, NULL, NULL);
	if (ret == 0 && out)
		*out = m;
	if (ret < 0)
		return ret;
	if (m.frame != k || m.slot != k % c->cfg->ring) {
		tool_complain(0,
			      "got frame %" PRIu32 " in slot %" PRIu32 ", expected frame %" PRIu32
			      " in slot %" PRIu32,
			      m.frame, m.slot, k, k % c->cfg->ring);
		return -EPROTO;
	}
	return 0;
}

/**
 * open_slots() - open every ring slot by path with @oflags and map it
 * @c:      the role; its slots get their fds and mappings
 * @oflags: O_RDWR or O_RDONLY (the kernel checks the access, as for any file)
 *
 * Return: 0 or -errno (reported).
 */
int open_slots(struct role_ctx *c, int oflags)
{
	char path[PATH_MAX];
	int ret;

	for (unsigned int i = 0; i < c->cfg->ring; i++) {
		ret = slot_path(c, i, path, sizeof(path));
		if (ret < 0)
			return ret;
		c->slots[i].fd = open(path, oflags | O_CLOEXEC);
		if (c->slots[i].fd < 0) {
			ret = -errno;
			tool_complain(-ret, "open %s", path);
			return ret;
		}
		ret = map_slot(c, &c->slots[i], path, oflags);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * The camera: opens every slot by path, passes their fds to the filter, then
 * draws frame k into slot k % ring once the consumer has freed that slot.
 */
static int run_producer(struct role_ctx *c)
{
	unsigned int ring = c->cfg->ring, i, y;
	struct demo_msg m = { .type = MSG_FDS };
	int fds[MAX_RING];
	uint32_t k, s;
	uint32_t *px;
	int ret;

	ret = open_slots(c, O_RDWR);
	if (ret < 0)
		return ret;
	for (i = 0; i < ring; i++)
		fds[i] = c->slots[i].fd;
	/* The fds on the mount, not the memfds: the filter trades them itself if it must. */
	ret = role_send(OUT_FD, &m, fds, ring);
	if (ret < 0)
		return ret;
	ret = role_ready(c);
	if (ret < 0)
		return ret;
	ret = role_wait_parent(MSG_GO);
	if (ret < 0)
		return ret;

	for (k = 0; k < c->cfg->frames; k++) {
		s = k % ring;
		if (k >= ring) {
			/* A credit: the consumer is done with the frame this slot held. */
			ret = role_recv(IN_FD, &m, MSG_FREE, NULL, NULL);
			if (ret < 0)
				return ret;
			if (m.slot != s) {
				tool_complain(0, "slot %" PRIu32 " freed, slot %" PRIu32 " was due",
					      m.slot, s);
				return -EPROTO;
			}
		}
		ret = slot_sync(&c->slots[s], UMM_SYNC_START | UMM_SYNC_WRITE);
		if (ret < 0)
			return ret;
		px = c->slots[s].map;
		for (y = 0; y < c->cfg->height; y++)
			demo_pattern_row(&c->pat, px + (size_t)y * c->cfg->width, y, k);
		ret = slot_sync(&c->slots[s], UMM_SYNC_END | UMM_SYNC_WRITE);
		if (ret < 0)
			return ret;
		c->bytes += c->frame_bytes;
		m = (struct demo_msg){ .type = MSG_FRAME, .frame = k, .slot = s };
		ret = role_send(OUT_FD, &m, NULL, 0);
		if (ret < 0)
			return ret;
	}
	return role_done(c);
}

/* The processing step: maps the fds the producer passed, inverts each frame in place. */
static int run_filter(struct role_ctx *c)
{
	unsigned int ring = c->cfg->ring, nfds = MAX_RING, i;
	int fds[MAX_RING];
	struct demo_msg m;
	uint32_t k, s;
	int ret;

	ret = role_recv(IN_FD, &m, MSG_FDS, fds, &nfds);
	if (ret < 0)
		return ret;
	if (nfds != ring) {
		tool_complain(0, "the producer passed %u fds for a ring of %u", nfds, ring);
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		return -EPROTO;
	}
	for (i = 0; i < ring; i++)
		c->slots[i].fd = fds[i];
	for (i = 0; i < ring; i++) {
		ret = map_slot(c, &c->slots[i], NULL, O_RDWR);
		if (ret < 0)
			return ret;
	}
	ret = role_ready(c);
	if (ret < 0)
		return ret;
	ret = role_wait_parent(MSG_GO);
	if (ret < 0)
		return ret;

	for (k = 0; k < c->cfg->frames; k++) {
		ret = recv_frame(c, k, &m);
		if (ret < 0)
			return ret;
		s = k % ring;
		ret = slot_sync(&c->slots[s], UMM_SYNC_START | UMM_SYNC_RW);
		if (ret < 0)
			return ret;
		/* a camera's frame is YUV or RGB bytes of its format: every bit is inverted */
		if (c->cfg->camera)
			demo_invert_bytes(c->slots[s].map, c->frame_bytes);
		else
			demo_invert_pixels(c->slots[s].map, c->npixels);
		ret = slot_sync(&c->slots[s], UMM_SYNC_END | UMM_SYNC_RW);
		if (ret < 0)
			return ret;
		c->bytes += 2 * c->frame_bytes;
		/* the producer's sums go on to the consumer */
		m = (struct demo_msg){ .type = MSG_FRAME, .frame = k, .slot = s, .sum = m.sum };
		ret = role_send(OUT_FD, &m, NULL, 0);
		if (ret < 0)
			return ret;
	}
	return role_done(c);
}

/**
 * check_frame() - compare a frame, pixel by pixel, with what it must be.
 * @c:      the consumer.
 * @px:     the frame, in the consumer's mapping.
 * @k:      its frame number.
 * @expect: room for one row.
 *
 * The first few wrong pixels are reported. Return: how many are wrong.
 */
static uint64_t check_frame(struct role_ctx *c, const uint32_t *px, uint32_t k, uint32_t *expect)
{
	unsigned int w = c->cfg->width, y, x;
	const uint32_t *got;
	uint64_t bad = 0;

	for (y = 0; y < c->cfg->height; y++) {
		demo_pattern_row(&c->pat, expect, y, k);
		demo_invert_pixels(expect, w);
		got = px + (size_t)y * w;
		if (!memcmp(expect, got, (size_t)w * sizeof(*got)))
			continue;
		for (x = 0; x < w; x++) {
			if (expect[x] == got[x])
				continue;
			if (c->errors + bad < 5)
				tool_complain(0,
					      "frame %" PRIu32 ", pixel (%u,%u): 0x%08" PRIx32
					      ", expected 0x%08" PRIx32,
					      k, x, y, got[x], expect[x]);
			bad++;
		}
	}
	return bad;
}

/**
 * write_ppm() - write a frame as a binary PPM (P6) file.
 * @c:  the consumer.
 * @px: the frame (RGBA); alpha is dropped.
 * @k:  its number, which names the file: OUTDIR/frame-NNNNNN.ppm.
 *
 * Return: 0, or -errno with a message printed.
 */
static int write_ppm(struct role_ctx *c, const uint8_t *px, uint32_t k)
{
	unsigned int w = c->cfg->width, h = c->cfg->height, x, y;
	char path[PATH_MAX];
	uint8_t *row;
	FILE *f;
	int ret;

	ret = tool_fmt_path(path, sizeof(path), "%s/frame-%06" PRIu32 ".ppm", c->cfg->outdir, k);
	if (ret < 0) {
		tool_complain(-ret, "%s/frame-%06" PRIu32 ".ppm", c->cfg->outdir, k);
		return ret;
	}
	row = malloc((size_t)w * 3);
	if (!row) {
		tool_complain(ENOMEM, "%s", path);
		return -ENOMEM;
	}
	f = fopen(path, "we");
	if (!f) {
		ret = -errno;
		tool_complain(-ret, "%s", path);
		free(row);
		return ret;
	}
	fprintf(f, "P6\n%u %u\n255\n", w, h);
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++)
			memcpy(row + (size_t)x * 3, px + ((size_t)y * w + x) * 4, 3);
		if (fwrite(row, 3, w, f) != w)
			break;
	}
	ret = ferror(f) ? -EIO : 0;
	if (fclose(f) != 0 && !ret)
		ret = -errno;
	if (ret < 0)
		tool_complain(-ret, "writing %s", path);
	free(row);
	return ret;
}

/*
 * The display: opens every slot by path, read-only; checks each frame in
 * place, writes the first, middle and last as PPM, and frees the slot.
 */
static int run_consumer(struct role_ctx *c)
{
	unsigned int ring = c->cfg->ring;
	uint32_t *expect;
	struct demo_msg m;
	uint32_t k, s;
	int ret;

	ret = open_slots(c, O_RDONLY);
	if (ret < 0)
		return ret;
	expect = calloc(c->cfg->width, sizeof(*expect));
	if (!expect) {
		tool_complain(ENOMEM, "a row of %u pixels", c->cfg->width);
		return -ENOMEM;
	}
	ret = role_ready(c);
	if (ret == 0)
		ret = role_wait_parent(MSG_GO);

	for (k = 0; ret == 0 && k < c->cfg->frames; k++) {
		ret = recv_frame(c, k, NULL);
		if (ret < 0)
			break;
		s = k % ring;
		ret = slot_sync(&c->slots[s], UMM_SYNC_START | UMM_SYNC_READ);
		if (ret < 0)
			break;
		c->errors += check_frame(c, c->slots[s].map, k, expect);
		c->bytes += c->frame_bytes;
		if (demo_ppm_wanted(k, c->cfg->frames))
			ret = write_ppm(c, c->slots[s].map, k);
		if (ret == 0)
			ret = slot_sync(&c->slots[s], UMM_SYNC_END | UMM_SYNC_READ);
		if (ret < 0)
			break;
		m = (struct demo_msg){ .type = MSG_FREE, .frame = k, .slot = s };
		ret = role_send(OUT_FD, &m, NULL, 0);
	}
	free(expect);
	if (ret < 0)
		return ret;
	return role_done(c);
}

/**
 * demo_role_main() - the body of a role process (umm-demo --role NAME ...).
 * @cfg: the options the parent passed on.
 *
 * Runs the role, then keeps its mappings until the parent says MSG_QUIT (or
 * goes away), so that the parent can list who holds the ring.
 *
 * Return: the exit status: 0, or 1 after a failure (reported, except when
 * the parent ended the run itself).
 */
int demo_role_main(const struct demo_config *cfg)
{
	struct role_ctx c = { .cfg = cfg, .dev = -1 };
	char tag[32];
	unsigned int i;
	int fd, ret;

	this_role = cfg->role;
	snprintf(tag, sizeof(tag), "umm-demo %s", demo_role_names[cfg->role]);
	tool_set_tag(tag);
	/* Exec'd as /proc/self/exe, the role would show as "exe" in umm-ls and ps. */
	prctl(PR_SET_NAME, demo_role_names[cfg->role]);
	for (fd = CTL_FD; fd <= OUT_FD; fd++) {
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
			tool_complain(errno, "fd %d (--role is for umm-demo's own use)", fd);
			return 1;
		}
	}
	if (!cfg->ring_dir) {
		tool_complain(0, "--role needs --ring-dir");
		return 1;
	}
	for (i = 0; i < MAX_RING; i++)
		c.slots[i] = (struct slot){ .fd = -1, .mfd = -1, .map = MAP_FAILED, .dmabuf = -1 };
	c.npixels = (size_t)cfg->width * cfg->height;
	c.frame_bytes = cfg->camera ? cfg->frame_bytes : c.npixels * 4;
	if (!c.frame_bytes) {
		tool_complain(0, "--camera needs --frame-bytes");
		return 1;
	}
	if (demo_pattern_init(&c.pat, cfg->width, cfg->height) < 0) {
		tool_complain(ENOMEM, "the test pattern");
		return 1;
	}

	switch (cfg->role) {
	case ROLE_PRODUCER:
		ret = cfg->camera ? demo_run_camera(&c) : run_producer(&c);
		break;
	case ROLE_FILTER:
		ret = run_filter(&c);
		break;
	default:
		ret = cfg->camera ? demo_run_display(&c) : run_consumer(&c);
		break;
	}
	/* Hold the mappings (and the devices their buffers) while the parent lists the ring. */
	if (ret == 0)
		ret = role_wait_parent(MSG_QUIT);
	demo_v4l2_close(&c);

	for (i = 0; i < cfg->ring; i++) {
		if (c.slots[i].map != MAP_FAILED)
			munmap(c.slots[i].map, c.frame_bytes);
		if (c.slots[i].mfd >= 0)
			close(c.slots[i].mfd);
		if (c.slots[i].dmabuf >= 0 && c.slots[i].dmabuf != c.slots[i].mfd)
			close(c.slots[i].dmabuf);
		if (c.slots[i].fd >= 0)
			close(c.slots[i].fd);
	}
	demo_pattern_free(&c.pat);
	return ret == 0 ? 0 : 1;
}
