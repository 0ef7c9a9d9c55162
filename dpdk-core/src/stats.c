/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stats.c — summing per-lcore counters, flow counter indexes, dp_stats()
 * (see stats.h).
 */
#define _GNU_SOURCE /* CPU_COUNT */
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>

#include "dataplane.h"
#include "datapath.h"
#include "flow_table.h"
#include "pipeline.h"
#include "ports.h"
#include "stats.h"

static unsigned int n_slots;
static struct st_lcore *slots[RTE_MAX_LCORE];

/* PMD counter baselines (a clear; rxq: a new port), by slot. */
static struct st_pmd_ctr pmd_base[RTE_MAX_LCORE];
typedef uint64_t st_rxq_counts[SY_MAX_PORTS][SY_PORT_RXQ_MAX];
static st_rxq_counts *rxq_base; /* n_slots of them */

/* Flow counter indexes: a stack of freed ones, then fresh ones. */
static uint32_t *free_idx;
static uint32_t n_free, cap_free;
static uint32_t next_fresh;

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)

int
st_init(unsigned int n, struct st_lcore *const *s)
{
	rxq_base = calloc(n, sizeof(*rxq_base));
	if (rxq_base == NULL)
		return -1;
	memset(pmd_base, 0, sizeof(pmd_base));
	n_slots = n;
	for (unsigned int i = 0; i < n; i++)
		slots[i] = s[i];
	return 0;
}

void
st_fini(void)
{
	for (unsigned int c = 0; c < ST_FLOW_CHUNKS; c++)
		for (unsigned int i = 0; i < n_slots; i++) {
			free(slots[i]->flow_chunk[c]);
			slots[i]->flow_chunk[c] = NULL;
		}
	free(free_idx);
	free_idx = NULL;
	n_free = cap_free = next_fresh = 0;
	free(rxq_base);
	rxq_base = NULL;
	n_slots = 0;
}

void
st_port_sum(unsigned int port_slot, struct st_port_ctr *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < n_slots; i++) {
		const struct st_port_ctr *c = &slots[i]->port[port_slot];

		out->rx_packets += LOAD(&c->rx_packets);
		out->rx_bytes += LOAD(&c->rx_bytes);
		out->tx_packets += LOAD(&c->tx_packets);
		out->tx_bytes += LOAD(&c->tx_bytes);
		for (int d = 0; d < SY_DROP__MAX; d++)
			out->drops[d] += LOAD(&c->drops[d]);
	}
}

uint64_t
st_copies_sum(void)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < n_slots; i++)
		n += LOAD(&slots[i]->copies);
	return n;
}

void
st_port_sub(struct st_port_ctr *out, const struct st_port_ctr *base)
{
	out->rx_packets -= base->rx_packets;
	out->rx_bytes -= base->rx_bytes;
	out->tx_packets -= base->tx_packets;
	out->tx_bytes -= base->tx_bytes;
	for (int d = 0; d < SY_DROP__MAX; d++)
		out->drops[d] -= base->drops[d];
}

void
st_table_sum(unsigned int table, uint64_t *lookups, uint64_t *matched)
{
	*lookups = *matched = 0;
	for (unsigned int i = 0; i < n_slots; i++) {
		*lookups += LOAD(&slots[i]->tbl_lookups[table]);
		*matched += LOAD(&slots[i]->tbl_matched[table]);
	}
}

void
st_flow_sum(uint32_t idx, struct st_flow_ctr *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < n_slots; i++) {
		const struct st_flow_ctr *c = st_flow_ctr(slots[i], idx);
		uint64_t last = LOAD(&c->last_tsc);

		out->packets += LOAD(&c->packets);
		out->bytes += LOAD(&c->bytes);
		if (last > out->last_tsc)
			out->last_tsc = last;
	}
}

/* Makes sure every lcore has the chunk that holds index idx. */
static int
chunk_ensure(uint32_t idx)
{
	unsigned int c = idx >> ST_FLOW_CHUNK_SHIFT;

	if (slots[0]->flow_chunk[c])
		return 0;
	struct st_flow_ctr *fresh[RTE_MAX_LCORE];

	for (unsigned int i = 0; i < n_slots; i++) {
		fresh[i] = calloc(ST_FLOW_CHUNK, sizeof(struct st_flow_ctr));
		if (fresh[i] == NULL) {
			while (i--)
				free(fresh[i]);
			return -1;
		}
	}
	/* Published before any flow that uses it (that flow's own publication
	 * is a release store too). */
	for (unsigned int i = 0; i < n_slots; i++)
		__atomic_store_n(&slots[i]->flow_chunk[c], fresh[i], __ATOMIC_RELEASE);
	return 0;
}

