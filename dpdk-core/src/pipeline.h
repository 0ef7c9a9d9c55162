/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pipeline.h — the forwarding lcores' loop, their state, and the port map
 * they read.
 *
 * What?
 *   Each forwarding lcore runs pl_worker_main(): run to completion, bursts
 *   of PL_BURST.  One iteration (pl_run_once) reads top-down:
 *
 *     for each rx queue this lcore polls:       rte_eth_rx_burst
 *         parse every packet into a flow key    parse.h
 *         look the whole burst up in the cache  flow_cache.h
 *         for each packet:
 *             a hit: along the cached entries,  running their actions
 *             a miss: the table cascade         classifier.h, then cached
 *                 from table 0: lookup, count, run the entry's
 *                 instructions (actions.h) until one ends the packet or
 *                 a miss drops it
 *     flush every tx buffer                     rte_eth_tx_burst
 *     report an RCU quiescent state
 *
 *   Each stage runs over the whole burst before the next (pl_input()), so
 *   that memory is prefetched a stage ahead: mbuf headers and data before
 *   parsing, cache sets before comparing, each path's first entry and its
 *   counters a few packets ahead.  Packets of one flow in a row ("trains")
 *   share one cache answer, one validity check and, for a lone output, one
 *   port lookup; the counters of a burst's hits are credited once per entry
 *   and run of packets, and its drops freed in one bulk.  pl_lookup() is
 *   the one place a packet meets a classifier.
 *
 * State
 *   Everything an lcore writes is in its struct pl_lcore (cache-aligned):
 *   its tx buffers and its counters (stats.h).  What it reads is published
 *   by the main lcore under RCU: the port map (struct pl_portmap: every
 *   port's device, queues, MTU and state, the flood list, and which ports
 *   each lcore polls) and the tables (flow_table.h).  The port map is
 *   loaded once per iteration and replaced whole by ports.c.
 *
 * Tx queues
 *   Lcore slot s sends on queue s % nb_txq of every port.  A port gets one
 *   tx queue per forwarding lcore when the device allows; when it has
 *   fewer, lcores share queues and take that queue's spinlock around each
 *   rte_eth_tx_burst (per burst, never per packet); pl_port.txq_lock is NULL
 *   when nothing is shared.  Unsent packets are freed and counted TX_FULL
 *   on the egress port.
 *
 * Rx queues
 *   A port has 1..SY_PORT_RXQ_MAX rx queues (RSS, or the driver's own
 *   spreading); each (port, queue) is polled by exactly one lcore, listed in
 *   that lcore's struct pl_pollq.  The lists are recomputed and the port
 *   map republished whenever ports come, go, change admin state or queue
 *   count (ports.h, "Placement").
 *
 * PMD counters (stats.h, struct st_pmd_ctr; dp_pmd_stats())
 *   pl_worker_main() reads the TSC once per iteration, at its start (that
 *   value is lc->now for the iteration); the cycles from one start to the
 *   next are busy if the iteration received packets, idle if not (its sleep
 *   included).  pl_run_once() counts received packets per lcore and per
 *   (port, queue) in the lcore's own counters.  Tests that call
 *   pl_run_once() by hand get packet counts but no cycles.
 *
 * Idle sleep
 *   With pmd_sleep_max_us set, an iteration that received nothing on any
 *   queue sleeps (nanosleep, RCU offline), 1 us then doubling up to the
 *   maximum; any packet resets it.  0 means pure polling, as OVS.  An lcore
 *   that polls no queue at all sleeps the same way, up to PL_NOQ_SLEEP_US
 *   at least, whatever pmd_sleep_max_us says: it has nothing to poll, and
 *   it may share its CPU with one that has (--lcores 1@1,2@1).  It wakes
 *   to a new port map within that time.
 *
 * Threads
 *   pl_worker_main() and pl_run_once() run on a forwarding lcore (tests run
 *   pl_run_once() on the main lcore when there is no forwarding lcore).
 */
