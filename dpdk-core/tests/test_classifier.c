/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_classifier.c — the tuple space search classifier: priorities across
 * subtables, rules sharing a mask and key, removal, many masks, a
 * randomized cross-check against a linear scan, and the wildcards a lookup
 * reports (cls_lookup_wc()) being enough to answer every key they cover.
 */
#include <stdlib.h>

#include <rte_common.h>

#include "classifier.h"
#include "rcu.h"
#include "sy_test.h"

struct trule {
	struct cls_rule cr;
	struct sy_flow_key mask;
	bool in;
};

static void
set_rule(struct trule *r, const struct sy_flow_key *key, const struct sy_flow_key *mask,
	 uint16_t prio)
{
	memset(r, 0, sizeof(*r));
	r->mask = *mask;
	r->cr.key = *key;
	sy_flow_key_apply_mask(&r->cr.key, mask);
	r->cr.priority = prio;
}

static void
insert(struct cls *c, struct trule *r)
{
	CHECK(cls_reserve(c, &r->mask, 1) == 0);
	cls_insert(c, &r->cr, &r->mask);
	r->in = true;
}

static void
insert1(struct cls *c, struct trule *r)
{
	insert(c, r);
	cls_publish(c);
	rcu_poll();
}

static void
remove1(struct cls *c, struct trule *r)
{
	cls_remove(c, &r->cr);
	r->in = false;
	cls_publish(c);
	rcu_commit();
	rcu_poll();
}

static const struct cls_rule *
lookup(const struct cls *c, const struct sy_flow_key *k)
{
	return cls_lookup(c, k);
}

static struct sy_flow_key
ip_pkt(uint32_t src, uint32_t dst, uint16_t tp_dst)
{
	struct sy_flow_key k;

	memset(&k, 0, sizeof(k));
	k.in_port = 1;
	k.dl_type = 0x0800;
	k.nw_proto = 6;
	k.nw_src = src;
	k.nw_dst = dst;
	k.tp_dst = tp_dst;
	return k;
}

static struct sy_flow_key
mask_dst(int prefix)
{
	struct sy_flow_key m;

	memset(&m, 0, sizeof(m));
	m.dl_type = 0xffff;
	m.nw_dst = prefix ? ~0u << (32 - prefix) : 0;
	return m;
}

static void
empty(void)
{
	struct cls c;
	struct sy_flow_key k = ip_pkt(1, 2, 3);

	cls_init(&c);
	CHECK(lookup(&c, &k) == NULL);
	cls_publish(&c);
	CHECK(lookup(&c, &k) == NULL);
	cls_destroy(&c);
}

static void
priorities_across_masks(void)
{
	struct cls c;
	struct trule host, net, all;
	struct sy_flow_key zero, k = ip_pkt(0x0a000009, 0x0a000001, 80);

	memset(&zero, 0, sizeof(zero));
	cls_init(&c);
	{
		struct sy_flow_key m = mask_dst(32);

		set_rule(&host, &k, &m, 10);
		m = mask_dst(24);
		set_rule(&net, &k, &m, 20);
	}
	set_rule(&all, &k, &zero, 1);
	insert1(&c, &host);
	insert1(&c, &net);
	insert1(&c, &all);
	CHECK_EQ(c.n_subtables, 3);

	CHECK(lookup(&c, &k) == &net.cr);
	k.nw_dst = 0x0a000002; /* only the /24 and the catch-all */
	CHECK(lookup(&c, &k) == &net.cr);
	k.nw_dst = 0x0b000001; /* only the catch-all */
	CHECK(lookup(&c, &k) == &all.cr);
	k.dl_type = 0x86dd;
	CHECK(lookup(&c, &k) == &all.cr);

	k = ip_pkt(0x0a000009, 0x0a000001, 80);
	remove1(&c, &net);
	CHECK(lookup(&c, &k) == &host.cr);
	CHECK_EQ(c.n_subtables, 2); /* the empty subtable is gone */
	remove1(&c, &host);
	CHECK(lookup(&c, &k) == &all.cr);
	remove1(&c, &all);
	CHECK(lookup(&c, &k) == NULL);
	CHECK_EQ(c.n_subtables, 0);
	CHECK_EQ(c.n_rules, 0);
	cls_destroy(&c);
}

