/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_flow_table.c — flow-mod batches (all or nothing), replace, modify
 * and delete (strict and not), dumps, table settings and limits, timeouts,
 * and counters after packets run through the real pipeline (pl_run_once on
 * net_ring ports attached with dp_port_add); a cascade installed in one
 * batch is never seen half-made by a concurrent lookup.
 */
#define _GNU_SOURCE /* pthread_attr_setaffinity_np */
#include <pthread.h>
#include <sched.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "datapath.h"
#include "flow_table.h"
#include "parse.h"
#include "pipeline.h"
#include "sy_pkt.h"
#include "sy_flowmod.h"
#include "sy_test.h"

enum { A = 1, B = 2, C = 3 };
#define MAX_FLOWS 300
static uint16_t dpdk[4];
static struct pl_lcore *lc;

/* --- flow-mod building --- */

static void
m_udp(struct sy_flow_mod *fm)
{
	fm->key.dl_type = 0x0800;
	fm->mask.dl_type = 0xffff;
	fm->key.nw_proto = 17;
	fm->mask.nw_proto = 0xff;
}

static void
m_nw_dst(struct sy_flow_mod *fm, uint32_t addr, int prefix)
{
	fm->key.dl_type = 0x0800;
	fm->mask.dl_type = 0xffff;
	fm->mask.nw_dst = prefix ? ~0u << (32 - prefix) : 0;
	fm->key.nw_dst = addr & fm->mask.nw_dst;
}

static int
mod1(struct sy_flow_mod *fm, struct sy_error *err)
{
	uint32_t n;

	return dp_flow_mod(fm, 1, &n, err);
}

static void
ok1(struct sy_flow_mod *fm)
{
	struct sy_error err;

	if (mod1(fm, &err) < 0) {
		fprintf(stderr, "%s: flow-mod refused: %s\n", sy_test_current, err.msg);
		sy_test_failed_checks++;
	}
}

/* Applies mods[0..n) as one batch. */
static int
batch(struct sy_flow_mod **mods, unsigned int n, uint32_t *changed, struct sy_error *err)
{
	static struct sy_flow_mod v[16];

	for (unsigned int i = 0; i < n; i++)
		v[i] = *mods[i];
	return dp_flow_mod(v, n, changed, err);
}

static void
delete_all(void)
{
	struct sy_flow_mod *fm = fm_new(SY_FC_DELETE, SY_TABLE_ALL, 0);
	struct sy_error err;
	struct sy_table_desc d = { 0 };

	ok1(fm);
	for (uint32_t t = 0; t < SY_MAX_TABLES; t++) {
		d.id = t;
		dp_table_mod(&d, NULL, &err);
	}
	dp_barrier();
}

/* --- dumps --- */

struct dumped {
	unsigned int n;
	struct sy_flow_mod e[64];
	struct sy_flow_stats st[64];
};

static void
dump_cb(const struct sy_flow_mod *entry, const struct sy_flow_stats *st, void *arg)
{
	struct dumped *d = arg;

	if (d->n < 64) {
		d->e[d->n] = *entry;
		d->st[d->n] = *st;
	}
	d->n++;
}

static struct dumped dumped;

static unsigned int
dump(const struct sy_flow_mod *filter)
{
	struct sy_error err;

	memset(&dumped, 0, sizeof(dumped));
	if (dp_flow_dump(filter, dump_cb, &dumped, &err) < 0) {
		fprintf(stderr, "dump: %s\n", err.msg);
		return 9999;
	}
	return dumped.n;
}

/* Snapshot of every entry, to show a refused batch changed nothing. */
static int
snapshot_cmp(const struct dumped *x, const struct dumped *y)
{
	if (x->n != y->n)
		return 1;
	for (unsigned int i = 0; i < x->n && i < 64; i++) {
		if (memcmp(&x->e[i].hdr, &y->e[i].hdr, sizeof(x->e[i].hdr)) ||
		    memcmp(&x->e[i].key, &y->e[i].key, sizeof(x->e[i].key)) ||
		    memcmp(&x->e[i].mask, &y->e[i].mask, sizeof(x->e[i].mask)) ||
		    x->e[i].n_actions != y->e[i].n_actions ||
		    memcmp(x->e[i].actions, y->e[i].actions,
			   x->e[i].n_actions * sizeof(x->e[i].actions[0])))
			return 1;
	}
	return 0;
}

/* --- packets --- */

static void
add_port(const char *name, const char *devargs, uint32_t id)
{
	dpdk[id] = sy_test_port_add(name, devargs, id, 0, 1);
}

/* Sends n copies of the frame into port id, runs one pipeline iteration. */
static void
inject(uint32_t id, const struct pkt_spec *s, unsigned int n)
{
	uint8_t b[2048];
	size_t len = pkt_build(s, b);
	struct rte_mbuf *m[PL_BURST];

	for (unsigned int i = 0; i < n; i++)
		m[i] = pkt_mbuf(dp.pool, b, len, 0);
	CHECK_EQ(rte_eth_tx_burst(dpdk[id], 0, m, (uint16_t)n), n);
	pl_run_once(lc);
}

