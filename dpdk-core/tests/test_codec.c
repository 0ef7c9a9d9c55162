/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_codec.c — the control protocol's builder and strict parser: every
 * typed struct survives a round trip, every malformed message is refused
 * with a message that says what is wrong, and random mutations of valid
 * messages never crash the parser (run once under -Db_sanitize=address).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <switchyard/codec.h>

#include "codec_consume.h"
#include "sy_test.h"

static char err[SY_CODEC_ERR_MAX];

/* A message built by hand, for the malformed cases. */
struct raw {
	uint8_t buf[4096] __attribute__((aligned(8)));
	size_t len;
};

static void
raw_hdr(struct raw *r, uint16_t type, uint32_t xid)
{
	struct sy_msg_hdr h = { .version = SY_PROTO_VERSION, .type = type, .xid = xid };

	memset(r, 0, sizeof(*r));
	memcpy(r->buf, &h, sizeof(h));
	r->len = sizeof(h);
}

/* Appends an attribute header claiming `length`, then `payload` bytes of
 * filler (0x41), then padding to 8. */
static size_t
raw_attr(struct raw *r, uint16_t type, uint32_t length, size_t payload)
{
	struct sy_attr a = { .type = type, .length = length };
	size_t at = r->len;

	memcpy(r->buf + r->len, &a, sizeof(a));
	r->len += sizeof(a);
	memset(r->buf + r->len, 0x41, payload);
	r->len += payload;
	r->len = SY_ALIGN_UP(r->len);
	return at;
}

static void
raw_set_attr_len(struct raw *r, size_t at, uint32_t length)
{
	memcpy(r->buf + at + offsetof(struct sy_attr, length), &length, sizeof(length));
}

static void
raw_finish(struct raw *r)
{
	uint32_t len = (uint32_t)r->len;

	memcpy(r->buf + offsetof(struct sy_msg_hdr, length), &len, sizeof(len));
}

static int
parse_raw(struct raw *r, struct sy_msg *m)
{
	err[0] = '\0';
	return sy_msg_parse(r->buf, r->len, m, err, sizeof(err));
}

static void
fill(void *p, size_t n, unsigned int seed)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

static void
sample_flow(struct sy_flow_mod *fm, unsigned int n_actions)
{
	memset(fm, 0, sizeof(*fm));
	fm->hdr.command = SY_FC_ADD;
	fm->hdr.table_id = 3;
	fm->hdr.priority = 1234;
	fm->hdr.flags = SY_FF_SEND_FLOW_REM;
	fm->hdr.idle_timeout = 10;
	fm->hdr.hard_timeout = 20;
	fm->hdr.out_port = SY_PORT_ANY;
	fm->hdr.cookie = 0xfeedface12345678ull;
	fm->hdr.cookie_mask = ~0ull;
	fill(&fm->key, sizeof(fm->key), 1);
	fill(&fm->mask, sizeof(fm->mask), 2);
	fm->n_actions = (uint16_t)n_actions;
	for (unsigned int i = 0; i < n_actions; i++)
		fill(&fm->actions[i], sizeof(fm->actions[i]), 10 + i);
}

static int
build_parse(struct sy_msgbuf *b, struct sy_msg *m)
{
	if (sy_msg_finish(b) < 0)
		return -1;
	err[0] = '\0';
	return sy_msg_parse(b->data, b->len, m, err, sizeof(err));
}

/* ------------------------------------------------------------------ */

static void
builds_header_and_pads_attributes(void)
{
	struct sy_msgbuf b = { 0 };
	struct sy_msg m;
	struct sy_attr a;

	sy_msg_begin(&b, SY_MSG_PORT_ADD, 0, 77);
	sy_msg_put_str(&b, SY_A_PORT_NAME, "p1"); /* 8 + 3 -> 16 */
	sy_msg_put_u32(&b, SY_A_PORT_MTU, 9000);  /* 8 + 4 -> 16 */
	CHECK_EQ(sy_msg_finish(&b), 0);
	CHECK_EQ(b.len, 16 + 16 + 16);
	CHECK_EQ(build_parse(&b, &m), 0);
	CHECK_EQ(m.hdr.version, SY_PROTO_VERSION);
	CHECK_EQ(m.hdr.type, SY_MSG_PORT_ADD);
	CHECK_EQ(m.hdr.xid, 77);
	CHECK_EQ(m.hdr.length, 48);
	memcpy(&a, b.data + 16, sizeof(a));
	CHECK_EQ(a.length, 11); /* length does not count the padding */
	CHECK_EQ(b.data[16 + 11], 0);
	sy_msg_free(&b);
}

