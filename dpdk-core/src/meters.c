/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meters.c — the meter table (see meters.h): configuration, counters,
 * deletion under RCU.  The per-packet part is inline in meters.h.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>

#include "dataplane.h"
#include "datapath.h"
#include "meters.h"

struct meter *meter_table[SY_METER_ID_MAX + 1];

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int
meter_config(struct meter *m, struct sy_meter_desc *d, uint64_t hz, struct sy_error *err)
{
	uint64_t units_per_s, burst_units;

	if (d->id == 0 || d->id > SY_METER_ID_MAX)
		return sy_fail(err, SY_E_INVAL, "meter %u: id must be 1..%d", d->id,
			       SY_METER_ID_MAX);
	if (d->unit > SY_METER_PPS)
		return sy_fail(err, SY_E_INVAL, "meter %u: unit %u, expected kbps (0) or pps (1)",
			       d->id, d->unit);
	if (d->rate == 0 || d->rate > SY_METER_RATE_MAX)
		return sy_fail(err, SY_E_INVAL, "meter %u: rate %llu, expected 1..%llu %s", d->id,
			       (unsigned long long)d->rate, SY_METER_RATE_MAX,
			       d->unit == SY_METER_PPS ? "pps" : "kbps");
	if (d->band > SY_BAND_DSCP_REMARK)
		return sy_fail(err, SY_E_INVAL,
			       "meter %u: band %u, expected drop (0) or dscp_remark (1)", d->id,
			       d->band);
	if (d->dscp > 63)
		return sy_fail(err, SY_E_INVAL, "meter %u: dscp %u, expected 0..63", d->id,
			       d->dscp);
	if (d->burst > SY_METER_RATE_MAX * 10)
		return sy_fail(err, SY_E_INVAL, "meter %u: burst %llu, at most %llu", d->id,
			       (unsigned long long)d->burst, SY_METER_RATE_MAX * 10);
	if (d->burst == 0) { /* 100 ms of the rate, at least two frames */
		d->burst = d->rate / 10;
		if (d->unit == SY_METER_KBPS && d->burst < SY_METER_BURST_MIN_KBIT)
			d->burst = SY_METER_BURST_MIN_KBIT;
		if (d->burst == 0)
			d->burst = 1;
	}
	units_per_s = d->unit == SY_METER_PPS ? d->rate : d->rate * 125; /* kbit/s: bytes/s */
	burst_units = d->unit == SY_METER_PPS ? d->burst : d->burst * 125;
	m->rate = tb_rate(hz, units_per_s, burst_units);
	m->pps = d->unit == SY_METER_PPS;
	m->band = d->band;
	m->tos = (uint8_t)(d->dscp << 2);
	m->desc = *d;
	return 0;
}

bool
meter_exists(uint32_t id)
{
	return id >= 1 && id <= SY_METER_ID_MAX && meter_table[id] != NULL;
}

static void
meter_free_rcu(struct rcu_head *h)
{
	free(container_of(h, struct meter, rcu));
}

/* dp_flow_dump() callback: counts the flows that name meter *arg. */
struct meter_users {
	uint32_t id;
	uint32_t n;
	struct sy_flow_hdr first;
};

static void
count_users(const struct sy_flow_mod *entry, const struct sy_flow_stats *stats, void *arg)
{
	struct meter_users *u = arg;

	(void)stats;
	for (unsigned int i = 0; i < entry->n_actions; i++) {
		if (entry->actions[i].type == SY_ACT_METER && entry->actions[i].arg == u->id) {
			if (u->n++ == 0)
				u->first = entry->hdr;
			return;
		}
	}
}

int
meter_mod(uint32_t cmd, const struct sy_meter_desc *d, struct sy_meter_desc *out,
	  struct sy_error *err)
{
	struct sy_meter_desc nd = *d;
	struct meter *m, tmp;

