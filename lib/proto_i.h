/* SPDX-License-Identifier: MIT */
/*
 * proto_i.h - wire protocol of the umm export socket (private).
 *
 * Owns the message formats and the one way each end sends or receives a
 * message with its fd. Built once as the static library umm_proto
 * (lib/meson.build: proto_dep), which libumm, umm-fs and the tests link. No
 * function here keeps state: any thread may call any of them. The socket is AF_UNIX SOCK_SEQPACKET,
 * so one message is one request or one reply, never split. Both ends live on
 * the same host: integers are in host byte order, structs have no padding.
 *
 *   client -> daemon: struct umm_req, exactly sizeof(struct umm_req) bytes,
 *                     with exactly one fd (SCM_RIGHTS): an open fd of the mount.
 *   daemon -> client: struct umm_rep, exactly sizeof(struct umm_rep) bytes,
 *                     with one fd (the memfd or dma-buf) when status == 0 and
 *                     none otherwise.
 *
 * The encoders and decoders are pure (bytes in, struct or -errno out, no
 * system calls): they are the fuzzing surface of the daemon. Only
 * proto_send_fd() and proto_recv_fd() touch a socket.
 */
#ifndef UMM_PROTO_I_H
#define UMM_PROTO_I_H

#include <stddef.h>
#include <stdint.h>

/* "UMM1" as bytes in memory on a little-endian host. */
#define UMM_PROTO_MAGIC \
	((uint32_t)'U' | (uint32_t)'M' << 8 | (uint32_t)'M' << 16 | (uint32_t)'1' << 24)
#define UMM_PROTO_VERSION 1

/**
 * enum proto_op - operations (umm_req.op, echoed in umm_rep.op)
 * @UMM_OP_EXPORT: trade the fd sent along for the buffer's memfd or dma-buf.
 */
enum proto_op {
	UMM_OP_EXPORT = 1,
};

/**
 * enum proto_kind - what the fd of a successful reply is (umm_rep.kind)
 * @UMM_KIND_MEMFD:  a memfd (shmem: CPU-coherent, no sync needed).
 * @UMM_KIND_DMABUF: a dma-buf (bracket CPU access with DMA_BUF_IOCTL_SYNC).
 *
 * The values are on the wire: never renumber them. alloc/store.c's
 * umm_export() gives the same values.
 */
enum proto_kind {
	UMM_KIND_MEMFD = 1,
	UMM_KIND_DMABUF = 2,
};

/* Most fds proto_recv_fd() makes room for. */
#define PROTO_MAX_FDS 16

/* Largest errno a reply may carry (as the kernel's MAX_ERRNO). */
#define UMM_PROTO_MAX_ERRNO 4095

struct umm_req {
	uint32_t magic; /* UMM_PROTO_MAGIC */
	uint16_t version; /* UMM_PROTO_VERSION */
	uint16_t op; /* UMM_OP_* */
	uint32_t flags; /* 0 */
	uint32_t reserved; /* 0 */
};

struct umm_rep {
	uint32_t magic; /* UMM_PROTO_MAGIC */
	uint16_t version; /* UMM_PROTO_VERSION */
	uint16_t op; /* the request's op */
	int32_t status; /* 0 or -errno */
	uint32_t kind; /* UMM_KIND_* when status == 0, else 0 */
	uint64_t size; /* buffer size in bytes when status == 0, else 0 */
};

_Static_assert(sizeof(struct umm_req) == 16, "umm_req has padding");
_Static_assert(sizeof(struct umm_rep) == 24, "umm_rep has padding");

/**
 * proto_encode_req() - write a request.
 * @buf: where to write; need not be aligned.
 * @len: room at @buf.
 * @op:  UMM_OP_*.
 *
 * Return: the number of bytes written (sizeof(struct umm_req)), or -EMSGSIZE
 * if @len is too small, or -EOPNOTSUPP for an unknown @op.
 */
int proto_encode_req(void *buf, size_t len, uint16_t op);

/**
 * proto_decode_req() - check and read a received request.
 * @buf: the message; need not be aligned.
 * @len: its length.
 * @out: filled on success only.
 *
 * Return: 0, or a negative errno that the daemon sends back as the status:
 * -EPROTO (length is not sizeof(struct umm_req), or bad magic),
 * -EPROTONOSUPPORT (other version), -EOPNOTSUPP (unknown op),
 * -EINVAL (flags or reserved not 0).
 */
