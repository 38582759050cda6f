// SPDX-License-Identifier: MIT
/*
 * conn.c - libumm's connections to export sockets: the socket path of each
 * mount, connections kept open between calls, and one request with its reply.
 *
 * Runs in the library user's threads, any number at once: the path cache and
 * the kept connections share one mutex, never held across a system call that
 * can wait for a daemon. A fork() while another thread holds it is made safe
 * with pthread_atfork().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto_i.h"
#include "umm_i.h"

/* A reply carries at most one fd; room for a few more lets us see (and close) extras. */
#define REPLY_MAX_FDS PROTO_MAX_FDS

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

/*
 * Socket path cache, keyed by the mount's st_dev. Finding the path of a buffer
 * that is not the mount root costs a FUSE round trip, a readlink and a stat
 * per directory level, so it is done once per mount. A device number can be
 * reused by a later mount, so a cached path that fails is looked up again.
 */
#define SOCK_CACHE_SIZE 8

struct sock_cache_entry {
	dev_t dev;
	int used;
	char path[UMM_SOCKPATH_MAX];
};

/*
 * Connections to export sockets kept open between calls, at most CONN_PER_DEV
 * a mount: connecting costs about as much as the request itself. Only idle
 * connections are in the table: a call takes one out, so no other thread (and
 * no child forked meanwhile) can use it, and puts it back when done. The
 * daemon drops a client idle for 10 s (or the one idle longest when it has
 * too many), so a kept connection may be dead: the call then retries once on
 * a new one.
 */
#define CONN_PER_DEV 2
#define CONN_MAX (SOCK_CACHE_SIZE * CONN_PER_DEV)

/*
 * A connection in use: its fd, and its socket cookie (SO_COOKIE), which no
 * other socket ever gets, so one getsockopt() tells whether a kept fd is still
 * this connection. 0: no cookie (a kernel without SO_COOKIE), and then the
 * connection is not kept.
 */
struct conn_ref {
	int fd;
	uint64_t cookie;
};

struct conn {
	int fd; /* -1: free slot */
	dev_t dev; /* of the mount */
	uint64_t cookie; /* of the socket: is fd still ours? */
	char path[UMM_SOCKPATH_MAX];
};

static struct {
	pthread_mutex_t lock;
	unsigned int next;
	struct sock_cache_entry e[SOCK_CACHE_SIZE];
	struct conn conn[CONN_MAX];
} sock_cache = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.conn = { [0 ... CONN_MAX - 1] = { .fd = -1 } },
};

static pthread_once_t sock_cache_once = PTHREAD_ONCE_INIT;

/* A fork while another thread holds the lock must not leave it locked in the child. */
static void sock_cache_prepare(void)
{
	pthread_mutex_lock(&sock_cache.lock);
}

static void sock_cache_parent(void)
{
	pthread_mutex_unlock(&sock_cache.lock);
}

/* The child shares no connection with its parent: it connects anew when it needs to. */
static void sock_cache_child(void)
{
	for (unsigned int i = 0; i < CONN_MAX; i++) {
		if (sock_cache.conn[i].fd >= 0)
			close(sock_cache.conn[i].fd);
		sock_cache.conn[i].fd = -1;
	}
	pthread_mutex_unlock(&sock_cache.lock);
}

static void sock_cache_init(void)
{
	pthread_atfork(sock_cache_prepare, sock_cache_parent, sock_cache_child);
}

/*
 * The cookie of socket @fd, or 0 if it has none. getsockopt() never waits
 * for anyone, whatever file @fd is, and fails on anything but a socket.
 */
static uint64_t sock_cookie(int fd)
{
	socklen_t len = sizeof(uint64_t);
	uint64_t cookie;

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) < 0 || len != sizeof(cookie))
		return 0;
	return cookie;
}

/*
 * Take a kept connection to @path for mount @dev out of the table into @cr:
 * return 0, or -1 if there is none. Connections of @dev to another path are
 * closed.
 */
static int conn_take(dev_t dev, const char *path, struct conn_ref *cr)
{
	cr->fd = -1;
	pthread_once(&sock_cache_once, sock_cache_init);
	pthread_mutex_lock(&sock_cache.lock);
	for (unsigned int i = 0; i < CONN_MAX && cr->fd < 0; i++) {
		struct conn *c = &sock_cache.conn[i];

		if (c->fd < 0 || c->dev != dev)
			continue;
		/* Closed (and maybe reused) behind our back, say by close_range(): not ours. */
		if (sock_cookie(c->fd) != c->cookie) {
			c->fd = -1;
			continue;
		}
		if (strcmp(c->path, path)) {
			close(c->fd); /* the mount's socket moved: a stale connection */
		} else {
			cr->fd = c->fd;
			cr->cookie = c->cookie;
		}
		c->fd = -1;
	}
	pthread_mutex_unlock(&sock_cache.lock);
	return cr->fd >= 0 ? 0 : -1;
}

/* Put connection @cr back, or close it if @dev has enough already. */
static void conn_put(dev_t dev, const char *path, const struct conn_ref *cr)
{
	struct conn *slot = NULL;
	unsigned int kept = 0;
	int sock = cr->fd;

	if (!cr->cookie) {
		close(sock);
		return;
	}
	pthread_once(&sock_cache_once, sock_cache_init);
	pthread_mutex_lock(&sock_cache.lock);
	for (unsigned int i = 0; i < CONN_MAX; i++) {
		struct conn *c = &sock_cache.conn[i];

		if (c->fd < 0)
			slot = slot ? slot : c;
		else if (c->dev == dev)
			kept++;
	}
	if (slot && kept < CONN_PER_DEV) {
		slot->fd = sock;
		slot->dev = dev;
		slot->cookie = cr->cookie;
		memcpy(slot->path, path, strlen(path) + 1);
		sock = -1;
	}
	pthread_mutex_unlock(&sock_cache.lock);
	if (sock >= 0)
		close(sock);
}

