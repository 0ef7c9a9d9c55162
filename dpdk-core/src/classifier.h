/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * classifier.h — one flow table's rules: tuple space search under RCU.
 *
 * What?
 *   A classifier holds rules (a masked key and a priority) and finds, for a
 *   packet's flow key, the highest-priority rule that matches it.  Rules are
 *   grouped by mask into subtables; a subtable is a hash table keyed by the
 *   masked key, hashing and comparing only the words its mask covers.  A
 *   lookup visits subtables in decreasing order of the highest priority
 *   they hold (the "pvector") and stops once no remaining subtable can beat
 *   the best match so far, so its cost grows with the number of distinct
 *   masks, not of rules.  Rules of the same mask and masked key but
 *   different priorities share a hash slot: the slot points at the highest
 *   of them, which is all a lookup can ever return for that key; the others
 *   wait behind it in a list only the main lcore walks.
 *
 * Concurrency (single writer, RCU readers)
 *   Lookups run on forwarding lcores with no lock: every pointer they follow
 *   (the pvector, a subtable's slot array, a slot) is published by the main
 *   lcore with a release store, and nothing they can reach is freed before
 *   an RCU grace period (rcu.h).  A subtable's slot array is open-addressed
 *   (linear probing, deleted slots become tombstones) and is rebuilt aside
 *   and swapped when it fills; rules themselves are never moved.
 *
 * Writing in three steps, so that a batch can be all or nothing
 *   1. cls_reserve() for every rule about to be inserted: creates the
 *      subtable aside if the mask is new (invisible to lookups), grows its
 *      slot array, reserves room in the next pvector.  This is the only
 *      step that allocates, and what it does is invisible to lookups, so a
 *      failure needs no undo.
 *   2. cls_insert() / cls_remove(): cannot fail.  A rule inserted into a
 *      subtable already visible takes effect at once; one in a new subtable,
 *      or one that raises a subtable's top priority, at step 3.
 *   3. cls_publish(): drops unused reservations and subtables left empty,
 *      re-sorts and publishes the pvector (a single atomic store).  Called
 *      after a failed batch too.
 *   A rule's key, mask and priority never change while it is inserted.
 *
 * Threads
 *   cls_lookup(), cls_lookup_wc(): any forwarding lcore, between two
 *   quiescent-state reports.
 *   Everything else: the main lcore.
 */
#ifndef SY_CLASSIFIER_H
#define SY_CLASSIFIER_H

#include <stdbool.h>
#include <stdint.h>

#include <switchyard/flow.h>

#include "rcu.h"

struct cls_subtable;

/* A rule; embedded by its owner (the flow table), which frees it. */
struct cls_rule {
	uint32_t hash;          /* of key, over its subtable's words */
	uint16_t priority;
	uint16_t pad;
	struct sy_flow_key key; /* already masked */
	/* main lcore only */
	struct cls_rule *group_next; /* same masked key, lower priority */
	struct cls_subtable *st;
};

/* A slot: the head of a group of rules, and its hash, so that probing
 * reads no rule whose hash differs (a rule is a cache miss of its own).
 * Writers store hash before r; readers load r (acquire) before hash. */
struct cls_slot {
	struct cls_rule *r;
	uint32_t hash;
	uint32_t pad;
};

struct cls_slots {
	struct rcu_head rcu;
	uint32_t mask; /* capacity - 1 (capacity is a power of two) */
	struct cls_slot s[];
};

struct cls_subtable {
	/* read by lookups */
	struct sy_flow_key mask;
	struct cls_slots *slots;
	uint8_t n_words;
	uint8_t words[SY_FLOW_KEY_WORDS]; /* indexes of the non-zero mask words */
	/* main lcore only */
	struct cls_subtable *next;
	uint32_t mask_hash;
	uint32_t n_rules;
	uint32_t n_used;     /* slots holding a group */
	uint32_t n_tomb;     /* tombstones */
	uint32_t n_reserved; /* inserts promised room by cls_reserve() */
	int32_t max_pri;     /* -1 when empty */
	uint32_t n_at_max;   /* rules at max_pri */
	bool in_pvec;        /* lookups may reach it */
	struct rcu_head rcu;
};

struct cls_pvec {
	struct rcu_head rcu;
	uint32_t n;
	uint32_t cap;
	struct cls_pvec_entry {
		int32_t pri; /* >= the highest priority in st */
		struct cls_subtable *st;
	} e[];
};

struct cls {
	struct cls_pvec *pvec; /* read by lookups */
	/* main lcore only */
	struct cls_subtable *subtables;
	uint32_t n_subtables;
	uint32_t n_rules;
	struct cls_pvec *spare; /* room for the next publication */
	bool dirty;             /* the published pvector is out of date */
};

void cls_init(struct cls *c);

/* Frees the subtables and pvectors (not the rules) at once: only when no
 * lookup can be running. */
void cls_destroy(struct cls *c);

/* The highest-priority rule matching key, or NULL.  Among rules of equal
 * priority in different subtables, which one wins is unspecified. */
const struct cls_rule *cls_lookup(const struct cls *c, const struct sy_flow_key *key);

/* cls_lookup() that also ORs into wc (SY_FLOW_KEY_WORDS words, or NULL) the mask of
 * every subtable it probed, and adds their number to *probes.  Any key equal
 * to key under wc gets the same answer from the same classifier: this is
 * what makes the answer cacheable (flow_cache.h, "Megaflows"). */
const struct cls_rule *cls_lookup_wc(const struct cls *c, const struct sy_flow_key *key,
				     uint64_t *wc, uint64_t *probes);

/* Promises room for n more rules with mask.  Returns 0, or -1 (out of
 * memory) leaving nothing a lookup can see changed. */
int cls_reserve(struct cls *c, const struct sy_flow_key *mask, unsigned int n);

/* Inserts r (r->key masked, r->priority set) under mask, for which room was
 * reserved.  No rule of identical key, mask and priority may be present. */
void cls_insert(struct cls *c, struct cls_rule *r, const struct sy_flow_key *mask);

/* Removes r; its owner may free it after an RCU grace period. */
void cls_remove(struct cls *c, struct cls_rule *r);

/* Ends a round of changes (see above).  Never fails. */
void cls_publish(struct cls *c);

/* The rule of identical masked key, mask and priority, or NULL. */
struct cls_rule *cls_find_exact(const struct cls *c, const struct sy_flow_key *key,
				const struct sy_flow_key *mask, uint16_t priority);

static inline const struct sy_flow_key *
cls_rule_mask(const struct cls_rule *r)
{
	return &((const struct cls_subtable *)r->st)->mask;
}

/* Calls fn on every rule whose mask is at least as specific as mask and
 * whose key, masked with mask, equals key (OpenFlow's non-strict match; an
 * all-zero mask visits everything).  fn may remove the rule it is given. */
typedef void (*cls_visit_fn)(struct cls_rule *r, void *arg);
void cls_visit(struct cls *c, const struct sy_flow_key *key,
	       const struct sy_flow_key *mask, cls_visit_fn fn, void *arg);

#endif /* SY_CLASSIFIER_H */