static void
same_mask_same_key(void)
{
	struct cls c;
	struct trule r[4];
	struct sy_flow_key m = mask_dst(32), k = ip_pkt(1, 0x0a000001, 80);
	const uint16_t prio[4] = { 5, 50, 30, 40 };

	cls_init(&c);
	for (int i = 0; i < 4; i++) {
		set_rule(&r[i], &k, &m, prio[i]);
		insert1(&c, &r[i]);
	}
	CHECK_EQ(c.n_subtables, 1);
	CHECK_EQ(c.n_rules, 4);
	CHECK(lookup(&c, &k) == &r[1].cr);
	for (int i = 0; i < 4; i++)
		CHECK(cls_find_exact(&c, &r[i].cr.key, &m, prio[i]) == &r[i].cr);
	CHECK(cls_find_exact(&c, &r[0].cr.key, &m, 6) == NULL);

	remove1(&c, &r[1]); /* the head of the group */
	CHECK(lookup(&c, &k) == &r[3].cr);
	remove1(&c, &r[0]); /* the tail */
	CHECK(lookup(&c, &k) == &r[3].cr);
	remove1(&c, &r[3]);
	CHECK(lookup(&c, &k) == &r[2].cr);
	/* a new highest one goes in front */
	set_rule(&r[1], &k, &m, 60);
	insert1(&c, &r[1]);
	CHECK(lookup(&c, &k) == &r[1].cr);
	remove1(&c, &r[1]);
	remove1(&c, &r[2]);
	CHECK(lookup(&c, &k) == NULL);
	cls_destroy(&c);
}

/* Many rules in one subtable, removed and added again: tombstones, growth,
 * and the slot array rebuilt under way. */
static void
churn_one_subtable(void)
{
	enum { N = 20000 };
	struct cls c;
	struct trule *r = calloc(N, sizeof(*r));
	struct sy_flow_key m;

	memset(&m, 0, sizeof(m));
	m.dl_type = 0xffff;
	m.tp_dst = 0xffff;
	m.nw_proto = 0xff;
	m.nw_dst = 0xffffffff;
	cls_init(&c);
	for (int i = 0; i < N; i++) {
		struct sy_flow_key k = ip_pkt(0, (uint32_t)i / 1000, (uint16_t)(i % 1000));

		set_rule(&r[i], &k, &m, (uint16_t)(i % 7));
		insert(&c, &r[i]);
	}
	cls_publish(&c);
	CHECK_EQ(c.n_rules, N);
	for (int i = 0; i < N; i += 2)
		cls_remove(&c, &r[i].cr), r[i].in = false;
	cls_publish(&c);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i += 2) { /* add back, remove again */
			insert(&c, &r[i]);
			if (i % 4 == 0)
				cls_remove(&c, &r[i].cr), r[i].in = false;
		}
		cls_publish(&c);
		rcu_commit();
		rcu_poll();
		for (int i = 0; i < N; i += 2)
			if (r[i].in)
				cls_remove(&c, &r[i].cr), r[i].in = false;
		cls_publish(&c);
	}
	for (int i = 0; i < N; i++) {
		struct sy_flow_key k = ip_pkt(5, (uint32_t)i / 1000, (uint16_t)(i % 1000));
		const struct cls_rule *hit = lookup(&c, &k);

		if (i % 2)
			CHECK(hit == &r[i].cr);
		else
			CHECK(hit == NULL);
	}
	cls_destroy(&c);
	rcu_sync();
	free(r);
}

/* 33 prefix lengths x 8 port masks: 264 subtables; the longest prefix at
 * the highest priority wins, whatever the insertion order. */
