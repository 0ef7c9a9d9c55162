/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * parse.h — one packet into one flow key.
 *
 * What?
 *   parse_packet() reads a frame once and fills a struct sy_flow_key (all
 *   integers in host byte order, see flow.h) plus the offsets the actions
 *   need to rewrite it.  It understands Ethernet, up to two 802.1Q/802.1ad
 *   tags (the outer one goes to vlan_tci), IPv4 with options, IPv6 with its
 *   extension headers (hop-by-hop, routing, fragment, destination options,
 *   AH), fragments (nw_frag), and TCP, UDP, SCTP, ICMP and ICMPv6 headers.
 *   NSH (RFC 8300, EtherType 0x894f) fills the nsh_* fields and stops
 *   there, as in Open vSwitch: the packet inside is parsed once the tag
 *   is popped (nsh.h).  Other EtherTypes leave the key at L2; 802.3 length
 *   frames get dl_type 0x05ff, as in Open vSwitch.
 *
 *   The commonest frame (untagged IPv4 without options, UDP or TCP, in one
 *   segment) takes parse_fast(), inline in the caller's loop; it writes
 *   the very key and layout the layered parser (parse_slow()) would, and
 *   leaves every other frame to it.
 *
 * Invariants
 *   - Nothing past the end of the packet is ever read: every header is
 *     checked against pkt_len before it is touched, and read through
 *     rte_pktmbuf_read(), which also copes with multi-segment mbufs.
 *   - A frame that is cut short or malformed is refused with the reason to
 *     count (RUNT, L2_TRUNCATED, IP_TRUNCATED, IP_BAD_HEADER, L4_TRUNCATED);
 *     the caller drops it.  Ethernet padding after the IP datagram is fine.
 *   - An IP fragment other than the first has no L4 fields (SY_FRAG_LATER).
 *   - The wire DEI bit of the outer tag is not kept: in the key its position
 *     is SY_VLAN_PRESENT (as in Open vSwitch).
 *
 * Threads
 *   Pure function of its arguments: any lcore.
 */
#ifndef SY_PARSE_H
#define SY_PARSE_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include <switchyard/flow.h>
#include <switchyard/proto.h>

#define PARSE_MAX_VLAN 2

/* The key words parse_packet() may set, one bit per word: in_port to the
 * L4 ports (words 1-9), NSH (words 10-12) and ipv6_label (word 14).  The
 * others (metadata, tun_id, padding) are zero in every parsed key; the flow
 * cache leaves them out of its megaflow masks.  Keep this in step with the
 * parser. */
#define PARSE_KEY_WORDS 0x5ffeu

/* Where the headers the actions rewrite begin (bytes from the frame start). */
struct parse_layout {
	uint16_t l3_ofs;  /* after Ethernet and VLAN tags (the NSH header, if any) */
	uint16_t l4_ofs;  /* TCP/UDP/SCTP/ICMP header; 0 if none was parsed */
	uint16_t hdr_len; /* end of the last header parsed (what rewrites touch) */
	uint8_t n_vlan;   /* tags parsed (at most PARSE_MAX_VLAN) */
	uint8_t pad;
};

/* The layered parser, for any frame (parse_packet() tries parse_fast()
 * first). */
bool parse_slow(const struct rte_mbuf *m, uint32_t in_port, struct sy_flow_key *key,
		struct parse_layout *lay, enum sy_drop_reason *why);

#define PARSE_ETH_HLEN 14
#define PARSE_IPV4_HLEN 20

static inline uint16_t
parse_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
parse_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Clears the 128-byte key with plain vector stores: a memset of this size
 * becomes "rep stos", which costs more than the rest of a UDP parse. */
static inline void
parse_key_zero(struct sy_flow_key *key)
{
	typedef uint64_t v2u64 __attribute__((vector_size(16), aligned(8)));
	v2u64 *v = (v2u64 *)key;

	/* spelled out: gcc turns the loop back into a memset */
	v[0] = (v2u64){ 0, 0 };
	v[1] = (v2u64){ 0, 0 };
	v[2] = (v2u64){ 0, 0 };
	v[3] = (v2u64){ 0, 0 };
	v[4] = (v2u64){ 0, 0 };
	v[5] = (v2u64){ 0, 0 };
	v[6] = (v2u64){ 0, 0 };
	v[7] = (v2u64){ 0, 0 };
}
static_assert(sizeof(struct sy_flow_key) == 8 * 16, "parse_key_zero clears 8 x 16 bytes");

/* An untagged frame of an EtherType the parser does not look into (ARP,
 * LLDP, an 802.3 length...): the key is its Ethernet header.  False for
 * the types parse_slow() goes into. */
