/*
 * export.c - the export socket server of umm-fs (SPEC 6, 7).
 *
 * One thread serves an AF_UNIX SOCK_SEQPACKET socket with epoll: nonblocking
 * sockets, at most EXPORT_MAX_CLIENTS clients, one request a message, one
 * reply a request. A bad message gets an error reply and the client may send
 * again; a client that cannot take its reply at once is dropped. Nothing a
 * client sends can make this thread wait for that client.
 *
 * Status sent back for each refusal (the client sees it as errno):
 *   EMSGSIZE         message longer than any request
 *   EPROTO           wrong length or magic            } from
 *   EPROTONOSUPPORT  other protocol version           } proto_decode_req()
 *   EOPNOTSUPP       unknown operation                }
 *   EINVAL           flags or reserved field not 0    }
 *   EBADF            not exactly one fd, or an O_PATH fd
 *   EACCES           an fd opened with access mode 3 (neither read nor write)
 *   EXDEV            an fd of another filesystem than this mount
 *   EISDIR           a directory of this mount
 *   EINVAL           anything else that is not a regular file
 *   EBUSY            too many foreign fds still closing (see below)
 *   other            whatever export_ops.export_fd returned (ENOENT, ...)
 *
 * Closing a received fd can block: close(2) of a FUSE file sends FLUSH and
 * waits for that filesystem's daemon, which a hostile user controls when it
 * is their own FUSE mount. So only one fd a message is ever installed (the
 * control buffer has room for one; the kernel drops the rest unopened, which
 * does not flush), fds of this mount are closed here (their FLUSH is answered
 * by our own FUSE threads), and every other fd is closed by a separate closer
 * thread. If that thread is stuck and its queue full, messages are received
 * without room for fds and refused with EBUSY until it catches up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "proto_i.h"

#define EXPORT_MAX_CLIENTS 64
#define EXPORT_BACKLOG 128
#define EXPORT_ACCEPT_BATCH 16 /* accepts a round: clients get served in between */
#define EXPORT_IDLE_MS 10000 /* a client silent this long is dropped */
#define EXPORT_PAUSE_MS 100 /* accept() paused this long after EMFILE & co */
#define EXPORT_MSG_MAX 256 /* receive room: a longer message is MSG_TRUNC */
#define EXPORT_CLOSEQ_MAX 64 /* foreign fds waiting for the closer thread */
#define EXPORT_LOG_BURST 20 /* log lines a second at most */
#define EXPORT_CLOSER_WAIT_MS 2000 /* export_stop() waits this long for the closer */

struct export_client {
	int fd;
	pid_t pid; /* of the peer at connect time, for log lines */
	uid_t uid;
	int64_t last_ms; /* last accept or message: for idle drop and eviction */
};

/*
 * Queue of fds for the closer thread. Shared by reference count: if the closer
 * is stuck in close(2) when the server stops, it keeps the queue alive and
 * frees it whenever it gets out.
 */
struct closeq {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int refs;
	int stop;
	int done; /* the closer thread is out of its loop */
	unsigned int head;
	unsigned int count;
	int fds[EXPORT_CLOSEQ_MAX];
};

struct export_server {
	pthread_t thread;
	int lfd;
	int stopfd;
	int epfd;
	dev_t mount_dev;
	struct export_ops ops;
	void *ctx;
	char *path;
	dev_t sock_dev;
	ino_t sock_ino;
	struct closeq *closeq;
	pthread_t closer;
	int closer_started;

