/*
 * test_proto.c - the export socket's wire protocol (lib/proto.c).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <criterion/criterion.h>

#include "proto_i.h"

/* A valid request, as bytes, with room around it for the length tests. */
static size_t good_req(unsigned char *buf, size_t len)
{
	int n = proto_encode_req(buf, len, UMM_OP_EXPORT);

	cr_assert_eq(n, (int)sizeof(struct umm_req));
	return (size_t)n;
}

static size_t good_rep(unsigned char *buf, size_t len)
{
	int n = proto_encode_rep(buf, len, UMM_OP_EXPORT, 0, UMM_KIND_MEMFD, 4096);

	cr_assert_eq(n, (int)sizeof(struct umm_rep));
	return (size_t)n;
}

static void put_u16(unsigned char *buf, size_t off, uint16_t v)
{
	memcpy(buf + off, &v, sizeof(v));
}

static void put_u32(unsigned char *buf, size_t off, uint32_t v)
{
	memcpy(buf + off, &v, sizeof(v));
}

Test(proto, magic_reads_umm1_in_memory)
{
	uint32_t magic = UMM_PROTO_MAGIC;

	/* The wire is host order, so this holds on little-endian hosts (all we build for). */
	if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
		cr_assert_eq(memcmp(&magic, "UMM1", 4), 0);
}

Test(proto, request_round_trips)
{
	unsigned char buf[64];
	struct umm_req req;
	size_t n = good_req(buf, sizeof(buf));

	cr_assert_eq(proto_decode_req(buf, n, &req), 0);
	cr_assert_eq(req.magic, UMM_PROTO_MAGIC);
	cr_assert_eq(req.version, UMM_PROTO_VERSION);
	cr_assert_eq(req.op, UMM_OP_EXPORT);
	cr_assert_eq(req.flags, 0);
	cr_assert_eq(req.reserved, 0);
}

Test(proto, request_decodes_from_unaligned_buffer)
{
	unsigned char buf[64];
	struct umm_req req;
	size_t n = good_req(buf + 1, sizeof(buf) - 1);

	cr_assert_eq(proto_decode_req(buf + 1, n, &req), 0);
	cr_assert_eq(req.op, UMM_OP_EXPORT);
}

Test(proto, encode_request_into_short_buffer_is_emsgsize)
{
	unsigned char buf[sizeof(struct umm_req)];

	cr_assert_eq(proto_encode_req(buf, sizeof(buf) - 1, UMM_OP_EXPORT), -EMSGSIZE);
	cr_assert_eq(proto_encode_req(NULL, 0, UMM_OP_EXPORT), -EMSGSIZE);
}

Test(proto, encode_request_with_unknown_op_is_eopnotsupp)
{
	unsigned char buf[64];

	cr_assert_eq(proto_encode_req(buf, sizeof(buf), 0), -EOPNOTSUPP);
	cr_assert_eq(proto_encode_req(buf, sizeof(buf), 2), -EOPNOTSUPP);
}

Test(proto, every_short_request_is_eproto)
{
	unsigned char buf[64];
	struct umm_req req;
	size_t n = good_req(buf, sizeof(buf));

	for (size_t len = 0; len < n; len++)
		cr_assert_eq(proto_decode_req(buf, len, &req), -EPROTO, "length %zu", len);
	cr_assert_eq(proto_decode_req(NULL, n, &req), -EPROTO);
}

Test(proto, long_request_is_eproto)
{
	unsigned char buf[64] = { 0 };
	struct umm_req req;
	size_t n = good_req(buf, sizeof(buf));

	for (size_t len = n + 1; len <= sizeof(buf); len++)
		cr_assert_eq(proto_decode_req(buf, len, &req), -EPROTO, "length %zu", len);
	cr_assert_eq(proto_decode_req(buf, SIZE_MAX, &req), -EPROTO);
}

Test(proto, request_with_bad_magic_is_eproto)
{
	unsigned char buf[64];
	struct umm_req req;
	size_t n = good_req(buf, sizeof(buf));

	put_u32(buf, offsetof(struct umm_req, magic), 0x324d4d55); /* "UMM2" */
	cr_assert_eq(proto_decode_req(buf, n, &req), -EPROTO);
	put_u32(buf, offsetof(struct umm_req, magic), __builtin_bswap32(UMM_PROTO_MAGIC));
	cr_assert_eq(proto_decode_req(buf, n, &req), -EPROTO);
	put_u32(buf, offsetof(struct umm_req, magic), 0);
	cr_assert_eq(proto_decode_req(buf, n, &req), -EPROTO);
}

