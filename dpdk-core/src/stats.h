/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stats.h — where the data path's counters live and how they are read.
 *
 * What?
 *   Every counter the data path bumps lives in the struct st_lcore of the
 *   one forwarding lcore that bumps it: per port (rx/tx packets and bytes,
 *   drops by enum sy_drop_reason), per table (lookups, matches) and per flow
 *   (packets, bytes, TSC of the last hit).  No atomics, no shared cache
 *   lines.  The main lcore sums them over lcores when asked; an aligned
 *   64-bit load is single-copy atomic, so a sum is never torn, only a
 *   moment old.
 *
 * PMD counters
 *   struct st_pmd_ctr says how an lcore spends its time (pipeline.h, "PMD
 *   counters"); rxq_packets counts what it received from each (port slot,
 *   queue), whichever lcore polled that queue before.  dp_pmd_stats()
 *   reports one record per lcore, nothing summed, minus the baselines that
 *   dp_pmd_stats_clear() stores; a new port gets fresh per-queue counts
 *   (st_rxq_rebase()).  cache_hits, cache_misses, cls_lookups and
 *   cls_probes are bumped by the flow cache and the classifier walk.
 *
 * Invariants
 *   - Only the owning lcore writes its st_lcore.  Clearing is done by the
 *     main lcore storing a baseline (the sum at that moment) and reporting
 *     sum - baseline; the same gives a reused port slot or flow counter
 *     index fresh counters.
 *   - Per-port counters are indexed by the port's slot (0..SY_MAX_PORTS-1),
 *     not its id.  Drops are charged to the ingress port, except TX_FULL and
 *     TOO_BIG, charged to the egress port.
 *   - Per-flow counters are indexed by a counter index that the flow table
 *     takes from st_flow_idx_alloc() and gives back, after an RCU grace
 *     period, with st_flow_idx_free().  They live in chunks of
 *     ST_FLOW_CHUNK entries per lcore, allocated by the main lcore as the
 *     index space grows and published with a release store before any flow
 *     using them is.  Memory follows the number of flows, not the limit.
 *
 * Threads
 *   The inline accessors are for the owning forwarding lcore; everything
 *   else is for the main lcore.
 */
#ifndef SY_STATS_H
#define SY_STATS_H

#include <stdint.h>

#include <rte_common.h>

#include <switchyard/proto.h>

struct st_port_ctr {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t drops[SY_DROP__MAX];
};

struct st_flow_ctr {
	uint64_t packets;
	uint64_t bytes;
	uint64_t last_tsc; /* 0: never hit */
};

#define ST_FLOW_CHUNK_SHIFT 14
#define ST_FLOW_CHUNK (1u << ST_FLOW_CHUNK_SHIFT)
#define ST_FLOW_INDEX_MAX (1u << 24) /* counter indexes, > any flow limit */
#define ST_FLOW_CHUNKS (ST_FLOW_INDEX_MAX / ST_FLOW_CHUNK)

/* How a forwarding lcore spends its time (struct sy_pmd_stats). */
struct st_pmd_ctr {
	uint64_t packets;
	uint64_t busy_cycles;
	uint64_t idle_cycles;
	uint64_t cache_hits;
	uint64_t cache_misses;
	uint64_t cls_lookups;
	uint64_t cls_probes;
};

/* The counters of one forwarding lcore (one "slot"). */
struct st_lcore {
	struct st_pmd_ctr pmd;
	/* packets received from each (port slot, rx queue) by this lcore */
	uint64_t rxq_packets[SY_MAX_PORTS][SY_PORT_RXQ_MAX];
	struct st_port_ctr port[SY_MAX_PORTS];
	uint64_t tbl_lookups[SY_MAX_TABLES];
	uint64_t tbl_matched[SY_MAX_TABLES];
	uint64_t copies; /* every rte_pktmbuf_copy of the data path */
	struct st_flow_ctr *flow_chunk[ST_FLOW_CHUNKS];
} __rte_cache_aligned;

static inline struct st_flow_ctr *
st_flow_ctr(struct st_lcore *c, uint32_t idx)
{
	return &c->flow_chunk[idx >> ST_FLOW_CHUNK_SHIFT][idx & (ST_FLOW_CHUNK - 1)];
}

static inline void
st_drop(struct st_lcore *c, unsigned int port_slot, enum sy_drop_reason why,
	uint64_t n)
{
	c->port[port_slot].drops[why] += n;
}

/* --- main lcore --- */

/* Registers the counters of each slot (the lcores' structs).  Returns 0,
 * or -1 when out of memory for the baselines. */
int st_init(unsigned int n_slots, struct st_lcore *const *slots);
void st_fini(void);

/* Sums over lcores, raw (no baseline). */
void st_port_sum(unsigned int port_slot, struct st_port_ctr *out);
uint64_t st_copies_sum(void);
void st_table_sum(unsigned int table, uint64_t *lookups, uint64_t *matched);
void st_flow_sum(uint32_t idx, struct st_flow_ctr *out); /* last_tsc: max */

/* out -= base, field by field. */
void st_port_sub(struct st_port_ctr *out, const struct st_port_ctr *base);

/* One lcore's PMD counters, raw (no baseline). */
void st_pmd_read(unsigned int slot, struct st_pmd_ctr *out);

/* Fresh per-queue counts for a port slot (a new port): stores baselines. */
void st_rxq_rebase(unsigned int port_slot);

/* A counter index for a new flow, or -1 when the index space or memory is
 * exhausted. */
int st_flow_idx_alloc(uint32_t *idx);
/* Gives an index back; only once no lcore can count on it any more. */
void st_flow_idx_free(uint32_t idx);

#endif /* SY_STATS_H */
