/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * datapath.h — the data plane as a whole: start-up, shared resources,
 * periodic work, shut-down.
 *
 * What?
 *   dp_init() sets up what every module shares (struct dp_global): the
 *   mbuf pool (a second one, of jumbo mbufs, is made when a port needs it), the RCU quiescent-state variable, one struct pl_lcore per
 *   forwarding lcore (every EAL lcore but the main one), the counters, the
 *   tables and the port registry.  dp_launch() starts the pipeline on the
 *   forwarding lcores; dp_halt() stops them; dp_fini() closes every port
 *   and frees the rest.  This file also implements the generic part of
 *   dataplane.h: dp_info(), dp_barrier(), dp_periodic() and sy_fail().
 *
 * Slots
 *   Forwarding lcores are numbered 0..n_workers-1 ("slots"): the index of
 *   their counters, their RCU thread id and their tx queue.  With no
 *   forwarding lcore (unit tests run EAL with one lcore) there is still one
 *   slot, driven by hand with pl_run_once() on the main lcore.
 *
 * Threads
 *   Everything here is for the main lcore; the pipeline only reads dp.pool,
 *   dp.qsbr and dp.cfg.
 */
#ifndef SY_DATAPATH_H
#define SY_DATAPATH_H

#include <stdint.h>

#include <rte_lcore.h>

#include "dataplane.h"
#include "pipeline.h"

#define DP_VERSION "0.1.0"
#define DP_DEFAULT_MBUFS 16384
#define DP_MBUF_CACHE 256
/* The jumbo pool: for devices that receive a whole frame into one mbuf
 * (no scattered rx), when their frames exceed a default mbuf.  10 KB of
 * data room holds a 9600-byte MTU with its headers, and an af_packet frame
 * of framesz=10240.  Made on first use. */
#define DP_JUMBO_DATAROOM (10240 + RTE_PKTMBUF_HEADROOM)
#define DP_JUMBO_MBUFS 4096
#define DP_DEFAULT_MAX_FLOWS (1u << 20)
#define DP_MAX_FLOWS_LIMIT (ST_FLOW_INDEX_MAX / 2)

struct dp_config {
	uint32_t n_mbufs;          /* 0: DP_DEFAULT_MBUFS */
	uint32_t max_flows;        /* 0: DP_DEFAULT_MAX_FLOWS */
	uint32_t pmd_sleep_max_us; /* 0: poll without sleeping */
	uint32_t controller_rate;  /* packet-ins per second; 0: PIN_DEFAULT_RATE */
};

struct dp_global {
	struct dp_config cfg;
	struct rte_mempool *pool;       /* default mbufs (2 KB data room) */
	struct rte_mempool *jumbo_pool; /* DP_JUMBO_DATAROOM, or NULL until needed */
	struct rte_rcu_qsbr *qsbr;
	unsigned int n_workers; /* forwarding lcores */
	unsigned int n_slots;   /* max(1, n_workers) */
	struct pl_lcore *lcore[RTE_MAX_LCORE]; /* by slot */
	unsigned int lcore_id[RTE_MAX_LCORE];  /* EAL lcore of each slot */
	uint64_t tsc_hz;
	uint64_t start_ns; /* CLOCK_REALTIME */
};

extern struct dp_global dp;

/* After rte_eal_init().  Returns 0, or -1 with err filled. */
int dp_init(const struct dp_config *cfg, struct sy_error *err);

/* The jumbo pool, created on first call; NULL (err filled) if it cannot be. */
struct rte_mempool *dp_jumbo_pool(struct sy_error *err);

/* Starts pl_worker_main() on every forwarding lcore. */
int dp_launch(void);

/* Stops the forwarding lcores and waits for them. */
void dp_halt(void);

/* Closes every port, frees every table.  After dp_halt(). */
void dp_fini(void);

#endif /* SY_DATAPATH_H */
