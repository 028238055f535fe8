/* test_rr: the signed Record-Route token (routing/rr.h).
 *
 * Tables: known answers (the mac is HMAC-SHA256 as computed by openssl, so
 * two instances of an HA pair agree), round trips, hostile values to
 * decode, and values encode must refuse. One key serves every row, as one
 * snapshot's serves every request: its keyed state must never be used up. */
#include "helpers.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "routing/rr.h"

#define SECRET "unit-secret"

static struct rr_key *key;       /* owned: SECRET keyed */
static struct rr_key *other_key; /* owned: another instance's secret */

/* ---- encode: known answers and refusals ---- */

struct encode_row {
	int line;
	const char *desc;
	char side;
	const char *node;
	uint64_t flow;
	size_t outlen;
	int want_rc;
	const char *want; /* when want_rc is 0 */
};

static const struct encode_row encode_rows[] = {
	/* Known answers: printf '%s' TEXT | openssl dgst -sha256 -hmac unit-secret */
	{ ROW("external, node and flow"), 'e', "m1", 0x1234, 64, 0,
	  "e.m1.0000000000001234.6e92a32dbc5a20d0" },
	{ ROW("internal, no node, no flow"), 'i', "", 0, 64, 0,
	  "i.-.0000000000000000.119d3406d5c55d1d" },
	{ ROW("largest flow"), 'i', "r1", UINT64_MAX, 64, 0,
	  "i.r1.ffffffffffffffff.bec9931249832c71" },
	{ ROW("buffer exactly large enough"), 'e', "m1", 0x1234, 39, 0,
	  "e.m1.0000000000001234.6e92a32dbc5a20d0" },
	{ ROW("buffer one byte short"), 'e', "m1", 0x1234, 38, -ENOSPC, NULL },
	{ ROW("buffer far too short"), 'e', "m1", 0x1234, 4, -ENOSPC, NULL },
	{ ROW("side must be e or i"), 'x', "m1", 1, 64, -EINVAL, NULL },
	{ ROW("side NUL"), '\0', "m1", 1, 64, -EINVAL, NULL },
	{ ROW("dot in node name"), 'e', "m.1", 1, 64, -EINVAL, NULL },
	{ ROW("space in node name"), 'e', "m 1", 1, 64, -EINVAL, NULL },
	{ ROW("semicolon in node name"), 'e', "m1;lr", 1, 64, -EINVAL, NULL },
	{ ROW("node name of 64 is the limit"), 'e',
	  "n123456789012345678901234567890123456789012345678901234567890123", 1, 200, 0, NULL },
};

static void test_encode_table(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(encode_rows); i++) {
		const struct encode_row *r = &encode_rows[i];
		struct rr_token t = { .side = r->side, .flow = r->flow };
		char out[256];

		snprintf(t.node, sizeof(t.node), "%s", r->node);
		if (!CHECK_INT(r, rr_token_encode(key, &t, out, r->outlen), r->want_rc))
			continue;
		if (r->want_rc == 0 && r->want)
			CHECK_STR(r, out, r->want);
	}
	rows_done();
}

/* A node name over RR_NODE_MAX cannot be set through struct rr_token (the
 * array holds 64), so only its decode side is in the table below. */

/* ---- round trips ---- */

struct trip_row {
	int line;
	const char *desc;
	char side;
	const char *node;
	uint64_t flow;
};

static const struct trip_row trip_rows[] = {
	{ ROW("external with node and flow"), 'e', "m1", 0x1234 },
	{ ROW("internal, no node"), 'i', "", 42 },
	{ ROW("no flow"), 'e', "routing", 0 },
	{ ROW("largest flow"), 'i', "node_a-7", UINT64_MAX },
	{ ROW("64-character node"), 'e',
	  "n123456789012345678901234567890123456789012345678901234567890123", 7 },
};

static void test_round_trip(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(trip_rows); i++) {
		const struct trip_row *r = &trip_rows[i];
		struct rr_token in = { .side = r->side, .flow = r->flow }, out;
		char text[128];

		snprintf(in.node, sizeof(in.node), "%s", r->node);
		memset(&out, 0x55, sizeof(out));
		if (!CHECK_INT(r, rr_token_encode(key, &in, text, sizeof(text)), 0) ||
		    !CHECK_INT(r, rr_token_decode(key, text, &out), 0))
			continue;
		CHECK_INT(r, out.side, r->side);
		CHECK_STR(r, out.node, r->node);
		CHECK_INT(r, out.flow, r->flow);
		/* Another secret (the other instance of a misconfigured pair). */
		CHECK_INT(r, rr_token_decode(other_key, text, &out), -EBADMSG);
	}
	rows_done();
}

/* ---- decode: good and hostile values ---- */

struct decode_row {
	int line;
	const char *desc;
	const char *value;
	bool sign;        /* append ".<mac of value>" computed here */
	int want_rc;
	char side;        /* when want_rc is 0 */
	const char *node;
	uint64_t flow;
};

