/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sy_act.h — running actions or the pipeline on frames in the C unit
 * tests, reading a port's counters and what net_ring ports sent
 * (test_actions.c, test_nsh.c, test_edge.c, test_mirrors.c,
 * test_packet_in.c).
 */
#ifndef SY_ACT_H
#define SY_ACT_H

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "actions.h"
#include "datapath.h"
#include "parse.h"
#include "pipeline.h"
#include "sy_pkt.h"

static struct sy_port_stats sy_act_stats_got;

static void
sy_act_stats_cb(const struct sy_port_stats *st, void *arg)
{
	(void)arg;
	sy_act_stats_got = *st;
}

/* One port's counters (dp_port_stats). */
static inline struct sy_port_stats
sy_port_counters(uint32_t port)
{
	struct sy_error err;

	memset(&sy_act_stats_got, 0, sizeof(sy_act_stats_got));
	dp_port_stats(port, sy_act_stats_cb, NULL, &err);
	return sy_act_stats_got;
}

/* One drop counter of a port. */
static inline uint64_t
sy_port_drops(uint32_t port, enum sy_drop_reason why)
{
	return sy_port_counters(port).drops[why];
}

/* The port map slot of port id. */
static inline uint16_t
sy_port_slot(uint32_t id)
{
	return pl_port_slot(pl_portmap, id);
}

/* Zeroes every port's counters. */
static inline void
sy_port_counters_clear(void)
{
	struct sy_error err;

	dp_port_stats_clear(0, &err);
}

/*
 * Runs a[0..n) on frame as if received on port in_port (in segments of seg
 * bytes, 0: one mbuf), then flushes the tx buffers (the rings are empty: the
 * run only flushes).  Returns act_run()'s value, or -2 if the frame does not
 * parse; p is left as act_run() left it.
 */
static inline int
sy_act_run_frame(struct pl_lcore *lc, uint32_t in_port, const uint8_t *frame, size_t len, size_t seg,
		 const struct sy_action *a, unsigned int n, struct act_pkt *p)
{
	struct rte_mbuf *m = pkt_mbuf(dp.pool, frame, len, seg);
	enum sy_drop_reason why;
	int next;

	if (!parse_packet(m, in_port, &p->key, &p->lay, &why)) {
		fprintf(stderr, "test frame does not parse\n");
		rte_pktmbuf_free(m);
		return -2;
	}
	act_pkt_init(p, m, pl_port_slot(pl_portmap, in_port));
	next = act_run(lc, pl_portmap, p, a, n);
	pl_run_once(lc);
	return next;
}

/* Reads the one frame net_ring port dpdk_port (switch port id) sent into
 * buf; returns its length, or 0 (and says so) if it sent none or several. */
static inline size_t
sy_sent_one(uint16_t dpdk_port, uint32_t id, uint8_t *buf)
{
	struct rte_mbuf *m[4];
	unsigned int n = rte_eth_rx_burst(dpdk_port, 0, m, 4);
	size_t len;

	if (n != 1) {
		fprintf(stderr, "port %u sent %u frames, expected 1\n", id, n);
		for (unsigned int i = 0; i < n; i++)
			rte_pktmbuf_free(m[i]);
		return 0;
	}
	len = rte_pktmbuf_pkt_len(m[0]);
	memcpy(buf, rte_pktmbuf_read(m[0], 0, (uint32_t)len, buf), len);
	rte_pktmbuf_free(m[0]);
	return len;
}

/* Sends what lc's tx buffers hold (pl_run_once would also poll the ring
 * ports, which loop what they sent back in). */
static inline void
sy_tx_flush(struct pl_lcore *lc)
{
	for (uint16_t i = 0; i < lc->n_txpend; i++) {
		pl_tx_flush(lc, pl_portmap, lc->txpend[i]);
		lc->tx[lc->txpend[i]].listed = 0;
	}
	lc->n_txpend = 0;
}

/* Sends n copies of buf, received on port in_port, through the pipeline a
 * burst at a time, flushing after each. */
static inline void
sy_input(struct pl_lcore *lc, uint32_t in_port, const uint8_t *buf, size_t len, unsigned int n)
{
	while (n > 0) {
		struct rte_mbuf *m[PL_BURST];
		unsigned int k = n < PL_BURST ? n : PL_BURST;

		for (unsigned int i = 0; i < k; i++)
			m[i] = pkt_mbuf(dp.pool, buf, len, 0);
		pl_input(lc, pl_portmap, sy_port_slot(in_port), m, (uint16_t)k);
		sy_tx_flush(lc);
		n -= k;
	}
}

/* Takes up to 64 frames net_ring port dpdk_port sent (its ring loops them
 * back); copies the first into buf (unless NULL), its length into *len
 * (unless NULL); returns how many there were. */
static inline unsigned int
sy_sent_all(uint16_t dpdk_port, uint8_t *buf, size_t *len)
{
	struct rte_mbuf *m[64];
	unsigned int n = rte_eth_rx_burst(dpdk_port, 0, m, 64);

	if (n > 0 && buf != NULL) {
		uint32_t l = rte_pktmbuf_pkt_len(m[0]);

		memcpy(buf, rte_pktmbuf_read(m[0], 0, l, buf), l);
		if (len != NULL)
			*len = l;
	}
	for (unsigned int i = 0; i < n; i++)
		rte_pktmbuf_free(m[i]);
	return n;
}

#endif /* SY_ACT_H */
