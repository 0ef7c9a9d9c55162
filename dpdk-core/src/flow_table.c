/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow_table.c — flow entries, all-or-nothing flow-mod batches, dumps,
 * table settings and timeouts (see flow_table.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include <rte_log.h>

#include "dataplane.h"
#include "datapath.h"
#include "flow_table.h"
#include "groups.h"
#include "meters.h"
#include "ports.h"
#include "stats.h"

struct ft_table ft_tables[SY_MAX_TABLES];
uint64_t ft_clock;

static uint32_t n_flows_total;
static uint32_t max_flows_total;
static uint32_t batch_gen;
static struct ft_flow *timed; /* entries with an idle or hard timeout */

static const struct sy_flow_key zero_key;

/* --- the change clock (flow_cache.h, "Invalidation") --- */

/* Table t changed in a way a lookup may see: after the change is visible,
 * before anything it retired can be freed. */
static void
table_tick(unsigned int t)
{
	uint64_t now = ft_clock + 1;

	__atomic_store_n(&ft_clock, now, __ATOMIC_RELEASE);
	__atomic_store_n(&ft_tables[t].changed_at, now, __ATOMIC_RELEASE);
}

/* --- entries and action lists --- */

static uint8_t
acts_flags(const struct sy_action *a, uint16_t n)
{
	uint8_t flags = 0;

	for (unsigned int i = 0; i < n; i++) {
		switch (a[i].type) {
		case SY_ACT_OUTPUT:
		case SY_ACT_CONTROLLER:
		case SY_ACT_MIRROR:
		case SY_ACT_GROUP:
		case SY_ACT_SET_QUEUE:
			break;
		case SY_ACT_METER: /* a remark band rewrites nw_tos, by time, not by key */
			flags |= FT_ACTS_REWRITES | FT_ACTS_OPAQUE;
			break;
		case SY_ACT_GOTO_TABLE:
			flags |= FT_ACTS_GOTO;
			break;
		case SY_ACT_SET_FIELD:
		case SY_ACT_PUSH_VLAN:
		case SY_ACT_DEC_TTL:
		case SY_ACT_WRITE_METADATA:
			flags |= FT_ACTS_REWRITES;
			break;
		default: /* pop_vlan reads the next tag from the frame, as
			  * push_nsh, pop_nsh and dec_nsh_ttl (nsh.h) do; and
			  * anything new is assumed to, until it says otherwise */
			flags |= FT_ACTS_REWRITES | FT_ACTS_OPAQUE;
			break;
		}
	}
	return flags;
}

/* Whether a rule with these actions passes a rewritten key to a later
 * table: replacing them can change what that table answers. */
static inline bool
acts_steer(const struct ft_actions *fa)
{
	return (fa->flags & (FT_ACTS_REWRITES | FT_ACTS_GOTO)) ==
	       (FT_ACTS_REWRITES | FT_ACTS_GOTO);
}

static uint32_t
acts_hash(const struct sy_action *a, uint16_t n)
{
	const uint8_t *b = (const uint8_t *)a;
	uint32_t h = 2166136261u ^ n;

	for (size_t i = 0; i < n * sizeof(*a); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static struct ft_actions *
acts_new(const struct sy_action *a, uint16_t n)
{
	struct ft_actions *fa = malloc(sizeof(*fa) + n * sizeof(fa->a[0]));

	if (fa == NULL)
		return NULL;
	fa->refs = 0;
	fa->used = 0;
	fa->n = n;
	fa->flags = acts_flags(a, n);
	fa->dup_next = NULL;
	fa->dup_hash = 0;
	memcpy(fa->a, a, n * sizeof(fa->a[0]));
	return fa;
}

static void
acts_free_rcu(struct rcu_head *h)
{
	free(container_of(h, struct ft_actions, rcu));
}

static void
acts_unref(struct ft_actions *fa)
{
	if (--fa->refs == 0)
		rcu_defer(&fa->rcu, acts_free_rcu);
}

/* Points f at fa (which readers may see at once).  When the old or the
 * new list steers a rewritten key onward, the paths cached through f's
 * table may pair the wrong rewrite with the next hop: the clock ticks
 * before the store (an lcore that sees the new list sees the tick) and
 * after it (a walk that saw the old list carries an older stamp). */
static void
acts_set(struct ft_flow *f, struct ft_actions *fa)
{
	struct ft_actions *old = f->acts;
	bool steer = old && (acts_steer(old) || acts_steer(fa));

	fa->refs++;
	fa->used = 1;
	if (steer)
		table_tick(f->table_id);
	rcu_store(&f->acts, fa);
	if (steer)
		table_tick(f->table_id);
	if (old)
		acts_unref(old);
}

static struct ft_flow *
flow_new(void)
{
	struct ft_flow *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	if (st_flow_idx_alloc(&f->ctr_idx) < 0) {
		free(f);
		return NULL;
	}
	return f;
}

/* Frees an entry no reader has ever seen. */
static void
flow_free_now(struct ft_flow *f)
{
	st_flow_idx_free(f->ctr_idx);
	free(f);
}

static void
flow_free_rcu(struct rcu_head *h)
{
	flow_free_now(container_of(h, struct ft_flow, rcu));
}

static void
counters_reset(struct ft_flow *f)
{
	struct st_flow_ctr s;

	st_flow_sum(f->ctr_idx, &s);
	f->base_packets = s.packets;
	f->base_bytes = s.bytes;
}

static void
timed_update(struct ft_flow *f)
{
	bool want = f->idle_timeout || f->hard_timeout;
	bool in = f->tprev || timed == f;

	if (want && !in) {
		f->tprev = NULL;
		f->tnext = timed;
		if (timed)
			timed->tprev = f;
		timed = f;
	} else if (!want && in) {
		if (f->tprev)
			f->tprev->tnext = f->tnext;
		else
			timed = f->tnext;
		if (f->tnext)
			f->tnext->tprev = f->tprev;
		f->tnext = f->tprev = NULL;
	}
}

static uint64_t
tsc_to_ns(uint64_t tsc)
{
	uint64_t hz = dp.tsc_hz ? dp.tsc_hz : rte_get_tsc_hz();

	return tsc / hz * 1000000000ull + tsc % hz * 1000000000ull / hz;
}

void
ft_flow_entry(const struct ft_flow *f, struct sy_flow_mod *fm)
{
	const struct ft_actions *fa = f->acts;

	memset(&fm->hdr, 0, sizeof(fm->hdr));
	fm->hdr.table_id = f->table_id;
	fm->hdr.priority = f->cr.priority;
	fm->hdr.flags = f->flags;
	fm->hdr.idle_timeout = f->idle_timeout;
	fm->hdr.hard_timeout = f->hard_timeout;
	fm->hdr.out_port = SY_PORT_ANY;
	fm->hdr.cookie = f->cookie;
	fm->key = f->cr.key;
	fm->mask = *cls_rule_mask(&f->cr);
	fm->n_actions = fa->n;
	memcpy(fm->actions, fa->a, fa->n * sizeof(fm->actions[0]));
}

static void
flow_describe(const struct ft_flow *f, struct sy_flow_mod *fm, struct sy_flow_stats *st,
	      uint64_t now)
{
	struct st_flow_ctr s;
	uint64_t last;

	ft_flow_entry(f, fm);

	st_flow_sum(f->ctr_idx, &s);
	st->packets = s.packets - f->base_packets;
	st->bytes = s.bytes - f->base_bytes;
	st->duration_ns = tsc_to_ns(now - f->created_tsc);
	last = s.last_tsc > f->created_tsc ? s.last_tsc : f->created_tsc;
	st->idle_ns = now > last ? tsc_to_ns(now - last) : 0;
}

/*
 * Removes f from its table; it is freed after a grace period.  An entry that
 * expired is always announced (FLOW_REMOVED): the daemon keeps the desired
 * state and must forget it.  One deleted by request is announced only with
 * send_flow_rem, as OpenFlow does, since the requester already knows.
 */
static void
flow_remove(struct ft_flow *f, int reason, bool event)
{
	struct ft_table *t = &ft_tables[f->table_id];

	if (event && (reason != SY_FR_DELETE || (f->flags & SY_FF_SEND_FLOW_REM))) {
		struct sy_flow_mod fm;
		struct sy_flow_stats st;

		flow_describe(f, &fm, &st, rte_get_tsc_cycles());
		ctl_event_flow_removed(&fm, &st, reason);
	}
	cls_remove(&t->cls, &f->cr);
	t->n_flows--;
	t->touched = 1;
	t->changed = 1;
	n_flows_total--;
	f->idle_timeout = f->hard_timeout = 0;
	timed_update(f);
	acts_unref(f->acts);
	rcu_defer(&f->rcu, flow_free_rcu);
}

static bool
cookie_ok(const struct ft_flow *f, const struct sy_flow_hdr *h)
{
	return (f->cookie & h->cookie_mask) == (h->cookie & h->cookie_mask);
}

static bool
outputs_to(const struct ft_flow *f, uint32_t port)
{
	if (port == 0 || port == SY_PORT_ANY)
		return true;
	for (unsigned int i = 0; i < f->acts->n; i++)
		if (f->acts->a[i].type == SY_ACT_OUTPUT && f->acts->a[i].arg == port)
			return true;
	return false;
}

static struct ft_flow *
find_exact(const struct sy_flow_mod *fm, unsigned int table)
{
	struct cls_rule *r = cls_find_exact(&ft_tables[table].cls, &fm->key, &fm->mask,
					    fm->hdr.priority);

	return r ? container_of(r, struct ft_flow, cr) : NULL;
}

/* Tables a mod addresses: [*lo, *hi). */
static void
table_range(const struct sy_flow_mod *fm, unsigned int *lo, unsigned int *hi)
{
	if (fm->hdr.table_id == SY_TABLE_ALL) {
		*lo = 0;
		*hi = SY_MAX_TABLES;
	} else {
		*lo = fm->hdr.table_id;
		*hi = *lo + 1u;
	}
}

/* --- pass 1: check --- */

struct check_ctx {
	const struct sy_flow_mod *fm;
	int64_t removed;   /* entries newly marked for deletion */
	bool overlap;
};

static int64_t run_count[SY_MAX_TABLES]; /* n_flows as the batch goes */
static uint32_t run_gen[SY_MAX_TABLES];

static int64_t *
running(unsigned int t)
{
	if (run_gen[t] != batch_gen) {
		run_gen[t] = batch_gen;
		run_count[t] = ft_tables[t].n_flows;
	}
	return &run_count[t];
}

static void
mark_cb(struct cls_rule *r, void *arg)
{
	struct check_ctx *cx = arg;
	struct ft_flow *f = container_of(r, struct ft_flow, cr);

	if (f->mark == batch_gen || !cookie_ok(f, &cx->fm->hdr) ||
	    !outputs_to(f, cx->fm->hdr.out_port))
		return;
	f->mark = batch_gen;
	(*running(f->table_id))--;
	cx->removed++;
}

static void
overlap_cb(struct cls_rule *r, void *arg)
{
	struct check_ctx *cx = arg;
	const uint64_t *k1 = (const uint64_t *)&r->key, *m1 = (const uint64_t *)cls_rule_mask(r);
	const uint64_t *k2 = (const uint64_t *)&cx->fm->key, *m2 = (const uint64_t *)&cx->fm->mask;

	if (cx->overlap || r->priority != cx->fm->hdr.priority)
		return;
	for (unsigned int i = 0; i < SY_FLOW_KEY_WORDS; i++)
		if ((k1[i] ^ k2[i]) & m1[i] & m2[i])
			return;
	cx->overlap = true;
}

static bool
field_supported(unsigned int field)
{
	switch (field) {
	case SY_F_TUN_ID:
		return false;
	default:
		return true;
	}
}

static int
check_mod(unsigned int i, const struct sy_flow_mod *fm, int64_t *run_total,
	  struct sy_error *err)
{
	char msg[SY_ERRMSG_MAX - 32];
	unsigned int cmd = fm->hdr.command, t = fm->hdr.table_id;

	if (sy_flow_mod_validate(fm, msg, sizeof(msg)) < 0)
		return sy_fail(err, SY_E_INVAL, "flow %u: %s", i, msg);

	if (cmd == SY_FC_ADD || cmd == SY_FC_MODIFY || cmd == SY_FC_MODIFY_STRICT) {
		for (unsigned int a = 0; a < fm->n_actions; a++) {
			const struct sy_action *act = &fm->actions[a];

			if (act->type == SY_ACT_OUTPUT && act->arg <= SY_MAX_PORT_ID &&
			    !ports_exists(act->arg))
				return sy_fail(err, SY_E_NOENT, "flow %u: output:%u, no such port",
					       i, act->arg);
			if (act->type == SY_ACT_GROUP && !grp_exists(act->arg))
				return sy_fail(err, SY_E_NOENT, "flow %u: group:%u, no such group",
					       i, act->arg);
			if (act->type == SY_ACT_METER && !meter_exists(act->arg))
				return sy_fail(err, SY_E_NOENT, "flow %u: meter:%u, no such meter",
					       i, act->arg);
			if (act->type == SY_ACT_SET_FIELD && !field_supported(act->field))
				return sy_fail(err, SY_E_UNSUPP,
					       "flow %u: set_field of %s is not supported yet", i,
					       sy_fields[act->field].name);
			if (act->type == SY_ACT_GOTO_TABLE && t == SY_TABLE_ALL)
				return sy_fail(err, SY_E_INVAL,
					       "flow %u: goto_table needs the mod to name its table",
					       i);
		}
	}

	switch (cmd) {
	case SY_FC_ADD: {
		struct ft_table *tbl = &ft_tables[t];
		struct ft_flow *ex;

		if (fm->hdr.flags & SY_FF_CHECK_OVERLAP) {
			struct check_ctx cx = { .fm = fm };

			cls_visit(&tbl->cls, &zero_key, &zero_key, overlap_cb, &cx);
			if (cx.overlap)
				return sy_fail(err, SY_E_EXIST,
					       "flow %u: overlaps an entry of priority %u in table %u",
					       i, fm->hdr.priority, t);
		}
		/* The flow limits count what the batch does as pass 1 sees it
		 * (an ADD replacing an entry that an earlier mod would change
		 * out of a delete's filter is not foreseen). */
		ex = find_exact(fm, t);
		if (ex && ex->mark != batch_gen)
			return 0; /* replaces it */
		if (++*running(t) > tbl->max_flows && tbl->max_flows)
			return sy_fail(err, SY_E_NOSPC, "flow %u: table %u is full (max_flows %u)",
				       i, t, tbl->max_flows);
		if (++*run_total > max_flows_total)
			return sy_fail(err, SY_E_NOSPC,
				       "flow %u: the switch holds its maximum of %u flows", i,
				       max_flows_total);
		return 0;
	}
	case SY_FC_DELETE:
	case SY_FC_DELETE_STRICT: {
		struct check_ctx cx = { .fm = fm };
		unsigned int lo, hi;

		table_range(fm, &lo, &hi);
		for (unsigned int tt = lo; tt < hi; tt++) {
			if (cmd == SY_FC_DELETE) {
				cls_visit(&ft_tables[tt].cls, &fm->key, &fm->mask, mark_cb, &cx);
			} else {
				struct ft_flow *ex = find_exact(fm, tt);

				if (ex)
					mark_cb(&ex->cr, &cx);
			}
		}
		*run_total -= cx.removed;
		return 0;
	}
	default:
		return 0;
	}
}

/* --- pass 2: prepare --- */

struct prep {
	struct ft_flow *flow;    /* ADD: the entry, unless it replaces one */
	struct ft_actions *acts; /* ADD, MODIFY */
	bool own;                /* acts was made for this mod (not shared) */
};

/* The batch's instruction lists by content, so that identical ones are
 * made once (open addressing over chains of equal hashes). */
struct dedup {
	struct ft_actions **slot;
	uint32_t mask;
};

static struct ft_actions *
dedup_find(struct dedup *dd, const struct sy_flow_mod *fm, uint32_t h)
{
	if (dd->slot == NULL)
		return NULL;
	for (struct ft_actions *fa = dd->slot[h & dd->mask]; fa; fa = fa->dup_next)
		if (fa->dup_hash == h && fa->n == fm->n_actions &&
		    memcmp(fa->a, fm->actions, fm->n_actions * sizeof(fa->a[0])) == 0)
			return fa;
	return NULL;
}

static void
dedup_add(struct dedup *dd, struct ft_actions *fa, uint32_t h)
{
	if (dd->slot == NULL)
		return;
	fa->dup_hash = h;
	fa->dup_next = dd->slot[h & dd->mask];
	dd->slot[h & dd->mask] = fa;
}

static int
prepare_mod(unsigned int i, const struct sy_flow_mod *fm, struct prep *p, struct dedup *dd,
	    struct sy_error *err)
{
	unsigned int cmd = fm->hdr.command;
	uint32_t h;

	if (cmd == SY_FC_DELETE || cmd == SY_FC_DELETE_STRICT)
		return 0;
	h = acts_hash(fm->actions, fm->n_actions);
	p->acts = dedup_find(dd, fm, h);
	if (p->acts == NULL) {
		p->acts = acts_new(fm->actions, fm->n_actions);
		if (p->acts == NULL)
			return sy_fail(err, SY_E_NOSPC, "flow %u: out of memory", i);
		p->own = true;
		dedup_add(dd, p->acts, h);
	}
	if (cmd != SY_FC_ADD)
		return 0;
	/* Even an ADD that pass 1 expects to replace an entry gets one: an
	 * earlier mod of the batch may yet delete what it would replace. */
	p->flow = flow_new();
	if (p->flow == NULL)
		return sy_fail(err, SY_E_NOSPC, "flow %u: out of memory or flow counters", i);
	ft_tables[fm->hdr.table_id].touched = 1;
	if (cls_reserve(&ft_tables[fm->hdr.table_id].cls, &fm->mask, 1) < 0)
		return sy_fail(err, SY_E_NOSPC, "flow %u: out of memory", i);
	return 0;
}

/* --- pass 3: apply (nothing fails from here on) --- */

struct apply_ctx {
	const struct sy_flow_mod *fm;
	struct ft_actions *acts;
	uint32_t changed;
};

static void
modify_one(struct ft_flow *f, struct apply_ctx *ax)
{
	if (!cookie_ok(f, &ax->fm->hdr))
		return;
	acts_set(f, ax->acts);
	if (ax->fm->hdr.flags & SY_FF_RESET_COUNTS)
		counters_reset(f);
	ax->changed++;
}

static void
modify_cb(struct cls_rule *r, void *arg)
{
	modify_one(container_of(r, struct ft_flow, cr), arg);
}

static void
delete_one(struct ft_flow *f, struct apply_ctx *ax)
{
	if (!cookie_ok(f, &ax->fm->hdr) || !outputs_to(f, ax->fm->hdr.out_port))
		return;
	flow_remove(f, SY_FR_DELETE, true);
	ax->changed++;
}

static void
delete_cb(struct cls_rule *r, void *arg)
{
	delete_one(container_of(r, struct ft_flow, cr), arg);
}

static void
set_from_mod(struct ft_flow *f, const struct sy_flow_mod *fm, uint64_t now)
{
	f->cookie = fm->hdr.cookie;
	f->flags = fm->hdr.flags;
	f->idle_timeout = fm->hdr.idle_timeout;
	f->hard_timeout = fm->hdr.hard_timeout;
	f->created_tsc = now;
	timed_update(f);
}

/* A modify or delete, in table t only. */
static void
apply_in_table(const struct sy_flow_mod *fm, unsigned int t, bool modify, bool strict,
	       struct apply_ctx *ax)
{
	struct ft_flow *f;

	if (ft_tables[t].cls.n_rules == 0)
		return;
	if (strict) {
		f = find_exact(fm, t);
		if (f && modify)
			modify_one(f, ax);
		else if (f)
			delete_one(f, ax);
	} else {
		cls_visit(&ft_tables[t].cls, &fm->key, &fm->mask, modify ? modify_cb : delete_cb,
			  ax);
	}
}

static uint32_t
apply_mod(const struct sy_flow_mod *fm, struct prep *p, uint64_t now)
{
	struct apply_ctx ax = { .fm = fm, .acts = p->acts };
	unsigned int lo, hi, t = fm->hdr.table_id;
	struct ft_flow *f;

	switch (fm->hdr.command) {
	case SY_FC_ADD:
		f = find_exact(fm, t);
		if (f) { /* replace */
			acts_set(f, p->acts);
			set_from_mod(f, fm, now);
			if (fm->hdr.flags & SY_FF_RESET_COUNTS)
				counters_reset(f);
			return 1;
		}
		f = p->flow;
		p->flow = NULL;
		f->cr.key = fm->key;
		f->cr.priority = fm->hdr.priority;
		f->table_id = (uint8_t)t;
		set_from_mod(f, fm, now);
		counters_reset(f); /* the index may have served another entry */
		acts_set(f, p->acts);
		cls_insert(&ft_tables[t].cls, &f->cr, &fm->mask);
		ft_tables[t].n_flows++;
		ft_tables[t].touched = 1;
		ft_tables[t].changed = 1;
		n_flows_total++;
		return 1;
	case SY_FC_MODIFY:
	case SY_FC_MODIFY_STRICT:
	case SY_FC_DELETE:
	case SY_FC_DELETE_STRICT: {
		bool modify = fm->hdr.command == SY_FC_MODIFY ||
			      fm->hdr.command == SY_FC_MODIFY_STRICT;
		bool strict = fm->hdr.command == SY_FC_MODIFY_STRICT ||
			      fm->hdr.command == SY_FC_DELETE_STRICT;

		table_range(fm, &lo, &hi);
		for (t = lo; t < hi; t++)
			apply_in_table(fm, t, modify, strict, &ax);
		return ax.changed;
	}
	}
	return 0;
}

/* Makes table t's changes visible to lookups that were not yet (new
 * subtables, the order of the subtables; entries of existing subtables are
 * visible from the moment they are inserted). */
static void
publish(unsigned int t)
{
	if (!ft_tables[t].touched)
		return;
	cls_publish(&ft_tables[t].cls);
	ft_tables[t].touched = 0;
	if (ft_tables[t].changed)
		table_tick(t);
	ft_tables[t].changed = 0;
}

/* Every table with changes, highest first (see apply_by_table()). */
static void
publish_all(void)
{
	for (unsigned int t = SY_MAX_TABLES; t-- > 0;)
		publish(t);
}

static void apply_deletes_by_table(const struct sy_flow_mod *mods, unsigned int n,
				   uint32_t *n_changed);

/* A batch that spans tables is made visible so that no packet meets half
 * of it on its way through the tables.
 *
 * Additions (a cascade being installed: table 0's new goto_table:1 and
 * table 1's new entries) are applied and published table by table, highest
 * first.  A packet walks the tables upwards, so one that meets a new entry
 * of table t finds the batch already in every table after t: it never takes
 * a new goto into a table without its new entries (table_miss drops in an
 * install meant to be hitless).  It may see an old table t and new later
 * ones, which for additions is the old path.
 *
 * Deletions (a cascade being removed) go the other way: table by table,
 * lowest first, and between two tables a grace period (every packet that
 * could have seen the old table t has left the tables) before table t+1
 * loses the entries it may have been going to.
 *
 * Order within a table is kept, and additions (or deletions) in different
 * tables do not interact, so the result is the batch's.  Returns false,
 * having applied nothing, for a batch that fits in one table or mixes kinds
 * of mod (whose order is the caller's: it is applied as given), or without
 * memory. */
static bool
apply_by_table(const struct sy_flow_mod *mods, struct prep *prep, unsigned int n,
	       uint64_t now, uint32_t *n_changed)
{
	uint32_t next[SY_MAX_TABLES] = { 0 }, pos = 0;
	bool adds = mods[0].hdr.command == SY_FC_ADD, one_table = true;
	uint32_t *order;

	for (unsigned int i = 0; i < n; i++) {
		unsigned int cmd = mods[i].hdr.command;

		if (adds ? cmd != SY_FC_ADD : cmd != SY_FC_DELETE && cmd != SY_FC_DELETE_STRICT)
			return false;
		one_table &= mods[i].hdr.table_id == mods[0].hdr.table_id &&
			     mods[i].hdr.table_id != SY_TABLE_ALL;
		if (adds)
			next[mods[i].hdr.table_id]++;
	}
	if (one_table)
		return false;
	if (!adds)
		return apply_deletes_by_table(mods, n, n_changed), true;

	order = malloc(n * sizeof(*order));
	if (order == NULL)
		return false;
	/* a counting sort by table, descending, stable within a table */
	for (unsigned int t = SY_MAX_TABLES; t-- > 0;) {
		uint32_t count = next[t];

		next[t] = pos;
		pos += count;
	}
	for (unsigned int i = 0; i < n; i++)
		order[next[mods[i].hdr.table_id]++] = i;
	for (unsigned int k = 0; k < n; k++) {
		unsigned int i = order[k];

		*n_changed += apply_mod(&mods[i], &prep[i], now);
		if (k + 1 == n || mods[order[k + 1]].hdr.table_id != mods[i].hdr.table_id)
			publish(mods[i].hdr.table_id);
	}
	free(order);
	return true;
}

/* The deletions of apply_by_table(): lowest table first, a grace period
 * after each table that lost entries before the next one loses any. */
static void
apply_deletes_by_table(const struct sy_flow_mod *mods, unsigned int n, uint32_t *n_changed)
{
	bool wait = false;

	for (unsigned int t = 0; t < SY_MAX_TABLES; t++) {
		struct apply_ctx ax = { .changed = 0 };

		if (ft_tables[t].cls.n_rules == 0)
			continue;
		for (unsigned int i = 0; i < n; i++) {
			unsigned int lo, hi;

			table_range(&mods[i], &lo, &hi);
			if (t < lo || t >= hi)
				continue;
			if (wait) { /* once, before this table's first deletion */
				rcu_sync();
				wait = false;
			}
			ax.fm = &mods[i];
			apply_in_table(&mods[i], t, false,
				       mods[i].hdr.command == SY_FC_DELETE_STRICT, &ax);
		}
		if (ax.changed) {
			publish(t);
			*n_changed += ax.changed;
			wait = true;
		}
	}
}

int
dp_flow_mod(const struct sy_flow_mod *mods, unsigned int n, uint32_t *n_changed,
	    struct sy_error *err)
{
	struct prep *prep;
	struct dedup dd = { 0 };
	int64_t run_total = n_flows_total;
	uint64_t now;
	int rc = 0;

	*n_changed = 0;
	if (n == 0)
		return 0;
	prep = calloc(n, sizeof(*prep));
	if (prep == NULL)
		return sy_fail(err, SY_E_NOSPC, "out of memory for a batch of %u flow-mods", n);
	/* Without memory for it, no sharing: each mod gets its own list. */
	for (dd.mask = 63; dd.mask < n; dd.mask = dd.mask * 2 + 1)
		;
	dd.slot = calloc(dd.mask + 1, sizeof(dd.slot[0]));

	batch_gen++;
	/* Passes 1 and 2 go together, mod by mod (one read of each mod while
	 * it is in cache): preparing changes nothing a later check sees. */
	for (unsigned int i = 0; i < n && rc == 0; i++) {
		rc = check_mod(i, &mods[i], &run_total, err);
		if (rc == 0)
			rc = prepare_mod(i, &mods[i], &prep[i], &dd, err);
		if (rc < 0)
			err->index = (int)i;
	}
	if (rc == 0) {
		now = rte_get_tsc_cycles();
		if (!apply_by_table(mods, prep, n, now, n_changed))
			for (unsigned int i = 0; i < n; i++)
				*n_changed += apply_mod(&mods[i], &prep[i], now);
	}

	publish_all();
	/* Give back what was not used (never seen by a reader, so freed at
	 * once). */
	for (unsigned int i = 0; i < n; i++) {
		if (prep[i].flow)
			flow_free_now(prep[i].flow);
		if (prep[i].acts && prep[i].own && !prep[i].acts->used)
			free(prep[i].acts);
	}
	free(prep);
	free(dd.slot);
	rcu_commit();
	rcu_poll();
	return rc;
}

/* --- dumps --- */

struct dump_ctx {
	const struct sy_flow_mod *filter;
	struct ft_flow **v;
	size_t n, cap;
	bool oom;
};

static void
collect_cb(struct cls_rule *r, void *arg)
{
	struct dump_ctx *dx = arg;
	struct ft_flow *f = container_of(r, struct ft_flow, cr);

	if (dx->filter && (!cookie_ok(f, &dx->filter->hdr) ||
			   !outputs_to(f, dx->filter->hdr.out_port)))
		return;
	if (dx->n == dx->cap) {
		size_t cap = dx->cap ? dx->cap * 2 : 256;
		struct ft_flow **v = realloc(dx->v, cap * sizeof(*v));

		if (v == NULL) {
			dx->oom = true;
			return;
		}
		dx->v = v;
		dx->cap = cap;
	}
	dx->v[dx->n++] = f;
}

struct users_ctx {
	uint32_t group_id;
	uint32_t n;
};

static void
users_cb(struct cls_rule *r, void *arg)
{
	struct users_ctx *ux = arg;
	const struct ft_flow *f = container_of(r, struct ft_flow, cr);

	for (unsigned int i = 0; i < f->acts->n; i++)
		if (f->acts->a[i].type == SY_ACT_GROUP && f->acts->a[i].arg == ux->group_id) {
			ux->n++;
			return;
		}
}

uint32_t
ft_group_users(uint32_t group_id)
{
	struct users_ctx ux = { .group_id = group_id };

	for (unsigned int t = 0; t < SY_MAX_TABLES; t++)
		if (ft_tables[t].n_flows)
			cls_visit(&ft_tables[t].cls, &zero_key, &zero_key, users_cb, &ux);
	return ux.n;
}

static int
dump_cmp(const void *a, const void *b)
{
	const struct ft_flow *x = *(const struct ft_flow *const *)a;
	const struct ft_flow *y = *(const struct ft_flow *const *)b;

	if (x->cr.priority != y->cr.priority)
		return x->cr.priority > y->cr.priority ? -1 : 1;
	return (x->ctr_idx > y->ctr_idx) - (x->ctr_idx < y->ctr_idx);
}

int
dp_flow_dump(const struct sy_flow_mod *filter, dp_flow_cb cb, void *arg, struct sy_error *err)
{
	struct dump_ctx dx = { .filter = filter };
	const struct sy_flow_key *key = &zero_key, *mask = &zero_key;
	unsigned int lo = 0, hi = SY_MAX_TABLES;
	struct sy_flow_mod *fm;

	if (filter) {
		const uint64_t *k = (const uint64_t *)&filter->key;
		const uint64_t *m = (const uint64_t *)&filter->mask;

		if (filter->hdr.table_id >= SY_MAX_TABLES && filter->hdr.table_id != SY_TABLE_ALL)
			return sy_fail(err, SY_E_INVAL, "table: %u is out of range 0..%d",
				       filter->hdr.table_id, SY_MAX_TABLES - 1);
		for (unsigned int i = 0; i < SY_FLOW_KEY_WORDS; i++)
			if (k[i] & ~m[i])
				return sy_fail(err, SY_E_INVAL,
					       "match: value has bits outside its mask (key word %u)", i);
		table_range(filter, &lo, &hi);
		key = &filter->key;
		mask = &filter->mask;
	}
	fm = malloc(sizeof(*fm));
	if (fm == NULL)
		return sy_fail(err, SY_E_INTERNAL, "out of memory for a flow dump");
	for (unsigned int t = lo; t < hi; t++) {
		uint64_t now = rte_get_tsc_cycles();

		if (ft_tables[t].cls.n_rules == 0)
			continue;
		dx.n = 0;
		cls_visit(&ft_tables[t].cls, key, mask, collect_cb, &dx);
		if (dx.oom) {
			free(dx.v);
			free(fm);
			return sy_fail(err, SY_E_INTERNAL, "out of memory for a flow dump");
		}
		qsort(dx.v, dx.n, sizeof(dx.v[0]), dump_cmp);
		for (size_t i = 0; i < dx.n; i++) {
			struct sy_flow_stats st;

			flow_describe(dx.v[i], fm, &st, now);
			cb(fm, &st, arg);
		}
	}
	free(dx.v);
	free(fm);
	return 0;
}

/* --- tables --- */

static void
table_describe(unsigned int t, struct sy_table_desc *d)
{
	const struct ft_table *tbl = &ft_tables[t];

	memset(d, 0, sizeof(*d));
	d->id = t;
	d->miss = tbl->miss;
	d->n_flows = tbl->n_flows;
	d->max_flows = tbl->max_flows;
	st_table_sum(t, &d->lookups, &d->matched);
	memcpy(d->name, tbl->name, sizeof(d->name));
}

void
dp_table_list(dp_table_cb cb, void *arg)
{
	for (unsigned int t = 0; t < SY_MAX_TABLES; t++) {
		const struct ft_table *tbl = &ft_tables[t];
		struct sy_table_desc d;

		if (!tbl->n_flows && tbl->miss == SY_MISS_DROP && !tbl->max_flows &&
		    !tbl->name[0])
			continue;
		table_describe(t, &d);
		cb(&d, arg);
	}
}

int
dp_table_mod(const struct sy_table_desc *desc, struct sy_table_desc *out, struct sy_error *err)
{
	struct ft_table *tbl;

	if (desc->id >= SY_MAX_TABLES)
		return sy_fail(err, SY_E_INVAL, "table: %u is out of range 0..%d", desc->id,
			       SY_MAX_TABLES - 1);
	tbl = &ft_tables[desc->id];
	if (desc->miss != SY_MISS_DROP && desc->miss != SY_MISS_CONTINUE &&
	    desc->miss != SY_MISS_CONTROLLER)
		return sy_fail(err, SY_E_INVAL, "table %u: unknown miss behaviour %u", desc->id,
			       desc->miss);
	if (memchr(desc->name, '\0', sizeof(desc->name)) == NULL)
		return sy_fail(err, SY_E_INVAL, "table %u: name longer than %d characters",
			       desc->id, SY_NAME_MAX - 1);
	if (desc->max_flows && desc->max_flows < tbl->n_flows)
		return sy_fail(err, SY_E_INVAL,
			       "table %u: holds %u flows, more than max_flows %u: delete some first",
			       desc->id, tbl->n_flows, desc->max_flows);
	memcpy(tbl->name, desc->name, sizeof(tbl->name));
	tbl->max_flows = desc->max_flows;
	__atomic_store_n(&tbl->miss, (uint8_t)desc->miss, __ATOMIC_RELAXED);
	if (out)
		table_describe(desc->id, out);
	return 0;
}

/* --- timeouts, life cycle --- */

void
ft_expire(uint64_t now)
{
	uint64_t hz = dp.tsc_hz;
	struct ft_flow *f, *next;
	bool any = false;

	for (f = timed; f; f = next) {
		struct st_flow_ctr s;
		uint64_t last;
		int reason = -1;

		next = f->tnext;
		if (f->hard_timeout && now - f->created_tsc >= f->hard_timeout * hz) {
			reason = SY_FR_HARD_TIMEOUT;
		} else if (f->idle_timeout) {
			st_flow_sum(f->ctr_idx, &s);
			last = s.last_tsc > f->created_tsc ? s.last_tsc : f->created_tsc;
			if (now > last && now - last >= f->idle_timeout * hz)
				reason = SY_FR_IDLE_TIMEOUT;
		}
		if (reason < 0)
			continue;
		flow_remove(f, reason, true);
		any = true;
	}
	if (!any)
		return;
	publish_all();
	rcu_commit();
}

uint32_t
ft_count(void)
{
	return n_flows_total;
}

void
ft_init(uint32_t max_flows)
{
	for (unsigned int t = 0; t < SY_MAX_TABLES; t++) {
		memset(&ft_tables[t], 0, sizeof(ft_tables[t]));
		cls_init(&ft_tables[t].cls);
	}
	ft_clock = 0;
	max_flows_total = max_flows;
	n_flows_total = 0;
	timed = NULL;
}

static void
free_cb(struct cls_rule *r, void *arg)
{
	struct ft_flow *f = container_of(r, struct ft_flow, cr);

	if (--f->acts->refs == 0)
		free(f->acts);
	flow_free_now(f);
}

void
ft_fini(void)
{
	rcu_sync();
	for (unsigned int t = 0; t < SY_MAX_TABLES; t++) {
		cls_visit(&ft_tables[t].cls, &zero_key, &zero_key, free_cb, NULL);
		cls_destroy(&ft_tables[t].cls);
		ft_tables[t].n_flows = 0;
	}
	n_flows_total = 0;
	timed = NULL;
}
