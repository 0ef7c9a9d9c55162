/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_edge.c — port VLAN modes and the NSH port tag (edge.h) on net_ring
 * ports through the real pipeline: an access port tags untagged and
 * priority-tagged frames on ingress and drops other tagged ones; it strips
 * its own VID on egress and drops other VIDs and untagged frames; a trunk
 * passes its allowed VIDs both ways, drops the rest, and with a native
 * VLAN tags and strips that one; one packet sent to an access port, a
 * plain port and another access port (output:A,output:U,output:B) leaves
 * each with its own bytes; every drop is counted vlan_filtered on the port
 * where it happens; the NSH port tag pushes every byte of its header on
 * ingress and pops it on egress; settings are checked, changed and
 * cleared (dp_port_set_edge) and reported (dp_port_edge); a packet trace
 * shows both steps.
 *
 * net_ring ports loop back: a frame put on a port with rte_eth_tx_burst
 * is what the switch receives there, and what the switch sends on it is
 * read back with rte_eth_rx_burst.
 */
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "actions.h"
#include "datapath.h"
#include "edge.h"
#include "nsh.h"
#include "pipeline.h"
#include "sy_act.h"
#include "sy_flowmod.h"
#include "sy_pkt.h"
#include "sy_test.h"
#include "trace.h"

#include <switchyard/codec.h>

/* A, B: access 10; C: access 20; T: trunk 10,20; U: plain; N: NSH tag */
enum { A = 1, B = 2, C = 3, T = 4, U = 5, N = 6, NPORTS = 7 };
static uint16_t dpdk[NPORTS];
static struct pl_lcore *lc;
static const uint32_t ctx[4] = { 0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00 };

static struct sy_port_vlan
access_vlan(uint16_t vid)
{
	return (struct sy_port_vlan){ .mode = SY_VLAN_ACCESS, .tag = vid };
}

static struct sy_port_vlan
trunk(uint16_t native, uint16_t v1, uint16_t v2)
{
	struct sy_port_vlan v = { .mode = SY_VLAN_TRUNK, .native = native };

	if (v1)
		v.trunks[v1 >> 6] |= 1ull << (v1 & 63);
	if (v2)
		v.trunks[v2 >> 6] |= 1ull << (v2 & 63);
	return v;
}

static int
set_edge(uint32_t id, const struct sy_port_vlan *v, const struct sy_port_nsh_tag *t)
{
	struct sy_port_desc d;
	struct sy_error err;
	int rc = dp_port_set_edge(id, v, t, &d, &err);

	if (rc < 0)
		fprintf(stderr, "dp_port_set_edge %u: %s\n", id, err.msg);
	return rc;
}

/* Every port's frames read back and freed; the last one of port id kept. */
static unsigned int got_n[NPORTS];
static uint8_t got[NPORTS][2048];
static size_t got_len[NPORTS];

/* Puts frame on port `in` (the switch receives it), runs the pipeline
 * once and reads what every port sent. */
static void
inject(uint32_t in, const uint8_t *frame, size_t len)
{
	struct rte_mbuf *m = pkt_mbuf(dp.pool, frame, len, 0);

	CHECK_EQ(rte_eth_tx_burst(dpdk[in], 0, &m, 1), 1);
	pl_run_once(lc);
	for (uint32_t id = 1; id < NPORTS; id++) {
		struct rte_mbuf *r[8];
		unsigned int k = rte_eth_rx_burst(dpdk[id], 0, r, 8);

		got_n[id] = k;
		got_len[id] = 0;
		for (unsigned int i = 0; i < k; i++) {
			got_len[id] = rte_pktmbuf_pkt_len(r[i]);
			memcpy(got[id], rte_pktmbuf_read(r[i], 0, (uint32_t)got_len[id], got[id]),
			       got_len[id]);
			rte_pktmbuf_free(r[i]);
		}
	}
}

/* The default UDP frame with n_vlan tags (tci given), into out. */
static size_t
frame(int n_vlan, uint16_t tci, uint8_t *out)
{
	struct pkt_spec s = pkt_default();

	s.n_vlan = n_vlan;
	s.tci[0] = tci;
	return pkt_build(&s, out);
}

