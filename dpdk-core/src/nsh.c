/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nsh.c — NSH push, pop, dec_nsh_ttl and field rewrites (see nsh.h).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "nsh.h"
#include "parse.h"


static inline void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

unsigned int
nsh_encode(uint8_t *h, uint32_t spi, uint8_t si, uint8_t ttl, uint8_t mdtype,
	   const uint32_t ctx[4], uint8_t next_proto)
{
	unsigned int len = mdtype == 1 ? NSH_MD1_LEN : NSH_BASE_LEN;

	h[0] = (uint8_t)((ttl >> 2) & 0x0f); /* version 0, O 0 */
	h[1] = (uint8_t)((ttl & 3) << 6 | len / 4);
	h[2] = mdtype & 0x0f;
	h[3] = next_proto;
	wr32(h + 4, (spi & SY_NSH_MAX_SPI) << 8 | si);
	if (mdtype == 1)
		for (int i = 0; i < 4; i++)
			wr32(h + 8 + 4 * i, ctx[i]);
	return len;
}

/* The key and layout of the frame as it now is; in_port, metadata and
 * tun_id are not in the frame and stay. */
static bool
reparse(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p)
{
	uint64_t metadata = p->key.metadata, tun_id = p->key.tun_id;
	enum sy_drop_reason why;

	if (!parse_slow(p->m, p->key.in_port, &p->key, &p->lay, &why)) {
		act_stop(lc, pm, p, why);
		return false;
	}
	p->key.metadata = metadata;
	p->key.tun_id = tun_id;
	return true;
}

bool
nsh_encap(struct rte_mbuf *m, const uint8_t *hdr, unsigned int len)
{
	uint8_t *d = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)(PARSE_ETH_HLEN + len));

	if (d == NULL)
		return false;
	memcpy(d, d + PARSE_ETH_HLEN + len, 12); /* the frame's own MACs */
	d[12] = NSH_ETHERTYPE >> 8;
	d[13] = NSH_ETHERTYPE & 0xff;
	memcpy(d + PARSE_ETH_HLEN, hdr, len);
	return true;
}

bool
nsh_decap(struct rte_mbuf *m, uint16_t off, uint16_t len, uint8_t np)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	uint16_t etype;

	switch (np) {
	case NSH_NP_ETHERNET:
		rte_pktmbuf_adj(m, (uint16_t)(off + len));
		return true;
	case NSH_NP_IPV4:
	case NSH_NP_IPV6:
		etype = np == NSH_NP_IPV4 ? 0x0800 : 0x86dd;
		/* the outer MACs, without any VLAN tag, in front of the IP packet */
		memmove(d + off + len - PARSE_ETH_HLEN, d, 12);
		d = (uint8_t *)rte_pktmbuf_adj(m, (uint16_t)(off + len - PARSE_ETH_HLEN));
		d[12] = (uint8_t)(etype >> 8);
		d[13] = (uint8_t)etype;
		return true;
	default:
		return false;
	}
}

bool
nsh_push(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p,
	 const struct sy_action *a)
{
	uint8_t mdtype = SY_NSH_MASK_MDTYPE(a->mask), hdr[NSH_MD1_LEN];
	uint32_t ctx[4];
	unsigned int len;

	memcpy(ctx, a->value.bytes, sizeof(ctx));
	len = nsh_encode(hdr, SY_NSH_ARG_SPI(a->arg), SY_NSH_ARG_SI(a->arg),
			 SY_NSH_MASK_TTL(a->mask), mdtype, ctx, NSH_NP_ETHERNET);
	if (!act_prepare_write(lc, pm, p))
		return false;
	if (!nsh_encap(p->m, hdr, len)) {
		act_stop(lc, pm, p, SY_DROP_NO_HEADROOM);
		return false;
	}
	return reparse(lc, pm, p);
}

bool
nsh_pop(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p)
{
	uint16_t off = p->lay.l3_ofs, len;
	const uint8_t *d;

	if (p->key.dl_type != NSH_ETHERTYPE)
		return true;
	if (p->key.nsh_np != NSH_NP_ETHERNET && p->key.nsh_np != NSH_NP_IPV4 &&
	    p->key.nsh_np != NSH_NP_IPV6)
		return true;
	if (!act_prepare_write(lc, pm, p))
		return false;
	d = rte_pktmbuf_mtod(p->m, const uint8_t *);
	len = (uint16_t)((d[off + 1] & 0x3f) * 4); /* checked by the parser */
	nsh_decap(p->m, off, len, p->key.nsh_np);
	return reparse(lc, pm, p);
}

bool
nsh_dec_ttl(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p)
{
	uint8_t *h;

	if (p->key.dl_type != NSH_ETHERTYPE)
		return true; /* nothing to decrement */
	if (p->key.nsh_ttl <= 1) {
		act_stop(lc, pm, p, SY_DROP_TAG_TTL_EXPIRED);
		return false;
	}
	if (!act_prepare_write(lc, pm, p))
		return false;
	p->key.nsh_ttl--;
	h = rte_pktmbuf_mtod_offset(p->m, uint8_t *, p->lay.l3_ofs);
	h[0] = (uint8_t)((h[0] & 0xf0) | p->key.nsh_ttl >> 2);
	h[1] = (uint8_t)((h[1] & 0x3f) | (p->key.nsh_ttl & 3) << 6);
	return true;
}

bool
nsh_field_present(const struct act_pkt *p, unsigned int field)
{
	if (p->key.dl_type != NSH_ETHERTYPE)
		return false;
	switch (field) {
	case SY_F_NSH_SPI:
	case SY_F_NSH_SI:
		return true;
	case SY_F_NSH_C1:
	case SY_F_NSH_C2:
	case SY_F_NSH_C3:
	case SY_F_NSH_C4:
		return p->key.nsh_mdtype == 1;
	default:
		return false;
	}
}

void
nsh_write_field(struct act_pkt *p, unsigned int field)
{
	uint8_t *h = rte_pktmbuf_mtod_offset(p->m, uint8_t *, p->lay.l3_ofs);

	switch (field) {
	case SY_F_NSH_SPI:
	case SY_F_NSH_SI:
		p->key.nsh_spi &= SY_NSH_MAX_SPI;
		wr32(h + 4, p->key.nsh_spi << 8 | p->key.nsh_si);
		break;
	case SY_F_NSH_C1:
	case SY_F_NSH_C2:
	case SY_F_NSH_C3:
	case SY_F_NSH_C4: {
		unsigned int i = field - SY_F_NSH_C1;

		wr32(h + 8 + 4 * i, p->key.nsh_c[i]);
		break;
	}
	default:
		break;
	}
}