static void
inject_bytes(uint32_t id, const uint8_t *b, size_t len)
{
	struct rte_mbuf *m = pkt_mbuf(dp.pool, b, len, 0);

	CHECK_EQ(rte_eth_tx_burst(dpdk[id], 0, &m, 1), 1);
	pl_run_once(lc);
}

/* Frames port id sent since last asked (freed). */
static unsigned int
sent(uint32_t id, struct sy_flow_key *last_key)
{
	struct rte_mbuf *m[64];
	unsigned int n = rte_eth_rx_burst(dpdk[id], 0, m, 64);

	for (unsigned int i = 0; i < n; i++) {
		if (last_key) {
			struct parse_layout lay;
			enum sy_drop_reason why;

			parse_packet(m[i], 0, last_key, &lay, &why);
		}
		rte_pktmbuf_free(m[i]);
	}
	return n;
}

static struct sy_port_stats pstats;

static void
pstats_cb(const struct sy_port_stats *st, void *arg)
{
	pstats = *st;
}

static struct sy_port_stats *
port_stats(uint32_t id)
{
	struct sy_error err;

	memset(&pstats, 0, sizeof(pstats));
	dp_port_stats(id, pstats_cb, NULL, &err);
	return &pstats;
}

static struct sy_table_desc tdesc[SY_MAX_TABLES];
static unsigned int n_tdesc;

static void
table_cb(const struct sy_table_desc *d, void *arg)
{
	tdesc[n_tdesc++] = *d;
}

static const struct sy_table_desc *
table(uint32_t id)
{
	n_tdesc = 0;
	dp_table_list(table_cb, NULL);
	for (unsigned int i = 0; i < n_tdesc; i++)
		if (tdesc[i].id == id)
			return &tdesc[i];
	return NULL;
}

/* --- cases --- */

static void
add_and_dump(void)
{
	struct sy_flow_mod *f1 = fm_new(SY_FC_ADD, 0, 10), *f2 = fm_new(SY_FC_ADD, 0, 200);
	struct sy_flow_mod *f3 = fm_new(SY_FC_ADD, 3, 5);

	delete_all();
	m_nw_dst(f1, 0x0a000000, 8);
	act(f1, output(B));
	f1->hdr.cookie = 0x1111;
	m_nw_dst(f2, 0x0a000001, 32);
	act(f2, output(C));
	f2->hdr.idle_timeout = 60;
	act(f3, output(SY_PORT_FLOOD));
	ok1(f1);
	ok1(f2);
	ok1(f3);
	CHECK_EQ(ft_count(), 3);
	CHECK_EQ(dump(NULL), 3);
	/* table by table, highest priority first */
	CHECK_EQ(dumped.e[0].hdr.table_id, 0);
	CHECK_EQ(dumped.e[0].hdr.priority, 200);
	CHECK_EQ(dumped.e[0].hdr.idle_timeout, 60);
	CHECK_EQ(dumped.e[1].hdr.priority, 10);
	CHECK_EQ(dumped.e[1].hdr.cookie, 0x1111);
	CHECK_EQ(dumped.e[1].key.nw_dst, 0x0a000000);
	CHECK_EQ(dumped.e[1].mask.nw_dst, 0xff000000);
	CHECK_EQ(dumped.e[1].n_actions, 1);
	CHECK_EQ(dumped.e[1].actions[0].arg, B);
	CHECK_EQ(dumped.e[2].hdr.table_id, 3);

	/* filters: one table; a match; a cookie */
	struct sy_flow_mod *flt = fm_new(0, 3, 0);

	CHECK_EQ(dump(flt), 1);
	flt = fm_new(0, SY_TABLE_ALL, 0);
	m_nw_dst(flt, 0x0a000000, 16);
	CHECK_EQ(dump(flt), 1); /* only the /32 is as specific as a /16 */
	flt = fm_new(0, SY_TABLE_ALL, 0);
	flt->hdr.cookie = 0x1111;
	flt->hdr.cookie_mask = ~0ull;
	CHECK_EQ(dump(flt), 1);
	flt = fm_new(0, SY_TABLE_ALL, 0);
	flt->hdr.out_port = C;
	CHECK_EQ(dump(flt), 1);

	CHECK(table(0) && table(0)->n_flows == 2);
	CHECK(table(3) && table(3)->n_flows == 1);
	CHECK(table(1) == NULL); /* empty and default: not listed */
}

