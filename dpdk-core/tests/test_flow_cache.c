/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_flow_cache.c — the per-lcore megaflow cache in front of the tables
 * (flow_cache.h), through the real pipeline (pl_run_once on net_ring ports
 * attached with dp_port_add): later packets of a flow hit; a flow that
 * differs only in bits no table consulted shares the entry; adding a
 * higher-priority overlapping rule, deleting one, or replacing the actions
 * of a rule that rewrites the key for a later table invalidates exactly what
 * it must; an action-only MODIFY takes effect at once without a miss; a
 * change to an unrelated table invalidates nothing; cascades through
 * rewritten keys (set_field, dec_ttl, write_metadata); misses are cached
 * too; the cache stays right with a million distinct keys; and a randomized
 * differential test (cache on, cache off) over random rule sets, packets
 * and table changes.
 *
 * net_ring ports loop back: what the switch sends on a port can be read
 * with rte_eth_rx_burst on that port.
 */
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "datapath.h"
#include "flow_cache.h"
#include "flow_table.h"
#include "parse.h"
#include "pipeline.h"
#include "sy_pkt.h"
#include "sy_flowmod.h"
#include "sy_test.h"

enum { A = 1, B = 2, C = 3 };
static uint16_t dpdk[4];
static struct pl_lcore *lc;
static struct flow_cache *cache; /* lc's, kept while a test turns it off */

/* --- flow-mods --- */

static void
m_ip(struct sy_flow_mod *fm, uint8_t proto)
{
	MATCH(fm, dl_type, 0x0800, 0xffff);
	if (proto)
		MATCH(fm, nw_proto, proto, 0xff);
}

static struct sy_action
set_nw_dst(uint32_t addr)
{
	struct sy_action a = { .type = SY_ACT_SET_FIELD, .field = SY_F_NW_DST };

	memcpy(a.value.bytes, &addr, 4); /* laid out as in the key */
	return a;
}

static struct sy_action
set_tp_dst(uint16_t port)
{
	struct sy_action a = { .type = SY_ACT_SET_FIELD, .field = SY_F_TP_DST };

	memcpy(a.value.bytes, &port, 2);
	return a;
}

static struct sy_action
write_metadata(uint64_t v, uint64_t mask)
{
	struct sy_action a = { .type = SY_ACT_WRITE_METADATA, .mask = mask };

	a.value.u64[0] = v;
	return a;
}


/* What ports B and C sent, drained after every iteration (a ring port
 * would otherwise give them back as input at the next one). */
static unsigned int n_sent[4];
static struct sy_flow_key last_sent[4];

static void
delete_all(void)
{
	struct sy_flow_mod *fm = fm_new(SY_FC_DELETE, SY_TABLE_ALL, 0);
	struct sy_table_desc d = { 0 };
	struct sy_error err;

	sy_test_flow_mod(fm);
	for (uint32_t t = 0; t < SY_MAX_TABLES; t++) {
		d.id = t;
		dp_table_mod(&d, NULL, &err);
	}
	dp_barrier();
	n_sent[B] = n_sent[C] = 0;
}

/* --- packets --- */

static void
add_port(const char *name, const char *devargs, uint32_t id)
{
	dpdk[id] = sy_test_port_add(name, devargs, id, 0, 1);
}

static void
drain(void)
{
	for (uint32_t id = B; id <= C; id++) {
		struct rte_mbuf *m[64];
		unsigned int n = rte_eth_rx_burst(dpdk[id], 0, m, 64);

		for (unsigned int i = 0; i < n; i++) {
			struct parse_layout lay;
			enum sy_drop_reason why;

			parse_packet(m[i], 0, &last_sent[id], &lay, &why);
			rte_pktmbuf_free(m[i]);
		}
		n_sent[id] += n;
	}
}

/* Sends the frames of specs[0..n) into port A as one burst, runs one
 * pipeline iteration; what B and C sent stays in their rings. */
