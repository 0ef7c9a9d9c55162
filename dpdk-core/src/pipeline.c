/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pipeline.c — the forwarding loop: rx burst, parse, table cascade,
 * actions, tx flush (see pipeline.h).
 */
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "actions.h"
#include "datapath.h"
#include "flow_cache.h"
#include "flow_table.h"
#include "mirrors.h"
#include "packet_out.h"
#include "parse.h"
#include "pipeline.h"
#include "edge.h"
#include "trace.h"

/* Packets ahead whose data the parse stage prefetches. */
#define PL_PREFETCH 8
/* Packets ahead whose first entry (and, half as far, its counters) the
 * cache-hit stage prefetches. */
#define PL_AHEAD 6

struct pl_portmap *pl_portmap;
static volatile bool quit;

/* The credits of a burst's cache hits, gathered per position on the path:
 * packets in a row that hit the same entry there cost one update of its
 * counters and its table's (every packet of a burst, for the forwarding
 * entry of the last table of a cascade).  Flushed before the burst ends,
 * while the entries are sure to be alive. */
struct pl_acc {
	const struct ft_flow *f;
	uint32_t packets;
	uint64_t bytes;
};

/* Read from the top: the loop, one iteration, one burst, one packet. */
static void pl_idle_sleep(struct pl_lcore *lc, uint32_t max_us);
static bool pl_polls_nothing(const struct pl_lcore *lc);
static void pl_tx_flush_all(struct pl_lcore *lc, const struct pl_portmap *pm);
static void pl_follow(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p,
		      struct fc_entry *e, struct pl_acc *acc);
static inline void pl_acc_flush(struct pl_lcore *lc, struct pl_acc *a);
static inline void pl_prefetch_path(struct pl_lcore *lc, const struct fc_entry *e, bool ctr);
static inline void pl_free_dead(struct pl_lcore *lc);
static void pl_miss(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p);
static void pl_cascade(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p,
		       unsigned int t, struct fc_path *rec);
static inline const struct ft_flow *pl_lookup(struct pl_lcore *lc, unsigned int t,
					      const struct sy_flow_key *key, uint64_t *wc);

int
pl_worker_main(void *arg)
{
	struct pl_lcore *lc = arg;
	struct st_pmd_ctr *pmd = &lc->ctr.pmd;
	uint64_t start;

	rte_rcu_qsbr_thread_register(dp.qsbr, lc->slot);
	rte_rcu_qsbr_thread_online(dp.qsbr, lc->slot);
	start = rte_rdtsc();
	while (!quit) {
		unsigned int n;
		uint64_t next;

		/* The one TSC read of the iteration: lc->now, and the end of
		 * the previous iteration for the busy/idle split. */
		lc->now = start;
		n = pl_run_once(lc);
		rte_rcu_qsbr_quiescent(dp.qsbr, lc->slot);
		if (n == 0) {
			uint32_t max_us = dp.cfg.pmd_sleep_max_us;

			if (max_us < PL_NOQ_SLEEP_US && pl_polls_nothing(lc))
				max_us = PL_NOQ_SLEEP_US;
			if (max_us)
				pl_idle_sleep(lc, max_us);
		} else {
			lc->sleep_ns = 0;
		}
		next = rte_rdtsc();
		if (n)
			pmd->busy_cycles += next - start;
		else
			pmd->idle_cycles += next - start;
		start = next;
	}
	rte_rcu_qsbr_thread_offline(dp.qsbr, lc->slot);
	rte_rcu_qsbr_thread_unregister(dp.qsbr, lc->slot);
	return 0;
}

void
pl_stop(void)
{
	quit = true;
}