static void
batch_all_or_nothing(void)
{
	struct dumped before;
	struct sy_error err;
	uint32_t changed = 77;

	delete_all();
	struct sy_flow_mod *keep = fm_new(SY_FC_ADD, 0, 1);

	act(keep, output(B));
	ok1(keep);
	CHECK_EQ(dump(NULL), 1);
	before = dumped;

	/* three good mods then one that outputs to a port that is not there */
	struct sy_flow_mod *g1 = fm_new(SY_FC_ADD, 0, 5), *g2 = fm_new(SY_FC_ADD, 1, 5);
	struct sy_flow_mod *g3 = fm_new(SY_FC_DELETE, 0, 0), *bad = fm_new(SY_FC_ADD, 0, 9);

	m_udp(g1);
	act(g1, output(C));
	act(g2, output(B));
	act(bad, output(77));
	CHECK_EQ(batch((struct sy_flow_mod *[]){ g1, g2, g3, bad }, 4, &changed, &err), -1);
	CHECK_EQ(err.code, SY_E_NOENT);
	CHECK_EQ(err.index, 3);
	CHECK_STR_CONTAINS(err.msg, "77");
	CHECK_EQ(changed, 0);
	CHECK_EQ(dump(NULL), 1);
	CHECK(snapshot_cmp(&before, &dumped) == 0);
	CHECK_EQ(ft_count(), 1);

	/* a mod the validator refuses: goto to an earlier table */
	struct sy_flow_mod *back = fm_new(SY_FC_ADD, 2, 5);

	act(back, goto_table(1));
	CHECK_EQ(batch((struct sy_flow_mod *[]){ g1, back }, 2, &changed, &err), -1);
	CHECK_EQ(err.code, SY_E_INVAL);
	CHECK_EQ(err.index, 1);
	CHECK_STR_CONTAINS(err.msg, "goto_table");
	CHECK_EQ(dump(NULL), 1);
	CHECK(snapshot_cmp(&before, &dumped) == 0);

	/* a table that would overflow its limit */
	struct sy_table_desc td = { .id = 4, .max_flows = 2 };
	struct sy_flow_mod *t1 = fm_new(SY_FC_ADD, 4, 1), *t2 = fm_new(SY_FC_ADD, 4, 2),
			   *t3 = fm_new(SY_FC_ADD, 4, 3);

	CHECK_EQ(dp_table_mod(&td, NULL, &err), 0);
	CHECK_EQ(batch((struct sy_flow_mod *[]){ t1, t2, t3 }, 3, &changed, &err), -1);
	CHECK_EQ(err.code, SY_E_NOSPC);
	CHECK_EQ(err.index, 2);
	CHECK(snapshot_cmp(&before, (dump(NULL), &dumped)) == 0);
	/* the same with a delete in front that makes room: fine */
	ok1(t1);
	struct sy_flow_mod *dt = fm_new(SY_FC_DELETE_STRICT, 4, 1);

	CHECK_EQ(batch((struct sy_flow_mod *[]){ dt, t1, t2 }, 3, &changed, &err), 0);
	CHECK_EQ(changed, 3);
	CHECK_EQ(table(4)->n_flows, 2);

	/* a good batch: every mod counted */
	CHECK_EQ(batch((struct sy_flow_mod *[]){ g1, g2 }, 2, &changed, &err), 0);
	CHECK_EQ(changed, 2);
	CHECK_EQ(ft_count(), 5);
}

static void
switch_limit(void)
{
	struct sy_error err;
	struct sy_flow_mod *fm;
	uint32_t n = 0;

	delete_all();
	for (uint16_t i = 0; i < MAX_FLOWS; i++) {
		fm = fm_new(SY_FC_ADD, 0, i);
		if (mod1(fm, &err) == 0)
			n++;
	}
	CHECK_EQ(n, MAX_FLOWS);
	fm = fm_new(SY_FC_ADD, 0, MAX_FLOWS);
	CHECK_EQ(mod1(fm, &err), -1);
	CHECK_EQ(err.code, SY_E_NOSPC);
	fm = fm_new(SY_FC_ADD, 0, 5); /* a replace needs no room */
	act(fm, output(B));
	CHECK_EQ(mod1(fm, &err), 0);
	delete_all();
	CHECK_EQ(ft_count(), 0);
}

static void
replace_keeps_or_resets_counters(void)
{
	struct pkt_spec s = pkt_default();
	struct sy_flow_mod *f = fm_new(SY_FC_ADD, 0, 100);

	delete_all();
	m_udp(f);
	act(f, output(B));
	ok1(f);
	inject(A, &s, 3);
	CHECK_EQ(sent(B, NULL), 3);
	CHECK_EQ(dump(NULL), 1);
	CHECK_EQ(dumped.st[0].packets, 3);

	/* same match and priority: replaced, counters kept */
	f = fm_new(SY_FC_ADD, 0, 100);
	m_udp(f);
	act(f, output(C));
	f->hdr.cookie = 42;
	ok1(f);
	CHECK_EQ(ft_count(), 1);
	CHECK_EQ(dump(NULL), 1);
	CHECK_EQ(dumped.e[0].hdr.cookie, 42);
	CHECK_EQ(dumped.e[0].actions[0].arg, C);
	CHECK_EQ(dumped.st[0].packets, 3);
	inject(A, &s, 2);
	CHECK_EQ(sent(C, NULL), 2);
	CHECK_EQ(sent(B, NULL), 0);
	CHECK_EQ(dump(NULL), 1);
	CHECK_EQ(dumped.st[0].packets, 5);

	/* with reset_counts: zero */
	f->hdr.flags = SY_FF_RESET_COUNTS;
	ok1(f);
	CHECK_EQ(dump(NULL), 1);
	CHECK_EQ(dumped.st[0].packets, 0);
	CHECK_EQ(dumped.st[0].bytes, 0);
	inject(A, &s, 1);
	sent(C, NULL);
	CHECK_EQ(dump(NULL), 1);
	CHECK_EQ(dumped.st[0].packets, 1);
}

