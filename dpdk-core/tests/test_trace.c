/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_trace.c — the TRACE request (trace.h) against the real tables and
 * net_ring ports: what it reports for a cascade with goto_table and
 * set_field, a table miss (drop and continue), dec_ttl expiry, flood, VLAN
 * push and an output before a rewrite; that each of those agrees, byte for
 * byte, with what the same frame really does when sent through the
 * pipeline; that no counter moves (ports, drops, tables, flows, PMD,
 * copies) and nothing is sent while tracing; and that malformed requests
 * are refused with an error naming what is wrong.
 *
 * Requests and replies go through the codec (sy_msg_parse and the trace
 * getters), as they do between the control server and the addon.
 */
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <switchyard/codec.h>

#include "datapath.h"
#include "pipeline.h"
#include "sy_flowmod.h"
#include "sy_pkt.h"
#include "sy_test.h"
#include "trace.h"

enum { A = 1, B = 2, C = 3, D = 4, E = 5 }; /* D is down; C and E have MTU 9600 */
static uint16_t dpdk[6];
static struct pl_lcore *lc;

#define MAX_OUT 8
#define MAX_STEPS 8
#define MAX_ACTS 8
#define FRAME_MAX 9700

/* A trace reply, decoded. */
struct result {
	int code; /* 0, or the error code of an ERROR */
	char errmsg[SY_ERRMSG_MAX];
	bool has_key;
	struct sy_flow_key key, mask;
	unsigned int n_steps;
	struct {
		uint32_t table;
		bool hit;
		uint32_t miss;
		uint16_t priority;
		uint64_t cookie;
		unsigned int n_acts;
		struct {
			struct sy_action a;
			unsigned int n_changes;
			struct sy_trace_change c[4];
		} act[MAX_ACTS];
	} step[MAX_STEPS];
	unsigned int n_out;
	struct {
		uint32_t port;
		uint32_t len;
		uint8_t frame[FRAME_MAX];
	} out[MAX_OUT];
	unsigned int n_drops;
	uint32_t drop[8];
};

static struct result res;

/* --- requests --- */

/* Sends a TRACE request (through the codec) and decodes the reply into res.
 * port 0: no PORT_ID; frame NULL: no PACKET. */