#ifndef SY_PIPELINE_H
#define SY_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_spinlock.h>

#include <switchyard/proto.h>

#include "qos.h"
#include "rcu.h"
#include "stats.h"

#define PL_BURST 32
#define PL_PORT_DIRECT 4096 /* port ids below this map to a slot by array */
#define PL_NO_PORT 0xffff
#define PL_NOQ_SLEEP_US 1000 /* longest sleep of an lcore without queues */
/* A packet may visit at most this many tables (goto_table only goes
 * forward, so today only a safety net for recirculation to come). */
#define PL_RECIRC_LIMIT SY_MAX_TABLES

/* A port's edge settings (edge.h): VLAN mode and NSH port tag, as the
 * lcores apply them.  Immutable once published: a change publishes a new
 * one with a new port map, and the old one is freed after the grace
 * period. */
struct pl_edge {
	uint8_t vlan;    /* enum sy_vlan_mode */
	uint8_t nsh_len; /* length of nsh[], 0: no NSH port tag */
	uint16_t tag;    /* access VID */
	uint16_t native; /* trunk native VID, 0: none */
	uint8_t nsh[24]; /* the NSH header pushed on ingress (nsh_encode) */
	uint64_t allowed[SY_VLAN_BITMAP_WORDS]; /* trunk: bit v for VID v (all
	                                         * set when the list was empty) */
};

/* What a forwarding lcore knows of one port. */
struct pl_port {
	uint32_t id; /* 0: slot unused */
	uint16_t dpdk_port;
	uint16_t mtu; /* largest payload after the L2 header(s) */
	uint8_t admin_up;
	uint8_t link_up; /* as the link poll last saw it (groups.h: liveness) */
	uint16_t nb_txq;
	rte_spinlock_t *txq_lock; /* nb_txq locks when queues are shared */
	/* NULL for a plain port: then the only cost of edge settings is this
	 * test, once per received burst and once per emitted packet */
	const struct pl_edge *edge;
	uint32_t mir_src; /* mirrors copying what it receives, a bit each (mirrors.h) */
	uint32_t mir_dst; /* mirrors copying what it sends */
};

/* One rx queue of one port. */
struct pl_rxq {
	uint16_t slot;  /* port slot */
	uint16_t queue; /* rx queue of that port */
};

#define PL_POLL_MAX (SY_MAX_PORTS * SY_PORT_RXQ_MAX)

/* The rx queues one lcore polls, in the order it polls them (port id, then
 * queue).  Built by ports.c (ports_assign_rxqs(), see ports.h for the
 * policy); n may be 0: that lcore only reports quiescent states (and
 * sleeps, see "Idle sleep"). */
struct pl_pollq {
	uint16_t n;
	struct pl_rxq q[PL_POLL_MAX];
};

struct pl_portmap {
	struct rcu_head rcu;
	struct pl_port port[SY_MAX_PORTS]; /* by slot */
	uint16_t n_flood;
	uint16_t flood[SY_MAX_PORTS]; /* admin-up slots */
	uint16_t id_direct[PL_PORT_DIRECT]; /* id -> slot + 1, 0: none */
	uint16_t n_sparse;
	struct pl_sparse {
		uint32_t id;
		uint16_t slot;
	} sparse[SY_MAX_PORTS]; /* ids >= PL_PORT_DIRECT, sorted */
	uint16_t mir_out[SY_MIRROR_MAX]; /* each mirror's output slot, or PL_NO_PORT */
	struct pl_pollq poll[]; /* one per lcore slot */
};

extern struct pl_portmap *pl_portmap; /* RCU */

struct pl_txbuf {
	uint16_t n;
	uint16_t listed; /* in pl_lcore.txpend */
	struct rte_mbuf *pkts[PL_BURST];
};

struct flow_cache;
struct rte_ring;
struct trace;