static void
many_masks(void)
{
	enum { NP = 33, NT = 8 };
	struct cls c;
	static struct trule r[NP * NT];
	int n = 0;

	cls_init(&c);
	for (int t = NT - 1; t >= 0; t--)
		for (int p = 0; p < NP; p++) {
			struct sy_flow_key m = mask_dst(p);
			struct sy_flow_key k = ip_pkt(0, 0xc0a80101, 0x1234);

			m.nw_proto = 0xff;
			m.tp_dst = (uint16_t)(0xffff << t);
			/* priority: longer prefix first, then longer port mask */
			set_rule(&r[n], &k, &m, (uint16_t)(p * NT + (NT - 1 - t)));
			insert(&c, &r[n]);
			n++;
		}
	cls_publish(&c);
	CHECK_EQ(c.n_subtables, NP * NT);

	struct sy_flow_key k = ip_pkt(0, 0xc0a80101, 0x1234);
	const struct cls_rule *hit = lookup(&c, &k);

	CHECK(hit != NULL);
	CHECK_EQ(hit ? hit->priority : 0, (NP - 1) * NT + NT - 1);
	k.nw_dst = 0xc0a80100; /* /31 and shorter */
	hit = lookup(&c, &k);
	CHECK_EQ(hit ? hit->priority : 0, 31 * NT + NT - 1);
	k.tp_dst = 0x1235; /* now the exact port mask fails */
	hit = lookup(&c, &k);
	CHECK_EQ(hit ? hit->priority : 0, 31 * NT + NT - 2);
	k.nw_dst = 0x00000000; /* only prefix 0 */
	k.tp_dst = 0x1234;
	hit = lookup(&c, &k);
	CHECK_EQ(hit ? hit->priority : 0, 0 * NT + NT - 1);
	cls_destroy(&c);
	rcu_sync();
}

/* --- randomized cross-check --- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static struct sy_flow_key
random_key(void)
{
	struct sy_flow_key k;

	memset(&k, 0, sizeof(k));
	k.in_port = 1 + rnd() % 3;
	k.dl_type = rnd() % 4 ? 0x0800 : 0x86dd;
	k.vlan_tci = rnd() % 2 ? (uint16_t)(SY_VLAN_PRESENT | (rnd() % 3)) : 0;
	k.nw_proto = rnd() % 2 ? 6 : 17;
	k.nw_src = 0x0a000000 | (rnd() % 3) << 16 | (rnd() % 3) << 8 | rnd() % 3;
	k.nw_dst = 0x0b000000 | (rnd() % 3) << 8 | rnd() % 4;
	k.tp_src = (uint16_t)(rnd() % 4);
	k.tp_dst = (uint16_t)(rnd() % 6);
	k.metadata = rnd() % 3;
	return k;
}

static struct sy_flow_key
random_mask(void)
{
	static const uint32_t prefixes[] = { 0, 0xff000000, 0xffff0000, 0xffffff00, 0xffffffff };
	struct sy_flow_key m;

	memset(&m, 0, sizeof(m));
	if (rnd() % 3 == 0)
		m.in_port = 0xffffffff;
	if (rnd() % 2)
		m.dl_type = 0xffff;
	if (rnd() % 4 == 0)
		m.vlan_tci = rnd() % 2 ? 0xffff : SY_VLAN_PRESENT;
	if (rnd() % 2)
		m.nw_proto = 0xff;
	m.nw_src = prefixes[rnd() % 5];
	m.nw_dst = prefixes[rnd() % 5];
	if (rnd() % 3 == 0)
		m.tp_src = 0xffff;
	if (rnd() % 2)
		m.tp_dst = rnd() % 2 ? 0xffff : 0xfffe;
	if (rnd() % 5 == 0)
		m.metadata = 0xff;
	return m;
}

static bool
matches(const struct trule *r, const struct sy_flow_key *k)
{
	const uint64_t *kk = (const uint64_t *)k, *m = (const uint64_t *)&r->mask;
	const uint64_t *rk = (const uint64_t *)&r->cr.key;

	for (unsigned int i = 0; i < SY_FLOW_KEY_WORDS; i++)
		if ((kk[i] & m[i]) != rk[i])
			return false;
	return true;
}

static int cross_hits; /* packets that matched something: the test bites */

