/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * groups.c — the group table, group-mods, group counters, and the buckets
 * a packet runs (see groups.h).
 */
#include <stdlib.h>
#include <string.h>

#include <rte_hash_crc.h>
#include <rte_mbuf.h>

#include "actions.h"
#include "dataplane.h"
#include "datapath.h"
#include "flow_table.h"
#include "groups.h"
#include "ports.h"
#include "stats.h"

struct grp *grp_table[SY_GROUP_ID_MAX + 1];
static struct grp_ctr trace_ctr; /* a packet trace's counts, thrown away (main lcore) */

/* --- selection --- */

/* rte_hash_crc() reads words: the key's MACs and IPv6 addresses are not
 * aligned for that, so they are hashed from an aligned copy. */
static inline uint32_t
crc_unaligned(const void *p, unsigned int len, uint32_t h)
{
	uint64_t w[2];

	memcpy(w, p, len);
	return rte_hash_crc(w, len, h);
}

uint32_t
grp_hash(const struct sy_flow_key *k, uint32_t fields)
{
	uint32_t h = 0x9e3779b9u;

	if (fields == 0)
		fields = SY_GSEL_5TUPLE;
	if (fields & SY_GSEL_DL_SRC)
		h = crc_unaligned(k->dl_src, 6, h);
	if (fields & SY_GSEL_DL_DST)
		h = crc_unaligned(k->dl_dst, 6, h);
	if (fields & SY_GSEL_NW_SRC)
		h = rte_hash_crc_4byte(k->nw_src, crc_unaligned(k->ipv6_src, 16, h));
	if (fields & SY_GSEL_NW_DST)
		h = rte_hash_crc_4byte(k->nw_dst, crc_unaligned(k->ipv6_dst, 16, h));
	if (fields & SY_GSEL_NW_PROTO)
		h = rte_hash_crc_1byte(k->nw_proto, h);
	if (fields & SY_GSEL_TP_SRC)
		h = rte_hash_crc_2byte(k->tp_src, h);
	if (fields & SY_GSEL_TP_DST)
		h = rte_hash_crc_2byte(k->tp_dst, h);
	/* mix: the slot index takes the low bits */
	h ^= h >> 16;
	h *= 0x45d9f3bu;
	h ^= h >> 16;
	return h;
}

unsigned int
grp_fill_slots(const uint16_t *weight, unsigned int n, uint8_t *slot)
{
	uint32_t total = 0, given = 0;
	unsigned int s = 0;

	for (unsigned int i = 0; i < n; i++)
		total += weight[i];
	if (total == 0)
		return 0;
	/* largest-remainder shares, handed out bucket by bucket */
	for (unsigned int i = 0; i < n; i++) {
		uint32_t share = (uint32_t)((uint64_t)weight[i] * GRP_SLOTS / total);

		given += share;
		for (uint32_t j = 0; j < share; j++)
			slot[s++] = (uint8_t)i;
	}
	for (unsigned int i = 0; given < GRP_SLOTS; i = (i + 1) % n) {
		if (weight[i] == 0)
			continue;
		slot[s++] = (uint8_t)i;
		given++;
	}
	return GRP_SLOTS;
}

/* --- running buckets --- */

static inline bool
live(const struct pl_portmap *pm, uint32_t port)
{
	uint16_t slot;

	if (port == SY_NO_WATCH)
		return true;
	slot = pl_port_slot(pm, port);
	return slot != PL_NO_PORT && pm->port[slot].admin_up && pm->port[slot].link_up;
}

static inline int
first_live(const struct pl_portmap *pm, const struct grp *g)
{
	for (unsigned int i = 0; i < g->n_buckets; i++)
		if (live(pm, g->b[i].watch_port))
			return (int)i;
	return -1;
}

/* Runs bucket i on p.  own: with the packet's own reference (the end of
 * the flow's actions), else on a new reference of its own. */