int conn_path_get(dev_t dev, char *path)
{
	int found = 0;

	pthread_once(&sock_cache_once, sock_cache_init);
	pthread_mutex_lock(&sock_cache.lock);
	for (unsigned int i = 0; i < SOCK_CACHE_SIZE; i++) {
		if (sock_cache.e[i].used && sock_cache.e[i].dev == dev) {
			memcpy(path, sock_cache.e[i].path, UMM_SOCKPATH_MAX);
			found = 1;
			break;
		}
	}
	pthread_mutex_unlock(&sock_cache.lock);
	return found;
}

void conn_path_put(dev_t dev, const char *path)
{
	struct sock_cache_entry *slot = NULL;

	pthread_once(&sock_cache_once, sock_cache_init);
	pthread_mutex_lock(&sock_cache.lock);
	for (unsigned int i = 0; i < SOCK_CACHE_SIZE; i++) {
		if (sock_cache.e[i].used && sock_cache.e[i].dev == dev) {
			slot = &sock_cache.e[i];
			break;
		}
	}
	if (!slot) {
		slot = &sock_cache.e[sock_cache.next];
		sock_cache.next = (sock_cache.next + 1) % SOCK_CACHE_SIZE;
	}
	slot->dev = dev;
	slot->used = 1;
	memcpy(slot->path, path, UMM_SOCKPATH_MAX);
	pthread_mutex_unlock(&sock_cache.lock);
}

void conn_path_drop(dev_t dev)
{
	pthread_once(&sock_cache_once, sock_cache_init);
	pthread_mutex_lock(&sock_cache.lock);
	for (unsigned int i = 0; i < SOCK_CACHE_SIZE; i++) {
		if (sock_cache.e[i].used && sock_cache.e[i].dev == dev)
			sock_cache.e[i].used = 0;
	}
	pthread_mutex_unlock(&sock_cache.lock);
}

static int send_request(int sock, int fd)
{
	char msg[sizeof(struct umm_req)];
	int ret;

	ret = proto_encode_req(msg, sizeof(msg), UMM_OP_EXPORT);
	if (ret < 0)
		return ret;
	return proto_send_fd(sock, msg, sizeof(msg), fd, 0);
}

/*
 * Return the fd of a good reply, or -errno (the daemon's status, or -EPROTO).
 * *@keep is set when the connection can carry further requests: a reply,
 * good or a refusal, came whole.
 */
static int recv_reply(int sock, int *keep)
{
	char msg[sizeof(struct umm_rep) + 1]; /* + 1 to see a longer message as truncated */
	struct proto_recvd in;
	struct umm_rep rep;
	int ret;

	*keep = 0;
	ret = proto_recv_fd(sock, msg, sizeof(msg), REPLY_MAX_FDS, 0, &in);
	if (ret < 0)
		return ret;

	if (in.len == 0)
		ret = -ECONNRESET; /* the daemon hung up without an answer */
	else if (in.flags & (MSG_TRUNC | MSG_CTRUNC))
		ret = -EPROTO;
	else
		ret = proto_decode_rep(msg, in.len, &rep);
	if (!ret) {
		if (rep.op != UMM_OP_EXPORT) {
			ret = -EPROTO;
		} else if (rep.status) {
			ret = rep.status;
			*keep = !in.nfds;
		} else if (in.nfds != 1) {
			ret = -EPROTO;
		} else {
			*keep = 1;
		}
	}

	if (ret < 0) {
		if (in.fd >= 0)
			close(in.fd);
		return ret;
	}
	return in.fd;
}

static int sock_connect(const char *sockpath)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(sockpath);
	int sock, ret;

	if (len >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, sockpath, len + 1);

	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	do {
		ret = connect(sock, (struct sockaddr *)&sa, sizeof(sa));
	} while (ret < 0 && errno == EINTR);
	if (ret < 0 && errno != EISCONN) {
		ret = -errno;
		close(sock);
		return ret;
	}
	return sock;
}

/* One request and its reply on @sock; *@keep as for recv_reply(). */
static int exchange(int sock, int fd, int *keep)
{
	int ret;

	*keep = 0;
	ret = send_request(sock, fd);
	if (ret < 0)
		return ret;
	return recv_reply(sock, keep);
}

/* Did the daemon drop the connection (it does so to idle clients)? */
static int conn_lost(int err)
{
	return err == -EPIPE || err == -ECONNRESET || err == -ENOTCONN;
}

int conn_export(dev_t dev, const char *sockpath, int fd)
{
	struct conn_ref cr;
	int ret, keep;

	if (conn_take(dev, sockpath, &cr) == 0) {
		ret = exchange(cr.fd, fd, &keep);
		if (keep) {
			conn_put(dev, sockpath, &cr);
			return ret;
		}
		close(cr.fd);
		if (!conn_lost(ret))
			return ret;
	}
	cr.fd = sock_connect(sockpath);
	if (cr.fd < 0)
		return cr.fd;
	ret = exchange(cr.fd, fd, &keep);
	if (ret >= 0 && keep) {
		cr.cookie = sock_cookie(cr.fd);
		conn_put(dev, sockpath, &cr);
	} else {
		close(cr.fd);
	}
	return ret;
}

/* Through a new connection that is closed at once. */
int umm__export_via(const char *sockpath, int fd)
{
	int sock, ret, keep;

	sock = sock_connect(sockpath);
	if (sock < 0) {
		errno = -sock;
		return -1;
	}
	ret = exchange(sock, fd, &keep);
	close(sock);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}
