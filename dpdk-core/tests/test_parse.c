/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_parse.c — parse_packet(): every header it knows into the flow key,
 * and every malformed frame refused with its drop reason, never reading
 * past the end of the packet.
 */
#include <rte_mbuf.h>

#include "parse.h"
#include "sy_test.h"
#include "sy_pkt.h"

static struct rte_mempool *mp;

struct result {
	bool ok;
	enum sy_drop_reason why;
	struct sy_flow_key key;
	struct parse_layout lay;
};

static struct result
parse_bytes(const uint8_t *b, size_t len, size_t seg)
{
	struct result r;
	struct rte_mbuf *m = pkt_mbuf(mp, b, len, seg);

	memset(&r, 0, sizeof(r));
	r.why = SY_DROP__MAX;
	if (m == NULL) {
		fprintf(stderr, "out of mbufs\n");
		return r;
	}
	r.ok = parse_packet(m, 7, &r.key, &r.lay, &r.why);
	rte_pktmbuf_free(m);
	return r;
}

static struct result
parse_spec(const struct pkt_spec *s)
{
	uint8_t b[2048];

	return parse_bytes(b, pkt_build(s, b), 0);
}

static void
l2_only(void)
{
	struct pkt_spec s = pkt_default();
	struct result r;

	s.l3_type = 0x0806;
	s.payload = 28;
	r = parse_spec(&s);
	CHECK(r.ok);
	CHECK_EQ(r.key.in_port, 7);
	CHECK_EQ(r.key.dl_type, 0x0806);
	CHECK(memcmp(r.key.dl_dst, s.dst, 6) == 0);
	CHECK(memcmp(r.key.dl_src, s.src, 6) == 0);
	CHECK_EQ(r.key.vlan_tci, 0);
	CHECK_EQ(r.key.nw_proto, 0);
	CHECK_EQ(r.lay.l3_ofs, 14);
	CHECK_EQ(r.lay.l4_ofs, 0);

	s.l3_type = 0x0050; /* an 802.3 length */
	r = parse_spec(&s);
	CHECK(r.ok);
	CHECK_EQ(r.key.dl_type, 0x05ff);
}

static void
runt(void)
{
	uint8_t b[13] = { 0 };
	struct result r = parse_bytes(b, sizeof(b), 0);

	CHECK(!r.ok);
	CHECK_EQ(r.why, SY_DROP_RUNT);
	r = parse_bytes(b, 0, 0);
	CHECK(!r.ok);
	CHECK_EQ(r.why, SY_DROP_RUNT);
}

static void
vlan(void)
{
	struct pkt_spec s = pkt_default();
	struct result r;

	s.n_vlan = 1;
	s.tci[0] = 0xa00a; /* pcp 5, vid 10 */
	r = parse_spec(&s);
	CHECK(r.ok);
	CHECK_EQ(r.key.vlan_tci, 0xa00a | SY_VLAN_PRESENT);
	CHECK_EQ(r.key.dl_type, 0x0800);
	CHECK_EQ(r.key.nw_src, 0x0a000001);
	CHECK_EQ(r.key.tp_dst, 2000);
	CHECK_EQ(r.lay.n_vlan, 1);
	CHECK_EQ(r.lay.l3_ofs, 18);
	CHECK_EQ(r.lay.l4_ofs, 38);

	/* 802.1ad outer, 802.1Q inner: the outer tag is the one in the key */
	s.n_vlan = 2;
	s.tpid[0] = 0x88a8;
	s.tci[0] = 0x0064;
	s.tpid[1] = 0x8100;
	s.tci[1] = 0x00c8;
	r = parse_spec(&s);
	CHECK(r.ok);
	CHECK_EQ(r.key.vlan_tci, 0x0064 | SY_VLAN_PRESENT);
	CHECK_EQ(r.key.dl_type, 0x0800);
	CHECK_EQ(r.lay.l3_ofs, 22);
	CHECK_EQ(r.key.tp_src, 1000);
}

static void
vlan_truncated(void)
{
	uint8_t b[2048];
	struct pkt_spec s = pkt_default();
	struct result r;

	s.n_vlan = 1;
	pkt_build(&s, b);
	r = parse_bytes(b, 16, 0); /* the tag is cut after 2 bytes */
	CHECK(!r.ok);
	CHECK_EQ(r.why, SY_DROP_L2_TRUNCATED);
	r = parse_bytes(b, 18, 0); /* the whole tag, then nothing */
	CHECK(!r.ok);
	CHECK_EQ(r.why, SY_DROP_IP_TRUNCATED);
}