static void
flow(uint32_t in, const uint32_t *outs, unsigned int n)
{
	struct sy_flow_mod *fm = fm_new(SY_FC_ADD, 0, 10);

	MATCH(fm, in_port, in, 0xffffffff);
	for (unsigned int i = 0; i < n; i++)
		act(fm, output(outs[i]));
	sy_test_flow_mod(fm);
}

static void
no_flows(void)
{
	sy_test_flow_mod(fm_new(SY_FC_DELETE, SY_TABLE_ALL, 0));
}

/* Ingress on an access port: untagged gets VID 10, priority-tagged gets
 * VID 10 and keeps its PCP, another VID is dropped and counted. */
static void
access_ingress(void)
{
	uint8_t f[256], want[256];
	size_t l, lw;
	uint64_t d0 = sy_port_drops(A, SY_DROP_VLAN_FILTERED);

	flow(A, (uint32_t[]){ U }, 1);
	l = frame(0, 0, f);
	lw = frame(1, 10, want);
	inject(A, f, l);
	CHECK_EQ(got_n[U], 1);
	CHECK_EQ(got_len[U], lw);
	CHECK(memcmp(got[U], want, lw) == 0);

	l = frame(1, 0xa000, f); /* PCP 5, VID 0 */
	lw = frame(1, 0xa00a, want);
	inject(A, f, l);
	CHECK_EQ(got_n[U], 1);
	CHECK(got_len[U] == lw && memcmp(got[U], want, lw) == 0);

	l = frame(1, 20, f);
	inject(A, f, l);
	CHECK_EQ(got_n[U], 0);
	CHECK_EQ(sy_port_drops(A, SY_DROP_VLAN_FILTERED), d0 + 1);
	no_flows();
}

/* Egress to access ports from the trunk: VID 10 leaves A untagged and is
 * refused by C (VID 20), and the other way round; an untagged frame
 * reaches neither. */
static void
access_egress(void)
{
	uint8_t f[256], plain[256];
	size_t l, lp = frame(0, 0, plain);
	uint64_t a0 = sy_port_drops(A, SY_DROP_VLAN_FILTERED), c0 = sy_port_drops(C, SY_DROP_VLAN_FILTERED);

	flow(T, (uint32_t[]){ A, C }, 2);
	flow(U, (uint32_t[]){ A, C }, 2);
	l = frame(1, 10, f);
	inject(T, f, l);
	CHECK_EQ(got_n[A], 1);
	CHECK(got_len[A] == lp && memcmp(got[A], plain, lp) == 0);
	CHECK_EQ(got_n[C], 0);
	CHECK_EQ(sy_port_drops(C, SY_DROP_VLAN_FILTERED), c0 + 1);

	l = frame(1, 0x2014, f); /* PCP 1, VID 20 */
	inject(T, f, l);
	CHECK_EQ(got_n[C], 1);
	CHECK(got_len[C] == lp && memcmp(got[C], plain, lp) == 0);
	CHECK_EQ(got_n[A], 0);
	CHECK_EQ(sy_port_drops(A, SY_DROP_VLAN_FILTERED), a0 + 1);

	inject(U, plain, lp); /* a frame of no tenant */
	CHECK_EQ(got_n[A] + got_n[C], 0);
	CHECK_EQ(sy_port_drops(A, SY_DROP_VLAN_FILTERED), a0 + 2);
	CHECK_EQ(sy_port_drops(C, SY_DROP_VLAN_FILTERED), c0 + 2);
	no_flows();
}

/* One packet to A (access 10), U (plain) and B (access 10): both access
 * ports get it untagged, U gets the tag the packet had, twice over (the
 * last output is the one written in place when nothing else holds it). */
static void
multi_output(void)
{
	uint8_t f[256], plain[256];
	size_t l = frame(1, 10, f), lp = frame(0, 0, plain);
	uint64_t copies0 = lc->ctr.copies;

	flow(T, (uint32_t[]){ A, U, B }, 3);
	for (int round = 0; round < 2; round++) {
		inject(T, f, l);
		CHECK_EQ(got_n[A], 1);
		CHECK_EQ(got_n[U], 1);
		CHECK_EQ(got_n[B], 1);
		CHECK(got_len[A] == lp && memcmp(got[A], plain, lp) == 0);
		CHECK(got_len[B] == lp && memcmp(got[B], plain, lp) == 0);
		CHECK(got_len[U] == l && memcmp(got[U], f, l) == 0);
	}
	CHECK(lc->ctr.copies > copies0); /* A could not be written in place */
	no_flows();
	/* and the other order: the plain port last */
	flow(T, (uint32_t[]){ A, B, U }, 3);
	inject(T, f, l);
	CHECK(got_n[A] == 1 && got_len[A] == lp && memcmp(got[A], plain, lp) == 0);
	CHECK(got_n[B] == 1 && got_len[B] == lp && memcmp(got[B], plain, lp) == 0);
	CHECK(got_n[U] == 1 && got_len[U] == l && memcmp(got[U], f, l) == 0);
	no_flows();
}

