/* SPDX-License-Identifier: MIT */
/*
 * fuzz_proto.c - libFuzzer target for lib/proto.c, the decoder of the export
 * socket's messages (what a client sends the daemon, and the reply).
 *
 * Every input is decoded as a request and as a reply, from an exact-size copy
 * at an odd address (the decoders must not assume alignment, and ASan sees any
 * read past the end). Checks: the output is written on success only, errors
 * are the documented ones, whatever decodes re-encodes to the same message,
 * and the input read as encoder arguments encodes to a message that decodes
 * back to those arguments. A broken promise aborts: a crash.
 *
 *   tests/fuzz/run-fuzz.sh proto [SECONDS]
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto_i.h"

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "fuzz_proto: %s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                                          \
			abort();                                                           \
		}                                                                          \
	} while (0)

#define POISON 0xa5

static bool all_poison(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != POISON)
			return false;
	return true;
}

static void fuzz_decode_req(const unsigned char *msg, size_t len)
{
	unsigned char again[sizeof(struct umm_req) + 1];
	struct umm_req req;
	int ret;

	memset(&req, POISON, sizeof(req));
	ret = proto_decode_req(msg, len, &req);
	CHECK(ret == 0 || ret == -EPROTO || ret == -EPROTONOSUPPORT || ret == -EOPNOTSUPP ||
	      ret == -EINVAL);
	if (ret) {
		CHECK(all_poison(&req, sizeof(req)));
		return;
	}
	CHECK(len == sizeof(req) && req.magic == UMM_PROTO_MAGIC &&
	      req.version == UMM_PROTO_VERSION && req.op == UMM_OP_EXPORT && req.flags == 0 &&
	      req.reserved == 0);
	/* a valid request is exactly what the encoder writes */
	CHECK(proto_encode_req(again + 1, sizeof(req), req.op) == (int)sizeof(req));
	CHECK(memcmp(again + 1, msg, len) == 0);
}

static void fuzz_decode_rep(const unsigned char *msg, size_t len)
{
	unsigned char again[sizeof(struct umm_rep) + 1];
	struct umm_rep rep, back;
	int ret;

	memset(&rep, POISON, sizeof(rep));
	ret = proto_decode_rep(msg, len, &rep);
	CHECK(ret == 0 || ret == -EPROTO);
	if (ret) {
		CHECK(all_poison(&rep, sizeof(rep)));
		return;
	}
	CHECK(len == sizeof(rep) && rep.magic == UMM_PROTO_MAGIC &&
	      rep.version == UMM_PROTO_VERSION && rep.op == UMM_OP_EXPORT);
	CHECK(rep.status <= 0 && rep.status >= -UMM_PROTO_MAX_ERRNO);
	CHECK(rep.status != 0 || rep.kind == UMM_KIND_MEMFD || rep.kind == UMM_KIND_DMABUF);
	/* re-encoding gives the same message (kind and size are 0 after an error) */
	CHECK(proto_encode_rep(again + 1, sizeof(rep), rep.op, rep.status, rep.kind, rep.size) ==
	      (int)sizeof(rep));
	if (rep.status == 0)
		CHECK(memcmp(again + 1, msg, len) == 0);
	CHECK(proto_decode_rep(again + 1, sizeof(rep), &back) == 0);
	CHECK(back.op == rep.op && back.status == rep.status &&
	      back.kind == (rep.status ? 0 : rep.kind) && back.size == (rep.status ? 0 : rep.size));
}

/* The input read as encoder arguments: whatever encodes, decodes to the same. */
static void fuzz_encode(const unsigned char *data, size_t size)
{
	struct {
		uint16_t op;
		uint16_t room;
		int32_t status;
		uint32_t kind;
		uint64_t size;
	} a;
	unsigned char buf[64 + 1];
	struct umm_req req;
	struct umm_rep rep;
	size_t room;
	int ret;

	memset(&a, 0, sizeof(a));
	memcpy(&a, data, size < sizeof(a) ? size : sizeof(a));
	room = a.room % (sizeof(buf) - 1);

	memset(buf, POISON, sizeof(buf));
	ret = proto_encode_req(buf + 1, room, a.op);
	if (a.op != UMM_OP_EXPORT) {
		CHECK(ret == -EOPNOTSUPP);
	} else if (room < sizeof(req)) {
		CHECK(ret == -EMSGSIZE);
	} else {
		CHECK(ret == (int)sizeof(req));
		CHECK(proto_decode_req(buf + 1, (size_t)ret, &req) == 0 && req.op == a.op);
	}
	if (ret < 0)
		CHECK(all_poison(buf, sizeof(buf)));
	else
		CHECK(all_poison(buf + 1 + ret, sizeof(buf) - 1 - (size_t)ret) && buf[0] == POISON);

	memset(buf, POISON, sizeof(buf));
	ret = proto_encode_rep(buf + 1, room, a.op, a.status, a.kind, a.size);
	CHECK(ret == (int)sizeof(rep) || ret == -EINVAL || ret == -EMSGSIZE);
	if (ret < 0) {
		CHECK(all_poison(buf, sizeof(buf)));
		return;
	}
	CHECK(room >= sizeof(rep));
	CHECK(all_poison(buf + 1 + ret, sizeof(buf) - 1 - (size_t)ret) && buf[0] == POISON);
	CHECK(proto_decode_rep(buf + 1, (size_t)ret, &rep) == 0);
	CHECK(rep.op == a.op && rep.status == a.status);
	if (a.status == 0)
		CHECK(rep.kind == a.kind && rep.size == a.size);
	else
		CHECK(rep.kind == 0 && rep.size == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the message at an odd address, exactly size bytes long */
	unsigned char *buf = malloc(size + 1);

	CHECK(buf);
	memcpy(buf + 1, data, size);
	fuzz_decode_req(buf + 1, size);
	fuzz_decode_rep(buf + 1, size);
	fuzz_encode(data, size);
	/* a NULL message is refused, not read */
	CHECK(proto_decode_req(NULL, size, &(struct umm_req){ 0 }) == -EPROTO);
	CHECK(proto_decode_rep(NULL, size, &(struct umm_rep){ 0 }) == -EPROTO);
	free(buf);
	return 0;
}