static void
trace(uint32_t port, const uint8_t *frame, size_t len)
{
	struct sy_msgbuf req = { 0 }, reply = { 0 };
	struct sy_error err = { .index = -1 };
	char why[SY_CODEC_ERR_MAX];
	struct sy_attr_iter it;
	const struct sy_attr *a;
	struct sy_msg m;

	memset(&res, 0, sizeof(res));
	sy_msg_begin(&req, SY_MSG_TRACE, 0, 7);
	if (port)
		sy_msg_put_u32(&req, SY_A_PORT_ID, port);
	if (frame)
		sy_msg_put(&req, SY_A_PACKET, frame, len);
	CHECK_EQ(sy_msg_finish(&req), 0);
	CHECK_EQ(sy_msg_parse(req.data, req.len, &m, why, sizeof(why)), 0);

	sy_msg_begin(&reply, SY_MSG_TRACE, SY_MSGF_REPLY, 7);
	if (trace_request(&m, &reply, &err) < 0) {
		res.code = err.code;
		snprintf(res.errmsg, sizeof(res.errmsg), "%s", err.msg);
		sy_msg_free(&req);
		sy_msg_free(&reply);
		return;
	}
	CHECK_EQ(sy_msg_finish(&reply), 0);
	CHECK_EQ(sy_msg_parse(reply.data, reply.len, &m, why, sizeof(why)), 0);
	sy_attr_iter_msg(&it, &m);
	while (sy_attr_next(&it, &a) > 0) {
		switch (a->type) {
		case SY_A_TRACE_KEY:
			CHECK_EQ(sy_get_trace_key(a, &res.key, &res.mask, why, sizeof(why)), 0);
			res.has_key = true;
			break;
		case SY_A_TRACE_STEP: {
			static struct sy_trace_step st;
			struct sy_attr_iter ai;
			const struct sy_attr *x;

			CHECK_EQ(sy_get_trace_step(a, &st, why, sizeof(why)), 0);
			if (res.n_steps == MAX_STEPS)
				break;
			res.step[res.n_steps].table = st.table_id;
			res.step[res.n_steps].hit = st.hit;
			res.step[res.n_steps].miss = st.miss;
			res.step[res.n_steps].priority = st.entry.hdr.priority;
			res.step[res.n_steps].cookie = st.entry.hdr.cookie;
			sy_attr_iter_nest(&ai, a);
			while (sy_attr_next(&ai, &x) > 0) {
				unsigned int k = res.step[res.n_steps].n_acts;

				if (x->type != SY_A_TRACE_ACTION || k == MAX_ACTS)
					continue;
				CHECK_EQ(sy_get_trace_action(x, &res.step[res.n_steps].act[k].a,
							     res.step[res.n_steps].act[k].c, 4,
							     &res.step[res.n_steps].act[k].n_changes, why,
							     sizeof(why)), 0);
				res.step[res.n_steps].n_acts++;
			}
			CHECK_EQ(res.step[res.n_steps].n_acts, st.n_actions);
			res.n_steps++;
			break;
		}
		case SY_A_TRACE_OUTPUT: {
			const uint8_t *f;
			uint32_t n;

			if (res.n_out == MAX_OUT)
				break;
			CHECK_EQ(sy_get_trace_output(a, &res.out[res.n_out].port, &f, &n, why,
						     sizeof(why)), 0);
			if (n <= sizeof(res.out[0].frame)) {
				memcpy(res.out[res.n_out].frame, f, n);
				res.out[res.n_out].len = n;
			}
			res.n_out++;
			break;
		}
		case SY_A_TRACE_DROP:
			if (res.n_drops < 8)
				sy_attr_get_u32(a, &res.drop[res.n_drops++], why, sizeof(why));
			break;
		}
	}
	sy_msg_free(&req);
	sy_msg_free(&reply);
}

/* --- counters: everything a trace must leave as it is --- */

struct counters {
	struct sy_port_stats port[6];
	struct sy_table_desc table[4];
	uint64_t flow_packets, flow_bytes;
	struct sy_pmd_stats pmd;
	struct sy_dp_stats dp;
};

static void
port_cb(const struct sy_port_stats *st, void *arg)
{
	struct counters *c = arg;

	if (st->id < 6)
		c->port[st->id] = *st;
}

static void
table_cb(const struct sy_table_desc *d, void *arg)
{
	struct counters *c = arg;

	if (d->id < 4)
		c->table[d->id] = *d;
}

static void
flow_cb(const struct sy_flow_mod *e, const struct sy_flow_stats *st, void *arg)
{
	struct counters *c = arg;

	c->flow_packets += st->packets;
	c->flow_bytes += st->bytes;
}

static void
pmd_cb(const struct sy_pmd_stats *st, void *arg)
{
	struct counters *c = arg;

	c->pmd = *st;
}

static void
counters(struct counters *c)
{
	struct sy_error err;

	memset(c, 0, sizeof(*c));
	dp_port_stats(0, port_cb, c, &err);
	dp_table_list(table_cb, c);
	dp_flow_dump(NULL, flow_cb, c, &err);
	dp_pmd_stats(pmd_cb, c);
	dp_stats(&c->dp);
}

/* trace(), checking that no counter moved, nothing was sent and every
 * mbuf it took went back to the pool. */