	/* Below: touched by the server thread only. */
	struct export_client clients[EXPORT_MAX_CLIENTS];
	int nclients;
	struct epoll_event evs[2 + EXPORT_MAX_CLIENTS];
	int64_t accept_resume_ms; /* 0: accepting (lfd is in the epoll set) */
	int64_t log_window_ms;
	unsigned int log_lines;
	unsigned int log_suppressed;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void emit(struct export_server *srv, const char *line)
{
	if (srv->ops.log)
		srv->ops.log("%s", line);
	else
		fprintf(stderr, "umm-fs: %s\n", line);
}

__attribute__((format(printf, 2, 3))) static void export_log(struct export_server *srv,
							     const char *fmt, ...)
{
	int64_t now = now_ms();
	char line[512];
	va_list ap;

	if (now - srv->log_window_ms >= 1000) {
		if (srv->log_suppressed) {
			snprintf(line, sizeof(line), "export: %u log lines suppressed",
				 srv->log_suppressed);
			emit(srv, line);
		}
		srv->log_window_ms = now;
		srv->log_lines = 0;
		srv->log_suppressed = 0;
	}
	if (srv->log_lines >= EXPORT_LOG_BURST) {
		srv->log_suppressed++;
		return;
	}
	srv->log_lines++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	emit(srv, line);
}

static const char *errname(int err, char *buf, size_t len)
{
	return strerror_r(err, buf, len);
}

/* --- closer thread --- */

static void closeq_put(struct closeq *q)
{
	int last;

	pthread_mutex_lock(&q->lock);
	last = --q->refs == 0;
	pthread_mutex_unlock(&q->lock);
	if (last) {
		for (unsigned int i = 0; i < q->count; i++)
			close(q->fds[(q->head + i) % EXPORT_CLOSEQ_MAX]);
		pthread_cond_destroy(&q->cond);
		pthread_mutex_destroy(&q->lock);
		free(q);
	}
}

static struct closeq *closeq_new(void)
{
	struct closeq *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->refs = 1;
	return q;
}

/*
 * Stop the closer thread (if @closer is non-NULL) and drop the server's
 * reference. The closer drains the queue first. If it is stuck in a close(2)
 * longer than EXPORT_CLOSER_WAIT_MS, it is detached and frees the queue when
 * it gets out; otherwise it is joined, so nothing outlives export_stop().
 */
static void closeq_stop(struct closeq *q, pthread_t *closer)
{
	struct timespec until;
	int done;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += EXPORT_CLOSER_WAIT_MS / 1000;
	pthread_mutex_lock(&q->lock);
	q->stop = 1;
	pthread_cond_broadcast(&q->cond);
	while (closer && !q->done) {
		if (pthread_cond_timedwait(&q->cond, &q->lock, &until) == ETIMEDOUT)
			break;
	}
	done = q->done;
	pthread_mutex_unlock(&q->lock);
	if (closer) {
		if (done)
			pthread_join(*closer, NULL);
		else
			pthread_detach(*closer);
	}
	closeq_put(q);
}

static void *closer_thread(void *arg)
{
	struct closeq *q = arg;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		int fd;

		while (!q->count && !q->stop)
			pthread_cond_wait(&q->cond, &q->lock);
		if (!q->count)
			break;
		fd = q->fds[q->head];
		q->head = (q->head + 1) % EXPORT_CLOSEQ_MAX;
		q->count--;
		pthread_mutex_unlock(&q->lock);
		close(fd);
		pthread_mutex_lock(&q->lock);
	}
	q->done = 1;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	closeq_put(q);
	return NULL;
}

static int closeq_full(struct closeq *q)
{
	int full;

	pthread_mutex_lock(&q->lock);
	full = q->count == EXPORT_CLOSEQ_MAX;
	pthread_mutex_unlock(&q->lock);
	return full;
}

/*
 * Hand @fd to the closer. Only the server thread adds, and it checks
 * closeq_full() before it receives an fd, so there is always room here.
 */
static void closeq_add(struct closeq *q, int fd)
{
	pthread_mutex_lock(&q->lock);
	if (q->count < EXPORT_CLOSEQ_MAX) {
		q->fds[(q->head + q->count) % EXPORT_CLOSEQ_MAX] = fd;
		q->count++;
		fd = -1;
		pthread_cond_broadcast(&q->cond);
	}
	pthread_mutex_unlock(&q->lock);
	if (fd >= 0)
		close(fd); /* not reached; better a slow close than a leak */
}

/* --- clients --- */

/*
 * The epoll set holds the stop eventfd, the listening socket while accepting,
 * and every client, each under its fd; so the set costs nothing per message,
 * where poll() would register every fd for every wait.
 */
