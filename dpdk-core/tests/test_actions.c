/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_actions.c — act_run() on real mbufs and net_ring ports: the bytes on
 * the wire after every rewrite (compared with a frame built with those
 * values and DPDK's own checksums), VLAN push/pop, dec_ttl and its expiry,
 * output rules (in_port, flood, down, missing, too big) and the reference
 * counting of multiple outputs; zero copy (the mbuf received is the mbuf
 * sent, and the copies counter moves only for a rewrite after an output);
 * 9000-byte frames in chained mbufs, rewritten in place.
 *
 * net_ring ports loop back: what the switch sends on a port can be read
 * with rte_eth_rx_burst on that port.
 */
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "actions.h"
#include "datapath.h"
#include "meters.h"
#include "parse.h"
#include "pipeline.h"
#include "sy_act.h"
#include "sy_pkt.h"
#include "sy_test.h"

enum { A = 1, B = 2, C = 3, D = 4, E = 5, J = 6 }; /* D is down, E has MTU 100, J 9600 */
static uint16_t dpdk[7];
static struct pl_lcore *lc;

static void
add_port(const char *name, const char *devargs, uint32_t id, uint16_t mtu, int up)
{
	dpdk[id] = sy_test_port_add(name, devargs, id, mtu, up);
}

static uint64_t
tx_packets(uint32_t port)
{
	return sy_port_counters(port).tx_packets;
}

static void
clear_stats(void)
{
	sy_port_counters_clear();
}

/* Runs actions on frame as if received on port A; flushes the tx buffers.
 * Returns act_run()'s value; p is left as act_run() left it. */
static int
run(const uint8_t *frame, size_t len, size_t seg, const struct sy_action *a, unsigned int n,
    struct act_pkt *p)
{
	return sy_act_run_frame(lc, A, frame, len, seg, a, n, p);
}

/* What port id sent: at most max mbufs. */
static unsigned int
sent(uint32_t id, struct rte_mbuf **out, unsigned int max)
{
	return rte_eth_rx_burst(dpdk[id], 0, out, (uint16_t)max);
}

/* The one frame port id sent, into buf; returns its length, or 0. */
static size_t
sent_one(uint32_t id, uint8_t *buf)
{
	return sy_sent_one(dpdk[id], id, buf);
}

static struct sy_action
output(uint32_t port)
{
	return (struct sy_action){ .type = SY_ACT_OUTPUT, .arg = port };
}

static struct sy_action
set_field(enum sy_field_id f, const void *value, uint64_t mask)
{
	struct sy_action a = { .type = SY_ACT_SET_FIELD, .field = (uint16_t)f, .mask = mask };

	memcpy(a.value.bytes, value, sy_fields[f].width);
	return a;
}

/* Runs actions then output:B on s, expects B to send exactly want. */
static void
expect_rewrite(const struct pkt_spec *s, const struct sy_action *a, unsigned int n,
	       const struct pkt_spec *want_spec)
{
	uint8_t in[2048], want[2048], got[2048];
	size_t len = pkt_build(s, in), want_len = pkt_build(want_spec, want), got_len;
	struct sy_action acts[8];
	struct act_pkt p;

	memcpy(acts, a, n * sizeof(*a));
	acts[n] = output(B);
	CHECK_EQ(run(in, len, 0, acts, n + 1, &p), -1);
	got_len = sent_one(B, got);
	CHECK_EQ(got_len, want_len);
	CHECK(got_len == want_len && memcmp(got, want, want_len) == 0);
	if (want_spec->l3_type == 0x0800)
		CHECK_EQ(pkt_check_v4(got, 14 + 4u * (unsigned int)want_spec->n_vlan), 0);
	else if (want_spec->l3_type == 0x86dd && !want_spec->ip6_hbh)
		CHECK_EQ(pkt_check_v6(got, 14 + 4u * (unsigned int)want_spec->n_vlan), 0);
}

static void
output_one(void)
{
	uint8_t in[2048], got[2048];
	struct pkt_spec s = pkt_default();
	struct sy_action a[] = { output(B) };
	size_t len = pkt_build(&s, in);
	struct act_pkt p;

	clear_stats();
	CHECK_EQ(run(in, len, 0, a, 1, &p), -1);
	CHECK_EQ(sent_one(B, got), len);
	CHECK(memcmp(got, in, len) == 0);
	CHECK_EQ(tx_packets(B), 1);
	CHECK_EQ(sent(C, (struct rte_mbuf *[4]){ 0 }, 4), 0);
}

static void
set_ethernet(void)
{
	struct pkt_spec s = pkt_default(), w = s;
	const uint8_t dst[6] = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	const uint8_t src[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	struct sy_action a[] = { set_field(SY_F_DL_DST, dst, 0), set_field(SY_F_DL_SRC, src, 0) };

	memcpy(w.dst, dst, 6);
	memcpy(w.src, src, 6);
	expect_rewrite(&s, a, 2, &w);

	/* a masked set: only the last byte of dl_dst */
	struct sy_action m = set_field(SY_F_DL_DST, dst, 0);

	m.mask = 0;
	memcpy(&m.mask, (uint8_t[8]){ 0, 0, 0, 0, 0, 0xff }, 8);
	w = s;
	w.dst[5] = 0xff;
	expect_rewrite(&s, &m, 1, &w);
}

static void
set_ipv4_addresses(void)
{
	const uint8_t protos[] = { 17, 6, 1 };

	for (unsigned int i = 0; i < 3; i++) {
		struct pkt_spec s = pkt_default(), w;
		uint32_t src = 0xc0a80a0b, dst = 0x08080808;
		struct sy_action a[] = { set_field(SY_F_NW_SRC, &src, 0),
					 set_field(SY_F_NW_DST, &dst, 0) };

		s.proto = protos[i];
		w = s;
		w.ip_src = src;
		w.ip_dst = dst;
		expect_rewrite(&s, a, 2, &w);

		s.opt_len = 8; /* with options */
		w.opt_len = 8;
		expect_rewrite(&s, a, 2, &w);
	}

	/* UDP without a checksum keeps none */
	struct pkt_spec s = pkt_default(), w;
	uint32_t src = 0x01020304;
	struct sy_action a = set_field(SY_F_NW_SRC, &src, 0);

	s.udp_no_csum = true;
	w = s;
	w.ip_src = src;
	expect_rewrite(&s, &a, 1, &w);

	/* a masked set: the low 8 bits */
	s = pkt_default();
	src = 0x000000fe;
	a = set_field(SY_F_NW_SRC, &src, 0x000000ff);
	w = s;
	w.ip_src = (s.ip_src & 0xffffff00) | 0xfe;
	expect_rewrite(&s, &a, 1, &w);
}

static void
set_ports(void)
{
	const uint8_t protos[] = { 17, 6 };

	for (unsigned int i = 0; i < 2; i++) {
		struct pkt_spec s = pkt_default(), w;
		uint16_t sp = 5353, dpo = 65535;
		struct sy_action a[] = { set_field(SY_F_TP_SRC, &sp, 0),
					 set_field(SY_F_TP_DST, &dpo, 0) };

		s.proto = protos[i];
		w = s;
		w.sport = sp;
		w.dport = dpo;
		expect_rewrite(&s, a, 2, &w);

		s.l3_type = w.l3_type = 0x86dd;
		expect_rewrite(&s, a, 2, &w);
	}
}

static void
set_tos_ttl(void)
{
	struct pkt_spec s = pkt_default(), w;
	uint8_t tos = 0xb8, ttl = 3;
	struct sy_action a[] = { set_field(SY_F_NW_TOS, &tos, 0), set_field(SY_F_NW_TTL, &ttl, 0) };

	w = s;
	w.tos = tos;
	w.ttl = ttl;
	expect_rewrite(&s, a, 2, &w);
	s.l3_type = w.l3_type = 0x86dd;
	expect_rewrite(&s, a, 2, &w);
}

static void
set_ipv6(void)
{
	const uint8_t protos[] = { 6, 17, 58 };

	for (unsigned int i = 0; i < 3; i++) {
		struct pkt_spec s = pkt_default(), w;
		uint8_t src[16], dst[16];
		uint32_t label = 0xabcde;

		for (int b = 0; b < 16; b++) {
			src[b] = (uint8_t)(0xfe - b);
			dst[b] = (uint8_t)(b * 7);
		}
		struct sy_action a[] = { set_field(SY_F_IPV6_SRC, src, 0),
					 set_field(SY_F_IPV6_DST, dst, 0),
					 set_field(SY_F_IPV6_LABEL, &label, 0) };

		s.l3_type = 0x86dd;
		s.proto = protos[i];
		w = s;
		memcpy(w.ip6_src, src, 16);
		memcpy(w.ip6_dst, dst, 16);
		w.label = label;
		expect_rewrite(&s, a, 3, &w);
	}
}

static void
vlan_push_pop(void)
{
	struct pkt_spec s = pkt_default(), w;
	struct sy_action push = { .type = SY_ACT_PUSH_VLAN, .arg = 0x8100 };
	struct sy_action push_ad = { .type = SY_ACT_PUSH_VLAN, .arg = 0x88a8 };
	struct sy_action pop = { .type = SY_ACT_POP_VLAN };
	uint16_t vid = SY_VLAN_PRESENT | 100, pcp = 5 << SY_VLAN_PCP_SHIFT | SY_VLAN_PRESENT;
	struct sy_action set_vid = set_field(SY_F_VLAN_TCI, &vid, SY_VLAN_PRESENT | SY_VLAN_VID_MASK);
	struct sy_action set_pcp = set_field(SY_F_VLAN_TCI, &pcp, SY_VLAN_PRESENT | SY_VLAN_PCP_MASK);

	/* push on an untagged frame: VID 0, PCP 0 */
	w = s;
	w.n_vlan = 1;
	w.tci[0] = 0;
	expect_rewrite(&s, &push, 1, &w);

	/* push, then set VID and PCP through masked sets of vlan_tci */
	struct sy_action a[] = { push, set_vid, set_pcp };

	w.tci[0] = 5 << 13 | 100;
	expect_rewrite(&s, a, 3, &w);

	/* set of vlan_tci on an untagged frame pushes an 802.1Q tag first */
	w.tci[0] = 100;
	expect_rewrite(&s, &set_vid, 1, &w);

	/* on a tagged frame: the VID changes, the PCP stays */
	s.n_vlan = 1;
	s.tci[0] = 3 << 13 | 7;
	w = s;
	w.tci[0] = 3 << 13 | 100;
	expect_rewrite(&s, &set_vid, 1, &w);

	/* push 802.1ad on a tagged frame: the new outer tag copies VID/PCP */
	w = s;
	w.n_vlan = 2;
	w.tpid[0] = 0x88a8;
	w.tci[0] = s.tci[0];
	w.tpid[1] = 0x8100;
	w.tci[1] = s.tci[0];
	expect_rewrite(&s, &push_ad, 1, &w);

	/* pop: back to the untagged frame */
	w = s;
	w.n_vlan = 0;
	expect_rewrite(&s, &pop, 1, &w);

	/* pop of a double-tagged frame leaves the inner tag, and the key
	 * follows: a later table sees the inner VID */
	struct act_pkt p;
	uint8_t in[2048];
	size_t len;

	s.n_vlan = 2;
	s.tpid[0] = 0x88a8;
	s.tci[0] = 10;
	s.tpid[1] = 0x8100;
	s.tci[1] = 20;
	len = pkt_build(&s, in);
	struct sy_action pg[] = { pop, { .type = SY_ACT_GOTO_TABLE, .arg = 1 } };

	CHECK_EQ(run(in, len, 0, pg, 2, &p), 1);
	CHECK_EQ(p.key.vlan_tci, SY_VLAN_PRESENT | 20);
	CHECK_EQ(p.lay.l3_ofs, 18);
	rte_pktmbuf_free(p.m);

	/* pop on an untagged frame does nothing */
	s = pkt_default();
	expect_rewrite(&s, &pop, 1, &s);
}

static void
dec_ttl(void)
{
	struct pkt_spec s = pkt_default(), w;
	struct sy_action dec = { .type = SY_ACT_DEC_TTL };
	struct sy_action a[] = { dec, output(B) };
	uint8_t in[2048];
	struct act_pkt p;
	size_t len;

	w = s;
	w.ttl = 63;
	expect_rewrite(&s, &dec, 1, &w);
	s.proto = w.proto = 6;
	expect_rewrite(&s, &dec, 1, &w);
	s.l3_type = w.l3_type = 0x86dd;
	expect_rewrite(&s, &dec, 1, &w);

	/* TTL 1 and 0: dropped, counted on the ingress port, nothing sent */
	for (uint8_t ttl = 0; ttl < 2; ttl++) {
		clear_stats();
		s = pkt_default();
		s.ttl = ttl;
		len = pkt_build(&s, in);
		CHECK_EQ(run(in, len, 0, a, 2, &p), -1);
		CHECK_EQ(sy_port_drops(A, SY_DROP_TTL_EXPIRED), 1);
		CHECK_EQ(sy_port_drops(A, SY_DROP_ACTION_DROP), 0);
		CHECK_EQ(sent(B, (struct rte_mbuf *[4]){ 0 }, 4), 0);
	}

	/* output before dec_ttl still goes, with the TTL it had */
	struct sy_action b[] = { output(C), dec, output(B) };
	uint8_t got[2048];

	clear_stats();
	CHECK_EQ(run(in, len, 0, b, 3, &p), -1);
	CHECK_EQ(sent_one(C, got), len);
	CHECK(memcmp(got, in, len) == 0);
	CHECK_EQ(sy_port_drops(A, SY_DROP_TTL_EXPIRED), 1);
}

/* Two outputs of the same bytes: one mbuf, two references. */
static void
refcount_sharing(void)
{
	uint8_t in[2048];
	struct pkt_spec s = pkt_default();
	struct sy_action a[] = { output(B), output(C) };
	struct rte_mbuf *mb[4], *mc[4];
	size_t len = pkt_build(&s, in);
	struct act_pkt p;
	unsigned int free_before = rte_mempool_avail_count(dp.pool);

	CHECK_EQ(run(in, len, 0, a, 2, &p), -1);
	CHECK_EQ(sent(B, mb, 4), 1);
	CHECK_EQ(sent(C, mc, 4), 1);
	CHECK(mb[0] == mc[0]);
	CHECK_EQ(rte_mbuf_refcnt_read(mb[0]), 2);
	/* only the one mbuf was taken from the pool */
	CHECK_EQ(free_before - rte_mempool_avail_count(dp.pool), 1);
	rte_pktmbuf_free(mb[0]);
	rte_pktmbuf_free(mc[0]);
	CHECK_EQ(rte_mempool_avail_count(dp.pool), free_before);
}

/* A rewrite after an output: the output keeps the bytes it had. */
static void
copy_before_rewrite(void)
{
	uint8_t in[2048], want[2048];
	struct pkt_spec s = pkt_default(), w;
	const uint8_t dst[6] = { 0x0a, 1, 2, 3, 4, 5 };
	struct sy_action a[] = { output(B), set_field(SY_F_DL_DST, dst, 0), output(C),
				 { .type = SY_ACT_DEC_TTL }, output(E) };
	struct rte_mbuf *mb[4], *mc[4], *me[4];
	size_t len = pkt_build(&s, in);
	struct act_pkt p;
	unsigned int free_before = rte_mempool_avail_count(dp.pool);

	w = s;
	memcpy(w.dst, dst, 6);
	pkt_build(&w, want);
	CHECK_EQ(run(in, len, 0, a, 5, &p), -1);
	CHECK_EQ(sent(B, mb, 4), 1);
	CHECK_EQ(sent(C, mc, 4), 1);
	CHECK_EQ(sent(E, me, 4), 1);
	CHECK(mb[0] != mc[0] && mc[0] != me[0]);
	CHECK(memcmp(rte_pktmbuf_mtod(mb[0], void *), in, len) == 0);
	CHECK(memcmp(rte_pktmbuf_mtod(mc[0], void *), want, len) == 0);
	w.ttl = 63;
	pkt_build(&w, want);
	CHECK(memcmp(rte_pktmbuf_mtod(me[0], void *), want, len) == 0);
	CHECK_EQ(rte_mbuf_refcnt_read(mb[0]), 1);
	CHECK_EQ(rte_mbuf_refcnt_read(mc[0]), 1);
	CHECK_EQ(free_before - rte_mempool_avail_count(dp.pool), 3);
	rte_pktmbuf_free(mb[0]);
	rte_pktmbuf_free(mc[0]);
	rte_pktmbuf_free(me[0]);
}

static void
flood_and_all(void)
{
	uint8_t in[2048];
	struct pkt_spec s = pkt_default();
	size_t len = pkt_build(&s, in);
	const uint32_t how[2] = { SY_PORT_FLOOD, SY_PORT_ALL };

	for (int i = 0; i < 2; i++) {
		struct sy_action a[] = { output(how[i]) };
		struct rte_mbuf *m[4], *first = NULL;
		struct act_pkt p;
		unsigned int total = 0;

		CHECK_EQ(run(in, len, 0, a, 1, &p), -1);
		/* every admin-up port but the ingress one: B, C, E, J */
		for (uint32_t id = A; id <= J; id++) {
			unsigned int n = sent(id, m, 4);

			CHECK_EQ(n, id == B || id == C || id == E || id == J ? 1 : 0);
			for (unsigned int j = 0; j < n; j++) {
				if (first == NULL)
					first = m[j];
				CHECK(m[j] == first);
				total++;
			}
		}
		CHECK_EQ(total, 4);
		if (first) {
			CHECK_EQ(rte_mbuf_refcnt_read(first), 4);
			for (unsigned int j = 0; j < total; j++)
				rte_pktmbuf_free(first);
		}
	}
}

static void
output_rules(void)
{
	uint8_t in[2048], big[2048];
	struct pkt_spec s = pkt_default();
	size_t len = pkt_build(&s, in), big_len;
	struct act_pkt p;

	/* output to the ingress port by number is skipped: the packet is
	 * dropped by its entry (no output) */
	clear_stats();
	CHECK_EQ(run(in, len, 0, (struct sy_action[]){ output(A) }, 1, &p), -1);
	CHECK_EQ(sent(A, (struct rte_mbuf *[4]){ 0 }, 4), 0);
	CHECK_EQ(sy_port_drops(A, SY_DROP_ACTION_DROP), 1);

	/* output:in_port sends it back */
	uint8_t got[2048];

	CHECK_EQ(run(in, len, 0, (struct sy_action[]){ output(SY_PORT_IN_PORT) }, 1, &p), -1);
	CHECK_EQ(sent_one(A, got), len);

	/* no actions at all: action_drop */
	clear_stats();
	CHECK_EQ(run(in, len, 0, NULL, 0, &p), -1);
	CHECK_EQ(sy_port_drops(A, SY_DROP_ACTION_DROP), 1);

	/* a port that does not exist, a port that is down */
	clear_stats();
	CHECK_EQ(run(in, len, 0, (struct sy_action[]){ output(99) }, 1, &p), -1);
	CHECK_EQ(sy_port_drops(A, SY_DROP_NO_PORT), 1);
	CHECK_EQ(run(in, len, 0, (struct sy_action[]){ output(D) }, 1, &p), -1);
	CHECK_EQ(sy_port_drops(A, SY_DROP_PORT_DOWN), 1);
	CHECK_EQ(sy_port_drops(A, SY_DROP_ACTION_DROP), 0); /* counted once, as what it was */
	CHECK_EQ(sent(D, (struct rte_mbuf *[4]){ 0 }, 4), 0);

	/* too big for E (MTU 100): counted on E; B still gets it */
	s.payload = 100 - 28 + 1;
	big_len = pkt_build(&s, big);
	clear_stats();
	CHECK_EQ(run(big, big_len, 0, (struct sy_action[]){ output(E), output(B) }, 2, &p), -1);
	CHECK_EQ(sy_port_drops(E, SY_DROP_TOO_BIG), 1);
	CHECK_EQ(sy_port_drops(A, SY_DROP_TOO_BIG), 0);
	CHECK_EQ(sent_one(B, got), big_len);
	s.payload = 100 - 28; /* exactly the MTU goes */
	big_len = pkt_build(&s, big);
	CHECK_EQ(run(big, big_len, 0, (struct sy_action[]){ output(E) }, 1, &p), -1);
	CHECK_EQ(sent_one(E, got), big_len);
}

static void
metadata_and_goto(void)
{
	uint8_t in[2048];
	struct pkt_spec s = pkt_default();
	size_t len = pkt_build(&s, in);
	struct act_pkt p;
	struct sy_action a[] = {
		{ .type = SY_ACT_WRITE_METADATA, .value.u64 = { 0xab00 }, .mask = 0xff00 },
		{ .type = SY_ACT_GOTO_TABLE, .arg = 7 },
	};
	uint64_t md = 0x11;
	struct sy_action b[] = { set_field(SY_F_METADATA, &md, 0xff),
				 { .type = SY_ACT_GOTO_TABLE, .arg = 9 } };

	CHECK_EQ(run(in, len, 0, a, 2, &p), 7);
	CHECK_EQ(p.key.metadata, 0xab00);
	rte_pktmbuf_free(p.m);
	CHECK_EQ(run(in, len, 0, b, 2, &p), 9);
	CHECK_EQ(p.key.metadata, 0x11);
	rte_pktmbuf_free(p.m);
}

static void
no_headroom(void)
{
	uint8_t in[2048];
	struct pkt_spec s = pkt_default();
	size_t len = pkt_build(&s, in);
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);
	struct sy_action a[] = { { .type = SY_ACT_PUSH_VLAN, .arg = 0x8100 }, output(B) };
	enum sy_drop_reason why;
	struct act_pkt p;

	m->data_off = 0;
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), in, len);
	CHECK(parse_packet(m, A, &p.key, &p.lay, &why));
	act_pkt_init(&p, m, sy_port_slot(A));
	clear_stats();
	CHECK_EQ(act_run(lc, pl_portmap, &p, a, 2), -1);
	pl_run_once(lc);
	CHECK_EQ(sy_port_drops(A, SY_DROP_NO_HEADROOM), 1);
	CHECK_EQ(sent(B, (struct rte_mbuf *[4]){ 0 }, 4), 0);
}