unsigned int
pl_run_once(struct pl_lcore *lc)
{
	const struct pl_portmap *pm = rcu_load(&pl_portmap);
	struct rte_mbuf *pkts[PL_BURST];
	unsigned int total = 0;

	if (pm == NULL)
		return 0;
	const struct pl_pollq *pq = &pm->poll[lc->slot];

	for (uint16_t i = 0; i < pq->n; i++) {
		const struct pl_rxq *rq = &pq->q[i];
		uint16_t n = rte_eth_rx_burst(pm->port[rq->slot].dpdk_port, rq->queue, pkts,
					      PL_BURST);

		if (n == 0)
			continue;
		lc->ctr.rxq_packets[rq->slot][rq->queue] += n;
		pl_input(lc, pm, rq->slot, pkts, n);
		total += n;
	}
	lc->ctr.pmd.packets += total;
	if (unlikely(!rte_ring_empty(lc->pout))) /* from the main lcore: packet_out.h */
		pout_run(lc, pm);
	pl_tx_flush_all(lc, pm);
	return total;
}

/* No rx queue is assigned to this lcore (in the map it will read next). */
static bool
pl_polls_nothing(const struct pl_lcore *lc)
{
	const struct pl_portmap *pm = rcu_load(&pl_portmap);

	return pm == NULL || pm->poll[lc->slot].n == 0;
}

static inline void
pl_acc_flush(struct pl_lcore *lc, struct pl_acc *a)
{
	struct st_flow_ctr *c;

	if (a->f == NULL)
		return;
	c = st_flow_ctr(&lc->ctr, a->f->ctr_idx);
	c->packets += a->packets;
	c->bytes += a->bytes;
	c->last_tsc = lc->now;
	lc->ctr.tbl_lookups[a->f->table_id] += a->packets;
	lc->ctr.tbl_matched[a->f->table_id] += a->packets;
	a->f = NULL;
}

static inline void
pl_acc_add(struct pl_lcore *lc, struct pl_acc *a, const struct ft_flow *f,
	   const struct rte_mbuf *m)
{
	if (a->f != f) {
		pl_acc_flush(lc, a);
		a->f = f;
		a->packets = 0;
		a->bytes = 0;
	}
	a->packets++;
	a->bytes += rte_pktmbuf_pkt_len(m);
}

/* A train: packets in a row of one flow whose path is one entry with a
 * lone output (the commonest forwarding rule), or one table miss that
 * drops.  The first goes the whole way; the next ones, while the entry
 * keeps that action list (the table that miss behaviour), go straight to
 * the port's tx buffer (or the bin), skipping the port lookup and checks. */
struct pl_train {
	const struct fc_entry *e;
	const struct ft_actions *fa; /* NULL: a miss that drops */
	uint16_t slot;
	uint16_t mtu;
	const struct pl_edge *edge; /* the port's VLAN mode or NSH tag (edge.h), or NULL */
};

static inline void
pl_train_set(const struct pl_portmap *pm, const struct act_pkt *p, const struct fc_entry *e,
	     struct pl_train *tr)
{
	const struct ft_actions *fa;
	uint16_t slot;

	tr->e = NULL;
	if (e->n_hops != 1 || e->open)
		return;
	if (e->f[0] == NULL) {
		if (__atomic_load_n(&ft_tables[e->tbl[0]].miss, __ATOMIC_RELAXED) !=
		    SY_MISS_DROP)
			return;
		tr->e = e;
		tr->fa = NULL;
		return;
	}
	fa = rcu_load(&e->f[0]->acts);
	if (fa->n != 1 || fa->a[0].type != SY_ACT_OUTPUT || fa->a[0].arg > SY_MAX_PORT_ID)
		return;
	slot = pl_port_slot(pm, fa->a[0].arg);
	if (slot == PL_NO_PORT || slot == p->in_slot || !pm->port[slot].admin_up)
		return;
	tr->e = e;
	tr->fa = fa;
	tr->slot = slot;
	tr->mtu = pm->port[slot].mtu;
	tr->edge = pm->port[slot].edge;
}

