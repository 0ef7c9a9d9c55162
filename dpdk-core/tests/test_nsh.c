/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nsh.c — the tagged header (NSH, RFC 8300) on real mbufs and net_ring
 * ports: every byte push_nsh writes (version, O bit, TTL, length, MD type,
 * next protocol, SPI, SI, context headers) for MD types 1 and 2; the key
 * after a push and after a pop (the inner packet matchable again); pop of
 * IPv4 and of MD type 2 with a TLV; dec_nsh_ttl's bytes and its expiry
 * (tag_ttl_expired); set_field of nsh_spi, nsh_si and nsh_c1; no headroom;
 * chained mbufs; the validation of push_nsh's arguments; and through the
 * pipeline and its flow cache, NSH packets that differ only in nsh_spi or
 * only inside the tag go where their own rules say.
 *
 * net_ring ports loop back: what the switch sends on a port can be read
 * with rte_eth_rx_burst on that port.
 */
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "actions.h"
#include "datapath.h"
#include "nsh.h"
#include "parse.h"
#include "pipeline.h"
#include "sy_act.h"
#include "sy_flowmod.h"
#include "sy_pkt.h"
#include "sy_test.h"

enum { A = 1, B = 2 };
static uint16_t dpdk[3];
static struct pl_lcore *lc;

static void
clear_stats(void)
{
	sy_port_counters_clear();
}

/* Runs a[0..n) on frame received on A (in segments of seg bytes, 0: one). */
static int
run(const uint8_t *frame, size_t len, size_t seg, const struct sy_action *a, unsigned int n,
    struct act_pkt *p)
{
	return sy_act_run_frame(lc, A, frame, len, seg, a, n, p);
}

static size_t
sent_one(uint32_t id, uint8_t *buf)
{
	return sy_sent_one(dpdk[id], id, buf);
}

static struct sy_action
push_nsh(uint32_t spi, uint8_t si, uint8_t ttl, uint8_t mdtype, const uint32_t c[4])
{
	struct sy_action a = { .type = SY_ACT_PUSH_NSH, .arg = SY_NSH_ARG(spi, si),
			       .mask = SY_NSH_MASK(mdtype, ttl) };

	if (c)
		memcpy(a.value.bytes, c, 16);
	return a;
}

static const uint32_t ctx[4] = { 0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00 };

/* push_nsh MD type 1: every byte of the header, the outer Ethernet header,
 * the untouched inner frame after it, and the key the next table sees. */
static void
push_md1_bytes(void)
{
	uint8_t in[2048], got[2048];
	struct pkt_spec s = pkt_default();
	size_t len = pkt_build(&s, in);
	struct sy_action a[] = { push_nsh(0x123456, 0xfe, 0x2b, 1, ctx), output(B) };
	const uint8_t want_nsh[24] = {
		0x0a,	    /* ver 0, O 0, U 0, TTL 0x2b >> 2 = 0xa */
		0xc6,	    /* TTL & 3 = 3 << 6 | length 6 words */
		0x01,	    /* MD type 1 */
		0x03,	    /* next protocol Ethernet */
		0x12, 0x34, 0x56, 0xfe, /* SPI, SI */
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
		0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00,
	};
	struct act_pkt p;

	CHECK_EQ(run(in, len, 0, a, 2, &p), -1);
	CHECK_EQ(sent_one(B, got), len + 14 + 24);
	CHECK(memcmp(got, in, 12) == 0); /* the frame's own MACs outside */
	CHECK_EQ(pkt_rd16(got + 12), 0x894f);
	CHECK(memcmp(got + 14, want_nsh, 24) == 0);
	CHECK(memcmp(got + 38, in, len) == 0);
	CHECK_EQ(p.key.dl_type, 0x894f);
	CHECK_EQ(p.key.in_port, A);
	CHECK_EQ(p.key.nsh_spi, 0x123456);
	CHECK_EQ(p.key.nsh_si, 0xfe);
	CHECK_EQ(p.key.nsh_ttl, 0x2b);
	CHECK_EQ(p.key.nsh_mdtype, 1);
	CHECK_EQ(p.key.nsh_np, 3);
	CHECK_EQ(p.key.nsh_c[0], ctx[0]);
	CHECK_EQ(p.key.nsh_c[3], ctx[3]);
	CHECK_EQ(p.key.nw_src, 0); /* inside the tag: not parsed until popped */
	CHECK_EQ(p.lay.l3_ofs, 14);
	CHECK_EQ(p.lay.hdr_len, 38);
}

