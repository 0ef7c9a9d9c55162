/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stats_segment.h — the stats segment: the data plane's counters in shared
 * memory, read without a message.
 *
 * What?
 *   One file of fixed size (struct sy_stats_segment), by default
 *   `dp.stats` beside the control socket, created by switchyard-dp mode
 *   0600 and mapped MAP_SHARED.  HELLO's reply names it (SY_A_STATS_SEGMENT,
 *   an absolute path); a client of the same user maps it read-only and
 *   copies counters out of it as often as it likes, without a message and
 *   without the data plane noticing.  It holds the switch's totals
 *   (DP_STATS), every port's counters with its link state (PORT_STATS,
 *   PORT_LIST), the tables TABLE_LIST names (id, flows, lookups, matched)
 *   and every forwarding lcore's PMD_STATS, with the very values those
 *   messages answer: cleared counters (PORT_STATS_CLEAR, PMD_STATS_CLEAR)
 *   show as cleared.
 *
 * Who writes, when
 *   Only the data plane's main lcore (the control thread), never a
 *   forwarding lcore: it gathers the counters with the same functions the
 *   stats messages use (per-lcore sums, rte_eth_stats_get(), which must not
 *   run on a forwarding lcore) into a private copy, then copies that into
 *   the segment under the seqlock below.  It publishes every period_ms
 *   (100 ms) from its control loop, and at once before answering a request
 *   that changes what the segment shows (a clear, a port added, deleted or
 *   changed, a table changed), so that a client reading it after the reply
 *   sees the change.  While the main lcore is busy with a long request (a
 *   dump of a million flows) the segment is not refreshed: time_ns says
 *   how old it is.  The forwarding lcores never touch it: reading it costs
 *   the data path nothing.
 *
 * Seqlock
 *   seq is even while the segment is stable and odd while the writer copies
 *   into it; each publish adds 2.  A reader:
 *       s1 = load_acquire(&seg->hdr.seq);   odd: try again
 *       copy what it needs (hdr.time_ns, hdr.n_*, dp, the first n_* records)
 *       thread_fence_acquire();
 *       s2 = load_relaxed(&seg->hdr.seq);   s1 != s2: try again
 *   and gives up after a bounded number of tries.  The writer never waits
 *   for readers (they cannot slow it down or block it): seq odd (relaxed
 *   store), release fence, the copy, seq even (release store).  The counts
 *   n_ports, n_tables and n_pmds are under the seqlock too; a reader checks
 *   them against the max_* bounds before using them.
 *
 * Life
 *   The data plane removes a stale file left by a killed one (unless a live
 *   data plane holds its lock: flock(LOCK_EX) for as long as it runs),
 *   creates a new one (O_CREAT|O_EXCL, mode 0600), and on a clean exit
 *   clears `live` and unlinks it.  A restarted data plane makes a new file
 *   (a new inode): a client maps the one its HELLO names, checks that pid
 *   is the data plane it said HELLO to, and unmaps it when the connection
 *   ends.
 *
 * Layout
 *   Host byte order, natural alignment, fixed sizes: a reader checks magic,
 *   version, hdr_size, size, the max_* counts and the record sizes against
 *   its own build of this header and refuses a segment that differs.
 *
 * Plain C11, no DPDK: the addon includes it.
 */
#ifndef SWITCHYARD_STATS_SEGMENT_H
#define SWITCHYARD_STATS_SEGMENT_H

#include <stdint.h>

#include "proto.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SY_SSEG_MAGIC UINT64_C(0x0053544154535953) /* "SYSTATS\0" in memory */
#define SY_SSEG_VERSION 1
#define SY_SSEG_NAME "dp.stats"  /* the default file, beside the control socket */
#define SY_SSEG_PERIOD_MS 100    /* refreshed at least this often (when idle) */
#define SY_SSEG_MAX_PORTS SY_MAX_PORTS
#define SY_SSEG_MAX_TABLES SY_MAX_TABLES
#define SY_SSEG_MAX_PMDS 128     /* forwarding lcores (DPDK's RTE_MAX_LCORE) */

struct sy_sseg_hdr {
	/* set at creation, never changed */
	uint64_t magic;      /* SY_SSEG_MAGIC */
	uint32_t version;    /* SY_SSEG_VERSION */
	uint32_t hdr_size;   /* sizeof(struct sy_sseg_hdr) */
	uint64_t size;       /* sizeof(struct sy_stats_segment): the file's size */
	uint32_t max_ports;  /* SY_SSEG_MAX_PORTS: records in port[] */
	uint32_t max_tables; /* SY_SSEG_MAX_TABLES */
	uint32_t max_pmds;   /* SY_SSEG_MAX_PMDS */
	uint32_t drop_slots; /* SY_DROP_SLOTS: entries of every drops[] */
	uint32_t port_size;  /* sizeof(struct sy_sseg_port) */
	uint32_t table_size; /* sizeof(struct sy_sseg_table) */
	uint32_t pmd_size;   /* sizeof(struct sy_pmd_stats) */
	uint32_t period_ms;  /* SY_SSEG_PERIOD_MS */
	uint32_t pid;        /* the data plane's */
	uint32_t n_workers;  /* its forwarding lcores */
	uint64_t start_ns;   /* CLOCK_REALTIME at its start (as sy_dp_info) */
	uint64_t tsc_hz;     /* the unit of the PMD cycle counters */
	/* the seqlock */
	uint64_t seq;        /* even: stable; odd: being written */
	uint32_t live;       /* 1 while the data plane runs; 0 once it stopped */
	uint32_t pad0;
	/* under seq */
	uint64_t time_ns;    /* CLOCK_MONOTONIC of the data plane at the publish */
	uint64_t n_publish;  /* publishes since start */
	uint32_t n_ports;    /* valid records in port[] */
	uint32_t n_tables;   /* ... in table[] */
	uint32_t n_pmds;     /* ... in pmd[] */
	uint32_t pad1;
};

/* A port: its PORT_STATS and its link state. */
struct sy_sseg_port {
	struct sy_port_stats st;
	uint32_t link_up;
	uint32_t admin_up;
};

/* A table that TABLE_LIST names. */
struct sy_sseg_table {
	uint32_t id;
	uint32_t n_flows;
	uint64_t lookups;
	uint64_t matched;
};

struct sy_stats_segment {
	struct sy_sseg_hdr hdr;
	struct sy_dp_stats dp;                          /* DP_STATS */
	struct sy_sseg_port port[SY_SSEG_MAX_PORTS];    /* by port id */
	struct sy_sseg_table table[SY_SSEG_MAX_TABLES]; /* by table id */
	struct sy_pmd_stats pmd[SY_SSEG_MAX_PMDS];      /* PMD_STATS, by slot */
};

static_assert(sizeof(struct sy_sseg_hdr) % 8 == 0, "the header keeps records aligned");

#ifdef __cplusplus
}
#endif

#endif /* SWITCHYARD_STATS_SEGMENT_H */
