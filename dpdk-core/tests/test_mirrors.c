/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_mirrors.c — port mirrors (what a port receives, what a port sends,
 * trains included) and flow mirrors (mirror:ID, the packet as it is at that
 * point) through the real pipeline, their counters, copies that find no
 * mbuf (counted, the original unharmed), and the refusals.
 */
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "datapath.h"
#include "mirrors.h"
#include "pipeline.h"
#include "sy_act.h"
#include "sy_flowmod.h"
#include "sy_pkt.h"
#include "sy_test.h"

enum { A = 1, B = 2, C = 3, D = 4 }; /* C: the mirrors' output */
static uint16_t dpdk[5];
static struct pl_lcore *lc;

static struct sy_mirror_desc
desc(uint32_t id, const char *name, uint32_t out)
{
	struct sy_mirror_desc d = { .id = id, .out_port = out };

	snprintf(d.name, sizeof(d.name), "%s", name);
	return d;
}

static int
mod(uint32_t cmd, const struct sy_mirror_desc *d, struct sy_error *err)
{
	return dp_mirror_mod(cmd, d, err);
}

static struct sy_mirror_stats got_st[SY_MIRROR_MAX];
static unsigned int n_st;

static void
st_cb(const struct sy_mirror_stats *st, void *arg)
{
	(void)arg;
	got_st[n_st++] = *st;
}

static struct sy_mirror_stats
stats_of(uint32_t id)
{
	n_st = 0;
	dp_mirror_stats(st_cb, NULL);
	for (unsigned int i = 0; i < n_st; i++)
		if (got_st[i].desc.id == id)
			return got_st[i];
	return (struct sy_mirror_stats){ .desc = { .id = 999 } };
}

static void
flows_clear(void)
{
	sy_test_flow_mod(fm_new(SY_FC_DELETE, SY_TABLE_ALL, 0));
}

static void
forward(uint32_t from, uint32_t to)
{
	struct sy_flow_mod *fm = fm_new(SY_FC_ADD, 0, 10);

	MATCH(fm, in_port, from, 0xffffffffu);
	act(fm, output(to));
	sy_test_flow_mod(fm);
}

/* src A and dst B, out C; A -> B: C gets what A received and what B sent,
 * for every packet of a burst (the later ones go by the train shortcut). */
static void
port_mirror_src_and_dst(void)
{
	struct sy_mirror_desc d = desc(0, "m0", C);
	struct sy_error err;
	uint8_t buf[256], out[256];
	struct pkt_spec s = pkt_default();
	size_t len = pkt_build(&s, buf);

	d.n_src = 1;
	d.src[0] = A;
	d.n_dst = 1;
	d.dst[0] = B;
	CHECK_EQ(mod(SY_MIR_SET, &d, &err), 0);
	flows_clear();
	forward(A, B);
	sy_input(lc, A, buf, len, 1);
	CHECK_EQ(sy_sent_all(dpdk[B], NULL, NULL), 1);
	CHECK_EQ(sy_sent_all(dpdk[C], out, NULL), 2);
	CHECK(memcmp(out, buf, len) == 0);
	sy_input(lc, A, buf, len, 8);
	CHECK_EQ(sy_sent_all(dpdk[B], NULL, NULL), 8);
	CHECK_EQ(sy_sent_all(dpdk[C], NULL, NULL), 16);
	CHECK_EQ(stats_of(0).packets, 18);
	CHECK_EQ(stats_of(0).bytes, 18 * len);
	CHECK_EQ(stats_of(0).no_mbuf, 0);
	/* D -> B: only the dst side */
	forward(D, B);
	sy_input(lc, D, buf, len, 3);
	CHECK_EQ(sy_sent_all(dpdk[B], NULL, NULL), 3);
	CHECK_EQ(sy_sent_all(dpdk[C], NULL, NULL), 3);
	/* deleted: no more copies */
	CHECK_EQ(mod(SY_MIR_DELETE, &d, &err), 0);
	sy_input(lc, A, buf, len, 2);
	CHECK_EQ(sy_sent_all(dpdk[B], NULL, NULL), 2);
	CHECK_EQ(sy_sent_all(dpdk[C], NULL, NULL), 0);
	CHECK_EQ(stats_of(0).desc.id, 999);
}

/* mirror:1 between a rewrite and the output: the copy has the rewrite. */
static void
flow_mirror_copies_as_it_is_then(void)
{
	struct sy_mirror_desc d = desc(1, "flowm", C);
	struct sy_flow_mod *fm = fm_new(SY_FC_ADD, 0, 20);
	struct sy_action ttl = { .type = SY_ACT_SET_FIELD, .field = SY_F_NW_TTL };
	struct sy_action mirror = { .type = SY_ACT_MIRROR, .arg = 1 };
	struct sy_error err;
	struct pkt_spec s = pkt_default();
	uint8_t buf[256], out[256], outb[256];
	size_t len = pkt_build(&s, buf);

	CHECK_EQ(mod(SY_MIR_SET, &d, &err), 0);
	flows_clear();
	ttl.value.bytes[0] = 9;
	MATCH(fm, in_port, A, 0xffffffffu);
	act(fm, ttl);
	act(fm, mirror);
	act(fm, output(B));
	sy_test_flow_mod(fm);
	sy_input(lc, A, buf, len, 1);
	CHECK_EQ(sy_sent_all(dpdk[C], out, NULL), 1);
	CHECK_EQ(sy_sent_all(dpdk[B], outb, NULL), 1);
	CHECK_EQ(out[14 + 8], 9);
	CHECK(memcmp(out, outb, len) == 0);
	CHECK_EQ(stats_of(1).packets, 1);
	CHECK_EQ(mod(SY_MIR_DELETE, &d, &err), 0);
}

