/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meters.h — the meter table: rate limits that flows share (meter:N).
 *
 * What?
 *   A meter is a set of 1..SY_METER_BANDS_MAX bands, as an OpenFlow meter:
 *   each band a token bucket of its own rate and burst, in the meter's
 *   unit (kbit/s of frame bytes, or packets/s), and what happens to a
 *   packet that exceeds it: it is dropped (counted under drop reason
 *   `meter`) or its IP DSCP is rewritten (to the band's DSCP, not OVS's
 *   prec_level increase) and it goes on.  A packet is handled by the band
 *   of the highest rate it exceeds; under every band it passes.  The
 *   action meter:N runs meter N on the packet at that point of the action
 *   list (write it first, as OpenFlow's meter instruction comes first).
 *
 * Bands, colours
 *   The buckets are checked from the highest rate down; a bucket the
 *   packet conforms to is charged, and the first it exceeds names the band.
 *   So a packet under every rate is charged to every bucket, and one over
 *   band i's rate but under the higher ones is charged to those only.
 *   With two bands, dscp_remark at rate C and drop at rate P > C, that is
 *   RFC 2698's colour-blind trTCM (CIR C with CBS, PIR P with PBS): green
 *   passes, yellow is remarked, red dropped.  One band is srTCM with EBS 0.
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
 *   conformed (passed), and per band those it handled (dropped or
 *   remarked).  A packet trace runs no meter (it passes, counts and costs
 *   nothing).
 *
 * Changes
 *   meter_mod() on the main lcore.  ADD publishes a new meter; MODIFY
 *   rewrites the bands in place (a packet racing the change may be judged
 *   by the old or the new figures; the buckets and counters stay, by band
 *   position); DELETE is refused (BUSY) while any flow names the meter, as the
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
	uint64_t band_packets[SY_METER_BANDS_MAX]; /* by band */
	uint64_t band_bytes[SY_METER_BANDS_MAX];
} __rte_cache_aligned;

struct meter_band {
	struct tb_rate rate; /* cycles per unit, depth */
	uint8_t type;        /* enum sy_meter_band */
	uint8_t tos;         /* remark: DSCP << 2 */
};

struct meter {
	uint64_t tat[SY_METER_BANDS_MAX]; /* by band: theoretical arrival times, the shared words */
	struct meter_band band[SY_METER_BANDS_MAX] __rte_cache_aligned; /* by rate, ascending */
	uint8_t n_bands;
	uint8_t pps;      /* units are packets, not bytes */
	uint8_t shared;   /* more than one lcore: compare-and-swap */
	struct sy_meter_desc desc;   /* as configured, burst resolved: band 0 */
	struct sy_meter_bands bands; /* every band, bursts resolved */
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
/* Whether a packet of `units` conforms at TSC time now to band 0's
 * bucket; if so it is charged (the unit tests' view of a one-band meter). */
static inline bool
meter_conform(struct meter *m, uint64_t now, uint64_t units)
{
	return tb_conform(&m->tat[0], &m->band[0].rate, m->shared, now, units);
}

/* The band that handles a packet of `units` at TSC time now (see "Bands,
 * colours"), or -1 if it conforms to every band; the buckets it conforms
 * to are charged. */
static inline int
meter_judge(struct meter *m, uint64_t now, uint64_t units)
{
	int i = (int)__atomic_load_n(&m->n_bands, __ATOMIC_ACQUIRE) - 1;

	for (; i >= 0; i--)
		if (!tb_conform(&m->tat[i], &m->band[i].rate, m->shared, now, units))
			return i;
	return -1;
}

/* Runs meter id on a packet of len bytes on lcore slot at time now:
 * true if it conforms, false if a band handles it (*band: its type, *tos:
 * its DSCP << 2); counted either way.  A meter deleted under the packet
 * lets it pass. */
static inline bool
meter_run(uint32_t id, unsigned int slot, uint64_t now, uint32_t len, uint8_t *band,
	  uint8_t *tos)
{
	struct meter *m = id <= SY_METER_ID_MAX ? rcu_load(&meter_table[id]) : NULL;
	struct meter_ctr *c;
	int b;

	if (m == NULL)
		return true;
	c = &m->ctr[slot];
	b = meter_judge(m, now, m->pps ? 1 : len);
	if (b < 0) {
		c->pass_packets++;
		c->pass_bytes += len;
		return true;
	}
	c->band_packets[b]++;
	c->band_bytes[b] += len;
	*band = m->band[b].type;
	*tos = m->band[b].tos;
	return false;
}

/* --- main lcore --- */

/* Fills m's bands from d and bands (NULL or no bands: the one band of d),
 * sorted by rate, bursts resolved into *d and *bands, for a TSC of hz;
 * INVAL naming the field if out of range.  Exposed for the unit test. */
int meter_config_bands(struct meter *m, struct sy_meter_desc *d, struct sy_meter_bands *bands,
		       uint64_t hz, struct sy_error *err);

/* meter_config_bands() of a one-band meter. */
int meter_config(struct meter *m, struct sy_meter_desc *d, uint64_t hz, struct sy_error *err);

/* ADD (EXIST if the id is taken), MODIFY or DELETE (NOENT if it is not),
 * with the bands of `bands` (NULL: the one band of d); *out and *out_bands
 * (either may be NULL): the meter as configured (ADD, MODIFY). */
int meter_mod_bands(uint32_t cmd, const struct sy_meter_desc *d,
		    const struct sy_meter_bands *bands, struct sy_meter_desc *out,
		    struct sy_meter_bands *out_bands, struct sy_error *err);

/* meter_mod_bands() of a one-band meter. */
int meter_mod(uint32_t cmd, const struct sy_meter_desc *d, struct sy_meter_desc *out,
	      struct sy_error *err);

bool meter_exists(uint32_t id);

typedef void (*meter_stats_cb)(const struct sy_meter_stats *st, const struct sy_meter_bands *bands,
			       const struct sy_meter_band_stats *band_stats, void *arg);

/* Meter id's counters, or every meter's (id 0), in id order; NOENT. */
int meter_stats(uint32_t id, meter_stats_cb cb, void *arg, struct sy_error *err);

/* Frees every meter (shutdown, after the lcores stopped). */
void meter_fini(void);

#endif /* SY_METERS_H */