static void
push_md2_bytes(void)
{
	uint8_t in[2048], got[2048];
	struct pkt_spec s = pkt_default();
	size_t len = pkt_build(&s, in);
	struct sy_action a[] = { push_nsh(7, 255, 63, 2, NULL), output(B) };
	const uint8_t want_nsh[8] = { 0x0f, 0xc2, 0x02, 0x03, 0x00, 0x00, 0x07, 0xff };
	struct act_pkt p;

	CHECK_EQ(run(in, len, 0, a, 2, &p), -1);
	CHECK_EQ(sent_one(B, got), len + 14 + 8);
	CHECK(memcmp(got + 14, want_nsh, 8) == 0);
	CHECK(memcmp(got + 22, in, len) == 0);
	CHECK_EQ(p.key.nsh_mdtype, 2);
	CHECK_EQ(p.key.nsh_ttl, 63);
	CHECK_EQ(p.key.nsh_c[0], 0);
}

/* push then pop: the frame and the key are the original ones again (and a
 * metadata written before stays). */
static void
push_pop_round_trip(void)
{
	uint8_t in[2048], got[2048];
	struct pkt_spec s = pkt_default();
	struct sy_flow_key orig;
	struct parse_layout lay;
	enum sy_drop_reason why;
	struct rte_mbuf *m;
	size_t len;
	struct sy_action a[] = {
		{ .type = SY_ACT_WRITE_METADATA, .value.u64 = { 42 }, .mask = ~0ull },
		push_nsh(100, 9, 10, 1, ctx),
		{ .type = SY_ACT_POP_NSH },
		output(B),
	};
	struct act_pkt p;

	s.n_vlan = 1;
	s.tpid[0] = 0x8100;
	s.tci[0] = 0x0123;
	len = pkt_build(&s, in);
	m = pkt_mbuf(dp.pool, in, len, 0);
	CHECK(parse_packet(m, A, &orig, &lay, &why));
	rte_pktmbuf_free(m);
	orig.metadata = 42;
	CHECK_EQ(run(in, len, 0, a, 4, &p), -1);
	CHECK_EQ(sent_one(B, got), len);
	CHECK(memcmp(got, in, len) == 0);
	CHECK(memcmp(&p.key, &orig, sizeof(orig)) == 0);
	CHECK_EQ(p.key.nw_src, s.ip_src);
	CHECK_EQ(p.lay.n_vlan, 1);
}

/* The same over a chain of 64-byte segments. */
static void
push_pop_chained(void)
{
	uint8_t in[2048], got[2048];
	struct pkt_spec s = pkt_default();
	size_t len;
	struct sy_action a[] = { push_nsh(5, 4, 3, 1, ctx), output(B) };
	struct sy_action b[] = { { .type = SY_ACT_POP_NSH }, output(B) };
	uint8_t tagged[2048];
	size_t tlen;
	struct act_pkt p;

	s.payload = 900;
	len = pkt_build(&s, in);
	CHECK_EQ(run(in, len, 64, a, 2, &p), -1);
	tlen = sent_one(B, tagged);
	CHECK_EQ(tlen, len + 38);
	CHECK(memcmp(tagged + 38, in, len) == 0);
	CHECK_EQ(run(tagged, tlen, 16, b, 2, &p), -1); /* headers split over segments */
	CHECK_EQ(sent_one(B, got), len);
	CHECK(memcmp(got, in, len) == 0);
	CHECK_EQ(p.key.dl_type, 0x0800);
	CHECK_EQ(p.key.tp_dst, s.dport);
}