int
st_flow_idx_alloc(uint32_t *idx)
{
	if (n_free) {
		*idx = free_idx[--n_free];
		return 0;
	}
	if (next_fresh >= ST_FLOW_INDEX_MAX)
		return -1;
	/* The free stack must be able to take every index back without
	 * allocating: grow it now, while failing is still allowed. */
	if (next_fresh + 1 > cap_free) {
		uint32_t cap = cap_free ? cap_free * 2 : 1024;
		uint32_t *p = realloc(free_idx, cap * sizeof(*p));

		if (p == NULL)
			return -1;
		free_idx = p;
		cap_free = cap;
	}
	if (chunk_ensure(next_fresh) < 0)
		return -1;
	*idx = next_fresh++;
	return 0;
}

void
st_flow_idx_free(uint32_t idx)
{
	free_idx[n_free++] = idx;
}

void
dp_stats(struct sy_dp_stats *out)
{
	memset(out, 0, sizeof(*out));
	/* Since start, over every port slot, deleted ports included. */
	for (unsigned int p = 0; p < SY_MAX_PORTS; p++) {
		struct st_port_ctr c;

		st_port_sum(p, &c);
		out->rx_packets += c.rx_packets;
		out->tx_packets += c.tx_packets;
		for (int d = 0; d < SY_DROP__MAX; d++)
			out->drops[d] += c.drops[d];
	}
	out->n_ports = ports_count();
	out->n_flows = ft_count();
	out->copies = st_copies_sum();
}

/* --- PMD counters --- */

void
st_pmd_read(unsigned int slot, struct st_pmd_ctr *out)
{
	const struct st_pmd_ctr *c = &slots[slot]->pmd;

	out->packets = LOAD(&c->packets);
	out->busy_cycles = LOAD(&c->busy_cycles);
	out->idle_cycles = LOAD(&c->idle_cycles);
	out->cache_hits = LOAD(&c->cache_hits);
	out->cache_misses = LOAD(&c->cache_misses);
	out->cls_lookups = LOAD(&c->cls_lookups);
	out->cls_probes = LOAD(&c->cls_probes);
}

void
st_rxq_rebase(unsigned int port_slot)
{
	for (unsigned int i = 0; i < n_slots; i++)
		for (unsigned int q = 0; q < SY_PORT_RXQ_MAX; q++)
			rxq_base[i][port_slot][q] = LOAD(&slots[i]->rxq_packets[port_slot][q]);
}

/* The CPU an EAL lcore is pinned to, or UINT32_MAX if it may run on
 * several. */
