// SPDX-License-Identifier: MIT
/*
 * umm-demo.c - a zero-copy frame pipeline on umm: camera -> processing ->
 * display, the use case of the 2011 Linaro memory management discussions.
 *
 * The parent mounts a temporary umm (or uses the one given with -m), makes a
 * directory "ring" whose constraints give every new buffer the size of one
 * frame and cap the ring's bytes, creates the ring's buffers in it, and runs
 * three separate processes (this program exec'd again with a hidden --role):
 *
 *     producer --FRAME k--> filter --FRAME k--> consumer
 *         ^                                         |
 *         +-----------------FREE slot---------------+
 *
 * The producer draws a moving test pattern into slot k % ring through its own
 * mapping, the filter inverts that frame in place through its mapping, and the
 * consumer checks every pixel against the pattern it computes again and
 * writes a few frames as PPM files. Only small fixed-size messages travel
 * over the sockets; pixels never do. The producer hands the filter one fd per
 * slot with SCM_RIGHTS once at the start; the consumer opens the slots by
 * path. The FREE messages are credits: the producer never draws into a slot
 * that the consumer has not checked yet.
 *
 * The zero copies are shown by the daemon's own counters (read_bytes and
 * write_bytes of the root's user.umm.stats do not move) and, where the
 * processes may read PFNs from /proc/self/pagemap, by the three of them
 * mapping the same physical page. The ring is listed with umm-ls while the
 * processes still hold it; then they are ended and the mount is taken down.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include <umm.h>

#include "tool_i.h"

#ifndef UMM_VERSION
#define UMM_VERSION "unknown"
#endif
#ifndef UMM_SBINDIR
#define UMM_SBINDIR "/usr/local/sbin"
#endif

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
/* Room the mount gets beyond the ring itself (the root and the ring dir). */
#define MOUNT_SLACK (16UL << 20)
#define MOUNT_TIMEOUT_MS 10000
#define READY_TIMEOUT_MS 30000
#define TOOL_TIMEOUT_MS 30000

/* The fds a role process finds open: its parent, its upstream, its downstream. */
#define CTL_FD 3
#define IN_FD 4
#define OUT_FD 5

enum role { ROLE_PRODUCER, ROLE_FILTER, ROLE_CONSUMER, NR_ROLES };

static const char *const role_names[NR_ROLES] = { "producer", "filter", "consumer" };

/* The prefix of every message: "umm-demo", or "umm-demo producer" in a role. */
static char tag[32] = "umm-demo";
/* In a role process: which one. */
static int this_role = -1;
/* The signal that asked the parent to stop, or 0. */
static volatile sig_atomic_t got_signal;

struct demo_config {
	unsigned int width;
	unsigned int height;
	unsigned int frames;
	unsigned int ring;
	const char *mount; /* -m: an existing umm mount, or NULL */
	const char *outdir;
	const char *umm_fs; /* --umm-fs, or NULL */
	const char *ring_dir; /* roles only: the ring directory */
	int role; /* a role, or -1 in the parent */
};

/* ---- messages ------------------------------------------------------------ */

__attribute__((format(printf, 3, 0))) static void vsay(FILE *f, int errnum, const char *fmt,
						       va_list ap)
{
	char buf[1024];
	size_t len, off;
	ssize_t n;
	int ret;

	/* One write(2) a line: four processes share the terminal. */
	ret = snprintf(buf, sizeof(buf), "%s: ", tag);
	len = ret < 0 ? 0 : (size_t)ret;
	if (len < sizeof(buf)) {
		ret = vsnprintf(buf + len, sizeof(buf) - len, fmt, ap);
		len += ret < 0 ? 0 : (size_t)ret;
	}
	if (errnum && len < sizeof(buf)) {
		ret = snprintf(buf + len, sizeof(buf) - len, ": %s", strerror(errnum));
		len += ret < 0 ? 0 : (size_t)ret;
	}
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2; /* cut short, but still one line */
	buf[len++] = '\n';
	fflush(f);
	for (off = 0; off < len; off += (size_t)n) {
		n = write(fileno(f), buf + off, len - off);
		if (n <= 0 && errno != EINTR)
			break;
		if (n < 0)
			n = 0;
	}
}

/* A line of the demo's story, on stdout. */
__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(stdout, 0, fmt, ap);
	va_end(ap);
}

/* An error on stderr, with strerror(@errnum) unless @errnum is 0. */
__attribute__((format(printf, 2, 3))) static void complain(int errnum, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	vsay(stderr, errnum, fmt, ap);
	va_end(ap);
}

/* snprintf that reports truncation as -ENAMETOOLONG. */
__attribute__((format(printf, 3, 4))) static int fmt_path(char *buf, size_t len, const char *fmt,
							  ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	/* An interruption ends the nap early: every caller loops and checks. */
	nanosleep(&ts, NULL);
}

/* ---- the test pattern ---------------------------------------------------- */

/*
 * Pixels are RGBA: bytes R, G, B, A in memory, whatever the CPU's byte order,
 * so that a frame means the same to every reader of the buffer.
 */
static uint32_t rgba(uint8_t r, uint8_t g, uint8_t b, uint8_t a)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (uint32_t)r | (uint32_t)g << 8 | (uint32_t)b << 16 | (uint32_t)a << 24;
#else
	return (uint32_t)r << 24 | (uint32_t)g << 16 | (uint32_t)b << 8 | (uint32_t)a;
#endif
}

#define RGB_MASK rgba(0xff, 0xff, 0xff, 0)

struct pattern {
	unsigned int width;
	unsigned int height;
	unsigned int side; /* of the moving square */
	unsigned int cell; /* of a bit of the frame number */
	uint32_t *bars; /* one row of colour bars, drawn scrolled */
	uint32_t *ramp; /* one row of a grey ramp, for the bottom quarter */
};

/**
 * pattern_init() - compute the rows every frame is drawn from.
 * @p: the pattern to fill; pattern_free() releases it.
 * @width, @height: the frame size in pixels.
 *
 * Return: 0, or -ENOMEM.
 */
static int pattern_init(struct pattern *p, unsigned int width, unsigned int height)
{
	static const uint8_t bar_rgb[8][3] = {
		{ 255, 255, 255 }, { 255, 255, 0 }, { 0, 255, 255 }, { 0, 255, 0 },
		{ 255, 0, 255 },   { 255, 0, 0 },   { 0, 0, 255 },   { 0, 0, 0 },
	};
	unsigned int x, b, g;

	p->width = width;
	p->height = height;
	p->side = (width < height ? width : height) / 5;
	if (!p->side)
		p->side = 1;
	/* 32 square cells in a row across half the width, at most a 16th of the height. */
	p->cell = width / 64 < height / 16 ? width / 64 : height / 16;
	if (!p->cell)
		p->cell = 1;
	p->bars = calloc(width, sizeof(*p->bars));
	p->ramp = calloc(width, sizeof(*p->ramp));
	if (!p->bars || !p->ramp) {
		free(p->bars);
		free(p->ramp);
		return -ENOMEM;
	}
	for (x = 0; x < width; x++) {
		b = (unsigned int)((uint64_t)x * 8 / width);
		p->bars[x] = rgba(bar_rgb[b][0], bar_rgb[b][1], bar_rgb[b][2], 255);
		g = width > 1 ? (unsigned int)((uint64_t)x * 255 / (width - 1)) : 0;
		p->ramp[x] = rgba(g, g, g, 255);
	}
	return 0;
}

static void pattern_free(struct pattern *p)
{
	free(p->bars);
	free(p->ramp);
}

/* A position that runs from 0 to @range and back as @t grows. */
static unsigned int bounce(uint64_t t, unsigned int range)
{
	uint64_t period = 2 * (uint64_t)range;

	if (!range)
		return 0;
	t %= period;
	return (unsigned int)(t <= range ? t : period - t);
}

/**
 * pattern_row() - draw row @y of frame @k of the test pattern.
 * @p:   the pattern.
 * @row: where to draw: @p->width pixels.
 * @y:   the row.
 * @k:   the frame number.
 *
 * Colour bars scroll left by 4 pixels a frame over a grey ramp; a square
 * whose colour changes with @k bounces around; a strip of 32 cells at the top
 * left holds @k in binary (white is a one, least significant bit first). The
 * producer draws with it and the consumer checks against it, so a frame that
 * arrives late, early, torn or twice differs somewhere.
 */