static void
ipv4_tcp(void)
{
	struct pkt_spec s = pkt_default();
	struct result r;

	s.proto = 6;
	s.tos = 0xb8;
	s.ttl = 17;
	s.tcp_flags = 0x12; /* SYN ACK */
	s.sport = 443;
	s.dport = 51000;
	r = parse_spec(&s);
	CHECK(r.ok);
	CHECK_EQ(r.key.dl_type, 0x0800);
	CHECK_EQ(r.key.nw_proto, 6);
	CHECK_EQ(r.key.nw_src, 0x0a000001);
	CHECK_EQ(r.key.nw_dst, 0x0a000002);
	CHECK_EQ(r.key.nw_tos, 0xb8);
	CHECK_EQ(r.key.nw_ttl, 17);
	CHECK_EQ(r.key.nw_frag, 0);
	CHECK_EQ(r.key.tp_src, 443);
	CHECK_EQ(r.key.tp_dst, 51000);
	CHECK_EQ(r.key.tcp_flags, 0x12);
	CHECK_EQ(r.lay.l4_ofs, 34);
	CHECK_EQ(r.lay.hdr_len, 54);
}

static void
ipv4_udp_and_padding(void)
{
	uint8_t b[2048];
	struct pkt_spec s = pkt_default();
	struct result r;
	size_t len;

	s.payload = 0; /* 14 + 28 bytes: Ethernet pads to 60 */
	len = pkt_build(&s, b);
	CHECK_EQ(len, 42);
	memset(b + len, 0, 18);
	r = parse_bytes(b, 60, 0);
	CHECK(r.ok);
	CHECK_EQ(r.key.nw_proto, 17);
	CHECK_EQ(r.key.tp_src, 1000);
	CHECK_EQ(r.key.tp_dst, 2000);
}

static void
ipv4_options(void)
{
	struct pkt_spec s = pkt_default();
	struct result r;

	s.opt_len = 12;
	s.proto = 6;
	s.sport = 22;
	s.dport = 2222;
	r = parse_spec(&s);
	CHECK(r.ok);
	CHECK_EQ(r.lay.l4_ofs, 14 + 32);
	CHECK_EQ(r.key.tp_src, 22);
	CHECK_EQ(r.key.tp_dst, 2222);

	s.opt_len = 40; /* IHL 15, the largest */
	r = parse_spec(&s);
	CHECK(r.ok);
	CHECK_EQ(r.lay.l4_ofs, 14 + 60);
	CHECK_EQ(r.key.tp_dst, 2222);
}

static void
ipv4_icmp(void)
{
	struct pkt_spec s = pkt_default();
	struct result r;

	s.proto = 1;
	s.sport = 8; /* echo request */
	s.dport = 0;
	r = parse_spec(&s);
	CHECK(r.ok);
	CHECK_EQ(r.key.nw_proto, 1);
	CHECK_EQ(r.key.tp_src, 8);
	CHECK_EQ(r.key.tp_dst, 0);

	s.sport = 3; /* unreachable, port */
	s.dport = 3;
	r = parse_spec(&s);
	CHECK_EQ(r.key.tp_src, 3);
	CHECK_EQ(r.key.tp_dst, 3);
}

static void
ipv4_fragments(void)
{
	struct pkt_spec s = pkt_default();
	struct result r;

	s.frag = 0x2000; /* MF, offset 0: the first fragment has the ports */
	r = parse_spec(&s);
	CHECK(r.ok);
	CHECK_EQ(r.key.nw_frag, SY_FRAG_ANY);
	CHECK_EQ(r.key.tp_src, 1000);

	s.frag = 0x0010; /* offset 128 bytes, last fragment */
	r = parse_spec(&s);
	CHECK(r.ok);
	CHECK_EQ(r.key.nw_frag, SY_FRAG_ANY | SY_FRAG_LATER);
	CHECK_EQ(r.key.nw_proto, 17);
	CHECK_EQ(r.key.tp_src, 0);
	CHECK_EQ(r.key.tp_dst, 0);
	CHECK_EQ(r.lay.l4_ofs, 0);

	s.frag = 0x4000; /* DF alone is not a fragment */
	r = parse_spec(&s);
	CHECK_EQ(r.key.nw_frag, 0);
}