static void
trace_quietly(uint32_t port, const uint8_t *frame, size_t len)
{
	struct counters before, after;
	struct rte_mbuf *m[4];
	unsigned int avail = rte_mempool_avail_count(dp.pool);

	counters(&before);
	trace(port, frame, len);
	counters(&after);
	CHECK(memcmp(&before, &after, sizeof(before)) == 0);
	CHECK_EQ(rte_mempool_avail_count(dp.pool), avail);
	for (uint32_t id = A; id <= E; id++)
		CHECK_EQ(rte_eth_rx_burst(dpdk[id], 0, m, 4), 0);
}

/* --- real packets --- */

struct sent {
	unsigned int n[6];
	uint32_t len[6];
	uint8_t frame[6][FRAME_MAX];
};

/* Sends frame into port in (in 2 KB segments, as scattered rx delivers a
 * jumbo frame) through the pipeline; what every other port sent. */
static void
send_real(uint32_t in, const uint8_t *frame, size_t len, struct sent *s)
{
	struct rte_mbuf *m = pkt_mbuf(dp.pool, frame, len, 2048);

	memset(s, 0, sizeof(*s));
	CHECK_EQ(rte_eth_tx_burst(dpdk[in], 0, &m, 1), 1);
	pl_run_once(lc);
	for (uint32_t id = A; id <= E; id++) {
		struct rte_mbuf *out[4];
		unsigned int n = rte_eth_rx_burst(dpdk[id], 0, out, 4);

		for (unsigned int i = 0; i < n; i++) {
			s->len[id] = rte_pktmbuf_pkt_len(out[i]);
			memcpy(s->frame[id], rte_pktmbuf_read(out[i], 0, s->len[id], s->frame[id]),
			       s->len[id]);
			rte_pktmbuf_free(out[i]);
		}
		s->n[id] = n;
	}
}

/* The trace in res says what the frame, arriving on port in, really does:
 * the same ports, the same bytes on each, the same drops counted. */
static void
check_agrees_on(uint32_t in, const uint8_t *frame, size_t len)
{
	static struct sent s;
	struct counters before, after;
	unsigned int n_real = 0;
	uint64_t want[SY_DROP__MAX] = { 0 };

	counters(&before);
	send_real(in, frame, len, &s);
	counters(&after);
	for (uint32_t id = A; id <= E; id++)
		n_real += s.n[id];
	CHECK_EQ(n_real, res.n_out);
	for (unsigned int i = 0; i < res.n_drops; i++)
		want[res.drop[i]]++;
	for (unsigned int r = 0; r < SY_DROP__MAX; r++)
		CHECK_EQ(after.dp.drops[r] - before.dp.drops[r], want[r]);
	for (unsigned int i = 0; i < res.n_out; i++) {
		uint32_t id = res.out[i].port;

		CHECK(id >= A && id <= E);
		if (id < A || id > E)
			continue;
		CHECK_EQ(s.n[id], 1);
		CHECK_EQ(s.len[id], res.out[i].len);
		CHECK(memcmp(s.frame[id], res.out[i].frame, res.out[i].len) == 0);
	}
}

static void
check_agrees(const uint8_t *frame, size_t len)
{
	check_agrees_on(A, frame, len);
}

/* --- flows --- */


static void
reset(void)
{
	struct sy_table_desc d = { 0 };
	struct sy_error err;

	sy_test_flow_mod(fm_new(SY_FC_DELETE, SY_TABLE_ALL, 0));
	for (uint32_t t = 0; t < 4; t++) {
		d.id = t;
		dp_table_mod(&d, NULL, &err);
	}
	dp_barrier();
}

static struct sy_action
set_field(enum sy_field_id f, const void *value)
{
	struct sy_action a = { .type = SY_ACT_SET_FIELD, .field = (uint16_t)f };

	memcpy(a.value.bytes, value, sy_fields[f].width);
	return a;
}

static struct sy_action
simple(enum sy_action_type t, uint32_t arg)
{
	return (struct sy_action){ .type = (uint16_t)t, .arg = arg };
}

static size_t
frame_of(const struct pkt_spec *s, uint8_t *out)
{
	return pkt_build(s, out);
}