static void
inject_raw(const struct pkt_spec *specs, unsigned int n)
{
	struct rte_mbuf *m[PL_BURST];
	uint8_t b[2048];

	for (unsigned int i = 0; i < n; i++) {
		size_t len = pkt_build(&specs[i], b);

		m[i] = pkt_mbuf(dp.pool, b, len, 0);
	}
	CHECK_EQ(rte_eth_tx_burst(dpdk[A], 0, m, (uint16_t)n), n);
	pl_run_once(lc);
}

/* The same, and counts what B and C sent. */
static void
inject_n(const struct pkt_spec *specs, unsigned int n)
{
	inject_raw(specs, n);
	drain();
}

static void
inject(const struct pkt_spec *s, unsigned int copies)
{
	struct pkt_spec v[PL_BURST];

	for (unsigned int i = 0; i < copies; i++)
		v[i] = *s;
	inject_n(v, copies);
}

/* Frames port id sent since last asked; the key of the last one in
 * *last_key if asked. */
static unsigned int
sent(uint32_t id, struct sy_flow_key *last_key)
{
	unsigned int n = n_sent[id];

	if (last_key)
		*last_key = last_sent[id];
	n_sent[id] = 0;
	return n;
}

static struct st_pmd_ctr
pmd(void)
{
	return lc->ctr.pmd;
}

static uint64_t
table_lookups(unsigned int t)
{
	uint64_t l, m;

	st_table_sum(t, &l, &m);
	return l;
}

static struct sy_port_stats port_stats;

static void
stats_cb(const struct sy_port_stats *st, void *arg)
{
	port_stats = *st;
}

static uint64_t
drops(enum sy_drop_reason why)
{
	struct sy_error err;

	dp_port_stats(A, stats_cb, NULL, &err);
	return port_stats.drops[why];
}

/* --- the tests --- */

static void
hits_after_first_packet(void)
{
	struct sy_flow_mod *fm = fm_new(SY_FC_ADD, 0, 1);
	struct pkt_spec s = pkt_default();
	struct st_pmd_ctr p0, p1;
	uint64_t lookups0 = table_lookups(0);

	MATCH(fm, in_port, A, 0xffffffff);
	act(fm, output(B));
	sy_test_flow_mod(fm);

	p0 = pmd();
	inject(&s, 1);
	inject(&s, 4);
	p1 = pmd();
	CHECK_EQ(sent(B, NULL), 5);
	CHECK_EQ(p1.cache_misses - p0.cache_misses, 1);
	CHECK_EQ(p1.cache_hits - p0.cache_hits, 4);
	CHECK_EQ(p1.cls_lookups - p0.cls_lookups, 1);
	CHECK_EQ(p1.cls_probes - p0.cls_probes, 1);
	/* a hit counts the lookup the packet would have made */
	CHECK_EQ(table_lookups(0) - lookups0, 5);

	/* only in_port was consulted: other flows share the megaflow */
	s.sport = 4242;
	s.ip_dst = 0x0b000001;
	inject(&s, 3);
	CHECK_EQ(sent(B, NULL), 3);
	CHECK_EQ(pmd().cache_misses - p0.cache_misses, 1);
	CHECK_EQ(pmd().cache_hits - p0.cache_hits, 7);
	delete_all();
}

static void
add_higher_priority_invalidates(void)
{
	struct sy_flow_mod *lo = fm_new(SY_FC_ADD, 0, 1), *hi = fm_new(SY_FC_ADD, 0, 10);
	struct pkt_spec s = pkt_default(), other = pkt_default();
	struct st_pmd_ctr p0;

	m_ip(lo, 0);
	act(lo, output(B));
	sy_test_flow_mod(lo);
	inject(&s, 2);
	CHECK_EQ(sent(B, NULL), 2);

	/* overlaps: udp to 10.0.0.2 now goes to C */
	m_ip(hi, 17);
	MATCH(hi, nw_dst, 0x0a000002, 0xffffffff);
	act(hi, output(C));
	sy_test_flow_mod(hi);
	p0 = pmd();
	inject(&s, 3);
	CHECK_EQ(sent(C, NULL), 3);
	CHECK_EQ(sent(B, NULL), 0);
	CHECK_EQ(pmd().cache_misses - p0.cache_misses, 1);
	CHECK_EQ(pmd().cache_hits - p0.cache_hits, 2);

	/* other destinations still go to B */
	other.ip_dst = 0x0a000003;
	inject(&other, 2);
	CHECK_EQ(sent(B, NULL), 2);
	delete_all();
}

