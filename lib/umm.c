/*
 * umm.c - libumm: trade an fd of a umm mount for the buffer's mappable fd,
 * and bracket CPU access.
 *
 * Internal functions return -errno; only the public entry points turn that
 * into -1 and errno.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "umm.h"
#include "proto_i.h"
#include "umm_i.h"

_Static_assert(UMM_SYNC_READ == DMA_BUF_SYNC_READ, "UMM_SYNC_READ");
_Static_assert(UMM_SYNC_WRITE == DMA_BUF_SYNC_WRITE, "UMM_SYNC_WRITE");
_Static_assert(UMM_SYNC_RW == DMA_BUF_SYNC_RW, "UMM_SYNC_RW");
_Static_assert(UMM_SYNC_START == DMA_BUF_SYNC_START, "UMM_SYNC_START");
_Static_assert(UMM_SYNC_END == DMA_BUF_SYNC_END, "UMM_SYNC_END");

#define UMM_XATTR_SYNC "user.umm.sync"

#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

/* A reply carries at most one fd; room for a few more lets us see (and close) extras. */
#define REPLY_MAX_FDS 16

#define SYNC_MAX_EAGAIN 1000

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

static int set_errno(int ret)
{
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

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
	char path[SUN_PATH_MAX];
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
	char path[SUN_PATH_MAX];
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

static int sock_cache_get(dev_t dev, char *path)
{
	int found = 0;

	pthread_once(&sock_cache_once, sock_cache_init);
	pthread_mutex_lock(&sock_cache.lock);
	for (unsigned int i = 0; i < SOCK_CACHE_SIZE; i++) {
		if (sock_cache.e[i].used && sock_cache.e[i].dev == dev) {
			memcpy(path, sock_cache.e[i].path, SUN_PATH_MAX);
			found = 1;
			break;
		}
	}
	pthread_mutex_unlock(&sock_cache.lock);
	return found;
}

static void sock_cache_put(dev_t dev, const char *path)
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
	memcpy(slot->path, path, SUN_PATH_MAX);
	pthread_mutex_unlock(&sock_cache.lock);
}

static void sock_cache_drop(dev_t dev)
{
	pthread_once(&sock_cache_once, sock_cache_init);
	pthread_mutex_lock(&sock_cache.lock);
	for (unsigned int i = 0; i < SOCK_CACHE_SIZE; i++) {
		if (sock_cache.e[i].used && sock_cache.e[i].dev == dev)
			sock_cache.e[i].used = 0;
	}
	pthread_mutex_unlock(&sock_cache.lock);
}

/*
 * Check a user.umm.socket value of @len bytes in @path (SUN_PATH_MAX bytes of
 * room) and NUL-terminate it. A trailing NUL or newline is tolerated.
 */
static int socket_value_check(char *path, ssize_t len)
{
	while (len > 0 && (path[len - 1] == '\0' || path[len - 1] == '\n'))
		len--;
	if (len <= 0 || (size_t)len >= SUN_PATH_MAX)
		return -EPROTO;
	if (path[0] != '/' || memchr(path, '\0', len))
		return -EPROTO;
	path[len] = '\0';
	return 0;
}

/*
 * Walk up from the directory that holds the file of @fd (as named by
 * /proc/self/fd) to the highest directory of device @dev: the mount root.
 * A component that does not exist any more (an unlinked buffer or directory)
 * is skipped. Then read the socket xattr there.
 */
