/* SPDX-License-Identifier: MIT */
/*
 * export_i.h - private to the export server of umm-fs (export.h is its
 * interface for main.c). Prototypes grouped by the file that defines them:
 *
 * export_server.c: start and stop, the server thread's loop (epoll, accept,
 *                  the client table, idle drop), rate-limited logging.
 * export_msg.c:    one message of a client: receive, check, answer.
 * export_trade.c:  the trade itself: check the fd a client sent, have the
 *                  store give the buffer's fd, close the received fd.
 * export_closer.c: the closer thread, which closes received fds of other
 *                  filesystems so that the server thread never waits on them.
 *
 * Threads: export_start() and export_stop() run in the daemon's main thread;
 * everything else in the server thread, except the closer's own loop.
 */
#ifndef UMM_FS_EXPORT_I_H
#define UMM_FS_EXPORT_I_H

#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/types.h>

#include "export.h"

#define EXPORT_MAX_CLIENTS 64

struct export_closer;

/**
 * struct export_client - one connected client
 * @fd:      its socket (nonblocking), or -1 once dropped.
 * @pid:     of the peer at connect time, for log lines.
 * @uid:     likewise.
 * @last_ms: last accept or message (export_now_ms()): for the idle drop and
 *           for choosing whom to evict when the table is full.
 */
struct export_client {
	int fd;
	pid_t pid;
	uid_t uid;
	int64_t last_ms;
};

/**
 * struct export_server - a running export server
 *
 * Set by export_start() before the threads start, and read-only after:
 * @thread, @lfd, @stopfd, @epfd, @mount_dev, @ops, @ctx, @path, @sock_dev,
 * @sock_ino, @closer. The rest belongs to the server thread alone (and to
 * export_stop() once that thread is joined).
 */
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
	struct export_closer *closer;

	struct export_client clients[EXPORT_MAX_CLIENTS];
	int nclients;
	struct epoll_event evs[2 + EXPORT_MAX_CLIENTS];
	int64_t accept_resume_ms; /* 0: accepting (lfd is in the epoll set) */
	int64_t log_window_ms;
	unsigned int log_lines;
	unsigned int log_suppressed;
};

/* export_server.c */

/**
 * export_now_ms() - CLOCK_MONOTONIC in milliseconds.
 *
 * Return: the time, for struct export_client's @last_ms.
 */
int64_t export_now_ms(void);

/**
 * export_log() - log one line, at most a few a second.
 * @srv: the server; only its thread may call this.
 * @fmt: printf format of the line, starting with "export: ".
 *
 * Lines past the burst are counted and reported as suppressed once the
 * second is over (or at export_stop()).
 */
void export_log(struct export_server *srv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * export_strerror() - the text of errno @err, for a log line.
 * @err: a positive errno.
 * @buf: room for the text, if the C library needs it.
 * @len: size of @buf.
 *
 * Return: the text (in @buf or static).
 */
const char *export_strerror(int err, char *buf, size_t len);

/* export_msg.c */

/**
 * export_serve() - serve one message of client @c.
 * @srv: the server; server thread only.
 * @c:   a client of @srv, with @c->fd >= 0.
 *
 * Receives without waiting, checks the request, trades the fd it carries and
 * sends the reply, also without waiting. Every refusal is answered with its
 * status (see export_msg.c) and the client may send again.
 *
 * Return: 1 if there was nothing to read, 0 if served (the client stays), -1
 * if the client is gone or cannot take its reply: the caller drops it.
 */
int export_serve(struct export_server *srv, struct export_client *c);

/* export_trade.c */

/**
 * export_trade() - trade an fd a client sent for the buffer's fd.
 * @srv:  the server; server thread only.
 * @fd:   the received fd; consumed (closed, or handed to the closer), whatever
 *        the outcome.
 * @kind: set to an enum proto_kind on success.
 * @size: set to the buffer's size in bytes on success.
 * @why:  set to a short reason for the log on failure.
 *
 * The fd must be an fd of this mount, of a regular file, opened for reading
 * or writing (or both), and not O_PATH. @srv->ops.export_fd then gives the
 * buffer's fd, with no more access than the client's fd had.
 *
 * Return: the buffer's fd (owned by the caller), or a -errno to send back as
 * the status (-1 .. -UMM_PROTO_MAX_ERRNO): -EBADF, -EXDEV, -EISDIR, -EINVAL,
 * -EACCES, or what export_fd gave (-EIO if that was out of range or named an
 * unknown kind).
 */
int export_trade(struct export_server *srv, int fd, uint32_t *kind, uint64_t *size,
		 const char **why);

/**
 * export_close_received() - close a received fd without ever waiting for
 * another filesystem's daemon.
 * @srv: the server; server thread only.
 * @fd:  an fd a client sent, or -1 (then nothing happens); consumed.
 *
 * An fd of this mount is closed at once (its FLUSH is answered by our own
 * FUSE threads); any other goes to the closer thread.
 */
void export_close_received(struct export_server *srv, int fd);

/* export_closer.c */

/**
 * export_closer_start() - start the closer thread.
 * @out: set to the new closer on success.
 *
 * Call it with every signal blocked: the thread inherits the mask.
 *
 * Return: 0, or -errno (-ENOMEM, or what pthread_create() gave).
 */
int export_closer_start(struct export_closer **out);

/**
 * export_closer_stop() - stop the closer thread once it has closed its queue.
 * @cl: from export_closer_start(); no longer valid after this.
 *
 * Waits up to EXPORT_CLOSER_WAIT_MS for the thread. One stuck in a close(2)
 * is left to finish on its own: it frees the closer when it gets out.
 */
void export_closer_stop(struct export_closer *cl);

/**
 * export_closer_full() - is the closer's queue full?
 * @cl: the closer; server thread only.
 *
 * Only the server thread adds to the queue, so a 0 stays true until its next
 * export_closer_add(): check this before receiving an fd.
 *
 * Return: 1 if full, 0 if there is room for one more fd.
 */
int export_closer_full(struct export_closer *cl);

/**
 * export_closer_add() - hand @fd to the closer thread.
 * @cl: the closer; server thread only.
 * @fd: consumed.
 *
 * The caller checked export_closer_full() before receiving @fd, so there is
 * room; if there were not, @fd would be closed here (slow, but no leak).
 */
void export_closer_add(struct export_closer *cl, int fd);

#endif /* UMM_FS_EXPORT_I_H */