Test(proto, request_with_other_version_is_eprotonosupport)
{
	unsigned char buf[64];
	struct umm_req req;
	size_t n = good_req(buf, sizeof(buf));

	put_u16(buf, offsetof(struct umm_req, version), 0);
	cr_assert_eq(proto_decode_req(buf, n, &req), -EPROTONOSUPPORT);
	put_u16(buf, offsetof(struct umm_req, version), 2);
	cr_assert_eq(proto_decode_req(buf, n, &req), -EPROTONOSUPPORT);
	put_u16(buf, offsetof(struct umm_req, version), 0xffff);
	cr_assert_eq(proto_decode_req(buf, n, &req), -EPROTONOSUPPORT);
}

Test(proto, request_with_unknown_op_is_eopnotsupp)
{
	unsigned char buf[64];
	struct umm_req req;
	size_t n = good_req(buf, sizeof(buf));
	uint16_t ops[] = { 0, 2, 0x100, 0xffff };

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		put_u16(buf, offsetof(struct umm_req, op), ops[i]);
		cr_assert_eq(proto_decode_req(buf, n, &req), -EOPNOTSUPP, "op %u", ops[i]);
	}
}

Test(proto, request_with_nonzero_flags_is_einval)
{
	unsigned char buf[64];
	struct umm_req req;
	size_t n = good_req(buf, sizeof(buf));

	put_u32(buf, offsetof(struct umm_req, flags), 1);
	cr_assert_eq(proto_decode_req(buf, n, &req), -EINVAL);
	put_u32(buf, offsetof(struct umm_req, flags), 0x80000000u);
	cr_assert_eq(proto_decode_req(buf, n, &req), -EINVAL);
}

Test(proto, request_with_nonzero_reserved_is_einval)
{
	unsigned char buf[64];
	struct umm_req req;
	size_t n = good_req(buf, sizeof(buf));

	put_u32(buf, offsetof(struct umm_req, reserved), 1);
	cr_assert_eq(proto_decode_req(buf, n, &req), -EINVAL);
}

Test(proto, failed_decode_leaves_output_untouched)
{
	unsigned char buf[64];
	struct umm_req req;
	size_t n = good_req(buf, sizeof(buf));

	memset(&req, 0xa5, sizeof(req));
	put_u32(buf, offsetof(struct umm_req, flags), 1);
	cr_assert_eq(proto_decode_req(buf, n, &req), -EINVAL);
	cr_assert_eq(req.magic, 0xa5a5a5a5u);
}

Test(proto, every_single_bit_flip_of_a_request_is_refused)
{
	unsigned char buf[64];
	struct umm_req req;
	size_t n = good_req(buf, sizeof(buf));

	for (size_t bit = 0; bit < n * 8; bit++) {
		buf[bit / 8] ^= 1u << (bit % 8);
		cr_assert_lt(proto_decode_req(buf, n, &req), 0, "bit %zu", bit);
		buf[bit / 8] ^= 1u << (bit % 8);
	}
	cr_assert_eq(proto_decode_req(buf, n, &req), 0);
}

Test(proto, success_reply_round_trips)
{
	unsigned char buf[64];
	struct umm_rep rep;
	int n = proto_encode_rep(buf, sizeof(buf), UMM_OP_EXPORT, 0, UMM_KIND_DMABUF,
				 UINT64_C(1) << 40);

	cr_assert_eq(n, (int)sizeof(struct umm_rep));
	cr_assert_eq(proto_decode_rep(buf, n, &rep), 0);
	cr_assert_eq(rep.magic, UMM_PROTO_MAGIC);
	cr_assert_eq(rep.version, UMM_PROTO_VERSION);
	cr_assert_eq(rep.op, UMM_OP_EXPORT);
	cr_assert_eq(rep.status, 0);
	cr_assert_eq(rep.kind, UMM_KIND_DMABUF);
	cr_assert_eq(rep.size, UINT64_C(1) << 40);
}