static int
cross_check(const struct cls *c, const struct trule *r, int n, int n_pkts)
{
	int bad = 0;

	for (int p = 0; p < n_pkts; p++) {
		struct sy_flow_key k = random_key();
		const struct cls_rule *hit = lookup(c, &k);
		int best = -1;

		for (int i = 0; i < n; i++)
			if (r[i].in && matches(&r[i], &k) && r[i].cr.priority > best)
				best = r[i].cr.priority;
		cross_hits += hit != NULL;
		if (hit == NULL ? best != -1
				: (hit->priority != best ||
				   !matches(container_of(hit, const struct trule, cr), &k)))
			bad++;
	}
	return bad;
}

static void
randomized_vs_linear(void)
{
	enum { N = 4000, MASKS = 40, PKTS = 4000 };
	struct sy_flow_key masks[MASKS];
	struct trule *r = calloc(N, sizeof(*r));
	struct cls c;
	int n = 0;

	for (int i = 0; i < MASKS; i++)
		masks[i] = random_mask();
	cls_init(&c);
	while (n < N) {
		struct sy_flow_key k = random_key();
		const struct sy_flow_key *m = &masks[rnd() % MASKS];
		uint16_t prio = (uint16_t)(rnd() % 2000);

		set_rule(&r[n], &k, m, prio);
		if (cls_find_exact(&c, &r[n].cr.key, m, prio))
			continue; /* identical: that would be a replace */
		insert(&c, &r[n]);
		if (n % 97 == 0)
			cls_publish(&c);
		n++;
	}
	cls_publish(&c);
	CHECK_EQ(c.n_rules, N);
	CHECK_EQ(cross_check(&c, r, N, PKTS), 0);
	CHECK(cross_hits > PKTS / 2);

	/* remove a third, check; add them back, check */
	for (int i = 0; i < N; i += 3)
		cls_remove(&c, &r[i].cr), r[i].in = false;
	cls_publish(&c);
	CHECK_EQ(cross_check(&c, r, N, PKTS), 0);
	for (int i = 0; i < N; i += 3)
		insert(&c, &r[i]);
	cls_publish(&c);
	CHECK_EQ(cross_check(&c, r, N, PKTS), 0);

	/* remove everything of the highest priorities first: the pvector has
	 * to follow subtables whose top priority falls */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < N; i++)
			if (r[i].in && r[i].cr.priority >= (pass ? 500 : 1500))
				cls_remove(&c, &r[i].cr), r[i].in = false;
		cls_publish(&c);
		CHECK_EQ(cross_check(&c, r, N, PKTS / 2), 0);
	}
	rcu_sync();
	cls_destroy(&c);
	free(r);
}

/* What cls_lookup_wc() says it consulted is enough: any key equal to the
 * packet's under wc gets the same rule (the flow cache relies on it), the
 * probes are counted, and wc only grows. */