/* Hand-built NSH frames: MD type 2 with a TLV and next protocol IPv4. */
static void
parse_md2_and_pop_ipv4(void)
{
	uint8_t in[2048], frame[2048], got[2048];
	struct pkt_spec s = pkt_default();
	size_t len = pkt_build(&s, in), ip_len = len - 14, flen;
	struct sy_action b[] = { { .type = SY_ACT_POP_NSH }, output(B) };
	const uint8_t nsh[16] = { 0x01, 0x44, 0x02, 0x01, 0xab, 0xcd, 0xef, 0x10, /* ttl 5, 4 words */
				  0x00, 0x01, 0x02, 0x04, 0xde, 0xad, 0xbe, 0xef }; /* one TLV */
	struct sy_flow_key k;
	struct parse_layout lay;
	enum sy_drop_reason why;
	struct rte_mbuf *m;
	struct act_pkt p;

	memcpy(frame, "\x02\x00\x00\x00\x00\x0b\x02\x00\x00\x00\x00\x0a\x89\x4f", 14);
	memcpy(frame + 14, nsh, 16);
	memcpy(frame + 30, in + 14, ip_len);
	flen = 30 + ip_len;
	m = pkt_mbuf(dp.pool, frame, flen, 0);
	CHECK(parse_packet(m, A, &k, &lay, &why));
	CHECK_EQ(k.dl_type, 0x894f);
	CHECK_EQ(k.nsh_ttl, 5);
	CHECK_EQ(k.nsh_mdtype, 2);
	CHECK_EQ(k.nsh_np, 1);
	CHECK_EQ(k.nsh_spi, 0xabcdef);
	CHECK_EQ(k.nsh_si, 0x10);
	CHECK_EQ(k.nsh_c[0], 0);
	CHECK_EQ(lay.hdr_len, 30);
	rte_pktmbuf_free(m);

	CHECK_EQ(run(frame, flen, 0, b, 2, &p), -1);
	CHECK_EQ(sent_one(B, got), 14 + ip_len);
	CHECK(memcmp(got, frame, 12) == 0);
	CHECK_EQ(pkt_rd16(got + 12), 0x0800);
	CHECK(memcmp(got + 14, in + 14, ip_len) == 0);
	CHECK_EQ(p.key.dl_type, 0x0800);
	CHECK_EQ(p.key.nw_dst, s.ip_dst);

	/* cut short: a length past the frame, MD type 1 of 2 words */
	m = pkt_mbuf(dp.pool, frame, 14 + 12, 0);
	CHECK(!parse_packet(m, A, &k, &lay, &why));
	CHECK_EQ(why, SY_DROP_L2_TRUNCATED);
	rte_pktmbuf_free(m);
	frame[16] = 0x01;
	frame[15] = 0x42;
	m = pkt_mbuf(dp.pool, frame, flen, 0);
	CHECK(!parse_packet(m, A, &k, &lay, &why));
	CHECK_EQ(why, SY_DROP_L2_TRUNCATED);
	rte_pktmbuf_free(m);
}

/* dec_nsh_ttl: the TTL bits change and nothing else; at TTL 1 the packet
 * stops, counted tag_ttl_expired (an output before it still goes). */
static void
dec_ttl(void)
{
	uint8_t in[2048], tagged[2048], got[2048];
	struct pkt_spec s = pkt_default();
	size_t len = pkt_build(&s, in), tlen;
	struct sy_action push[] = { push_nsh(1, 1, 2, 1, ctx), output(B) };
	struct sy_action dec[] = { { .type = SY_ACT_DEC_NSH_TTL }, output(B) };
	struct act_pkt p;

	CHECK_EQ(run(in, len, 0, push, 2, &p), -1);
	tlen = sent_one(B, tagged);
	CHECK_EQ(tagged[14], 0x00);
	CHECK_EQ(tagged[15], 0x86); /* TTL 2, length 6 */
	clear_stats();
	CHECK_EQ(run(tagged, tlen, 0, dec, 2, &p), -1);
	CHECK_EQ(sent_one(B, got), tlen);
	CHECK_EQ(got[14], 0x00);
	CHECK_EQ(got[15], 0x46); /* TTL 1 */
	got[15] = 0x86;
	CHECK(memcmp(got, tagged, tlen) == 0);
	CHECK_EQ(p.key.nsh_ttl, 1);
	/* and at TTL 1: stopped */
	memcpy(tagged, got, tlen);
	tagged[15] = 0x46;
	CHECK_EQ(run(tagged, tlen, 0, dec, 2, &p), -1);
	CHECK_EQ(rte_eth_rx_burst(dpdk[B], 0, (struct rte_mbuf *[4]){ 0 }, 4), 0);
	CHECK_EQ(sy_port_drops(A, SY_DROP_TAG_TTL_EXPIRED), 1);
	/* TTL 63 -> 62 crosses both bytes */
	CHECK_EQ(run(in, len, 0, (struct sy_action[]){ push_nsh(1, 1, 63, 1, ctx),
						     { .type = SY_ACT_DEC_NSH_TTL }, output(B) },
		     3, &p), -1);
	CHECK_EQ(sent_one(B, got), tlen);
	CHECK_EQ(got[14], 0x0f);
	CHECK_EQ(got[15], 0x86); /* 62 = 0b111110 */
	/* not an NSH packet: nothing to do */
	CHECK_EQ(run(in, len, 0, dec, 2, &p), -1);
	CHECK_EQ(sent_one(B, got), len);
	CHECK(memcmp(got, in, len) == 0);
}