static inline bool
pl_train_go(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p,
	    const struct pl_train *tr, struct pl_acc *acc)
{
	const struct ft_flow *f = tr->e->f[0];
	unsigned int t = tr->e->tbl[0];

	if (tr->fa == NULL) {
		if (__atomic_load_n(&ft_tables[t].miss, __ATOMIC_RELAXED) != SY_MISS_DROP)
			return false;
		lc->ctr.tbl_lookups[t]++;
		act_stop(lc, pm, p, SY_DROP_TABLE_MISS);
		return true;
	}
	if (rcu_load(&f->acts) != tr->fa ||
	    rte_pktmbuf_pkt_len(p->m) - p->lay.l3_ofs > tr->mtu)
		return false;
	pl_acc_add(lc, &acc[0], f, p->m);
	if (unlikely(tr->edge != NULL)) { /* its egress step, as emit() would */
		struct rte_mbuf *m = edge_tx(lc, tr->edge, tr->slot, p->m, true);

		if (m != NULL)
			pl_tx_put(lc, pm, tr->slot, m, 0);
		return true;
	}
	pl_tx_put(lc, pm, tr->slot, p->m, 0); /* a lone output: no set_queue */
	return true;
}

void
pl_input(struct pl_lcore *lc, const struct pl_portmap *pm, uint16_t in_slot,
	 struct rte_mbuf **pkts, uint16_t n)
{
	struct st_port_ctr *pc = &lc->ctr.port[in_slot];
	uint32_t in_port = pm->port[in_slot].id;

	if (unlikely(pm->port[in_slot].mir_src)) /* src mirrors: as received */
		mir_ports(lc, pm, pm->port[in_slot].mir_src, pkts, n);
	struct flow_cache *fc = lc->fc;
	struct act_pkt pp[PL_BURST];
	struct sy_flow_key *keys[PL_BURST];
	struct fc_entry *hit[PL_BURST];
	struct pl_acc acc[FC_HOPS];
	uint64_t bytes = 0;
	uint16_t n_ok = 0, n_hits = 0;
	bool inserted = false;
	const struct fc_entry *current = NULL; /* the last entry found current */
	struct pl_train tr = { .e = NULL };

	lc->now = rte_rdtsc();
	pc->rx_packets += n;
	lc->free_later = 1;
	/* a port with a VLAN mode or an NSH tag: tag, filter, push (edge.h) */
	if (unlikely(pm->port[in_slot].edge != NULL))
		n = edge_rx(lc, pm->port[in_slot].edge, in_slot, pkts, n);

	/* 1. parse every packet of the burst into its flow key (the mbufs'
	 * first lines all at once: the driver may have filled them long
	 * ago; the data a few packets ahead) */
	for (uint16_t i = 0; i < n; i++)
		rte_prefetch0(pkts[i]);
	for (uint16_t i = 0; i < n && i < PL_PREFETCH; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		enum sy_drop_reason why;

		if (i + PL_PREFETCH < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PL_PREFETCH], void *));
		bytes += rte_pktmbuf_pkt_len(m);
		if (unlikely(!parse_packet(m, in_port, &pp[n_ok].key, &pp[n_ok].lay, &why))) {
			pc->drops[why]++;
			rte_pktmbuf_free(m);
			continue;
		}
		act_pkt_init(&pp[n_ok], m, in_slot);
		keys[n_ok] = &pp[n_ok].key;
		n_ok++;
	}
	pc->rx_bytes += bytes;

	if (unlikely(fc == NULL)) { /* no cache: every packet walks */
		for (uint16_t i = 0; i < n_ok; i++)
			pl_cascade(lc, pm, &pp[i], 0, NULL);
		pl_free_dead(lc);
		return;
	}

	for (unsigned int h = 0; h < FC_HOPS; h++)
		acc[h].f = NULL;

	/* 2. the whole burst through the flow cache (it prefetches as it
	 * goes) */
	fc_lookup_burst(fc, keys, n_ok, hit);
	for (uint16_t i = 0; i < n_ok && i < PL_AHEAD; i++)
		pl_prefetch_path(lc, hit[i], false);

	/* 3. each packet along its cached path, or through the tables, the
	 * paths of the packets a little ahead being prefetched meanwhile */
	for (uint16_t i = 0; i < n_ok; i++) {
		struct fc_entry *e = hit[i];

		if (i + PL_AHEAD < n_ok && hit[i + PL_AHEAD] != hit[i + PL_AHEAD - 1])
			pl_prefetch_path(lc, hit[i + PL_AHEAD], false);
		if (i + PL_AHEAD / 2 < n_ok && hit[i + PL_AHEAD / 2] != hit[i + PL_AHEAD / 2 - 1])
			pl_prefetch_path(lc, hit[i + PL_AHEAD / 2], true);
		/* Once a packet of this burst has cached its path, the answers
		 * of stage 2 may be out of date (that insert may have taken the
		 * way a later packet found, or cached that packet's flow): the
		 * rest of the burst asks again. */
		if (unlikely(inserted))
			fc_lookup_burst(fc, &keys[i], 1, &e);
		if (likely(e != NULL)) {
			/* a train of one flow is checked once */
			if (likely(e == current || fc_entry_current(e))) {
				current = e;
				n_hits++;
				if (e == tr.e && pl_train_go(lc, pm, &pp[i], &tr, acc))
					continue;
				pl_follow(lc, pm, &pp[i], e, acc);
				pl_train_set(pm, &pp[i], e, &tr);
				continue;
			}
			fc_kill(fc, e);
		}
		pl_miss(lc, pm, &pp[i]);
		inserted = true;
		current = NULL; /* the insert may have reused their ways */
		tr.e = NULL;
	}
	for (unsigned int h = 0; h < FC_HOPS; h++)
		pl_acc_flush(lc, &acc[h]);
	lc->ctr.pmd.cache_hits += n_hits;
	pl_free_dead(lc);
	fc_tick(fc);
}