static uint32_t
lcore_cpu(unsigned int lcore_id)
{
	rte_cpuset_t set = rte_lcore_cpuset(lcore_id);

	if (CPU_COUNT(&set) != 1)
		return UINT32_MAX;
	for (unsigned int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			return cpu;
	return UINT32_MAX;
}

void
dp_pmd_stats(dp_pmd_stats_cb cb, void *arg)
{
	const struct pl_portmap *pm = pl_portmap; /* the main lcore publishes it */
	struct sy_pmd_stats *st = malloc(sizeof(*st));

	if (st == NULL)
		return;
	for (unsigned int s = 0; s < n_slots; s++) {
		const struct pl_pollq *pq = pm ? &pm->poll[s] : NULL;
		struct st_pmd_ctr c;

		memset(st, 0, sizeof(*st));
		st_pmd_read(s, &c);
		st->slot = s;
		st->lcore_id = dp.lcore_id[s];
		st->cpu = lcore_cpu(dp.lcore_id[s]);
		st->packets = c.packets - pmd_base[s].packets;
		st->busy_cycles = c.busy_cycles - pmd_base[s].busy_cycles;
		st->idle_cycles = c.idle_cycles - pmd_base[s].idle_cycles;
		st->cache_hits = c.cache_hits - pmd_base[s].cache_hits;
		st->cache_misses = c.cache_misses - pmd_base[s].cache_misses;
		st->cls_lookups = c.cls_lookups - pmd_base[s].cls_lookups;
		st->cls_probes = c.cls_probes - pmd_base[s].cls_probes;
		st->n_rxq = pq ? pq->n : 0;
		for (unsigned int i = 0; pq && i < pq->n && i < SY_PMD_RXQ_MAX; i++) {
			uint16_t ps = pq->q[i].slot, q = pq->q[i].queue;

			st->rxq[i].port_id = pm->port[ps].id;
			st->rxq[i].queue = q;
			st->rxq[i].packets = LOAD(&slots[s]->rxq_packets[ps][q]) - rxq_base[s][ps][q];
		}
		cb(st, arg);
	}
	free(st);
}

void
dp_pmd_stats_clear(void)
{
	for (unsigned int s = 0; s < n_slots; s++) {
		st_pmd_read(s, &pmd_base[s]);
		for (unsigned int p = 0; p < SY_MAX_PORTS; p++)
			for (unsigned int q = 0; q < SY_PORT_RXQ_MAX; q++)
				rxq_base[s][p][q] = LOAD(&slots[s]->rxq_packets[p][q]);
	}
}

/* --- flows summed by cookie --- */

/* An open-addressing table of cookies (linear probing), grown by doubling
 * at 3/4 full: its memory follows the number of distinct cookies, which is
 * usually small (one per application or tenant), not the number of flows. */
struct cookie_map {
	struct sy_cookie_stats *e; /* n_flows 0: empty */
	uint32_t mask;             /* capacity - 1 */
	uint32_t n;
	bool oom;
};

static inline uint32_t
cookie_hash(uint64_t c)
{
	c ^= c >> 33;
	c *= UINT64_C(0xff51afd7ed558ccd);
	c ^= c >> 33;
	return (uint32_t)c;
}

static struct sy_cookie_stats *
cookie_slot(struct sy_cookie_stats *e, uint32_t mask, uint64_t cookie)
{
	uint32_t i = cookie_hash(cookie) & mask;

	while (e[i].n_flows && e[i].cookie != cookie)
		i = (i + 1) & mask;
	return &e[i];
}

static int
cookie_grow(struct cookie_map *m)
{
	uint32_t cap = m->e ? (m->mask + 1) * 2 : 1024;
	struct sy_cookie_stats *e = calloc(cap, sizeof(*e));

	if (e == NULL)
		return -1;
	for (uint32_t i = 0; m->e && i <= m->mask; i++)
		if (m->e[i].n_flows)
			*cookie_slot(e, cap - 1, m->e[i].cookie) = m->e[i];
	free(m->e);
	m->e = e;
	m->mask = cap - 1;
	return 0;
}

static void
cookie_cb(struct cls_rule *r, void *arg)
{
	const struct ft_flow *f = ft_flow_of(r);
	struct cookie_map *m = arg;
	struct sy_cookie_stats *c;
	struct st_flow_ctr s;

	if (m->oom)
		return;
	if ((m->n + 1) * 4 > (m->mask + 1) * 3 && cookie_grow(m) < 0) {
		m->oom = true;
		return;
	}
	c = cookie_slot(m->e, m->mask, f->cookie);
	if (c->n_flows == 0) {
		c->cookie = f->cookie;
		m->n++;
	}
	st_flow_sum(f->ctr_idx, &s);
	c->n_flows++;
	c->packets += s.packets - f->base_packets;
	c->bytes += s.bytes - f->base_bytes;
}

/* Busier first: more packets, then more bytes, then the lower cookie. */
static int
cookie_busier(const struct sy_cookie_stats *a, const struct sy_cookie_stats *b)
{
	if (a->packets != b->packets)
		return a->packets > b->packets;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes;
	return a->cookie < b->cookie;
}

static int
cookie_cmp(const void *x, const void *y)
{
	const struct sy_cookie_stats *a = x, *b = y;

	return cookie_busier(a, b) ? -1 : cookie_busier(b, a) ? 1 : 0;
}

/* Restores the min-heap (the least busy at h[0]) below i. */
static void
heap_down(struct sy_cookie_stats *h, uint32_t n, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, least = i;
		struct sy_cookie_stats t;

		if (l < n && cookie_busier(&h[least], &h[l]))
			least = l;
		if (r < n && cookie_busier(&h[least], &h[r]))
			least = r;
		if (least == i)
			return;
		t = h[i];
		h[i] = h[least];
		h[least] = t;
		i = least;
	}
}

int
dp_flow_cookie_stats(uint32_t limit, dp_cookie_stats_cb cb, void *arg, struct sy_error *err)
{
	static const struct sy_flow_key zero;
	struct cookie_map m = { 0 };
	struct sy_cookie_stats *top;
	uint32_t n = 0;

	if (limit == 0 || limit > SY_COOKIE_LIMIT_MAX)
		return sy_fail(err, SY_E_INVAL, "limit: %u is out of range 1..%u", limit,
			       SY_COOKIE_LIMIT_MAX);
	if (cookie_grow(&m) < 0)
		return sy_fail(err, SY_E_NOSPC, "out of memory summing flows by cookie");
	for (unsigned int t = 0; t < SY_MAX_TABLES && !m.oom; t++)
		if (ft_tables[t].cls.n_rules)
			cls_visit(&ft_tables[t].cls, &zero, &zero, cookie_cb, &m);
	top = m.oom ? NULL : malloc((limit < m.n ? limit : m.n) * sizeof(*top) + 1);
	if (top == NULL) {
		free(m.e);
		return sy_fail(err, SY_E_NOSPC, "out of memory summing flows by cookie (%u cookies)",
			       m.n);
	}
	/* The busiest `limit`: a min-heap of that many, the least busy on top. */
	for (uint32_t i = 0; i <= m.mask; i++) {
		const struct sy_cookie_stats *c = &m.e[i];

		if (c->n_flows == 0)
			continue;
		if (n < limit) {
			top[n++] = *c;
			if (n == limit)
				for (uint32_t j = n / 2; j-- > 0;)
					heap_down(top, n, j);
		} else if (cookie_busier(c, &top[0])) {
			top[0] = *c;
			heap_down(top, n, 0);
		}
	}
	free(m.e);
	qsort(top, n, sizeof(*top), cookie_cmp);
	for (uint32_t i = 0; i < n; i++)
		cb(&top[i], arg);
	free(top);
	return 0;
}