#define EV_STOP UINT64_MAX
#define EV_LISTEN (UINT64_MAX - 1)

static int ep_add(struct export_server *srv, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void client_drop(struct export_server *srv, struct export_client *c)
{
	if (c->fd >= 0) {
		epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
}

/* The client whose fd is @fd, or NULL if it was dropped meanwhile. */
static struct export_client *client_of(struct export_server *srv, uint64_t fd)
{
	for (int i = 0; i < srv->nclients; i++) {
		if (srv->clients[i].fd >= 0 && (uint64_t)srv->clients[i].fd == fd)
			return &srv->clients[i];
	}
	return NULL;
}

/* Remove dropped clients (fd == -1), keeping the order. */
static void clients_compact(struct export_server *srv)
{
	int j = 0;

	for (int i = 0; i < srv->nclients; i++) {
		if (srv->clients[i].fd >= 0)
			srv->clients[j++] = srv->clients[i];
	}
	srv->nclients = j;
}

/*
 * Check the fd a client sent. statx() with AT_STATX_DONT_SYNC, because a
 * plain fstat() of an fd of another FUSE filesystem may wait for its daemon.
 * Return 0 with *ino and *accmode set, or -errno with *why set. *@ours is
 * set once the fd is known to be of this mount, refused or not.
 */
static int check_fd(struct export_server *srv, int fd, uint64_t *ino, int *accmode, int *ours,
		    const char **why)
{
	struct statx stx;
	int fl;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0) {
		*why = "fcntl failed";
		return -EBADF;
	}
	if (fl & O_PATH) {
		*why = "O_PATH fd";
		return -EBADF;
	}
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE | STATX_INO, &stx) < 0) {
		*why = "statx failed";
		return -EBADF;
	}
	if (makedev(stx.stx_dev_major, stx.stx_dev_minor) != srv->mount_dev) {
		*why = "fd of another filesystem";
		return -EXDEV;
	}
	*ours = 1;
	if (S_ISDIR(stx.stx_mode)) {
		*why = "fd of a directory";
		return -EISDIR;
	}
	if (!S_ISREG(stx.stx_mode)) {
		*why = "fd of a non-regular file";
		return -EINVAL;
	}
	if ((fl & O_ACCMODE) == O_ACCMODE) {
		*why = "fd opened for neither reading nor writing";
		return -EACCES;
	}
	*ino = stx.stx_ino;
	*accmode = fl & O_ACCMODE;
	return 0;
}

/*
 * Close a received fd without ever blocking this thread on another
 * filesystem. @ours: check_fd() found it to be of this mount.
 */
static void close_received(struct export_server *srv, int fd, int ours)
{
	struct statx stx;

	if (fd < 0)
		return;
	if (ours || (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, 0, &stx) == 0 &&
		     makedev(stx.stx_dev_major, stx.stx_dev_minor) == srv->mount_dev))
		close(fd);
	else
		closeq_add(srv->closeq, fd);
}