/* Headers split over tiny segments: the rewrite still lands right. */
static void
multi_segment_rewrite(void)
{
	uint8_t in[2048], want[2048], got[2048];
	struct pkt_spec s = pkt_default(), w;
	uint32_t dst = 0xac100001;
	struct sy_action a[] = { set_field(SY_F_NW_DST, &dst, 0), output(B) };
	size_t len = pkt_build(&s, in);
	struct act_pkt p;

	w = s;
	w.ip_dst = dst;
	pkt_build(&w, want);
	CHECK_EQ(run(in, len, 10, a, 2, &p), -1);
	CHECK_EQ(sent_one(B, got), len);
	CHECK(memcmp(got, want, len) == 0);
}


static uint64_t
copies(void)
{
	struct sy_dp_stats st;

	dp_stats(&st);
	return st.copies;
}

/* A packet between two ports moves: the mbuf sent is the mbuf received;
 * a flood shares it by reference count; nothing is copied. */
static void
zero_copy_moves(void)
{
	uint8_t in[2048];
	struct pkt_spec s = pkt_default();
	size_t len = pkt_build(&s, in);
	struct rte_mbuf *m = pkt_mbuf(dp.pool, in, len, 0), *out[4];
	uint64_t c0 = copies();
	enum sy_drop_reason why;
	struct act_pkt p;

	CHECK(parse_packet(m, A, &p.key, &p.lay, &why));
	act_pkt_init(&p, m, sy_port_slot(A));
	CHECK_EQ(act_run(lc, pl_portmap, &p, (struct sy_action[]){ output(B) }, 1), -1);
	pl_run_once(lc);
	CHECK_EQ(sent(B, out, 4), 1);
	CHECK(out[0] == m); /* the same mbuf, not a copy */
	CHECK_EQ(rte_mbuf_refcnt_read(out[0]), 1);
	rte_pktmbuf_free(out[0]);

	/* a rewrite of a packet nobody else sees is done in place */
	m = pkt_mbuf(dp.pool, in, len, 0);
	CHECK(parse_packet(m, A, &p.key, &p.lay, &why));
	act_pkt_init(&p, m, sy_port_slot(A));
	CHECK_EQ(act_run(lc, pl_portmap, &p,
			 (struct sy_action[]){ { .type = SY_ACT_DEC_TTL }, output(B) }, 2), -1);
	pl_run_once(lc);
	CHECK_EQ(sent(B, out, 4), 1);
	CHECK(out[0] == m);
	rte_pktmbuf_free(out[0]);
	CHECK_EQ(copies() - c0, 0);

	/* flood: references, no copies */
	CHECK_EQ(run(in, len, 0, (struct sy_action[]){ output(SY_PORT_FLOOD) }, 1, &p), -1);
	for (uint32_t id = B; id <= J; id++) {
		unsigned int n = sent(id, out, 4);

		for (unsigned int j = 0; j < n; j++)
			rte_pktmbuf_free(out[j]);
	}
	CHECK_EQ(copies() - c0, 0);

	/* the counter is honest: output, rewrite, output makes one copy */
	CHECK_EQ(run(in, len, 0,
		     (struct sy_action[]){ output(B), { .type = SY_ACT_DEC_TTL }, output(C) }, 3, &p),
		 -1);
	CHECK_EQ(copies() - c0, 1);
	CHECK_EQ(sent(B, out, 1), 1);
	rte_pktmbuf_free(out[0]);
	CHECK_EQ(sent(C, out, 1), 1);
	rte_pktmbuf_free(out[0]);
}

