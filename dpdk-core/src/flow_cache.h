/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow_cache.h — the per-lcore megaflow cache in front of the tables.
 *
 * What?
 *   The first packet of a flow walks the table cascade (pipeline.c,
 *   classifier.h); what that walk found — which entry it hit in which
 *   table, in order, misses included — is remembered here, so that later
 *   packets of the flow skip every classifier lookup.  Only "which entries,
 *   in which order" is cached: the entries' action lists are still run on
 *   every packet, read through ft_flow.acts at that moment (so new actions
 *   of a MODIFY take effect at once), and they still rewrite the packet and
 *   its key between tables, decrement TTLs and drop.
 *
 * Megaflows
 *   An entry does not stand for one exact key but for every key that agrees
 *   with it on the bits the walk consulted (as Open vSwitch's megaflows): the
 *   union, over every table visited, of the masks of every classifier
 *   subtable probed (cls_lookup_wc()), misses included.  Two keys equal on
 *   those bits probe the same subtables in the same order, get the same
 *   answer from each, and so hit the same entries.  Keys are compared under
 *   that mask, so 100K 5-tuple flows behind a /24 ACL cost one entry per
 *   /24, and the flows of an "in_port=1,actions=output:2" switch share one.
 *   Entries of the same mask share a struct fc_mask; a lookup tries the
 *   masks in order of recent hits, hashing only the words each covers.
 *
 *   Rewrites between tables.  A later table matches the key as the earlier
 *   tables' actions left it.  The union is taken over the original key's
 *   positions, which stays correct when the actions are a function of the
 *   key: set_field (all or masked bits), push_vlan, dec_ttl and
 *   write_metadata each give bits that depend only on the same bits of the
 *   original key and on the key words that decide whether they apply at
 *   all (dl_type, vlan_tci, nw_proto, nw_frag, nw_ttl: words 1 and 3).  So
 *   when an entry rewrites the key (FT_ACTS_REWRITES) and the packet goes on
 *   to another table, words 1 and 3 join the mask whole: more bits than
 *   needed, never fewer.  pop_vlan (FT_ACTS_OPAQUE) reads the next tag from
 *   the frame, which is not in the key: the cached path stops after that
 *   hop ("open" entry) and the rest is walked for every packet.  So does a
 *   path of more than FC_HOPS tables.  Key words the parser never sets
 *   (PARSE_KEY_WORDS) are left out; a mask of more than FC_KEY_WORDS other
 *   words is not cached (the packet just walks).
 *
 * Invalidation (precise and hitless)
 *   ft_clock (flow_table.h) ticks whenever a table changes in a way that
 *   can change a lookup's answer: rules added or removed (at the batch's
 *   publication), or the action list replaced on a rule whose old or new
 *   list rewrites the key and goes on to another table.  Each table keeps
 *   the tick of its last change in ft_table.changed_at.  A forwarding lcore
 *   reads the clock (acquire) before a walk and stamps the entry with it;
 *   the entry is current while every table on its path has changed_at <=
 *   stamp.  So a change invalidates exactly the entries whose path crossed
 *   that table, and nothing else: an ACL update in table 3 leaves the
 *   cached paths through tables 0-2 alone.  Action-only MODIFYs of rules
 *   that do not steer a rewritten key onward invalidate nothing.
 *
 *   Ordering.  The main lcore makes a change visible, then ticks the clock
 *   and stores changed_at (release); it frees a removed entry only after an
 *   RCU grace period that starts after that store.  An lcore checks
 *   changed_at before it dereferences an entry of a path, so it either sees
 *   the tick (and walks) or is still before its next quiescent state (and
 *   the entry is alive, merely about to go: the packet is as if it came
 *   before the change).  A walk that raced a change carries a stamp older
 *   than the change's tick and dies at its first use.  For an action list
 *   swap the main lcore ticks both before and after the store, and the
 *   lcore re-checks changed_at after running a rewriting hop, so a packet
 *   never pairs new rewrites with an old path.  A table's miss behaviour is
 *   read per packet, and a goto_table target that differs from the cached
 *   next hop sends the packet on by walking: neither needs a tick.
 *
 * Counters
 *   A hit counts cache_hits, and for each hop what a walk would have:
 *   tbl_lookups and tbl_matched of the table (the packet's logical
 *   lookups), the entry's packets, bytes and last hit.  A walk counts
 *   cache_misses, cls_lookups (tables looked up) and cls_probes (subtables
 *   probed); a packet whose cached path ends early and walks the rest counts
 *   a hit and the lookups of that rest.
 *
 * Memory
 *   One array of 128-byte entries in sets of FC_WAYS (4), where the key's
 *   hash under the mask says.  An entry's first line holds its hash, mask
 *   id and (up to 7 words of) key: a lookup prefetches the first line of
 *   the four ways, so that a burst of keys costs one trip to memory each
 *   (a separate signature array would cost two, dependent: with 100K
 *   flows both miss the CPU caches), and the second line of the one that
 *   matches while the rest of the burst is looked up.  An insert takes a
 *   free or stale way, else the oldest.  Masks beyond
 *   FC_MAX_MASKS evict the least used mask (its entries never match again:
 *   masks are named by ids that are never reused).  The array is mapped at
 *   start-up (ft_init() calls fc_create() on the main lcore) in transparent
 *   huge pages where the kernel allows, as lookups touch it at random.
 *
 * Threads
 *   A struct flow_cache belongs to one forwarding lcore: only that lcore
 *   calls the functions below, with no lock and no atomic read-modify-write;
 *   fc_create()/fc_destroy() run on the main lcore while it is stopped.
 */
