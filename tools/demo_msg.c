// SPDX-License-Identifier: MIT
/*
 * demo_msg.c - the messages between umm-demo's processes: one fixed-size
 * struct demo_msg a SOCK_SEQPACKET datagram, with fds (SCM_RIGHTS) at times.
 * Pixels never travel here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "demo_i.h"

/**
 * demo_send_msg() - send one message, with @nfds fds attached.
 * @fd:   a SOCK_SEQPACKET socket.
 * @m:    the message.
 * @fds:  fds to pass with SCM_RIGHTS, or NULL.
 * @nfds: how many (at most MAX_RING).
 *
 * Return: 0 or -errno (-EPIPE when the peer is gone).
 */
int demo_send_msg(int fd, const struct demo_msg *m, const int *fds, unsigned int nfds)
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
	while (n < 0 && errno == EINTR && !tool_signal);
	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(*m) ? 0 : -EPROTO;
}

/**
 * demo_recv_msg() - receive one message, and the fds that come with it.
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
int demo_recv_msg(int fd, struct demo_msg *m, int *fds, unsigned int *nfds)
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
	while (n < 0 && errno == EINTR && !tool_signal);
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
