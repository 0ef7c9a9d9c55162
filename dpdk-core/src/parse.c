/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * parse.c — Ethernet / 802.1Q / IPv4 / IPv6 / L4 into a flow key (see
 * parse.h).  Each layer checks the bytes it needs against what is left
 * before it reads them.
 */
#include <assert.h>
#include <stddef.h>
#include <string.h>

#include <rte_mbuf.h>

#include "parse.h"

#define ETH_HLEN 14
#define VLAN_HLEN 4
#define IPV4_HLEN 20
#define IPV6_HLEN 40

#define ETYPE_IPV4 0x0800
#define ETYPE_IPV6 0x86dd
#define ETYPE_VLAN 0x8100
#define ETYPE_QINQ 0x88a8
#define ETYPE_QINQ_OLD 0x9100
#define ETYPE_NSH 0x894f
#define ETYPE_NONE 0x05ff /* 802.3 length frames, as Open vSwitch */

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58
#define PROTO_SCTP 132

/* Parser state: the frame, how much of it there is, and the key. */
struct parser {
	const struct rte_mbuf *m;
	uint32_t len; /* pkt_len */
	struct sy_flow_key *key;
	struct parse_layout *lay;
	enum sy_drop_reason *why;
	uint8_t buf[64]; /* for headers that straddle segments */
};

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* len bytes at off; the caller has checked off + len <= end of the layer,
 * which is never beyond pkt_len. */
static inline const uint8_t *
bytes(struct parser *ps, uint32_t off, uint32_t len)
{
	return rte_pktmbuf_read(ps->m, off, len, ps->buf);
}


static inline bool
refuse(struct parser *ps, enum sy_drop_reason why)
{
	*ps->why = why;
	return false;
}

/* TCP/UDP/SCTP/ICMP header of an IP payload [off, end). */
static bool
parse_l4(struct parser *ps, uint8_t proto, uint32_t off, uint32_t end, bool ipv6)
{
	struct sy_flow_key *k = ps->key;
	uint32_t avail = end - off;
	const uint8_t *h;

	switch (proto) {
	case PROTO_TCP: {
		unsigned int doff;

		if (avail < 20)
			return refuse(ps, SY_DROP_L4_TRUNCATED);
		h = bytes(ps, off, 20);
		doff = (h[12] >> 4) * 4u;
		if (doff < 20 || doff > avail)
			return refuse(ps, SY_DROP_L4_TRUNCATED);
		k->tp_src = rd16(h);
		k->tp_dst = rd16(h + 2);
		k->tcp_flags = rd16(h + 12) & 0x0fff;
		ps->lay->hdr_len = (uint16_t)(off + 20);
		break;
	}
	case PROTO_UDP:
	case PROTO_SCTP: {
		uint32_t need = proto == PROTO_UDP ? 8 : 12;

		if (avail < need)
			return refuse(ps, SY_DROP_L4_TRUNCATED);
		h = bytes(ps, off, need);
		k->tp_src = rd16(h);
		k->tp_dst = rd16(h + 2);
		ps->lay->hdr_len = (uint16_t)(off + need);
		break;
	}
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		if ((proto == PROTO_ICMPV6) != ipv6)
			return true; /* ICMP inside IPv6 or ICMPv6 inside IPv4: opaque */
		if (avail < 4) /* type, code, checksum */
			return refuse(ps, SY_DROP_L4_TRUNCATED);
		h = bytes(ps, off, 4);
		k->tp_src = h[0];
		k->tp_dst = h[1];
		ps->lay->hdr_len = (uint16_t)(off + 4);
		break;
	default:
		return true;
	}
	ps->lay->l4_ofs = (uint16_t)off;
	return true;
}

static bool
parse_ipv4(struct parser *ps, uint32_t off)
{
	struct sy_flow_key *k = ps->key;
	uint32_t avail = ps->len - off, ihl, tot;
	uint16_t frag;
	const uint8_t *h;

	if (avail < IPV4_HLEN)
		return refuse(ps, SY_DROP_IP_TRUNCATED);
	h = bytes(ps, off, IPV4_HLEN);
	ihl = (h[0] & 0x0f) * 4u;
	if ((h[0] >> 4) != 4 || ihl < IPV4_HLEN)
		return refuse(ps, SY_DROP_IP_BAD_HEADER);
	if (ihl > avail) /* options past the frame */
		return refuse(ps, SY_DROP_IP_TRUNCATED);
	tot = rd16(h + 2);
	if (tot < ihl)
		return refuse(ps, SY_DROP_IP_BAD_HEADER);
	if (tot > avail)
		return refuse(ps, SY_DROP_IP_TRUNCATED);

	k->nw_tos = h[1];
	k->nw_ttl = h[8];
	k->nw_proto = h[9];
	k->nw_src = rd32(h + 12);
	k->nw_dst = rd32(h + 16);
	frag = rd16(h + 6);
	if (frag & 0x3fff) { /* MF or an offset */
		k->nw_frag = SY_FRAG_ANY;
		if (frag & 0x1fff)
			k->nw_frag |= SY_FRAG_LATER;
	}
	ps->lay->hdr_len = (uint16_t)(off + ihl);
	if (k->nw_frag & SY_FRAG_LATER)
		return true;
	return parse_l4(ps, k->nw_proto, off + ihl, off + tot, false);
}

