/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * groups.h — logical port groups: the group table and running a group's
 * buckets on one packet (the flow action group:N).
 *
 * What?
 *   A group is a list of buckets, each an action list (outputs, rewrites,
 *   VLAN push/pop, ... but no goto_table, write_metadata or group) with a
 *   weight and a watched port.  Its type says which buckets a packet runs
 *   (proto.h, "Groups"):
 *     all            every bucket, each on its own reference to the mbuf
 *                    (a rewrite in one bucket copies first, as actions.c
 *                    does for any shared packet: the others see the
 *                    original bytes);
 *     select         one bucket: a hash of the flow key's 5-tuple (or the
 *                    group's sel_fields) indexes a table of GRP_SLOTS
 *                    slots, each naming a bucket, given out in proportion
 *                    to the weights.  Packets of one flow take one bucket
 *                    for as long as the group is unchanged.  A chosen
 *                    bucket whose watched port is not live gives way to the
 *                    first live one;
 *     indirect       its one bucket;
 *     fast_failover  the first bucket whose watch_port is live: the port
 *                    is admin up and its link is up, as ports.c last saw
 *                    it (the link poll; for net_af_packet the kernel
 *                    interface's carrier, every 50 ms).
 *   A packet that finds no bucket to run is counted GROUP_NO_BUCKET on its
 *   ingress port and in the group's `dropped`.
 *
 * Updates
 *   The table is an array of RCU pointers by group id.  A change builds a
 *   new struct grp (its select slots included), publishes it, and frees the
 *   old one after a grace period: lcores never wait and never see half a
 *   group.  Counters are per lcore, in the struct grp of each version; a
 *   replaced version's totals fold into the next one's baseline (group
 *   totals last from ADD to DELETE; bucket counters restart at MODIFY).
 *
 * Threads
 *   grp_run() on forwarding lcores (or a test on the main lcore); the rest
 *   on the main lcore only.
 */
#ifndef SY_GROUPS_H
#define SY_GROUPS_H

#include <stdbool.h>
#include <stdint.h>

#include <switchyard/proto.h>

#include "rcu.h"

#define GRP_SLOTS 256

struct pl_lcore;
struct pl_portmap;
struct act_pkt;
struct sy_error;

struct grp_bucket {
	uint16_t weight;
	uint16_t n;
	uint32_t watch_port; /* SY_NO_WATCH: always live */
	struct sy_action a[SY_GROUP_ACTIONS_MAX];
};

/* One lcore's counters of one group version. */
struct grp_ctr {
	uint64_t packets, bytes, dropped;
	struct sy_group_bucket_stats bucket[SY_GROUP_BUCKETS_MAX];
} __attribute__((aligned(64)));

struct grp {
	struct rcu_head rcu;
	uint32_t id;
	uint8_t type; /* enum sy_group_type */
	uint8_t n_buckets;
	uint8_t n_slots_used; /* select: 0 when every weight is 0 */
	uint32_t sel_fields;
	uint64_t base_packets, base_bytes, base_dropped; /* earlier versions */
	struct grp_ctr *ctr;    /* by lcore slot */
	uint8_t slot[GRP_SLOTS]; /* select: bucket of each hash slot */
	struct grp_bucket b[SY_GROUP_BUCKETS_MAX];
};

extern struct grp *grp_table[SY_GROUP_ID_MAX + 1]; /* RCU */

/* Runs group id on p.  last: the group is the flow's last action, so the
 * last bucket may take the packet's own reference.  Returns true if p
 * still holds its packet (the flow's actions go on), false if the packet
 * is done with. */
bool grp_run(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p, uint32_t id,
	     bool last);

/* The hash of key's fields (SY_GSEL_*; 0: the 5-tuple) that select uses. */
uint32_t grp_hash(const struct sy_flow_key *key, uint32_t fields);

/* Fills slot[GRP_SLOTS] with bucket indexes in proportion to weight[0..n).
 * Returns the number of slots used: GRP_SLOTS, or 0 if every weight is 0. */
unsigned int grp_fill_slots(const uint16_t *weight, unsigned int n, uint8_t *slot);

/* Whether group id exists (main lcore). */
bool grp_exists(uint32_t id);

/* Applies a group-mod (main lcore).  On failure names the offending field,
 * bucket or action in err and changes nothing. */
int dp_group_mod(const struct sy_group_mod *gm, struct sy_error *err);

typedef void (*dp_group_stats_cb)(const struct sy_group_stats *st, void *arg);

/* Reports group id's counters, or every group's (id SY_NO_WATCH) by id. */
int dp_group_stats(uint32_t id, dp_group_stats_cb cb, void *arg, struct sy_error *err);

/* Deletes every group (data plane shutdown and tests). */
void grp_fini(void);

#endif /* SY_GROUPS_H */