/* A 9000-byte frame in 2000-byte segments: set_field, push_vlan and dec_ttl
 * rewrite it in place (same mbuf, still chained, no copy), it leaves whole
 * through a 9600-byte port, and a 1500-byte port counts it too_big. */
static void
jumbo_chained_rewrites(void)
{
	static uint8_t in[9100], want[9100], got[9100];
	struct pkt_spec s = pkt_default(), w;
	uint32_t dst = 0xac100001;
	struct sy_action a[] = { set_field(SY_F_NW_DST, &dst, 0),
				 { .type = SY_ACT_PUSH_VLAN, .arg = 0x8100 },
				 { .type = SY_ACT_DEC_TTL }, output(J) };
	struct rte_mbuf *m, *out[4];
	enum sy_drop_reason why;
	struct act_pkt p;
	uint64_t c0 = copies();
	size_t len, wlen;

	s.payload = 9000 - 14 - 20 - 8;
	len = pkt_build(&s, in);
	CHECK_EQ(len, 9000);
	w = s;
	w.ip_dst = dst;
	w.ttl = 63;
	w.n_vlan = 1;
	w.tpid[0] = 0x8100;
	w.tci[0] = 0;
	wlen = pkt_build(&w, want);
	CHECK_EQ(wlen, 9004);

	m = pkt_mbuf(dp.pool, in, len, 2000);
	CHECK_EQ(m->nb_segs, 5);
	CHECK(parse_packet(m, A, &p.key, &p.lay, &why));
	act_pkt_init(&p, m, sy_port_slot(A));
	CHECK_EQ(act_run(lc, pl_portmap, &p, a, 4), -1);
	pl_run_once(lc);
	CHECK_EQ(sent(J, out, 4), 1);
	CHECK(out[0] == m);
	CHECK_EQ(out[0]->nb_segs, 5);
	CHECK_EQ(rte_pktmbuf_pkt_len(out[0]), wlen);
	memcpy(got, rte_pktmbuf_read(out[0], 0, (uint32_t)wlen, got), wlen);
	CHECK(memcmp(got, want, wlen) == 0);
	rte_pktmbuf_free(out[0]);
	CHECK_EQ(copies() - c0, 0);

	/* over B's MTU (1500): counted on B, not sent, never cut */
	clear_stats();
	CHECK_EQ(run(in, len, 2000, (struct sy_action[]){ output(B) }, 1, &p), -1);
	CHECK_EQ(sy_port_drops(B, SY_DROP_TOO_BIG), 1);
	CHECK_EQ(sent(B, out, 4), 0);
}