/* Packets of one flow in a row ("trains", pipeline.c) skip most of the
 * pipeline; to an edge port they still get the egress step: a burst of
 * VID 10 frames then VID 20 frames from a plain port to A (access 10):
 * the first all leave untagged, the others are all refused. */
static void
trains(void)
{
	struct rte_mbuf *m[16];
	uint8_t f10[256], f20[256], plain[256];
	size_t l10 = frame(1, 10, f10), l20 = frame(1, 20, f20), lp = frame(0, 0, plain);
	uint64_t a0 = sy_port_drops(A, SY_DROP_VLAN_FILTERED), hits0 = lc->ctr.pmd.cache_hits;
	unsigned int k;

	flow(U, (uint32_t[]){ A }, 1);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 16; i++)
			m[i] = i < 8 ? pkt_mbuf(dp.pool, f10, l10, 0) : pkt_mbuf(dp.pool, f20, l20, 0);
		CHECK_EQ(rte_eth_tx_burst(dpdk[U], 0, m, 16), 16);
		pl_run_once(lc);
		k = rte_eth_rx_burst(dpdk[A], 0, m, 16);
		CHECK_EQ(k, 8);
		for (unsigned int i = 0; i < k; i++) {
			CHECK(rte_pktmbuf_pkt_len(m[i]) == lp &&
			      memcmp(rte_pktmbuf_mtod(m[i], uint8_t *), plain, lp) == 0);
			rte_pktmbuf_free(m[i]);
		}
	}
	CHECK_EQ(sy_port_drops(A, SY_DROP_VLAN_FILTERED), a0 + 16);
	CHECK(lc->ctr.pmd.cache_hits - hits0 >= 28); /* the cache (and its trains) served them */
	no_flows();
}

/* A trunk: allowed VIDs pass both ways, others and untagged frames are
 * dropped; with native VLAN 10, untagged frames get VID 10 and VID 10
 * leaves untagged; the native VID 0 (none) is restored after. */
static void
trunk_filter_and_native(void)
{
	uint8_t f[256], want[256], plain[256];
	size_t l, lw, lp = frame(0, 0, plain);
	uint64_t t0 = sy_port_drops(T, SY_DROP_VLAN_FILTERED);
	struct sy_port_vlan v;

	flow(T, (uint32_t[]){ U }, 1);
	flow(U, (uint32_t[]){ T }, 1);
	l = frame(1, 20, f);
	inject(T, f, l);
	CHECK(got_n[U] == 1 && got_len[U] == l && memcmp(got[U], f, l) == 0);
	inject(U, f, l);
	CHECK(got_n[T] == 1 && got_len[T] == l && memcmp(got[T], f, l) == 0);

	l = frame(1, 30, f); /* not allowed: either way */
	inject(T, f, l);
	CHECK_EQ(got_n[U], 0);
	inject(U, f, l);
	CHECK_EQ(got_n[T], 0);
	inject(T, plain, lp); /* untagged, no native VLAN */
	CHECK_EQ(got_n[U], 0);
	inject(U, plain, lp);
	CHECK_EQ(got_n[T], 0);
	CHECK_EQ(sy_port_drops(T, SY_DROP_VLAN_FILTERED), t0 + 4);

	v = trunk(10, 20, 0);
	CHECK_EQ(set_edge(T, &v, NULL), 0);
	lw = frame(1, 10, want);
	inject(T, plain, lp);
	CHECK(got_n[U] == 1 && got_len[U] == lw && memcmp(got[U], want, lw) == 0);
	inject(U, want, lw);
	CHECK(got_n[T] == 1 && got_len[T] == lp && memcmp(got[T], plain, lp) == 0);
	l = frame(1, 20, f); /* still tagged */
	inject(U, f, l);
	CHECK(got_n[T] == 1 && got_len[T] == l && memcmp(got[T], f, l) == 0);
	CHECK_EQ(sy_port_drops(T, SY_DROP_VLAN_FILTERED), t0 + 4);

	v = trunk(0, 10, 20);
	CHECK_EQ(set_edge(T, &v, NULL), 0);
	no_flows();
}

