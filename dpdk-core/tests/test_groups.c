/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_groups.c — groups on real mbufs and net_ring ports: the select slot
 * table follows the weights, 1,000 flows spread 1:3 and each flow keeps
 * its bucket; all sends a copy per bucket (by reference, a rewrite in one
 * bucket leaving the others' bytes alone); fast_failover takes the first
 * live bucket; a flow naming a missing group is refused, a group in use
 * cannot be deleted; bad group-mods are refused naming the field; a
 * GROUP_MOD survives the codec, and one out of order is refused.
 *
 * net_ring ports loop back: what the switch sends on a port can be read
 * with rte_eth_rx_burst on that port.
 */
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <switchyard/codec.h>

#include "actions.h"
#include "datapath.h"
#include "flow_table.h"
#include "groups.h"
#include "parse.h"
#include "pipeline.h"
#include "sy_flowmod.h"
#include "sy_pkt.h"
#include "sy_test.h"

enum { A = 1, B = 2, C = 3, D = 4 };
static uint16_t dpdk[5];
static struct pl_lcore *lc;

static struct sy_group_mod gm;

static void
group_begin(uint8_t cmd, uint8_t type, uint32_t id)
{
	memset(&gm, 0, sizeof(gm));
	gm.hdr.command = cmd;
	gm.hdr.type = type;
	gm.hdr.group_id = id;
}

static void
bucket(uint16_t weight, uint32_t watch, struct sy_action a)
{
	struct sy_group_mod_bucket *b = &gm.bucket[gm.n_buckets++];

	b->b.weight = weight;
	b->b.watch_port = watch;
	b->actions[b->n_actions++] = a;
}

static int
group_commit(struct sy_error *err)
{
	return dp_group_mod(&gm, err);
}

static void
group_del(uint32_t id)
{
	struct sy_error err;

	group_begin(SY_GC_DELETE, 0, id);
	CHECK_EQ(group_commit(&err), 0);
}

/* Runs group:id on a UDP frame with source port sport, received on A. */
static void
run_group(uint32_t id, uint16_t sport)
{
	struct sy_action a[] = { { .type = SY_ACT_GROUP, .arg = id } };
	struct pkt_spec s = pkt_default();
	uint8_t frame[256];
	size_t len;
	struct rte_mbuf *m;
	enum sy_drop_reason why;
	struct act_pkt p;

	s.proto = 17;
	s.sport = sport;
	len = pkt_build(&s, frame);
	m = pkt_mbuf(dp.pool, frame, len, 0);
	if (!parse_packet(m, A, &p.key, &p.lay, &why)) {
		rte_pktmbuf_free(m);
		CHECK(0);
		return;
	}
	act_pkt_init(&p, m, pl_port_slot(pl_portmap, A));
	act_run(lc, pl_portmap, &p, a, 1);
	pl_run_once(lc); /* flushes the tx buffers */
}

/* Frees what port id sent; returns how many. */
static unsigned int
drain(uint32_t id)
{
	struct rte_mbuf *m[32];
	unsigned int n, total = 0;

	while ((n = rte_eth_rx_burst(dpdk[id], 0, m, 32)) > 0) {
		rte_pktmbuf_free_bulk(m, n);
		total += n;
	}
	return total;
}

static struct sy_group_stats got;

static void
stats_cb(const struct sy_group_stats *st, void *arg)
{
	(void)arg;
	got = *st;
}

static void
slots_follow_weights(void)
{
	uint16_t w13[] = { 1, 3 }, w111[] = { 1, 1, 1 }, w0[] = { 0, 0 }, w01[] = { 0, 5 };
	uint8_t slot[GRP_SLOTS];
	unsigned int n[3] = { 0 };

	CHECK_EQ(grp_fill_slots(w13, 2, slot), GRP_SLOTS);
	for (unsigned int i = 0; i < GRP_SLOTS; i++)
		n[slot[i]]++;
	CHECK_EQ(n[0], 64);
	CHECK_EQ(n[1], 192);
	memset(n, 0, sizeof(n));
	CHECK_EQ(grp_fill_slots(w111, 3, slot), GRP_SLOTS);
	for (unsigned int i = 0; i < GRP_SLOTS; i++)
		n[slot[i]]++;
	CHECK(n[0] >= 85 && n[0] <= 86 && n[1] >= 85 && n[1] <= 86 && n[2] >= 85 && n[2] <= 86);
	CHECK_EQ(grp_fill_slots(w0, 2, slot), 0);
	CHECK_EQ(grp_fill_slots(w01, 2, slot), GRP_SLOTS);
	for (unsigned int i = 0; i < GRP_SLOTS; i++)
		CHECK_EQ(slot[i], 1);
}

static void
hash_fields(void)
{
	struct sy_flow_key a, b;

	memset(&a, 0, sizeof(a));
	a.nw_src = 0x0a000001;
	a.nw_dst = 0x0a000002;
	a.nw_proto = 17;
	a.tp_src = 1000;
	a.tp_dst = 53;
	b = a;
	CHECK_EQ(grp_hash(&a, 0), grp_hash(&b, 0));
	b.dl_src[0] = 1; /* not in the 5-tuple */
	CHECK_EQ(grp_hash(&a, 0), grp_hash(&b, 0));
	CHECK(grp_hash(&a, SY_GSEL_DL_SRC) != grp_hash(&b, SY_GSEL_DL_SRC));
	b = a;
	b.tp_src = 1001;
	CHECK(grp_hash(&a, 0) != grp_hash(&b, 0));
	CHECK_EQ(grp_hash(&a, SY_GSEL_NW_DST), grp_hash(&b, SY_GSEL_NW_DST));
}

static void
select_spreads_and_sticks(void)
{
	struct sy_error err;
	uint8_t first[1000];
	unsigned int on_b = 0, on_c = 0;

	group_begin(SY_GC_ADD, SY_GT_SELECT, 1);
	bucket(1, SY_NO_WATCH, output(B));
	bucket(3, SY_NO_WATCH, output(C));
	CHECK_EQ(group_commit(&err), 0);
	for (int round = 0; round < 3; round++) {
		for (unsigned int f = 0; f < 1000; f++) {
			unsigned int b, c;

			run_group(1, (uint16_t)(10000 + f));
			b = drain(B);
			c = drain(C);
			CHECK_EQ(b + c, 1);
			if (round == 0) {
				first[f] = b ? 'b' : 'c';
				on_b += b;
				on_c += c;
			} else {
				CHECK_EQ(first[f], b ? 'b' : 'c'); /* the same bucket every time */
			}
		}
	}
	printf("     select 1:3 over 1000 flows: %u / %u\n", on_b, on_c);
	CHECK(on_b >= 225 && on_b <= 275);
	CHECK_EQ(dp_group_stats(1, stats_cb, NULL, &err), 0);
	CHECK_EQ(got.packets, 3000);
	CHECK_EQ(got.n_buckets, 2);
	CHECK_EQ(got.bucket[0].packets, 3 * on_b);
	CHECK_EQ(got.bucket[1].packets, 3 * on_c);
	group_del(1);
}

static void
all_copies(void)
{
	struct sy_error err;
	uint8_t mac[6] = { 2, 0, 0, 0, 0, 0x99 };
	struct sy_action sf = { .type = SY_ACT_SET_FIELD, .field = SY_F_DL_DST };
	struct rte_mbuf *mb, *mc;

	memcpy(sf.value.bytes, mac, 6);
	group_begin(SY_GC_ADD, SY_GT_ALL, 2);
	bucket(0, SY_NO_WATCH, output(B));
	bucket(0, SY_NO_WATCH, sf);
	gm.bucket[1].actions[gm.bucket[1].n_actions++] = output(C);
	CHECK_EQ(group_commit(&err), 0);
	run_group(2, 7);
	CHECK_EQ(rte_eth_rx_burst(dpdk[B], 0, &mb, 1), 1);
	CHECK_EQ(rte_eth_rx_burst(dpdk[C], 0, &mc, 1), 1);
	/* B: the original bytes; C: its own copy, rewritten */
	CHECK(memcmp(rte_pktmbuf_mtod(mb, uint8_t *), mac, 6) != 0);
	CHECK(memcmp(rte_pktmbuf_mtod(mc, uint8_t *), mac, 6) == 0);
	rte_pktmbuf_free(mb);
	rte_pktmbuf_free(mc);
	/* two plain outputs share one mbuf */
	gm.bucket[1].n_actions = 0;
	gm.bucket[1].actions[gm.bucket[1].n_actions++] = output(C);
	gm.hdr.command = SY_GC_MODIFY;
	CHECK_EQ(group_commit(&err), 0);
	run_group(2, 7);
	CHECK_EQ(rte_eth_rx_burst(dpdk[B], 0, &mb, 1), 1);
	CHECK_EQ(rte_eth_rx_burst(dpdk[C], 0, &mc, 1), 1);
	CHECK(mb == mc);
	CHECK_EQ(rte_mbuf_refcnt_read(mb), 2);
	rte_pktmbuf_free(mb);
	rte_pktmbuf_free(mc);
	CHECK_EQ(dp_group_stats(2, stats_cb, NULL, &err), 0);
	CHECK_EQ(got.packets, 2); /* totals last across a MODIFY */
	CHECK_EQ(got.bucket[0].packets, 1);
	group_del(2);
}

static void
fast_failover(void)
{
	struct sy_error err;
	struct sy_port_desc d;

	group_begin(SY_GC_ADD, SY_GT_FF, 3);
	bucket(0, B, output(B));
	bucket(0, C, output(C));
	CHECK_EQ(group_commit(&err), 0);
	run_group(3, 1);
	CHECK_EQ(drain(B), 1);
	CHECK_EQ(drain(C), 0);
	CHECK_EQ(dp_port_mod(B, 0, 0, 0, &d, &err), 0); /* admin down */
	run_group(3, 1);
	CHECK_EQ(drain(B), 0);
	CHECK_EQ(drain(C), 1);
	CHECK_EQ(dp_port_mod(C, 0, 0, 0, &d, &err), 0);
	run_group(3, 1); /* no live bucket */
	CHECK_EQ(drain(C), 0);
	CHECK_EQ(dp_group_stats(3, stats_cb, NULL, &err), 0);
	CHECK_EQ(got.dropped, 1);
	CHECK_EQ(dp_port_mod(B, 0, 1, 0, &d, &err), 0);
	CHECK_EQ(dp_port_mod(C, 0, 1, 0, &d, &err), 0);
	run_group(3, 1);
	CHECK_EQ(drain(B), 1);
	group_del(3);
}

static void
flows_and_groups(void)
{
	struct sy_error err;
	struct sy_flow_mod *fm = fm_new(SY_FC_ADD, 0, 10);
	uint32_t n;

	act(fm, (struct sy_action){ .type = SY_ACT_GROUP, .arg = 7 });
	CHECK_EQ(dp_flow_mod(fm, 1, &n, &err), -1);
	CHECK_EQ(err.code, SY_E_NOENT);
	CHECK_STR_CONTAINS(err.msg, "group:7, no such group");
	group_begin(SY_GC_ADD, SY_GT_INDIRECT, 7);
	bucket(0, SY_NO_WATCH, output(B));
	CHECK_EQ(group_commit(&err), 0);
	CHECK_EQ(dp_flow_mod(fm, 1, &n, &err), 0);
	group_begin(SY_GC_DELETE, 0, 7);
	CHECK_EQ(group_commit(&err), -1);
	CHECK_STR_CONTAINS(err.msg, "group 7 is used by 1 flow");
	CHECK_EQ(dp_group_stats(7, stats_cb, NULL, &err), 0);
	CHECK_EQ(got.n_flows, 1);
	fm->hdr.command = SY_FC_DELETE;
	fm->n_actions = 0;
	CHECK_EQ(dp_flow_mod(fm, 1, &n, &err), 0);
	group_del(7);
	CHECK(!grp_exists(7));
}

static void
bad_group_mods(void)
{
	struct sy_error err;

	group_begin(SY_GC_ADD, 9, 1);
	CHECK_EQ(group_commit(&err), -1);
	CHECK_STR_CONTAINS(err.msg, "type 9");
	group_begin(SY_GC_ADD, SY_GT_INDIRECT, 1);
	CHECK_EQ(group_commit(&err), -1);
	CHECK_STR_CONTAINS(err.msg, "exactly one bucket");
	group_begin(SY_GC_ADD, SY_GT_FF, 1);
	bucket(0, SY_NO_WATCH, output(B));
	CHECK_EQ(group_commit(&err), -1);
	CHECK_STR_CONTAINS(err.msg, "needs a watch_port");
	group_begin(SY_GC_ADD, SY_GT_FF, 1);
	bucket(0, 42, output(B));
	CHECK_EQ(group_commit(&err), -1);
	CHECK_STR_CONTAINS(err.msg, "watch_port 42, no such port");
	group_begin(SY_GC_ADD, SY_GT_ALL, 1);
	bucket(0, SY_NO_WATCH, goto_table(3));
	CHECK_EQ(group_commit(&err), -1);
	CHECK_STR_CONTAINS(err.msg, "goto_table is not allowed in a bucket");
	group_begin(SY_GC_ADD, SY_GT_ALL, 1);
	bucket(0, SY_NO_WATCH, output(42));
	CHECK_EQ(group_commit(&err), -1);
	CHECK_STR_CONTAINS(err.msg, "output:42, no such port");
	group_begin(SY_GC_MODIFY, SY_GT_ALL, 1);
	CHECK_EQ(group_commit(&err), -1);
	CHECK_EQ(err.code, SY_E_NOENT);
	group_begin(SY_GC_ADD, SY_GT_ALL, SY_GROUP_ID_MAX + 1);
	CHECK_EQ(group_commit(&err), -1);
	CHECK_STR_CONTAINS(err.msg, "group_id");
	group_begin(SY_GC_ADD, SY_GT_ALL, 1);
	CHECK_EQ(group_commit(&err), 0);
	CHECK_EQ(group_commit(&err), -1);
	CHECK_EQ(err.code, SY_E_EXIST);
	group_del(1);
}

/* GROUP_MOD through the codec: a round trip, and malformed orders refused. */
static void
group_mod_codec(void)
{
	static struct sy_group_mod back;
	struct sy_msgbuf b;
	struct sy_msg m;
	char err[SY_CODEC_ERR_MAX];
	struct sy_action out = output(B);

	group_begin(SY_GC_ADD, SY_GT_SELECT, 12);
	gm.hdr.sel_fields = SY_GSEL_NW_DST;
	bucket(1, SY_NO_WATCH, output(B));
	bucket(3, C, output(C));
	sy_msg_init(&b);
	sy_msg_begin(&b, SY_MSG_GROUP_MOD, 0, 9);
	sy_put_group_mod(&b, &gm);
	CHECK_EQ(sy_msg_finish(&b), 0);
	CHECK_EQ(sy_msg_parse(b.data, b.len, &m, err, sizeof(err)), 0);
	CHECK_EQ(sy_get_group_mod(&m, &back, err, sizeof(err)), 0);
	CHECK(memcmp(&back, &gm, sizeof(gm)) == 0);
	sy_msg_free(&b);

	/* an action before any bucket; no header */
	sy_msg_init(&b);
	sy_msg_begin(&b, SY_MSG_GROUP_MOD, 0, 10);
	sy_msg_put(&b, SY_A_GROUP_HDR, &gm.hdr, sizeof(gm.hdr));
	sy_msg_put(&b, SY_A_FLOW_ACTION, &out, sizeof(out));
	CHECK_EQ(sy_msg_finish(&b), 0);
	CHECK_EQ(sy_msg_parse(b.data, b.len, &m, err, sizeof(err)), 0);
	CHECK_EQ(sy_get_group_mod(&m, &back, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "FLOW_ACTION before any GROUP_BUCKET");
	sy_msg_free(&b);
	sy_msg_init(&b);
	sy_msg_begin(&b, SY_MSG_GROUP_MOD, 0, 11);
	CHECK_EQ(sy_msg_finish(&b), 0);
	CHECK_EQ(sy_msg_parse(b.data, b.len, &m, err, sizeof(err)), 0);
	CHECK_EQ(sy_get_group_mod(&m, &back, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "missing attribute GROUP_HDR");
	sy_msg_free(&b);
}

int
main(void)
{
	struct dp_config cfg = { .n_mbufs = 4096, .max_flows = 1000 };

	lc = sy_test_dp_start("groups", &cfg);
	if (lc == NULL)
		return 1;
	dpdk[A] = sy_test_port_add("a", "net_ring0", A, 0, 1);
	dpdk[B] = sy_test_port_add("b", "net_ring1", B, 0, 1);
	dpdk[C] = sy_test_port_add("c", "net_ring2", C, 0, 1);
	dpdk[D] = sy_test_port_add("d", "net_ring3", D, 0, 1);

	RUN(slots_follow_weights);
	RUN(hash_fields);
	RUN(select_spreads_and_sticks);
	RUN(all_copies);
	RUN(fast_failover);
	RUN(flows_and_groups);
	RUN(bad_group_mods);
	RUN(group_mod_codec);

	dp_fini();
	sy_test_eal_fini();
	return sy_test_summary();
}
