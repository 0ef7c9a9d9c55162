/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meters.h — the meter table: rate limits that flows share (meter:N).
 *
 * What?
 *   A meter is one token bucket with one band, as an OpenFlow meter with a
 *   single band: a rate in kbit/s (frame bytes) or packets/s, a burst, and
 *   what happens to a packet over the rate: it is dropped (counted under
 *   drop reason `meter`) or its IP DSCP is rewritten and it goes on.  The
 *   action meter:N runs meter N on the packet at that point of the action
 *   list (write it first, as OpenFlow's meter instruction comes first).
 *
 * The bucket: one per meter, shared by every lcore, no locks
 *   Per-lcore buckets would let each lcore pass the whole rate; giving each
 *   a share of the rate would starve a flow that RSS puts on one lcore.  So
 *   each meter has one bucket, the one-word GCRA of tbucket.h, which port
 *   egress QoS (qos.h) uses too: lcores share it with one compare-and-swap
 *   and no lock, and with a single forwarding lcore nothing is shared and
 *   the word is read and written plainly (meter.shared is 0).  The unit
 *   test checks the arithmetic against rte_meter's srTCM.
 *
 * Burst
 *   kbit for kbps meters, packets for pps meters, as ovs-ofctl's
 *   burst_size.  0 (none given) means 100 ms of the rate, and at least
 *   SY_METER_BURST_MIN_KBIT (two 1518-byte frames) or 1 packet.
 *
 * Counters
 *   Per meter and per lcore (summed when read): packets and bytes that
 *   conformed (passed) and that hit the band (dropped or remarked).  A
 *   packet trace runs no meter (it passes, counts and costs nothing).
 *
 * Changes
 *   meter_mod() on the main lcore.  ADD publishes a new meter; MODIFY
 *   rewrites the rate, burst and band in place (a packet racing the change
 *   may be judged by the old or the new figures; the bucket and counters
 *   stay); DELETE is refused (BUSY) while any flow names the meter, as the
 *   daemon refuses it too: delete those flows first.  A flow naming a meter
 *   that does not exist is refused (NOENT) by dp_flow_mod().
 */
#ifndef SY_METERS_H
#define SY_METERS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include <switchyard/proto.h>

#include "rcu.h"
#include "tbucket.h"

struct sy_error;

struct meter_ctr {
	uint64_t pass_packets;
	uint64_t pass_bytes;
	uint64_t band_packets;
	uint64_t band_bytes;
} __rte_cache_aligned;

struct meter {
	uint64_t tat; /* theoretical arrival time, TSC cycles; the shared word */
	struct tb_rate rate __rte_cache_aligned; /* cycles per unit, depth */
	uint8_t pps;      /* units are packets, not bytes */
	uint8_t band;     /* enum sy_meter_band */
	uint8_t tos;      /* remark: DSCP << 2 */
	uint8_t shared;   /* more than one lcore: compare-and-swap */
	struct sy_meter_desc desc; /* as configured, burst resolved */
	uint64_t created_ns;
	struct rcu_head rcu;
	unsigned int n_slots;
	struct meter_ctr ctr[]; /* by lcore slot */
};

#define SY_METER_BURST_MIN_KBIT 25 /* two 1518-byte frames */

/* By id, 1..SY_METER_ID_MAX; NULL: none.  Published under RCU. */
extern struct meter *meter_table[SY_METER_ID_MAX + 1];

/* Whether a packet of `units` conforms at TSC time now; if so it is
 * charged to the bucket. */
static inline bool
meter_conform(struct meter *m, uint64_t now, uint64_t units)
{
	return tb_conform(&m->tat, &m->rate, m->shared, now, units);
}

/* Runs meter id on a packet of len bytes on lcore slot at time now:
 * true if it conforms, false if it hits the band (counted either way).  A
 * meter deleted under the packet lets it pass. */
static inline bool
meter_run(uint32_t id, unsigned int slot, uint64_t now, uint32_t len, uint8_t *band,
	  uint8_t *tos)
{
	struct meter *m = id <= SY_METER_ID_MAX ? rcu_load(&meter_table[id]) : NULL;
	struct meter_ctr *c;

	if (m == NULL)
		return true;
	c = &m->ctr[slot];
	if (meter_conform(m, now, m->pps ? 1 : len)) {
		c->pass_packets++;
		c->pass_bytes += len;
		return true;
	}
	c->band_packets++;
	c->band_bytes += len;
	*band = m->band;
	*tos = m->tos;
	return false;
}

/* --- main lcore --- */

/* Fills m's rate figures from d (burst resolved into d->burst) for a TSC
 * of hz; INVAL naming the field if d is out of range.  Exposed for the
 * unit test. */
int meter_config(struct meter *m, struct sy_meter_desc *d, uint64_t hz, struct sy_error *err);

/* ADD (EXIST if the id is taken), MODIFY or DELETE (NOENT if it is not);
 * *out is the meter as configured (ADD, MODIFY). */
int meter_mod(uint32_t cmd, const struct sy_meter_desc *d, struct sy_meter_desc *out,
	      struct sy_error *err);

bool meter_exists(uint32_t id);

typedef void (*meter_stats_cb)(const struct sy_meter_stats *st, void *arg);

/* Meter id's counters, or every meter's (id 0), in id order; NOENT. */
int meter_stats(uint32_t id, meter_stats_cb cb, void *arg, struct sy_error *err);

/* Frees every meter (shutdown, after the lcores stopped). */
void meter_fini(void);

#endif /* SY_METERS_H */
