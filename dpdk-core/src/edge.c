/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edge.c — port VLAN modes and the NSH port tag (see edge.h).
 */
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>

#include "actions.h"
#include "dataplane.h"
#include "datapath.h"
#include "edge.h"
#include "nsh.h"

#define VID_MAX 4094 /* 4095 is reserved (802.1Q) */
#define KEEP SY_DROP__MAX

static inline bool
is_tpid(uint16_t t)
{
	return t == 0x8100 || t == 0x88a8;
}

static inline bool
vid_allowed(const struct pl_edge *e, uint16_t vid)
{
	return (e->allowed[vid >> 6] >> (vid & 63)) & 1;
}

/* --- setup (main lcore) --- */

static bool
vid_ok(uint32_t v)
{
	return v >= 1 && v <= VID_MAX;
}

int
edge_build(const char *port, const struct sy_port_vlan *vlan, const struct sy_port_nsh_tag *nsh,
	   struct pl_edge **out, struct sy_error *err)
{
	struct pl_edge e;

	*out = NULL;
	memset(&e, 0, sizeof(e));
	if (vlan && vlan->mode != SY_VLAN_NONE) {
		bool any = false;

		switch (vlan->mode) {
		case SY_VLAN_ACCESS:
			if (!vid_ok(vlan->tag))
				return sy_fail(err, SY_E_INVAL,
					       "port '%s': access VLAN tag %u is out of range 1..%d",
					       port, vlan->tag, VID_MAX);
			if (vlan->native)
				return sy_fail(err, SY_E_INVAL,
					       "port '%s': an access port has no native VLAN (it "
					       "is a trunk setting)", port);
			for (unsigned int w = 0; w < SY_VLAN_BITMAP_WORDS; w++)
				if (vlan->trunks[w])
					return sy_fail(err, SY_E_INVAL,
						       "port '%s': an access port has no trunks "
						       "(it is a trunk setting)", port);
			e.tag = vlan->tag;
			break;
		case SY_VLAN_TRUNK:
			if (vlan->tag)
				return sy_fail(err, SY_E_INVAL,
					       "port '%s': a trunk port has no access tag (give "
					       "the allowed VIDs as trunks, or a native VLAN)",
					       port);
			if (vlan->native && !vid_ok(vlan->native))
				return sy_fail(err, SY_E_INVAL,
					       "port '%s': native VLAN %u is out of range 1..%d",
					       port, vlan->native, VID_MAX);
			if ((vlan->trunks[0] & 1) || (vlan->trunks[SY_VLAN_BITMAP_WORDS - 1] >> 63))
				return sy_fail(err, SY_E_INVAL,
					       "port '%s': trunk VIDs are 1..%d (0 and 4095 are "
					       "reserved)", port, VID_MAX);
			for (unsigned int w = 0; w < SY_VLAN_BITMAP_WORDS; w++) {
				e.allowed[w] = vlan->trunks[w];
				any |= vlan->trunks[w] != 0;
			}
			if (!any) { /* an empty list: every VID */
				memset(e.allowed, 0xff, sizeof(e.allowed));
				e.allowed[0] &= ~1ull;
				e.allowed[SY_VLAN_BITMAP_WORDS - 1] &= ~(1ull << 63);
			}
			e.native = vlan->native;
			if (e.native) /* its frames are the port's too */
				e.allowed[e.native >> 6] |= 1ull << (e.native & 63);
			break;
		default:
			return sy_fail(err, SY_E_INVAL,
				       "port '%s': VLAN mode %u, expected 0 (none), 1 (access) or "
				       "2 (trunk)", port, vlan->mode);
		}
		e.vlan = vlan->mode;
	}
	if (nsh && nsh->enabled) {
		if (nsh->enabled != 1)
			return sy_fail(err, SY_E_INVAL, "port '%s': NSH tag enabled is %u, expected 0 or 1",
				       port, nsh->enabled);
		if (nsh->spi > SY_NSH_MAX_SPI)
			return sy_fail(err, SY_E_INVAL,
				       "port '%s': NSH tag spi %u is out of range 0..%u", port,
				       nsh->spi, SY_NSH_MAX_SPI);
		if (nsh->ttl < 1 || nsh->ttl > 63)
			return sy_fail(err, SY_E_INVAL,
				       "port '%s': NSH tag ttl %u is out of range 1..63", port,
				       nsh->ttl);
		if (nsh->mdtype != 1 && nsh->mdtype != 2)
			return sy_fail(err, SY_E_INVAL,
				       "port '%s': NSH tag MD type %u, expected 1 or 2", port,
				       nsh->mdtype);
		if (nsh->mdtype == 2 && (nsh->ctx[0] | nsh->ctx[1] | nsh->ctx[2] | nsh->ctx[3]))
			return sy_fail(err, SY_E_INVAL,
				       "port '%s': NSH context headers c1..c4 need MD type 1",
				       port);
		e.nsh_len = (uint8_t)nsh_encode(e.nsh, nsh->spi, nsh->si, nsh->ttl, nsh->mdtype,
						nsh->ctx, NSH_NP_ETHERNET);
	}
	if (e.vlan == SY_VLAN_NONE && e.nsh_len == 0)
		return 0;
	*out = malloc(sizeof(e));
	if (*out == NULL)
		return sy_fail(err, SY_E_NOSPC, "port '%s': out of memory", port);
	**out = e;
	return 0;
}