/* Frees the packets the burst dropped (actions.c gathers them). */
static inline void
pl_free_dead(struct pl_lcore *lc)
{
	if (lc->n_dead)
		rte_pktmbuf_free_bulk(lc->dead, lc->n_dead);
	lc->n_dead = 0;
	lc->free_later = 0;
}

/* Brings in the first entry of e's path (ctr: and that entry's counters,
 * once the entry itself is in). */
static inline void
pl_prefetch_path(struct pl_lcore *lc, const struct fc_entry *e, bool ctr)
{
	const struct ft_flow *f;

	if (e == NULL || (f = e->f[0]) == NULL)
		return;
	if (!ctr)
		rte_prefetch0(f);
	else if (fc_entry_current(e)) /* else f may be gone */
		rte_prefetch0(st_flow_ctr(&lc->ctr, f->ctr_idx));
}

/* Credits one packet to the counters of the entry it hit. */
static inline void
pl_credit(struct pl_lcore *lc, const struct ft_flow *f, const struct rte_mbuf *m)
{
	struct st_flow_ctr *c = st_flow_ctr(&lc->ctr, f->ctr_idx);

	c->packets++;
	c->bytes += rte_pktmbuf_pkt_len(m);
	c->last_tsc = lc->now;
}

/* A cache hit: the packet goes through the entries of e's path, counted as
 * if it had looked them up, running their current actions.  Where the
 * packet leaves the path (the actions now go elsewhere, a miss now
 * continues, an open path ends), the rest is walked. */
static inline void
pl_follow(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p,
	  struct fc_entry *e, struct pl_acc *acc)
{
	unsigned int i = 0;

	for (;;) {
		unsigned int t = e->tbl[i];
		const struct ft_flow *f = e->f[i];
		int next;

		if (f == NULL) {
			lc->ctr.tbl_lookups[t]++;
			if (__atomic_load_n(&ft_tables[t].miss, __ATOMIC_RELAXED) !=
				    SY_MISS_CONTINUE || t + 1 >= SY_MAX_TABLES) {
				act_table_miss(lc, pm, p, t);
				return;
			}
			next = (int)t + 1;
		} else {
			const struct ft_actions *fa;

			pl_acc_add(lc, &acc[i], f, p->m);
			fa = rcu_load(&f->acts);
			p->flow = f;
			p->table = (uint8_t)t;
			next = act_run_inline(lc, pm, p, fa->a, fa->n);
			if (next < 0)
				return;
			/* new rewrites may not lead where the old ones did */
			if ((fa->flags & FT_ACTS_REWRITES) &&
			    unlikely(ft_table_changed_since(t, e->stamp))) {
				fc_kill(lc->fc, e);
				pl_cascade(lc, pm, p, (unsigned int)next, NULL);
				return;
			}
		}
		if (++i == e->n_hops || e->tbl[i] != (unsigned int)next) {
			if (!e->open || i != e->n_hops)
				fc_kill(lc->fc, e);
			pl_cascade(lc, pm, p, (unsigned int)next, NULL);
			return;
		}
	}
}

