/*
 * proto_i.h - wire protocol of the umm export socket (private).
 *
 * Compiled into both libumm and umm-fs. The socket is AF_UNIX SOCK_SEQPACKET,
 * so one message is one request or one reply, never split. Both ends live on
 * the same host: integers are in host byte order, structs have no padding.
 *
 *   client -> daemon: struct umm_req, exactly sizeof(struct umm_req) bytes,
 *                     with exactly one fd (SCM_RIGHTS): an open fd of the mount.
 *   daemon -> client: struct umm_rep, exactly sizeof(struct umm_rep) bytes,
 *                     with one fd (the memfd or dma-buf) when status == 0 and
 *                     none otherwise.
 *
 * The decoders are pure (bytes in, struct or -errno out, no system calls):
 * they are the fuzzing surface of the daemon.
 */
#ifndef UMM_PROTO_I_H
#define UMM_PROTO_I_H

#include <stddef.h>
#include <stdint.h>

/* "UMM1" as bytes in memory on a little-endian host. */
#define UMM_PROTO_MAGIC \
	((uint32_t)'U' | (uint32_t)'M' << 8 | (uint32_t)'M' << 16 | (uint32_t)'1' << 24)
#define UMM_PROTO_VERSION 1

/* Operations (umm_req.op, echoed in umm_rep.op). */
#define UMM_OP_EXPORT 1

/* What the fd of a successful reply is (umm_rep.kind). */
#define UMM_KIND_MEMFD 1
#define UMM_KIND_DMABUF 2

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

#endif /* UMM_PROTO_I_H */