/* --- ingress --- */

/* The VLAN step of a received frame (written in place): KEEP or why it
 * is dropped. */
static inline unsigned int
vlan_in(const struct pl_edge *e, struct rte_mbuf *m)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	uint16_t pvid = e->vlan == SY_VLAN_ACCESS ? e->tag : e->native;

	if (is_tpid(parse_rd16(d + 12))) {
		uint16_t tci, vid;

		if (rte_pktmbuf_data_len(m) < PARSE_ETH_HLEN + 4)
			return KEEP; /* the parser counts it l2_truncated */
		tci = parse_rd16(d + 14);
		vid = tci & 0xfff;
		if (vid != 0)
			return e->vlan == SY_VLAN_TRUNK && vid_allowed(e, vid)
				       ? KEEP
				       : SY_DROP_VLAN_FILTERED;
		/* priority-tagged (VID 0): untagged with a priority, as 802.1Q
		 * and OVS have it; it keeps its PCP and DEI */
		if (pvid == 0)
			return SY_DROP_VLAN_FILTERED;
		tci = (uint16_t)((tci & 0xf000) | pvid);
		d[14] = (uint8_t)(tci >> 8);
		d[15] = (uint8_t)tci;
		return KEEP;
	}
	if (pvid == 0) /* a trunk without a native VLAN */
		return SY_DROP_VLAN_FILTERED;
	return act_vlan_insert(m, 0x8100, pvid) ? KEEP : SY_DROP_NO_HEADROOM;
}

unsigned int
edge_ingress(const struct pl_edge *e, struct rte_mbuf *m)
{
	unsigned int why = KEEP;

	if (unlikely(rte_pktmbuf_data_len(m) < PARSE_ETH_HLEN))
		return KEEP; /* the parser counts it a runt */
	if (e->vlan != SY_VLAN_NONE)
		why = vlan_in(e, m);
	if (why == KEEP && e->nsh_len && !nsh_encap(m, e->nsh, e->nsh_len))
		why = SY_DROP_NO_HEADROOM;
	return why;
}