static uint32_t
u32_of(const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return v;
}

static uint16_t
u16_of(const uint8_t *b)
{
	uint16_t v;

	memcpy(&v, b, 2);
	return v;
}

/* --- cases --- */

/* table 0: ip,in_port=A -> set nw_dst, goto_table:1 (cookie 0x11);
 * table 1: ip,nw_dst=10.0.0.9 -> dec_ttl, output:B */
static void
cascade_rewrite(void)
{
	struct sy_flow_mod *t0 = fm_new(SY_FC_ADD, 0, 100), *t1 = fm_new(SY_FC_ADD, 1, 200);
	uint32_t nine = 0x0a000009;
	struct pkt_spec s = pkt_default(), w = s;
	uint8_t in[2048], want[2048];
	size_t len = frame_of(&s, in), want_len;

	reset();
	MATCH(t0, dl_type, 0x0800, 0xffff);
	MATCH(t0, in_port, A, UINT32_MAX);
	t0->hdr.cookie = 0x11;
	act(t0, set_field(SY_F_NW_DST, &nine));
	act(t0, goto_table(1));
	sy_test_flow_mod(t0);
	MATCH(t1, dl_type, 0x0800, 0xffff);
	MATCH(t1, nw_dst, nine, UINT32_MAX);
	act(t1, simple(SY_ACT_DEC_TTL, 0));
	act(t1, output(B));
	sy_test_flow_mod(t1);
	dp_barrier();

	trace_quietly(A, in, len);
	CHECK_EQ(res.code, 0);
	CHECK(res.has_key);
	CHECK_EQ(res.key.in_port, A);
	CHECK_EQ(res.key.nw_dst, 0x0a000002);
	CHECK_EQ(res.key.tp_dst, 2000);
	CHECK_EQ(res.mask.nw_dst, UINT32_MAX);
	CHECK_EQ(res.mask.tp_dst, 0xffff);
	CHECK_EQ(res.mask.tcp_flags, 0); /* UDP: no TCP flags */
	CHECK_EQ(res.mask.ipv6_src[0], 0);
	CHECK_EQ(res.mask.vlan_tci, 0); /* untagged */

	CHECK_EQ(res.n_steps, 2);
	CHECK_EQ(res.step[0].table, 0);
	CHECK(res.step[0].hit);
	CHECK_EQ(res.step[0].priority, 100);
	CHECK_EQ(res.step[0].cookie, 0x11);
	CHECK_EQ(res.step[0].n_acts, 2);
	CHECK_EQ(res.step[0].act[0].a.type, SY_ACT_SET_FIELD);
	CHECK_EQ(res.step[0].act[0].n_changes, 1);
	CHECK_EQ(res.step[0].act[0].c[0].field, SY_F_NW_DST);
	CHECK_EQ(u32_of(res.step[0].act[0].c[0].before), 0x0a000002);
	CHECK_EQ(u32_of(res.step[0].act[0].c[0].after), nine);
	CHECK_EQ(res.step[0].act[1].a.type, SY_ACT_GOTO_TABLE);
	CHECK_EQ(res.step[0].act[1].n_changes, 0);
	CHECK_EQ(res.step[1].table, 1);
	CHECK_EQ(res.step[1].priority, 200);
	CHECK_EQ(res.step[1].n_acts, 2);
	CHECK_EQ(res.step[1].act[0].a.type, SY_ACT_DEC_TTL);
	CHECK_EQ(res.step[1].act[0].n_changes, 1);
	CHECK_EQ(res.step[1].act[0].c[0].field, SY_F_NW_TTL);
	CHECK_EQ(res.step[1].act[0].c[0].before[0], 64);
	CHECK_EQ(res.step[1].act[0].c[0].after[0], 63);
	CHECK_EQ(res.step[1].act[1].a.type, SY_ACT_OUTPUT);

	CHECK_EQ(res.n_drops, 0);
	CHECK_EQ(res.n_out, 1);
	CHECK_EQ(res.out[0].port, B);
	w.ip_dst = nine;
	w.ttl = 63;
	want_len = frame_of(&w, want);
	CHECK_EQ(res.out[0].len, want_len);
	CHECK(memcmp(res.out[0].frame, want, want_len) == 0); /* checksums too */
	check_agrees(in, len);
}