static void
delete_invalidates(void)
{
	struct sy_flow_mod *fm = fm_new(SY_FC_ADD, 0, 5);
	struct pkt_spec s = pkt_default();
	uint64_t miss0;

	m_ip(fm, 17);
	act(fm, output(B));
	sy_test_flow_mod(fm);
	inject(&s, 3);
	CHECK_EQ(sent(B, NULL), 3);

	fm = fm_new(SY_FC_DELETE_STRICT, 0, 5);
	m_ip(fm, 17);
	CHECK_EQ(sy_test_flow_mod(fm), 1);
	miss0 = drops(SY_DROP_TABLE_MISS);
	inject(&s, 2);
	CHECK_EQ(sent(B, NULL), 0);
	CHECK_EQ(drops(SY_DROP_TABLE_MISS) - miss0, 2);
	/* and freeing it after the grace period leaves the cache harmless */
	dp_barrier();
	inject(&s, 2);
	CHECK_EQ(drops(SY_DROP_TABLE_MISS) - miss0, 4);
	delete_all();
}

static void
modify_takes_effect_without_invalidation(void)
{
	struct sy_flow_mod *fm = fm_new(SY_FC_ADD, 0, 5);
	struct pkt_spec s = pkt_default();
	struct st_pmd_ctr p0;

	MATCH(fm, in_port, A, 0xffffffff);
	act(fm, goto_table(1));
	sy_test_flow_mod(fm);
	fm = fm_new(SY_FC_ADD, 1, 5);
	m_ip(fm, 17);
	act(fm, output(B));
	sy_test_flow_mod(fm);
	inject(&s, 1);
	CHECK_EQ(sent(B, NULL), 1);

	p0 = pmd();
	fm = fm_new(SY_FC_MODIFY_STRICT, 1, 5);
	m_ip(fm, 17);
	act(fm, output(C));
	CHECK_EQ(sy_test_flow_mod(fm), 1);
	inject(&s, 2);
	CHECK_EQ(sent(C, NULL), 2);
	CHECK_EQ(sent(B, NULL), 0);
	CHECK_EQ(pmd().cache_misses - p0.cache_misses, 0);
	CHECK_EQ(pmd().cache_hits - p0.cache_hits, 2);

	/* a MODIFY of the first hop that now goes to another table: the
	 * packet follows it (table 2 misses: dropped), the entry is redone */
	fm = fm_new(SY_FC_MODIFY_STRICT, 0, 5);
	MATCH(fm, in_port, A, 0xffffffff);
	act(fm, goto_table(2));
	CHECK_EQ(sy_test_flow_mod(fm), 1);
	fm = fm_new(SY_FC_ADD, 2, 5);
	act(fm, output(B));
	sy_test_flow_mod(fm); /* table 2 changed: entries through it die, not others */
	inject(&s, 2);
	CHECK_EQ(sent(B, NULL), 2);
	CHECK_EQ(sent(C, NULL), 0);
	delete_all();
}

static void
unrelated_table_change_keeps_entries(void)
{
	struct sy_flow_mod *fm = fm_new(SY_FC_ADD, 0, 5);
	struct pkt_spec s = pkt_default();
	struct st_pmd_ctr p0;

	MATCH(fm, in_port, A, 0xffffffff);
	act(fm, output(B));
	sy_test_flow_mod(fm);
	inject(&s, 1);
	CHECK_EQ(sent(B, NULL), 1);

	p0 = pmd();
	fm = fm_new(SY_FC_ADD, 7, 5);
	m_ip(fm, 6);
	act(fm, output(C));
	sy_test_flow_mod(fm);
	fm = fm_new(SY_FC_DELETE, 7, 0);
	CHECK_EQ(sy_test_flow_mod(fm), 1);
	inject(&s, 2);
	CHECK_EQ(sent(B, NULL), 2);
	CHECK_EQ(pmd().cache_misses - p0.cache_misses, 0);
	delete_all();
}