static void pattern_row(const struct pattern *p, uint32_t *row, unsigned int y, uint32_t k)
{
	unsigned int w = p->width, shift, sx, sy, x;
	uint32_t colour, one = rgba(255, 255, 255, 255), zero = rgba(0, 0, 0, 255);

	if (y < p->height - p->height / 4) {
		shift = (unsigned int)(((uint64_t)k * 4) % w);
		memcpy(row, p->bars + shift, (size_t)(w - shift) * sizeof(*row));
		memcpy(row + (w - shift), p->bars, (size_t)shift * sizeof(*row));
	} else {
		memcpy(row, p->ramp, (size_t)w * sizeof(*row));
	}
	sx = bounce((uint64_t)k * 7, w - p->side);
	sy = bounce((uint64_t)k * 5, p->height - p->side);
	if (y >= sy && y < sy + p->side) {
		colour = rgba(255, (uint8_t)(k * 5), (uint8_t)(k * 3 + 64), 255);
		for (x = sx; x < sx + p->side; x++)
			row[x] = colour;
	}
	if (y < p->cell)
		for (x = 0; x < w && x < 32 * p->cell; x++)
			row[x] = (k >> (x / p->cell)) & 1 ? one : zero;
}

/* The filter's transform: invert red, green and blue, keep alpha. */
static void invert_pixels(uint32_t *px, size_t n)
{
	uint64_t mask = (uint64_t)RGB_MASK << 32 | RGB_MASK;
	uint64_t *q = (uint64_t *)px;
	size_t i;

	/* Two pixels at a time: the mapping is page-aligned. */
	for (i = 0; i < n / 2; i++)
		q[i] ^= mask;
	if (n & 1)
		px[n - 1] ^= RGB_MASK;
}

/* Does the consumer write frame @k of @n as a PPM file? The first, middle, last. */
static bool ppm_wanted(uint32_t k, uint32_t n)
{
	return k == 0 || k == n / 2 || k == n - 1;
}

/* ---- messages between the processes ------------------------------------- */

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
};

/**
 * send_msg() - send one message, with @nfds fds attached.
 * @fd:   a SOCK_SEQPACKET socket.
 * @m:    the message.
 * @fds:  fds to pass with SCM_RIGHTS, or NULL.
 * @nfds: how many (at most MAX_RING).
 *
 * Return: 0 or -errno (-EPIPE when the peer is gone).
 */
static int send_msg(int fd, const struct demo_msg *m, const int *fds, unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_RING)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (nfds) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR && !got_signal);
	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(*m) ? 0 : -EPROTO;
}

/**
 * recv_msg() - receive one message, and the fds that come with it.
 * @fd:    a SOCK_SEQPACKET socket.
 * @m:     where the message goes.
 * @fds:   where received fds go (close-on-exec), or NULL to accept none.
 * @nfds:  in: room in @fds; out: how many came.
 *
 * Our own processes are the only peers, but a message is still checked
 * before it is believed: its size, its type, and its fds.
 *
 * Return: 0; -EPIPE when the peer closed its end; -EPROTO for a malformed
 * message (any fds that came with it are closed); another -errno.
 */
static int recv_msg(int fd, struct demo_msg *m, int *fds, unsigned int *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_RING)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	unsigned int room = nfds ? *nfds : 0, got = 0, i;
	int tmp[MAX_RING];
	struct cmsghdr *c;
	ssize_t n;

	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR && !got_signal);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		i = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		if (got + i > MAX_RING)
			i = MAX_RING - got;
		memcpy(tmp + got, CMSG_DATA(c), sizeof(int) * i);
		got += i;
	}
	if ((size_t)n != sizeof(*m) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || got > room ||
	    !m->type || m->type > MSG_LAST) {
		for (i = 0; i < got; i++)
			close(tmp[i]);
		return -EPROTO;
	}
	if (got)
		memcpy(fds, tmp, sizeof(int) * got);
	if (nfds)
		*nfds = got;
	return 0;
}

/* ---- the role processes -------------------------------------------------- */

struct slot {
	int fd; /* the buffer's fd on the mount */
	int mfd; /* its memfd from libumm where the FUSE fd cannot be mapped, else -1 */
	void *map;
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
};

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
 * @fds, @nfds: as for recv_msg().
 *
 * Watches the parent's socket too: the parent speaks or goes away only when
 * the run is over for us, so either ends the wait.
 *
 * Return: 0; -ECANCELED when the parent ended the run (no message needed);
 * another -errno, with a message printed.
 */
static int role_recv(int fd, struct demo_msg *m, uint32_t type, int *fds, unsigned int *nfds)
{
	struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN },
				 { .fd = CTL_FD, .events = POLLIN } };
	int ret;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			complain(-ret, "poll");
			return ret;
		}
		if (pfd[1].revents)
			return -ECANCELED;
		if (pfd[0].revents)
			break;
	}
	ret = recv_msg(fd, m, fds, nfds);
	if (ret < 0 && parent_ended())
		return -ECANCELED;
	if (ret == -EPIPE) {
		complain(0, "the %s went away", role_names[(this_role + NR_ROLES - 1) % NR_ROLES]);
		return ret;
	}
	if (ret < 0) {
		complain(-ret, "receiving a message");
		return ret;
	}
	if (m->type != type) {
		complain(0, "message of type %" PRIu32 " where %" PRIu32 " was due", m->type, type);
		return -EPROTO;
	}
	return 0;
}

/* Wait for the parent's message of @type; -ECANCELED when it went away. */
static int role_wait_parent(uint32_t type)
{
	struct demo_msg m;
	int ret;

	ret = recv_msg(CTL_FD, &m, NULL, NULL);
	if (ret == -EPIPE)
		return -ECANCELED;
	if (ret < 0) {
		complain(-ret, "receiving from the parent");
		return ret;
	}
	if (m.type == MSG_QUIT && type != MSG_QUIT)
		return -ECANCELED;
	if (m.type != type) {
		complain(0, "message of type %" PRIu32 " from the parent where %" PRIu32 " was due",
			 m.type, type);
		return -EPROTO;
	}
	return 0;
}

static int role_send(int fd, const struct demo_msg *m, const int *fds, unsigned int nfds)
{
	int ret = send_msg(fd, m, fds, nfds);

	if (ret < 0 && parent_ended())
		return -ECANCELED;
	if (ret < 0)
		complain(-ret, "sending to the %s",
			 fd == OUT_FD ? role_names[(this_role + 1) % NR_ROLES] : "parent");
	return ret;
}

