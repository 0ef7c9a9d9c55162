/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * classifier.c — tuple space search with RCU readers (see classifier.h).
 */
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "classifier.h"

#define KEY_WORDS SY_FLOW_KEY_WORDS
#define SLOTS_MIN 8
#define NO_SLOT UINT32_MAX

/* A deleted slot: probing goes on past it. */
static struct cls_rule tombstone;
#define TOMB (&tombstone)

static inline uint64_t
rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* Hash of key & mask over the subtable's words (murmur3-style mixing). */
static inline uint32_t
st_hash(const struct cls_subtable *st, const uint64_t *k)
{
	const uint64_t *m = (const uint64_t *)&st->mask;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ st->n_words;

	for (unsigned int i = 0; i < st->n_words; i++) {
		unsigned int w = st->words[i];
		uint64_t v = (k[w] & m[w]) * 0x87c37b91114253d5ull;

		v = rotl64(v, 31) * 0x4cf5ad432745937full;
		h ^= v;
		h = rotl64(h, 27) * 5 + 0x52dce729;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h;
}

/* Whether key & mask equals the rule's (masked) key. */
static inline bool
st_match(const struct cls_subtable *st, const struct cls_rule *r, const uint64_t *k)
{
	const uint64_t *m = (const uint64_t *)&st->mask;
	const uint64_t *rk = (const uint64_t *)&r->key;

	for (unsigned int i = 0; i < st->n_words; i++) {
		unsigned int w = st->words[i];

		if ((k[w] & m[w]) != rk[w])
			return false;
	}
	return true;
}

/* --- lookup (forwarding lcores) --- */

static inline const struct cls_rule *
st_lookup(const struct cls_subtable *st, const uint64_t *k)
{
	const struct cls_slots *sl = rcu_load(&st->slots);
	uint32_t h = st_hash(st, k);

	for (uint32_t i = h & sl->mask;; i = (i + 1) & sl->mask) {
		const struct cls_rule *r = rcu_load(&sl->s[i].r);

		if (r == NULL)
			return NULL;
		if (r != TOMB && __atomic_load_n(&sl->s[i].hash, __ATOMIC_RELAXED) == h &&
		    st_match(st, r, k))
			return r;
	}
}

const struct cls_rule *
cls_lookup(const struct cls *c, const struct sy_flow_key *key)
{
	const struct cls_pvec *pv = rcu_load(&c->pvec);
	const struct cls_rule *best = NULL;

	if (pv == NULL)
		return NULL;
	for (uint32_t i = 0; i < pv->n; i++) {
		const struct cls_rule *r;

		/* Sorted by (an upper bound of) their top priority: nothing
		 * further on can beat what we have. */
		if (best && pv->e[i].pri <= best->priority)
			break;
		r = st_lookup(pv->e[i].st, (const uint64_t *)key);
		if (r && (best == NULL || r->priority > best->priority))
			best = r;
	}
	return best;
}

const struct cls_rule *
cls_lookup_wc(const struct cls *c, const struct sy_flow_key *key, uint64_t *wc,
	      uint64_t *probes)
{
	const struct cls_pvec *pv = rcu_load(&c->pvec);
	const struct cls_rule *best = NULL;
	uint32_t i;

	if (pv == NULL)
		return NULL;
	for (i = 0; i < pv->n; i++) {
		const struct cls_subtable *st = pv->e[i].st;
		const uint64_t *m = (const uint64_t *)&st->mask;
		const struct cls_rule *r;

		if (best && pv->e[i].pri <= best->priority)
			break;
		/* Whatever this subtable answers depends on these bits. */
		if (wc)
			for (unsigned int j = 0; j < st->n_words; j++)
				wc[st->words[j]] |= m[st->words[j]];
		r = st_lookup(st, (const uint64_t *)key);
		if (r && (best == NULL || r->priority > best->priority))
			best = r;
	}
	*probes += i;
	return best;
}

/* --- writer side (main lcore) --- */

/* Tells masks apart (equal hashes are compared whole): a sum of the
 * words, each weighted, so that the loads and multiplies run in parallel. */
static uint32_t
mask_hash(const struct sy_flow_key *mask)
{
	const uint64_t *m = (const uint64_t *)mask;
	uint64_t h = 0;

	for (unsigned int i = 0; i < KEY_WORDS; i++)
		h += (m[i] ^ (m[i] >> 29)) * (0x9e3779b97f4a7c15ull + 2 * i);
	return (uint32_t)(h ^ (h >> 32));
}

static struct cls_subtable *
find_subtable(const struct cls *c, const struct sy_flow_key *mask)
{
	uint32_t mh = mask_hash(mask);

	for (struct cls_subtable *st = c->subtables; st; st = st->next)
		if (st->mask_hash == mh && memcmp(&st->mask, mask, sizeof(*mask)) == 0)
			return st;
	return NULL;
}

static struct cls_slots *
slots_alloc(uint32_t cap)
{
	struct cls_slots *sl = calloc(1, sizeof(*sl) + cap * sizeof(sl->s[0]));

	if (sl)
		sl->mask = cap - 1;
	return sl;
}

static void
slots_free_rcu(struct rcu_head *h)
{
	free(container_of(h, struct cls_slots, rcu));
}

static void
subtable_free(struct cls_subtable *st)
{
	free(st->slots);
	free(st);
}

static void
subtable_free_rcu(struct rcu_head *h)
{
	subtable_free(container_of(h, struct cls_subtable, rcu));
}

static void
pvec_free_rcu(struct rcu_head *h)
{
	free(container_of(h, struct cls_pvec, rcu));
}

static struct cls_subtable *
subtable_create(const struct sy_flow_key *mask)
{
	struct cls_subtable *st = calloc(1, sizeof(*st));
	const uint64_t *m = (const uint64_t *)mask;

	if (st == NULL)
		return NULL;
	st->slots = slots_alloc(SLOTS_MIN);
	if (st->slots == NULL) {
		free(st);
		return NULL;
	}
	st->mask = *mask;
	for (unsigned int i = 0; i < KEY_WORDS; i++)
		if (m[i])
			st->words[st->n_words++] = (uint8_t)i;
	st->mask_hash = mask_hash(mask);
	st->max_pri = -1;
	return st;
}

/* The slot holding the group of (hash, key), or NO_SLOT; *free_pos gets the
 * first tombstone or empty slot on the way, where the group would go. */
static uint32_t
slot_probe(const struct cls_subtable *st, uint32_t h, const struct sy_flow_key *key,
	   uint32_t *free_pos)
{
	const struct cls_slots *sl = st->slots;
	uint32_t first_free = NO_SLOT;

	for (uint32_t i = h & sl->mask;; i = (i + 1) & sl->mask) {
		const struct cls_rule *r = sl->s[i].r;

		if (r == NULL) {
			if (free_pos)
				*free_pos = first_free != NO_SLOT ? first_free : i;
			return NO_SLOT;
		}
		if (r == TOMB) {
			if (first_free == NO_SLOT)
				first_free = i;
			continue;
		}
		if (sl->s[i].hash == h && st_match(st, r, (const uint64_t *)key))
			return i;
	}
}

/* Rebuilds the slot array aside with room for want groups (no tombstones)
 * and swaps it in. */
static int
slots_rebuild(struct cls_subtable *st, uint32_t want)
{
	struct cls_slots *old = st->slots, *sl;
	uint32_t cap = SLOTS_MIN;

	while (cap < 2 * (uint64_t)want)
		cap *= 2;
	sl = slots_alloc(cap);
	if (sl == NULL)
		return -1;
	for (uint32_t i = 0; i <= old->mask; i++) {
		struct cls_rule *r = old->s[i].r;
		uint32_t j;

		if (r == NULL || r == TOMB)
			continue;
		for (j = r->hash & sl->mask; sl->s[j].r; j = (j + 1) & sl->mask)
			;
		sl->s[j] = old->s[i];
	}
	rcu_store(&st->slots, sl);
	st->n_tomb = 0;
	rcu_defer(&old->rcu, slots_free_rcu);
	return 0;
}

static int
pvec_reserve(struct cls *c)
{
	struct cls_pvec *pv;
	uint32_t cap;

	if (c->spare && c->spare->cap >= c->n_subtables)
		return 0;
	cap = c->n_subtables < 8 ? 8 : c->n_subtables * 2;
	pv = malloc(sizeof(*pv) + cap * sizeof(pv->e[0]));
	if (pv == NULL)
		return -1;
	pv->cap = cap;
	pv->n = 0;
	free(c->spare);
	c->spare = pv;
	return 0;
}

int
cls_reserve(struct cls *c, const struct sy_flow_key *mask, unsigned int n)
{
	struct cls_subtable *st = find_subtable(c, mask);

	if (st == NULL) {
		st = subtable_create(mask);
		if (st == NULL)
			return -1;
		/* Not in the pvector yet: no lookup can see it.  An unused one
		 * is freed by cls_publish(). */
		st->next = c->subtables;
		c->subtables = st;
		c->n_subtables++;
	}
	if ((uint64_t)(st->n_used + st->n_tomb + st->n_reserved + n) * 4 >
	    (uint64_t)(st->slots->mask + 1) * 3) {
		if (slots_rebuild(st, st->n_used + st->n_reserved + n) < 0)
			return -1;
	}
	if (pvec_reserve(c) < 0)
		return -1;
	st->n_reserved += n;
	return 0;
}

void
cls_insert(struct cls *c, struct cls_rule *r, const struct sy_flow_key *mask)
{
	struct cls_subtable *st = find_subtable(c, mask);
	struct cls_slots *sl = st->slots;
	uint32_t i, free_pos = NO_SLOT;

	r->st = st;
	r->hash = st_hash(st, (const uint64_t *)&r->key);
	r->group_next = NULL;
	i = slot_probe(st, r->hash, &r->key, &free_pos);
	if (i != NO_SLOT) {
		struct cls_rule *head = sl->s[i].r;

		if (r->priority > head->priority) {
			r->group_next = head;
			rcu_store(&sl->s[i].r, r);
		} else {
			struct cls_rule *p = head;

			while (p->group_next && p->group_next->priority >= r->priority)
				p = p->group_next;
			r->group_next = p->group_next;
			p->group_next = r;
		}
	} else {
		if (sl->s[free_pos].r == TOMB)
			st->n_tomb--;
		st->n_used++;
		__atomic_store_n(&sl->s[free_pos].hash, r->hash, __ATOMIC_RELAXED);
		rcu_store(&sl->s[free_pos].r, r);
	}
	if (st->n_reserved)
		st->n_reserved--;
	st->n_rules++;
	c->n_rules++;
	if ((int32_t)r->priority > st->max_pri) {
		st->max_pri = r->priority;
		st->n_at_max = 1;
		c->dirty = true;
	} else if ((int32_t)r->priority == st->max_pri) {
		st->n_at_max++;
	}
	if (!st->in_pvec)
		c->dirty = true;
}

/* Recomputes a subtable's top priority after its last rule at the top left. */
static void
rescan_max(struct cls_subtable *st)
{
	const struct cls_slots *sl = st->slots;

	st->max_pri = -1;
	st->n_at_max = 0;
	for (uint32_t i = 0; i <= sl->mask; i++) {
		const struct cls_rule *r = sl->s[i].r;

		if (r == NULL || r == TOMB)
			continue;
		for (; r; r = r->group_next) {
			if ((int32_t)r->priority > st->max_pri) {
				st->max_pri = r->priority;
				st->n_at_max = 1;
			} else if ((int32_t)r->priority == st->max_pri) {
				st->n_at_max++;
			}
		}
	}
}

void
cls_remove(struct cls *c, struct cls_rule *r)
{
	struct cls_subtable *st = r->st;
	struct cls_slots *sl = st->slots;
	uint32_t i = slot_probe(st, r->hash, &r->key, NULL);
	struct cls_rule *head = sl->s[i].r;

	if (head == r) {
		if (r->group_next) {
			rcu_store(&sl->s[i].r, r->group_next);
		} else {
			/* If the next slot is empty no probe goes past this
			 * one: it can be emptied instead of tombstoned. */
			if (sl->s[(i + 1) & sl->mask].r == NULL) {
				rcu_store(&sl->s[i].r, NULL);
			} else {
				rcu_store(&sl->s[i].r, TOMB);
				st->n_tomb++;
			}
			st->n_used--;
		}
	} else {
		struct cls_rule *p = head;

		while (p->group_next != r)
			p = p->group_next;
		p->group_next = r->group_next;
	}
	st->n_rules--;
	c->n_rules--;
	if ((int32_t)r->priority == st->max_pri && --st->n_at_max == 0) {
		rescan_max(st);
		c->dirty = true;
	}
	if (st->n_rules == 0)
		c->dirty = true;
}

static int
pvec_cmp(const void *a, const void *b)
{
	const struct cls_pvec_entry *x = a, *y = b;

	return (x->pri < y->pri) - (x->pri > y->pri);
}

void
cls_publish(struct cls *c)
{
	struct cls_subtable **pp, *st;
	struct cls_pvec *pv = NULL, *old;
	uint32_t n = 0;

	for (st = c->subtables; st; st = st->next) {
		st->n_reserved = 0;
		if (st->n_rules)
			n++;
		else if (st->in_pvec)
			c->dirty = true;
	}
	if (c->dirty) {
		if (c->spare && c->spare->cap >= n) {
			pv = c->spare;
			c->spare = NULL;
		} else {
			pv = malloc(sizeof(*pv) + (n ? n : 1) * sizeof(pv->e[0]));
			if (pv)
				pv->cap = n ? n : 1;
		}
		/* Without memory (possible only after removals, which lower
		 * priorities) the published pvector still holds upper bounds:
		 * lookups stay correct, merely slower.  Try again next time. */
	}
	if (pv) {
		pv->n = 0;
		for (st = c->subtables; st; st = st->next)
			if (st->n_rules) {
				pv->e[pv->n].pri = st->max_pri;
				pv->e[pv->n].st = st;
				pv->n++;
			}
		qsort(pv->e, pv->n, sizeof(pv->e[0]), pvec_cmp);
		old = c->pvec;
		rcu_store(&c->pvec, pv);
		if (old)
			rcu_defer(&old->rcu, pvec_free_rcu);
		c->dirty = false;
	}
	/* Drop empty subtables no lookup can reach any more. */
	for (pp = &c->subtables; (st = *pp);) {
		if (st->n_rules) {
			st->in_pvec = pv ? true : st->in_pvec;
			pp = &st->next;
			continue;
		}
		if (st->in_pvec && !pv) { /* still published */
			pp = &st->next;
			continue;
		}
		*pp = st->next;
		c->n_subtables--;
		if (st->in_pvec)
			rcu_defer(&st->rcu, subtable_free_rcu);
		else
			subtable_free(st);
	}
}

struct cls_rule *
cls_find_exact(const struct cls *c, const struct sy_flow_key *key,
	       const struct sy_flow_key *mask, uint16_t priority)
{
	const struct cls_subtable *st = find_subtable(c, mask);
	struct cls_rule *r;
	uint32_t i;

	if (st == NULL || st->n_rules == 0)
		return NULL;
	i = slot_probe(st, st_hash(st, (const uint64_t *)key), key, NULL);
	if (i == NO_SLOT)
		return NULL;
	for (r = st->slots->s[i].r; r; r = r->group_next)
		if (r->priority == priority)
			return r;
	return NULL;
}

/* Whether the subtable's mask has every bit of mask. */
static bool
mask_covers(const struct cls_subtable *st, const struct sy_flow_key *mask)
{
	const uint64_t *a = (const uint64_t *)&st->mask, *b = (const uint64_t *)mask;

	for (unsigned int i = 0; i < KEY_WORDS; i++)
		if ((a[i] & b[i]) != b[i])
			return false;
	return true;
}

static bool
key_covered(const struct cls_rule *r, const struct sy_flow_key *key,
	    const struct sy_flow_key *mask)
{
	const uint64_t *rk = (const uint64_t *)&r->key, *k = (const uint64_t *)key;
	const uint64_t *m = (const uint64_t *)mask;

	for (unsigned int i = 0; i < KEY_WORDS; i++)
		if ((rk[i] & m[i]) != k[i])
			return false;
	return true;
}

static void
visit_group(struct cls_rule *r, cls_visit_fn fn, void *arg)
{
	while (r) {
		struct cls_rule *next = r->group_next; /* fn may remove r */

		fn(r, arg);
		r = next;
	}
}

void
cls_visit(struct cls *c, const struct sy_flow_key *key, const struct sy_flow_key *mask,
	  cls_visit_fn fn, void *arg)
{
	for (struct cls_subtable *st = c->subtables; st; st = st->next) {
		struct cls_slots *sl = st->slots;

		if (st->n_rules == 0 || !mask_covers(st, mask))
			continue;
		if (memcmp(&st->mask, mask, sizeof(*mask)) == 0) {
			/* Same mask: only one group can be covered. */
			uint32_t i = slot_probe(st, st_hash(st, (const uint64_t *)key), key, NULL);

			if (i != NO_SLOT)
				visit_group(sl->s[i].r, fn, arg);
			continue;
		}
		for (uint32_t i = 0; i <= sl->mask; i++) {
			struct cls_rule *r = sl->s[i].r;

			if (r == NULL || r == TOMB || !key_covered(r, key, mask))
				continue;
			visit_group(r, fn, arg);
		}
	}
}

void
cls_init(struct cls *c)
{
	memset(c, 0, sizeof(*c));
}

void
cls_destroy(struct cls *c)
{
	struct cls_subtable *st, *next;

	for (st = c->subtables; st; st = next) {
		next = st->next;
		subtable_free(st);
	}
	free(c->pvec);
	free(c->spare);
	memset(c, 0, sizeof(*c));
}