static void
modify_strict_and_not(void)
{
	struct sy_flow_mod *f8 = fm_new(SY_FC_ADD, 0, 10), *f24 = fm_new(SY_FC_ADD, 0, 20);
	struct sy_flow_mod *f32 = fm_new(SY_FC_ADD, 0, 30), *other = fm_new(SY_FC_ADD, 0, 40);
	struct sy_flow_mod *md;
	struct sy_error err;
	uint32_t changed;

	delete_all();
	m_nw_dst(f8, 0x0a000000, 8);
	m_nw_dst(f24, 0x0a010200, 24);
	m_nw_dst(f32, 0x0a010203, 32);
	m_nw_dst(other, 0x0b000001, 32);
	f32->hdr.cookie = 0xc0ffee;
	struct sy_flow_mod *all[] = { f8, f24, f32, other };

	for (unsigned int i = 0; i < 4; i++) {
		act(all[i], output(B));
		ok1(all[i]);
	}

	/* non-strict on 10.1.0.0/16: the /24 and the /32 */
	md = fm_new(SY_FC_MODIFY, 0, 0);
	m_nw_dst(md, 0x0a010000, 16);
	act(md, output(C));
	CHECK_EQ(dp_flow_mod(md, 1, &changed, &err), 0);
	CHECK_EQ(changed, 2);
	CHECK_EQ(dump(NULL), 4);
	for (unsigned int i = 0; i < 4; i++) {
		uint32_t want = dumped.e[i].hdr.priority == 20 || dumped.e[i].hdr.priority == 30 ? C : B;

		CHECK_EQ(dumped.e[i].actions[0].arg, want);
	}
	/* the cookie of a modified entry is kept */
	CHECK_EQ(dumped.e[1].hdr.priority, 30);
	CHECK_EQ(dumped.e[1].hdr.cookie, 0xc0ffee);

	/* with a cookie filter: only the /32 */
	md = fm_new(SY_FC_MODIFY, 0, 0);
	m_nw_dst(md, 0x0a000000, 8);
	md->hdr.cookie = 0xc0ffee;
	md->hdr.cookie_mask = 0xffffff;
	act(md, output(SY_PORT_IN_PORT));
	CHECK_EQ(dp_flow_mod(md, 1, &changed, &err), 0);
	CHECK_EQ(changed, 1);

	/* strict: identical match and priority only */
	md = fm_new(SY_FC_MODIFY_STRICT, 0, 21);
	m_nw_dst(md, 0x0a010200, 24);
	act(md, output(A));
	CHECK_EQ(dp_flow_mod(md, 1, &changed, &err), 0);
	CHECK_EQ(changed, 0); /* priority 21: nothing */
	md->hdr.priority = 20;
	CHECK_EQ(dp_flow_mod(md, 1, &changed, &err), 0);
	CHECK_EQ(changed, 1);

	/* modify never adds */
	md = fm_new(SY_FC_MODIFY, 0, 0);
	m_nw_dst(md, 0x0c000000, 8);
	act(md, output(A));
	CHECK_EQ(dp_flow_mod(md, 1, &changed, &err), 0);
	CHECK_EQ(changed, 0);
	CHECK_EQ(ft_count(), 4);
}

static void
delete_strict_and_not(void)
{
	struct sy_flow_mod *del;
	struct sy_error err;
	uint32_t changed;

	modify_strict_and_not(); /* 4 entries: /8 B, /24 A, /32 in_port, 11.0.0.1 B */

	/* out_port filter: entries that output to B */
	del = fm_new(SY_FC_DELETE, SY_TABLE_ALL, 0);
	del->hdr.out_port = B;
	m_nw_dst(del, 0x0a000000, 8);
	CHECK_EQ(dp_flow_mod(del, 1, &changed, &err), 0);
	CHECK_EQ(changed, 1); /* only the /8: 11.0.0.1 is outside 10/8 */
	CHECK_EQ(ft_count(), 3);

	/* strict with the wrong priority: nothing; the right one: one */
	del = fm_new(SY_FC_DELETE_STRICT, 0, 31);
	m_nw_dst(del, 0x0a010203, 32);
	CHECK_EQ(dp_flow_mod(del, 1, &changed, &err), 0);
	CHECK_EQ(changed, 0);
	del->hdr.priority = 30;
	CHECK_EQ(dp_flow_mod(del, 1, &changed, &err), 0);
	CHECK_EQ(changed, 1);

	/* non-strict, everything in table 0 */
	del = fm_new(SY_FC_DELETE, 0, 0);
	CHECK_EQ(dp_flow_mod(del, 1, &changed, &err), 0);
	CHECK_EQ(changed, 2);
	CHECK_EQ(ft_count(), 0);
	CHECK_EQ(dump(NULL), 0);
}