/* table 0 drops on a miss; then continues to table 1 on a miss */
static void
table_miss(void)
{
	struct sy_flow_mod *t1 = fm_new(SY_FC_ADD, 1, 10);
	struct sy_table_desc d = { .id = 0, .miss = SY_MISS_CONTINUE };
	struct pkt_spec s = pkt_default();
	struct sy_error err;
	uint8_t in[2048];
	size_t len = frame_of(&s, in);

	reset();
	act(t1, output(C));
	sy_test_flow_mod(t1);
	dp_barrier();

	trace_quietly(A, in, len);
	CHECK_EQ(res.n_steps, 1);
	CHECK(!res.step[0].hit);
	CHECK_EQ(res.step[0].miss, SY_MISS_DROP);
	CHECK_EQ(res.step[0].n_acts, 0);
	CHECK_EQ(res.n_out, 0);
	CHECK_EQ(res.n_drops, 1);
	CHECK_EQ(res.drop[0], SY_DROP_TABLE_MISS);
	check_agrees(in, len);

	CHECK_EQ(dp_table_mod(&d, NULL, &err), 0);
	trace_quietly(A, in, len);
	CHECK_EQ(res.n_steps, 2);
	CHECK_EQ(res.step[0].miss, SY_MISS_CONTINUE);
	CHECK(res.step[1].hit);
	CHECK_EQ(res.step[1].table, 1);
	CHECK_EQ(res.n_out, 1);
	CHECK_EQ(res.out[0].port, C);
	CHECK_EQ(res.n_drops, 0);
	check_agrees(in, len);
}

static void
dec_ttl_expiry(void)
{
	struct sy_flow_mod *t0 = fm_new(SY_FC_ADD, 0, 1);
	struct pkt_spec s = pkt_default();
	uint8_t in[2048];
	size_t len;

	reset();
	act(t0, simple(SY_ACT_DEC_TTL, 0));
	act(t0, output(B));
	sy_test_flow_mod(t0);
	dp_barrier();
	s.ttl = 1;
	len = frame_of(&s, in);

	trace_quietly(A, in, len);
	CHECK_EQ(res.n_steps, 1);
	CHECK_EQ(res.step[0].n_acts, 1); /* the output never runs */
	CHECK_EQ(res.step[0].act[0].a.type, SY_ACT_DEC_TTL);
	CHECK_EQ(res.step[0].act[0].n_changes, 0);
	CHECK_EQ(res.n_out, 0);
	CHECK_EQ(res.n_drops, 1);
	CHECK_EQ(res.drop[0], SY_DROP_TTL_EXPIRED);
	check_agrees(in, len);
}

/* flood: every admin-up port but the ingress one (D is down) */
static void
flood(void)
{
	struct sy_flow_mod *t0 = fm_new(SY_FC_ADD, 0, 1);
	struct pkt_spec s = pkt_default();
	uint8_t in[2048];
	size_t len = frame_of(&s, in);

	reset();
	act(t0, output(SY_PORT_FLOOD));
	sy_test_flow_mod(t0);
	dp_barrier();

	trace_quietly(A, in, len);
	CHECK_EQ(res.n_out, 3);
	CHECK_EQ(res.out[0].port, B);
	CHECK_EQ(res.out[1].port, C);
	CHECK_EQ(res.out[2].port, E);
	CHECK_EQ(res.n_drops, 0);
	for (unsigned int i = 0; i < res.n_out; i++)
		CHECK(res.out[i].len == len && memcmp(res.out[i].frame, in, len) == 0);
	check_agrees(in, len);
}