static void
rewritten_key_cascades(void)
{
	struct sy_flow_mod *fm;
	struct pkt_spec s = pkt_default(), t = pkt_default();
	struct sy_flow_key k;
	struct st_pmd_ctr p0;

	/* table 0 rewrites nw_dst and goes on; table 1 forwards by it */
	fm = fm_new(SY_FC_ADD, 0, 5);
	MATCH(fm, in_port, A, 0xffffffff);
	act(fm, set_nw_dst(0x0a000009));
	act(fm, goto_table(1));
	sy_test_flow_mod(fm);
	fm = fm_new(SY_FC_ADD, 1, 5);
	m_ip(fm, 0);
	MATCH(fm, nw_dst, 0x0a000009, 0xffffffff);
	act(fm, output(B));
	sy_test_flow_mod(fm);
	fm = fm_new(SY_FC_ADD, 1, 5);
	m_ip(fm, 0);
	MATCH(fm, nw_dst, 0x0a000007, 0xffffffff);
	act(fm, output(C));
	sy_test_flow_mod(fm);

	inject(&s, 1);
	inject(&s, 2);
	CHECK_EQ(sent(B, &k), 3);
	CHECK_EQ(k.nw_dst, 0x0a000009);

	/* new rewrite, same rule: the next packets follow the new key */
	p0 = pmd();
	fm = fm_new(SY_FC_MODIFY_STRICT, 0, 5);
	MATCH(fm, in_port, A, 0xffffffff);
	act(fm, set_nw_dst(0x0a000007));
	act(fm, goto_table(1));
	CHECK_EQ(sy_test_flow_mod(fm), 1);
	inject(&s, 2);
	CHECK_EQ(sent(C, &k), 2);
	CHECK_EQ(k.nw_dst, 0x0a000007);
	CHECK_EQ(sent(B, NULL), 0);
	CHECK_EQ(pmd().cache_misses - p0.cache_misses, 1);
	delete_all();

	/* dec_ttl, then table 1 matches the decremented TTL */
	fm = fm_new(SY_FC_ADD, 0, 5);
	m_ip(fm, 0);
	act(fm, (struct sy_action){ .type = SY_ACT_DEC_TTL });
	act(fm, goto_table(1));
	sy_test_flow_mod(fm);
	fm = fm_new(SY_FC_ADD, 1, 9);
	m_ip(fm, 0);
	MATCH(fm, nw_ttl, 63, 0xff);
	act(fm, output(B));
	sy_test_flow_mod(fm);
	fm = fm_new(SY_FC_ADD, 1, 1);
	act(fm, output(C));
	sy_test_flow_mod(fm);
	s.ttl = 64;
	t.ttl = 10;
	inject(&s, 2);
	inject(&t, 2);
	inject(&s, 1);
	CHECK_EQ(sent(B, &k), 3);
	CHECK_EQ(k.nw_ttl, 63);
	CHECK_EQ(sent(C, &k), 2);
	CHECK_EQ(k.nw_ttl, 9);
	t.ttl = 1; /* expires in table 0, cached path or not */
	inject(&t, 2);
	CHECK_EQ(sent(B, NULL) + sent(C, NULL), 0);
	delete_all();

	/* write_metadata in table 0, table 1 matches it */
	fm = fm_new(SY_FC_ADD, 0, 5);
	m_ip(fm, 17);
	MATCH(fm, tp_dst, 2000, 0xffff);
	act(fm, write_metadata(0x55, 0xff));
	act(fm, goto_table(1));
	sy_test_flow_mod(fm);
	fm = fm_new(SY_FC_ADD, 0, 1);
	act(fm, goto_table(1));
	sy_test_flow_mod(fm);
	fm = fm_new(SY_FC_ADD, 1, 5);
	MATCH(fm, metadata, 0x55, 0xff);
	act(fm, output(B));
	sy_test_flow_mod(fm);
	fm = fm_new(SY_FC_ADD, 1, 1);
	act(fm, output(C));
	sy_test_flow_mod(fm);
	s = pkt_default();
	t = pkt_default();
	t.dport = 2001;
	inject(&s, 2);
	inject(&t, 2);
	inject(&s, 1);
	CHECK_EQ(sent(B, NULL), 3);
	CHECK_EQ(sent(C, NULL), 2);
	delete_all();
}