static int slot_path(const struct role_ctx *c, unsigned int i, char *buf, size_t len)
{
	int ret = fmt_path(buf, len, "%s/frame%u", c->cfg->ring_dir, i);

	if (ret < 0)
		complain(-ret, "%s/frame%u", c->cfg->ring_dir, i);
	return ret;
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
		complain(-ret, "mmap of %s", what);
		return ret;
	}
	s->mfd = path ? umm_open(path, oflags | O_CLOEXEC) : umm_export(s->fd);
	if (s->mfd < 0) {
		ret = -errno;
		complain(-ret, "%s of %s", path ? "umm_open" : "umm_export", what);
		return ret;
	}
	s->map = mmap(NULL, c->frame_bytes, prot, MAP_SHARED, s->mfd, 0);
	if (s->map == MAP_FAILED) {
		ret = -errno;
		complain(-ret, "mmap of the memfd of %s", what);
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
static int slot_sync(struct slot *s, unsigned int flags)
{
	if (umm_sync(s->mfd >= 0 ? s->mfd : s->fd, flags) < 0) {
		complain(errno, "umm_sync");
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

static int role_done(struct role_ctx *c)
{
	struct demo_msg m = {
		.type = MSG_DONE,
		.bytes = c->bytes,
		.errors = c->errors,
		.pfn = page_pfn(c->slots[0].map),
	};

	return role_send(CTL_FD, &m, NULL, 0);
}

static int role_ready(struct role_ctx *c)
{
	struct demo_msg m = { .type = MSG_READY, .flags = c->memfd ? MSG_F_MEMFD : 0 };

	return role_send(CTL_FD, &m, NULL, 0);
}

/* Receive MSG_FRAME for frame @k and check that it names the slot it must. */
static int recv_frame(const struct role_ctx *c, uint32_t k)
{
	struct demo_msg m;
	int ret;

	ret = role_recv(IN_FD, &m, MSG_FRAME, NULL, NULL);
	if (ret < 0)
		return ret;
	if (m.frame != k || m.slot != k % c->cfg->ring) {
		complain(0,
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
static int open_slots(struct role_ctx *c, int oflags)
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
			complain(-ret, "open %s", path);
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
				complain(0, "slot %" PRIu32 " freed, slot %" PRIu32 " was due",
					 m.slot, s);
				return -EPROTO;
			}
		}
		ret = slot_sync(&c->slots[s], UMM_SYNC_START | UMM_SYNC_WRITE);
		if (ret < 0)
			return ret;
		px = c->slots[s].map;
		for (y = 0; y < c->cfg->height; y++)
			pattern_row(&c->pat, px + (size_t)y * c->cfg->width, y, k);
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
		complain(0, "the producer passed %u fds for a ring of %u", nfds, ring);
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
		ret = recv_frame(c, k);
		if (ret < 0)
			return ret;
		s = k % ring;
		ret = slot_sync(&c->slots[s], UMM_SYNC_START | UMM_SYNC_RW);
		if (ret < 0)
			return ret;
		invert_pixels(c->slots[s].map, c->npixels);
		ret = slot_sync(&c->slots[s], UMM_SYNC_END | UMM_SYNC_RW);
		if (ret < 0)
			return ret;
		c->bytes += 2 * c->frame_bytes;
		m = (struct demo_msg){ .type = MSG_FRAME, .frame = k, .slot = s };
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
		pattern_row(&c->pat, expect, y, k);
		invert_pixels(expect, w);
		got = px + (size_t)y * w;
		if (!memcmp(expect, got, (size_t)w * sizeof(*got)))
			continue;
		for (x = 0; x < w; x++) {
			if (expect[x] == got[x])
				continue;
			if (c->errors + bad < 5)
				complain(0,
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

	ret = fmt_path(path, sizeof(path), "%s/frame-%06" PRIu32 ".ppm", c->cfg->outdir, k);
	if (ret < 0) {
		complain(-ret, "%s/frame-%06" PRIu32 ".ppm", c->cfg->outdir, k);
		return ret;
	}
	row = malloc((size_t)w * 3);
	if (!row) {
		complain(ENOMEM, "%s", path);
		return -ENOMEM;
	}
	f = fopen(path, "we");
	if (!f) {
		ret = -errno;
		complain(-ret, "%s", path);
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
		complain(-ret, "writing %s", path);
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
		complain(ENOMEM, "a row of %u pixels", c->cfg->width);
		return -ENOMEM;
	}
	ret = role_ready(c);
	if (ret == 0)
		ret = role_wait_parent(MSG_GO);

	for (k = 0; ret == 0 && k < c->cfg->frames; k++) {
		ret = recv_frame(c, k);
		if (ret < 0)
			break;
		s = k % ring;
		ret = slot_sync(&c->slots[s], UMM_SYNC_START | UMM_SYNC_READ);
		if (ret < 0)
			break;
		c->errors += check_frame(c, c->slots[s].map, k, expect);
		c->bytes += c->frame_bytes;
		if (ppm_wanted(k, c->cfg->frames))
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
 * role_main() - the body of a role process (umm-demo --role NAME ...).
 * @cfg: the options the parent passed on.
 *
 * Runs the role, then keeps its mappings until the parent says MSG_QUIT (or
 * goes away), so that the parent can list who holds the ring.
 *
 * Return: the exit status: 0, or 1 after a failure (reported, except when
 * the parent ended the run itself).
 */
static int role_main(const struct demo_config *cfg)
{
	struct role_ctx c = { .cfg = cfg };
	unsigned int i;
	int fd, ret;

	this_role = cfg->role;
	snprintf(tag, sizeof(tag), "umm-demo %s", role_names[cfg->role]);
	/* Exec'd as /proc/self/exe, the role would show as "exe" in umm-ls and ps. */
	prctl(PR_SET_NAME, role_names[cfg->role]);
	for (fd = CTL_FD; fd <= OUT_FD; fd++) {
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
			complain(errno, "fd %d (--role is for umm-demo's own use)", fd);
			return 1;
		}
	}
	if (!cfg->ring_dir) {
		complain(0, "--role needs --ring-dir");
		return 1;
	}
	for (i = 0; i < MAX_RING; i++)
		c.slots[i] = (struct slot){ .fd = -1, .mfd = -1, .map = MAP_FAILED };
	c.npixels = (size_t)cfg->width * cfg->height;
	c.frame_bytes = c.npixels * 4;
	if (pattern_init(&c.pat, cfg->width, cfg->height) < 0) {
		complain(ENOMEM, "the test pattern");
		return 1;
	}

	switch (cfg->role) {
	case ROLE_PRODUCER:
		ret = run_producer(&c);
		break;
	case ROLE_FILTER:
		ret = run_filter(&c);
		break;
	default:
		ret = run_consumer(&c);
		break;
	}
	/* Hold the mappings while the parent lists the ring. */
	if (ret == 0)
		ret = role_wait_parent(MSG_QUIT);

	for (i = 0; i < cfg->ring; i++) {
		if (c.slots[i].map != MAP_FAILED)
			munmap(c.slots[i].map, c.frame_bytes);
		if (c.slots[i].mfd >= 0)
			close(c.slots[i].mfd);
		if (c.slots[i].fd >= 0)
			close(c.slots[i].fd);
	}
	pattern_free(&c.pat);
	return ret == 0 ? 0 : 1;
}

/* ---- the parent: finding programs ---------------------------------------- */

/**
 * find_umm_fs() - the umm-fs to mount with.
 * @opt: --umm-fs, or NULL.
 *
 * In order: --umm-fs, $UMM_FS, ../fs/umm-fs beside this program (the build
 * tree), UMM_SBINDIR/umm-fs (the install), $PATH. A path given explicitly
 * must work; nothing else is tried then.
 *
 * Return: a new string, or NULL with a message printed.
 */
static char *find_umm_fs(const char *opt)
{
	const char *env = getenv("UMM_FS");
	char *p;

	if (!opt && env && *env)
		opt = env;
	if (opt) {
		if (tool_is_executable(opt))
			return strdup(opt);
		complain(0, "%s (from %s) is not an executable file", opt,
			 opt == env ? "$UMM_FS" : "--umm-fs");
		return NULL;
	}
	p = tool_find("umm-fs", "../fs/umm-fs");
	if (!p)
		complain(0, "umm-fs not found (beside umm-demo, in " UMM_SBINDIR
			    " or in $PATH): give it with --umm-fs PATH");
	return p;
}

/* umm-ls: $UMM_LS where it exists, beside this program, $PATH; or NULL. */
static char *find_umm_ls(void)
{
	const char *env = getenv("UMM_LS");

	/* $UMM_LS may name a tool not built yet: then look further. */
	if (env && *env && tool_is_executable(env))
		return strdup(env);
	return tool_find("umm-ls", "umm-ls");
}

/* ---- the parent: processes ----------------------------------------------- */

#define SPAWN_PDEATH 1U /* the child dies with us */
#define SPAWN_STDIN_NULL 2U

/**
 * spawn() - fork and exec a program.
 * @path:  the program.
 * @argv:  its arguments, argv[0] first.
 * @keep:  fds the child gets as 3, 4, 5, ... (NULL for none). Every other fd
 *         of ours is close-on-exec.
 * @nkeep: how many.
 * @out:   the fd for the child's stdout and stderr, or -1 to share ours.
 * @flags: SPAWN_*.
 *
 * The child gets a process group of its own, so a Ctrl-C at the terminal
 * reaches us alone: we end the roles first and unmount after, in that order,
 * instead of the daemon going away under processes that still use it.
 *
 * Return: the child's pid, or -errno.
 */
static pid_t spawn(const char *path, char *const argv[], const int *keep, unsigned int nkeep,
		   int out, unsigned int flags)
{
	pid_t parent = getpid(), pid;
	int tmp[8], i, fd;

	if (nkeep > 8)
		return -EINVAL;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		return pid;

	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (flags & SPAWN_PDEATH) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
	}
	if (flags & SPAWN_STDIN_NULL) {
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || dup2(fd, 0) < 0)
			_exit(127);
	}
	if (out >= 0 && (dup2(out, 1) < 0 || dup2(out, 2) < 0))
		_exit(127);
	/* Out of the way first, so that no dup2() below overwrites a source. */
	for (i = 0; i < (int)nkeep; i++) {
		tmp[i] = fcntl(keep[i], F_DUPFD_CLOEXEC, 10);
		if (tmp[i] < 0)
			_exit(127);
	}
	for (i = 0; i < (int)nkeep; i++)
		if (dup2(tmp[i], 3 + i) < 0)
			_exit(127);
	execv(path, argv);
	dprintf(2, "%s: cannot run %s: %s\n", tag, path, strerror(errno));
	_exit(127);
}

/* "exit status N" or "killed by signal N". */
static const char *status_text(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "wait status 0x%x", status);
	return buf;
}

/**
 * wait_pid() - wait for our child @pid to end, for @ms milliseconds at most.
 * @pid:    the child.
 * @status: its wait status, when it ended.
 * @ms:     the time limit; a signal to us does not shorten it (cleanup uses
 *          this too, and must finish).
 *
 * Return: 0 when reaped, -ETIMEDOUT, or -errno from waitpid().
 */
static int wait_pid(pid_t pid, int *status, unsigned int ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ULL;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (now_ns() >= end)
			return -ETIMEDOUT;
		sleep_ms(10);
	}
}

/*
 * End our child @pid: wait @grace_ms for it to leave by itself, then
 * SIGTERM, then SIGKILL. Return: its wait status.
 */
static int end_child(pid_t pid, unsigned int grace_ms)
{
	int status = 0;

	if (wait_pid(pid, &status, grace_ms) == 0)
		return status;
	kill(pid, SIGTERM);
	if (wait_pid(pid, &status, 2000) == 0)
		return status;
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* ---- the parent: the mount ------------------------------------------------ */

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
	size_t frame_bytes;
	size_t slot_bytes; /* what the daemon charges for one frame: whole pages */
	char *umm_fs;
	char *umm_ls;
	char self[PATH_MAX]; /* this program, for the roles' argv[0] */
	char tmp[PATH_MAX]; /* our temp dir, or "" */
	char mnt[PATH_MAX];
	char ring_dir[PATH_MAX];
	char outdir[PATH_MAX];
	char sock[PATH_MAX];
	char log[PATH_MAX];
	pid_t fs_pid;
	bool fs_reaped;
	int fs_status;
	bool mounted; /* we mounted mnt and it may still be mounted */
	bool ring_made;
	unsigned int nr_made;
	struct role_proc roles[NR_ROLES];
	uint64_t t_go, t_end;
	bool failed;
	bool cleaned;
};

static struct demo the_demo;

/* Print the daemon's log, if it said anything. */
static void show_fs_log(struct demo *d)
{
	char line[1024];
	bool first = true;
	FILE *f;

	if (!d->log[0])
		return;
	f = fopen(d->log, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (first)
			complain(0, "umm-fs said:");
		first = false;
		fprintf(stderr, "  %s%s", line, strchr(line, '\n') ? "" : "\n");
	}
	fclose(f);
}

/**
 * mount_temp() - mount umm-fs on a new temporary directory.
 * @d: the demo; fills tmp, mnt, sock, log, fs_pid.
 *
 * umm-fs runs in the foreground as our child (-f), logging into the temp
 * dir, with a budget just large enough for the ring. We wait until the
 * mount shows in /proc/self/mountinfo, or the daemon ends, or 10 s pass.
 *
 * Return: 0, or -errno with a message printed.
 */
static int mount_temp(struct demo *d)
{
	const char *tmpdir = getenv("TMPDIR");
	char templ[PATH_MAX], opts[PATH_MAX + 64], st[64];
	char *argv[] = { d->umm_fs, d->mnt, "-f", "-o", opts, NULL };
	uint64_t end;
	int ret, logfd, status;
	pid_t pid;

	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	ret = fmt_path(templ, sizeof(templ), "%s/umm-demo.XXXXXX", tmpdir);
	if (ret < 0) {
		complain(-ret, "$TMPDIR");
		return ret;
	}
	if (!mkdtemp(templ)) {
		ret = -errno;
		complain(-ret, "mkdtemp %s", templ);
		return ret;
	}
	/* The kernel lists mount points without symlinks: so must we. */
	if (!realpath(templ, d->tmp)) {
		ret = -errno;
		complain(-ret, "realpath %s", templ);
		rmdir(templ);
		return ret;
	}
	if (fmt_path(d->mnt, sizeof(d->mnt), "%s/mnt", d->tmp) < 0 ||
	    fmt_path(d->sock, sizeof(d->sock), "%s/sock", d->tmp) < 0 ||
	    fmt_path(d->log, sizeof(d->log), "%s/umm-fs.log", d->tmp) < 0 ||
	    fmt_path(opts, sizeof(opts), "socket=%s,size=%zu", d->sock,
		     d->slot_bytes * d->cfg->ring + MOUNT_SLACK) < 0) {
		complain(ENAMETOOLONG, "%s", d->tmp);
		return -ENAMETOOLONG;
	}
	if (mkdir(d->mnt, 0755) < 0) {
		ret = -errno;
		complain(-ret, "mkdir %s", d->mnt);
		return ret;
	}
	logfd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0) {
		ret = -errno;
		complain(-ret, "%s", d->log);
		return ret;
	}
	pid = spawn(d->umm_fs, argv, NULL, 0, logfd, SPAWN_STDIN_NULL);
	close(logfd);
	if (pid < 0) {
		complain((int)-pid, "fork");
		return (int)pid;
	}
	d->fs_pid = pid;
	d->mounted = true;

	end = now_ns() + MOUNT_TIMEOUT_MS * 1000000ULL;
	for (;;) {
		ret = tool_is_mounted(d->mnt);
		if (ret < 0) {
			complain(-ret, "/proc/self/mountinfo");
			return ret;
		}
		if (ret)
			break;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			d->fs_reaped = true;
			d->fs_status = status;
			d->mounted = false;
			complain(0, "%s exited before it mounted (%s)", d->umm_fs,
				 status_text(status, st, sizeof(st)));
			return -ECHILD;
		}
		if (got_signal)
			return -EINTR;
		if (now_ns() >= end) {
			complain(0, "%s did not mount %s within %d s", d->umm_fs, d->mnt,
				 MOUNT_TIMEOUT_MS / 1000);
			return -ETIMEDOUT;
		}
		sleep_ms(10);
	}
	say("mounted %s on %s (pid %d, -o %s)", d->umm_fs, d->mnt, (int)pid, opts);
	return 0;
}

