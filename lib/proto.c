/*
 * proto.c - encode and decode messages of the umm export socket.
 *
 * Pure functions: no system calls, no allocation, no global state. Messages
 * are copied with memcpy so that the caller's buffer needs no alignment.
 */
#include <errno.h>
#include <string.h>

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

static int kind_known(uint32_t kind)
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

	if (!op_known(op) || !status_valid(status) || (!status && !kind_known(kind)))
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
	if (!rep.status && !kind_known(rep.kind))
		return -EPROTO;
	*out = rep;
	return 0;
}