static void
misses_are_cached(void)
{
	struct sy_flow_mod *fm = fm_new(SY_FC_ADD, 0, 5);
	struct pkt_spec s = pkt_default();
	struct st_pmd_ctr p0;
	uint64_t miss0;

	m_ip(fm, 6); /* TCP only: UDP misses table 0 */
	act(fm, output(B));
	sy_test_flow_mod(fm);
	p0 = pmd();
	miss0 = drops(SY_DROP_TABLE_MISS);
	inject(&s, 1);
	inject(&s, 3);
	CHECK_EQ(drops(SY_DROP_TABLE_MISS) - miss0, 4);
	CHECK_EQ(pmd().cache_misses - p0.cache_misses, 1);
	CHECK_EQ(pmd().cache_hits - p0.cache_hits, 3);

	/* miss=continue is read per packet: the cached miss goes on */
	struct sy_table_desc d = { .id = 0, .miss = SY_MISS_CONTINUE };
	struct sy_error err;

	CHECK_EQ(dp_table_mod(&d, NULL, &err), 0);
	fm = fm_new(SY_FC_ADD, 1, 5);
	act(fm, output(C));
	sy_test_flow_mod(fm);
	inject(&s, 2);
	CHECK_EQ(sent(C, NULL), 2);
	CHECK_EQ(drops(SY_DROP_TABLE_MISS) - miss0, 4);
	delete_all();
}

/* A million distinct keys in the cache itself: each finds its own path or
 * nothing, never another's. */
static void
one_million_keys(void)
{
	struct flow_cache *fc = fc_create(FC_DEFAULT_ENTRIES);
	static struct sy_flow_key keys[PL_BURST];
	struct sy_flow_key *kp[PL_BURST];
	struct fc_entry *out[PL_BURST];
	const unsigned int n = 1000000;
	unsigned int found = 0, wrong = 0;
	struct fc_path path;

	CHECK(fc != NULL);
	if (fc == NULL)
		return;
	memset(&path, 0, sizeof(path));
	path.stamp = ft_clock_now();
	path.n_hops = 1;
	path.wc[4] = UINT64_MAX; /* nw_src, nw_dst */
	path.wc[9] = 0xffffffff; /* tp_src, tp_dst */
	for (unsigned int i = 0; i < n; i++) {
		struct sy_flow_key k = { 0 };

		k.nw_src = 0x0a000000 + i;
		k.nw_dst = 0x0b000000 + i * 7;
		k.tp_src = (uint16_t)i;
		k.tp_dst = (uint16_t)(i >> 16);
		path.f[0] = (const struct ft_flow *)(uintptr_t)(0x1000 + (uintptr_t)i * 8);
		fc_insert(fc, &k, &path);
	}
	for (unsigned int i = 0; i < n; i += PL_BURST) {
		for (unsigned int j = 0; j < PL_BURST; j++) {
			memset(&keys[j], 0, sizeof(keys[j]));
			keys[j].nw_src = 0x0a000000 + i + j;
			keys[j].nw_dst = 0x0b000000 + (i + j) * 7;
			keys[j].tp_src = (uint16_t)(i + j);
			keys[j].tp_dst = (uint16_t)((i + j) >> 16);
			keys[j].dl_type = 0x0800; /* not consulted: no difference */
			kp[j] = &keys[j];
		}
		fc_lookup_burst(fc, kp, PL_BURST, out);
		for (unsigned int j = 0; j < PL_BURST && i + j < n; j++) {
			if (out[j] == NULL)
				continue;
			found++;
			if (out[j]->f[0] != (const struct ft_flow *)(uintptr_t)(0x1000 + (uintptr_t)(i + j) * 8))
				wrong++;
		}
	}
	CHECK_EQ(wrong, 0);
	/* 4-way sets of 2M entries hold nearly all of a million */
	CHECK(found > n * 95 / 100);
	printf("     1M keys: %u found in the cache (%.1f%%)\n", found, found * 100.0 / n);
	fc_destroy(fc);
}