static void
round_trips_scalars_and_strings(void)
{
	struct sy_msgbuf b = { 0 };
	const struct sy_attr *a;
	struct sy_msg m;
	uint32_t v = 0;

	sy_msg_begin(&b, SY_MSG_PORT_ADD, 0, 5);
	sy_msg_put_str(&b, SY_A_PORT_NAME, "vm1");
	sy_msg_put_str(&b, SY_A_PORT_DEVARGS, "net_ring0");
	sy_msg_put_u32(&b, SY_A_PORT_ID, 42);
	CHECK_EQ(build_parse(&b, &m), 0);
	a = sy_msg_require(&m, SY_A_PORT_NAME, err, sizeof(err));
	CHECK(a != NULL && strcmp(sy_attr_get_str(a, err, sizeof(err)), "vm1") == 0);
	a = sy_msg_require(&m, SY_A_PORT_DEVARGS, err, sizeof(err));
	CHECK(a != NULL && strcmp(sy_attr_get_str(a, err, sizeof(err)), "net_ring0") == 0);
	a = sy_msg_find(&m, SY_A_PORT_ID);
	CHECK(a != NULL && sy_attr_get_u32(a, &v, err, sizeof(err)) == 0 && v == 42);
	CHECK(sy_msg_require(&m, SY_A_PORT_MTU, err, sizeof(err)) == NULL);
	CHECK_STR_CONTAINS(err, "missing attribute PORT_MTU");
	CHECK_EQ(sy_msg_count(&m, SY_A_PORT_ID), 1);
	sy_msg_free(&b);
}

