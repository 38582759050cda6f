// SPDX-License-Identifier: MIT
/*
 * export_msg.c - the export socket's messages: one request in, one reply out
 * (SPEC 6, 7).
 *
 * Owns what a client may send and what it gets back. Runs in the export
 * server's thread only, and never waits for a client: both receive and send
 * are MSG_DONTWAIT, and a client that cannot take its reply at once is
 * dropped. A bad message gets an error reply and the client may send again.
 *
 * Status sent back for each refusal (the client sees it as errno):
 *   EMSGSIZE         message longer than any request
 *   EPROTO           wrong length or magic            } from
 *   EPROTONOSUPPORT  other protocol version           } proto_decode_req()
 *   EOPNOTSUPP       unknown operation                }
 *   EINVAL           flags or reserved field not 0    }
 *   EBUSY            too many foreign fds still closing (export_closer.c)
 *   EBADF            not exactly one fd
 *   EBADF            an O_PATH fd                     } from
 *   EXDEV            an fd of another filesystem      } export_trade()
 *   EISDIR           a directory of this mount        }
 *   EINVAL           anything else not a regular file }
 *   EACCES           an fd opened with access mode 3  }
 *   other            whatever export_ops.export_fd returned (ENOENT, ...)
 *
 * Only one fd a message is ever installed: the receive has room for one,
 * and the kernel drops the rest unopened (which does not flush them).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "export_i.h"
#include "proto_i.h"

#define EXPORT_MSG_MAX 256 /* receive room: a longer message is MSG_TRUNC */

/* Send a reply; on success @fd (if >= 0) goes along. Return 0 or -errno. */
static int send_reply(struct export_client *c, int32_t status, uint32_t kind, uint64_t size, int fd)
{
	char msg[sizeof(struct umm_rep)];
	int ret;

	ret = proto_encode_rep(msg, sizeof(msg), UMM_OP_EXPORT, status, kind, size);
	if (ret < 0)
		return ret;
	return proto_send_fd(c->fd, msg, sizeof(msg), status ? -1 : fd, MSG_DONTWAIT);
}

int export_serve(struct export_server *srv, struct export_client *c)
{
	char msg[EXPORT_MSG_MAX];
	/* Checked before the receive: only this thread fills the closer's queue. */
	int closer_full = export_closer_full(srv->closer);
	struct proto_recvd in;
	const char *why = NULL;
	struct umm_req req;
	uint32_t kind = 0;
	uint64_t size = 0;
	int out = -1;
	int32_t status;
	char eb[64];
	int ret;

	ret = proto_recv_fd(c->fd, msg, sizeof(msg), closer_full ? 0 : 1, MSG_DONTWAIT, &in);
	if (ret < 0)
		return ret == -EAGAIN ? 1 : -1;
	if (in.len == 0) {
		/* End of stream (or an empty message, which no client sends). */
		export_close_received(srv, in.fd);
		return -1;
	}
	c->last_ms = export_now_ms();

	if (in.flags & MSG_TRUNC) {
		status = -EMSGSIZE;
		why = "message too long";
	} else if ((status = proto_decode_req(msg, in.len, &req)) < 0) {
		why = "malformed request";
	} else if (closer_full && (in.flags & MSG_CTRUNC)) {
		status = -EBUSY;
		why = "fds of other filesystems still closing";
	} else if ((in.flags & MSG_CTRUNC) || in.nfds != 1) {
		status = -EBADF;
		why = in.nfds ? "more than one fd" : "no fd";
	} else {
		out = export_trade(srv, in.fd, &kind, &size, &why);
		in.fd = -1; /* consumed */
		status = out < 0 ? out : 0;
	}
	export_close_received(srv, in.fd);

	if (status)
		export_log(srv, "export: refused request of pid %d uid %u: %s: %s", (int)c->pid,
			   (unsigned int)c->uid, why, export_strerror(-status, eb, sizeof(eb)));

	ret = send_reply(c, status, kind, size, out);
	if (out >= 0)
		close(out);
	if (ret < 0) {
		if (ret != -EPIPE && ret != -ECONNRESET)
			export_log(srv, "export: dropped client pid %d: cannot send reply: %s",
				   (int)c->pid, export_strerror(-ret, eb, sizeof(eb)));
		return -1;
	}
	return 0;
}