static const struct decode_row decode_rows[] = {
	{ ROW("known answer"), "e.m1.0000000000001234.6e92a32dbc5a20d0", false, 0, 'e', "m1",
	  0x1234 },
	{ ROW("known answer, no node"), "i.-.0000000000000000.119d3406d5c55d1d", false, 0, 'i',
	  "", 0 },
	{ ROW("tampered side"), "i.m1.0000000000001234.6e92a32dbc5a20d0", false, -EBADMSG },
	{ ROW("tampered node"), "e.r1.0000000000001234.6e92a32dbc5a20d0", false, -EBADMSG },
	{ ROW("tampered flow"), "e.m1.0000000000001235.6e92a32dbc5a20d0", false, -EBADMSG },
	{ ROW("tampered mac"), "e.m1.0000000000001234.6e92a32dbc5a20d1", false, -EBADMSG },
	{ ROW("mac in upper case"), "e.m1.0000000000001234.6E92A32DBC5A20D0", false, -EBADMSG },
	{ ROW("mac of another secret"), "e.m1.0000000000001234.84a647f34ac44174", false,
	  -EBADMSG },
	{ ROW("empty"), "", false, -EBADMSG },
	{ ROW("side only"), "e", false, -EBADMSG },
	{ ROW("no flow, no mac"), "e.m1", false, -EBADMSG },
	{ ROW("no mac"), "e.m1.0000000000001234", false, -EBADMSG },
	{ ROW("empty mac"), "e.m1.0000000000001234.", false, -EBADMSG },
	{ ROW("mac one digit short"), "e.m1.0000000000001234.6e92a32dbc5a20d", false, -EBADMSG },
	{ ROW("mac one digit long"), "e.m1.0000000000001234.6e92a32dbc5a20d00", false,
	  -EBADMSG },
	{ ROW("fifth part"), "e.m1.0000000000001234.6e92a32dbc5a20d0.x", false, -EBADMSG },
	{ ROW("two-letter side"), "ee.m1.0000000000001234", true, -EBADMSG },
	{ ROW("unknown side"), "x.m1.0000000000001234", true, -EBADMSG },
	{ ROW("empty node"), "e..0000000000001234", true, -EBADMSG },
	{ ROW("flow of 15 digits"), "e.m1.000000000001234", true, -EBADMSG },
	{ ROW("flow of 17 digits"), "e.m1.00000000000001234", true, -EBADMSG },
	{ ROW("non-hex flow"), "e.m1.000000000000123g", true, -EBADMSG },
	{ ROW("signed but bad node character"), "e.m!1.0000000000001234", true, -EBADMSG },
	{ ROW("signed 65-character node"),
	  "e.n1234567890123456789012345678901234567890123456789012345678901234."
	  "0000000000000001", true, -EBADMSG },
	{ ROW("signed good value"), "i.m_2-b.00000000deadbeef", true, 0, 'i', "m_2-b",
	  0xdeadbeef },
};

/* Our own signer, checked against openssl by the known-answer rows. */
static void sign(const char *value, char *out, size_t outlen)
{
	unsigned char d[32];

	assert_int_equal(gnutls_hmac_fast(GNUTLS_MAC_SHA256, SECRET, strlen(SECRET), value,
					  strlen(value), d), 0);
	snprintf(out, outlen, "%s.%02x%02x%02x%02x%02x%02x%02x%02x", value, d[0], d[1], d[2],
		 d[3], d[4], d[5], d[6], d[7]);
}

static void test_decode_table(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(decode_rows); i++) {
		const struct decode_row *r = &decode_rows[i];
		struct rr_token t;
		char value[256];

		if (r->sign)
			sign(r->value, value, sizeof(value));
		else
			snprintf(value, sizeof(value), "%s", r->value);
		memset(&t, 0, sizeof(t));
		if (!CHECK_INT(r, rr_token_decode(key, value, &t), r->want_rc) || r->want_rc)
			continue;
		CHECK_INT(r, t.side, r->side);
		CHECK_STR(r, t.node, r->node);
		CHECK_INT(r, t.flow, r->flow);
	}
	rows_done();
}

/* The key remembers the macs it made: a second pass over the tables answers
 * from that memo and must agree (tampered values still refused), and after
 * far more tokens than it holds, the first one still verifies. */
static void test_memo(void **state)
{
	struct rr_token in = { .side = 'e', .flow = 1 }, out;
	char first[128], text[128], signed_text[128], want[128];

	test_encode_table(state);
	test_decode_table(state);
	assert_int_equal(rr_token_encode(key, &in, first, sizeof(first)), 0);
	for (in.flow = 2; in.flow < 1000; in.flow++) {
		snprintf(signed_text, sizeof(signed_text), "e.-.%016" PRIx64, in.flow);
		sign(signed_text, want, sizeof(want));
		assert_int_equal(rr_token_encode(key, &in, text, sizeof(text)), 0);
		assert_string_equal(text, want);
		assert_int_equal(rr_token_decode(key, text, &out), 0);
		assert_int_equal(out.flow, in.flow);
	}
	assert_int_equal(rr_token_decode(key, first, &out), 0);
	assert_int_equal(out.flow, 1);
	first[strlen(first) - 1] ^= 1; /* still refused with the genuine mac remembered */
	assert_int_equal(rr_token_decode(key, first, &out), -EBADMSG);
}

static int make_keys(void **state)
{
	key = rr_key_new(SECRET);
	other_key = rr_key_new("other-secret");
	return key && other_key ? 0 : -1;
}

static int free_keys(void **state)
{
	rr_key_free(key);
	rr_key_free(other_key);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_table),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_memo),
	};

	return cmocka_run_group_tests_name("rr", tests, make_keys, free_keys);
}