/* meter:N (meters.h): within the bucket the packet goes on untouched;
 * over it, a drop band stops it (counted under meter on the ingress port,
 * outputs after it never happen) and a remark band rewrites the DSCP (ECN
 * kept, IPv4 checksum right) and lets it go on. */
static void
meter_drops_or_remarks(void)
{
	struct sy_meter_desc drop = { .id = 1, .unit = SY_METER_PPS, .rate = 1, .burst = 2 };
	struct sy_meter_desc remark = { .id = 2, .unit = SY_METER_PPS, .rate = 1, .burst = 1,
					.band = SY_BAND_DSCP_REMARK, .dscp = 46 };
	struct pkt_spec s = pkt_default(), w;
	struct sy_action a[] = { { .type = SY_ACT_METER, .arg = 1 }, output(B) };
	struct sy_action mr = { .type = SY_ACT_METER, .arg = 2 };
	struct rte_mbuf *out[8];
	uint8_t in[2048];
	size_t len = pkt_build(&s, in);
	struct sy_error err;
	struct act_pkt p;
	unsigned int n;

	CHECK(meter_mod(SY_MC_ADD, &drop, NULL, &err) == 0);
	CHECK(meter_mod(SY_MC_ADD, &remark, NULL, &err) == 0);
	clear_stats();
	n = 0;
	for (int i = 0; i < 5; i++) { /* 5 at one instant (lc->now is set per burst) */
		CHECK_EQ(run(in, len, 0, a, 2, &p), -1);
		n += sent(B, out + n, 8 - n); /* B's ring: drained before the next run polls it */
	}
	CHECK_EQ(tx_packets(B), 2);
	CHECK_EQ(sy_port_drops(A, SY_DROP_METER), 3);
	CHECK_EQ(n, 2);
	for (unsigned int i = 0; i < n; i++) {
		CHECK_EQ(rte_pktmbuf_pkt_len(out[i]), len);
		CHECK(memcmp(rte_pktmbuf_mtod(out[i], void *), in, len) == 0);
		rte_pktmbuf_free(out[i]);
	}

	/* remark: the first fits the bucket, the next is rewritten */
	s.tos = 0x01; /* ECN ECT(1): kept */
	expect_rewrite(&s, &mr, 1, &s);
	w = s;
	w.tos = 46 << 2 | 0x01;
	expect_rewrite(&s, &mr, 1, &w);
	s.l3_type = 0x86dd;
	w.l3_type = 0x86dd;
	expect_rewrite(&s, &mr, 1, &w);
	CHECK_EQ(sy_port_drops(A, SY_DROP_METER), 3);
	CHECK_EQ(meter_table[1]->ctr[0].pass_packets, 2);
	CHECK_EQ(meter_table[1]->ctr[0].band_packets[0], 3);
	CHECK_EQ(meter_table[2]->ctr[0].pass_packets, 1);
	CHECK_EQ(meter_table[2]->ctr[0].band_packets[0], 2);

	CHECK(meter_mod(SY_MC_DELETE, &drop, NULL, &err) == 0);
	CHECK(meter_mod(SY_MC_DELETE, &remark, NULL, &err) == 0);
}

