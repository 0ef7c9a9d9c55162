/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sy_pkt.h — building test frames byte by byte, and mbufs from them.
 *
 * pkt_build() writes one frame from a struct pkt_spec: Ethernet, up to two
 * VLAN tags, then IPv4 (with options, fragment bits) or IPv6, then TCP,
 * UDP, ICMP or ICMPv6 and a payload, with every checksum right (computed
 * with DPDK's own rte_ipv4_cksum / rte_ipv4_udptcp_cksum /
 * rte_ipv6_udptcp_cksum).  Tests then cut or corrupt the bytes as they
 * need.  pkt_mbuf() copies bytes into an mbuf, in one segment or in
 * segments of a given size.  Header-only: each test includes it once.
 */
#ifndef SY_PKT_H
#define SY_PKT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

struct pkt_spec {
	uint8_t dst[6], src[6];
	int n_vlan;
	uint16_t tpid[2], tci[2];
	uint16_t l3_type;    /* EtherType after the tags; 0x0800 / 0x86dd build IP */
	uint8_t proto;       /* 6, 17, 1, 58, or anything (raw payload) */
	uint32_t ip_src, ip_dst; /* host order */
	uint8_t ip6_src[16], ip6_dst[16];
	uint32_t label;
	uint8_t tos, ttl;
	uint16_t frag;       /* IPv4 flags+offset field, host order */
	int opt_len;         /* IPv4 option bytes (multiple of 4) */
	bool ip6_frag;       /* add an IPv6 fragment header... */
	uint16_t ip6_frag_off; /* ...with this offset (8-byte units) */
	bool ip6_hbh;        /* add an IPv6 hop-by-hop header */
	uint16_t sport, dport; /* or ICMP type, code */
	uint8_t tcp_flags;
	bool udp_no_csum;
	int payload;         /* bytes after the L4 header */
};

static inline void
pkt_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
pkt_wr32(uint8_t *p, uint32_t v)
{
	pkt_wr16(p, (uint16_t)(v >> 16));
	pkt_wr16(p + 2, (uint16_t)v);
}

static inline uint16_t
pkt_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A frame with sensible defaults: IPv4 UDP 10.0.0.1:1000 -> 10.0.0.2:2000. */
static inline struct pkt_spec
pkt_default(void)
{
	struct pkt_spec s = {
		.dst = { 0x02, 0, 0, 0, 0, 0x02 },
		.src = { 0x02, 0, 0, 0, 0, 0x01 },
		.l3_type = 0x0800,
		.proto = 17,
		.ip_src = 0x0a000001,
		.ip_dst = 0x0a000002,
		.ttl = 64,
		.sport = 1000,
		.dport = 2000,
		.payload = 18,
	};
	for (int i = 0; i < 16; i++) {
		s.ip6_src[i] = (uint8_t)(0x20 + i);
		s.ip6_dst[i] = (uint8_t)(0x40 + i);
	}
	return s;
}

static inline unsigned int
pkt_l4_len(const struct pkt_spec *s)
{
	switch (s->proto) {
	case 6:
		return 20;
	case 17:
		return 8;
	case 1:
	case 58:
		return 8;
	default:
		return 0;
	}
}