/* Run "fusermount3 -u [-z] @mnt" and wait; 0 when it succeeded. */
static int fusermount_u(const char *mnt, bool lazy)
{
	char *prog = tool_path_search("fusermount3");
	char *argv[] = { prog, "-u", lazy ? "-z" : "-q", (char *)mnt, NULL };
	int status = 0;
	pid_t pid;

	if (!prog)
		return -ENOENT;
	pid = spawn(prog, argv, NULL, 0, -1, SPAWN_STDIN_NULL);
	free(prog);
	if (pid < 0)
		return (int)pid;
	if (wait_pid(pid, &status, TOOL_TIMEOUT_MS) < 0)
		status = end_child(pid, 0) | 1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EBUSY;
}

/**
 * unmount_temp() - take our mount down and end the daemon.
 * @d: the demo.
 *
 * As root, umount2() directly; otherwise fusermount3 -u, as FUSE mounts of
 * unprivileged users go. EBUSY right after the roles ended is retried for a
 * while (their last releases reach the kernel a little later); then a lazy
 * unmount. The daemon leaves when its mount goes, or is ended.
 *
 * Return: 0, or -1 when something went wrong (reported).
 */
static int unmount_temp(struct demo *d)
{
	int i, ret = -EBUSY, failed = 0;
	bool took_down = false;
	char st[64];

	if (d->mounted && tool_is_mounted(d->mnt) == 1) {
		for (i = 0; i < 50 && ret == -EBUSY; i++) {
			if (i)
				sleep_ms(100);
			if (geteuid() == 0)
				ret = umount2(d->mnt, 0) == 0 ? 0 : -errno;
			else
				ret = fusermount_u(d->mnt, false);
			if (ret == -EINVAL && tool_is_mounted(d->mnt) == 0)
				ret = 0;
		}
		if (ret < 0) {
			complain(-ret, "unmounting %s; detaching it instead", d->mnt);
			if (geteuid() == 0)
				umount2(d->mnt, MNT_DETACH);
			else
				fusermount_u(d->mnt, true);
			failed = 1;
		}
		took_down = ret == 0;
	}
	d->mounted = false;
	if (d->fs_pid > 0 && !d->fs_reaped) {
		/*
		 * Unmounted, the daemon leaves by itself, and must do so cleanly.
		 * Interrupted before it mounted, it is simply ended.
		 */
		d->fs_status = end_child(d->fs_pid, took_down ? 5000 : 200);
		d->fs_reaped = true;
		if (took_down && (!WIFEXITED(d->fs_status) || WEXITSTATUS(d->fs_status) != 0)) {
			complain(0, "umm-fs (pid %d) ended with %s", (int)d->fs_pid,
				 status_text(d->fs_status, st, sizeof(st)));
			failed = 1;
		}
	}
	/* A daemon ended before we saw it mount may have mounted meanwhile. */
	if (tool_is_mounted(d->mnt) == 1) {
		if (geteuid() == 0)
			umount2(d->mnt, MNT_DETACH);
		else
			fusermount_u(d->mnt, true);
	}
	return failed ? -1 : 0;
}