/* Counters, cascade and misses with packets through the pipeline. */
static void
pipeline_counters(void)
{
	struct pkt_spec s = pkt_default();
	struct sy_flow_mod *t0 = fm_new(SY_FC_ADD, 0, 10), *t1 = fm_new(SY_FC_ADD, 1, 10);
	struct sy_flow_key k;
	uint8_t b[2048];
	size_t len;

	delete_all();
	dp_port_stats_clear(0, &(struct sy_error){ 0 });
	/* table 0: UDP -> metadata 7, goto 1; table 1: metadata 7 -> B */
	m_udp(t0);
	act(t0, (struct sy_action){ .type = SY_ACT_WRITE_METADATA, .value.u64 = { 7 },
				     .mask = 0xff });
	act(t0, goto_table(1));
	t1->key.metadata = 7;
	t1->mask.metadata = 0xff;
	act(t1, output(B));
	ok1(t0);
	ok1(t1);

	const struct sy_table_desc *d0 = table(0);
	uint64_t look0 = d0 ? d0->lookups : 0, match0 = d0 ? d0->matched : 0;
	uint64_t look1 = table(1)->lookups, match1 = table(1)->matched;

	inject(A, &s, 4);
	CHECK_EQ(sent(B, &k), 4);
	CHECK_EQ(k.metadata, 0); /* metadata does not go on the wire */
	len = pkt_build(&s, b);
	CHECK_EQ(dump(NULL), 2);
	CHECK_EQ(dumped.st[0].packets, 4);
	CHECK_EQ(dumped.st[0].bytes, 4 * len);
	CHECK_EQ(dumped.st[1].packets, 4);
	CHECK(dumped.st[0].idle_ns <= dumped.st[0].duration_ns);
	d0 = table(0);
	CHECK_EQ(d0->lookups - look0, 4);
	CHECK_EQ(d0->matched - match0, 4);
	CHECK_EQ(table(1)->matched - match1, 4);
	CHECK_EQ(port_stats(A)->rx_packets, 4);
	CHECK_EQ(port_stats(A)->rx_bytes, 4 * len);
	CHECK_EQ(port_stats(B)->tx_packets, 4);
	CHECK_EQ(port_stats(B)->tx_bytes, 4 * len);

	/* TCP misses in table 0: dropped, counted */
	s.proto = 6;
	inject(A, &s, 2);
	CHECK_EQ(port_stats(A)->drops[SY_DROP_TABLE_MISS], 2);
	CHECK_EQ(table(0)->lookups - look0, 6);
	CHECK_EQ(table(0)->matched - match0, 4);

	/* miss=continue on table 0 takes it to table 1, where metadata 0
	 * misses again */
	struct sy_table_desc td = { .id = 0, .miss = SY_MISS_CONTINUE };
	struct sy_error err;

	CHECK_EQ(dp_table_mod(&td, NULL, &err), 0);
	inject(A, &s, 1);
	CHECK_EQ(port_stats(A)->drops[SY_DROP_TABLE_MISS], 3);
	CHECK_EQ(table(1)->lookups - look1, 5);
	td.miss = SY_MISS_DROP;
	CHECK_EQ(dp_table_mod(&td, NULL, &err), 0);

	/* a runt is counted on the ingress port and goes no further */
	inject_bytes(A, b, 10);
	CHECK_EQ(port_stats(A)->drops[SY_DROP_RUNT], 1);
	CHECK_EQ(port_stats(A)->rx_packets, 4 + 2 + 1 + 1);

	/* clearing port counters: baselines */
	CHECK_EQ(dp_port_stats_clear(A, &err), 0);
	CHECK_EQ(port_stats(A)->rx_packets, 0);
	CHECK_EQ(port_stats(A)->drops[SY_DROP_TABLE_MISS], 0);
	struct sy_dp_stats ds;

	dp_stats(&ds);
	CHECK(ds.rx_packets >= 8);
	CHECK_EQ(ds.n_ports, 3);
	CHECK_EQ(ds.n_flows, 2);
}

/* After a rewrite, the next table matches the new header. */
static void
goto_after_rewrite(void)
{
	struct pkt_spec s = pkt_default();
	struct sy_flow_mod *t0 = fm_new(SY_FC_ADD, 0, 1), *t5 = fm_new(SY_FC_ADD, 5, 1);
	uint32_t nd = 0xc0a80001;
	struct sy_action set = { .type = SY_ACT_SET_FIELD, .field = SY_F_NW_DST };
	struct sy_flow_key k;

	delete_all();
	memcpy(set.value.bytes, &nd, 4);
	m_udp(t0);
	act(t0, set);
	act(t0, goto_table(5));
	m_nw_dst(t5, nd, 32);
	act(t5, output(C));
	ok1(t0);
	ok1(t5);
	inject(A, &s, 1);
	CHECK_EQ(sent(C, &k), 1);
	CHECK_EQ(k.nw_dst, nd);
}

