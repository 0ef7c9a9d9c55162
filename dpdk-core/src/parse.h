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
 *   Other EtherTypes leave the key at L2; 802.3 length frames get dl_type
 *   0x05ff, as in Open vSwitch.
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

#include <stdbool.h>
#include <stdint.h>

#include <switchyard/flow.h>
#include <switchyard/proto.h>

struct rte_mbuf;

#define PARSE_MAX_VLAN 2

/* Where the headers the actions rewrite begin (bytes from the frame start). */
struct parse_layout {
	uint16_t l3_ofs;  /* after Ethernet and VLAN tags */
	uint16_t l4_ofs;  /* TCP/UDP/SCTP/ICMP header; 0 if none was parsed */
	uint16_t hdr_len; /* end of the last header parsed (what rewrites touch) */
	uint8_t n_vlan;   /* tags parsed (at most PARSE_MAX_VLAN) */
	uint8_t pad;
};

/* Fills key and lay from m received on port in_port.  Returns true, or
 * false with *why set when the frame is malformed and must be dropped. */
bool parse_packet(const struct rte_mbuf *m, uint32_t in_port, struct sy_flow_key *key,
		  struct parse_layout *lay, enum sy_drop_reason *why);

#endif /* SY_PARSE_H */
