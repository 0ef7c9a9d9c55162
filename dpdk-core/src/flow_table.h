/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow_table.h — the cascaded flow tables: entries, flow-mods, dumps.
 *
 * What?
 *   SY_MAX_TABLES tables, each a classifier (classifier.h) of flow entries
 *   plus its settings: what a miss does (drop, or continue to the next
 *   table), a name and a flow limit.  An entry is a classifier rule plus its
 *   instructions (an ordered struct sy_action list), cookie, flags,
 *   timeouts, and a counter index (stats.h).  This file implements the flow
 *   and table half of dataplane.h: dp_flow_mod(), dp_flow_dump(),
 *   dp_table_list(), dp_table_mod().
 *
 * A batch of flow-mods is all or nothing, in three passes:
 *   1. check: every mod is validated (sy_flow_mod_validate(), output ports
 *      that exist, supported set_field targets, overlap when asked) and the
 *      table and switch flow limits are checked against a running count;
 *   2. prepare: everything that can fail is done aside: new entries and
 *      action lists are allocated, counter indexes taken, room reserved in
 *      the classifiers (cls_reserve());
 *   3. apply, in order: nothing can fail any more.  Then each touched table
 *      publishes (cls_publish()) and what was replaced or deleted is freed
 *      after an RCU grace period.
 *   A failure in pass 1 or 2 leaves every table as it was.  Forwarding
 *   lcores may see the mods of a batch take effect one after the other
 *   during pass 3 (a few microseconds); a barrier after the batch (dp_barrier)
 *   guarantees that all of them are live.
 *
 * OpenFlow semantics
 *   ADD of an identical match and priority replaces the entry's actions,
 *   cookie, flags and timeouts and restarts its duration; its counters are
 *   kept unless SY_FF_RESET_COUNTS.  MODIFY and DELETE are non-strict
 *   (every entry whose match is at least as specific as the given one),
 *   the _STRICT forms take the identical match and priority; cookie_mask
 *   filters both, out_port filters deletes.  MODIFY never adds.  A deleted
 *   or expired entry with SY_FF_SEND_FLOW_REM produces a flow-removed event.
 *
 * Readers
 *   Forwarding lcores reach an entry only through cls_lookup(); they read
 *   its rule, its counter index and its action list (an RCU pointer: MODIFY
 *   swaps it whole).  All the rest is the main lcore's.
 */
#ifndef SY_FLOW_TABLE_H
#define SY_FLOW_TABLE_H

#include <stdint.h>

#include <rte_common.h>

#include <switchyard/flow.h>
#include <switchyard/proto.h>

#include "classifier.h"
#include "rcu.h"

/* An instruction list, shared by the entries a MODIFY gave it to. */
struct ft_actions {
	struct rcu_head rcu;
	uint32_t refs; /* entries using it (main lcore only) */
	uint8_t used;  /* given to an entry at least once */
	uint16_t n;
	struct sy_action a[];
};

struct ft_flow {
	struct cls_rule cr;
	struct ft_actions *acts; /* RCU */
	uint32_t ctr_idx;        /* per-lcore counters: st_flow_ctr() */
	/* main lcore only */
	uint8_t table_id;
	uint16_t flags;
	uint16_t idle_timeout;
	uint16_t hard_timeout;
	uint32_t mark; /* batch that will delete it (pass 1) */
	uint64_t cookie;
	uint64_t created_tsc;
	uint64_t base_packets; /* counter baselines (reset_counts, index reuse) */
	uint64_t base_bytes;
	struct ft_flow *tnext, *tprev; /* entries with a timeout */
	struct rcu_head rcu;
};

struct ft_table {
	/* read by forwarding lcores */
	struct cls cls;
	uint8_t miss; /* enum sy_table_miss */
	/* main lcore only */
	uint8_t touched; /* by the batch under way */
	uint32_t n_flows;
	uint32_t max_flows; /* 0: only the switch's limit */
	char name[SY_NAME_MAX];
} __rte_cache_aligned;

extern struct ft_table ft_tables[SY_MAX_TABLES];

static inline const struct ft_flow *
ft_flow_of(const struct cls_rule *r)
{
	return container_of(r, const struct ft_flow, cr);
}

/* --- main lcore --- */

/* max_flows: the switch-wide limit. */
void ft_init(uint32_t max_flows);
/* Frees every entry; no forwarding lcore may be running. */
void ft_fini(void);

uint32_t ft_count(void);

/* Removes entries whose idle or hard timeout has passed. */
void ft_expire(uint64_t now_tsc);

#endif /* SY_FLOW_TABLE_H */
