/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_packet_in.c — packets to the controller through the real pipeline
 * (pl_input) and the packet-in ring: what a record says (port, table,
 * cookie, reason, lengths, bytes), references instead of copies, the table
 * miss, the rate limit and a full ring, each refusal counted `controller`,
 * and no mbuf lost.  Packet-out: queued to the lcore and sent from its
 * loop with the exact bytes, counted in tx; output:table through the
 * tables; each refusal names what is wrong; a full queue is BUSY.
 */
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "datapath.h"
#include "dataplane.h"
#include "packet_in.h"
#include "packet_out.h"
#include "pipeline.h"
#include "sy_act.h"
#include "sy_flowmod.h"
#include "sy_pkt.h"
#include "sy_test.h"

enum { A = 1, B = 2, C = 3 }; /* C has MTU 100 */
static uint16_t dpdk[4];
static struct pl_lcore *lc;

/* What the drained records said. */
#define GOT_MAX 2048
static struct got {
	struct pin_rec r;
	uint32_t len;
	uint8_t data[256];
} got[GOT_MAX];
static unsigned int n_got;

static void
capture(const struct pin_rec *r, const void *data, uint32_t len)
{
	if (n_got < GOT_MAX) {
		got[n_got].r = *r;
		got[n_got].len = len;
		memcpy(got[n_got].data, data, len < sizeof(got[0].data) ? len : sizeof(got[0].data));
	}
	n_got++;
}

static unsigned int
drain(void)
{
	n_got = 0;
	while (pin_drain_to(capture))
		;
	return n_got;
}

static size_t
frame(uint8_t *buf, int payload)
{
	struct pkt_spec s = pkt_default();

	s.payload = payload;
	return pkt_build(&s, buf);
}

static void
flows_clear(void)
{
	struct sy_flow_mod *fm = fm_new(SY_FC_DELETE, SY_TABLE_ALL, 0);

	sy_test_flow_mod(fm);
}

static void
flow(uint16_t prio, uint64_t cookie, const struct sy_action *a, unsigned int n)
{
	struct sy_flow_mod *fm = fm_new(SY_FC_ADD, 0, prio);

	fm->hdr.cookie = cookie;
	for (unsigned int i = 0; i < n; i++)
		act(fm, a[i]);
	sy_test_flow_mod(fm);
}

static void
miss(uint8_t how)
{
	struct sy_table_desc d = { .id = 0, .miss = how }, out;
	struct sy_error err;

	if (dp_table_mod(&d, &out, &err) < 0) {
		fprintf(stderr, "table_mod: %s\n", err.msg);
		sy_test_failed_checks++;
	}
}

static const struct sy_action CTL_ALL = { .type = SY_ACT_CONTROLLER, .arg = SY_PIN_MAX_LEN };

/* actions=controller: one record with the ingress port, table, the entry's
 * cookie, reason action and the whole frame; nothing sent, nothing dropped,
 * every mbuf back in the pool. */
static void
controller_action_sends_the_frame(void)
{
	uint8_t buf[256];
	size_t len = frame(buf, 60);
	unsigned int avail = rte_mempool_avail_count(dp.pool);

	flows_clear();
	sy_port_counters_clear();
	flow(10, 0xc0ffee, &CTL_ALL, 1);
	sy_input(lc, A, buf, len, 1);
	CHECK_EQ(drain(), 1);
	CHECK_EQ(got[0].r.in_port, A);
	CHECK_EQ(got[0].r.table, 0);
	CHECK_EQ(got[0].r.cookie, 0xc0ffee);
	CHECK_EQ(got[0].r.reason, SY_PIN_ACTION);
	CHECK_EQ(got[0].r.total_len, len);
	CHECK_EQ(got[0].len, len);
	CHECK(memcmp(got[0].data, buf, len) == 0);
	CHECK_EQ(sy_port_counters(A).drops[SY_DROP_CONTROLLER], 0);
	CHECK_EQ(sy_port_counters(A).drops[SY_DROP_ACTION_DROP], 0);
	CHECK_EQ(sy_sent_all(dpdk[B], NULL, NULL), 0);
	CHECK_EQ(rte_mempool_avail_count(dp.pool), avail);
}

/* controller(max_len=20): the first 20 bytes, and the whole length. */
static void
max_len_cuts_the_bytes(void)
{
	struct sy_action a = { .type = SY_ACT_CONTROLLER, .arg = 20 };
	uint8_t buf[256];
	size_t len = frame(buf, 100);

	flows_clear();
	flow(10, 7, &a, 1);
	sy_input(lc, A, buf, len, 1);
	CHECK_EQ(drain(), 1);
	CHECK_EQ(got[0].len, 20);
	CHECK_EQ(got[0].r.total_len, len);
	CHECK(memcmp(got[0].data, buf, 20) == 0);
}