/* Send a reply; on success @fd (if >= 0) goes along. Return 0 or -errno. */
static int send_reply(struct export_client *c, int32_t status, uint32_t kind, uint64_t size, int fd)
{
	char msg[sizeof(struct umm_rep)];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int ret;

	ret = proto_encode_rep(msg, sizeof(msg), UMM_OP_EXPORT, status, kind, size);
	if (ret < 0)
		return ret;
	if (!status && fd >= 0) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do {
		n = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(msg) ? 0 : -EPROTO;
}

/*
 * Serve one message of client @c. Return 1 if there was nothing to read,
 * 0 if served (the client stays), -1 if the client must be dropped.
 */
static int client_serve(struct export_server *srv, struct export_client *c)
{
	char msg[EXPORT_MSG_MAX];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int closer_full = closeq_full(srv->closeq);
	const char *why = NULL;
	struct umm_req req;
	uint32_t kind = 0;
	uint64_t size = 0;
	uint64_t ino = 0;
	int accmode = 0;
	int ours = 0;
	int nfds = 0;
	int fd = -1;
	int out = -1;
	int32_t status;
	ssize_t n;
	char eb[64];

	/*
	 * Room for exactly one fd (CMSG_LEN, not CMSG_SPACE, which has room for
	 * two on 64-bit): any further fd is dropped by the kernel unopened.
	 */
	if (!closer_full) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_LEN(sizeof(int));
	}
	do {
		n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 1 : -1;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); mh.msg_control && cm;
	     cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int got;

			memcpy(&got, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (nfds++ == 0)
				fd = got;
			else
				close_received(srv, got, 0); /* not reached: room for one */
		}
	}

	if (n == 0) {
		/* End of stream (or an empty message, which no client sends). */
		close_received(srv, fd, 0);
		return -1;
	}
	c->last_ms = now_ms();

	if (mh.msg_flags & MSG_TRUNC) {
		status = -EMSGSIZE;
		why = "message too long";
	} else if ((status = proto_decode_req(msg, n, &req)) < 0) {
		why = "malformed request";
	} else if (closer_full && (mh.msg_flags & MSG_CTRUNC)) {
		status = -EBUSY;
		why = "fds of other filesystems still closing";
	} else if ((mh.msg_flags & MSG_CTRUNC) || nfds != 1) {
		status = -EBADF;
		why = nfds ? "more than one fd" : "no fd";
	} else {
		status = check_fd(srv, fd, &ino, &accmode, &ours, &why);
	}

	if (!status) {
		out = srv->ops.export_fd(srv->ctx, ino, accmode, &kind, &size);
		if (out < 0) {
			status = out < -UMM_PROTO_MAX_ERRNO ? -EIO : out;
			why = "export_fd failed";
		} else if (kind != UMM_KIND_MEMFD && kind != UMM_KIND_DMABUF) {
			export_log(srv, "export: export_fd gave unknown kind %u for inode %llu",
				   kind, (unsigned long long)ino);
			close(out);
			out = -1;
			status = -EIO;
			why = "export_fd failed";
		}
	}
	close_received(srv, fd, ours);

	if (status)
		export_log(srv, "export: refused request of pid %d uid %u: %s: %s", (int)c->pid,
			   (unsigned int)c->uid, why, errname(-status, eb, sizeof(eb)));

	n = send_reply(c, status, kind, size, out);
	if (out >= 0)
		close(out);
	if (n < 0) {
		if (n != -EPIPE && n != -ECONNRESET)
			export_log(srv, "export: dropped client pid %d: cannot send reply: %s",
				   (int)c->pid, errname((int)-n, eb, sizeof(eb)));
		return -1;
	}
	return 0;
}

/* The client to give way when the table is full: the one silent longest. */
static struct export_client *client_oldest(struct export_server *srv)
{
	struct export_client *old = &srv->clients[0];

	for (int i = 1; i < srv->nclients; i++) {
		if (srv->clients[i].last_ms < old->last_ms)
			old = &srv->clients[i];
	}
	return old;
}

/* Stop watching the listening socket for EXPORT_PAUSE_MS. */
static void accept_pause(struct export_server *srv, int64_t now)
{
	if (!srv->accept_resume_ms)
		epoll_ctl(srv->epfd, EPOLL_CTL_DEL, srv->lfd, NULL);
	srv->accept_resume_ms = now + EXPORT_PAUSE_MS;
}

/* Watch the listening socket again once the pause is over. */
static void accept_resume(struct export_server *srv, int64_t now)
{
	if (!srv->accept_resume_ms || now < srv->accept_resume_ms)
		return;
	if (ep_add(srv, srv->lfd, EV_LISTEN) == 0)
		srv->accept_resume_ms = 0;
	else
		srv->accept_resume_ms = now + EXPORT_PAUSE_MS;
}