static void
ipv4_malformed(void)
{
	uint8_t b[2048];
	struct pkt_spec s = pkt_default();
	struct result r;
	size_t len;

	len = pkt_build(&s, b);
	r = parse_bytes(b, 14 + 19, 0); /* header cut short */
	CHECK(!r.ok);
	CHECK_EQ(r.why, SY_DROP_IP_TRUNCATED);

	b[14] = 0x55; /* version 5 */
	r = parse_bytes(b, len, 0);
	CHECK(!r.ok);
	CHECK_EQ(r.why, SY_DROP_IP_BAD_HEADER);
	b[14] = 0x44; /* IHL 4 */
	r = parse_bytes(b, len, 0);
	CHECK(!r.ok);
	CHECK_EQ(r.why, SY_DROP_IP_BAD_HEADER);
	b[14] = 0x4f; /* IHL 15: 60 bytes of header in a 46-byte datagram */
	r = parse_bytes(b, 14 + 46, 0);
	CHECK(!r.ok);
	CHECK_EQ(r.why, SY_DROP_IP_TRUNCATED);
	b[14] = 0x45;

	pkt_wr16(b + 16, 19); /* total length under the header */
	r = parse_bytes(b, len, 0);
	CHECK(!r.ok);
	CHECK_EQ(r.why, SY_DROP_IP_BAD_HEADER);
	pkt_wr16(b + 16, (uint16_t)(len - 14 + 1)); /* one byte more than the frame */
	r = parse_bytes(b, len, 0);
	CHECK(!r.ok);
	CHECK_EQ(r.why, SY_DROP_IP_TRUNCATED);
}

static void
l4_truncated(void)
{
	uint8_t b[2048];
	struct pkt_spec s = pkt_default();
	struct result r;
	const uint8_t protos[] = { 6, 17, 1 };
	const unsigned int need[] = { 20, 8, 4 };

	/* a consistent IP datagram whose payload is too short for the L4
	 * header; the frame itself has more bytes (padding) */
	for (unsigned int i = 0; i < 3; i++) {
		s.proto = protos[i];
		s.payload = 0;
		pkt_build(&s, b);
		pkt_wr16(b + 16, (uint16_t)(20 + need[i] - 1));
		b[24] = b[25] = 0; /* the header checksum is not checked */
		r = parse_bytes(b, 14 + 20 + 30, 0);
		CHECK(!r.ok);
		CHECK_EQ(r.why, SY_DROP_L4_TRUNCATED);
		pkt_wr16(b + 16, (uint16_t)(20 + need[i]));
		r = parse_bytes(b, 14 + 20 + 30, 0);
		CHECK(r.ok);
	}

	s.proto = 6; /* data offset 4: under the TCP header size */
	pkt_build(&s, b);
	b[14 + 20 + 12] = 4 << 4;
	r = parse_bytes(b, 14 + 20 + 20 + 18, 0);
	CHECK(!r.ok);
	CHECK_EQ(r.why, SY_DROP_L4_TRUNCATED);
	b[14 + 20 + 12] = 15 << 4; /* data offset 60 bytes, past the datagram */
	r = parse_bytes(b, 14 + 20 + 20 + 18, 0);
	CHECK(!r.ok);
	CHECK_EQ(r.why, SY_DROP_L4_TRUNCATED);
}

static void
ipv6_tcp(void)
{
	struct pkt_spec s = pkt_default();
	struct result r;

	s.l3_type = 0x86dd;
	s.proto = 6;
	s.tos = 0x2e;
	s.label = 0x12345;
	s.ttl = 9;
	s.sport = 80;
	s.dport = 8080;
	s.tcp_flags = 0x02;
	r = parse_spec(&s);
	CHECK(r.ok);
	CHECK_EQ(r.key.dl_type, 0x86dd);
	CHECK_EQ(r.key.nw_proto, 6);
	CHECK_EQ(r.key.nw_tos, 0x2e);
	CHECK_EQ(r.key.ipv6_label, 0x12345);
	CHECK_EQ(r.key.nw_ttl, 9);
	CHECK(memcmp(r.key.ipv6_src, s.ip6_src, 16) == 0);
	CHECK(memcmp(r.key.ipv6_dst, s.ip6_dst, 16) == 0);
	CHECK_EQ(r.key.nw_src, 0);
	CHECK_EQ(r.key.tp_src, 80);
	CHECK_EQ(r.key.tp_dst, 8080);
	CHECK_EQ(r.key.tcp_flags, 0x02);
	CHECK_EQ(r.lay.l4_ofs, 54);
}

