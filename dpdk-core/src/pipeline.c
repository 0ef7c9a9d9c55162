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

#include "actions.h"
#include "datapath.h"
#include "flow_table.h"
#include "parse.h"
#include "pipeline.h"

struct pl_portmap *pl_portmap;
static volatile bool quit;

/* Read from the top: the loop, one iteration, one burst, one packet. */
static void pl_idle_sleep(struct pl_lcore *lc);
static void pl_tx_flush_all(struct pl_lcore *lc, const struct pl_portmap *pm);
static void pl_cascade(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p);
static inline const struct ft_flow *pl_lookup(struct pl_lcore *lc, unsigned int t,
					      const struct sy_flow_key *key);

int
pl_worker_main(void *arg)
{
	struct pl_lcore *lc = arg;

	rte_rcu_qsbr_thread_register(dp.qsbr, lc->slot);
	rte_rcu_qsbr_thread_online(dp.qsbr, lc->slot);
	while (!quit) {
		unsigned int n = pl_run_once(lc);

		rte_rcu_qsbr_quiescent(dp.qsbr, lc->slot);
		if (n == 0 && dp.cfg.pmd_sleep_max_us)
			pl_idle_sleep(lc);
		else
			lc->sleep_ns = 0;
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
		uint16_t slot = pq->slot[i];
		uint16_t n = rte_eth_rx_burst(pm->port[slot].dpdk_port, 0, pkts, PL_BURST);

		if (n == 0)
			continue;
		pl_input(lc, pm, slot, pkts, n);
		total += n;
	}
	pl_tx_flush_all(lc, pm);
	return total;
}

void
pl_input(struct pl_lcore *lc, const struct pl_portmap *pm, uint16_t in_slot,
	 struct rte_mbuf **pkts, uint16_t n)
{
	struct st_port_ctr *pc = &lc->ctr.port[in_slot];
	uint32_t in_port = pm->port[in_slot].id;
	struct act_pkt pp[PL_BURST];
	uint16_t n_ok = 0;

	lc->now = rte_rdtsc();
	pc->rx_packets += n;

	/* parse every packet of the burst into its flow key */
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		enum sy_drop_reason why;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		pc->rx_bytes += rte_pktmbuf_pkt_len(m);
		if (!parse_packet(m, in_port, &pp[n_ok].key, &pp[n_ok].lay, &why)) {
			pc->drops[why]++;
			rte_pktmbuf_free(m);
			continue;
		}
		act_pkt_init(&pp[n_ok], m, in_slot);
		n_ok++;
	}

	/* then each through the table cascade and its actions */
	for (uint16_t i = 0; i < n_ok; i++)
		pl_cascade(lc, pm, &pp[i]);
}

/* One packet through the tables, from table 0 until it is done. */
static void
pl_cascade(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p)
{
	unsigned int t = 0;

	for (unsigned int hops = 0;; hops++) {
		const struct ft_flow *f;
		const struct ft_actions *fa;
		struct st_flow_ctr *fc;
		int next;

		if (hops == PL_RECIRC_LIMIT) {
			act_stop(lc, pm, p, SY_DROP_RECIRC_LIMIT);
			return;
		}
		f = pl_lookup(lc, t, &p->key);
		if (f == NULL) {
			if (__atomic_load_n(&ft_tables[t].miss, __ATOMIC_RELAXED) ==
				    SY_MISS_CONTINUE && t + 1 < SY_MAX_TABLES) {
				t++;
				continue;
			}
			act_stop(lc, pm, p, SY_DROP_TABLE_MISS);
			return;
		}
		fc = st_flow_ctr(&lc->ctr, f->ctr_idx);
		fc->packets++;
		fc->bytes += rte_pktmbuf_pkt_len(p->m);
		fc->last_tsc = lc->now;

		fa = rcu_load(&f->acts);
		next = act_run(lc, pm, p, fa->a, fa->n);
		if (next < 0)
			return;
		t = (unsigned int)next;
	}
}

/* The rule of table t that key hits, or NULL.  (An exact-match flow cache
 * goes here, in front of the classifier.) */
static inline const struct ft_flow *
pl_lookup(struct pl_lcore *lc, unsigned int t, const struct sy_flow_key *key)
{
	const struct cls_rule *r;

	lc->ctr.tbl_lookups[t]++;
	r = cls_lookup(&ft_tables[t].cls, key);
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
pl_idle_sleep(struct pl_lcore *lc)
{
	uint64_t max_ns = (uint64_t)dp.cfg.pmd_sleep_max_us * 1000;
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