/* ---- the parent: the ring and the run ------------------------------------ */

/* The root's user.umm.stats, without a trailing newline. */
static int read_stats(const struct demo *d, char *buf, size_t len)
{
	ssize_t n = getxattr(d->mnt, STATS_XATTR, buf, len - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

/* The number after "@key=" in a user.umm.stats line; -ENOENT if absent. */
static int stats_value(const char *stats, const char *key, uint64_t *v)
{
	size_t klen = strlen(key);
	const char *p = stats;
	char *end;

	while ((p = strstr(p, key))) {
		if ((p == stats || p[-1] == ' ') && p[klen] == '=') {
			errno = 0;
			*v = strtoull(p + klen + 1, &end, 10);
			if (errno || end == p + klen + 1 || (*end && *end != ' '))
				return -EPROTO;
			return 0;
		}
		p += klen;
	}
	return -ENOENT;
}

/* Set a text xattr; a message on failure. */
static int set_attr(const char *path, const char *name, uint64_t value)
{
	char buf[32];
	int ret;

	snprintf(buf, sizeof(buf), "%" PRIu64, value);
	if (setxattr(path, name, buf, strlen(buf), 0) == 0)
		return 0;
	ret = -errno;
	complain(-ret, "setfattr -n %s -v %s %s", name, buf, path);
	return ret;
}

/**
 * make_ring() - the ring directory, its constraints and its buffers.
 * @d: the demo.
 *
 * user.umm.size makes every new buffer one frame, allocated at creation and
 * sized at once (LIFE CYCLE OF A BUFFER in umm(7)), so every later open for
 * reading is a passthrough open whose mmap maps the buffer's pages.
 * user.umm.max_bytes caps the ring at exactly its buffers.
 *
 * Return: 0, or -errno with a message printed.
 */
static int make_ring(struct demo *d)
{
	char path[PATH_MAX], eff[256];
	struct stat st;
	unsigned int i;
	ssize_t n;
	int fd, ret;

	ret = fmt_path(d->ring_dir, sizeof(d->ring_dir), "%s/%s", d->mnt, RING_NAME);
	if (ret < 0) {
		complain(-ret, "%s/%s", d->mnt, RING_NAME);
		return ret;
	}
	if (mkdir(d->ring_dir, 0755) < 0) {
		ret = -errno;
		complain(-ret, "mkdir %s", d->ring_dir);
		return ret;
	}
	d->ring_made = true;
	ret = set_attr(d->ring_dir, "user.umm.size", d->frame_bytes);
	if (ret == 0)
		ret = set_attr(d->ring_dir, "user.umm.max_bytes", d->slot_bytes * d->cfg->ring);
	if (ret < 0)
		return ret;
	for (i = 0; i < d->cfg->ring; i++) {
		ret = fmt_path(path, sizeof(path), "%s/frame%u", d->ring_dir, i);
		if (ret < 0) {
			complain(-ret, "%s/frame%u", d->ring_dir, i);
			return ret;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			ret = -errno;
			complain(-ret, "creating %s", path);
			return ret;
		}
		d->nr_made = i + 1;
		ret = fstat(fd, &st) < 0 ? -errno : 0;
		close(fd);
		if (ret < 0) {
			complain(-ret, "stat %s", path);
			return ret;
		}
		if ((uint64_t)st.st_size < d->frame_bytes) {
			complain(0, "%s is %jd bytes, not the %zu of user.umm.size", path,
				 (intmax_t)st.st_size, d->frame_bytes);
			return -EPROTO;
		}
	}
	n = getxattr(d->ring_dir, "user.umm.effective", eff, sizeof(eff) - 1);
	eff[n > 0 ? n : 0] = '\0';
	say("ring %s: %u buffers frame0..frame%u of %ux%u RGBA (%zu bytes each)", d->ring_dir,
	    d->cfg->ring, d->cfg->ring - 1, d->cfg->width, d->cfg->height, d->frame_bytes);
	say("  user.umm.effective: %s", eff);
	return 0;
}

/* Remove what make_ring() made (on a mount of someone else's: -m). */
static void remove_ring(struct demo *d)
{
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < d->nr_made; i++)
		if (fmt_path(path, sizeof(path), "%s/frame%u", d->ring_dir, i) == 0 &&
		    unlink(path) < 0 && errno != ENOENT)
			complain(errno, "rm %s", path);
	if (d->ring_made && rmdir(d->ring_dir) < 0 && errno != ENOENT)
		complain(errno, "rmdir %s", d->ring_dir);
	d->nr_made = 0;
	d->ring_made = false;
}

/**
 * start_roles() - fork and exec the producer, the filter and the consumer.
 * @d: the demo.
 *
 * Three socket pairs link them in a circle (producer -> filter -> consumer
 * -> producer); each role also gets a socket pair with us. Each gets its
 * sockets as fds 3 (us), 4 (from the previous role) and 5 (to the next).
 *
 * Return: 0, or -errno with a message printed.
 */
static int start_roles(struct demo *d)
{
	const struct demo_config *cfg = d->cfg;
	int link[NR_ROLES][2], ctl[NR_ROLES][2], keep[3], i, j, ret = 0;
	char w[16], h[16], n[16], r[16];
	pid_t pid;

	for (i = 0; i < NR_ROLES; i++)
		link[i][0] = link[i][1] = ctl[i][0] = ctl[i][1] = -1;
	for (i = 0; i < NR_ROLES && ret == 0; i++)
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, link[i]) < 0 ||
		    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl[i]) < 0)
			ret = -errno;
	if (ret < 0) {
		complain(-ret, "socketpair");
		goto out;
	}
	snprintf(w, sizeof(w), "%u", cfg->width);
	snprintf(h, sizeof(h), "%u", cfg->height);
	snprintf(n, sizeof(n), "%u", cfg->frames);
	snprintf(r, sizeof(r), "%u", cfg->ring);

	for (i = 0; i < NR_ROLES; i++) {
		char *argv[] = { d->self,     "--role", (char *)role_names[i],
				 "-W",	      w,	"-H",
				 h,	      "-n",	n,
				 "-r",	      r,	"--ring-dir",
				 d->ring_dir, "-o",	d->outdir,
				 NULL };

		/* link[i] runs from role i to role i + 1. */
		keep[0] = ctl[i][1];
		keep[1] = link[(i + NR_ROLES - 1) % NR_ROLES][1];
		keep[2] = link[i][0];
		/* This very program, whatever became of its path since. */
		pid = spawn("/proc/self/exe", argv, keep, 3, -1, SPAWN_PDEATH | SPAWN_STDIN_NULL);
		if (pid < 0) {
			ret = (int)pid;
			complain(-ret, "fork");
			goto out;
		}
		d->roles[i].pid = pid;
		d->roles[i].ctl = ctl[i][0];
		ctl[i][0] = -1;
	}
	say("started producer (pid %d) -> filter (pid %d) -> consumer (pid %d)",
	    (int)d->roles[ROLE_PRODUCER].pid, (int)d->roles[ROLE_FILTER].pid,
	    (int)d->roles[ROLE_CONSUMER].pid);
