/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ports_rxq.c — rx queues per port and their lcores: the round-robin
 * assignment (a pure function), ports with several queues (net_ring: what
 * is sent on its tx queue q arrives on its rx queue q), refusing more
 * queues than a device has, changing the count of a running port, and the
 * PMD counters with their clear baseline.
 */
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "datapath.h"
#include "pipeline.h"
#include "ports.h"
#include "sy_pkt.h"
#include "sy_test.h"

static struct pl_lcore *lc;
static struct pl_pollq *poll_buf; /* 3 lcores' worth */

/* --- the assignment, as a pure function --- */

static void
expect_q(const struct pl_pollq *pq, unsigned int i, uint16_t slot, uint16_t queue)
{
	CHECK(i < pq->n);
	if (i >= pq->n)
		return;
	CHECK_EQ(pq->q[i].slot, slot);
	CHECK_EQ(pq->q[i].queue, queue);
}

static void
assign_round_robin_over_lcores(void)
{
	/* a (slot 5, 2 queues), b (slot 0, 1), c (slot 9, 2), in id order */
	const struct ports_rxq_load in[] = { { 5, 2 }, { 0, 1 }, { 9, 2 } };

	ports_assign_rxqs(in, 3, 2, poll_buf);
	CHECK_EQ(poll_buf[0].n, 3);
	CHECK_EQ(poll_buf[1].n, 2);
	expect_q(&poll_buf[0], 0, 5, 0);
	expect_q(&poll_buf[1], 0, 5, 1); /* a port's queues on different lcores */
	expect_q(&poll_buf[0], 1, 0, 0); /* the deal goes on from port to port */
	expect_q(&poll_buf[1], 1, 9, 0);
	expect_q(&poll_buf[0], 2, 9, 1);
}

static void
assign_one_lcore_polls_everything(void)
{
	const struct ports_rxq_load in[] = { { 1, 4 }, { 2, 1 } };

	ports_assign_rxqs(in, 2, 1, poll_buf);
	CHECK_EQ(poll_buf[0].n, 5);
	for (uint16_t q = 0; q < 4; q++)
		expect_q(&poll_buf[0], q, 1, q);
	expect_q(&poll_buf[0], 4, 2, 0);
}

static void
assign_leaves_spare_lcores_empty(void)
{
	const struct ports_rxq_load in[] = { { 3, 1 } };

	poll_buf[1].n = 7; /* stale: must be reset */
	ports_assign_rxqs(in, 1, 3, poll_buf);
	CHECK_EQ(poll_buf[0].n, 1);
	CHECK_EQ(poll_buf[1].n, 0);
	CHECK_EQ(poll_buf[2].n, 0);
	ports_assign_rxqs(NULL, 0, 3, poll_buf);
	CHECK_EQ(poll_buf[0].n, 0);
}

static void
assign_balances_many_queues(void)
{
	struct ports_rxq_load in[SY_MAX_PORTS];
	unsigned int total = 0;

	for (unsigned int i = 0; i < SY_MAX_PORTS; i++) {
		in[i] = (struct ports_rxq_load){ .slot = (uint16_t)i, .n_rxq = 1 + i % SY_PORT_RXQ_MAX };
		total += in[i].n_rxq;
	}
	ports_assign_rxqs(in, SY_MAX_PORTS, 3, poll_buf);
	CHECK_EQ(poll_buf[0].n + poll_buf[1].n + poll_buf[2].n, total);
	for (unsigned int l = 0; l < 3; l++)
		CHECK(poll_buf[l].n == total / 3 || poll_buf[l].n == total / 3 + 1);
}

/* --- ports with several queues --- */

static uint16_t
add_port(const char *name, const char *devargs, uint32_t id, uint16_t n_rxq,
	 struct sy_port_desc *d)
{
	struct dp_port_add_req req = { .name = name, .devargs = devargs, .id = id,
				       .admin_up = 1, .n_rxq = n_rxq };
	struct sy_error err;

	if (dp_port_add(&req, d, &err) < 0) {
		fprintf(stderr, "dp_port_add %s: %s\n", devargs, err.msg);
		return UINT16_MAX;
	}
	return d->dpdk_port;
}

/* The queues lcore slot 0 polls for port slot s, as a bit set. */
static unsigned int
polled(uint32_t port_id)
{
	const struct pl_portmap *pm = pl_portmap;
	uint16_t s = pl_port_slot(pm, port_id);
	unsigned int bits = 0;

	for (unsigned int i = 0; i < pm->poll[0].n; i++)
		if (pm->poll[0].q[i].slot == s)
			bits |= 1u << pm->poll[0].q[i].queue;
	return bits;
}