static bool
parse_ipv6(struct parser *ps, uint32_t off)
{
	struct sy_flow_key *k = ps->key;
	uint32_t avail = ps->len - off, end, pos;
	const uint8_t *h;
	uint8_t nh;

	if (avail < IPV6_HLEN)
		return refuse(ps, SY_DROP_IP_TRUNCATED);
	h = bytes(ps, off, IPV6_HLEN);
	if ((h[0] >> 4) != 6)
		return refuse(ps, SY_DROP_IP_BAD_HEADER);
	if (IPV6_HLEN + (uint32_t)rd16(h + 4) > avail)
		return refuse(ps, SY_DROP_IP_TRUNCATED);

	k->nw_tos = (uint8_t)((h[0] & 0x0f) << 4 | h[1] >> 4);
	k->ipv6_label = rd32(h) & 0xfffff;
	k->nw_ttl = h[7];
	memcpy(k->ipv6_src, h + 8, 16);
	memcpy(k->ipv6_dst, h + 24, 16);
	nh = h[6];
	pos = off + IPV6_HLEN;
	end = pos + rd16(h + 4);

	/* Extension headers, a bounded number of them. */
	for (int i = 0; i < 8; i++) {
		uint32_t elen;
		const uint8_t *e;

		if (nh == 0 || nh == 43 || nh == 60 || nh == 51) {
			if (end - pos < 2)
				return refuse(ps, SY_DROP_IP_TRUNCATED);
			e = bytes(ps, pos, 2);
			elen = nh == 51 ? (e[1] + 2u) * 4 : (e[1] + 1u) * 8;
		} else if (nh == 44) {
			uint16_t fo;

			elen = 8;
			if (end - pos < elen)
				return refuse(ps, SY_DROP_IP_TRUNCATED);
			e = bytes(ps, pos, 8);
			fo = rd16(e + 2);
			if ((fo & 0xfff8) || (fo & 1)) {
				k->nw_frag = SY_FRAG_ANY;
				if (fo & 0xfff8)
					k->nw_frag |= SY_FRAG_LATER;
			}
		} else {
			break;
		}
		if (end - pos < elen)
			return refuse(ps, SY_DROP_IP_TRUNCATED);
		nh = e[0];
		pos += elen;
		if (k->nw_frag & SY_FRAG_LATER)
			break;
	}
	k->nw_proto = nh;
	ps->lay->hdr_len = (uint16_t)pos;
	if (k->nw_frag & SY_FRAG_LATER)
		return true;
	return parse_l4(ps, nh, pos, end, true);
}

/* NSH (RFC 8300): base header, service path header, and for MD type 1
 * the four context headers; MD type 2 TLVs are skipped by the length. */
static bool
parse_nsh(struct parser *ps, uint32_t off)
{
	struct sy_flow_key *k = ps->key;
	uint32_t avail = ps->len - off, len;
	const uint8_t *h;

	if (avail < 8)
		return refuse(ps, SY_DROP_L2_TRUNCATED);
	h = bytes(ps, off, 8);
	len = (h[1] & 0x3fu) * 4;
	if (len < 8 || len > avail || ((h[2] & 0x0f) == 1 && len < 24))
		return refuse(ps, SY_DROP_L2_TRUNCATED);
	k->nsh_ttl = (uint8_t)((h[0] & 0x0f) << 2 | h[1] >> 6);
	k->nsh_mdtype = h[2] & 0x0f;
	k->nsh_np = h[3];
	k->nsh_spi = rd32(h + 4) >> 8;
	k->nsh_si = h[7];
	if (k->nsh_mdtype == 1) {
		h = bytes(ps, off + 8, 16);
		for (int i = 0; i < 4; i++)
			k->nsh_c[i] = rd32(h + 4 * i);
	}
	ps->lay->hdr_len = (uint16_t)(off + len);
	return true;
}

bool
parse_slow(const struct rte_mbuf *m, uint32_t in_port, struct sy_flow_key *key,
	   struct parse_layout *lay, enum sy_drop_reason *why)
{
	struct parser ps; /* buf is scratch: no need to clear it */
	uint32_t off = ETH_HLEN;
	const uint8_t *h;
	uint16_t type;

	ps.m = m;
	ps.len = rte_pktmbuf_pkt_len(m);
	ps.key = key;
	ps.lay = lay;
	ps.why = why;
	parse_key_zero(key);
	memset(lay, 0, sizeof(*lay));
	key->in_port = in_port;
	if (ps.len < ETH_HLEN)
		return refuse(&ps, SY_DROP_RUNT);
	h = bytes(&ps, 0, ETH_HLEN);
	memcpy(key->dl_dst, h, 6);
	memcpy(key->dl_src, h + 6, 6);
	type = rd16(h + 12);

	while ((type == ETYPE_VLAN || type == ETYPE_QINQ || type == ETYPE_QINQ_OLD) &&
	       lay->n_vlan < PARSE_MAX_VLAN) {
		if (ps.len - off < VLAN_HLEN)
			return refuse(&ps, SY_DROP_L2_TRUNCATED);
		h = bytes(&ps, off, VLAN_HLEN);
		if (lay->n_vlan == 0)
			key->vlan_tci = rd16(h) | SY_VLAN_PRESENT;
		type = rd16(h + 2);
		off += VLAN_HLEN;
		lay->n_vlan++;
	}
	key->dl_type = type < 0x600 ? ETYPE_NONE : type;
	lay->l3_ofs = (uint16_t)off;
	lay->hdr_len = (uint16_t)off;

	if (type == ETYPE_IPV4)
		return parse_ipv4(&ps, off);
	if (type == ETYPE_IPV6)
		return parse_ipv6(&ps, off);
	if (type == ETYPE_NSH)
		return parse_nsh(&ps, off);
	return true;
}