out:
	/* Only the roles keep the links: a role's end then shows as EOF to its peers. */
	for (i = 0; i < NR_ROLES; i++)
		for (j = 0; j < 2; j++) {
			if (link[i][j] >= 0)
				close(link[i][j]);
			if (ctl[i][j] >= 0)
				close(ctl[i][j]);
		}
	return ret;
}

/**
 * roles_ended() - a role closed its socket to us early: say how the roles ended.
 * @d: the demo.
 * @i: the role whose socket closed.
 *
 * One role's end makes its neighbours leave too, and the first we notice
 * need not be the first that failed: so every role that has ended within a
 * moment is reported, and the one killed by a signal stands out. Those still
 * running are left to demo_cleanup().
 */
static void roles_ended(struct demo *d, int i)
{
	struct role_proc *rp = &d->roles[i];
	char st[64];
	int j;

	if (!rp->reaped) {
		rp->status = end_child(rp->pid, 2000);
		rp->reaped = true;
	}
	sleep_ms(200);
	for (j = 0; j < NR_ROLES; j++) {
		rp = &d->roles[j];
		if (!rp->reaped && rp->pid > 0 && waitpid(rp->pid, &rp->status, WNOHANG) == rp->pid)
			rp->reaped = true;
		if (rp->reaped)
			complain(0, "the %s (pid %d) ended early: %s", role_names[j], (int)rp->pid,
				 status_text(rp->status, st, sizeof(st)));
	}
}

/**
 * wait_roles() - wait until every role has sent a message of @type.
 * @d:          the demo.
 * @type:       MSG_READY or MSG_DONE.
 * @timeout_ms: the limit, or -1 for none (a long run is no failure; a role
 *              that dies still shows, as EOF).
 *
 * Return: 0; -EINTR on SIGINT, SIGTERM or SIGHUP; -ETIMEDOUT; -EPIPE when a
 * role ended; -EPROTO for a message out of turn (each reported but -EINTR).
 */
static int wait_roles(struct demo *d, uint32_t type, int timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000ULL, now;
	struct pollfd pfd[NR_ROLES];
	int idx[NR_ROLES], i, n, ret, wait_ms;
	struct role_proc *rp;
	struct demo_msg m;

	for (;;) {
		for (i = n = 0; i < NR_ROLES; i++) {
			rp = &d->roles[i];
			if (type == MSG_READY ? rp->have_ready : rp->have_done)
				continue;
			pfd[n] = (struct pollfd){ .fd = rp->ctl, .events = POLLIN };
			idx[n++] = i;
		}
		if (!n)
			return 0;
		if (got_signal)
			return -EINTR;
		wait_ms = -1;
		if (timeout_ms >= 0) {
			now = now_ns();
			if (now >= end) {
				complain(0, "the %s did not get ready within %d s",
					 role_names[idx[0]], timeout_ms / 1000);
				return -ETIMEDOUT;
			}
			wait_ms = (int)((end - now) / 1000000ULL) + 1;
		}
		if (poll(pfd, (nfds_t)n, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			complain(-ret, "poll");
			return ret;
		}
		for (i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			rp = &d->roles[idx[i]];
			ret = recv_msg(rp->ctl, &m, NULL, NULL);
			if (ret == -EPIPE) {
				roles_ended(d, idx[i]);
				return ret;
			}
			if (ret == 0 && m.type != type)
				ret = -EPROTO;
			if (ret < 0) {
				complain(-ret, "message from the %s", role_names[idx[i]]);
				return ret;
			}
			if (type == MSG_READY) {
				rp->ready = m;
				rp->have_ready = true;
			} else {
				rp->done = m;
				rp->have_done = true;
				if (idx[i] == ROLE_CONSUMER)
					d->t_end = now_ns();
			}
		}
	}
}

/* Send every living role @type; 0, or the first error (reported). */
static int tell_roles(struct demo *d, uint32_t type)
{
	struct demo_msg m = { .type = type };
	int i, ret, first = 0;

	for (i = 0; i < NR_ROLES; i++) {
		if (d->roles[i].ctl < 0)
			continue;
		ret = send_msg(d->roles[i].ctl, &m, NULL, 0);
		if (ret < 0 && !first) {
			complain(-ret, "telling the %s", role_names[i]);
			first = ret;
		}
	}
	return first;
}

/**
 * stop_roles() - end the roles and reap them.
 * @d:    the demo.
 * @quit: ask them to leave (MSG_QUIT) and expect exit status 0; otherwise
 *        just end them.
 *
 * Return: 0, or -1 when a role did not leave cleanly though asked (reported).
 */
static int stop_roles(struct demo *d, bool quit)
{
	struct role_proc *rp;
	int i, failed = 0;
	char st[64];

	if (quit)
		tell_roles(d, MSG_QUIT);
	for (i = 0; i < NR_ROLES; i++) {
		rp = &d->roles[i];
		if (rp->ctl >= 0) {
			/* EOF on this socket also tells a role that the run is over. */
			close(rp->ctl);
			rp->ctl = -1;
		}
	}
	for (i = 0; i < NR_ROLES; i++) {
		rp = &d->roles[i];
		if (rp->pid <= 0 || rp->reaped)
			continue;
		rp->status = end_child(rp->pid, quit ? 5000 : 1000);
		rp->reaped = true;
		if (quit && (!WIFEXITED(rp->status) || WEXITSTATUS(rp->status) != 0)) {
			complain(0, "the %s (pid %d) ended with %s", role_names[i], (int)rp->pid,
				 status_text(rp->status, st, sizeof(st)));
			failed = 1;
		}
	}
	return failed ? -1 : 0;
}

/**
 * run_umm_ls() - list the ring with umm-ls -l -p, while the roles hold it.
 * @d: the demo.
 *
 * Return: 0 (also when umm-ls is not there: a note says so), or -1 when it
 * failed (reported).
 */
static int run_umm_ls(struct demo *d)
{
	char *argv[] = { d->umm_ls, "-l", "-p", d->ring_dir, NULL };
	int status = 0, ret;
	char st[64];
	pid_t pid;

	if (!d->umm_ls) {
		say("umm-ls not found (beside umm-demo or in $PATH): no listing of the ring");
		return 0;
	}
	printf("\n$ umm-ls -l -p %s\n", d->ring_dir);
	pid = spawn(d->umm_ls, argv, NULL, 0, -1, SPAWN_STDIN_NULL);
	if (pid < 0) {
		complain((int)-pid, "fork");
		return -1;
	}
	ret = wait_pid(pid, &status, TOOL_TIMEOUT_MS);
	if (ret < 0) {
		status = end_child(pid, 0);
		complain(0, "%s did not finish within %d s", d->umm_ls, TOOL_TIMEOUT_MS / 1000);
		return -1;
	}
	printf("\n");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		complain(0, "%s ended with %s", d->umm_ls, status_text(status, st, sizeof(st)));
		return -1;
	}
	return 0;
}

/* @v bytes as "3.5 MiB" and the like. */
static const char *human(uint64_t v, char *buf, size_t len)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	double x = (double)v;
	unsigned int u = 0;

	while (x >= 1024 && u < 4) {
		x /= 1024;
		u++;
	}
	if (!u)
		snprintf(buf, len, "%" PRIu64 " bytes", v);
	else
		snprintf(buf, len, "%.1f %s", x, unit[u]);
	return buf;
}

/**
 * report() - print what the run did and check that it copied nothing.
 * @d:      the demo.
 * @before: user.umm.stats before the roles started.
 * @after:  user.umm.stats after they finished.
 *
 * Return: 0, or -1 when a pixel was wrong or the daemon moved bytes through
 * read() or write() (reported).
 */