Test(proto, error_reply_round_trips_without_kind_or_size)
{
	unsigned char buf[64];
	struct umm_rep rep;
	int n = proto_encode_rep(buf, sizeof(buf), UMM_OP_EXPORT, -EXDEV, UMM_KIND_MEMFD, 99);

	cr_assert_eq(n, (int)sizeof(struct umm_rep));
	cr_assert_eq(proto_decode_rep(buf, n, &rep), 0);
	cr_assert_eq(rep.status, -EXDEV);
	cr_assert_eq(rep.kind, 0);
	cr_assert_eq(rep.size, 0);
}

Test(proto, encode_reply_checks_its_arguments)
{
	unsigned char buf[64];

	cr_assert_eq(proto_encode_rep(buf, sizeof(struct umm_rep) - 1, UMM_OP_EXPORT, 0,
				      UMM_KIND_MEMFD, 0),
		     -EMSGSIZE);
	cr_assert_eq(proto_encode_rep(buf, sizeof(buf), UMM_OP_EXPORT, 1, 0, 0), -EINVAL);
	cr_assert_eq(proto_encode_rep(buf, sizeof(buf), UMM_OP_EXPORT, -4096, 0, 0), -EINVAL);
	cr_assert_eq(proto_encode_rep(buf, sizeof(buf), UMM_OP_EXPORT, 0, 0, 0), -EINVAL);
	cr_assert_eq(proto_encode_rep(buf, sizeof(buf), UMM_OP_EXPORT, 0, 3, 0), -EINVAL);
	cr_assert_eq(proto_encode_rep(buf, sizeof(buf), 7, -EIO, 0, 0), -EINVAL);
	cr_assert_eq(proto_encode_rep(buf, sizeof(buf), UMM_OP_EXPORT, -4095, 0, 0),
		     (int)sizeof(struct umm_rep));
}

Test(proto, reply_of_wrong_length_is_eproto)
{
	unsigned char buf[64] = { 0 };
	struct umm_rep rep;
	size_t n = good_rep(buf, sizeof(buf));

	for (size_t len = 0; len <= sizeof(buf); len++) {
		if (len != n)
			cr_assert_eq(proto_decode_rep(buf, len, &rep), -EPROTO, "length %zu", len);
	}
	cr_assert_eq(proto_decode_rep(NULL, n, &rep), -EPROTO);
}

Test(proto, reply_with_bad_header_is_eproto)
{
	unsigned char buf[64];
	struct umm_rep rep;
	size_t n;

	n = good_rep(buf, sizeof(buf));
	put_u32(buf, offsetof(struct umm_rep, magic), 0x324d4d55);
	cr_assert_eq(proto_decode_rep(buf, n, &rep), -EPROTO);

	n = good_rep(buf, sizeof(buf));
	put_u16(buf, offsetof(struct umm_rep, version), 2);
	cr_assert_eq(proto_decode_rep(buf, n, &rep), -EPROTO);

	n = good_rep(buf, sizeof(buf));
	put_u16(buf, offsetof(struct umm_rep, op), 0);
	cr_assert_eq(proto_decode_rep(buf, n, &rep), -EPROTO);
}

Test(proto, reply_with_status_out_of_range_is_eproto)
{
	unsigned char buf[64];
	struct umm_rep rep;
	size_t n = good_rep(buf, sizeof(buf));
	int32_t bad[] = { 1, INT32_MAX, -4096, INT32_MIN };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_u32(buf, offsetof(struct umm_rep, status), (uint32_t)bad[i]);
		cr_assert_eq(proto_decode_rep(buf, n, &rep), -EPROTO, "status %d", bad[i]);
	}
}

Test(proto, success_reply_with_unknown_kind_is_eproto)
{
	unsigned char buf[64];
	struct umm_rep rep;
	size_t n = good_rep(buf, sizeof(buf));
	uint32_t bad[] = { 0, 3, 0xffffffffu };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_u32(buf, offsetof(struct umm_rep, kind), bad[i]);
		cr_assert_eq(proto_decode_rep(buf, n, &rep), -EPROTO, "kind %u", bad[i]);
	}
}