uint16_t
edge_rx(struct pl_lcore *lc, const struct pl_edge *e, uint16_t slot, struct rte_mbuf **pkts,
	uint16_t n)
{
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		unsigned int why;

		/* a ring port may deliver a frame someone else holds too */
		if (unlikely(rte_mbuf_refcnt_read(m) > 1 || !RTE_MBUF_DIRECT(m))) {
			struct rte_mbuf *c = rte_pktmbuf_copy(m, dp.pool, 0, UINT32_MAX);

			rte_pktmbuf_free(m);
			m = c;
			if (m == NULL) {
				act_count_drop(lc, slot, SY_DROP_NO_MBUF);
				continue;
			}
			lc->ctr.copies++;
		}
		why = edge_ingress(e, m);
		if (unlikely(why != KEEP)) {
			act_count_drop(lc, slot, why);
			rte_pktmbuf_free(m);
			continue;
		}
		pkts[k++] = m;
	}
	return k;
}

/* --- egress --- */

struct rte_mbuf *
edge_tx(struct pl_lcore *lc, const struct pl_edge *e, uint16_t slot, struct rte_mbuf *m,
	bool last)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *), *f = d;
	uint16_t len = rte_pktmbuf_data_len(m), nsh_len = 0, need = PARSE_ETH_HLEN;
	uint8_t np = 0;
	bool pop = false, strip = false;
	unsigned int why = KEEP;

	if (e->nsh_len && len >= PARSE_ETH_HLEN + NSH_BASE_LEN && parse_rd16(d + 12) == NSH_ETHERTYPE) {
		nsh_len = (uint16_t)((d[PARSE_ETH_HLEN + 1] & 0x3f) * 4);
		np = d[PARSE_ETH_HLEN + 3];
		need = (uint16_t)(PARSE_ETH_HLEN + nsh_len);
		/* a header the parser would not take, or a next protocol pop_nsh
		 * leaves alone: sent as it is */
		pop = nsh_len >= NSH_BASE_LEN && len >= need &&
		      (np == NSH_NP_ETHERNET || np == NSH_NP_IPV4 || np == NSH_NP_IPV6);
		f = pop && np == NSH_NP_ETHERNET ? d + need : NULL; /* IP: untagged */
	}
	if (e->vlan != SY_VLAN_NONE) {
		uint16_t flen = f ? (uint16_t)(len - (f - d)) : 0;

		if (f && flen >= PARSE_ETH_HLEN + 4 && is_tpid(parse_rd16(f + 12))) {
			uint16_t vid = parse_rd16(f + 14) & 0xfff;

			if (e->vlan == SY_VLAN_ACCESS) {
				if (vid == e->tag)
					strip = true;
				else
					why = SY_DROP_VLAN_FILTERED;
			} else if (e->native && vid == e->native) {
				strip = true;
			} else if (!vid_allowed(e, vid)) { /* VID 0 never is */
				why = SY_DROP_VLAN_FILTERED;
			}
			need = (uint16_t)((f - d) + PARSE_ETH_HLEN + 4);
		} else {
			why = SY_DROP_VLAN_FILTERED; /* untagged: no tenant's */
		}
	}
	if (why != KEEP) {
		act_count_drop(lc, slot, why);
		if (last)
			rte_pktmbuf_free(m);
		return NULL;
	}
	if (!pop && !strip) {
		if (!last) /* every segment, as emit() */
			rte_pktmbuf_refcnt_update(m, 1);
		return m;
	}
	if (!last || rte_mbuf_refcnt_read(m) > 1 || !RTE_MBUF_DIRECT(m)) {
		struct rte_mbuf *c = rte_pktmbuf_copy(m, dp.pool, 0, UINT32_MAX);

		if (last)
			rte_pktmbuf_free(m);
		if (c == NULL || rte_pktmbuf_data_len(c) < need) {
			rte_pktmbuf_free(c);
			act_count_drop(lc, slot, SY_DROP_NO_MBUF);
			return NULL;
		}
		lc->ctr.copies++;
		m = c;
	}
	if (pop)
		nsh_decap(m, PARSE_ETH_HLEN, nsh_len, np);
	if (strip)
		act_vlan_remove(m);
	return m;
}