static void
set_fields(void)
{
	uint8_t in[2048], got[2048];
	struct pkt_spec s = pkt_default();
	size_t len = pkt_build(&s, in);
	uint32_t spi = 0xabcdef, c1 = 0xcafef00d;
	uint8_t si = 0x42;
	struct sy_action a[4] = { push_nsh(1, 2, 3, 1, ctx), { .type = SY_ACT_SET_FIELD },
				  { .type = SY_ACT_SET_FIELD }, { .type = SY_ACT_SET_FIELD } };
	struct sy_action o = output(B);
	struct sy_action all[5];
	struct act_pkt p;

	a[1].field = SY_F_NSH_SPI;
	memcpy(a[1].value.bytes, &spi, 4);
	a[2].field = SY_F_NSH_SI;
	memcpy(a[2].value.bytes, &si, 1);
	a[3].field = SY_F_NSH_C1;
	memcpy(a[3].value.bytes, &c1, 4);
	memcpy(all, a, sizeof(a));
	all[4] = o;
	CHECK_EQ(run(in, len, 0, all, 5, &p), -1);
	CHECK_EQ(sent_one(B, got), len + 38);
	CHECK(memcmp(got + 18, "\xab\xcd\xef\x42\xca\xfe\xf0\x0d", 8) == 0);
	CHECK(memcmp(got + 26, "\x55\x66\x77\x88", 4) == 0);
	CHECK_EQ(got[15], 0xc6); /* TTL 3, untouched */
	CHECK_EQ(p.key.nsh_spi, 0xabcdef);
	CHECK_EQ(p.key.nsh_si, 0x42);
	CHECK_EQ(p.key.nsh_c[0], 0xcafef00d);
}

static void
no_headroom(void)
{
	uint8_t in[2048];
	struct pkt_spec s = pkt_default();
	size_t len = pkt_build(&s, in);
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);
	struct sy_action a[] = { push_nsh(1, 1, 1, 1, ctx), output(B) };
	enum sy_drop_reason why;
	struct act_pkt p;

	m->data_off = 20; /* room for a VLAN tag, not for Ethernet + NSH */
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), in, len);
	CHECK(parse_packet(m, A, &p.key, &p.lay, &why));
	act_pkt_init(&p, m, sy_port_slot(A));
	clear_stats();
	CHECK_EQ(act_run(lc, pl_portmap, &p, a, 2), -1);
	pl_run_once(lc);
	CHECK_EQ(sy_port_drops(A, SY_DROP_NO_HEADROOM), 1);
	CHECK_EQ(rte_eth_rx_burst(dpdk[B], 0, (struct rte_mbuf *[4]){ 0 }, 4), 0);
}

static void
validate(void)
{
	struct sy_flow_mod fm = { .hdr = { .command = SY_FC_ADD, .table_id = 0 }, .n_actions = 1 };
	char err[256];

	fm.actions[0] = push_nsh(1, 255, 63, 1, NULL);
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), 0);
	fm.actions[0] = push_nsh(1, 255, 64, 1, NULL);
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);
	CHECK(strstr(err, "push_nsh ttl=64") != NULL);
	fm.actions[0] = push_nsh(1, 255, 1, 3, NULL);
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);
	CHECK(strstr(err, "md_type=3") != NULL);
	fm.actions[0] = push_nsh(1, 255, 1, 2, ctx);
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);
	CHECK(strstr(err, "c1..c4") != NULL);
	fm.actions[0] = (struct sy_action){ .type = SY_ACT_DEC_NSH_TTL };
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), 0);
	fm.actions[0] = (struct sy_action){ .type = SY_ACT_POP_NSH };
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), 0);
}