/* output:controller then output to B: B gets the frame, the controller
 * too, and the mbuf is shared (no copy made). */
static void
controller_and_output_share_the_mbuf(void)
{
	struct sy_action a[2] = { output(SY_PORT_CONTROLLER), output(B) };
	uint8_t buf[256], out[256];
	size_t len = frame(buf, 30), olen = 0;
	uint64_t copies = lc->ctr.copies;

	flows_clear();
	flow(10, 1, a, 2);
	sy_input(lc, A, buf, len, 1);
	CHECK_EQ(sy_sent_all(dpdk[B], out, &olen), 1);
	CHECK_EQ(olen, len);
	CHECK(memcmp(out, buf, len) == 0);
	CHECK_EQ(drain(), 1);
	CHECK(memcmp(got[0].data, buf, len) == 0);
	CHECK_EQ(lc->ctr.copies, copies);
}

/* controller before a rewrite: the controller sees the bytes as they were
 * (the rewrite works on a copy), B the rewritten ones. */
static void
controller_sees_bytes_before_a_rewrite(void)
{
	struct sy_action a[3] = { CTL_ALL,
				  { .type = SY_ACT_SET_FIELD, .field = SY_F_NW_DST },
				  output(B) };
	uint8_t buf[256], out[256];
	size_t len = frame(buf, 30), olen = 0;
	uint32_t nd = 0x0a0000fe;

	memcpy(a[1].value.bytes, &nd, 4);
	flows_clear();
	flow(10, 1, a, 3);
	sy_input(lc, A, buf, len, 1);
	CHECK_EQ(sy_sent_all(dpdk[B], out, &olen), 1);
	CHECK_EQ(out[14 + 19], 0xfe); /* nw_dst's last byte */
	CHECK_EQ(drain(), 1);
	CHECK(memcmp(got[0].data, buf, len) == 0);
}

/* Table miss=controller: reason no_match, SY_PIN_MISS_LEN bytes, for every
 * packet of a burst (also those the flow cache and trains answer), nothing
 * counted as table_miss. */
static void
table_miss_to_controller(void)
{
	uint8_t buf[512];
	size_t len = frame(buf, 300);

	flows_clear();
	sy_port_counters_clear();
	miss(SY_MISS_CONTROLLER);
	sy_input(lc, A, buf, len, 5);
	sy_input(lc, A, buf, len, 3); /* cached now */
	CHECK_EQ(drain(), 8);
	for (unsigned int i = 0; i < 8 && i < n_got; i++) {
		CHECK_EQ(got[i].r.reason, SY_PIN_NO_MATCH);
		CHECK_EQ(got[i].len, SY_PIN_MISS_LEN);
		CHECK_EQ(got[i].r.total_len, len);
		CHECK_EQ(got[i].r.cookie, 0);
	}
	CHECK_EQ(sy_port_counters(A).drops[SY_DROP_TABLE_MISS], 0);
	miss(SY_MISS_DROP);
	sy_input(lc, A, buf, len, 2);
	CHECK_EQ(drain(), 0);
	CHECK_EQ(sy_port_counters(A).drops[SY_DROP_TABLE_MISS], 2);
}

/* 100 packet-ins at once at a rate of 100/s: the burst (25) goes, the rest
 * is counted `controller`, and the output beside it still goes. */
static void
rate_limit_counts_controller(void)
{
	struct sy_action a[2] = { CTL_ALL, output(B) };
	uint8_t buf[256];
	size_t len = frame(buf, 30);
	unsigned int n;
	uint64_t dropped;

	pin_set_rate(100);
	flows_clear();
	sy_port_counters_clear();
	flow(10, 1, a, 2);
	sy_input(lc, A, buf, len, 100);
	n = drain();
	dropped = sy_port_counters(A).drops[SY_DROP_CONTROLLER];
	printf("     rate 100/s: %u packet-ins of 100, %lu counted controller\n", n,
	       (unsigned long)dropped);
	CHECK(n >= 25 && n <= 26);
	CHECK_EQ(n + dropped, 100);
	CHECK_EQ(sy_sent_all(dpdk[B], NULL, NULL) + sy_sent_all(dpdk[B], NULL, NULL), 100);
	pin_set_rate(0);
}