static void
port_delete_keeps_flows(void)
{
	struct pkt_spec s = pkt_default();
	struct sy_flow_mod *f = fm_new(SY_FC_ADD, 0, 1);
	struct sy_port_desc d;
	struct sy_error err;

	delete_all();
	act(f, output(C));
	ok1(f);
	CHECK_EQ(dp_port_del(C, &err), 0);
	CHECK_EQ(dp_port_del(C, &err), -1);
	CHECK_EQ(err.code, SY_E_NOENT);
	CHECK_EQ(ft_count(), 1);
	dp_port_stats_clear(A, &err);
	inject(A, &s, 2);
	CHECK_EQ(port_stats(A)->drops[SY_DROP_NO_PORT], 2);

	/* a new flow may not name the missing port */
	f = fm_new(SY_FC_ADD, 0, 2);
	act(f, output(C));
	CHECK_EQ(mod1(f, &err), -1);
	CHECK_EQ(err.code, SY_E_NOENT);

	/* back with the same id: the old flow works again */
	add_port("c", "net_ring2", C);
	inject(A, &s, 1);
	CHECK_EQ(sent(C, NULL), 1);
	CHECK_EQ(port_stats(C)->tx_packets, 1); /* a fresh port's counters */

	/* admin down: not polled, output to it counted */
	CHECK_EQ(dp_port_mod(C, 0, 0, 0, &d, &err), 0);
	CHECK_EQ(d.admin_up, 0);
	inject(A, &s, 1);
	CHECK_EQ(port_stats(A)->drops[SY_DROP_PORT_DOWN], 1);
	CHECK_EQ(sent(C, NULL), 0);
	CHECK_EQ(dp_port_mod(C, 0, 1, 0, &d, &err), 0);
	CHECK_EQ(d.admin_up, 1);
}

static void
port_errors(void)
{
	struct dp_port_add_req req = { .name = "a", .devargs = "net_ring9", .admin_up = 1 };
	struct sy_port_desc d;
	struct sy_error err;

	CHECK_EQ(dp_port_add(&req, &d, &err), -1); /* the name is taken */
	CHECK_EQ(err.code, SY_E_EXIST);
	req.name = "x";
	req.id = B;
	CHECK_EQ(dp_port_add(&req, &d, &err), -1); /* the id is taken */
	CHECK_EQ(err.code, SY_E_EXIST);
	req.id = 0;
	req.devargs = "net_ring0"; /* the device is port a */
	CHECK_EQ(dp_port_add(&req, &d, &err), -1);
	CHECK_EQ(err.code, SY_E_EXIST);
	req.devargs = "net_nosuchdriver0";
	CHECK_EQ(dp_port_add(&req, &d, &err), -1);
	CHECK_EQ(err.code, SY_E_INVAL);
	CHECK_STR_CONTAINS(err.msg, "net_nosuchdriver0");
	req.devargs = "net_ring7,nodeaction=bogus";
	CHECK_EQ(dp_port_add(&req, &d, &err), -1);
	CHECK(err.code == SY_E_INVAL || err.code == SY_E_DEVICE);
	req.name = "bad name";
	req.devargs = "net_ring8";
	CHECK_EQ(dp_port_add(&req, &d, &err), -1);
	CHECK_EQ(err.code, SY_E_INVAL);
	req.name = "y";
	req.mtu = 20000;
	CHECK_EQ(dp_port_add(&req, &d, &err), -1);
	CHECK_EQ(err.code, SY_E_INVAL);
	/* nothing was left behind: net_ring8 can be attached now */
	req.mtu = 0;
	CHECK_EQ(dp_port_add(&req, &d, &err), 0);
	CHECK_EQ(d.id, 4); /* the lowest free id */
	CHECK_EQ(dp_port_del(d.id, &err), 0);
}

static void
timeouts(void)
{
	struct sy_flow_mod *hard = fm_new(SY_FC_ADD, 0, 1), *idle = fm_new(SY_FC_ADD, 0, 2);
	struct sy_flow_mod *forever = fm_new(SY_FC_ADD, 0, 3);
	uint64_t end;

	delete_all();
	hard->hdr.hard_timeout = 1;
	hard->hdr.flags = SY_FF_SEND_FLOW_REM;
	idle->hdr.idle_timeout = 1;
	ok1(hard);
	ok1(idle);
	ok1(forever);
	CHECK_EQ(ft_count(), 3);
	end = rte_get_tsc_cycles() + rte_get_tsc_hz() * 2200 / 1000;
	while (rte_get_tsc_cycles() < end) {
		dp_periodic();
		rte_delay_ms(20);
	}
	CHECK_EQ(ft_count(), 1);
	CHECK_EQ(dump(NULL), 1);
	CHECK_EQ(dumped.e[0].hdr.priority, 3);
}

static void
table_settings(void)
{
	struct sy_table_desc td = { .id = 9, .miss = SY_MISS_CONTINUE, .max_flows = 10 };
	struct sy_table_desc out;
	struct sy_error err;

	delete_all();
	snprintf(td.name, sizeof(td.name), "acl");
	CHECK_EQ(dp_table_mod(&td, &out, &err), 0);
	CHECK_EQ(out.miss, SY_MISS_CONTINUE);
	CHECK(strcmp(out.name, "acl") == 0);
	CHECK(table(9) != NULL);
	td.miss = SY_MISS_CONTROLLER;
	CHECK_EQ(dp_table_mod(&td, &out, &err), 0);
	CHECK_EQ(out.miss, SY_MISS_CONTROLLER);
	td.miss = 3;
	CHECK_EQ(dp_table_mod(&td, &out, &err), -1);
	CHECK_EQ(err.code, SY_E_INVAL);
	td.id = 255;
	td.miss = 0;
	CHECK_EQ(dp_table_mod(&td, &out, &err), -1);
	CHECK_EQ(err.code, SY_E_INVAL);
	/* a limit under what the table holds is refused */
	struct sy_flow_mod *f1 = fm_new(SY_FC_ADD, 9, 1), *f2 = fm_new(SY_FC_ADD, 9, 2);

	ok1(f1);
	ok1(f2);
	td = (struct sy_table_desc){ .id = 9, .max_flows = 1 };
	CHECK_EQ(dp_table_mod(&td, &out, &err), -1);
	CHECK_EQ(err.code, SY_E_INVAL);
	delete_all();
	CHECK(table(9) == NULL);
}