static int report(struct demo *d, const char *before, const char *after)
{
	const struct demo_config *cfg = d->cfg;
	struct role_proc *r = d->roles;
	uint64_t rb0, rb1, wb0, wb1, touched, pfn;
	double secs = (double)(d->t_end - d->t_go) / 1e9;
	char h1[32], h2[32], h3[32], h4[32];
	bool same = true;
	int failed = 0, i;
	uint32_t k, prev = 0;

	if (stats_value(before, "read_bytes", &rb0) < 0 ||
	    stats_value(before, "write_bytes", &wb0) < 0 ||
	    stats_value(after, "read_bytes", &rb1) < 0 ||
	    stats_value(after, "write_bytes", &wb1) < 0) {
		complain(0, "%s has no read_bytes= or write_bytes=: \"%s\"", STATS_XATTR, after);
		return -1;
	}
	touched = r[ROLE_PRODUCER].done.bytes + r[ROLE_FILTER].done.bytes +
		  r[ROLE_CONSUMER].done.bytes;

	printf("\n");
	printf("frames              %u of %ux%u RGBA, %zu bytes each, through a ring of %u\n",
	       cfg->frames, cfg->width, cfg->height, d->frame_bytes, cfg->ring);
	printf("elapsed             %.3f s\n", secs);
	printf("frames per second   %.1f\n", secs > 0 ? cfg->frames / secs : 0.0);
	printf("touched in place    %s: producer wrote %s, filter read and wrote %s, "
	       "consumer read %s\n",
	       human(touched, h1, sizeof(h1)), human(r[ROLE_PRODUCER].done.bytes, h2, sizeof(h2)),
	       human(r[ROLE_FILTER].done.bytes, h3, sizeof(h3)),
	       human(r[ROLE_CONSUMER].done.bytes, h4, sizeof(h4)));
	printf("read()/write()      %" PRIu64 " bytes (the daemon's counters, %s of the root):\n",
	       (rb1 - rb0) + (wb1 - wb0), STATS_XATTR);
	printf("  before            %s\n", before);
	printf("  after             %s\n", after);
	printf("pixels checked      %" PRIu64 " wrong in %u frames\n", r[ROLE_CONSUMER].done.errors,
	       cfg->frames);

	pfn = r[0].done.pfn;
	for (i = 0; i < NR_ROLES; i++)
		same = same && r[i].done.pfn && r[i].done.pfn == pfn;
	if (same)
		printf("same memory         frame0's first page is PFN 0x%" PRIx64
		       " in the producer, the filter and the consumer\n",
		       pfn);
	else if (r[0].done.pfn && r[1].done.pfn && r[2].done.pfn)
		printf("same memory         frame0's first page is PFN 0x%" PRIx64 ", 0x%" PRIx64
		       ", 0x%" PRIx64 " (a page can move under compaction)\n",
		       r[0].done.pfn, r[1].done.pfn, r[2].done.pfn);
	else
		printf("same memory         not shown: reading PFNs from /proc/self/pagemap needs "
		       "CAP_SYS_ADMIN\n");
	/* The frames ppm_wanted() picks, each once. */
	printf("PPM files          ");
	for (i = 0; i < 3; i++) {
		k = i == 0 ? 0 : i == 1 ? cfg->frames / 2 : cfg->frames - 1;
		if (i == 0 || k > prev)
			printf(" %s/frame-%06" PRIu32 ".ppm", d->outdir, k);
		prev = k;
	}
	printf("\n");

	if (rb1 != rb0 || wb1 != wb0) {
		complain(0, "the daemon served read()/write() during the run: not zero-copy");
		failed = 1;
	}
	if (r[ROLE_CONSUMER].done.errors) {
		complain(0, "wrong pixels: %" PRIu64, r[ROLE_CONSUMER].done.errors);
		failed = 1;
	}
	return failed ? -1 : 0;
}

/**
 * run_pipeline() - the roles, from start to the listing of the ring.
 * @d: the demo.
 *
 * Return: 0, or -errno / -1 with a message printed. The roles are left
 * running (holding the ring) for stop_roles().
 */
static int run_pipeline(struct demo *d)
{
	char before[512], after[512];
	bool memfd = false;
	int i, ret, failed = 0;

	ret = read_stats(d, before, sizeof(before));
	if (ret < 0) {
		complain(-ret, "getfattr -n %s %s", STATS_XATTR, d->mnt);
		return ret;
	}
	ret = start_roles(d);
	if (ret < 0)
		return ret;
	ret = wait_roles(d, MSG_READY, READY_TIMEOUT_MS);
	if (ret < 0)
		return ret;
	for (i = 0; i < NR_ROLES; i++)
		memfd = memfd || (d->roles[i].ready.flags & MSG_F_MEMFD);
	if (memfd)
		say("no FUSE passthrough here (an fd on the mount maps the page cache): the roles map "
		    "the buffers' memfds from umm_open() and umm_export() instead");
	else
		say("each role maps the buffers through its fd on the mount (FUSE passthrough); "
		    "the filter maps the fds the producer passed it");

	say("running %u frames", d->cfg->frames);
	d->t_go = now_ns();
	ret = tell_roles(d, MSG_GO);
	if (ret == 0)
		ret = wait_roles(d, MSG_DONE, -1);
	if (ret < 0)
		return ret;

	ret = read_stats(d, after, sizeof(after));
	if (ret < 0) {
		complain(-ret, "getfattr -n %s %s", STATS_XATTR, d->mnt);
		return ret;
	}
	if (report(d, before, after) < 0)
		failed = 1;
	if (run_umm_ls(d) < 0)
		failed = 1;
	return failed ? -1 : 0;
}

/**
 * demo_cleanup() - undo everything, in order; safe to call twice.
 * @d: the demo.
 *
 * Roles first (they hold the ring), then the ring on a mount that is not
 * ours, then our mount and its daemon, then the temp dir. Sets @d->failed
 * when something could not be undone.
 */
static void demo_cleanup(struct demo *d)
{
	if (d->cleaned)
		return;
	d->cleaned = true;
	if (stop_roles(d, false) < 0)
		d->failed = true;
	if (d->cfg && d->cfg->mount)
		remove_ring(d);
	if (d->fs_pid > 0 && unmount_temp(d) < 0)
		d->failed = true;
	if (d->failed)
		show_fs_log(d);
	if (d->tmp[0]) {
		if (d->log[0])
			unlink(d->log);
		if (d->sock[0])
			unlink(d->sock);
		if (d->mnt[0] && tool_is_mounted(d->mnt) == 0)
			rmdir(d->mnt);
		if (rmdir(d->tmp) < 0) {
			complain(errno, "rmdir %s (left behind)", d->tmp);
			d->failed = true;
		}
	}
	free(d->umm_fs);
	free(d->umm_ls);
	d->umm_fs = d->umm_ls = NULL;
}

/* For exit() on a path that missed the cleanup: it must never leave a mount. */
static void demo_atexit(void)
{
	demo_cleanup(&the_demo);
}

static void on_signal(int sig)
{
	got_signal = sig;
}

/* The output dir: made if missing, and named absolutely for the consumer. */
static int prepare_outdir(struct demo *d)
{
	int ret;

	if (mkdir(d->cfg->outdir, 0755) < 0 && errno != EEXIST) {
		ret = -errno;
		complain(-ret, "mkdir %s", d->cfg->outdir);
		return ret;
	}
	if (!realpath(d->cfg->outdir, d->outdir)) {
		ret = -errno;
		complain(-ret, "%s", d->cfg->outdir);
		return ret;
	}
	if (access(d->outdir, W_OK) < 0) {
		ret = -errno;
		complain(-ret, "%s", d->outdir);
		return ret;
	}
	return 0;
}

/* -m: check that @d->cfg->mount is the root of a umm mount. */
static int use_mount(struct demo *d)
{
	char stats[512];
	int ret;

	if (!realpath(d->cfg->mount, d->mnt)) {
		ret = -errno;
		complain(-ret, "%s", d->cfg->mount);
		return ret;
	}
	ret = read_stats(d, stats, sizeof(stats));
	if (ret < 0) {
		complain(-ret, "%s is not the root of a umm mount (no %s)", d->mnt, STATS_XATTR);
		return ret;
	}
	say("using the umm mounted on %s", d->mnt);
	return 0;
}

/**
 * demo_main() - the parent: mount, ring, pipeline, report, cleanup.
 * @cfg: the options.
 *
 * Return: the exit status: 0, 1 on any failure, 128 + N after signal N.
 */