/* The NSH port tag: every byte pushed on ingress (the frame's MACs, 0x894f,
 * the header as push_nsh writes it, the frame untouched after), matched
 * by nsh_spi; popped on egress back to the very frame. */
static void
nsh_tag(void)
{
	uint8_t f[256], hdr[NSH_MD1_LEN], tagged[512];
	size_t l = frame(0, 0, f);
	unsigned int hl = nsh_encode(hdr, 0x123, 255, 63, 1, ctx, NSH_NP_ETHERNET);
	struct sy_flow_mod *fm = fm_new(SY_FC_ADD, 0, 10);

	MATCH(fm, dl_type, 0x894f, 0xffff);
	MATCH(fm, nsh_spi, 0x123, 0xffffffff);
	MATCH(fm, in_port, N, 0xffffffff);
	act(fm, output(U));
	sy_test_flow_mod(fm);
	inject(N, f, l);
	CHECK_EQ(got_n[U], 1);
	CHECK_EQ(got_len[U], 14 + hl + l);
	CHECK(memcmp(got[U], f, 12) == 0);
	CHECK_EQ(pkt_rd16(got[U] + 12), 0x894f);
	CHECK(memcmp(got[U] + 14, hdr, hl) == 0);
	CHECK_EQ(got[U][14] & 0x3f, 63 >> 2); /* TTL 63: 0x0f... */
	CHECK_EQ(got[U][15], (63 & 3) << 6 | 6); /* ...0xc6: TTL low bits, length 6 */
	CHECK(got[U][18] == 0x00 && got[U][19] == 0x01 && got[U][20] == 0x23 && got[U][21] == 255);
	CHECK(memcmp(got[U] + 14 + hl, f, l) == 0);
	memcpy(tagged, got[U], got_len[U]);

	/* a frame without room in front for the tag: dropped, no_headroom */
	{
		struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);
		uint64_t d0 = sy_port_drops(N, SY_DROP_NO_HEADROOM);

		m->data_off = 16; /* less than the 38 bytes the tag needs */
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), f, l);
		m->data_len = (uint16_t)l;
		m->pkt_len = (uint32_t)l;
		CHECK_EQ(rte_eth_tx_burst(dpdk[N], 0, &m, 1), 1);
		pl_run_once(lc);
		CHECK_EQ(rte_eth_rx_burst(dpdk[U], 0, &m, 1), 0);
		CHECK_EQ(sy_port_drops(N, SY_DROP_NO_HEADROOM), d0 + 1);
	}

	flow(U, (uint32_t[]){ N }, 1);
	inject(U, tagged, 14 + hl + l);
	CHECK(got_n[N] == 1 && got_len[N] == l && memcmp(got[N], f, l) == 0);
	inject(U, f, l); /* no NSH header: sent as it is */
	CHECK(got_n[N] == 1 && got_len[N] == l && memcmp(got[N], f, l) == 0);
	no_flows();
}

/* Bad settings are refused, naming what is wrong, and change nothing;
 * dp_port_edge reports what is set; mode NONE clears. */