/* One forwarding lcore. */
struct pl_lcore {
	unsigned int slot;     /* counter slot, RCU thread id, tx queue choice */
	unsigned int lcore_id;
	uint64_t now;          /* TSC at the current burst */
	uint64_t sleep_ns;
	struct flow_cache *fc; /* its flow cache (flow_cache.h), or NULL: none */
	struct trace *trace;   /* NULL, except on the lcore of a packet trace (trace.h) */
	uint64_t pin_tat;      /* packet-in rate limit (packet_in.h) */
	struct rte_ring *pout; /* packet-outs to run (packet_out.h) */
	/* Packets dropped during a burst, freed in one go at its end (while
	 * pl_input() runs; act_*() free at once otherwise). */
	uint16_t n_dead;
	uint8_t free_later;
	struct rte_mbuf *dead[PL_BURST];
	uint16_t n_txpend;
	uint16_t txpend[SY_MAX_PORTS]; /* slots whose tx buffer holds packets */
	struct pl_txbuf tx[SY_MAX_PORTS] __rte_cache_aligned;
	struct pl_mir_ctr {
		uint64_t packets, bytes, no_mbuf;
	} mir[SY_MIRROR_MAX]; /* copies made for each mirror (mirrors.h) */
	struct st_lcore ctr;
} __rte_cache_aligned;

/* Slot of port id, or PL_NO_PORT. */
static inline uint16_t
pl_port_slot(const struct pl_portmap *pm, uint32_t id)
{
	uint32_t lo = 0, hi = pm->n_sparse;

	if (id < PL_PORT_DIRECT)
		return (uint16_t)(pm->id_direct[id] - 1u);
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (pm->sparse[mid].id == id)
			return pm->sparse[mid].slot;
		if (pm->sparse[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return PL_NO_PORT;
}

void pl_tx_flush(struct pl_lcore *lc, const struct pl_portmap *pm, uint16_t slot);

/* Queues m for port slot; sends a full buffer at once.  queue: its
 * set_queue id (0: none), for the port's egress QoS (qos.h), which frees
 * and counts (POLICED) a packet over its rate. */
static inline void
pl_tx_put(struct pl_lcore *lc, const struct pl_portmap *pm, uint16_t slot,
	  struct rte_mbuf *m, uint32_t queue)
{
	struct pl_txbuf *b = &lc->tx[slot];
	struct port_qos *q = rcu_load(&qos_by_slot[slot]);

	if (unlikely(q != NULL) && !qos_conform(q, queue, lc->now, rte_pktmbuf_pkt_len(m))) {
		rte_pktmbuf_free(m);
		st_drop(&lc->ctr, slot, SY_DROP_POLICED, 1);
		return;
	}

	if (!b->listed) {
		b->listed = 1;
		lc->txpend[lc->n_txpend++] = slot;
	}
	b->pkts[b->n++] = m;
	if (b->n == PL_BURST)
		pl_tx_flush(lc, pm, slot);
}

/* One iteration of the loop; returns the number of packets received. */
unsigned int pl_run_once(struct pl_lcore *lc);

/* Runs a received burst through the tables (the part of pl_run_once after
 * rx_burst); exposed for tests.  in_slot must be a port of pm. */
void pl_input(struct pl_lcore *lc, const struct pl_portmap *pm, uint16_t in_slot,
	      struct rte_mbuf **pkts, uint16_t n);

struct act_pkt;

/* A packet trace (trace.h): p, just parsed, through the tables from table
 * 0 as pl_cascade() takes a packet, recorded by lc->trace (which must be
 * set) instead of counted, and without the flow cache.  Main lcore. */
void pl_trace(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p);

/* p (a packet-out's output:table, packet_out.h) through the tables from
 * table 0, without the flow cache.  Forwarding lcore. */
void pl_resubmit(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p);

/* The loop of a forwarding lcore (rte_eal_remote_launch); arg is its
 * struct pl_lcore.  Returns when pl_stop() is called. */
int pl_worker_main(void *arg);
void pl_stop(void);

#endif /* SY_PIPELINE_H */