static void
run_bucket(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p,
	   const struct grp *g, struct grp_ctr *c, unsigned int i, bool own)
{
	const struct grp_bucket *b = &g->b[i];
	struct act_pkt q;

	c->bucket[i].packets++;
	c->bucket[i].bytes += rte_pktmbuf_pkt_len(p->m);
	if (own) {
		act_run(lc, pm, p, b->a, b->n);
		return;
	}
	act_pkt_fork(p, &q);
	act_run(lc, pm, &q, b->a, b->n);
	p->n_out += q.n_out;
	p->n_fail += q.n_fail;
}

bool
grp_run(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p, uint32_t id,
	bool last)
{
	const struct grp *g = id <= SY_GROUP_ID_MAX ? rcu_load(&grp_table[id]) : NULL;
	struct grp_ctr *c;
	int i = -1;

	if (unlikely(g == NULL)) {
		act_count_drop(lc, p->in_slot, SY_DROP_GROUP_NO_BUCKET);
		p->n_fail++;
		return true;
	}
	/* a packet trace counts nothing (proto.h, "Packet trace") */
	c = likely(lc->trace == NULL) ? &g->ctr[lc->slot] : &trace_ctr;
	c->packets++;
	c->bytes += rte_pktmbuf_pkt_len(p->m);
	switch (g->type) {
	case SY_GT_ALL:
		for (unsigned int b = 0; b < g->n_buckets; b++)
			run_bucket(lc, pm, p, g, c, b, last && b + 1 == g->n_buckets);
		return !(last && g->n_buckets > 0);
	case SY_GT_SELECT:
		if (g->n_slots_used) {
			i = g->slot[grp_hash(&p->key, g->sel_fields) % GRP_SLOTS];
			if (!live(pm, g->b[i].watch_port))
				i = first_live(pm, g);
		}
		break;
	case SY_GT_INDIRECT:
		i = 0;
		break;
	case SY_GT_FF:
		i = first_live(pm, g);
		break;
	}
	if (i < 0) {
		c->dropped++;
		act_count_drop(lc, p->in_slot, SY_DROP_GROUP_NO_BUCKET);
		p->n_fail++;
		return true;
	}
	run_bucket(lc, pm, p, g, c, (unsigned int)i, last);
	return !last;
}

/* --- the table (main lcore) --- */

bool
grp_exists(uint32_t id)
{
	return id <= SY_GROUP_ID_MAX && grp_table[id] != NULL;
}

static void
grp_free(struct grp *g)
{
	free(g->ctr);
	free(g);
}

static void
grp_free_rcu(struct rcu_head *h)
{
	grp_free(container_of(h, struct grp, rcu));
}

/* Totals of g over every lcore, baselines included. */
static void
grp_sum(const struct grp *g, struct sy_group_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->group_id = g->id;
	st->type = g->type;
	st->n_buckets = g->n_buckets;
	st->packets = g->base_packets;
	st->bytes = g->base_bytes;
	st->dropped = g->base_dropped;
	for (unsigned int s = 0; s < dp.n_slots; s++) {
		const struct grp_ctr *c = &g->ctr[s];

		st->packets += c->packets;
		st->bytes += c->bytes;
		st->dropped += c->dropped;
		for (unsigned int b = 0; b < g->n_buckets; b++) {
			st->bucket[b].packets += c->bucket[b].packets;
			st->bucket[b].bytes += c->bucket[b].bytes;
		}
	}
}

static const char *const type_names[] = { "all", "select", "indirect", "fast_failover" };