static void
settings(void)
{
	struct sy_port_vlan v, got_v;
	struct sy_port_nsh_tag t = { .enabled = 1, .mdtype = 1, .si = 255, .ttl = 63 }, got_t;
	struct sy_port_desc d;
	struct sy_error err;

	v = access_vlan(0);
	CHECK_EQ(dp_port_set_edge(U, &v, NULL, &d, &err), -1);
	CHECK(strstr(err.msg, "access VLAN tag 0 is out of range 1..4094") != NULL);
	v = access_vlan(4095);
	CHECK_EQ(dp_port_set_edge(U, &v, NULL, &d, &err), -1);
	v = trunk(0, 10, 0);
	v.tag = 5;
	CHECK_EQ(dp_port_set_edge(U, &v, NULL, &d, &err), -1);
	CHECK(strstr(err.msg, "trunk port has no access tag") != NULL);
	v = trunk(5000 & 0xfff, 0, 0); /* 904: fine */
	v.trunks[0] = 1; /* VID 0 */
	CHECK_EQ(dp_port_set_edge(U, &v, NULL, &d, &err), -1);
	CHECK(strstr(err.msg, "0 and 4095 are reserved") != NULL);
	t.spi = 1u << 24;
	CHECK_EQ(dp_port_set_edge(U, NULL, &t, &d, &err), -1);
	CHECK(strstr(err.msg, "spi 16777216 is out of range") != NULL);
	t.spi = 1;
	t.ttl = 64;
	CHECK_EQ(dp_port_set_edge(U, NULL, &t, &d, &err), -1);
	CHECK(strstr(err.msg, "ttl 64 is out of range 1..63") != NULL);
	CHECK_EQ(dp_port_set_edge(99, NULL, &t, &d, &err), -1);
	CHECK_EQ(err.code, SY_E_NOENT);
	CHECK_EQ(dp_port_edge(U, &got_v, &got_t), 0); /* nothing changed */
	CHECK(pl_portmap->port[pl_port_slot(pl_portmap, U)].edge == NULL);

	CHECK_EQ(dp_port_edge(T, &got_v, &got_t), 1);
	CHECK(got_v.mode == SY_VLAN_TRUNK && got_v.port_id == T &&
	      got_v.trunks[0] == (1ull << 10 | 1ull << 20));
	CHECK_EQ(dp_port_edge(N, &got_v, &got_t), 2);
	CHECK(got_t.spi == 0x123 && got_t.si == 255 && got_t.ttl == 63 && got_t.ctx[3] == ctx[3]);

	v = (struct sy_port_vlan){ .mode = SY_VLAN_NONE };
	CHECK_EQ(set_edge(B, &v, NULL), 0);
	CHECK_EQ(dp_port_edge(B, &got_v, &got_t), 0);
	CHECK(pl_portmap->port[pl_port_slot(pl_portmap, B)].edge == NULL);
	v = access_vlan(10);
	CHECK_EQ(set_edge(B, &v, NULL), 0);
	CHECK(pl_portmap->port[pl_port_slot(pl_portmap, B)].edge != NULL);
}

/* A TRACE of frame arriving on port in: whether it parsed (TRACE_KEY, and
 * its vlan_tci), each output (port and frame) and each drop. */
static struct {
	bool has_key;
	uint16_t vlan_tci;
	unsigned int n_out, n_drops;
	uint32_t out_port[4], out_len[4], drop[4];
	uint8_t out[4][512];
} tres;

static void
trace_frame(uint32_t in, const uint8_t *frame, size_t len)
{
	struct sy_msgbuf req = { 0 }, reply = { 0 };
	struct sy_error err = { .index = -1 };
	char why[SY_CODEC_ERR_MAX];
	struct sy_attr_iter it, ni;
	const struct sy_attr *a, *x;
	struct sy_flow_key key, mask;
	struct sy_msg m;

	memset(&tres, 0, sizeof(tres));
	sy_msg_begin(&req, SY_MSG_TRACE, 0, 7);
	sy_msg_put_u32(&req, SY_A_PORT_ID, in);
	sy_msg_put(&req, SY_A_PACKET, frame, len);
	CHECK_EQ(sy_msg_finish(&req), 0);
	CHECK_EQ(sy_msg_parse(req.data, req.len, &m, why, sizeof(why)), 0);
	sy_msg_begin(&reply, SY_MSG_TRACE, SY_MSGF_REPLY, 7);
	CHECK_EQ(trace_request(&m, &reply, &err), 0);
	CHECK_EQ(sy_msg_finish(&reply), 0);
	CHECK_EQ(sy_msg_parse(reply.data, reply.len, &m, why, sizeof(why)), 0);
	sy_attr_iter_msg(&it, &m);
	while (sy_attr_next(&it, &a) > 0) {
		if (a->type == SY_A_TRACE_KEY) {
			CHECK_EQ(sy_get_trace_key(a, &key, &mask, why, sizeof(why)), 0);
			tres.has_key = true;
			tres.vlan_tci = key.vlan_tci;
		} else if (a->type == SY_A_TRACE_DROP && tres.n_drops < 4) {
			CHECK_EQ(sy_attr_get_u32(a, &tres.drop[tres.n_drops++], why, sizeof(why)), 0);
		} else if (a->type == SY_A_TRACE_OUTPUT && tres.n_out < 4) {
			unsigned int k = tres.n_out++;

			sy_attr_iter_nest(&ni, a);
			while (sy_attr_next(&ni, &x) > 0) {
				if (x->type == SY_A_PORT_ID) {
					CHECK_EQ(sy_attr_get_u32(x, &tres.out_port[k], why, sizeof(why)), 0);
				} else if (x->type == SY_A_PACKET) {
					tres.out_len[k] = sy_attr_payload_len(x);
					if (tres.out_len[k] <= sizeof(tres.out[k]))
						memcpy(tres.out[k], sy_attr_payload(x), tres.out_len[k]);
				}
			}
		}
	}
	sy_msg_free(&req);
	sy_msg_free(&reply);
}