/* --- the randomized differential test --- */

static uint64_t rnd_state = 0x2545f4914f6cdd1dull;

static uint32_t
rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state % n);
}

static const uint32_t addrs[] = { 0x0a000001, 0x0a000002, 0x0a000102, 0x0a010203, 0x0b000001 };
static const uint16_t ports[] = { 53, 80, 1000, 2000 };

/* A random rule: a few fields from small pools, prefixes included. */
static void
random_rule(struct sy_flow_mod *fm, unsigned int table)
{
	fm->hdr.priority = (uint16_t)rnd(8);
	if (rnd(4) == 0)
		MATCH(fm, in_port, A, 0xffffffff);
	if (rnd(3)) {
		m_ip(fm, rnd(3) ? 17 : (rnd(2) ? 6 : 0));
		if (rnd(2)) {
			int plen = (int)(8 * rnd(5));

			MATCH(fm, nw_dst, addrs[rnd(5)], plen ? ~0u << (32 - plen) : 0);
		}
		if (rnd(3) == 0)
			MATCH(fm, nw_src, addrs[rnd(5)], 0xffffff00);
		if (rnd(4) == 0)
			MATCH(fm, nw_ttl, 60 + rnd(6), 0xff);
		if (fm->mask.nw_proto && fm->key.nw_proto != 0 && rnd(2))
			MATCH(fm, tp_dst, ports[rnd(4)], 0xffff);
	}
	if (table > 0 && rnd(3) == 0)
		MATCH(fm, metadata, rnd(4), 0x3);
	/* actions: a few rewrites, then output, drop or go on */
	if (fm->mask.dl_type && rnd(4) == 0)
		act(fm, set_nw_dst(addrs[rnd(5)]));
	if (fm->mask.nw_proto && fm->key.nw_proto && rnd(5) == 0)
		act(fm, set_tp_dst(ports[rnd(4)]));
	if (rnd(5) == 0)
		act(fm, (struct sy_action){ .type = SY_ACT_DEC_TTL });
	if (rnd(4) == 0)
		act(fm, write_metadata(rnd(4), 0x3));
	switch (rnd(5)) {
	case 0:
		break; /* drop */
	case 1:
		act(fm, output(B));
		break;
	case 2:
		act(fm, output(C));
		break;
	default:
		if (table < 3)
			act(fm, goto_table(table + 1 + rnd(3 - table)));
		else
			act(fm, output(B));
	}
}

static struct pkt_spec
random_packet(void)
{
	struct pkt_spec s = pkt_default();

	s.proto = rnd(4) ? 17 : 6;
	s.ip_src = addrs[rnd(5)];
	s.ip_dst = addrs[rnd(5)];
	s.sport = ports[rnd(4)];
	s.dport = ports[rnd(4)];
	s.ttl = (uint8_t)(60 + rnd(6));
	if (rnd(10) == 0)
		s.ttl = 1;
	return s;
}

/* What a burst did: the frames each port sent, in order, and the drops. */
struct outcome {
	unsigned int n[4];
	uint8_t bytes[4][PL_BURST * 4][128];
	size_t len[4][PL_BURST * 4];
	uint64_t drops[SY_DROP__MAX];
};

static void
collect(struct outcome *o, const uint64_t *drops0)
{
	struct sy_error err;

	memset(o, 0, sizeof(*o));
	for (uint32_t id = B; id <= C; id++) {
		struct rte_mbuf *m[PL_BURST * 4];
		unsigned int n = rte_eth_rx_burst(dpdk[id], 0, m, PL_BURST * 4);

		for (unsigned int i = 0; i < n; i++) {
			size_t len = rte_pktmbuf_pkt_len(m[i]);

			if (len > 128)
				len = 128;
			o->len[id][i] = len;
			memcpy(o->bytes[id][i], rte_pktmbuf_read(m[i], 0, (uint32_t)len, o->bytes[id][i]),
			       len);
			rte_pktmbuf_free(m[i]);
		}
		o->n[id] = n;
	}
	dp_port_stats(A, stats_cb, NULL, &err);
	for (int d = 0; d < SY_DROP__MAX; d++)
		o->drops[d] = port_stats.drops[d] - drops0[d];
}