static int
check_bucket(const struct sy_group_mod *gm, unsigned int i, struct sy_error *err)
{
	const struct sy_group_mod_bucket *gb = &gm->bucket[i];
	uint32_t gid = gm->hdr.group_id;
	static struct sy_flow_mod fm; /* main lcore only; large */
	char msg[SY_ERRMSG_MAX - 64];

	if (gb->n_actions > SY_GROUP_ACTIONS_MAX)
		return sy_fail(err, SY_E_INVAL, "group %u bucket %u: more than %d actions", gid, i,
			       SY_GROUP_ACTIONS_MAX);
	if (gb->b.watch_port != SY_NO_WATCH && !ports_exists(gb->b.watch_port))
		return sy_fail(err, SY_E_NOENT, "group %u bucket %u: watch_port %u, no such port",
			       gid, i, gb->b.watch_port);
	if (gm->hdr.type == SY_GT_FF && gb->b.watch_port == SY_NO_WATCH)
		return sy_fail(err, SY_E_INVAL,
			       "group %u bucket %u: fast_failover needs a watch_port in every bucket",
			       gid, i);
	memset(&fm, 0, sizeof(fm));
	fm.hdr.command = SY_FC_ADD;
	fm.n_actions = gb->n_actions;
	memcpy(fm.actions, gb->actions, gb->n_actions * sizeof(fm.actions[0]));
	if (sy_flow_mod_validate(&fm, msg, sizeof(msg)) < 0)
		return sy_fail(err, SY_E_INVAL, "group %u bucket %u: %s", gid, i, msg);
	for (unsigned int a = 0; a < gb->n_actions; a++) {
		const struct sy_action *act = &gb->actions[a];

		switch (act->type) {
		case SY_ACT_GOTO_TABLE:
		case SY_ACT_WRITE_METADATA:
		case SY_ACT_GROUP:
			return sy_fail(err, SY_E_INVAL,
				       "group %u bucket %u: actions: %s is not allowed in a bucket",
				       gid, i, sy_action_names[act->type]);
		case SY_ACT_OUTPUT:
			if (act->arg <= SY_MAX_PORT_ID && !ports_exists(act->arg))
				return sy_fail(err, SY_E_NOENT,
					       "group %u bucket %u: output:%u, no such port", gid, i,
					       act->arg);
			break;
		default:
			break;
		}
	}
	return 0;
}

static int
check_mod(const struct sy_group_mod *gm, struct sy_error *err)
{
	const struct sy_group_hdr *h = &gm->hdr;

	if (h->group_id > SY_GROUP_ID_MAX)
		return sy_fail(err, SY_E_INVAL, "group_id %u: groups are 0..%d", h->group_id,
			       SY_GROUP_ID_MAX);
	if (h->command == SY_GC_DELETE)
		return 0;
	if (h->command != SY_GC_ADD && h->command != SY_GC_MODIFY)
		return sy_fail(err, SY_E_INVAL, "group %u: command %u is not add, modify or delete",
			       h->group_id, h->command);
	if (h->type > SY_GT_FF)
		return sy_fail(err, SY_E_INVAL, "group %u: type %u is not a group type",
			       h->group_id, h->type);
	if (h->sel_fields & ~(uint32_t)(SY_GSEL_5TUPLE | SY_GSEL_DL_SRC | SY_GSEL_DL_DST))
		return sy_fail(err, SY_E_INVAL, "group %u: fields: unknown bits 0x%x", h->group_id,
			       h->sel_fields);
	if (gm->n_buckets > SY_GROUP_BUCKETS_MAX)
		return sy_fail(err, SY_E_INVAL, "group %u: more than %d buckets", h->group_id,
			       SY_GROUP_BUCKETS_MAX);
	if (h->type == SY_GT_INDIRECT && gm->n_buckets != 1)
		return sy_fail(err, SY_E_INVAL, "group %u: an indirect group has exactly one bucket",
			       h->group_id);
	for (unsigned int i = 0; i < gm->n_buckets; i++)
		if (check_bucket(gm, i, err) < 0)
			return -1;
	if (h->command == SY_GC_ADD && grp_exists(h->group_id))
		return sy_fail(err, SY_E_EXIST, "group %u already exists (%s)", h->group_id,
			       type_names[grp_table[h->group_id]->type]);
	if (h->command == SY_GC_MODIFY && !grp_exists(h->group_id))
		return sy_fail(err, SY_E_NOENT, "group %u: no such group", h->group_id);
	return 0;
}