int proto_decode_req(const void *buf, size_t len, struct umm_req *out);

/**
 * proto_encode_rep() - write a reply.
 * @buf:    where to write; need not be aligned.
 * @len:    room at @buf.
 * @op:     the request's op (UMM_OP_*).
 * @status: 0 or -errno (-1 .. -UMM_PROTO_MAX_ERRNO).
 * @kind:   UMM_KIND_* when @status is 0; ignored (sent as 0) otherwise.
 * @size:   buffer size when @status is 0; ignored (sent as 0) otherwise.
 *
 * Return: the number of bytes written (sizeof(struct umm_rep)), -EMSGSIZE if
 * @len is too small, -EINVAL if @status, @kind or @op are out of range.
 */
int proto_encode_rep(void *buf, size_t len, uint16_t op, int32_t status, uint32_t kind,
		     uint64_t size);

/**
 * proto_decode_rep() - check and read a received reply.
 * @buf: the message; need not be aligned.
 * @len: its length.
 * @out: filled on success only.
 *
 * A reply with a nonzero status is valid whatever its kind and size say (they
 * carry no meaning then); a successful one must name a known kind.
 *
 * Return: 0, or -EPROTO (wrong length, magic, version or op, status out of
 * range, unknown kind).
 */
int proto_decode_rep(const void *buf, size_t len, struct umm_rep *out);

/**
 * proto_kind_known() - is @kind a known enum proto_kind value?
 * @kind: a umm_rep.kind, or what the store gave for one.
 *
 * Return: 1 if it is, 0 if not.
 */
int proto_kind_known(uint32_t kind);

/**
 * proto_send_fd() - send one encoded message, with an fd if there is one.
 * @sock:  a connected AF_UNIX SOCK_SEQPACKET socket.
 * @msg:   the message, from proto_encode_req() or proto_encode_rep().
 * @len:   its length.
 * @fd:    sent along (SCM_RIGHTS) if >= 0; not consumed: the caller still
 *         owns and closes it.
 * @flags: extra sendmsg() flags (MSG_DONTWAIT, or 0); MSG_NOSIGNAL is always
 *         added, so a peer that hung up gives -EPIPE, never SIGPIPE.
 *
 * Retries on EINTR. Blocks only if @sock does and @flags lacks MSG_DONTWAIT.
 *
 * Return: 0 once the whole message went out, -EPROTO if only part did, or
 * the -errno of sendmsg() (-EAGAIN, -EPIPE, -ECONNRESET, ...).
 */
int proto_send_fd(int sock, const void *msg, size_t len, int fd, int flags);

/**
 * struct proto_recvd - what proto_recv_fd() received
 * @len:   bytes of the message (at most the room given); 0 at end of stream.
 * @fd:    the first fd the message carried (FD_CLOEXEC set), owned by the
 *         caller, or -1.
 * @nfds:  how many fds the message carried, as far as there was room.
 * @flags: the msg_flags of recvmsg(): MSG_TRUNC (the message was longer
 *         than the room), MSG_CTRUNC (it carried fds there was no room for).
 */
struct proto_recvd {
	size_t len;
	int fd;
	unsigned int nfds;
	int flags;
};

/**
 * proto_recv_fd() - receive one message and the fds it carries.
 * @sock:   an AF_UNIX SOCK_SEQPACKET socket.
 * @buf:    room for the message.
 * @len:    size of @buf; make it larger than any valid message to see a
 *          longer one as MSG_TRUNC.
 * @maxfds: room for this many fds, at most PROTO_MAX_FDS. The kernel drops
 *          the rest unopened (and sets MSG_CTRUNC): 0 receives none at all.
 * @flags:  extra recvmsg() flags (MSG_DONTWAIT, or 0); MSG_CMSG_CLOEXEC is
 *          always added.
 * @out:    filled on success.
 *
 * Keeps the first fd in @out->fd and closes every other one at once. A
 * close(2) can wait for the daemon of another FUSE filesystem, so a caller
 * that must never wait for a peer passes @maxfds 0 or 1: there is then never
 * an extra fd to close. Retries on EINTR.
 *
 * Return: 0, -EINVAL if @maxfds is too large, or the -errno of recvmsg()
 * (-EAGAIN when nothing is waiting and @flags has MSG_DONTWAIT).
 */
int proto_recv_fd(int sock, void *buf, size_t len, unsigned int maxfds, int flags,
		  struct proto_recvd *out);

#endif /* UMM_PROTO_I_H */
