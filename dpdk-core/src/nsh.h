/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nsh.h — the tagged logical header: NSH (RFC 8300) push, pop, TTL and
 * field rewrites.
 *
 * What?
 *   The paper's logical header, which carries a packet's classification
 *   and a hop limit, is the Network Service Header on the wire (EtherType
 *   0x894f).  push_nsh puts an Ethernet header and an NSH header in front
 *   of the frame, pop_nsh takes them off, dec_nsh_ttl counts a hop and
 *   drops the packet (TAG_TTL_EXPIRED) when the TTL is 0 or 1, as dec_ttl
 *   does for IP and Open vSwitch does for NSH.  set_field rewrites nsh_spi,
 *   nsh_si and (MD type 1) nsh_c1..c4 in place.
 *
 * Header layout (RFC 8300, section 2)
 *   Ver(2)=0 O(1)=0 U(1)=0 TTL(6) Length(6) U(4)=0 MDType(4) NextProto(8)
 *   SPI(24) SI(8)
 *   MD type 1: four 32-bit context headers (Length 6 words);
 *   MD type 2: no TLV pushed (Length 2); pushed TLVs are parsed past.
 *   Next protocol is Ethernet (3): the whole frame, VLAN tags included, is
 *   the payload.  The outer Ethernet header keeps the frame's own MAC
 *   addresses (a later set_field of dl_src/dl_dst changes them).
 *   pop_nsh of Ethernet (3) leaves the inner frame; of IPv4 (1) or IPv6
 *   (2) it gives the packet the outer MACs and the IP EtherType; of any
 *   other next protocol it leaves the packet alone (as OVS's decap() does
 *   on what it cannot decapsulate).
 *
 * The key
 *   A push or a pop re-parses the frame (parse_slow()), keeping in_port,
 *   metadata and tun_id: after a push the key is the NSH packet's (dl_type
 *   0x894f, nsh_*), after a pop it is the inner packet's, matchable as
 *   usual by the next table.  Both are FT_ACTS_OPAQUE for the flow cache
 *   (flow_cache.h): the next key is read from the frame, so a cached path
 *   ends at that hop.
 *
 * Threads
 *   Forwarding lcores, from act_run() (actions.c).
 */
#ifndef SY_NSH_H
#define SY_NSH_H

#include <stdbool.h>

#include <rte_mbuf.h>

#include "actions.h"

#define NSH_ETHERTYPE 0x894f
#define NSH_NP_IPV4 1
#define NSH_NP_IPV6 2
#define NSH_NP_ETHERNET 3
#define NSH_BASE_LEN 8  /* base + service path headers */
#define NSH_MD1_LEN 24  /* ...plus four context headers */

/* Writes the NSH header for (spi, si, ttl, mdtype, ctx) into h, which has
 * room for NSH_MD1_LEN bytes; returns its length.  Exposed for the tests. */
unsigned int nsh_encode(uint8_t *h, uint32_t spi, uint8_t si, uint8_t ttl, uint8_t mdtype,
			const uint32_t ctx[4], uint8_t next_proto);

/* The bytes of a push and a pop, shared by the actions and the NSH port
 * tag (edge.h).  nsh_encap: an Ethernet header (the frame's own MACs,
 * EtherType NSH) and hdr[0..len) in front of m; false without headroom.
 * nsh_decap: takes off the NSH header of length len at offset off (after
 * the outer Ethernet header and any tags), by next protocol np as pop_nsh
 * does; false (m untouched) for a next protocol it cannot pop.  Both need
 * the headers in m's first segment and m writable. */
bool nsh_encap(struct rte_mbuf *m, const uint8_t *hdr, unsigned int len);
bool nsh_decap(struct rte_mbuf *m, uint16_t off, uint16_t len, uint8_t np);

/* The actions: false when the packet stopped (counted). */
bool nsh_push(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p,
	      const struct sy_action *a);
bool nsh_pop(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p);
bool nsh_dec_ttl(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p);

/* Whether set_field of field applies to p (an NSH packet; c1..c4: MD type
 * 1), and writing the key's new value into the frame. */
bool nsh_field_present(const struct act_pkt *p, unsigned int field);
void nsh_write_field(struct act_pkt *p, unsigned int field);

#endif /* SY_NSH_H */