/* Writes the frame into out; returns its length. */
static inline size_t
pkt_build(const struct pkt_spec *s, uint8_t *out)
{
	uint8_t *p = out, *ip, *l4;
	unsigned int l4len = pkt_l4_len(s), iplen;
	bool v6 = s->l3_type == 0x86dd, v4 = s->l3_type == 0x0800;
	uint8_t nh = s->proto;

	memcpy(p, s->dst, 6);
	memcpy(p + 6, s->src, 6);
	p += 12;
	for (int i = 0; i < s->n_vlan; i++) {
		pkt_wr16(p, s->tpid[i] ? s->tpid[i] : 0x8100);
		pkt_wr16(p + 2, s->tci[i]);
		p += 4;
	}
	pkt_wr16(p, s->l3_type);
	p += 2;
	ip = p;
	if (v4) {
		unsigned int ihl = 20 + (unsigned int)s->opt_len;

		iplen = ihl + l4len + (unsigned int)s->payload;
		memset(ip, 0, ihl);
		ip[0] = (uint8_t)(0x40 | ihl / 4);
		ip[1] = s->tos;
		pkt_wr16(ip + 2, (uint16_t)iplen);
		pkt_wr16(ip + 4, 0x1234);
		pkt_wr16(ip + 6, s->frag);
		ip[8] = s->ttl;
		ip[9] = s->proto;
		pkt_wr32(ip + 12, s->ip_src);
		pkt_wr32(ip + 16, s->ip_dst);
		for (int i = 0; i < s->opt_len; i++)
			ip[20 + i] = 0x01; /* NOP options */
		((struct rte_ipv4_hdr *)ip)->hdr_checksum =
			rte_ipv4_cksum((struct rte_ipv4_hdr *)ip);
		l4 = ip + ihl;
	} else if (v6) {
		unsigned int ext = (s->ip6_hbh ? 8u : 0u) + (s->ip6_frag ? 8u : 0u);
		uint8_t *e;

		iplen = 40 + ext + l4len + (unsigned int)s->payload;
		memset(ip, 0, 40 + ext);
		pkt_wr32(ip, 0x60000000u | (uint32_t)s->tos << 20 | (s->label & 0xfffff));
		pkt_wr16(ip + 4, (uint16_t)(iplen - 40));
		ip[7] = s->ttl;
		memcpy(ip + 8, s->ip6_src, 16);
		memcpy(ip + 24, s->ip6_dst, 16);
		e = ip + 40;
		if (s->ip6_hbh) {
			ip[6] = 0;
			e[0] = s->ip6_frag ? 44 : nh;
			e[1] = 0; /* 8 bytes */
			e[2] = 1; /* PadN */
			e[3] = 4;
			e += 8;
		} else {
			ip[6] = s->ip6_frag ? 44 : nh;
		}
		if (s->ip6_frag) {
			e[0] = nh;
			pkt_wr16(e + 2, (uint16_t)(s->ip6_frag_off << 3 | 1));
			pkt_wr32(e + 4, 0xabcd);
			e += 8;
		}
		l4 = e;
	} else {
		memset(p, 0xee, (size_t)s->payload);
		return (size_t)(p - out) + (size_t)s->payload;
	}

	memset(l4, 0, l4len);
	for (int i = 0; i < s->payload; i++)
		l4[l4len + i] = (uint8_t)i;
	switch (s->proto) {
	case 6:
		pkt_wr16(l4, s->sport);
		pkt_wr16(l4 + 2, s->dport);
		pkt_wr32(l4 + 4, 1);
		l4[12] = 5 << 4;
		l4[13] = s->tcp_flags;
		pkt_wr16(l4 + 14, 8192);
		break;
	case 17:
		pkt_wr16(l4, s->sport);
		pkt_wr16(l4 + 2, s->dport);
		pkt_wr16(l4 + 4, (uint16_t)(l4len + (unsigned int)s->payload));
		break;
	case 1:
	case 58:
		l4[0] = (uint8_t)s->sport;
		l4[1] = (uint8_t)s->dport;
		break;
	}
	if (l4len) {
		uint16_t c;
		uint8_t *cp = l4 + (s->proto == 6 ? 16 : s->proto == 17 ? 6 : 2);

		if (s->proto == 1)
			c = (uint16_t)~rte_raw_cksum(l4, l4len + (size_t)s->payload);
		else if (v4)
			c = rte_ipv4_udptcp_cksum((struct rte_ipv4_hdr *)ip, l4);
		else
			c = rte_ipv6_udptcp_cksum((struct rte_ipv6_hdr *)ip, l4);
		if (s->proto == 17 && s->udp_no_csum && v4)
			c = 0;
		memcpy(cp, &c, 2);
	}
	(void)iplen;
	return (size_t)(ip - out) + iplen;
}

/* An mbuf holding bytes, in segments of seg bytes (0: one segment). */
static inline struct rte_mbuf *
pkt_mbuf(struct rte_mempool *mp, const uint8_t *bytes, size_t len, size_t seg)
{
	struct rte_mbuf *head = NULL, *last = NULL;
	size_t off = 0;

	if (seg == 0)
		seg = len ? len : 1;
	do {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		size_t n = len - off < seg ? len - off : seg;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), bytes + off, n);
		off += n;
		if (head == NULL) {
			head = m;
		} else {
			last->next = m;
			head->nb_segs++;
			head->pkt_len += (uint32_t)n;
		}
		last = m;
	} while (off < len);
	return head;
}

/* Checks a frame's IPv4 header checksum and its TCP/UDP checksum against
 * a recomputation by DPDK.  l3: offset of the IP header.  Returns 0 when
 * both are right (a UDP checksum of 0 counts as right). */
static inline int
pkt_check_v4(const uint8_t *frame, size_t l3)
{
	uint8_t ipb[60], l4b[2048];
	const uint8_t *ip = frame + l3;
	unsigned int ihl = (ip[0] & 0xf) * 4u, tot = pkt_rd16(ip + 2);
	struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)ipb;
	uint16_t want, got;

	memcpy(ipb, ip, ihl);
	got = h->hdr_checksum;
	h->hdr_checksum = 0;
	want = rte_ipv4_cksum(h);
	if (got != want)
		return -1;
	if ((pkt_rd16(ip + 6) & 0x1fff) || (ip[9] != 6 && ip[9] != 17))
		return 0;
	memcpy(l4b, ip + ihl, tot - ihl);
	{
		uint8_t *cp = l4b + (ip[9] == 6 ? 16 : 6);

		memcpy(&got, cp, 2);
		if (ip[9] == 17 && got == 0)
			return 0;
		memset(cp, 0, 2);
		want = rte_ipv4_udptcp_cksum(h, l4b);
	}
	return got == want ? 0 : -2;
}

/* Same for IPv6 TCP/UDP/ICMPv6 (no extension headers). */
static inline int
pkt_check_v6(const uint8_t *frame, size_t l3)
{
	uint8_t ipb[40], l4b[2048];
	const uint8_t *ip = frame + l3;
	unsigned int plen = pkt_rd16(ip + 4);
	uint16_t want, got;
	uint8_t *cp;

	memcpy(ipb, ip, 40);
	memcpy(l4b, ip + 40, plen);
	cp = l4b + (ip[6] == 6 ? 16 : ip[6] == 17 ? 6 : 2);
	memcpy(&got, cp, 2);
	memset(cp, 0, 2);
	want = rte_ipv6_udptcp_cksum((struct rte_ipv6_hdr *)ipb, l4b);
	return got == want ? 0 : -1;
}

#endif /* SY_PKT_H */