static void
wildcards_are_sufficient(void)
{
	enum { N = 2000, MASKS = 12, PKTS = 3000 };
	struct sy_flow_key masks[MASKS];
	struct trule *r = calloc(N, sizeof(*r));
	uint64_t probes = 0;
	int bad = 0, n = 0;
	struct cls c;

	for (int i = 0; i < MASKS; i++)
		masks[i] = random_mask();
	cls_init(&c);
	while (n < N) {
		struct sy_flow_key k = random_key();
		const struct sy_flow_key *m = &masks[rnd() % MASKS];
		uint16_t prio = (uint16_t)(rnd() % 50);

		set_rule(&r[n], &k, m, prio);
		if (cls_find_exact(&c, &r[n].cr.key, m, prio))
			continue;
		insert(&c, &r[n]);
		n++;
	}
	cls_publish(&c);
	for (int p = 0; p < PKTS; p++) {
		struct sy_flow_key k = random_key(), k2 = random_key();
		uint64_t wc[SY_FLOW_KEY_WORDS] = { 0 };
		const uint64_t *kw = (const uint64_t *)&k;
		uint64_t *k2w = (uint64_t *)&k2;
		const struct cls_rule *hit = cls_lookup_wc(&c, &k, wc, &probes);

		if (hit != lookup(&c, &k))
			bad++;
		/* k2: k's bits under wc, random elsewhere */
		for (unsigned int w = 0; w < SY_FLOW_KEY_WORDS; w++)
			k2w[w] = (kw[w] & wc[w]) | (k2w[w] & ~wc[w]);
		if (lookup(&c, &k2) != hit)
			bad++;
	}
	CHECK_EQ(bad, 0);
	CHECK(probes >= PKTS);
	rcu_sync();
	cls_destroy(&c);
	free(r);
}

struct visit_ctx {
	int n;
	int removed;
	struct cls *c;
};

static void
count_cb(struct cls_rule *r, void *arg)
{
	struct visit_ctx *v = arg;

	v->n++;
	if (v->c) {
		cls_remove(v->c, r);
		v->removed++;
	}
}

/* Non-strict visiting: rules at least as specific as the filter. */
static void
visit_non_strict(void)
{
	struct cls c;
	struct trule r[4];
	struct sy_flow_key k = ip_pkt(1, 0x0a000105, 80), zero, m;
	struct visit_ctx v = { 0 };

	memset(&zero, 0, sizeof(zero));
	cls_init(&c);
	m = mask_dst(32);
	set_rule(&r[0], &k, &m, 1);
	m = mask_dst(24);
	set_rule(&r[1], &k, &m, 1);
	m = mask_dst(16);
	set_rule(&r[2], &k, &m, 1);
	k.nw_dst = 0x0b000001;
	m = mask_dst(32);
	set_rule(&r[3], &k, &m, 1);
	for (int i = 0; i < 4; i++)
		insert(&c, &r[i]);
	cls_publish(&c);

	cls_visit(&c, &zero, &zero, count_cb, &v); /* everything */
	CHECK_EQ(v.n, 4);
	v.n = 0;
	k.nw_dst = 0x0a000100; /* 10.0.1.0/24: the /32 and the /24 */
	m = mask_dst(24);
	sy_flow_key_apply_mask(&k, &m); /* a filter's key is masked */
	cls_visit(&c, &k, &m, count_cb, &v);
	CHECK_EQ(v.n, 2);
	v.n = 0;
	k.nw_dst = 0x0a000000; /* 10.0.0.0/8: the /32, /24, /16 of 10/8 */
	m = mask_dst(8);
	sy_flow_key_apply_mask(&k, &m);
	v.c = &c; /* and remove them while visiting */
	cls_visit(&c, &k, &m, count_cb, &v);
	CHECK_EQ(v.n, 3);
	CHECK_EQ(v.removed, 3);
	cls_publish(&c);
	CHECK_EQ(c.n_rules, 1);
	k = ip_pkt(1, 0x0a000105, 80);
	CHECK(lookup(&c, &k) == NULL);
	k.nw_dst = 0x0b000001;
	CHECK(lookup(&c, &k) == &r[3].cr);
	rcu_sync();
	cls_destroy(&c);
}

int
main(void)
{
	rcu_init(NULL); /* no forwarding lcore: grace periods end at once */
	RUN(empty);
	RUN(priorities_across_masks);
	RUN(same_mask_same_key);
	RUN(churn_one_subtable);
	RUN(many_masks);
	RUN(randomized_vs_linear);
	RUN(wildcards_are_sufficient);
	RUN(visit_non_strict);
	rcu_sync();
	return sy_test_summary();
}