static int demo_main(const struct demo_config *cfg)
{
	struct demo *d = &the_demo;
	struct sigaction sa = { .sa_handler = on_signal };
	long psz = sysconf(_SC_PAGESIZE);
	int i, ok = 0;
	ssize_t n;

	d->cfg = cfg;
	d->fs_pid = -1;
	for (i = 0; i < NR_ROLES; i++)
		d->roles[i] = (struct role_proc){ .pid = -1, .ctl = -1 };
	d->frame_bytes = (size_t)cfg->width * cfg->height * 4;
	d->slot_bytes = (d->frame_bytes + (size_t)psz - 1) / (size_t)psz * (size_t)psz;
	n = readlink("/proc/self/exe", d->self, sizeof(d->self) - 1);
	if (n <= 0 || (size_t)n >= sizeof(d->self) - 1)
		n = snprintf(d->self, sizeof(d->self), "umm-demo");
	d->self[n] = '\0';

	/* No SA_RESTART: a blocking call returns EINTR and the loop sees got_signal. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(demo_atexit);

	if (prepare_outdir(d) < 0)
		goto out;
	d->umm_ls = find_umm_ls();
	if (cfg->mount) {
		if (use_mount(d) < 0)
			goto out;
	} else {
		d->umm_fs = find_umm_fs(cfg->umm_fs);
		if (!d->umm_fs || mount_temp(d) < 0)
			goto out;
	}
	if (make_ring(d) < 0 || run_pipeline(d) < 0)
		goto out;
	if (stop_roles(d, true) < 0)
		goto out;
	ok = 1;
out:
	if (!ok)
		d->failed = true;
	demo_cleanup(d);
	if (got_signal) {
		complain(0, "interrupted by SIG%s; cleaned up", sigabbrev_np(got_signal));
		return 128 + got_signal;
	}
	if (d->failed) {
		complain(0, "FAILED%s", d->fs_pid > 0 || d->ring_dir[0] ? "; cleaned up" : "");
		return 1;
	}
	if (cfg->mount)
		say("done; removed %s", d->ring_dir);
	else
		say("done; unmounted %s and removed %s", d->mnt, d->tmp);
	return 0;
}

/* ---- options -------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: umm-demo [-W WIDTH] [-H HEIGHT] [-n FRAMES] [-r RING] [-m MOUNTPOINT]\n"
		"                [-o OUTDIR] [--umm-fs PATH]\n"
		"\n"
		"A zero-copy camera -> processing -> display pipeline on umm. umm-demo mounts a\n"
		"temporary umm, makes a directory \"ring\" whose constraints (user.umm.size,\n"
		"user.umm.max_bytes) give RING frame buffers, and runs three processes: a\n"
		"producer draws a moving test pattern into the ring through its mapping, a\n"
		"filter inverts each frame in place through its own, and a consumer checks\n"
		"every pixel and writes the first, middle and last frames as PPM files. Only\n"
		"small messages pass between them (slot fds once, with SCM_RIGHTS): pixels are\n"
		"never copied. At the end it prints frames per second, the bytes touched in\n"
		"place, and the daemon's read()/write() byte counters (user.umm.stats of the\n"
		"root), which must not move; lists the ring with umm-ls -l -p while the\n"
		"processes hold it; and unmounts. Run it as root, or as a user who may mount\n"
		"FUSE file systems.\n"
		"\n"
		"  -W, --width N      frame width in pixels (default %d, at most %d)\n"
		"  -H, --height N     frame height in pixels (default %d, at most %d)\n"
		"  -n, --frames N     frames to send through the pipeline (default %d)\n"
		"  -r, --ring N       buffers in the ring, 1 to %d (default %d)\n"
		"  -m, --mount DIR    use the umm mounted on DIR (its root) instead of a\n"
		"                     temporary one; DIR/ring must not exist, and is removed\n"
		"                     at the end. The read()/write() check assumes nobody\n"
		"                     else reads or writes on that mount meanwhile\n"
		"  -o, --outdir DIR   where the PPM files go, made if missing (default\n"
		"                     ./" DEFAULT_OUTDIR "); they are named frame-NNNNNN.ppm\n"
		"      --umm-fs PATH  the umm-fs to mount (default: $UMM_FS, else ../fs/umm-fs\n"
		"                     beside umm-demo, else " UMM_SBINDIR "/umm-fs, else $PATH)\n"
		"  -h, --help         print this help\n"
		"  -V, --version      print the version\n"
		"\n"
		"umm-ls is found as $UMM_LS, beside umm-demo, or in $PATH.\n"
		"Exit status: 0 when every frame arrived intact and no byte went through\n"
		"read() or write(); 1 on any failure; 128+N when ended by signal N. The mount,\n"
		"the processes and the temp dir are cleaned up in every case.\n",
		DEFAULT_WIDTH, MAX_DIM, DEFAULT_HEIGHT, MAX_DIM, DEFAULT_FRAMES, MAX_RING,
		DEFAULT_RING);
}

/* A decimal number in [@min, @max]; -EINVAL otherwise. */
static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned int *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

/**
 * parse_args() - fill @cfg from the command line.
 * @argc, @argv: as given to main().
 * @cfg:         defaults in, options out.
 *
 * Return: 0 to go on, 1 when done (--help, --version), -1 on a usage error
 * (reported).
 */
static int parse_args(int argc, char **argv, struct demo_config *cfg)
{
	enum { OPT_UMM_FS = 256, OPT_ROLE, OPT_RING_DIR };
	static const struct option longopts[] = {
		{ "width", required_argument, NULL, 'W' },
		{ "height", required_argument, NULL, 'H' },
		{ "frames", required_argument, NULL, 'n' },
		{ "ring", required_argument, NULL, 'r' },
		{ "mount", required_argument, NULL, 'm' },
		{ "outdir", required_argument, NULL, 'o' },
		{ "umm-fs", required_argument, NULL, OPT_UMM_FS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		/* For umm-demo's own role processes. */
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "ring-dir", required_argument, NULL, OPT_RING_DIR },
		{ NULL, 0, NULL, 0 },
	};
	const char *what = NULL;
	int c, i, ret = 0;

	while ((c = getopt_long(argc, argv, "W:H:n:r:m:o:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'W':
			ret = parse_uint(optarg, 1, MAX_DIM, &cfg->width);
			what = "-W: a width from 1 to 16384";
			break;
		case 'H':
			ret = parse_uint(optarg, 1, MAX_DIM, &cfg->height);
			what = "-H: a height from 1 to 16384";
			break;
		case 'n':
			ret = parse_uint(optarg, 1, MAX_FRAMES, &cfg->frames);
			what = "-n: a frame count from 1 to 1000000000";
			break;
		case 'r':
			ret = parse_uint(optarg, 1, MAX_RING, &cfg->ring);
			what = "-r: a ring of 1 to 64 buffers";
			break;
		case 'm':
			cfg->mount = optarg;
			break;
		case 'o':
			cfg->outdir = optarg;
			break;
		case OPT_UMM_FS:
			cfg->umm_fs = optarg;
			break;
		case OPT_ROLE:
			ret = -EINVAL;
			what = "--role: producer, filter or consumer";
			for (i = 0; i < NR_ROLES; i++)
				if (!strcmp(optarg, role_names[i])) {
					cfg->role = i;
					ret = 0;
				}
			break;
		case OPT_RING_DIR:
			cfg->ring_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("umm-demo %s\n", UMM_VERSION);
			return 1;
		default:
			/* getopt_long() said what was wrong. */
			fprintf(stderr, "Try 'umm-demo --help'.\n");
			return -1;
		}
		if (ret < 0) {
			complain(0, "bad value '%s' for %s", optarg, what);
			return -1;
		}
	}
	if (optind < argc) {
		complain(0, "unexpected argument '%s'; try 'umm-demo --help'", argv[optind]);
		return -1;
	}
	if (!*cfg->outdir || (cfg->mount && !*cfg->mount)) {
		complain(0, "an empty path");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* Static: the atexit() cleanup may look at it after main() returns. */
	static struct demo_config cfg = {
		.width = DEFAULT_WIDTH,
		.height = DEFAULT_HEIGHT,
		.frames = DEFAULT_FRAMES,
		.ring = DEFAULT_RING,
		.outdir = DEFAULT_OUTDIR,
		.role = -1,
	};
	int ret;

	ret = parse_args(argc, argv, &cfg);
	if (ret)
		return ret > 0 ? 0 : 1;
	if (cfg.role >= 0)
		return role_main(&cfg);
	setvbuf(stdout, NULL, _IOLBF, 0);
	return demo_main(&cfg);
}