static inline bool
parse_fast_l2(const struct rte_mbuf *m, uint32_t in_port, struct sy_flow_key *k,
	      struct parse_layout *lay)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t type = parse_rd16(d + 12);

	if (type == 0x0800 || type == 0x86dd || type == 0x8100 || type == 0x88a8 ||
	    type == 0x9100 || type == 0x894f)
		return false;
	parse_key_zero(k);
	k->in_port = in_port;
	k->dl_type = type < 0x600 ? 0x05ff : type;
	memcpy(k->dl_dst, d, 12); /* dl_dst, dl_src */
	lay->l3_ofs = PARSE_ETH_HLEN;
	lay->l4_ofs = 0;
	lay->hdr_len = PARSE_ETH_HLEN;
	lay->n_vlan = 0;
	lay->pad = 0;
	return true;
}

/* The common frame in one go: untagged IPv4 without options, not a
 * fragment, UDP or TCP, every header in the first segment and valid.  It
 * writes every byte of key and lay, exactly what the layered parser below
 * would; anything else, valid or not, is left to that parser (returns
 * false, having written nothing). */
static inline bool
parse_fast(const struct rte_mbuf *m, uint32_t in_port, struct sy_flow_key *k,
	   struct parse_layout *lay)
{
	typedef uint64_t v2u64 __attribute__((vector_size(16), aligned(8)));
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *), *ip = d + PARSE_ETH_HLEN, *l4;
	uint32_t dlen = rte_pktmbuf_data_len(m), tot, need;
	uint16_t flags = 0;

	if (unlikely(dlen < PARSE_ETH_HLEN))
		return false;
	if (parse_rd16(d + 12) != 0x0800)
		return parse_fast_l2(m, in_port, k, lay);
	if (unlikely(dlen < PARSE_ETH_HLEN + PARSE_IPV4_HLEN + 8) || ip[0] != 0x45 ||
	    (parse_rd16(ip + 6) & 0x3fff))
		return false;
	tot = parse_rd16(ip + 2);
	if (tot < PARSE_IPV4_HLEN || tot > rte_pktmbuf_pkt_len(m) - PARSE_ETH_HLEN)
		return false;
	l4 = ip + PARSE_IPV4_HLEN;
	if (ip[9] == 17) {
		need = 8;
	} else if (ip[9] == 6) {
		need = 20;
		if (tot - PARSE_IPV4_HLEN < 20 || dlen < PARSE_ETH_HLEN + PARSE_IPV4_HLEN + 20 ||
		    (l4[12] >> 4) * 4u < 20 || (l4[12] >> 4) * 4u > tot - PARSE_IPV4_HLEN)
			return false;
		flags = parse_rd16(l4 + 12) & 0x0fff;
	} else {
		return false;
	}
	if (tot - PARSE_IPV4_HLEN < need)
		return false;
	/* the words no field of this frame lives in: zero */
	k->metadata = 0;
	((v2u64 *)k->ipv6_src)[0] = (v2u64){ 0, 0 };
	((v2u64 *)k->ipv6_dst)[0] = (v2u64){ 0, 0 };
	((v2u64 *)&k->nsh_spi)[0] = (v2u64){ 0, 0 };
	((v2u64 *)&k->nsh_c[2])[0] = (v2u64){ 0, 0 };
	((v2u64 *)&k->ipv6_label)[0] = (v2u64){ 0, 0 };
	/* and the fields, every one of words 1-4 and 9 */
	k->in_port = in_port;
	k->dl_type = 0x0800;
	k->vlan_tci = 0;
	memcpy(k->dl_dst, d, 12); /* dl_dst, dl_src */
	k->nw_proto = ip[9];
	k->nw_tos = ip[1];
	k->nw_ttl = ip[8];
	k->nw_frag = 0;
	k->nw_src = parse_rd32(ip + 12);
	k->nw_dst = parse_rd32(ip + 16);
	k->tp_src = parse_rd16(l4);
	k->tp_dst = parse_rd16(l4 + 2);
	k->tcp_flags = flags;
	k->nsh_mdtype = 0;
	k->nsh_np = 0;
	lay->l3_ofs = PARSE_ETH_HLEN;
	lay->l4_ofs = PARSE_ETH_HLEN + PARSE_IPV4_HLEN;
	lay->hdr_len = (uint16_t)(PARSE_ETH_HLEN + PARSE_IPV4_HLEN + need);
	lay->n_vlan = 0;
	lay->pad = 0;
	return true;
}
static_assert(offsetof(struct sy_flow_key, ipv6_src) == 40 &&
	      offsetof(struct sy_flow_key, nsh_spi) == 80 &&
	      offsetof(struct sy_flow_key, nsh_c) == 88 &&
	      offsetof(struct sy_flow_key, ipv6_label) == 112 &&
	      offsetof(struct sy_flow_key, dl_src) == offsetof(struct sy_flow_key, dl_dst) + 6,
	      "parse_fast knows the key's layout");

/* Fills key and lay from m received on port in_port.  Returns true, or
 * false with *why set when the frame is malformed and must be dropped. */
static inline bool
parse_packet(const struct rte_mbuf *m, uint32_t in_port, struct sy_flow_key *key,
	     struct parse_layout *lay, enum sy_drop_reason *why)
{
	if (likely(parse_fast(m, in_port, key, lay)))
		return true;
	return parse_slow(m, in_port, key, lay, why);
}

#endif /* SY_PARSE_H */