static void
unsupported_and_overlap(void)
{
	struct sy_flow_mod *f = fm_new(SY_FC_ADD, 0, 1);
	struct sy_action a = { .type = SY_ACT_SET_FIELD, .field = SY_F_TUN_ID };
	struct sy_error err;

	delete_all();
	act(f, a);
	CHECK_EQ(mod1(f, &err), -1);
	CHECK_EQ(err.code, SY_E_UNSUPP);

	/* check_overlap: same priority, overlapping matches */
	f = fm_new(SY_FC_ADD, 0, 7);
	m_nw_dst(f, 0x0a000000, 8);
	ok1(f);
	f = fm_new(SY_FC_ADD, 0, 7);
	m_udp(f);
	f->hdr.flags = SY_FF_CHECK_OVERLAP;
	CHECK_EQ(mod1(f, &err), -1);
	CHECK_EQ(err.code, SY_E_EXIST);
	f->hdr.priority = 8; /* another priority does not overlap */
	CHECK_EQ(mod1(f, &err), 0);
	f = fm_new(SY_FC_ADD, 0, 7);
	m_nw_dst(f, 0x0b000000, 8); /* disjoint */
	f->hdr.flags = SY_FF_CHECK_OVERLAP;
	CHECK_EQ(mod1(f, &err), 0);
}

/* Thousands of entries in a few batches, then deleted one by one. */
static void
many_flows(void)
{
	enum { N = MAX_FLOWS - 10 };
	static struct sy_flow_mod mods[N];
	struct sy_error err;
	uint32_t changed;
	struct pkt_spec s = pkt_default();

	delete_all();
	for (unsigned int i = 0; i < N; i++) {
		struct sy_flow_mod *fm = &mods[i];

		memset(fm, 0, sizeof(*fm));
		fm->hdr.command = SY_FC_ADD;
		fm->hdr.table_id = (uint8_t)(i % 3);
		fm->hdr.priority = (uint16_t)(i % 5);
		fm->hdr.out_port = SY_PORT_ANY;
		m_udp(fm);
		fm->key.tp_dst = (uint16_t)i;
		fm->mask.tp_dst = 0xffff;
		m_nw_dst(fm, 0x0a000000 + (i % 7), 32 - (int)(i % 4));
		act(fm, output(B));
	}
	CHECK_EQ(dp_flow_mod(mods, N, &changed, &err), 0);
	CHECK_EQ(changed, N);
	CHECK_EQ(ft_count(), N);
	s.ip_dst = 0x0a000000 + 3; /* entry 3: table 0, 10.0.0.0/29, port 3 */
	s.dport = 3;
	inject(A, &s, 1);
	CHECK_EQ(sent(B, NULL), 1);
	for (unsigned int i = 0; i < N; i++)
		mods[i].hdr.command = SY_FC_DELETE_STRICT;
	for (unsigned int i = 0; i < N; i += 50)
		CHECK_EQ(dp_flow_mod(&mods[i], i + 50 <= N ? 50 : N - i, &changed, &err), 0);
	CHECK_EQ(ft_count(), 0);
	inject(A, &s, 1);
	CHECK_EQ(sent(B, NULL), 0);
}

/* --- a batch across tables, seen by a concurrent reader --- */

#define CASCADE_DST 0x0a090909u /* the packet the reader walks */

struct walker {
	volatile bool stop;
	uint64_t walks; /* table 0 sent it on to table 1 (atomic: the test reads it) */
	uint64_t torn;  /* ...and table 1 had no entry for it */
};

/* Walks one key through tables 0 and 1 as the pipeline does, over and over,
 * as RCU reader slot 0 (the test drives no other). */
static void *
walk_cascade(void *arg)
{
	struct walker *w = arg;
	struct sy_flow_key key;

	memset(&key, 0, sizeof(key));
	key.in_port = A;
	key.dl_type = 0x0800;
	key.nw_proto = 17;
	key.nw_dst = CASCADE_DST;
	rte_rcu_qsbr_thread_register(dp.qsbr, 0);
	rte_rcu_qsbr_thread_online(dp.qsbr, 0);
	while (!w->stop) {
		const struct cls_rule *r = cls_lookup(&ft_tables[0].cls, &key);

		if (r != NULL && r->priority == 200) { /* the goto of the batch */
			if (cls_lookup(&ft_tables[1].cls, &key) == NULL)
				w->torn++;
			__atomic_fetch_add(&w->walks, 1, __ATOMIC_RELEASE);
		}
		rte_rcu_qsbr_quiescent(dp.qsbr, 0);
	}
	rte_rcu_qsbr_thread_offline(dp.qsbr, 0);
	rte_rcu_qsbr_thread_unregister(dp.qsbr, 0);
	return NULL;
}