static int find_socket_from_root(int fd, dev_t dev, char *path)
{
	char proc[64];
	char dir[PATH_MAX];
	char root[PATH_MAX];
	struct stat st;
	ssize_t n;
	int found = 0;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, dir, sizeof(dir) - 1);
	if (n < 0)
		return -errno;
	dir[n] = '\0';
	/* pipe:[..], socket:[..], anon_inode:..: not a file of any mount. */
	if (dir[0] != '/')
		return -EXDEV;

	for (;;) {
		char *slash = strrchr(dir, '/');

		if (slash == dir) {
			if (dir[1] == '\0')
				break; /* just checked "/" */
			dir[1] = '\0';
		} else {
			*slash = '\0';
		}
		if (stat(dir, &st) == 0) {
			if (st.st_dev == dev) {
				memcpy(root, dir, strlen(dir) + 1);
				found = 1;
			} else if (found) {
				break;
			}
		}
	}
	if (!found)
		return -EXDEV;

	n = getxattr(root, UMM_XATTR_SOCKET, path, SUN_PATH_MAX);
	if (n < 0) {
		if (errno == ERANGE)
			return -ENAMETOOLONG;
		/* No socket at the root: not a umm mount (or a bind mount of a subdirectory). */
		return -EXDEV;
	}
	return socket_value_check(path, n);
}

static int find_socket(int fd, dev_t dev, char *path)
{
	ssize_t n = fgetxattr(fd, UMM_XATTR_SOCKET, path, SUN_PATH_MAX);

	if (n >= 0)
		return socket_value_check(path, n);
	switch (errno) {
	case ERANGE:
		return -ENAMETOOLONG;
	case ENOTSUP:
		/* The fd's filesystem has no xattrs at all: not umm. */
		return -EXDEV;
	case ENODATA:
	case EACCES:
	case EPERM:
		/* Only the root carries it (or @fd's own mode hides it): look there. */
		return find_socket_from_root(fd, dev, path);
	default:
		return -errno;
	}
}

static int send_request(int sock, int fd)
{
	char msg[sizeof(struct umm_req)];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(msg) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;
	int ret;

	ret = proto_encode_req(msg, sizeof(msg), UMM_OP_EXPORT);
	if (ret < 0)
		return ret;
	memset(&ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));

	do {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != sizeof(msg))
		return -EPROTO;
	return 0;
}

/*
 * Return the fd of a good reply, or -errno (the daemon's status, or -EPROTO).
 * *@keep is set when the connection can carry further requests: a reply,
 * good or a refusal, came whole.
 */