static bool
same(const struct outcome *x, const struct outcome *y)
{
	for (uint32_t id = B; id <= C; id++) {
		if (x->n[id] != y->n[id])
			return false;
		for (unsigned int i = 0; i < x->n[id]; i++)
			if (x->len[id][i] != y->len[id][i] ||
			    memcmp(x->bytes[id][i], y->bytes[id][i], x->len[id][i]))
				return false;
	}
	return memcmp(x->drops, y->drops, sizeof(x->drops)) == 0;
}

/* Runs a burst with the cache, then without: the same frames must leave,
 * the same drops be counted. */
static bool
differ(const struct pkt_spec *burst, unsigned int n)
{
	static struct outcome with, without;
	uint64_t drops0[SY_DROP__MAX];
	struct sy_error err;

	dp_port_stats(A, stats_cb, NULL, &err);
	memcpy(drops0, port_stats.drops, sizeof(drops0));
	lc->fc = cache;
	inject_raw(burst, n);
	collect(&with, drops0);

	dp_port_stats(A, stats_cb, NULL, &err);
	memcpy(drops0, port_stats.drops, sizeof(drops0));
	lc->fc = NULL;
	inject_raw(burst, n);
	collect(&without, drops0);
	lc->fc = cache;
	return !same(&with, &without);
}

static void
differential(unsigned int rounds)
{
	struct sy_flow_mod *added[256];
	unsigned int n_added = 0, mismatches = 0, bursts = 0;
	struct st_pmd_ctr p0 = pmd();

	for (unsigned int round = 0; round < rounds; round++) {
		/* a fresh random rule set now and then */
		if (round % 10 == 0) {
			delete_all();
			while (n_added)
				free(added[--n_added]);
			for (unsigned int t = 0; t < 4; t++) {
				struct sy_table_desc d = { .id = t, .miss = rnd(2) ? SY_MISS_CONTINUE : SY_MISS_DROP };
				struct sy_error err;

				dp_table_mod(&d, NULL, &err);
			}
		}
		for (unsigned int c = 0; c < 8; c++) {
			unsigned int t = rnd(4);
			struct sy_flow_mod *fm;
			struct sy_error err;
			uint32_t nch;

			switch (rnd(n_added < 20 ? 2 : 4)) {
			case 0:
			case 1: /* add */
				fm = fm_new(SY_FC_ADD, (uint8_t)t, 0);
				random_rule(fm, t);
				if (dp_flow_mod(fm, 1, &nch, &err) == 0 && n_added < 256) {
					added[n_added] = malloc(sizeof(*fm));
					*added[n_added++] = *fm;
				}
				break;
			case 2: { /* delete one added before */
				unsigned int i = rnd(n_added);

				fm = fm_new(SY_FC_DELETE_STRICT, added[i]->hdr.table_id,
					    added[i]->hdr.priority);
				fm->key = added[i]->key;
				fm->mask = added[i]->mask;
				dp_flow_mod(fm, 1, &nch, &err);
				free(added[i]);
				added[i] = added[--n_added];
				break;
			}
			default: { /* new actions for one added before */
				unsigned int i = rnd(n_added);
				struct sy_flow_mod tmp = { 0 };

				fm = fm_new(SY_FC_MODIFY_STRICT, added[i]->hdr.table_id,
					    added[i]->hdr.priority);
				fm->key = added[i]->key;
				fm->mask = added[i]->mask;
				tmp.mask = fm->mask;
				tmp.key = fm->key;
				random_rule(&tmp, added[i]->hdr.table_id);
				memcpy(fm->actions, tmp.actions, sizeof(tmp.actions));
				fm->n_actions = tmp.n_actions;
				dp_flow_mod(fm, 1, &nch, &err); /* may be refused */
				break;
			}
			}
			/* a few bursts between changes */
			for (unsigned int b = 0; b < 6; b++) {
				struct pkt_spec burst[PL_BURST];
				unsigned int n = 1 + rnd(12);

				for (unsigned int i = 0; i < n; i++)
					burst[i] = i && rnd(2) ? burst[rnd(i)] : random_packet();
				bursts++;
				if (differ(burst, n)) {
					if (mismatches++ < 3)
						fprintf(stderr, "round %u: cache on and off differ\n", round);
				}
			}
		}
	}
	CHECK_EQ(mismatches, 0);
	/* the cache was exercised, not bypassed */
	CHECK(pmd().cache_hits - p0.cache_hits > bursts);
	printf("     %u bursts, %lu hits, %lu misses\n", bursts,
	       (unsigned long)(pmd().cache_hits - p0.cache_hits),
	       (unsigned long)(pmd().cache_misses - p0.cache_misses));
	for (unsigned int i = 0; i < n_added; i++)
		free(added[i]);
	delete_all();
}