/* With the pool empty the copies fail: counted no_mbuf, the packets still
 * reach B, and every mbuf comes back. */
static void
failed_copies_counted_original_unharmed(void)
{
	struct sy_mirror_desc d = desc(2, "m2", C);
	struct sy_error err;
	struct pkt_spec s = pkt_default();
	uint8_t buf[256];
	size_t len = pkt_build(&s, buf);
	struct rte_mbuf *m[4], *hold[8192];
	unsigned int n_hold = 0, avail;

	d.n_src = 1;
	d.src[0] = A;
	CHECK_EQ(mod(SY_MIR_SET, &d, &err), 0);
	flows_clear();
	forward(A, B);
	avail = rte_mempool_avail_count(dp.pool);
	for (int i = 0; i < 4; i++)
		m[i] = pkt_mbuf(dp.pool, buf, len, 0);
	while (n_hold < RTE_DIM(hold) && (hold[n_hold] = rte_pktmbuf_alloc(dp.pool)) != NULL)
		n_hold++;
	pl_input(lc, pl_portmap, pl_port_slot(pl_portmap, A), m, 4);
	sy_tx_flush(lc);
	for (unsigned int i = 0; i < n_hold; i++)
		rte_pktmbuf_free(hold[i]);
	CHECK_EQ(sy_sent_all(dpdk[B], NULL, NULL), 4);
	CHECK_EQ(sy_sent_all(dpdk[C], NULL, NULL), 0);
	CHECK_EQ(stats_of(2).no_mbuf, 4);
	CHECK_EQ(stats_of(2).packets, 0);
	CHECK_EQ(rte_mempool_avail_count(dp.pool), avail);
	CHECK_EQ(mod(SY_MIR_DELETE, &d, &err), 0);
}

static void
refused(struct sy_mirror_desc d, int code, const char *msg)
{
	struct sy_error err;

	CHECK_EQ(mod(SY_MIR_SET, &d, &err), -1);
	CHECK_EQ(err.code, code);
	CHECK_STR_CONTAINS(err.msg, msg);
}

static void
refusals(void)
{
	struct sy_mirror_desc ok = desc(3, "ok", C), d;
	struct sy_error err;

	ok.n_src = 1;
	ok.src[0] = A;
	CHECK_EQ(mod(SY_MIR_SET, &ok, &err), 0);
	d = desc(4, "x", 9);
	refused(d, SY_E_NOENT, "output port 9 does not exist");
	d = desc(4, "x", D);
	d.n_dst = 1;
	d.dst[0] = 8;
	refused(d, SY_E_NOENT, "dst port 8 does not exist");
	d.dst[0] = D;
	refused(d, SY_E_INVAL, "port 4 is both mirrored and the output");
	d = desc(4, "x", A);
	refused(d, SY_E_INVAL, "output port 1 is mirrored by another mirror");
	d = desc(4, "x", D);
	d.n_src = 1;
	d.src[0] = C;
	refused(d, SY_E_INVAL, "port 3 is the output of mirror 'ok'");
	d = desc(4, "ok", D);
	refused(d, SY_E_EXIST, "mirror 'ok' exists");
	d = desc(4, "", D);
	refused(d, SY_E_INVAL, "a name of 1..31 characters");
	d = desc(SY_MIRROR_MAX, "x", D);
	refused(d, SY_E_INVAL, "out of range");
	d = desc(5, "x", D);
	CHECK_EQ(mod(SY_MIR_DELETE, &d, &err), -1);
	CHECK_EQ(err.code, SY_E_NOENT);
	CHECK_EQ(mod(SY_MIR_DELETE, &ok, &err), 0);
	/* mirror:N out of range in a flow */
	struct sy_flow_mod *fm = fm_new(SY_FC_ADD, 0, 1);
	uint32_t n;

	act(fm, (struct sy_action){ .type = SY_ACT_MIRROR, .arg = SY_MIRROR_MAX });
	CHECK(dp_flow_mod(fm, 1, &n, &err) < 0);
	CHECK_STR_CONTAINS(err.msg, "mirror:32, mirrors are 0..31");
}

int
main(void)
{
	struct dp_config cfg = { .n_mbufs = 4096, .max_flows = 1000 };

	lc = sy_test_dp_start("mirrors", &cfg);
	if (lc == NULL)
		return 1;
	dpdk[A] = sy_test_port_add("a", "net_ring0", A, 0, 1);
	dpdk[B] = sy_test_port_add("b", "net_ring1", B, 0, 1);
	dpdk[C] = sy_test_port_add("c", "net_ring2", C, 0, 1);
	dpdk[D] = sy_test_port_add("d", "net_ring3", D, 0, 1);

	RUN(port_mirror_src_and_dst);
	RUN(flow_mirror_copies_as_it_is_then);
	RUN(failed_copies_counted_original_unharmed);
	RUN(refusals);

	dp_fini();
	sy_test_eal_fini();
	return sy_test_summary();
}