/* The batch of a cascade as a controller writes it, entry point first:
 * table 0's goto_table:1 (into a subtable table 0 already has, so visible
 * the moment it is inserted), then many table 1 entries and the one the
 * packet needs (into subtables table 1 does not have yet, visible only
 * once table 1 is published).  Applied in that order, a packet could take
 * the new goto and miss in table 1 for as long as the batch takes.  A
 * thread walks the packet meanwhile: it may find the goto absent (before)
 * or present with its target (after), never the goto without the target. */
static void
cascade_batch_is_never_half_seen(void)
{
	enum { FILL = MAX_FLOWS - 20, ROUNDS = 200 };
	static struct sy_flow_mod mods[FILL + 2];
	struct sy_flow_mod *fm;
	struct walker w = { .stop = false };
	struct sy_error err;
	uint32_t changed;
	pthread_attr_t attr;
	cpu_set_t cpus;
	pthread_t th;

	delete_all();
	fm = fm_new(SY_FC_ADD, 0, 100); /* makes table 0's nw_dst/32 subtable */
	m_nw_dst(fm, 0x0a010101, 32);
	act(fm, output(B));
	ok1(fm);
	for (unsigned int i = 0; i < FILL + 2; i++) {
		fm = &mods[i];
		memset(fm, 0, sizeof(*fm));
		fm->hdr.command = SY_FC_ADD;
		fm->hdr.out_port = SY_PORT_ANY;
		if (i == 0) { /* table 0: the packet goes on to table 1 */
			fm->hdr.priority = 200;
			m_nw_dst(fm, CASCADE_DST, 32);
			act(fm, goto_table(1));
		} else if (i <= FILL) { /* table 1: others' entries */
			fm->hdr.table_id = 1;
			fm->key.dl_type = 0x0800;
			fm->mask.dl_type = 0xffff;
			fm->key.nw_src = 0x0b000000 + i;
			fm->mask.nw_src = ~0u;
			act(fm, output(C));
		} else { /* table 1: the packet's */
			fm->hdr.table_id = 1;
			m_nw_dst(fm, CASCADE_DST, 24);
			act(fm, output(B));
		}
	}
	/* on any CPU: EAL pinned this thread, and so its children, to one */
	CPU_ZERO(&cpus);
	for (int c = 0; c < CPU_SETSIZE; c++)
		CPU_SET(c, &cpus);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	CHECK_EQ(pthread_create(&th, &attr, walk_cascade, &w), 0);
	pthread_attr_destroy(&attr);
	for (unsigned int r = 0; r < ROUNDS; r++) {
		uint64_t seen = __atomic_load_n(&w.walks, __ATOMIC_ACQUIRE);
		uint64_t t0;

		CHECK_EQ(dp_flow_mod(mods, FILL + 2, &changed, &err), 0);
		CHECK_EQ(changed, FILL + 2);
		/* Until the walker has been through the new goto (a second at
		 * most): on a busy machine it might otherwise never run while the
		 * cascade is in, and the test would show nothing. */
		for (t0 = rte_get_tsc_cycles();
		     __atomic_load_n(&w.walks, __ATOMIC_ACQUIRE) == seen &&
		     rte_get_tsc_cycles() - t0 < rte_get_tsc_hz();)
			sched_yield();
		for (unsigned int i = 0; i < FILL + 2; i++)
			mods[i].hdr.command = SY_FC_DELETE_STRICT;
		/* (deletes in the batch's order: the goto goes first) */
		CHECK_EQ(dp_flow_mod(mods, FILL + 2, &changed, &err), 0);
		for (unsigned int i = 0; i < FILL + 2; i++)
			mods[i].hdr.command = SY_FC_ADD;
		rcu_poll();
	}
	w.stop = true;
	pthread_join(th, NULL);
	printf("     %" PRIu64 " walks through the new goto, %" PRIu64 " into a table 1 without its entry\n",
	       w.walks, w.torn);
	CHECK(w.walks > 0); /* the reader did overlap the batches */
	CHECK_EQ(w.torn, 0);
	dp_barrier();
	delete_all();
}

int
main(void)
{
	struct dp_config cfg = { .n_mbufs = 4096, .max_flows = MAX_FLOWS };

	lc = sy_test_dp_start("flow_table", &cfg);
	if (lc == NULL)
		return 1;
	add_port("a", "net_ring0", A);
	add_port("b", "net_ring1", B);
	add_port("c", "net_ring2", C);

	RUN(add_and_dump);
	RUN(batch_all_or_nothing);
	RUN(switch_limit);
	RUN(replace_keeps_or_resets_counters);
	RUN(modify_strict_and_not);
	RUN(delete_strict_and_not);
	RUN(pipeline_counters);
	RUN(goto_after_rewrite);
	RUN(port_delete_keeps_flows);
	RUN(port_errors);
	RUN(table_settings);
	RUN(unsupported_and_overlap);
	RUN(many_flows);
	RUN(timeouts);
	RUN(cascade_batch_is_never_half_seen);

	dp_fini();
	sy_test_eal_fini();
	return sy_test_summary();
}