/* Sends n copies of frame through a (from A), draining B's ring after
 * each; returns how many B sent. */
static unsigned int
send_n(const uint8_t *in, size_t len, const struct sy_action *a, unsigned int n_a, int n)
{
	struct rte_mbuf *out[4];
	struct act_pkt p;
	unsigned int got = 0, k;

	for (int i = 0; i < n; i++) {
		CHECK_EQ(run(in, len, 0, a, n_a, &p), -1);
		k = sent(B, out, 4);
		got += k;
		rte_pktmbuf_free_bulk(out, k);
	}
	return got;
}

/* Port egress QoS (qos.h): B limited to 1 kbit/s with a 1-kbit (125-byte)
 * burst passes the frames that fit the burst and counts the rest under
 * policed on B; a queue bucket polices only the packets of set_queue:N; a
 * queue the port lacks falls to queue 0, which without a rate is free;
 * removing the QoS lets everything through; bad figures are refused
 * naming the rate. */
static void
port_egress_policer_and_queues(void)
{
	struct pkt_spec s = pkt_default();
	uint8_t in[2048];
	size_t len = pkt_build(&s, in);
	unsigned int fit = (unsigned int)(125 / len);
	struct sy_action plain[] = { output(B) };
	struct sy_action q1[] = { { .type = SY_ACT_SET_QUEUE, .arg = 1 }, output(B) };
	struct sy_action q5[] = { { .type = SY_ACT_SET_QUEUE, .arg = 5 }, output(B) };
	struct sy_port_qos d = { .port = { .rate = 1, .burst = 1 } }, out;
	struct sy_error err;

	CHECK(fit >= 1 && fit < 5);
	clear_stats();
	CHECK(dp_port_qos(B, &d, &out, &err) == 0);
	CHECK_EQ(out.port_id, B);
	CHECK_EQ(out.port.burst, 1);
	CHECK_EQ(send_n(in, len, plain, 1, 5), fit);
	CHECK_EQ(tx_packets(B), fit);
	CHECK_EQ(sy_port_drops(B, SY_DROP_POLICED), 5 - fit);
	CHECK_EQ(sy_port_drops(A, SY_DROP_POLICED), 0);

	/* queue 1 only: set_queue:1 is policed, the rest is not */
	memset(&d, 0, sizeof(d));
	d.queue[1].rate = 1;
	d.queue[1].burst = 1;
	CHECK(dp_port_qos(B, &d, &out, &err) == 0);
	clear_stats();
	CHECK_EQ(send_n(in, len, q1, 2, 5), fit);
	CHECK_EQ(send_n(in, len, plain, 1, 5), 5);
	CHECK_EQ(send_n(in, len, q5, 2, 5), 5); /* no queue 5: queue 0, free */
	CHECK_EQ(sy_port_drops(B, SY_DROP_POLICED), 5 - fit);

	/* with a queue 0, queue 5 is charged to it; default burst resolved */
	d.queue[0].rate = 1;
	d.queue[0].burst = 1;
	d.queue[1].burst = 0;
	CHECK(dp_port_qos(B, &d, &out, &err) == 0);
	CHECK_EQ(out.queue[1].burst, 25);
	clear_stats();
	CHECK_EQ(send_n(in, len, q5, 2, 5), fit);

	/* none: reads back empty, everything passes */
	memset(&d, 0, sizeof(d));
	CHECK(dp_port_qos(B, &d, &out, &err) == 0);
	CHECK(qos_by_slot[pl_port_slot(pl_portmap, B)] == NULL);
	CHECK(dp_port_qos(B, NULL, &out, &err) == 0);
	CHECK_EQ(out.port.rate, 0);
	CHECK_EQ(send_n(in, len, plain, 1, 5), 5);

	d.queue[3].rate = SY_METER_RATE_MAX + 1;
	CHECK(dp_port_qos(B, &d, &out, &err) < 0);
	CHECK_EQ(err.code, SY_E_INVAL);
	CHECK_STR_CONTAINS(err.msg, "port 2: queue 3 rate");
	memset(&d, 0, sizeof(d));
	d.port.burst = 10;
	CHECK(dp_port_qos(B, &d, &out, &err) < 0);
	CHECK_STR_CONTAINS(err.msg, "egress burst 10 without a rate");
	CHECK(dp_port_qos(99, &d, &out, &err) < 0);
	CHECK_EQ(err.code, SY_E_NOENT);
}