/* A ring that nobody drains holds PIN_RING_SIZE; the rest are counted. */
static void
full_ring_counts_controller(void)
{
	uint8_t buf[256];
	size_t len = frame(buf, 30);
	unsigned int avail = rte_mempool_avail_count(dp.pool);

	pin_set_rate(PIN_MAX_RATE);
	flows_clear();
	sy_port_counters_clear();
	flow(10, 1, &CTL_ALL, 1);
	sy_input(lc, A, buf, len, PIN_RING_SIZE + 100);
	CHECK_EQ(sy_port_counters(A).drops[SY_DROP_CONTROLLER], 100);
	CHECK_EQ(drain(), PIN_RING_SIZE);
	CHECK_EQ(rte_mempool_avail_count(dp.pool), avail);
	pin_set_rate(0);
}

/* max_len 0 or over 65535 is refused, naming the action. */
static void
bad_max_len_refused(void)
{
	struct sy_flow_mod *fm = fm_new(SY_FC_ADD, 0, 1);
	struct sy_error err;
	uint32_t n;

	act(fm, (struct sy_action){ .type = SY_ACT_CONTROLLER, .arg = 0 });
	CHECK(dp_flow_mod(fm, 1, &n, &err) < 0);
	CHECK_STR_CONTAINS(err.msg, "controller(max_len=0)");
}

/* output:B from in_port A: sent by the lcore's loop, exact bytes, in B's
 * tx counter; nothing before the loop runs. */
static void
packet_out_sends_from_the_loop(void)
{
	struct sy_action a = output(B);
	uint8_t buf[256], out[256];
	size_t len = frame(buf, 40), olen = 0;
	struct sy_error err;

	flows_clear();
	sy_port_counters_clear();
	CHECK_EQ(dp_packet_out(A, buf, (uint32_t)len, &a, 1, &err), 0);
	CHECK_EQ(sy_sent_all(dpdk[B], NULL, NULL), 0);
	pl_run_once(lc);
	CHECK_EQ(sy_sent_all(dpdk[B], out, &olen), 1);
	CHECK_EQ(olen, len);
	CHECK(memcmp(out, buf, len) == 0);
	CHECK_EQ(sy_port_counters(B).tx_packets, 1);
	CHECK_EQ(sy_port_counters(B).tx_bytes, len);
	/* without in_port, with a rewrite first */
	struct sy_action b[2] = { { .type = SY_ACT_SET_FIELD, .field = SY_F_NW_TTL }, output(B) };

	b[0].value.bytes[0] = 7;
	CHECK_EQ(dp_packet_out(SY_PORT_ANY, buf, (uint32_t)len, b, 2, &err), 0);
	pl_run_once(lc);
	CHECK_EQ(sy_sent_all(dpdk[B], out, &olen), 1);
	CHECK_EQ(out[14 + 8], 7);
	/* to the controller from no port: in_port CONTROLLER */
	CHECK_EQ(dp_packet_out(SY_PORT_ANY, buf, (uint32_t)len, &CTL_ALL, 1, &err), 0);
	pl_run_once(lc);
	CHECK_EQ(drain(), 1);
	CHECK_EQ(got[0].r.in_port, SY_PORT_CONTROLLER);
	CHECK_EQ(got[0].r.total_len, len);
	/* and from A through a group that has no bucket: counted on A; from no port: not counted */
	struct sy_action g = { .type = SY_ACT_GROUP, .arg = 999 };

	sy_port_counters_clear();
	CHECK_EQ(dp_packet_out(SY_PORT_ANY, buf, (uint32_t)len, &g, 1, &err), 0);
	CHECK_EQ(dp_packet_out(A, buf, (uint32_t)len, &g, 1, &err), 0);
	pl_run_once(lc);
	CHECK_EQ(sy_port_counters(A).drops[SY_DROP_GROUP_NO_BUCKET], 1);
}

/* output:table runs the frame through the tables as if received on A. */
static void
packet_out_table_runs_the_flows(void)
{
	struct sy_action a = output(SY_PORT_TABLE), fwd = output(B);
	struct sy_flow_mod *fm = fm_new(SY_FC_ADD, 0, 5);
	uint8_t buf[256], out[256];
	size_t len = frame(buf, 40), olen = 0;
	struct sy_error err;

	flows_clear();
	MATCH(fm, in_port, A, 0xffffffffu);
	act(fm, fwd);
	sy_test_flow_mod(fm);
	CHECK_EQ(dp_packet_out(A, buf, (uint32_t)len, &a, 1, &err), 0);
	pl_run_once(lc);
	CHECK_EQ(sy_sent_all(dpdk[B], out, &olen), 1);
	CHECK(memcmp(out, buf, len) == 0);
	/* from another port, the flow does not match: a miss */
	sy_port_counters_clear();
	CHECK_EQ(dp_packet_out(C, buf, (uint32_t)len, &a, 1, &err), 0);
	pl_run_once(lc);
	CHECK_EQ(sy_sent_all(dpdk[B], NULL, NULL), 0);
	CHECK_EQ(sy_port_counters(C).drops[SY_DROP_TABLE_MISS], 1);
}

