/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mirrors.c — the mirror table, its place in the port map, and the copies
 * (see mirrors.h).
 */
#include <string.h>

#include <rte_mbuf.h>

#include "dataplane.h"
#include "datapath.h"
#include "mirrors.h"
#include "pipeline.h"
#include "ports.h"

/* Main lcore only. */
static struct sy_mirror_desc mir[SY_MIRROR_MAX];
static bool mir_used[SY_MIRROR_MAX];
/* Counter baselines: a mirror (re)set starts from zero. */
static struct { uint64_t packets, bytes, no_mbuf; } mir_base[SY_MIRROR_MAX];

static void
sum(unsigned int id, uint64_t *packets, uint64_t *bytes, uint64_t *no_mbuf)
{
	*packets = *bytes = *no_mbuf = 0;
	for (unsigned int s = 0; s < dp.n_slots; s++) {
		*packets += dp.lcore[s]->mir[id].packets;
		*bytes += dp.lcore[s]->mir[id].bytes;
		*no_mbuf += dp.lcore[s]->mir[id].no_mbuf;
	}
}

static bool
in_list(const uint32_t *l, unsigned int n, uint32_t port)
{
	for (unsigned int i = 0; i < n; i++)
		if (l[i] == port)
			return true;
	return false;
}

/* A port some mirror (other than skip) selects as src or dst. */
static bool
mirrored_elsewhere(uint32_t port, uint32_t skip)
{
	for (unsigned int m = 0; m < SY_MIRROR_MAX; m++)
		if (mir_used[m] && m != skip &&
		    (in_list(mir[m].src, mir[m].n_src, port) || in_list(mir[m].dst, mir[m].n_dst, port)))
			return true;
	return false;
}

static int
check(const struct sy_mirror_desc *d, struct sy_error *err)
{
	if (memchr(d->name, '\0', sizeof(d->name)) == NULL || d->name[0] == '\0')
		return sy_fail(err, SY_E_INVAL, "mirror %u: a name of 1..%d characters is required",
			       d->id, SY_NAME_MAX - 1);
	if (d->n_src > SY_MIRROR_PORTS || d->n_dst > SY_MIRROR_PORTS)
		return sy_fail(err, SY_E_INVAL, "mirror '%s': at most %d src and %d dst ports",
			       d->name, SY_MIRROR_PORTS, SY_MIRROR_PORTS);
	if (!ports_exists(d->out_port))
		return sy_fail(err, SY_E_NOENT, "mirror '%s': output port %u does not exist",
			       d->name, d->out_port);
	for (unsigned int i = 0; i < d->n_src + d->n_dst; i++) {
		uint32_t p = i < d->n_src ? d->src[i] : d->dst[i - d->n_src];

		if (!ports_exists(p))
			return sy_fail(err, SY_E_NOENT, "mirror '%s': %s port %u does not exist",
				       d->name, i < d->n_src ? "src" : "dst", p);
		if (p == d->out_port)
			return sy_fail(err, SY_E_INVAL,
				       "mirror '%s': port %u is both mirrored and the output",
				       d->name, p);
		for (unsigned int m = 0; m < SY_MIRROR_MAX; m++)
			if (mir_used[m] && m != d->id && mir[m].out_port == p)
				return sy_fail(err, SY_E_INVAL,
					       "mirror '%s': port %u is the output of mirror '%s'",
					       d->name, p, mir[m].name);
	}
	if (mirrored_elsewhere(d->out_port, d->id))
		return sy_fail(err, SY_E_INVAL,
			       "mirror '%s': output port %u is mirrored by another mirror",
			       d->name, d->out_port);
	for (unsigned int m = 0; m < SY_MIRROR_MAX; m++)
		if (mir_used[m] && m != d->id && strcmp(mir[m].name, d->name) == 0)
			return sy_fail(err, SY_E_EXIST, "mirror '%s' exists (id %u)", d->name, m);
	return 0;
}