/* push_vlan, mod_vlan_vid:10, output:B; then output:D (down) */
static void
vlan_push_and_refused_output(void)
{
	struct sy_flow_mod *t0 = fm_new(SY_FC_ADD, 0, 1);
	uint16_t vid10 = 0x100a;
	struct sy_action vid = set_field(SY_F_VLAN_TCI, &vid10);
	struct pkt_spec s = pkt_default(), w = s;
	uint8_t in[2048], want[2048];
	size_t len = frame_of(&s, in), want_len;

	reset();
	vid.mask = 0x1fff;
	act(t0, simple(SY_ACT_PUSH_VLAN, 0x8100));
	act(t0, vid);
	act(t0, output(B));
	act(t0, output(D));
	sy_test_flow_mod(t0);
	dp_barrier();

	trace_quietly(A, in, len);
	CHECK_EQ(res.step[0].n_acts, 4);
	CHECK_EQ(res.step[0].act[0].n_changes, 1);
	CHECK_EQ(res.step[0].act[0].c[0].field, SY_F_VLAN_TCI);
	CHECK_EQ(u16_of(res.step[0].act[0].c[0].before), 0);
	CHECK_EQ(u16_of(res.step[0].act[0].c[0].after), SY_VLAN_PRESENT);
	CHECK_EQ(u16_of(res.step[0].act[1].c[0].before), SY_VLAN_PRESENT);
	CHECK_EQ(u16_of(res.step[0].act[1].c[0].after), 0x100a);
	CHECK_EQ(res.n_out, 1);
	CHECK_EQ(res.out[0].port, B);
	CHECK_EQ(res.n_drops, 1);
	CHECK_EQ(res.drop[0], SY_DROP_PORT_DOWN);
	w.n_vlan = 1;
	w.tci[0] = 10;
	want_len = frame_of(&w, want);
	CHECK_EQ(res.out[0].len, want_len);
	CHECK(memcmp(res.out[0].frame, want, want_len) == 0);
	check_agrees(in, len);
}

/* output:B, then a rewrite, then output:C: B gets the frame as it was */
static void
output_before_rewrite(void)
{
	struct sy_flow_mod *t0 = fm_new(SY_FC_ADD, 0, 1);
	uint16_t port = 53;
	struct pkt_spec s = pkt_default(), w = s;
	uint8_t in[2048], want[2048];
	size_t len = frame_of(&s, in), want_len;

	reset();
	act(t0, output(B));
	act(t0, set_field(SY_F_TP_DST, &port));
	act(t0, output(C));
	sy_test_flow_mod(t0);
	dp_barrier();

	trace_quietly(A, in, len);
	CHECK_EQ(res.n_out, 2);
	CHECK_EQ(res.out[0].port, B);
	CHECK(res.out[0].len == len && memcmp(res.out[0].frame, in, len) == 0);
	CHECK_EQ(res.out[1].port, C);
	w.dport = 53;
	want_len = frame_of(&w, want);
	CHECK(res.out[1].len == want_len && memcmp(res.out[1].frame, want, want_len) == 0);
	CHECK_EQ(res.step[0].act[1].c[0].field, SY_F_TP_DST);
	CHECK_EQ(u16_of(res.step[0].act[1].c[0].after), 53);
	check_agrees(in, len);
}

/* no actions at all: action_drop; a frame too short to parse: runt */
static void
drops_without_steps(void)
{
	struct sy_flow_mod *t0 = fm_new(SY_FC_ADD, 0, 1);
	struct pkt_spec s = pkt_default();
	uint8_t in[2048];
	size_t len = frame_of(&s, in);

	reset();
	sy_test_flow_mod(t0);
	dp_barrier();
	trace_quietly(A, in, len);
	CHECK_EQ(res.n_steps, 1);
	CHECK_EQ(res.n_drops, 1);
	CHECK_EQ(res.drop[0], SY_DROP_ACTION_DROP);
	check_agrees(in, len);

	trace_quietly(A, in, 10);
	CHECK_EQ(res.code, 0);
	CHECK(!res.has_key);
	CHECK_EQ(res.n_steps, 0);
	CHECK_EQ(res.n_drops, 1);
	CHECK_EQ(res.drop[0], SY_DROP_RUNT);
}