static void accept_clients(struct export_server *srv, int64_t now)
{
	char eb[64];

	for (int i = 0; i < EXPORT_ACCEPT_BATCH; i++) {
		struct ucred cred = { .pid = 0, .uid = (uid_t)-1 };
		socklen_t len = sizeof(cred);
		struct export_client *c;
		int fd;

		fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			switch (errno) {
			case EAGAIN:
				return;
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
				continue;
			default:
				/* EMFILE, ENFILE, ENOBUFS, ENOMEM: epoll would wake at once. */
				export_log(srv, "export: accept: %s; pausing",
					   errname(errno, eb, sizeof(eb)));
				accept_pause(srv, now);
				return;
			}
		}
		getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
		if (ep_add(srv, fd, (uint64_t)fd) < 0) {
			/* ENOMEM, or ENOSPC past fs.epoll.max_user_watches */
			export_log(srv, "export: epoll: %s; pausing",
				   errname(errno, eb, sizeof(eb)));
			close(fd);
			accept_pause(srv, now);
			return;
		}

		if (srv->nclients == EXPORT_MAX_CLIENTS) {
			/*
			 * Full: the newcomer takes the place of the client that has
			 * been silent longest, so idle connections cannot lock others out.
			 */
			c = client_oldest(srv);
			export_log(srv, "export: %d clients: dropped idle pid %d for pid %d",
				   EXPORT_MAX_CLIENTS, (int)c->pid, (int)cred.pid);
			client_drop(srv, c);
		} else {
			c = &srv->clients[srv->nclients++];
		}
		c->fd = fd;
		c->pid = cred.pid;
		c->uid = cred.uid;
		c->last_ms = now;

		/* A client sends right after connect: serve it now if it has. */
		if (client_serve(srv, c) < 0) {
			client_drop(srv, c);
			clients_compact(srv);
		}
	}
}

static void *export_thread(void *arg)
{
	struct export_server *srv = arg;

	for (;;) {
		int64_t now = now_ms();
		int timeout = -1;
		int listen_ready = 0;
		int n;

		accept_resume(srv, now);
		if (srv->accept_resume_ms)
			timeout = (int)(srv->accept_resume_ms - now);
		for (int i = 0; i < srv->nclients; i++) {
			int64_t left = srv->clients[i].last_ms + EXPORT_IDLE_MS - now;

			if (left < 0)
				left = 0;
			if (timeout < 0 || left < timeout)
				timeout = (int)left;
		}

		n = epoll_wait(srv->epfd, srv->evs, 2 + EXPORT_MAX_CLIENTS, timeout);
		if (n < 0) {
			if (errno != EINTR) {
				struct timespec pause = { .tv_nsec = EXPORT_PAUSE_MS * 1000000L };
				char eb[64];

				export_log(srv, "export: epoll_wait: %s",
					   errname(errno, eb, sizeof(eb)));
				nanosleep(&pause, NULL);
			}
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (srv->evs[i].data.u64 == EV_STOP)
				return NULL;
		}

		now = now_ms();
		for (int i = 0; i < n; i++) {
			struct export_client *c;
			int ret;

			if (srv->evs[i].data.u64 == EV_LISTEN) {
				listen_ready = 1;
				continue;
			}
			c = client_of(srv, srv->evs[i].data.u64);
			if (!c)
				continue;
			ret = client_serve(srv, c);
			/* Readable but nothing to read, and hung up or in error: gone. */
			if (ret == 1 && (srv->evs[i].events & (EPOLLHUP | EPOLLERR)))
				ret = -1;
			if (ret < 0)
				client_drop(srv, c);
		}
		for (int i = 0; i < srv->nclients; i++) {
			struct export_client *c = &srv->clients[i];

			if (c->fd >= 0 && now - c->last_ms >= EXPORT_IDLE_MS)
				client_drop(srv, c);
		}
		clients_compact(srv);

		if (listen_ready)
			accept_clients(srv, now);
	}
	return NULL;
}

/* --- start and stop --- */

/* mkdir -p of the directory part of @path; directories made get mode 0755. */
static int make_parents(const char *path)
{
	char *dir = strdup(path);
	int ret = 0;

	if (!dir)
		return -ENOMEM;
	for (char *p = dir + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(dir, 0755) == 0) {
			chmod(dir, 0755); /* whatever the umask */
		} else if (errno != EEXIST) {
			ret = -errno;
			break;
		}
		*p = '/';
	}
	free(dir);
	return ret;
}