static void
round_trips_port_desc_and_stats(void)
{
	struct sy_port_desc d, d2;
	struct sy_port_stats s, s2;
	struct sy_msgbuf b = { 0 };
	struct sy_attr_iter it;
	const struct sy_attr *a;
	struct sy_msg m;

	fill(&d, sizeof(d), 3);
	memset(d.name, 0, sizeof(d.name));
	memset(d.driver, 0, sizeof(d.driver));
	memset(d.devargs, 0, sizeof(d.devargs));
	strcpy(d.name, "p1");
	strcpy(d.driver, "net_null");
	strcpy(d.devargs, "net_null0");
	fill(&s, sizeof(s), 4);
	sy_msg_begin(&b, SY_MSG_PORT_LIST, SY_MSGF_REPLY, 9);
	sy_put_port_desc(&b, &d);
	sy_put_port_stats(&b, &s);
	CHECK_EQ(build_parse(&b, &m), 0);
	sy_attr_iter_msg(&it, &m);
	CHECK_EQ(sy_attr_next(&it, &a), 1);
	CHECK_EQ(sy_get_port_desc(a, &d2, err, sizeof(err)), 0);
	CHECK(memcmp(&d, &d2, sizeof(d)) == 0);
	CHECK_EQ(sy_attr_next(&it, &a), 1);
	CHECK_EQ(sy_get_port_stats(a, &s2, err, sizeof(err)), 0);
	CHECK(memcmp(&s, &s2, sizeof(s)) == 0);
	CHECK_EQ(sy_attr_next(&it, &a), 0);
	/* a getter refuses an attribute of another type */
	CHECK_EQ(sy_get_port_stats(sy_msg_find(&m, SY_A_PORT_DESC), &s2, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "expected attribute PORT_STATS, got PORT_DESC");
	sy_msg_free(&b);
}

/* A bond port's PORT_BOND follows its PORT_DESC; a count of members past
 * SY_BOND_MEMBERS_MAX is refused (the addon indexes member[] by it). */
static void
round_trips_port_bond(void)
{
	struct sy_port_bond d, d2;
	struct sy_msgbuf b = { 0 };
	struct sy_msg m;

	memset(&d, 0, sizeof(d));
	d.port_id = 7;
	d.mode = SY_BOND_ACTIVE_BACKUP;
	d.xmit_policy = SY_BOND_XMIT_L34;
	d.n_members = 2;
	d.primary = 1;
	d.member[0] = (struct sy_bond_member){ .dpdk_port = 3, .link_up = 1, .active = 1,
					       .tx_packets = 5 };
	d.member[1] = (struct sy_bond_member){ .dpdk_port = UINT16_MAX };
	strcpy(d.member[0].devargs, "net_af_packet0,iface=a");
	strcpy(d.member[1].devargs, "net_af_packet1,iface=b");
	/* the getter NUL-terminates what came over the wire */
	memset(d.member[2].devargs, 'x', sizeof(d.member[2].devargs));
	sy_msg_begin(&b, SY_MSG_PORT_LIST, SY_MSGF_REPLY, 9);
	sy_put_port_bond(&b, &d);
	CHECK_EQ(build_parse(&b, &m), 0);
	CHECK_EQ(sy_get_port_bond(sy_msg_find(&m, SY_A_PORT_BOND), &d2, err, sizeof(err)), 0);
	CHECK_EQ(d2.member[2].devargs[SY_DEVARGS_MAX - 1], '\0');
	d.member[2].devargs[SY_DEVARGS_MAX - 1] = '\0';
	CHECK(memcmp(&d, &d2, sizeof(d)) == 0);
	sy_msg_free(&b);

	d.n_members = SY_BOND_MEMBERS_MAX + 1;
	sy_msg_begin(&b, SY_MSG_PORT_LIST, SY_MSGF_REPLY, 9);
	sy_put_port_bond(&b, &d);
	CHECK_EQ(build_parse(&b, &m), 0);
	CHECK_EQ(sy_get_port_bond(sy_msg_find(&m, SY_A_PORT_BOND), &d2, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "9 members, at most 8");
	sy_msg_free(&b);
}

/* PORT_VLAN and PORT_NSH_TAG: fixed size, every byte back. */
static void
round_trips_port_edge(void)
{
	struct sy_port_vlan v, v2;
	struct sy_port_nsh_tag t = { .port_id = 3, .enabled = 1, .mdtype = 1, .si = 200, .ttl = 20,
				     .spi = 0x123456, .ctx = { 1, 2, 3, 0xffffffff } },
			       t2;
	struct sy_msgbuf b = { 0 };
	struct sy_msg m;

	memset(&v, 0, sizeof(v));
	v.port_id = 3;
	v.mode = SY_VLAN_TRUNK;
	v.native = 10;
	v.trunks[0] = 1ull << 10;
	v.trunks[SY_VLAN_BITMAP_WORDS - 1] = 1ull << 62; /* VID 4094 */
	sy_msg_begin(&b, SY_MSG_PORT_LIST, SY_MSGF_REPLY, 9);
	sy_put_port_vlan(&b, &v);
	sy_put_port_nsh_tag(&b, &t);
	CHECK_EQ(build_parse(&b, &m), 0);
	CHECK_EQ(sy_get_port_vlan(sy_msg_find(&m, SY_A_PORT_VLAN), &v2, err, sizeof(err)), 0);
	CHECK(memcmp(&v, &v2, sizeof(v)) == 0);
	CHECK_EQ(sy_get_port_nsh_tag(sy_msg_find(&m, SY_A_PORT_NSH_TAG), &t2, err, sizeof(err)), 0);
	CHECK(memcmp(&t, &t2, sizeof(t)) == 0);
	CHECK_EQ(sy_get_port_vlan(sy_msg_find(&m, SY_A_PORT_NSH_TAG), &v2, err, sizeof(err)), -1);
	CHECK(strcmp(sy_attr_name(SY_A_PORT_VLAN), "PORT_VLAN") == 0);
	CHECK(strcmp(sy_attr_name(SY_A_PORT_NSH_TAG), "PORT_NSH_TAG") == 0);
	sy_msg_free(&b);
}

static void
round_trips_table_dp_stats_and_info(void)
{
	struct sy_table_desc t, t2;
	struct sy_dp_stats s, s2;
	struct sy_dp_info i, i2;
	struct sy_msgbuf b = { 0 };
	struct sy_msg m;

	fill(&t, sizeof(t), 5);
	memset(t.name, 0, sizeof(t.name));
	strcpy(t.name, "acl");
	fill(&s, sizeof(s), 6);
	fill(&i, sizeof(i), 7);
	memset(i.version, 0, sizeof(i.version));
	memset(i.dpdk_version, 0, sizeof(i.dpdk_version));
	memset(i.file_prefix, 0, sizeof(i.file_prefix));
	strcpy(i.version, "0.1.0");
	strcpy(i.dpdk_version, "DPDK 22.11.11");
	strcpy(i.file_prefix, "sy");
	sy_msg_begin(&b, SY_MSG_DP_STATS, SY_MSGF_REPLY, 1);
	sy_put_table_desc(&b, &t);
	sy_put_dp_stats(&b, &s);
	sy_put_dp_info(&b, &i);
	CHECK_EQ(build_parse(&b, &m), 0);
	CHECK_EQ(sy_get_table_desc(sy_msg_find(&m, SY_A_TABLE_DESC), &t2, err, sizeof(err)), 0);
	CHECK(memcmp(&t, &t2, sizeof(t)) == 0);
	CHECK_EQ(sy_get_dp_stats(sy_msg_find(&m, SY_A_DP_STATS), &s2, err, sizeof(err)), 0);
	CHECK(memcmp(&s, &s2, sizeof(s)) == 0);
	CHECK_EQ(sy_get_dp_info(sy_msg_find(&m, SY_A_DP_INFO), &i2, err, sizeof(err)), 0);
	CHECK(memcmp(&i, &i2, sizeof(i)) == 0);
	sy_msg_free(&b);
}

static void
getters_terminate_fixed_strings(void)
{
	struct sy_port_desc d, d2;
	struct sy_msgbuf b = { 0 };
	struct sy_msg m;

	memset(&d, 'x', sizeof(d)); /* no NUL anywhere */
	sy_msg_begin(&b, SY_MSG_PORT_LIST, SY_MSGF_REPLY, 1);
	sy_put_port_desc(&b, &d);
	CHECK_EQ(build_parse(&b, &m), 0);
	CHECK_EQ(sy_get_port_desc(sy_msg_find(&m, SY_A_PORT_DESC), &d2, err, sizeof(err)), 0);
	CHECK_EQ(strlen(d2.name), SY_NAME_MAX - 1);
	CHECK_EQ(strlen(d2.driver), SY_NAME_MAX - 1);
	CHECK_EQ(strlen(d2.devargs), SY_DEVARGS_MAX - 1);
	sy_msg_free(&b);
}

static void
round_trips_flows_with_and_without_stats(void)
{
	struct sy_flow_mod fm[3], out;
	struct sy_flow_stats st = { 1, 2, 3, 4 }, st2;
	struct sy_msgbuf b = { 0 };
	struct sy_attr_iter it;
	const struct sy_attr *a;
	struct sy_msg m;
	bool has;
	int n = 0;

	sample_flow(&fm[0], 0);
	sample_flow(&fm[1], 1);
	sample_flow(&fm[2], SY_MAX_ACTIONS);
	sy_msg_begin(&b, SY_MSG_FLOW_DUMP, SY_MSGF_REPLY, 3);
	sy_put_flow(&b, &fm[0], NULL);
	sy_put_flow(&b, &fm[1], &st);
	sy_put_flow(&b, &fm[2], &st);
	CHECK_EQ(build_parse(&b, &m), 0);
	CHECK_EQ(sy_msg_count(&m, SY_A_FLOW), 3);
	sy_attr_iter_msg(&it, &m);
	while (sy_attr_next(&it, &a) > 0) {
		CHECK_EQ(sy_get_flow(a, &out, &st2, &has, err, sizeof(err)), 0);
		CHECK(memcmp(&out.hdr, &fm[n].hdr, sizeof(out.hdr)) == 0);
		CHECK(memcmp(&out.key, &fm[n].key, sizeof(out.key)) == 0);
		CHECK(memcmp(&out.mask, &fm[n].mask, sizeof(out.mask)) == 0);
		CHECK_EQ(out.n_actions, fm[n].n_actions);
		CHECK(memcmp(out.actions, fm[n].actions,
			     fm[n].n_actions * sizeof(struct sy_action)) == 0);
		CHECK_EQ(has, n > 0);
		if (n > 0)
			CHECK(memcmp(&st, &st2, sizeof(st)) == 0);
		n++;
	}
	CHECK_EQ(n, 3);
	sy_msg_free(&b);
}

static void
round_trips_error_messages(void)
{
	struct sy_msgbuf b = { 0 };
	char text[SY_ERRMSG_MAX], longmsg[600];
	struct sy_msg m;
	int code, index;

	sy_msg_error(&b, 12, SY_E_NOENT, 3, "port 9 does not exist");
	CHECK_EQ(sy_msg_parse(b.data, b.len, &m, err, sizeof(err)), 0);
	CHECK_EQ(m.hdr.type, SY_MSG_ERROR);
	CHECK_EQ(m.hdr.xid, 12);
	CHECK(m.hdr.flags & SY_MSGF_REPLY);
	CHECK_EQ(sy_get_error(&m, &code, &index, text, sizeof(text), err, sizeof(err)), 0);
	CHECK_EQ(code, SY_E_NOENT);
	CHECK_EQ(index, 3);
	CHECK(strcmp(text, "port 9 does not exist") == 0);

	/* no index; an over-long message is cut, not refused */
	memset(longmsg, 'e', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	sy_msg_error(&b, 13, SY_E_INVAL, -1, longmsg);
	CHECK_EQ(sy_msg_parse(b.data, b.len, &m, err, sizeof(err)), 0);
	CHECK_EQ(sy_get_error(&m, &code, &index, text, sizeof(text), err, sizeof(err)), 0);
	CHECK_EQ(index, -1);
	CHECK_EQ(strlen(text), SY_ERRMSG_MAX - 1);
	sy_msg_free(&b);
}

static void
echo_copies_raw_attributes(void)
{
	struct sy_msgbuf b = { 0 }, e = { 0 };
	struct sy_msg m, m2;

	sy_msg_begin(&b, SY_MSG_ECHO, 0, 4);
	sy_msg_put_str(&b, SY_A_PORT_NAME, "hello");
	sy_msg_put(&b, 999, "xyz", 3);
	CHECK_EQ(build_parse(&b, &m), 0);
	sy_msg_begin(&e, SY_MSG_ECHO, SY_MSGF_REPLY, m.hdr.xid);
	sy_msg_put_raw(&e, m.attrs, m.attrs_len);
	CHECK_EQ(build_parse(&e, &m2), 0);
	CHECK_EQ(m2.attrs_len, m.attrs_len);
	CHECK(memcmp(m2.attrs, m.attrs, m.attrs_len) == 0);
	sy_msg_free(&b);
	sy_msg_free(&e);
}

static void
skips_unknown_attribute_types(void)
{
	struct sy_msgbuf b = { 0 };
	struct sy_flow_mod fm, out;
	struct sy_msg m;
	uint32_t v = 0;

	sample_flow(&fm, 2);
	sy_msg_begin(&b, SY_MSG_FLOW_MOD, 0, 1);
	sy_msg_put(&b, 4000, "future", 6);
	sy_msg_put_u32(&b, SY_A_PORT_ID, 7);
	sy_msg_nest_begin(&b, SY_A_FLOW);
	sy_msg_put(&b, 4001, NULL, 100);
	sy_msg_put(&b, SY_A_FLOW_HDR, &fm.hdr, sizeof(fm.hdr));
	sy_msg_nest_end(&b);
	CHECK_EQ(build_parse(&b, &m), 0);
	CHECK(sy_attr_get_u32(sy_msg_find(&m, SY_A_PORT_ID), &v, err, sizeof(err)) == 0 && v == 7);
	CHECK_EQ(sy_get_flow(sy_msg_find(&m, SY_A_FLOW), &out, NULL, NULL, err, sizeof(err)), 0);
	CHECK_EQ(out.hdr.priority, 1234);
	CHECK_EQ(out.n_actions, 0);
	CHECK_STR_CONTAINS(sy_attr_name(4000), "attribute 4000");
	sy_msg_free(&b);
}

/* ------------------------------------------------------------------ */
/* Malformed messages */

static void
refuses_short_header(void)
{
	struct raw r;
	struct sy_msg m;

	raw_hdr(&r, SY_MSG_ECHO, 1);
	r.len = 10;
	CHECK_EQ(parse_raw(&r, &m), -1);
	CHECK_STR_CONTAINS(err, "message of 10 bytes is shorter than the 16-byte header");

	raw_hdr(&r, SY_MSG_ECHO, 1);
	raw_finish(&r);
	memset(r.buf + 4, 0, 4); /* length 0 in the header */
	CHECK_EQ(parse_raw(&r, &m), -1);
	CHECK_STR_CONTAINS(err, "message length 0 is shorter than the 16-byte header");
	CHECK_EQ(m.hdr.xid, 1); /* still readable for the error reply */
}

static void
refuses_bad_version(void)
{
	struct raw r;
	struct sy_msg m;

	raw_hdr(&r, SY_MSG_ECHO, 1);
	raw_finish(&r);
	r.buf[0] = 2;
	CHECK_EQ(parse_raw(&r, &m), -1);
	CHECK_STR_CONTAINS(err, "protocol version 2, expected 1");
}

static void
refuses_length_not_multiple_of_8(void)
{
	struct raw r;
	struct sy_msg m;

	raw_hdr(&r, SY_MSG_ECHO, 1);
	r.len = 20;
	raw_finish(&r);
	CHECK_EQ(parse_raw(&r, &m), -1);
	CHECK_STR_CONTAINS(err, "message length 20 is not a multiple of 8");
}

static void
refuses_length_mismatch_and_oversize(void)
{
	struct raw r;
	struct sy_msg m;
	uint32_t big = SY_MSG_MAX + 8;

	raw_hdr(&r, SY_MSG_ECHO, 1);
	raw_attr(&r, SY_A_PORT_ID, 12, 4);
	raw_finish(&r);
	r.len -= 8;
	CHECK_EQ(parse_raw(&r, &m), -1);
	CHECK_STR_CONTAINS(err, "message length 32 in the header, but 24 bytes given");

	raw_hdr(&r, SY_MSG_ECHO, 1);
	memcpy(r.buf + 4, &big, 4);
	CHECK_EQ(parse_raw(&r, &m), -1);
	CHECK_STR_CONTAINS(err, "over the limit");
}

static void
refuses_attribute_overrun(void)
{
	struct raw r;
	struct sy_msg m;
	size_t at;

	raw_hdr(&r, SY_MSG_PORT_DEL, 1);
	at = raw_attr(&r, SY_A_PORT_ID, 12, 4);
	raw_set_attr_len(&r, at, 100);
	raw_finish(&r);
	CHECK_EQ(parse_raw(&r, &m), -1);
	CHECK_STR_CONTAINS(err, "attribute PORT_ID of 100 bytes runs past the end of the message (16 bytes left)");
}

static void
refuses_attribute_shorter_than_header(void)
{
	struct raw r;
	struct sy_msg m;
	size_t at;

	raw_hdr(&r, SY_MSG_PORT_DEL, 1);
	at = raw_attr(&r, SY_A_PORT_ID, 12, 4);
	raw_set_attr_len(&r, at, 4);
	raw_finish(&r);
	CHECK_EQ(parse_raw(&r, &m), -1);
	CHECK_STR_CONTAINS(err, "attribute PORT_ID has length 4, less than its 8-byte header");
}

static void
refuses_fixed_attribute_of_wrong_size(void)
{
	struct raw r;
	struct sy_msg m;

	raw_hdr(&r, SY_MSG_FLOW_MOD, 1);
	raw_attr(&r, SY_A_FLOW_MATCH, 8 + 100, 100);
	raw_finish(&r);
	CHECK_EQ(parse_raw(&r, &m), -1);
	CHECK_STR_CONTAINS(err, "attribute FLOW_MATCH has 100 bytes, expected 256");

	raw_hdr(&r, SY_MSG_PORT_DEL, 1);
	raw_attr(&r, SY_A_PORT_ID, 8 + 2, 2);
	raw_finish(&r);
	CHECK_EQ(parse_raw(&r, &m), -1);
	CHECK_STR_CONTAINS(err, "attribute PORT_ID has 2 bytes, expected 4");
}

static void
refuses_nest_overrun(void)
{
	struct raw r;
	struct sy_msg m;
	size_t nest, inner;

	/* FLOW nest of 8 + 40 bytes whose FLOW_HDR claims 8 + 64 */
	raw_hdr(&r, SY_MSG_FLOW_MOD, 1);
	nest = raw_attr(&r, SY_A_FLOW, 8, 0);
	inner = raw_attr(&r, SY_A_FLOW_HDR, 8 + 32, 32);
	raw_attr(&r, SY_A_PORT_ID, 12, 4); /* after the nest, in the message */
	raw_set_attr_len(&r, nest, 8 + 40);
	raw_set_attr_len(&r, inner, 8 + 64);
	raw_finish(&r);
	CHECK_EQ(parse_raw(&r, &m), -1);
	CHECK_STR_CONTAINS(err, "attribute FLOW_HDR of 72 bytes runs past the end of FLOW (40 bytes left)");

	/* a nest whose payload is 4 stray bytes */
	raw_hdr(&r, SY_MSG_FLOW_MOD, 1);
	raw_attr(&r, SY_A_FLOW, 12, 4);
	raw_finish(&r);
	CHECK_EQ(parse_raw(&r, &m), -1);
	CHECK_STR_CONTAINS(err, "4 stray bytes at the end of FLOW");
}

static void
refuses_deep_nesting(void)
{
	struct raw r;
	struct sy_msg m;
	size_t at[8];

	raw_hdr(&r, SY_MSG_FLOW_MOD, 1);
	for (int i = 0; i < 6; i++)
		at[i] = raw_attr(&r, SY_A_FLOW, 8, 0);
	for (int i = 0; i < 6; i++)
		raw_set_attr_len(&r, at[i], (uint32_t)(8 * (6 - i)));
	raw_finish(&r);
	CHECK_EQ(parse_raw(&r, &m), -1);
	CHECK_STR_CONTAINS(err, "nested deeper than 4");
}

static void
refuses_string_without_nul(void)
{
	struct raw r;
	struct sy_msg m;

	raw_hdr(&r, SY_MSG_PORT_ADD, 1);
	raw_attr(&r, SY_A_PORT_NAME, 8 + 5, 5); /* "AAAAA", padding not counted */
	raw_finish(&r);
	CHECK_EQ(parse_raw(&r, &m), -1);
	CHECK_STR_CONTAINS(err, "attribute PORT_NAME is not a NUL-terminated string");

	raw_hdr(&r, SY_MSG_PORT_ADD, 1);
	raw_attr(&r, SY_A_PORT_NAME, 8, 0); /* empty payload */
	raw_finish(&r);
	CHECK_EQ(parse_raw(&r, &m), -1);
	CHECK_STR_CONTAINS(err, "attribute PORT_NAME is not a NUL-terminated string");
}

static void
refuses_string_too_long(void)
{
	struct sy_msgbuf b = { 0 };
	struct sy_msg m;
	char name[SY_NAME_MAX + 8];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	sy_msg_begin(&b, SY_MSG_PORT_ADD, 0, 1);
	sy_msg_put_str(&b, SY_A_PORT_NAME, name);
	CHECK_EQ(build_parse(&b, &m), -1);
	CHECK_STR_CONTAINS(err, "attribute PORT_NAME is a string of 39 bytes, at most 31 allowed");

	name[SY_NAME_MAX - 1] = '\0'; /* 31 characters: the most that fits */
	sy_msg_begin(&b, SY_MSG_PORT_ADD, 0, 1);
	sy_msg_put_str(&b, SY_A_PORT_NAME, name);
	CHECK_EQ(build_parse(&b, &m), 0);
	sy_msg_free(&b);
}

static void
refuses_too_many_actions(void)
{
	struct sy_msgbuf b = { 0 };
	struct sy_flow_mod fm, out;
	struct sy_action act;
	struct sy_msg m;

	/* the builder refuses to write one */
	sample_flow(&fm, 0);
	fm.n_actions = SY_MAX_ACTIONS + 1;
	sy_msg_begin(&b, SY_MSG_FLOW_MOD, 0, 1);
	sy_put_flow(&b, &fm, NULL);
	CHECK_EQ(sy_msg_finish(&b), -1);
	CHECK_EQ(b.error, EINVAL);

	/* the parser refuses one written by hand */
	fm.n_actions = 0;
	fill(&act, sizeof(act), 9);
	sy_msg_begin(&b, SY_MSG_FLOW_MOD, 0, 1);
	sy_msg_nest_begin(&b, SY_A_FLOW);
	sy_msg_put(&b, SY_A_FLOW_HDR, &fm.hdr, sizeof(fm.hdr));
	for (int i = 0; i < SY_MAX_ACTIONS + 1; i++)
		sy_msg_put(&b, SY_A_FLOW_ACTION, &act, sizeof(act));
	sy_msg_nest_end(&b);
	CHECK_EQ(build_parse(&b, &m), 0);
	CHECK_EQ(sy_get_flow(sy_msg_find(&m, SY_A_FLOW), &out, NULL, NULL, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "FLOW has more than 32 FLOW_ACTION attributes");
	sy_msg_free(&b);
}

static void
refuses_flow_without_header_or_with_duplicates(void)
{
	struct sy_msgbuf b = { 0 };
	struct sy_flow_mod fm, out;
	struct sy_msg m;

	sample_flow(&fm, 0);
	sy_msg_begin(&b, SY_MSG_FLOW_MOD, 0, 1);
	sy_msg_nest_begin(&b, SY_A_FLOW);
	sy_msg_put(&b, SY_A_FLOW_ACTION, &fm.actions[0], sizeof(fm.actions[0]));
	sy_msg_nest_end(&b);
	CHECK_EQ(build_parse(&b, &m), 0);
	CHECK_EQ(sy_get_flow(sy_msg_find(&m, SY_A_FLOW), &out, NULL, NULL, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "missing attribute FLOW_HDR in FLOW");

	sy_msg_begin(&b, SY_MSG_FLOW_MOD, 0, 1);
	sy_msg_nest_begin(&b, SY_A_FLOW);
	sy_msg_put(&b, SY_A_FLOW_HDR, &fm.hdr, sizeof(fm.hdr));
	sy_msg_put(&b, SY_A_FLOW_HDR, &fm.hdr, sizeof(fm.hdr));
	sy_msg_nest_end(&b);
	CHECK_EQ(build_parse(&b, &m), 0);
	CHECK_EQ(sy_get_flow(sy_msg_find(&m, SY_A_FLOW), &out, NULL, NULL, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "FLOW_HDR given twice");
	sy_msg_free(&b);
}

static void
frames_a_stream(void)
{
	struct sy_msg_hdr h;
	struct raw r;
	uint32_t need = 0;

	raw_hdr(&r, SY_MSG_ECHO, 1);
	raw_attr(&r, SY_A_PORT_ID, 12, 4);
	raw_finish(&r);
	CHECK_EQ(sy_msg_frame(r.buf, 5, &h, &need, err, sizeof(err)), SY_FRAME_SHORT);
	CHECK_EQ(need, 16);
	CHECK_EQ(sy_msg_frame(r.buf, 20, &h, &need, err, sizeof(err)), SY_FRAME_SHORT);
	CHECK_EQ(need, 32);
	CHECK_EQ(sy_msg_frame(r.buf, 40, &h, &need, err, sizeof(err)), SY_FRAME_OK);
	CHECK_EQ(need, 32);

	r.buf[0] = 9;
	CHECK_EQ(sy_msg_frame(r.buf, 32, &h, &need, err, sizeof(err)), SY_FRAME_FATAL);
	CHECK_STR_CONTAINS(err, "protocol version 9");
	CHECK_EQ(h.xid, 1);
	r.buf[0] = SY_PROTO_VERSION;
	memset(r.buf + 4, 0, 4);
	r.buf[4] = 8;
	CHECK_EQ(sy_msg_frame(r.buf, 32, &h, &need, err, sizeof(err)), SY_FRAME_FATAL);
	CHECK_STR_CONTAINS(err, "message length 8 is shorter");
	memset(r.buf + 4, 0xff, 4);
	CHECK_EQ(sy_msg_frame(r.buf, 32, &h, &need, err, sizeof(err)), SY_FRAME_FATAL);
	CHECK_STR_CONTAINS(err, "over the limit");
	/* not a multiple of 8: framed, then refused by the parser */
	memset(r.buf + 4, 0, 4);
	r.buf[4] = 20;
	CHECK_EQ(sy_msg_frame(r.buf, 32, &h, &need, err, sizeof(err)), SY_FRAME_OK);
	CHECK_EQ(need, 20);
}

/* ------------------------------------------------------------------ */
/* Builder limits */

static void
builder_error_is_sticky_past_the_limit(void)
{
	struct sy_msgbuf b = { 0 };

	sy_msg_begin(&b, SY_MSG_FLOW_DUMP, SY_MSGF_REPLY, 1);
	CHECK(sy_msg_put(&b, SY_A_PACKET, NULL, SY_MSG_MAX) == NULL);
	CHECK_EQ(b.error, EMSGSIZE);
	sy_msg_put_u32(&b, SY_A_PORT_ID, 1); /* no-op now */
	CHECK_EQ(b.len, 16);
	CHECK_EQ(sy_msg_finish(&b), -1);
	/* begin clears the error */
	sy_msg_begin(&b, SY_MSG_ECHO, 0, 2);
	CHECK_EQ(sy_msg_finish(&b), 0);
	sy_msg_free(&b);
}

static void
builder_refuses_unbalanced_nests(void)
{
	struct sy_msgbuf b = { 0 };

	sy_msg_begin(&b, SY_MSG_FLOW_MOD, 0, 1);
	sy_msg_nest_begin(&b, SY_A_FLOW);
	CHECK_EQ(sy_msg_finish(&b), -1);
	CHECK_EQ(b.error, EINVAL);
	sy_msg_begin(&b, SY_MSG_FLOW_MOD, 0, 1);
	sy_msg_nest_end(&b);
	CHECK_EQ(sy_msg_finish(&b), -1);
	/* put before begin */
	sy_msg_free(&b);
	CHECK(sy_msg_put(&b, SY_A_PORT_ID, NULL, 4) == NULL);
	CHECK_EQ(b.error, EINVAL);
	sy_msg_free(&b);
}

static void
builder_grows_for_a_big_dump(void)
{
	struct sy_msgbuf b = { 0 };
	struct sy_flow_mod fm;
	struct sy_msg m;
	size_t len;
	uint8_t *p;

	sample_flow(&fm, 2);
	sy_msg_begin(&b, SY_MSG_FLOW_DUMP, SY_MSGF_REPLY, 1);
	for (int i = 0; i < 20000; i++) {
		fm.hdr.priority = (uint16_t)i;
		sy_put_flow(&b, &fm, NULL);
	}
	CHECK_EQ(build_parse(&b, &m), 0);
	CHECK_EQ(sy_msg_count(&m, SY_A_FLOW), 20000);
	p = sy_msg_steal(&b, &len);
	CHECK(p != NULL && len == m.hdr.length);
	CHECK(b.data == NULL && b.len == 0);
	free(p);
}

/* ------------------------------------------------------------------ */
/* Random mutations */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static void
random_mutations_never_crash(void)
{
	struct sy_msgbuf seeds[4] = { { 0 } };
	struct sy_flow_mod fm;
	struct sy_port_desc pd;
	struct sy_flow_stats st = { 5, 6, 7, 8 };
	uint8_t *buf = NULL;
	unsigned int ok = 0, refused = 0, iters = 200000;
	const char *env = getenv("SY_FUZZ_ITERS");

	if (env != NULL)
		iters = (unsigned int)strtoul(env, NULL, 10);

	sample_flow(&fm, 3);
	fill(&pd, sizeof(pd), 11);
	sy_msg_begin(&seeds[0], SY_MSG_FLOW_MOD, 0, 1);
	sy_put_flow(&seeds[0], &fm, NULL);
	sy_put_flow(&seeds[0], &fm, &st);
	sy_msg_begin(&seeds[1], SY_MSG_PORT_ADD, 0, 2);
	sy_msg_put_str(&seeds[1], SY_A_PORT_NAME, "p1");
	sy_msg_put_str(&seeds[1], SY_A_PORT_DEVARGS, "net_null0");
	sy_msg_put_u32(&seeds[1], SY_A_PORT_MTU, 1500);
	sy_msg_begin(&seeds[2], SY_MSG_PORT_LIST, SY_MSGF_REPLY, 3);
	sy_put_port_desc(&seeds[2], &pd);
	sy_msg_put(&seeds[2], SY_A_PACKET, "abcdefghij", 10);
	sy_msg_error(&seeds[3], 4, SY_E_INVAL, 1, "bad flow");
	for (int i = 0; i < 4; i++)
		CHECK_EQ(sy_msg_finish(&seeds[i]), 0);

	for (unsigned int n = 0; n < iters; n++) {
		const struct sy_msgbuf *s = &seeds[rnd() % 4];
		size_t len = s->len;
		unsigned int muts = 1 + rnd() % 6;
		struct sy_msg_hdr h;
		struct sy_msg m;
		uint32_t need;

		/* an exact-size heap copy, so ASan sees any read past the end */
		free(buf);
		buf = malloc(len + 64);
		memcpy(buf, s->data, len);
		for (unsigned int k = 0; k < muts; k++) {
			size_t at = rnd() % len;

			switch (rnd() % 6) {
			case 0: /* flip a bit */
				buf[at] ^= (uint8_t)(1u << (rnd() % 8));
				break;
			case 1: /* a random byte */
				buf[at] = (uint8_t)rnd();
				break;
			case 2: { /* a random length field of an attribute or header */
				size_t p = len >= 8 ? (rnd() % (len / 8)) * 8 + 4 : len;
				uint32_t v = rnd() % 3 ? rnd() % 512 : rnd();

				if (p + 4 <= len)
					memcpy(buf + p, &v, 4);
				break;
			}
			case 3: /* truncate */
				len = at;
				break;
			case 4: /* extend with garbage */
				if (len + 8 <= s->len + 64) {
					for (int j = 0; j < 8; j++)
						buf[len + j] = (uint8_t)rnd();
					len += 8;
				}
				break;
			case 5: { /* keep the header length in step */
				uint32_t l = (uint32_t)len;

				if (len >= 16)
					memcpy(buf + 4, &l, 4);
				break;
			}
			}
			if (len == 0)
				break;
		}
		{
			uint8_t *exact = malloc(len ? len : 1);

			memcpy(exact, buf, len);
			sy_msg_frame(exact, len, &h, &need, err, sizeof(err));
			if (sy_msg_parse(exact, len, &m, err, sizeof(err)) == 0) {
				ok++;
				CHECK(sy_codec_consume(&m) == 0);
			} else {
				refused++;
				CHECK(err[0] != '\0');
			}
			free(exact);
		}
	}
	free(buf);
	for (int i = 0; i < 4; i++)
		sy_msg_free(&seeds[i]);
	printf("     %u mutated messages: %u parsed, %u refused\n", iters, ok, refused);
	CHECK(ok > 0 && refused > 0);
}

int
main(void)
{
	RUN(builds_header_and_pads_attributes);
	RUN(round_trips_scalars_and_strings);
	RUN(round_trips_port_desc_and_stats);
	RUN(round_trips_table_dp_stats_and_info);
	RUN(getters_terminate_fixed_strings);
	RUN(round_trips_flows_with_and_without_stats);
	RUN(round_trips_error_messages);
	RUN(echo_copies_raw_attributes);
	RUN(skips_unknown_attribute_types);
	RUN(refuses_short_header);
	RUN(refuses_bad_version);
	RUN(refuses_length_not_multiple_of_8);
	RUN(refuses_length_mismatch_and_oversize);
	RUN(refuses_attribute_overrun);
	RUN(refuses_attribute_shorter_than_header);
	RUN(round_trips_port_bond);
	RUN(round_trips_port_edge);
	RUN(refuses_fixed_attribute_of_wrong_size);
	RUN(refuses_nest_overrun);
	RUN(refuses_deep_nesting);
	RUN(refuses_string_without_nul);
	RUN(refuses_string_too_long);
	RUN(refuses_too_many_actions);
	RUN(refuses_flow_without_header_or_with_duplicates);
	RUN(frames_a_stream);
	RUN(builder_error_is_sticky_past_the_limit);
	RUN(builder_refuses_unbalanced_nests);
	RUN(builder_grows_for_a_big_dump);
	RUN(random_mutations_never_crash);
	return sy_test_summary();
}