#ifndef SY_FLOW_CACHE_H
#define SY_FLOW_CACHE_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_prefetch.h>

#include <switchyard/flow.h>

#include "flow_table.h"

#define FC_HOPS 4          /* tables of a cached path */
#define FC_KEY_WORDS 9     /* key words a megaflow mask may cover */
#define FC_WAYS 4
#define FC_MAX_MASKS 32
#define FC_DEFAULT_ENTRIES (1u << 21) /* 2M entries, 256 MB per lcore */

/* One megaflow: a masked key and the path its packets take.  The first
 * line holds all a lookup compares for keys of up to FC_KEY_WORDS_LINE0
 * words; the second what a hit then follows. */
#define FC_KEY_WORDS_LINE0 7
struct fc_entry {
	/* line 0 */
	uint32_t hash;    /* of the masked key; 0: unused */
	uint32_t mask_id; /* struct fc_mask.id */
	uint64_t key[FC_KEY_WORDS_LINE0]; /* the key's words under the mask... */
	/* line 1 */
	uint64_t key_more[FC_KEY_WORDS - FC_KEY_WORDS_LINE0]; /* ...and the rest */
	uint64_t stamp;   /* ft_clock before the walk */
	uint8_t n_hops;
	uint8_t open;     /* the packet may go on past the last hop: walk from there */
	uint8_t tbl[FC_HOPS];
	uint16_t pad;
	const struct ft_flow *f[FC_HOPS]; /* NULL: tbl[i] missed */
} __rte_aligned(64);
static_assert(sizeof(struct fc_entry) == 128, "an entry is two cache lines");

struct fc_mask {
	uint32_t id;      /* 0: slot unused */
	uint8_t n_words;
	uint8_t words[FC_KEY_WORDS];
	uint64_t m[FC_KEY_WORDS];
	uint64_t hits;    /* since the last ranking, halved at each */
};

struct flow_cache {
	uint32_t set_mask; /* sets - 1 */
	uint32_t n_masks;  /* order[0..n_masks) are in use */
	uint32_t next_id;
	uint32_t victim;
	uint32_t ticks;
	uint8_t order[FC_MAX_MASKS]; /* mask slots by decreasing hits */
	struct fc_mask mask[FC_MAX_MASKS];
	struct fc_entry *e; /* [sets * FC_WAYS], set by set */
};

/* What a walk found, as it goes (pipeline.c fills it). */
struct fc_path {
	uint64_t stamp;
	uint64_t wc[SY_FLOW_KEY_WORDS]; /* bits consulted */
	uint8_t n_hops;
	uint8_t open;
	uint8_t tbl[FC_HOPS];
	const struct ft_flow *f[FC_HOPS];
};

/* --- main lcore --- */

/* A cache of about n_entries entries (rounded to a power of two), or NULL
 * when out of memory. */
struct flow_cache *fc_create(unsigned int n_entries);
void fc_destroy(struct flow_cache *fc);

/* --- the owning forwarding lcore --- */

/* For each keys[i] (i < n), the entry whose megaflow holds it, or NULL.
 * Whether that entry is still current is for the caller to check
 * (fc_entry_current()), just before it follows the path. */
void fc_lookup_burst(struct flow_cache *fc, struct sy_flow_key *const *keys, unsigned int n,
		     struct fc_entry **out);

/* Remembers path for every key equal to key under path->wc; does nothing
 * if that mask is too wide.  Never fails, never allocates. */
void fc_insert(struct flow_cache *fc, const struct sy_flow_key *key, const struct fc_path *path);

/* Forgets e (stale, or found wrong on the way). */
static inline void
fc_kill(struct flow_cache *fc, struct fc_entry *e)
{
	RTE_SET_USED(fc);
	e->hash = 0;
}

/* Whether no table on e's path has changed since e was made. */
static inline bool
fc_entry_current(const struct fc_entry *e)
{
	for (unsigned int i = 0; i < e->n_hops; i++)
		if (ft_table_changed_since(e->tbl[i], e->stamp))
			return false;
	return true;
}

/* Once per burst: re-ranks the masks now and then. */
void fc_tick(struct flow_cache *fc);

#endif /* SY_FLOW_CACHE_H */