/* A trace shows what the edge does: the key after the access port's tag,
 * each output as it would leave (stripped toward an access port, tagged
 * toward a plain one), the refusal of the other tenant's port and of a
 * tagged frame on an access port, as drops, and no counter moves. */
static void
traces(void)
{
	uint8_t f[256], want[256];
	size_t l = frame(0, 0, f), lw = frame(1, 10, want);
	struct sy_port_stats c0 = sy_port_counters(C), a0 = sy_port_counters(A);

	flow(A, (uint32_t[]){ B, U, C }, 3);
	trace_frame(A, f, l);
	CHECK(tres.has_key);
	CHECK_EQ(tres.vlan_tci, 10 | SY_VLAN_PRESENT);
	CHECK_EQ(tres.n_out, 2);
	CHECK(tres.out_port[0] == B && tres.out_len[0] == l && memcmp(tres.out[0], f, l) == 0);
	CHECK(tres.out_port[1] == U && tres.out_len[1] == lw &&
	      memcmp(tres.out[1], want, lw) == 0);
	CHECK_EQ(tres.n_drops, 1);
	CHECK_EQ(tres.drop[0], SY_DROP_VLAN_FILTERED); /* C is VLAN 20 */

	l = frame(1, 20, f); /* tagged, on an access port */
	trace_frame(A, f, l);
	CHECK(!tres.has_key);
	CHECK_EQ(tres.n_out, 0);
	CHECK(tres.n_drops == 1 && tres.drop[0] == SY_DROP_VLAN_FILTERED);
	CHECK_EQ(sy_port_counters(C).drops[SY_DROP_VLAN_FILTERED], c0.drops[SY_DROP_VLAN_FILTERED]);
	CHECK_EQ(sy_port_counters(A).drops[SY_DROP_VLAN_FILTERED], a0.drops[SY_DROP_VLAN_FILTERED]);
	CHECK_EQ(sy_port_counters(A).rx_packets, a0.rx_packets);
	no_flows();
}

int
main(void)
{
	struct dp_config cfg = { .n_mbufs = 4096, .max_flows = 1000 };
	struct sy_port_vlan v;
	struct sy_port_nsh_tag t = { .enabled = 1, .mdtype = 1, .spi = 0x123, .si = 255,
				     .ttl = 63 };
	char dev[32];

	lc = sy_test_dp_start("edge", &cfg);
	if (lc == NULL)
		return 1;
	for (uint32_t id = 1; id < NPORTS; id++) {
		snprintf(dev, sizeof(dev), "net_ring%u", id);
		snprintf(dev + 16, 16, "p%u", id);
		dpdk[id] = sy_test_port_add(dev + 16, dev, id, 0, 1);
	}
	memcpy(t.ctx, ctx, sizeof(ctx));
	v = access_vlan(10);
	set_edge(A, &v, NULL);
	set_edge(B, &v, NULL);
	v = access_vlan(20);
	set_edge(C, &v, NULL);
	v = trunk(0, 10, 20);
	set_edge(T, &v, NULL);
	set_edge(N, NULL, &t);

	RUN(access_ingress);
	RUN(access_egress);
	RUN(multi_output);
	RUN(trains);
	RUN(trunk_filter_and_native);
	RUN(nsh_tag);
	RUN(traces);
	RUN(settings);

	dp_fini();
	sy_test_eal_fini();
	return sy_test_summary();
}
