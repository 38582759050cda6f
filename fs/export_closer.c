// SPDX-License-Identifier: MIT
/*
 * export_closer.c - the closer thread of the export server: it closes the
 * received fds of other filesystems, so that the server thread never does.
 *
 * Closing a received fd can block: close(2) of a FUSE file sends FLUSH and
 * waits for that filesystem's daemon, which a hostile user controls when it
 * is their own FUSE mount. Such fds queue here, and this thread closes them
 * one by one. If it is stuck and its queue full, the server receives
 * messages without room for fds and refuses them with EBUSY until it
 * catches up (export_msg.c).
 *
 * Threads: export_closer_start() and export_closer_stop() run in the daemon's
 * main thread (from export_start() and export_stop()), export_closer_full()
 * and export_closer_add() in the server thread, closer_thread() in its own.
 * All share the queue under its mutex.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "export_i.h"

#define EXPORT_CLOSEQ_MAX 64 /* foreign fds waiting for the closer thread */
#define EXPORT_CLOSER_WAIT_MS 2000 /* export_closer_stop() waits this long */

/*
 * The queue, shared by reference count: if the thread is stuck in close(2)
 * when the server stops, it keeps the queue alive and frees it whenever it
 * gets out.
 */
struct export_closer {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	int refs;
	int stop;
	int done; /* the thread is out of its loop */
	unsigned int head;
	unsigned int count;
	int fds[EXPORT_CLOSEQ_MAX];
};

static void closer_put(struct export_closer *cl)
{
	int last;

	pthread_mutex_lock(&cl->lock);
	last = --cl->refs == 0;
	pthread_mutex_unlock(&cl->lock);
	if (last) {
		for (unsigned int i = 0; i < cl->count; i++)
			close(cl->fds[(cl->head + i) % EXPORT_CLOSEQ_MAX]);
		pthread_cond_destroy(&cl->cond);
		pthread_mutex_destroy(&cl->lock);
		free(cl);
	}
}

static void *closer_thread(void *arg)
{
	struct export_closer *cl = arg;

	pthread_mutex_lock(&cl->lock);
	for (;;) {
		int fd;

		while (!cl->count && !cl->stop)
			pthread_cond_wait(&cl->cond, &cl->lock);
		if (!cl->count)
			break;
		fd = cl->fds[cl->head];
		cl->head = (cl->head + 1) % EXPORT_CLOSEQ_MAX;
		cl->count--;
		pthread_mutex_unlock(&cl->lock);
		close(fd);
		pthread_mutex_lock(&cl->lock);
	}
	cl->done = 1;
	pthread_cond_broadcast(&cl->cond);
	pthread_mutex_unlock(&cl->lock);
	closer_put(cl);
	return NULL;
}

int export_closer_start(struct export_closer **out)
{
	struct export_closer *cl = calloc(1, sizeof(*cl));
	int ret;

	if (!cl)
		return -ENOMEM;
	pthread_mutex_init(&cl->lock, NULL);
	pthread_cond_init(&cl->cond, NULL);
	cl->refs = 2; /* the caller's, and the thread's (dropped when it exits) */
	ret = -pthread_create(&cl->thread, NULL, closer_thread, cl);
	if (ret < 0) {
		pthread_cond_destroy(&cl->cond);
		pthread_mutex_destroy(&cl->lock);
		free(cl);
		return ret;
	}
	*out = cl;
	return 0;
}

void export_closer_stop(struct export_closer *cl)
{
	pthread_t thread = cl->thread;
	struct timespec until;
	int done;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += EXPORT_CLOSER_WAIT_MS / 1000;
	pthread_mutex_lock(&cl->lock);
	cl->stop = 1;
	pthread_cond_broadcast(&cl->cond);
	while (!cl->done) {
		if (pthread_cond_timedwait(&cl->cond, &cl->lock, &until) == ETIMEDOUT)
			break;
	}
	done = cl->done;
	pthread_mutex_unlock(&cl->lock);
	if (done)
		pthread_join(thread, NULL);
	else
		pthread_detach(thread);
	closer_put(cl);
}

int export_closer_full(struct export_closer *cl)
{
	int full;

	pthread_mutex_lock(&cl->lock);
	full = cl->count == EXPORT_CLOSEQ_MAX;
	pthread_mutex_unlock(&cl->lock);
	return full;
}

void export_closer_add(struct export_closer *cl, int fd)
{
	pthread_mutex_lock(&cl->lock);
	if (cl->count < EXPORT_CLOSEQ_MAX) {
		cl->fds[(cl->head + cl->count) % EXPORT_CLOSEQ_MAX] = fd;
		cl->count++;
		fd = -1;
		pthread_cond_broadcast(&cl->cond);
	}
	pthread_mutex_unlock(&cl->lock);
	if (fd >= 0)
		close(fd); /* not reached; better a slow close than a leak */
}