/* Puts n frames into rx queue q of net_ring device dev (its ring q, which
 * the PMD names ETH_RXTX<q>_<dev>), runs the pipeline. */
static void
inject(const char *dev, uint16_t q, unsigned int n)
{
	struct pkt_spec s = pkt_default();
	uint8_t b[2048];
	size_t len = pkt_build(&s, b);
	struct rte_mbuf *m[PL_BURST];
	char name[RTE_RING_NAMESIZE];
	struct rte_ring *r;

	snprintf(name, sizeof(name), "ETH_RXTX%u_%s", q, dev);
	r = rte_ring_lookup(name);
	CHECK(r != NULL);
	if (r == NULL)
		return;
	for (unsigned int i = 0; i < n; i++)
		m[i] = pkt_mbuf(dp.pool, b, len, 0);
	CHECK_EQ(rte_ring_enqueue_burst(r, (void **)m, n, NULL), n);
	pl_run_once(lc);
}

static struct sy_pmd_stats pmd;

static void
pmd_cb(const struct sy_pmd_stats *st, void *arg)
{
	if (st->slot == 0)
		pmd = *st;
	(*(unsigned int *)arg)++;
}

static void
read_pmd(void)
{
	unsigned int n = 0;

	memset(&pmd, 0, sizeof(pmd));
	dp_pmd_stats(pmd_cb, &n);
	CHECK_EQ(n, dp.n_slots);
}

/* Packets lcore 0 got from (port, queue) since the last clear, or -1 if it
 * does not poll it. */
static int64_t
rxq_packets(uint32_t port_id, uint16_t q)
{
	read_pmd();
	for (unsigned int i = 0; i < pmd.n_rxq && i < SY_PMD_RXQ_MAX; i++)
		if (pmd.rxq[i].port_id == port_id && pmd.rxq[i].queue == q)
			return (int64_t)pmd.rxq[i].packets;
	return -1;
}

static void
port_with_four_queues(void)
{
	struct sy_port_desc d;
	CHECK(add_port("r4", "net_ring4", 4, 4, &d) != UINT16_MAX);
	CHECK_EQ(d.n_rxq, 4);
	CHECK_EQ(polled(4), 0xf);
	inject("net_ring4", 2, 5);
	inject("net_ring4", 0, 1);
	CHECK_EQ(rxq_packets(4, 2), 5);
	CHECK_EQ(rxq_packets(4, 0), 1);
	CHECK_EQ(rxq_packets(4, 3), 0);
}

static void
default_is_one_queue(void)
{
	struct sy_port_desc d;

	CHECK(add_port("r1", "net_ring1", 1, 0, &d) != UINT16_MAX);
	CHECK_EQ(d.n_rxq, 1);
	CHECK_EQ(polled(1), 0x1);
}

