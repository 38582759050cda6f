// SPDX-License-Identifier: MIT
/*
 * proto.c - the messages of the umm export socket: encode, decode, and send
 * or receive one with its fd.
 *
 * Owns the wire format and the SCM_RIGHTS handling both ends share. Runs in
 * whatever thread calls it (libumm's callers, umm-fs's export thread): no
 * allocation, no global state. The encoders and decoders make no system call
 * (they are fuzzed alone); messages are copied with memcpy so that the
 * caller's buffer needs no alignment.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto_i.h"

static int op_known(uint16_t op)
{
	return op == UMM_OP_EXPORT;
}

int proto_encode_req(void *buf, size_t len, uint16_t op)
{
	struct umm_req req = {
		.magic = UMM_PROTO_MAGIC,
		.version = UMM_PROTO_VERSION,
		.op = op,
	};

	if (!op_known(op))
		return -EOPNOTSUPP;
	if (!buf || len < sizeof(req))
		return -EMSGSIZE;
	memcpy(buf, &req, sizeof(req));
	return sizeof(req);
}

int proto_decode_req(const void *buf, size_t len, struct umm_req *out)
{
	struct umm_req req;

	if (!buf || len != sizeof(req))
		return -EPROTO;
	memcpy(&req, buf, sizeof(req));
	if (req.magic != UMM_PROTO_MAGIC)
		return -EPROTO;
	if (req.version != UMM_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if (!op_known(req.op))
		return -EOPNOTSUPP;
	if (req.flags || req.reserved)
		return -EINVAL;
	*out = req;
	return 0;
}

int proto_kind_known(uint32_t kind)
{
	return kind == UMM_KIND_MEMFD || kind == UMM_KIND_DMABUF;
}

static int status_valid(int32_t status)
{
	return status <= 0 && status >= -UMM_PROTO_MAX_ERRNO;
}

int proto_encode_rep(void *buf, size_t len, uint16_t op, int32_t status, uint32_t kind,
		     uint64_t size)
{
	struct umm_rep rep = {
		.magic = UMM_PROTO_MAGIC,
		.version = UMM_PROTO_VERSION,
		.op = op,
		.status = status,
		.kind = status ? 0 : kind,
		.size = status ? 0 : size,
	};

	if (!op_known(op) || !status_valid(status) || (!status && !proto_kind_known(kind)))
		return -EINVAL;
	if (!buf || len < sizeof(rep))
		return -EMSGSIZE;
	memcpy(buf, &rep, sizeof(rep));
	return sizeof(rep);
}

int proto_decode_rep(const void *buf, size_t len, struct umm_rep *out)
{
	struct umm_rep rep;

	if (!buf || len != sizeof(rep))
		return -EPROTO;
	memcpy(&rep, buf, sizeof(rep));
	if (rep.magic != UMM_PROTO_MAGIC || rep.version != UMM_PROTO_VERSION)
		return -EPROTO;
	if (!op_known(rep.op) || !status_valid(rep.status))
		return -EPROTO;
	if (!rep.status && !proto_kind_known(rep.kind))
		return -EPROTO;
	*out = rep;
	return 0;
}

/* Room for PROTO_MAX_FDS fds, aligned as a cmsghdr must be. */
union proto_cmsg {
	char buf[CMSG_SPACE(PROTO_MAX_FDS * sizeof(int))];
	struct cmsghdr align;
};

int proto_send_fd(int sock, const void *msg, size_t len, int fd, int flags)
{
	union proto_cmsg ctl;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &mh, flags | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EPROTO;
}

int proto_recv_fd(int sock, void *buf, size_t len, unsigned int maxfds, int flags,
		  struct proto_recvd *out)
{
	union proto_cmsg ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	unsigned int nfds = 0;
	int fd = -1;
	ssize_t n;

	if (maxfds > PROTO_MAX_FDS)
		return -EINVAL;
	/*
	 * CMSG_LEN, not CMSG_SPACE: CMSG_SPACE(sizeof(int)) has room for two
	 * fds on 64-bit, and the kernel installs every fd there is room for.
	 */
	if (maxfds) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_LEN(maxfds * sizeof(int));
	}
	do {
		n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); mh.msg_control && cm;
	     cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++, nfds++) {
			int got;

			memcpy(&got, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (!nfds)
				fd = got;
			else
				close(got); /* only when maxfds > 1: see proto_i.h */
		}
	}
	out->len = (size_t)n;
	out->fd = fd;
	out->nfds = nfds;
	out->flags = mh.msg_flags;
	return 0;
}