static void
randomized_differential(void)
{
	differential(60);
}

/* The same with a cache of 8 entries: every insert evicts, often an entry
 * a later packet of the same burst had found. */
static void
randomized_differential_tiny_cache(void)
{
	struct flow_cache *big = cache;

	cache = fc_create(8);
	CHECK(cache != NULL);
	if (cache) {
		lc->fc = cache;
		differential(30);
		fc_destroy(cache);
	}
	cache = big;
	lc->fc = cache;
}

/* dp_flow_mod of 100K adds, timed (reported, not asserted: the machine is
 * shared). */
static void
batch_of_100k_adds(void)
{
	const unsigned int n = 100000;
	struct sy_flow_mod *v = calloc(n, sizeof(*v));
	struct sy_error err;
	uint32_t changed = 0;
	uint64_t t0;

	CHECK(v != NULL);
	if (v == NULL)
		return;
	for (unsigned int i = 0; i < n; i++) {
		struct sy_flow_mod *fm = &v[i];

		fm->hdr.command = SY_FC_ADD;
		fm->hdr.priority = (uint16_t)(100 + i % 7);
		fm->hdr.out_port = SY_PORT_ANY;
		m_ip(fm, 17);
		MATCH(fm, nw_src, 0x0a000000 + i, 0xffffffff);
		MATCH(fm, tp_src, 1000 + i % 50000, 0xffff);
		act(fm, goto_table(1));
	}
	t0 = rte_rdtsc();
	CHECK_EQ(dp_flow_mod(v, n, &changed, &err), 0);
	printf("     100K adds: %.1f ms\n", (double)(rte_rdtsc() - t0) * 1e3 / rte_get_tsc_hz());
	CHECK_EQ(changed, n);
	CHECK_EQ(ft_count(), n);
	free(v);
	delete_all();
	CHECK_EQ(ft_count(), 0);
}

int
main(void)
{
	struct dp_config cfg = { .n_mbufs = 8192, .max_flows = 200000 };

	lc = sy_test_dp_start("flow_cache", &cfg);
	if (lc == NULL)
		return 1;
	cache = lc->fc;
	if (cache == NULL) {
		fprintf(stderr, "no flow cache\n");
		return 1;
	}
	add_port("a", "net_ring0", A);
	add_port("b", "net_ring1", B);
	add_port("c", "net_ring2", C);

	RUN(hits_after_first_packet);
	RUN(add_higher_priority_invalidates);
	RUN(delete_invalidates);
	RUN(modify_takes_effect_without_invalidation);
	RUN(unrelated_table_change_keeps_entries);
	RUN(rewritten_key_cascades);
	RUN(misses_are_cached);
	RUN(one_million_keys);
	RUN(randomized_differential);
	RUN(randomized_differential_tiny_cache);
	RUN(batch_of_100k_adds);

	dp_fini();
	sy_test_eal_fini();
	return sy_test_summary();
}
