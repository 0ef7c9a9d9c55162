/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meters.c — the meter table (see meters.h): configuration, counters,
 * deletion under RCU.  The per-packet part is inline in meters.h.
 */
#include <stdio.h>
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

/* Checks one band (i: its position as given, for errors), resolves its
 * burst and fills *mb. */
static int
band_config(const struct sy_meter_desc *d, unsigned int i, unsigned int n,
	    struct sy_meter_band_desc *b, struct meter_band *mb, uint64_t hz, struct sy_error *err)
{
	char where[16] = "";
	uint64_t units_per_s, burst_units;

	if (n > 1)
		snprintf(where, sizeof(where), " band %u", i);
	if (b->rate == 0 || b->rate > SY_METER_RATE_MAX)
		return sy_fail(err, SY_E_INVAL, "meter %u%s: rate %llu, expected 1..%llu %s", d->id,
			       where, (unsigned long long)b->rate, SY_METER_RATE_MAX,
			       d->unit == SY_METER_PPS ? "pps" : "kbps");
	if (b->type > SY_BAND_DSCP_REMARK)
		return sy_fail(err, SY_E_INVAL,
			       "meter %u%s: band %u, expected drop (0) or dscp_remark (1)", d->id,
			       where, b->type);
	if (b->dscp > 63)
		return sy_fail(err, SY_E_INVAL, "meter %u%s: dscp %u, expected 0..63", d->id, where,
			       b->dscp);
	if (b->burst > SY_METER_RATE_MAX * 10)
		return sy_fail(err, SY_E_INVAL, "meter %u%s: burst %llu, at most %llu", d->id, where,
			       (unsigned long long)b->burst, SY_METER_RATE_MAX * 10);
	if (b->burst == 0) { /* 100 ms of the rate, at least two frames */
		b->burst = b->rate / 10;
		if (d->unit == SY_METER_KBPS && b->burst < SY_METER_BURST_MIN_KBIT)
			b->burst = SY_METER_BURST_MIN_KBIT;
		if (b->burst == 0)
			b->burst = 1;
	}
	if (b->type == SY_BAND_DROP)
		b->dscp = 0;
	memset(b->pad, 0, sizeof(b->pad));
	units_per_s = d->unit == SY_METER_PPS ? b->rate : b->rate * 125; /* kbit/s: bytes/s */
	burst_units = d->unit == SY_METER_PPS ? b->burst : b->burst * 125;
	mb->rate = tb_rate(hz, units_per_s, burst_units);
	mb->type = b->type;
	mb->tos = (uint8_t)(b->dscp << 2);
	return 0;
}

static int
band_cmp(const void *a, const void *b)
{
	const struct sy_meter_band_desc *x = a, *y = b;

	return x->rate < y->rate ? -1 : x->rate > y->rate;
}

int
meter_config_bands(struct meter *m, struct sy_meter_desc *d, struct sy_meter_bands *bands,
		   uint64_t hz, struct sy_error *err)
{
	struct sy_meter_bands one;
	struct sy_meter_band_desc given[SY_METER_BANDS_MAX];

	if (d->id == 0 || d->id > SY_METER_ID_MAX)
		return sy_fail(err, SY_E_INVAL, "meter %u: id must be 1..%d", d->id,
			       SY_METER_ID_MAX);
	if (d->unit > SY_METER_PPS)
		return sy_fail(err, SY_E_INVAL, "meter %u: unit %u, expected kbps (0) or pps (1)",
			       d->id, d->unit);
	if (bands == NULL || bands->n_bands == 0) {
		memset(&one, 0, sizeof(one));
		one.n_bands = 1;
		one.band[0].type = d->band;
		one.band[0].dscp = d->dscp;
		one.band[0].rate = d->rate;
		one.band[0].burst = d->burst;
		bands = &one;
	}
	if (bands->n_bands > SY_METER_BANDS_MAX)
		return sy_fail(err, SY_E_INVAL, "meter %u: %u bands, at most %d", d->id,
			       bands->n_bands, SY_METER_BANDS_MAX);
	memcpy(given, bands->band, sizeof(given));
	for (unsigned int i = 0; i < bands->n_bands; i++)
		if (band_config(d, i, bands->n_bands, &given[i], &m->band[0], hz, err) < 0)
			return -1;
	qsort(given, bands->n_bands, sizeof(given[0]), band_cmp);
	for (unsigned int i = 1; i < bands->n_bands; i++)
		if (given[i].rate == given[i - 1].rate)
			return sy_fail(err, SY_E_INVAL,
				       "meter %u: two bands with rate %llu; each band needs its own rate",
				       d->id, (unsigned long long)given[i].rate);
	for (unsigned int i = 0; i < bands->n_bands; i++)
		band_config(d, i, bands->n_bands, &given[i], &m->band[i], hz, err);
	m->n_bands = (uint8_t)bands->n_bands;
	m->pps = d->unit == SY_METER_PPS;
	memset(&m->bands, 0, sizeof(m->bands));
	m->bands.n_bands = bands->n_bands;
	memcpy(m->bands.band, given, bands->n_bands * sizeof(given[0]));
	/* the one-band fields describe band 0 (the lowest rate) */
	d->rate = given[0].rate;
	d->burst = given[0].burst;
	d->band = given[0].type;
	d->dscp = given[0].dscp;
	d->pad = 0;
	m->desc = *d;
	if (bands != &one)
		*bands = m->bands;
	return 0;
}