int
dp_mirror_mod(uint32_t cmd, const struct sy_mirror_desc *d, struct sy_error *err)
{
	if (d->id >= SY_MIRROR_MAX)
		return sy_fail(err, SY_E_INVAL, "mirror: id %u is out of range 0..%d", d->id,
			       SY_MIRROR_MAX - 1);
	if (cmd == SY_MIR_DELETE) {
		if (!mir_used[d->id])
			return sy_fail(err, SY_E_NOENT, "mirror %u does not exist", d->id);
		mir_used[d->id] = false;
	} else if (cmd == SY_MIR_SET) {
		if (check(d, err) < 0)
			return -1;
		mir[d->id] = *d;
		mir[d->id].pad = 0;
		mir_used[d->id] = true;
		sum(d->id, &mir_base[d->id].packets, &mir_base[d->id].bytes,
		    &mir_base[d->id].no_mbuf);
	} else {
		return sy_fail(err, SY_E_INVAL, "mirror: unknown command %u", cmd);
	}
	if (ports_republish() < 0)
		return sy_fail(err, SY_E_NOSPC, "mirror: out of memory for the port map");
	return 0;
}

void
dp_mirror_stats(dp_mirror_stats_cb cb, void *arg)
{
	for (unsigned int m = 0; m < SY_MIRROR_MAX; m++) {
		struct sy_mirror_stats st;

		if (!mir_used[m])
			continue;
		memset(&st, 0, sizeof(st));
		st.desc = mir[m];
		sum(m, &st.packets, &st.bytes, &st.no_mbuf);
		st.packets -= mir_base[m].packets;
		st.bytes -= mir_base[m].bytes;
		st.no_mbuf -= mir_base[m].no_mbuf;
		cb(&st, arg);
	}
}

void
mir_fill(struct pl_portmap *pm)
{
	for (unsigned int m = 0; m < SY_MIRROR_MAX; m++) {
		pm->mir_out[m] = PL_NO_PORT;
		if (!mir_used[m])
			continue;
		pm->mir_out[m] = pl_port_slot(pm, mir[m].out_port);
		for (unsigned int i = 0; i < mir[m].n_src; i++) {
			uint16_t s = pl_port_slot(pm, mir[m].src[i]);

			if (s != PL_NO_PORT)
				pm->port[s].mir_src |= 1u << m;
		}
		for (unsigned int i = 0; i < mir[m].n_dst; i++) {
			uint16_t s = pl_port_slot(pm, mir[m].dst[i]);

			if (s != PL_NO_PORT)
				pm->port[s].mir_dst |= 1u << m;
		}
	}
}

void
mir_fini(void)
{
	memset(mir_used, 0, sizeof(mir_used));
}

void
mir_copy(struct pl_lcore *lc, const struct pl_portmap *pm, unsigned int id,
	 const struct rte_mbuf *m)
{
	uint16_t slot = id < SY_MIRROR_MAX ? pm->mir_out[id] : PL_NO_PORT;
	struct rte_mbuf *c;

	if (slot == PL_NO_PORT || !pm->port[slot].admin_up)
		return; /* no such mirror, or its output is gone or down */
	c = rte_pktmbuf_copy(m, dp.pool, 0, UINT32_MAX);
	if (unlikely(c == NULL)) {
		lc->mir[id].no_mbuf++;
		return;
	}
	lc->mir[id].packets++;
	lc->mir[id].bytes += rte_pktmbuf_pkt_len(c);
	pl_tx_put(lc, pm, slot, c, 0); /* policed as queue 0 of its output */
}

void
mir_ports(struct pl_lcore *lc, const struct pl_portmap *pm, uint32_t mask,
	  struct rte_mbuf *const *pkts, unsigned int n)
{
	while (mask) {
		unsigned int id = (unsigned int)__builtin_ctz(mask);

		mask &= mask - 1;
		for (unsigned int i = 0; i < n; i++)
			mir_copy(lc, pm, id, pkts[i]);
	}
}