static void
refused(uint32_t in_port, const uint8_t *buf, uint32_t len, const struct sy_action *a,
	unsigned int n, int code, const char *msg)
{
	struct sy_error err;

	CHECK_EQ(dp_packet_out(in_port, buf, len, a, n, &err), -1);
	CHECK_EQ(err.code, code);
	CHECK_STR_CONTAINS(err.msg, msg);
}

/* Each refusal names what is wrong, and nothing is sent. */
static void
packet_out_refusals(void)
{
	struct sy_action out_b = output(B), out_c = output(C), in = output(SY_PORT_IN_PORT);
	struct sy_action gt = goto_table(1), tbl_first[2] = { output(SY_PORT_TABLE), output(B) };
	uint8_t buf[256];
	size_t len = frame(buf, 100);

	refused(A, buf, 0, &out_b, 1, SY_E_INVAL, "frame: empty");
	refused(A, buf, 10, &out_b, 1, SY_E_INVAL, "shorter than an Ethernet header");
	refused(9, buf, (uint32_t)len, &out_b, 1, SY_E_NOENT, "in_port: no port 9");
	refused(A, buf, (uint32_t)len, &out_c, 1, SY_E_INVAL, "over port 3's MTU 100");
	refused(A, buf, (uint32_t)len, NULL, 0, SY_E_INVAL, "actions: none");
	refused(A, buf, (uint32_t)len, &gt, 1, SY_E_INVAL, "goto_table is not for a packet-out");
	refused(SY_PORT_ANY, buf, (uint32_t)len, &in, 1, SY_E_INVAL, "output:in_port needs an in_port");
	refused(A, buf, (uint32_t)len, tbl_first, 2, SY_E_INVAL, "output:table must be the last");
	struct sy_action nop = output(77);

	refused(A, buf, (uint32_t)len, &nop, 1, SY_E_NOENT, "output:77: no such port");
	pl_run_once(lc);
	CHECK_EQ(sy_sent_all(dpdk[B], NULL, NULL), 0);
}

/* POUT_RING_SIZE wait; the next is BUSY; the loop then sends them all. */
static void
packet_out_queue_full_is_busy(void)
{
	struct sy_action a = output(B);
	uint8_t buf[256];
	size_t len = frame(buf, 20);
	struct sy_error err;
	unsigned int avail = rte_mempool_avail_count(dp.pool);

	for (int i = 0; i < POUT_RING_SIZE; i++)
		CHECK_EQ(dp_packet_out(A, buf, (uint32_t)len, &a, 1, &err), 0);
	CHECK_EQ(dp_packet_out(A, buf, (uint32_t)len, &a, 1, &err), -1);
	CHECK_EQ(err.code, SY_E_BUSY);
	pl_run_once(lc);
	CHECK_EQ(sy_sent_all(dpdk[B], NULL, NULL), POUT_RING_SIZE);
	CHECK_EQ(rte_mempool_avail_count(dp.pool), avail);
}

int
main(void)
{
	struct dp_config cfg = { .n_mbufs = 4096, .max_flows = 1000 };

	lc = sy_test_dp_start("packet_in", &cfg);
	if (lc == NULL)
		return 1;
	dpdk[A] = sy_test_port_add("a", "net_ring0", A, 0, 1);
	dpdk[B] = sy_test_port_add("b", "net_ring1", B, 0, 1);
	dpdk[C] = sy_test_port_add("c", "net_ring2", C, 100, 1);

	RUN(controller_action_sends_the_frame);
	RUN(max_len_cuts_the_bytes);
	RUN(controller_and_output_share_the_mbuf);
	RUN(controller_sees_bytes_before_a_rewrite);
	RUN(table_miss_to_controller);
	RUN(rate_limit_counts_controller);
	RUN(full_ring_counts_controller);
	RUN(bad_max_len_refused);
	RUN(packet_out_sends_from_the_loop);
	RUN(packet_out_table_runs_the_flows);
	RUN(packet_out_refusals);
	RUN(packet_out_queue_full_is_busy);

	dp_fini();
	sy_test_eal_fini();
	return sy_test_summary();
}