static int recv_reply(int sock, int *keep)
{
	char msg[sizeof(struct umm_rep) + 1]; /* + 1 to see a longer message as truncated */
	union {
		char buf[CMSG_SPACE(REPLY_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(msg) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct umm_rep rep;
	size_t nfds = 0;
	ssize_t n;
	int fd = -1;
	int ret;

	*keep = 0;
	do {
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	/* Keep the first fd received, close every other one. */
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t cnt;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < cnt; i++, nfds++) {
			int got;

			memcpy(&got, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (!nfds)
				fd = got;
			else
				close(got);
		}
	}

	if (n == 0)
		ret = -ECONNRESET; /* the daemon hung up without an answer */
	else if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		ret = -EPROTO;
	else
		ret = proto_decode_rep(msg, n, &rep);
	if (!ret) {
		if (rep.op != UMM_OP_EXPORT) {
			ret = -EPROTO;
		} else if (rep.status) {
			ret = rep.status;
			*keep = !nfds;
		} else if (nfds != 1) {
			ret = -EPROTO;
		} else {
			*keep = 1;
		}
	}

	if (ret < 0) {
		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
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

/* Through a new connection that is closed at once: for umm__export_via(). */
static int export_via(const char *sockpath, int fd)
{
	int sock, ret, keep;

	sock = sock_connect(sockpath);
	if (sock < 0)
		return sock;
	ret = exchange(sock, fd, &keep);
	close(sock);
	return ret;
}

/*
 * Through a kept connection of mount @dev if there is one, else (or if the
 * daemon dropped it) a new one, which is kept if the call succeeds. A failed
 * call leaves no new fd behind.
 */
static int export_conn(dev_t dev, const char *sockpath, int fd)
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

int umm__export_via(const char *sockpath, int fd)
{
	return set_errno(export_via(sockpath, fd));
}

/*
 * The device of @fd's file system. AT_STATX_DONT_SYNC: the device never
 * changes, so there is no need to ask a FUSE daemon for fresh attributes.
 */
static int fd_dev(int fd, dev_t *dev)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, 0, &stx) < 0)
		return -errno;
	*dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	return 0;
}

/* Trade @fd, known not to be O_PATH, through the socket of its mount. */
static int trade_fd(int fd)
{
	char path[SUN_PATH_MAX];
	char fresh[SUN_PATH_MAX];
	dev_t dev = 0;
	int ret;

	ret = fd_dev(fd, &dev);
	if (ret < 0)
		return ret;

	if (!sock_cache_get(dev, path)) {
		ret = find_socket(fd, dev, path);
		if (ret < 0)
			return ret;
		sock_cache_put(dev, path);
		return export_conn(dev, path, fd);
	}

	ret = export_conn(dev, path, fd);
	switch (ret) {
	case -ENOENT:
	case -ECONNREFUSED:
	case -ENOTSOCK:
	case -ECONNRESET:
	case -EXDEV:
		/* Maybe another mount got this device number since: look again. */
		sock_cache_drop(dev);
		if (find_socket(fd, dev, fresh) < 0)
			break;
		sock_cache_put(dev, fresh);
		if (strcmp(fresh, path))
			ret = export_conn(dev, fresh, fd);
		break;
	default:
		break;
	}
	return ret;
}

static int do_export(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	if (fl & O_PATH)
		return -EBADF;
	return trade_fd(fd);
}

int umm_export(int fuse_fd)
{
	return set_errno(do_export(fuse_fd));
}

int umm_open(const char *path, int flags)
{
	int accmode = flags & O_ACCMODE;
	int fd, ret;

	if ((flags & ~(O_ACCMODE | O_CLOEXEC)) || accmode == O_ACCMODE) {
		errno = EINVAL;
		return -1;
	}
	/* Our own fd is closed at once, so it must never reach an exec()ed child. */
	fd = open(path, accmode | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	ret = trade_fd(fd); /* opened just now, without O_PATH: no need to check */
	close(fd);
	return set_errno(ret);
}

static int do_sync(int fd, unsigned int flags)
{
	struct dma_buf_sync sync = { .flags = flags };
	const char *domain;
	int tries = 0;
	int ret;

	/* START is 0: any flags word without END is a START. */
	if ((flags & ~(UMM_SYNC_RW | UMM_SYNC_END)) || !(flags & UMM_SYNC_RW))
		return -EINVAL;

	/* EAGAIN is bounded: a FUSE daemon could answer it forever. */
	do {
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
	} while (ret < 0 && (errno == EINTR || (errno == EAGAIN && ++tries < SYNC_MAX_EAGAIN)));
	if (!ret)
		return 0;
	/* An older FUSE kernel may pass a daemon's ENOSYS through for an unknown ioctl. */
	if (errno != ENOTTY && errno != ENOSYS)
		return -errno;

	if (fcntl(fd, F_GET_SEALS) >= 0) {
		/* memfd (shmem): CPU-coherent, only order this thread's accesses. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		return 0;
	}
	if (errno == EBADF)
		return -EBADF;

	if (fgetxattr(fd, UMM_XATTR_SYNC, NULL, 0) < 0) {
		if (errno == EBADF)
			return -EBADF;
		return -ENOTTY;
	}
	if (flags & UMM_SYNC_END)
		domain = "device";
	else if ((flags & UMM_SYNC_RW) == UMM_SYNC_READ)
		domain = "cpu:read";
	else if ((flags & UMM_SYNC_RW) == UMM_SYNC_WRITE)
		domain = "cpu:write";
	else
		domain = "cpu";
	if (fsetxattr(fd, UMM_XATTR_SYNC, domain, strlen(domain), 0) < 0)
		return -errno;
	return 0;
}

int umm_sync(int fd, unsigned flags)
{
	return set_errno(do_sync(fd, flags));
}
