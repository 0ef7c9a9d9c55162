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
 *   Passes 1 and 2 run mod by mod (check mod i, prepare mod i), as
 *   nothing pass 2 does is visible to a later check.
 *   A failure in pass 1 or 2 leaves every table as it was.  Forwarding
 *   lcores may see the mods of a batch take effect one after the other
 *   during pass 3 (milliseconds for 100K mods); a barrier after the batch (dp_barrier)
 *   guarantees that all of them are live.
 *
 * Invalidation of the lcores' flow caches (flow_cache.h)
 *   When a batch (or an expiry) has added or removed rules of a table, its
 *   publication ticks ft_clock and stores the tick in the table's
 *   changed_at, after the classifier changes are visible and before the RCU
 *   grace period of anything removed starts.  Replacing the action list of
 *   an entry ticks only if the old or new list rewrites the key and goes on
 *   to another table (before and after the pointer store).  Table settings
 *   (miss behaviour) never tick: lcores read them per packet.
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
 *   Forwarding lcores reach an entry through cls_lookup() or through their
 *   flow cache (flow_cache.h), which holds entry pointers for as long as
 *   ft_table.changed_at of the entry's table says they are current; they
 *   read its rule, its table id, its counter index and its action list (an
 *   RCU pointer: MODIFY swaps it whole).  All the rest is the main lcore's.
 *
 * Batches are cheap
 *   Identical instruction lists within a batch share one struct
 *   ft_actions (a 5-tuple ACL of 100K entries that all say goto_table:1
 *   holds one list, and forwarding lcores keep it in cache); the
 *   classifier is asked for room once per (table, mask) per batch.
 */
#ifndef SY_FLOW_TABLE_H
#define SY_FLOW_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include <switchyard/flow.h>
#include <switchyard/proto.h>

#include "classifier.h"
#include "rcu.h"

/* What an instruction list does to a packet that goes on to another table
 * (ft_actions.flags; flow_cache.h says why it matters). */
#define FT_ACTS_REWRITES 0x01 /* changes key fields a later table may match */
#define FT_ACTS_OPAQUE 0x02   /* ...from bytes that are not in the key (pop_vlan) */
#define FT_ACTS_GOTO 0x04     /* ends with goto_table */

/* An instruction list, shared by the entries a MODIFY gave it to, and by
 * the entries of one batch that were given identical lists. */
struct ft_actions {
	uint16_t n;
	uint8_t flags; /* FT_ACTS_* */
	uint8_t used;  /* given to an entry at least once */
	uint32_t refs; /* entries using it (main lcore only) */
	struct rcu_head rcu;
	struct ft_actions *dup_next; /* main lcore: the batch's dedup chain */
	uint32_t dup_hash;
	struct sy_action a[];
};

/* What a forwarding lcore reads comes first: one cache line holds the
 * action list pointer, the counter index and the start of the rule. */
struct ft_flow {
	struct ft_actions *acts; /* RCU */
	uint32_t ctr_idx;        /* per-lcore counters: st_flow_ctr() */
	uint8_t table_id;        /* never changes */
	struct cls_rule cr;
	/* main lcore only */
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
	uint64_t changed_at; /* ft_clock at its last change (flow_cache.h) */
	/* main lcore only */
	uint8_t touched; /* by the batch under way */
	uint8_t changed; /* rules came or went in the batch under way */
	uint32_t n_flows;
	uint32_t max_flows; /* 0: only the switch's limit */
	char name[SY_NAME_MAX];
} __rte_cache_aligned;

extern struct ft_table ft_tables[SY_MAX_TABLES];

/* The change clock: ticks once per table change that can alter what a
 * lookup answers (rules added or removed; the actions of a rule that
 * rewrites the key for a later table replaced).  Read by forwarding lcores
 * before they walk the tables; see flow_cache.h, "Invalidation". */
extern uint64_t ft_clock;

static inline uint64_t
ft_clock_now(void)
{
	return __atomic_load_n(&ft_clock, __ATOMIC_ACQUIRE);
}

/* Whether table t changed after the clock read stamp. */
static inline bool
ft_table_changed_since(unsigned int t, uint64_t stamp)
{
	return __atomic_load_n(&ft_tables[t].changed_at, __ATOMIC_ACQUIRE) > stamp;
}

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

/* An entry as a flow-mod: header, key, mask and actions (as a dump gives it). */
void ft_flow_entry(const struct ft_flow *f, struct sy_flow_mod *fm);

/* Removes entries whose idle or hard timeout has passed. */
void ft_expire(uint64_t now_tsc);

/* How many flows name group_id in their actions (main lcore; walks them all). */
uint32_t ft_group_users(uint32_t group_id);

#endif /* SY_FLOW_TABLE_H */