	if (d->id == 0 || d->id > SY_METER_ID_MAX)
		return sy_fail(err, SY_E_INVAL, "meter %u: id must be 1..%d", d->id,
			       SY_METER_ID_MAX);
	m = meter_table[d->id];
	switch (cmd) {
	case SY_MC_ADD:
		if (m != NULL)
			return sy_fail(err, SY_E_EXIST, "meter %u already exists", d->id);
		memset(&tmp, 0, sizeof(tmp));
		if (meter_config(&tmp, &nd, dp.tsc_hz, err) < 0)
			return -1;
		m = aligned_alloc(RTE_CACHE_LINE_SIZE,
				  RTE_ALIGN_CEIL(sizeof(*m) + dp.n_slots * sizeof(m->ctr[0]),
						 RTE_CACHE_LINE_SIZE));
		if (m == NULL)
			return sy_fail(err, SY_E_NOSPC, "meter %u: out of memory", d->id);
		memset(m, 0, sizeof(*m) + dp.n_slots * sizeof(m->ctr[0]));
		m->rate = tmp.rate;
		m->pps = tmp.pps;
		m->band = tmp.band;
		m->tos = tmp.tos;
		m->desc = tmp.desc;
		m->shared = dp.n_workers > 1;
		m->n_slots = dp.n_slots;
		m->created_ns = mono_ns();
		rcu_store(&meter_table[d->id], m);
		break;
	case SY_MC_MODIFY:
		if (m == NULL)
			return sy_fail(err, SY_E_NOENT, "meter %u does not exist", d->id);
		memset(&tmp, 0, sizeof(tmp));
		if (meter_config(&tmp, &nd, dp.tsc_hz, err) < 0)
			return -1;
		/* in place: a racing packet sees the old or the new figures */
		__atomic_store_n(&m->rate.cost_fp, tmp.rate.cost_fp, __ATOMIC_RELAXED);
		__atomic_store_n(&m->rate.tau, tmp.rate.tau, __ATOMIC_RELAXED);
		m->pps = tmp.pps;
		m->band = tmp.band;
		m->tos = tmp.tos;
		m->desc = tmp.desc;
		break;
	case SY_MC_DELETE: {
		struct meter_users u = { .id = d->id };

		if (m == NULL)
			return sy_fail(err, SY_E_NOENT, "meter %u does not exist", d->id);
		if (dp_flow_dump(NULL, count_users, &u, err) < 0)
			return -1;
		if (u.n > 0)
			return sy_fail(err, SY_E_BUSY,
				       "meter %u is used by %u flow%s (the first in table %u, "
				       "priority %u); delete them first",
				       d->id, u.n, u.n == 1 ? "" : "s", u.first.table_id,
				       u.first.priority);
		rcu_store(&meter_table[d->id], NULL);
		rcu_defer(&m->rcu, meter_free_rcu);
		rcu_commit();
		rcu_poll();
		return 0;
	}
	default:
		return sy_fail(err, SY_E_INVAL, "meter %u: command %u, expected add (1), "
			       "modify (2) or delete (3)", d->id, cmd);
	}
	if (out != NULL)
		*out = m->desc;
	return 0;
}

static void
fill_stats(const struct meter *m, struct sy_meter_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->desc = m->desc;
	st->duration_ns = mono_ns() - m->created_ns;
	for (unsigned int s = 0; s < m->n_slots; s++) {
		const struct meter_ctr *c = &m->ctr[s];

		st->pass_packets += __atomic_load_n(&c->pass_packets, __ATOMIC_RELAXED);
		st->pass_bytes += __atomic_load_n(&c->pass_bytes, __ATOMIC_RELAXED);
		st->band_packets += __atomic_load_n(&c->band_packets, __ATOMIC_RELAXED);
		st->band_bytes += __atomic_load_n(&c->band_bytes, __ATOMIC_RELAXED);
	}
}

int
meter_stats(uint32_t id, meter_stats_cb cb, void *arg, struct sy_error *err)
{
	struct sy_meter_stats st;

	if (id != 0) {
		if (!meter_exists(id))
			return sy_fail(err, SY_E_NOENT, "meter %u does not exist", id);
		fill_stats(meter_table[id], &st);
		cb(&st, arg);
		return 0;
	}
	for (uint32_t i = 1; i <= SY_METER_ID_MAX; i++) {
		if (meter_table[i] == NULL)
			continue;
		fill_stats(meter_table[i], &st);
		cb(&st, arg);
	}
	return 0;
}

void
meter_fini(void)
{
	for (uint32_t i = 1; i <= SY_METER_ID_MAX; i++) {
		free(meter_table[i]);
		meter_table[i] = NULL;
	}
}