/* A cache miss: the packet walks the tables from table 0, and the path it
 * took is cached for every key equal to its own on the bits consulted. */
static void
pl_miss(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p)
{
	struct sy_flow_key key = p->key; /* the actions may rewrite p->key */
	struct fc_path path;

	lc->ctr.pmd.cache_misses++;
	path.stamp = ft_clock_now(); /* before the first lookup */
	memset(path.wc, 0, sizeof(path.wc));
	path.n_hops = 0;
	path.open = 0;
	pl_cascade(lc, pm, p, 0, &path);
	fc_insert(lc->fc, &key, &path);
}

/* One packet through the tables, from table t until it is done; with rec,
 * recording the entries hit and the key bits consulted (flow_cache.h,
 * "Megaflows").  With tr (a packet trace, trace.h): the same walk, told to
 * the trace instead of counted, and the actions run by act_run() itself.
 * Always inlined: pl_cascade() passes a constant NULL tr, so the
 * forwarding instance has none of the trace code, and pl_trace() is the
 * other instance. */
static inline __attribute__((always_inline)) void
pl_walk(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p, unsigned int t,
	struct fc_path *rec, struct trace *tr)
{
	for (unsigned int hops = 0;; hops++) {
		const struct ft_flow *f;
		const struct ft_actions *fa;
		int next;

		if (hops == PL_RECIRC_LIMIT) {
			act_stop(lc, pm, p, SY_DROP_RECIRC_LIMIT);
			return;
		}
		if (rec && rec->n_hops == FC_HOPS) { /* the cached path ends here */
			rec->open = 1;
			rec = NULL;
		}
		if (tr != NULL) {
			const struct cls_rule *r = cls_lookup(&ft_tables[t].cls, &p->key);

			f = r ? ft_flow_of(r) : NULL;
			trace_table(tr, t, f);
		} else {
			f = pl_lookup(lc, t, &p->key, rec ? rec->wc : NULL);
		}
		if (rec) {
			rec->tbl[rec->n_hops] = (uint8_t)t;
			rec->f[rec->n_hops++] = f;
		}
		if (f == NULL) {
			if (tr != NULL) /* (the main lcore: the setting cannot change meanwhile) */
				trace_miss(tr, ft_tables[t].miss);
			if (__atomic_load_n(&ft_tables[t].miss, __ATOMIC_RELAXED) ==
				    SY_MISS_CONTINUE && t + 1 < SY_MAX_TABLES) {
				if (tr != NULL)
					trace_table_end(tr, p);
				t++;
				continue;
			}
			act_table_miss(lc, pm, p, t);
			if (tr != NULL)
				trace_table_end(tr, p);
			return;
		}
		if (tr == NULL)
			pl_credit(lc, f, p->m);
		fa = rcu_load(&f->acts);
		p->flow = f;
		p->table = (uint8_t)t;
		if (tr != NULL) {
			next = act_run(lc, pm, p, fa->a, fa->n);
			trace_table_end(tr, p);
		} else {
			next = act_run_inline(lc, pm, p, fa->a, fa->n);
		}
		if (next < 0)
			return;
		if (rec && (fa->flags & FT_ACTS_OPAQUE)) {
			rec->open = 1; /* the next key is not a function of this one */
			rec = NULL;
		} else if (rec && (fa->flags & FT_ACTS_REWRITES)) {
			/* what decides the rewrites: dl_type, vlan_tci,
			 * nw_proto, nw_frag, nw_ttl */
			rec->wc[1] = rec->wc[3] = UINT64_MAX;
		}
		t = (unsigned int)next;
	}
}