static struct grp *
grp_build(const struct sy_group_mod *gm)
{
	struct grp *g = calloc(1, sizeof(*g));
	uint16_t weight[SY_GROUP_BUCKETS_MAX];

	if (g == NULL)
		return NULL;
	g->ctr = aligned_alloc(64, dp.n_slots * sizeof(*g->ctr));
	if (g->ctr == NULL) {
		free(g);
		return NULL;
	}
	memset(g->ctr, 0, dp.n_slots * sizeof(*g->ctr));
	g->id = gm->hdr.group_id;
	g->type = gm->hdr.type;
	g->sel_fields = gm->hdr.sel_fields;
	g->n_buckets = (uint8_t)gm->n_buckets;
	for (unsigned int i = 0; i < gm->n_buckets; i++) {
		const struct sy_group_mod_bucket *gb = &gm->bucket[i];

		g->b[i].weight = gb->b.weight;
		g->b[i].watch_port = gb->b.watch_port;
		g->b[i].n = gb->n_actions;
		memcpy(g->b[i].a, gb->actions, gb->n_actions * sizeof(g->b[i].a[0]));
		weight[i] = gb->b.weight;
	}
	if (g->type == SY_GT_SELECT)
		g->n_slots_used = grp_fill_slots(weight, g->n_buckets, g->slot) ? 1 : 0;
	return g;
}

int
dp_group_mod(const struct sy_group_mod *gm, struct sy_error *err)
{
	uint32_t id = gm->hdr.group_id;
	struct grp *old, *g = NULL;

	if (check_mod(gm, err) < 0)
		return -1;
	old = grp_table[id];
	if (gm->hdr.command == SY_GC_DELETE) {
		uint32_t users;

		if (old == NULL)
			return 0; /* as OpenFlow: deleting a missing group is no error */
		users = ft_group_users(id);
		if (users)
			return sy_fail(err, SY_E_INVAL,
				       "group %u is used by %u flow%s: delete or change them first",
				       id, users, users == 1 ? "" : "s");
	} else {
		g = grp_build(gm);
		if (g == NULL)
			return sy_fail(err, SY_E_NOSPC, "group %u: out of memory", id);
		if (old) {
			struct sy_group_stats st;

			grp_sum(old, &st);
			g->base_packets = st.packets;
			g->base_bytes = st.bytes;
			g->base_dropped = st.dropped;
		}
	}
	rcu_store(&grp_table[id], g);
	if (old) {
		rcu_defer(&old->rcu, grp_free_rcu);
		rcu_commit();
	}
	return 0;
}

int
dp_group_stats(uint32_t id, dp_group_stats_cb cb, void *arg, struct sy_error *err)
{
	struct sy_group_stats st;

	if (id != SY_NO_WATCH) {
		if (!grp_exists(id))
			return sy_fail(err, SY_E_NOENT, "group %u: no such group", id);
		grp_sum(grp_table[id], &st);
		st.n_flows = ft_group_users(id);
		cb(&st, arg);
		return 0;
	}
	for (uint32_t g = 0; g <= SY_GROUP_ID_MAX; g++) {
		if (grp_table[g] == NULL)
			continue;
		grp_sum(grp_table[g], &st);
		st.n_flows = ft_group_users(g);
		cb(&st, arg);
	}
	return 0;
}

void
grp_fini(void)
{
	for (uint32_t g = 0; g <= SY_GROUP_ID_MAX; g++) {
		struct grp *old = grp_table[g];

		if (old == NULL)
			continue;
		rcu_store(&grp_table[g], NULL);
		rcu_defer(&old->rcu, grp_free_rcu);
	}
	rcu_commit();
}
