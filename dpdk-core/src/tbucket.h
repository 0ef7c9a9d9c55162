/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tbucket.h — the token bucket shared by every lcore, as one word (GCRA).
 *
 * What?
 *   The rate limiter of meters (meters.h) and of port egress QoS (qos.h).
 *   A bucket of `burst` units filled at `rate` units/s, kept in its
 *   virtual-scheduling form (GCRA, ITU-T I.371): the theoretical arrival
 *   time `tat` in TSC cycles.  A packet of u units (bytes or 1) costs
 *   u * T cycles (T = cycles per unit at the rate); it conforms when
 *   max(tat, now) + u * T - now <= tau, where tau = burst * T is the bucket
 *   depth, and then tat becomes max(tat, now) + u * T.  That is exactly
 *   srTCM's committed bucket with EBS 0 (a packet larger than the burst
 *   never passes), but its state is one word, so lcores share it with one
 *   compare-and-swap and no lock; with a single forwarding lcore (`shared`
 *   false) it is read and written plainly.
 *
 * Why not rte_meter?
 *   rte_meter keeps its state in a struct owned by one caller: a bucket
 *   shared by all lcores would need a lock around it.  Per-lcore buckets
 *   would let each lcore pass the whole rate.
 *
 * Thread-safety
 *   tb_conform() from any lcore; the figures (cost_fp, tau) may be
 *   rewritten under it by the main lcore: a racing packet sees the old or
 *   the new ones.
 */
#ifndef SY_TBUCKET_H
#define SY_TBUCKET_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#define TB_FP 16 /* fixed-point bits of cost_fp */

/* The figures of a rate: cycles per unit << TB_FP, and the depth in cycles. */
struct tb_rate {
	uint64_t cost_fp;
	uint64_t tau;
};

/* The figures for units_per_s (>= 1) and a depth of burst_units at a TSC
 * of hz. */
static inline struct tb_rate
tb_rate(uint64_t hz, uint64_t units_per_s, uint64_t burst_units)
{
	struct tb_rate r;

	r.cost_fp = (hz << TB_FP) / units_per_s;
	r.tau = (uint64_t)RTE_MIN((unsigned __int128)burst_units * r.cost_fp >> TB_FP,
				  (unsigned __int128)(UINT64_MAX >> 2));
	return r;
}

/* Whether a packet of `units` conforms at TSC time now to the bucket whose
 * state is *tat; if so it is charged.  shared: other lcores may charge it
 * too (compare-and-swap), else plain stores. */
static inline bool
tb_conform(uint64_t *tat_p, const struct tb_rate *r, bool shared, uint64_t now, uint64_t units)
{
	uint64_t cost = (units * __atomic_load_n(&r->cost_fp, __ATOMIC_RELAXED)) >> TB_FP;
	uint64_t tau = __atomic_load_n(&r->tau, __ATOMIC_RELAXED);
	uint64_t tat = __atomic_load_n(tat_p, __ATOMIC_RELAXED), next;

	do {
		uint64_t base = tat > now ? tat : now;

		if (base + cost - now > tau)
			return false;
		next = base + cost;
		if (!shared) {
			__atomic_store_n(tat_p, next, __ATOMIC_RELAXED);
			return true;
		}
	} while (!__atomic_compare_exchange_n(tat_p, &tat, next, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return true;
}

#endif /* SY_TBUCKET_H */
