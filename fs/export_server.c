// SPDX-License-Identifier: MIT
/*
 * export_server.c - the export socket server of umm-fs: start and stop, and
 * the server thread's loop (SPEC 6, 7).
 *
 * Owns the listening socket, the epoll set and the client table. One thread
 * serves the AF_UNIX SOCK_SEQPACKET socket with epoll: nonblocking sockets,
 * at most EXPORT_MAX_CLIENTS clients (the one silent longest gives way to a
 * newcomer), a client silent for EXPORT_IDLE_MS dropped; each message is
 * served by export_serve() (export_msg.c). Nothing a client sends can make
 * this thread wait for that client.
 *
 * Threads: export_start() and export_stop() run in the daemon's main thread;
 * export_thread() and everything it calls in the server thread, which
 * export_start() starts (with the closer thread, export_closer.c) and
 * export_stop() joins.
 */
#define _GNU_SOURCE
#include <errno.h>
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
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "export_i.h"

#define EXPORT_BACKLOG 128
#define EXPORT_ACCEPT_BATCH 16 /* accepts a round: clients get served in between */
#define EXPORT_IDLE_MS 10000 /* a client silent this long is dropped */
#define EXPORT_PAUSE_MS 100 /* accept() paused this long after EMFILE & co */
#define EXPORT_LOG_BURST 20 /* log lines a second at most */

int64_t export_now_ms(void)
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

void export_log(struct export_server *srv, const char *fmt, ...)
{
	int64_t now = export_now_ms();
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

const char *export_strerror(int err, char *buf, size_t len)
{
	return strerror_r(err, buf, len);
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
					   export_strerror(errno, eb, sizeof(eb)));
				accept_pause(srv, now);
				return;
			}
		}
		getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
		if (ep_add(srv, fd, (uint64_t)fd) < 0) {
			/* ENOMEM, or ENOSPC past fs.epoll.max_user_watches */
			export_log(srv, "export: epoll: %s; pausing",
				   export_strerror(errno, eb, sizeof(eb)));
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
		if (export_serve(srv, c) < 0) {
			client_drop(srv, c);
			clients_compact(srv);
		}
	}
}

static void *export_thread(void *arg)
{
	struct export_server *srv = arg;

	for (;;) {
		int64_t now = export_now_ms();
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
					   export_strerror(errno, eb, sizeof(eb)));
				nanosleep(&pause, NULL);
			}
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (srv->evs[i].data.u64 == EV_STOP)
				return NULL;
		}

		now = export_now_ms();
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
			ret = export_serve(srv, c);
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
	srv->path = strdup(path);
	if (!srv->path) {
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
	ret = export_closer_start(&srv->closer);
	if (!ret) {
		ret = -pthread_create(&srv->thread, NULL, export_thread, srv);
		if (ret < 0) {
			export_closer_stop(srv->closer);
			srv->closer = NULL;
		}
	}
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

	export_closer_stop(srv->closer);

	free(srv->path);
	free(srv);
}