/* Remove a socket file left by a dead server; refuse to touch anything else. */
static int remove_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int s, ret;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;

	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	ret = connect(s, (const struct sockaddr *)sa, sizeof(*sa));
	if (ret == 0 || errno == EAGAIN || errno == EINPROGRESS || errno == EPROTOTYPE) {
		ret = -EADDRINUSE; /* somebody serves it */
	} else if (errno == ECONNREFUSED) {
		ret = unlink(sa->sun_path) < 0 && errno != ENOENT ? -errno : 0;
	} else {
		ret = errno == ENOENT ? 0 : -errno;
	}
	close(s);
	return ret;
}

int export_start(struct export_server **out, const char *path, dev_t mount_dev,
		 const struct export_ops *ops, void *ctx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct export_server *srv;
	sigset_t all, old;
	struct stat st;
	int ret;

	if (!out || !path || !*path || !ops || !ops->export_fd)
		return -EINVAL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);

	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->lfd = -1;
	srv->stopfd = -1;
	srv->epfd = -1;
	srv->mount_dev = mount_dev;
	srv->ops = *ops;
	srv->ctx = ctx;
	srv->closeq = closeq_new();
	srv->path = strdup(path);
	if (!srv->path || !srv->closeq) {
		ret = -ENOMEM;
		goto err_free;
	}

	ret = make_parents(path);
	if (ret < 0)
		goto err_free;
	ret = remove_stale(&sa);
	if (ret < 0)
		goto err_free;

	srv->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->lfd < 0) {
		ret = -errno;
		goto err_free;
	}
	if (bind(srv->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto err_free;
	}
	if (chmod(path, 0666) < 0 || lstat(path, &st) < 0) {
		ret = -errno;
		goto err_unlink;
	}
	srv->sock_dev = st.st_dev;
	srv->sock_ino = st.st_ino;
	if (listen(srv->lfd, EXPORT_BACKLOG) < 0) {
		ret = -errno;
		goto err_unlink;
	}
	srv->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv->stopfd < 0) {
		ret = -errno;
		goto err_unlink;
	}
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->epfd < 0) {
		ret = -errno;
		goto err_unlink;
	}
	ret = ep_add(srv, srv->stopfd, EV_STOP);
	if (!ret)
		ret = ep_add(srv, srv->lfd, EV_LISTEN);
	if (ret < 0)
		goto err_unlink;

	/* Signals belong to the daemon's main thread: both threads block them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	srv->closeq->refs++; /* the closer's, dropped when it exits */
	ret = -pthread_create(&srv->closer, NULL, closer_thread, srv->closeq);
	if (ret < 0) {
		srv->closeq->refs--;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		goto err_unlink;
	}
	srv->closer_started = 1;
	ret = -pthread_create(&srv->thread, NULL, export_thread, srv);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret < 0)
		goto err_unlink;

	*out = srv;
	return 0;

err_unlink:
	unlink(path);
err_free:
	if (srv->epfd >= 0)
		close(srv->epfd);
	if (srv->stopfd >= 0)
		close(srv->stopfd);
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->closeq)
		closeq_stop(srv->closeq, srv->closer_started ? &srv->closer : NULL);
	free(srv->path);
	free(srv);
	return ret;
}

void export_stop(struct export_server *srv)
{
	uint64_t one = 1;
	struct stat st;
	ssize_t n;

	if (!srv)
		return;
	do {
		n = write(srv->stopfd, &one, sizeof(one));
	} while (n < 0 && errno == EINTR);
	pthread_join(srv->thread, NULL);
	if (srv->log_suppressed) {
		char line[64];

		snprintf(line, sizeof(line), "export: %u log lines suppressed",
			 srv->log_suppressed);
		emit(srv, line);
	}

	for (int i = 0; i < srv->nclients; i++)
		close(srv->clients[i].fd);
	close(srv->epfd);
	close(srv->lfd);
	close(srv->stopfd);
	if (lstat(srv->path, &st) == 0 && st.st_dev == srv->sock_dev && st.st_ino == srv->sock_ino)
		unlink(srv->path);

	closeq_stop(srv->closeq, &srv->closer);

	free(srv->path);
	free(srv);
}