/* Ethernet + NSH MD type 1 (spi, si 255, ttl 63) around the frame of s. */
static size_t
tagged(const struct pkt_spec *s, uint32_t spi, uint8_t *out)
{
	size_t len;

	memcpy(out, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x89\x4f", 14);
	len = nsh_encode(out + 14, spi, 255, 63, 1, ctx, NSH_NP_ETHERNET);
	return 14 + len + pkt_build(s, out + 14 + len);
}

/* Sends n copies of frame into A, runs the pipeline once, returns how many
 * B sent (the last one into got). */
static unsigned int
through(const uint8_t *frame, size_t len, unsigned int n, uint8_t *got)
{
	struct rte_mbuf *m[8];
	unsigned int k;

	for (unsigned int i = 0; i < n; i++)
		m[i] = pkt_mbuf(dp.pool, frame, len, 0);
	CHECK_EQ(rte_eth_tx_burst(dpdk[A], 0, m, (uint16_t)n), n);
	pl_run_once(lc);
	k = rte_eth_rx_burst(dpdk[B], 0, m, 8);
	for (unsigned int i = 0; i < k; i++) {
		if (i == k - 1)
			memcpy(got, rte_pktmbuf_read(m[i], 0, rte_pktmbuf_pkt_len(m[i]), got),
			       rte_pktmbuf_pkt_len(m[i]));
		rte_pktmbuf_free(m[i]);
	}
	return k;
}

static void
cache_keeps_nsh_apart(void)
{
	struct sy_flow_mod *fm;
	struct pkt_spec x = pkt_default(), y = pkt_default();
	uint8_t f1[2048], f2x[2048], f2y[2048], f3[2048], inner[2048], got[2048];
	size_t l1, l2x, l2y, l3, li;
	uint64_t hits0 = lc->ctr.pmd.cache_hits;

	fm = fm_new(SY_FC_ADD, 0, 10);
	MATCH(fm, dl_type, 0x894f, 0xffff);
	MATCH(fm, nsh_spi, 1, 0xffffffff);
	act(fm, output(B));
	sy_test_flow_mod(fm);
	fm = fm_new(SY_FC_ADD, 0, 10);
	MATCH(fm, dl_type, 0x894f, 0xffff);
	MATCH(fm, nsh_spi, 2, 0xffffffff);
	act(fm, (struct sy_action){ .type = SY_ACT_POP_NSH });
	act(fm, goto_table(1));
	sy_test_flow_mod(fm);
	fm = fm_new(SY_FC_ADD, 1, 10);
	MATCH(fm, dl_type, 0x0800, 0xffff);
	MATCH(fm, nw_dst, 0x0a000002, 0xffffffff);
	act(fm, output(B));
	sy_test_flow_mod(fm);

	x.ip_dst = 0x0a000002;
	y.ip_dst = 0x0a000003;
	l1 = tagged(&x, 1, f1);
	l2x = tagged(&x, 2, f2x);
	l2y = tagged(&y, 2, f2y);
	l3 = tagged(&x, 3, f3);
	li = pkt_build(&x, inner);
	for (int round = 0; round < 3; round++) {
		CHECK_EQ(through(f1, l1, 4, got), 4);
		CHECK(memcmp(got, f1, l1) == 0);
		CHECK_EQ(through(f3, l3, 4, got), 0); /* no rule for spi 3 */
		CHECK_EQ(through(f2x, l2x, 4, got), 4);
		CHECK(memcmp(got, inner, li) == 0); /* popped, then matched by nw_dst */
		CHECK_EQ(through(f2y, l2y, 4, got), 0);
	}
	CHECK(lc->ctr.pmd.cache_hits - hits0 >= 24); /* and the cache did serve them */
	sy_test_flow_mod(fm_new(SY_FC_DELETE, SY_TABLE_ALL, 0));
}

int
main(void)
{
	struct dp_config cfg = { .n_mbufs = 4096, .max_flows = 1000 };

	lc = sy_test_dp_start("nsh", &cfg);
	if (lc == NULL)
		return 1;
	dpdk[A] = sy_test_port_add("a", "net_ring0", A, 0, 1);
	dpdk[B] = sy_test_port_add("b", "net_ring1", B, 0, 1);

	RUN(push_md1_bytes);
	RUN(push_md2_bytes);
	RUN(push_pop_round_trip);
	RUN(push_pop_chained);
	RUN(parse_md2_and_pop_ipv4);
	RUN(dec_ttl);
	RUN(set_fields);
	RUN(no_headroom);
	RUN(validate);
	RUN(cache_keeps_nsh_apart);

	dp_fini();
	sy_test_eal_fini();
	return sy_test_summary();
}