int
main(void)
{
	struct dp_config cfg = { .n_mbufs = 4096, .max_flows = 1000 };

	lc = sy_test_dp_start("actions", &cfg);
	if (lc == NULL)
		return 1;
	add_port("a", "net_ring0", A, 0, 1);
	add_port("b", "net_ring1", B, 0, 1);
	add_port("c", "net_ring2", C, 0, 1);
	add_port("d", "net_ring3", D, 0, 0);
	add_port("e", "net_ring4", E, 100, 1);
	add_port("j", "net_ring5", J, 9600, 1);

	RUN(output_one);
	RUN(set_ethernet);
	RUN(set_ipv4_addresses);
	RUN(set_ports);
	RUN(set_tos_ttl);
	RUN(set_ipv6);
	RUN(vlan_push_pop);
	RUN(dec_ttl);
	RUN(refcount_sharing);
	RUN(copy_before_rewrite);
	RUN(flood_and_all);
	RUN(output_rules);
	RUN(metadata_and_goto);
	RUN(no_headroom);
	RUN(multi_segment_rewrite);
	RUN(zero_copy_moves);
	RUN(jumbo_chained_rewrites);
	RUN(meter_drops_or_remarks);
	RUN(port_egress_policer_and_queues);

	dp_fini();
	sy_test_eal_fini();
	return sy_test_summary();
}