int
meter_config(struct meter *m, struct sy_meter_desc *d, uint64_t hz, struct sy_error *err)
{
	return meter_config_bands(m, d, NULL, hz, err);
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

/* Copies the configured figures of tmp into the live meter m. */
static void
meter_set(struct meter *m, const struct meter *tmp)
{
	for (unsigned int i = 0; i < tmp->n_bands; i++) {
		/* in place: a racing packet sees the old or the new figures */
		__atomic_store_n(&m->band[i].rate.cost_fp, tmp->band[i].rate.cost_fp,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&m->band[i].rate.tau, tmp->band[i].rate.tau, __ATOMIC_RELAXED);
		m->band[i].type = tmp->band[i].type;
		m->band[i].tos = tmp->band[i].tos;
	}
	__atomic_store_n(&m->n_bands, tmp->n_bands, __ATOMIC_RELEASE);
	m->pps = tmp->pps;
	m->desc = tmp->desc;
	m->bands = tmp->bands;
}

int
meter_mod_bands(uint32_t cmd, const struct sy_meter_desc *d, const struct sy_meter_bands *bands,
		struct sy_meter_desc *out, struct sy_meter_bands *out_bands, struct sy_error *err)
{
	struct sy_meter_desc nd = *d;
	struct sy_meter_bands nb;
	struct meter *m, tmp;

	if (d->id == 0 || d->id > SY_METER_ID_MAX)
		return sy_fail(err, SY_E_INVAL, "meter %u: id must be 1..%d", d->id,
			       SY_METER_ID_MAX);
	if (bands != NULL)
		nb = *bands;
	m = meter_table[d->id];
	switch (cmd) {
	case SY_MC_ADD:
		if (m != NULL)
			return sy_fail(err, SY_E_EXIST, "meter %u already exists", d->id);
		memset(&tmp, 0, sizeof(tmp));
		if (meter_config_bands(&tmp, &nd, bands ? &nb : NULL, dp.tsc_hz, err) < 0)
			return -1;
		m = aligned_alloc(RTE_CACHE_LINE_SIZE,
				  RTE_ALIGN_CEIL(sizeof(*m) + dp.n_slots * sizeof(m->ctr[0]),
						 RTE_CACHE_LINE_SIZE));
		if (m == NULL)
			return sy_fail(err, SY_E_NOSPC, "meter %u: out of memory", d->id);
		memset(m, 0, sizeof(*m) + dp.n_slots * sizeof(m->ctr[0]));
		meter_set(m, &tmp);
		m->shared = dp.n_workers > 1;
		m->n_slots = dp.n_slots;
		m->created_ns = mono_ns();
		rcu_store(&meter_table[d->id], m);
		break;
	case SY_MC_MODIFY:
		if (m == NULL)
			return sy_fail(err, SY_E_NOENT, "meter %u does not exist", d->id);
		memset(&tmp, 0, sizeof(tmp));
		if (meter_config_bands(&tmp, &nd, bands ? &nb : NULL, dp.tsc_hz, err) < 0)
			return -1;
		meter_set(m, &tmp);
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
	if (out_bands != NULL)
		*out_bands = m->bands;
	return 0;
}

int
meter_mod(uint32_t cmd, const struct sy_meter_desc *d, struct sy_meter_desc *out,
	  struct sy_error *err)
{
	return meter_mod_bands(cmd, d, NULL, out, NULL, err);
}

static void
fill_stats(const struct meter *m, struct sy_meter_stats *st, struct sy_meter_band_stats *bs)
{
	memset(st, 0, sizeof(*st));
	memset(bs, 0, sizeof(*bs));
	st->desc = m->desc;
	st->duration_ns = mono_ns() - m->created_ns;
	bs->id = m->desc.id;
	bs->n_bands = m->bands.n_bands;
	for (unsigned int s = 0; s < m->n_slots; s++) {
		const struct meter_ctr *c = &m->ctr[s];

		st->pass_packets += __atomic_load_n(&c->pass_packets, __ATOMIC_RELAXED);
		st->pass_bytes += __atomic_load_n(&c->pass_bytes, __ATOMIC_RELAXED);
		for (unsigned int b = 0; b < SY_METER_BANDS_MAX; b++) {
			uint64_t p = __atomic_load_n(&c->band_packets[b], __ATOMIC_RELAXED);
			uint64_t y = __atomic_load_n(&c->band_bytes[b], __ATOMIC_RELAXED);

			/* the one-band figures: every band's */
			st->band_packets += p;
			st->band_bytes += y;
			bs->band[b].packets += p;
			bs->band[b].bytes += y;
		}
	}
}

int
meter_stats(uint32_t id, meter_stats_cb cb, void *arg, struct sy_error *err)
{
	struct sy_meter_stats st;
	struct sy_meter_band_stats bs;

	if (id != 0) {
		if (!meter_exists(id))
			return sy_fail(err, SY_E_NOENT, "meter %u does not exist", id);
		fill_stats(meter_table[id], &st, &bs);
		cb(&st, &meter_table[id]->bands, &bs, arg);
		return 0;
	}
	for (uint32_t i = 1; i <= SY_METER_ID_MAX; i++) {
		if (meter_table[i] == NULL)
			continue;
		fill_stats(meter_table[i], &st, &bs);
		cb(&st, &meter_table[i]->bands, &bs, arg);
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