static void
ipv6_ext_and_fragments(void)
{
	struct pkt_spec s = pkt_default();
	struct result r;

	s.l3_type = 0x86dd;
	s.ip6_hbh = true;
	r = parse_spec(&s);
	CHECK(r.ok);
	CHECK_EQ(r.key.nw_proto, 17);
	CHECK_EQ(r.key.tp_src, 1000);
	CHECK_EQ(r.lay.l4_ofs, 14 + 48);

	s.ip6_frag = true; /* first fragment: M set, offset 0 */
	r = parse_spec(&s);
	CHECK(r.ok);
	CHECK_EQ(r.key.nw_frag, SY_FRAG_ANY);
	CHECK_EQ(r.key.nw_proto, 17);
	CHECK_EQ(r.key.tp_dst, 2000);

	s.ip6_frag_off = 10; /* a later one */
	r = parse_spec(&s);
	CHECK(r.ok);
	CHECK_EQ(r.key.nw_frag, SY_FRAG_ANY | SY_FRAG_LATER);
	CHECK_EQ(r.key.nw_proto, 17);
	CHECK_EQ(r.key.tp_src, 0);
	CHECK_EQ(r.lay.l4_ofs, 0);
}

static void
icmpv6(void)
{
	struct pkt_spec s = pkt_default();
	struct result r;

	s.l3_type = 0x86dd;
	s.proto = 58;
	s.sport = 135; /* neighbour solicitation */
	s.dport = 0;
	r = parse_spec(&s);
	CHECK(r.ok);
	CHECK_EQ(r.key.nw_proto, 58);
	CHECK_EQ(r.key.tp_src, 135);
	CHECK_EQ(r.key.tp_dst, 0);
}

static void
ipv6_malformed(void)
{
	uint8_t b[2048];
	struct pkt_spec s = pkt_default();
	struct result r;
	size_t len;

	s.l3_type = 0x86dd;
	len = pkt_build(&s, b);
	r = parse_bytes(b, 14 + 39, 0);
	CHECK(!r.ok);
	CHECK_EQ(r.why, SY_DROP_IP_TRUNCATED);
	r = parse_bytes(b, len - 1, 0); /* payload length one past the frame */
	CHECK(!r.ok);
	CHECK_EQ(r.why, SY_DROP_IP_TRUNCATED);
	b[14] = 0x40; /* version 4 in an IPv6 frame */
	r = parse_bytes(b, len, 0);
	CHECK(!r.ok);
	CHECK_EQ(r.why, SY_DROP_IP_BAD_HEADER);

	/* a hop-by-hop header that claims more than the payload */
	s.ip6_hbh = true;
	s.payload = 0;
	s.proto = 59; /* no next header */
	len = pkt_build(&s, b);
	b[14 + 40 + 1] = 3; /* 32 bytes */
	r = parse_bytes(b, len, 0);
	CHECK(!r.ok);
	CHECK_EQ(r.why, SY_DROP_IP_TRUNCATED);

	/* a UDP header cut by the payload length */
	s = pkt_default();
	s.l3_type = 0x86dd;
	s.payload = 0;
	len = pkt_build(&s, b);
	pkt_wr16(b + 14 + 4, 7);
	r = parse_bytes(b, len, 0);
	CHECK(!r.ok);
	CHECK_EQ(r.why, SY_DROP_L4_TRUNCATED);
}

static bool
same(const struct result *a, const struct result *b)
{
	if (a->ok != b->ok)
		return false;
	if (!a->ok)
		return a->why == b->why;
	return memcmp(&a->key, &b->key, sizeof(a->key)) == 0 &&
	       memcmp(&a->lay, &b->lay, sizeof(a->lay)) == 0;
}

/* Every prefix of every kind of frame: contiguous, poisoned after its end
 * with two different patterns, and in one-byte segments (where any read
 * past the end would find no segment) must all parse alike. */
static void
never_past_the_end(void)
{
	struct pkt_spec specs[8];
	int n = 0;

	specs[n] = pkt_default();
	specs[n].proto = 6;
	specs[n].opt_len = 8;
	n++;
	specs[n] = pkt_default();
	specs[n].n_vlan = 2;
	n++;
	specs[n] = pkt_default();
	specs[n].proto = 1;
	n++;
	specs[n] = pkt_default();
	specs[n].l3_type = 0x86dd;
	specs[n].ip6_hbh = true;
	specs[n].ip6_frag = true;
	specs[n].proto = 6;
	n++;
	specs[n] = pkt_default();
	specs[n].l3_type = 0x86dd;
	specs[n].proto = 58;
	n++;

	for (int i = 0; i < n; i++) {
		uint8_t b[2048];
		size_t len = pkt_build(&specs[i], b);

		for (size_t cut = 0; cut <= len; cut++) {
			struct rte_mbuf *m;
			struct result a, c, d;

			m = pkt_mbuf(mp, b, cut, 0);
			memset(rte_pktmbuf_mtod_offset(m, uint8_t *, cut), 0x00,
			       rte_pktmbuf_tailroom(m));
			memset(&a, 0, sizeof(a));
			a.ok = parse_packet(m, 7, &a.key, &a.lay, &a.why);
			memset(rte_pktmbuf_mtod_offset(m, uint8_t *, cut), 0xff,
			       rte_pktmbuf_tailroom(m));
			memset(&c, 0, sizeof(c));
			c.ok = parse_packet(m, 7, &c.key, &c.lay, &c.why);
			rte_pktmbuf_free(m);
			d = parse_bytes(b, cut, 1);
			CHECK(same(&a, &c));
			CHECK(same(&a, &d));
			if (cut < len) /* a prefix is always cut short somewhere */
				CHECK(!a.ok);
			if (cut == len)
				CHECK(a.ok);
			if (!same(&a, &c) || !same(&a, &d)) {
				fprintf(stderr, "  frame %d cut at %zu\n", i, cut);
				return;
			}
		}
	}
}