/* A pcap file with no packets: net_pcap reads it as its one rx queue. */
static void
empty_pcap(const char *path)
{
	const uint32_t hdr[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
	FILE *f = fopen(path, "wb");

	if (f) {
		fwrite(hdr, sizeof(hdr), 1, f);
		fclose(f);
	}
}

static void
too_many_queues_refused(void)
{
	char in[64], out[64], devargs[160];
	struct dp_port_add_req req = { .name = "one", .devargs = devargs, .admin_up = 1,
				       .n_rxq = 2 };
	struct sy_port_desc d;
	struct sy_error err;
	unsigned int n = ports_count();

	/* net_pcap: one rx queue per rx_pcap= */
	snprintf(in, sizeof(in), "/tmp/pq-test-rxq-%d.pcap", (int)getpid());
	snprintf(out, sizeof(out), "/tmp/pq-test-rxq-%d.out.pcap", (int)getpid());
	snprintf(devargs, sizeof(devargs), "net_pcap_pq,rx_pcap=%s,tx_pcap=%s", in, out);
	empty_pcap(in);
	CHECK_EQ(dp_port_add(&req, &d, &err), -1);
	CHECK_EQ(err.code, SY_E_INVAL);
	CHECK_STR_CONTAINS(err.msg, "port 'one'");
	CHECK_STR_CONTAINS(err.msg, "at most 1");
	CHECK_EQ(ports_count(), n);

	req.n_rxq = SY_PORT_RXQ_MAX + 1;
	CHECK_EQ(dp_port_add(&req, &d, &err), -1);
	CHECK_EQ(err.code, SY_E_INVAL);
	CHECK_STR_CONTAINS(err.msg, "out of range 1..16");

	/* the same device with one queue is fine (the failure left nothing) */
	req.n_rxq = 1;
	CHECK_EQ(dp_port_add(&req, &d, &err), 0);
	CHECK_EQ(d.n_rxq, 1);
	CHECK_EQ(dp_port_mod(d.id, 0, -1, 3, &d, &err), -1);
	CHECK_EQ(err.code, SY_E_INVAL);
	CHECK_STR_CONTAINS(err.msg, "at most 1");
	CHECK_EQ(d.n_rxq, 1);
	CHECK_EQ(dp_port_del(d.id, &err), 0);
	unlink(in);
	unlink(out);
}

static void
pmd_stats_clear_baseline(void)
{
	struct sy_port_desc d;
	struct st_pmd_ctr raw;

	CHECK(add_port("r6", "net_ring6", 6, 2, &d) != UINT16_MAX);
	inject("net_ring6", 1, 3);
	read_pmd();
	CHECK(pmd.packets >= 3);
	CHECK_EQ(pmd.slot, 0);
	CHECK_EQ(pmd.lcore_id, rte_get_main_lcore());
	dp_pmd_stats_clear();
	read_pmd();
	CHECK_EQ(pmd.packets, 0);
	CHECK_EQ(pmd.busy_cycles, 0);
	CHECK_EQ(rxq_packets(6, 1), 0);
	inject("net_ring6", 1, 2);
	inject("net_ring6", 0, 4);
	read_pmd();
	CHECK_EQ(pmd.packets, 6);
	CHECK_EQ(rxq_packets(6, 1), 2);
	CHECK_EQ(rxq_packets(6, 0), 4);
	/* the lcore's own counters were never written by the clear */
	st_pmd_read(0, &raw);
	CHECK(raw.packets >= 9);
}

static void
change_queue_count_of_running_port(void)
{
	struct sy_port_desc d;
	struct sy_error err;

	CHECK(add_port("r7", "net_ring7", 7, 1, &d) != UINT16_MAX);
	CHECK_EQ(dp_port_mod(7, 9000, 0, 0, &d, &err), 0); /* MTU, admin down */
	CHECK_EQ(polled(7), 0);
	CHECK_EQ(dp_port_mod(7, 0, -1, 3, &d, &err), 0);
	CHECK_EQ(d.n_rxq, 3);
	CHECK_EQ(d.mtu, 9000);   /* kept */
	CHECK_EQ(d.admin_up, 0); /* kept */
	CHECK_EQ(polled(7), 0);
	CHECK_EQ(dp_port_mod(7, 0, 1, 0, &d, &err), 0);
	CHECK_EQ(polled(7), 0x7);
	inject("net_ring7", 2, 1);
	CHECK_EQ(rxq_packets(7, 2), 1);

	/* back to one queue: queue 2 is not polled any more */
	CHECK_EQ(dp_port_mod(7, 0, -1, 1, &d, &err), 0);
	CHECK_EQ(d.n_rxq, 1);
	CHECK_EQ(polled(7), 0x1);
	CHECK_EQ(rxq_packets(7, 2), -1);

	CHECK_EQ(dp_port_mod(7, 0, -1, SY_PORT_RXQ_MAX + 1, &d, &err), -1);
	CHECK_EQ(err.code, SY_E_INVAL);
	CHECK_EQ(dp_port_del(7, &err), 0);
}

static void
new_port_has_fresh_queue_counts(void)
{
	struct sy_port_desc d;
	struct sy_error err;

	CHECK(add_port("r8", "net_ring8", 8, 2, &d) != UINT16_MAX);
	inject("net_ring8", 1, 3);
	CHECK_EQ(rxq_packets(8, 1), 3);
	CHECK_EQ(dp_port_del(8, &err), 0);
	/* the next port takes the freed slot */
	CHECK(add_port("r9", "net_ring9", 9, 2, &d) != UINT16_MAX);
	CHECK_EQ(rxq_packets(9, 1), 0);
	inject("net_ring9", 1, 1);
	CHECK_EQ(rxq_packets(9, 1), 1);
	CHECK_EQ(dp_port_del(9, &err), 0);
}

int
main(void)
{
	struct dp_config cfg = { .n_mbufs = 4096, .max_flows = 64 };

	poll_buf = calloc(3, sizeof(*poll_buf));
	RUN(assign_round_robin_over_lcores);
	RUN(assign_one_lcore_polls_everything);
	RUN(assign_leaves_spare_lcores_empty);
	RUN(assign_balances_many_queues);

	lc = sy_test_dp_start("ports_rxq", &cfg);
	if (lc == NULL)
		return 1;
	RUN(default_is_one_queue);
	RUN(port_with_four_queues);
	RUN(too_many_queues_refused);
	RUN(pmd_stats_clear_baseline);
	RUN(change_queue_count_of_running_port);
	RUN(new_port_has_fresh_queue_counts);

	dp_fini();
	sy_test_eal_fini();
	free(poll_buf);
	return sy_test_summary();
}