static void
pl_cascade(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p, unsigned int t,
	   struct fc_path *rec)
{
	pl_walk(lc, pm, p, t, rec, NULL);
}

void
pl_resubmit(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p)
{
	pl_cascade(lc, pm, p, 0, NULL);
}

void
pl_trace(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p)
{
	pl_walk(lc, pm, p, 0, NULL, lc->trace);
}

/* The rule of table t that key hits, or NULL; ORs the key bits the lookup
 * consulted into wc (unless NULL). */
static inline const struct ft_flow *
pl_lookup(struct pl_lcore *lc, unsigned int t, const struct sy_flow_key *key, uint64_t *wc)
{
	const struct cls_rule *r;

	lc->ctr.tbl_lookups[t]++;
	lc->ctr.pmd.cls_lookups++;
	r = cls_lookup_wc(&ft_tables[t].cls, key, wc, &lc->ctr.pmd.cls_probes);
	if (r == NULL)
		return NULL;
	lc->ctr.tbl_matched[t]++;
	return ft_flow_of(r);
}

void
pl_tx_flush(struct pl_lcore *lc, const struct pl_portmap *pm, uint16_t slot)
{
	struct pl_txbuf *b = &lc->tx[slot];
	const struct pl_port *port = &pm->port[slot];
	struct st_port_ctr *pc = &lc->ctr.port[slot];
	uint16_t q = (uint16_t)(lc->slot % port->nb_txq), sent;
	uint64_t bytes = 0;

	if (b->n == 0)
		return;
	if (unlikely(port->mir_dst)) /* dst mirrors: as it leaves (trains too) */
		mir_ports(lc, pm, port->mir_dst, b->pkts, b->n);
	for (uint16_t i = 0; i < b->n; i++)
		bytes += rte_pktmbuf_pkt_len(b->pkts[i]);
	if (port->txq_lock)
		rte_spinlock_lock(&port->txq_lock[q]);
	sent = rte_eth_tx_burst(port->dpdk_port, q, b->pkts, b->n);
	if (port->txq_lock)
		rte_spinlock_unlock(&port->txq_lock[q]);
	if (sent < b->n) {
		uint16_t unsent = b->n - sent;

		for (uint16_t i = sent; i < b->n; i++) {
			bytes -= rte_pktmbuf_pkt_len(b->pkts[i]);
			rte_pktmbuf_free(b->pkts[i]);
		}
		pc->drops[SY_DROP_TX_FULL] += unsent;
	}
	pc->tx_packets += sent;
	pc->tx_bytes += bytes;
	b->n = 0;
}

static void
pl_tx_flush_all(struct pl_lcore *lc, const struct pl_portmap *pm)
{
	for (uint16_t i = 0; i < lc->n_txpend; i++) {
		pl_tx_flush(lc, pm, lc->txpend[i]);
		lc->tx[lc->txpend[i]].listed = 0;
	}
	lc->n_txpend = 0;
}

static void
pl_idle_sleep(struct pl_lcore *lc, uint32_t max_us)
{
	uint64_t max_ns = (uint64_t)max_us * 1000;
	struct timespec ts;

	lc->sleep_ns = lc->sleep_ns ? lc->sleep_ns * 2 : 1000;
	if (lc->sleep_ns > max_ns)
		lc->sleep_ns = max_ns;
	ts.tv_sec = (time_t)(lc->sleep_ns / 1000000000ull);
	ts.tv_nsec = (long)(lc->sleep_ns % 1000000000ull);
	/* Offline while asleep: writers need not wait for us. */
	rte_rcu_qsbr_thread_offline(dp.qsbr, lc->slot);
	nanosleep(&ts, NULL);
	rte_rcu_qsbr_thread_online(dp.qsbr, lc->slot);
}