static void
multi_segment(void)
{
	uint8_t b[2048];
	struct pkt_spec s = pkt_default();
	struct result one, seg;
	size_t len;

	s.proto = 6;
	s.n_vlan = 1;
	s.tci[0] = 5;
	s.opt_len = 4;
	len = pkt_build(&s, b);
	one = parse_bytes(b, len, 0);
	seg = parse_bytes(b, len, 7);
	CHECK(one.ok);
	CHECK(same(&one, &seg));
	CHECK_EQ(seg.key.tp_dst, 2000);
}

/* parse_packet() takes parse_fast() for the common frames: it must say
 * exactly what the layered parser says, for those frames and for every
 * frame near them (random bytes and lengths around UDP, TCP and L2
 * frames). */
static void
fast_path_matches_layered(void)
{
	uint64_t x = 88172645463325252ull;
	unsigned int differ = 0, fast = 0;

	for (unsigned int i = 0; i < 20000; i++) {
		struct pkt_spec s = pkt_default();
		struct result a, b;
		struct rte_mbuf *m;
		uint8_t f[2048];
		size_t len;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		s.proto = (x & 1) ? 6 : 17;
		s.payload = (int)((x >> 8) % 40);
		if ((x >> 16) % 5 == 0)
			s.l3_type = (x >> 20) % 3 ? 0x0806 : 0x0042; /* ARP, 802.3 */
		len = pkt_build(&s, f);
		/* a few random bytes changed, and sometimes the length */
		for (unsigned int k = 0; k < (x >> 24) % 4; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			f[12 + (x >> 5) % (len - 12)] = (uint8_t)(x >> 40);
		}
		if ((x >> 33) % 4 == 0)
			len = 10 + (x >> 35) % len;
		m = pkt_mbuf(mp, f, len, 0);
		if (m == NULL)
			break;
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		a.ok = parse_packet(m, 7, &a.key, &a.lay, &a.why);
		b.ok = parse_slow(m, 7, &b.key, &b.lay, &b.why);
		fast += parse_fast(m, 7, &a.key, &a.lay);
		rte_pktmbuf_free(m);
		if (a.ok != b.ok || (a.ok && (memcmp(&a.key, &b.key, sizeof(a.key)) ||
					      memcmp(&a.lay, &b.lay, sizeof(a.lay)))) ||
		    (!a.ok && a.why != b.why))
			differ++;
	}
	CHECK_EQ(differ, 0);
	CHECK(fast > 10000); /* the fast path was taken, mostly */
}

int
main(void)
{
	if (sy_test_eal_init("parse", NULL) < 0) {
		fprintf(stderr, "cannot start EAL\n");
		return 1;
	}
	mp = rte_pktmbuf_pool_create("test_parse", 4096, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     (int)rte_socket_id());
	if (mp == NULL) {
		fprintf(stderr, "cannot create a mempool\n");
		return 1;
	}
	RUN(l2_only);
	RUN(runt);
	RUN(vlan);
	RUN(vlan_truncated);
	RUN(ipv4_tcp);
	RUN(ipv4_udp_and_padding);
	RUN(ipv4_options);
	RUN(ipv4_icmp);
	RUN(ipv4_fragments);
	RUN(ipv4_malformed);
	RUN(l4_truncated);
	RUN(ipv6_tcp);
	RUN(ipv6_ext_and_fragments);
	RUN(icmpv6);
	RUN(ipv6_malformed);
	RUN(never_past_the_end);
	RUN(multi_segment);
	RUN(fast_path_matches_layered);
	rte_mempool_free(mp);
	sy_test_eal_fini();
	return sy_test_summary();
}