/* a 9000-byte frame (chained mbufs) from C to E, both of MTU 9600, with
 * a rewrite; to B (MTU 1500) it is too big */
static void
jumbo_chained(void)
{
	struct sy_flow_mod *t0 = fm_new(SY_FC_ADD, 0, 1);
	uint16_t port = 99;
	static uint8_t in[9100], want[9100];
	struct pkt_spec s = pkt_default(), w;
	size_t len;

	reset();
	MATCH(t0, in_port, C, UINT32_MAX);
	act(t0, set_field(SY_F_TP_SRC, &port));
	act(t0, output(E));
	act(t0, output(B));
	sy_test_flow_mod(t0);
	dp_barrier();
	s.payload = 9000 - 14 - 20 - 8;
	len = frame_of(&s, in);
	CHECK_EQ(len, 9000);
	w = s;
	w.sport = 99;
	frame_of(&w, want);

	trace_quietly(C, in, len);
	CHECK_EQ(res.code, 0);
	CHECK_EQ(res.n_out, 1);
	CHECK_EQ(res.out[0].port, E);
	CHECK(res.out[0].len == len && memcmp(res.out[0].frame, want, len) == 0);
	CHECK_EQ(res.n_drops, 1);
	CHECK_EQ(res.drop[0], SY_DROP_TOO_BIG);
	check_agrees_on(C, in, len);

	trace_quietly(A, in, len); /* A has the default MTU: refused */
	CHECK_EQ(res.code, SY_E_INVAL);
	CHECK_STR_CONTAINS(res.errmsg, "longer than port 1 receives");
}

static void
bad_requests(void)
{
	uint8_t in[64] = { 0 };

	trace_quietly(0, in, sizeof(in));
	CHECK_EQ(res.code, SY_E_INVAL);
	CHECK_STR_CONTAINS(res.errmsg, "missing attribute PORT_ID");
	trace_quietly(A, NULL, 0);
	CHECK_EQ(res.code, SY_E_INVAL);
	CHECK_STR_CONTAINS(res.errmsg, "missing attribute PACKET");
	trace_quietly(A, in, 0);
	CHECK_EQ(res.code, SY_E_INVAL);
	CHECK_STR_CONTAINS(res.errmsg, "the frame is empty");
	trace_quietly(9, in, sizeof(in));
	CHECK_EQ(res.code, SY_E_NOENT);
	CHECK_STR_CONTAINS(res.errmsg, "port 9 does not exist");
}

int
main(void)
{
	struct dp_config cfg = { .n_mbufs = 4096, .max_flows = 1000 };

	lc = sy_test_dp_start("trace", &cfg);
	if (lc == NULL)
		return 1;
	dpdk[A] = sy_test_port_add("a", "net_ring0", A, 0, 1);
	dpdk[B] = sy_test_port_add("b", "net_ring1", B, 0, 1);
	dpdk[C] = sy_test_port_add("c", "net_ring2", C, 9600, 1);
	dpdk[D] = sy_test_port_add("d", "net_ring3", D, 0, 0);
	dpdk[E] = sy_test_port_add("e", "net_ring4", E, 9600, 1);

	RUN(cascade_rewrite);
	RUN(table_miss);
	RUN(dec_ttl_expiry);
	RUN(flood);
	RUN(vlan_push_and_refused_output);
	RUN(output_before_rewrite);
	RUN(drops_without_steps);
	RUN(jumbo_chained);
	RUN(bad_requests);

	dp_fini();
	sy_test_eal_fini();
	return sy_test_summary();
}
