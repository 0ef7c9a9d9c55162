/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_corpus.c — writes the seed corpora of the fuzz targets:
 *   DIR/codec/  whole control-protocol messages (requests and replies)
 *   DIR/parse/  frames for fuzz_parse: byte 0 is the segment size (0: one
 *               segment), byte 1 the port, the rest the frame
 * from the real encoder and sy_pkt.h's frame builder, so that the fuzzer
 * starts from inputs that get deep into the decoders.  scripts/fuzz.sh
 * --gen-corpus rebuilds dpdk-core/tests/corpus/ with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <switchyard/codec.h>

#include "sy_pkt.h"

static const char *dir;

static void
put_file(const char *sub, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void
put_msg(const char *name, struct sy_msgbuf *b)
{
	if (sy_msg_finish(b) < 0) {
		fprintf(stderr, "%s: encoding failed\n", name);
		exit(1);
	}
	put_file("codec", name, b->data, b->len);
	sy_msg_free(b);
}

static void
flow(struct sy_flow_mod *fm, uint8_t cmd, unsigned int n_actions)
{
	memset(fm, 0, sizeof(*fm));
	fm->hdr.command = cmd;
	fm->hdr.table_id = 1;
	fm->hdr.priority = 100;
	fm->hdr.out_port = SY_PORT_ANY;
	fm->key.dl_type = 0x0800;
	fm->mask.dl_type = 0xffff;
	fm->key.in_port = 1;
	fm->mask.in_port = ~0u;
	fm->n_actions = (uint16_t)n_actions;
	for (unsigned int i = 0; i < n_actions; i++) {
		fm->actions[i].type = i + 1 < n_actions ? SY_ACT_SET_FIELD : SY_ACT_OUTPUT;
		fm->actions[i].arg = 2;
	}
}

/* TRACE: a request, and a reply with every kind of attribute it has */
static void
trace_seeds(void)
{
	struct sy_msgbuf b;
	struct sy_flow_mod fm;
	struct sy_flow_stats zero = { 0 };
	struct sy_trace_change ch = { .field = SY_F_NW_TTL };
	struct sy_action a = { .type = SY_ACT_DEC_TTL };
	struct sy_flow_key km[2] = { { .in_port = 1, .dl_type = 0x0800, .nw_ttl = 64 },
				     { .in_port = ~0u, .dl_type = 0xffff, .nw_ttl = 0xff } };
	static const uint8_t frame[60] = { 0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
					   0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17 };

	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_TRACE, 0, 14);
	sy_msg_put_u32(&b, SY_A_PORT_ID, 1);
	sy_msg_put(&b, SY_A_PACKET, frame, sizeof(frame));
	put_msg("trace", &b);

	ch.before[0] = 64;
	ch.after[0] = 63;
	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_TRACE, SY_MSGF_REPLY, 14);
	sy_msg_put(&b, SY_A_TRACE_KEY, km, sizeof(km));
	sy_msg_nest_begin(&b, SY_A_TRACE_STEP);
	sy_msg_put_u32(&b, SY_A_TABLE_ID, 0);
	sy_msg_put_u32(&b, SY_A_TRACE_MISS, SY_MISS_CONTINUE);
	sy_msg_nest_end(&b);
	sy_msg_nest_begin(&b, SY_A_TRACE_STEP);
	sy_msg_put_u32(&b, SY_A_TABLE_ID, 1);
	flow(&fm, SY_FC_ADD, 2);
	sy_put_flow(&b, &fm, &zero);
	sy_msg_nest_begin(&b, SY_A_TRACE_ACTION);
	sy_msg_put(&b, SY_A_FLOW_ACTION, &a, sizeof(a));
	sy_msg_put(&b, SY_A_TRACE_CHANGE, &ch, sizeof(ch));
	sy_msg_nest_end(&b);
	sy_msg_nest_end(&b);
	sy_msg_nest_begin(&b, SY_A_TRACE_OUTPUT);
	sy_msg_put_u32(&b, SY_A_PORT_ID, 2);
	sy_msg_put(&b, SY_A_PACKET, frame, sizeof(frame));
	sy_msg_nest_end(&b);
	sy_msg_put_u32(&b, SY_A_TRACE_DROP, SY_DROP_PORT_DOWN);
	put_msg("trace_reply", &b);
}

/* The messages of port edge settings, egress QoS, meter bands, mirrors,
 * packet-in and packet-out. */
static void
issue4_seeds(void)
{
	static const uint8_t frame[] = "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x06";
	struct sy_msgbuf b;
	struct sy_port_vlan v = { .mode = 2, .tag = 10 };
	struct sy_port_nsh_tag t = { .enabled = 1, .mdtype = 1, .si = 255, .ttl = 63, .spi = 0x123 };
	struct sy_port_qos q = { .port_id = 2, .port = { 100000, 0 }, .queue = { [1] = { 10000, 512 } } };
	struct sy_meter_desc md = { .id = 1, .rate = 1000 };
	struct sy_meter_bands mb = { .n_bands = 2,
				     .band = { { .type = 1, .dscp = 46, .rate = 1000 },
					       { .type = 0, .rate = 2000 } } };
	struct sy_mirror_desc mi = { .id = 0, .out_port = 3, .n_src = 1, .n_dst = 1,
				     .src = { 1 }, .dst = { 1 } };
	struct sy_action out = { .type = SY_ACT_OUTPUT, .arg = 2 };

	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_PORT_MOD, 0, 20);
	sy_msg_put_u32(&b, SY_A_PORT_ID, 1);
	sy_put_port_vlan(&b, &v);
	sy_put_port_nsh_tag(&b, &t);
	put_msg("port_mod_edge", &b);
	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_PORT_QOS, 0, 21);
	sy_msg_put_u32(&b, SY_A_PORT_ID, 2);
	sy_put_port_qos(&b, &q);
	put_msg("port_qos", &b);
	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_METER_MOD, 0, 22);
	sy_msg_put_u32(&b, SY_A_METER_CMD, 0);
	sy_put_meter_desc(&b, &md);
	sy_put_meter_bands(&b, &mb);
	put_msg("meter_mod_bands", &b);
	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_MIRROR_MOD, 0, 23);
	sy_msg_put_u32(&b, SY_A_MIRROR_CMD, SY_MIR_SET);
	strcpy(mi.name, "m0");
	sy_msg_put(&b, SY_A_MIRROR_DESC, &mi, sizeof(mi));
	put_msg("mirror_mod", &b);
	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_PACKET_OUT, 0, 24);
	sy_msg_put_u32(&b, SY_A_PORT_ID, 1);
	sy_msg_put(&b, SY_A_PACKET, frame, sizeof(frame) - 1);
	sy_msg_put(&b, SY_A_FLOW_ACTION, &out, sizeof(out));
	put_msg("packet_out", &b);
	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_PACKET_IN, SY_MSGF_EVENT, 0);
	sy_msg_put_u32(&b, SY_A_PORT_ID, 1);
	sy_msg_put_u32(&b, SY_A_TABLE_ID, 0);
	sy_msg_put_u32(&b, SY_A_PIN_REASON, 0);
	sy_msg_put_u32(&b, SY_A_PIN_TOTAL_LEN, sizeof(frame) - 1);
	sy_msg_put(&b, SY_A_PACKET, frame, sizeof(frame) - 1);
	put_msg("packet_in_event", &b);
}

static void
codec(void)
{
	struct sy_msgbuf b;
	struct sy_flow_mod fm;
	struct sy_flow_stats st = { 10, 1000, 5, 1 };
	struct sy_port_desc pd;
	struct sy_table_desc td;
	struct sy_dp_stats ds;
	struct sy_dp_info di;
	struct sy_port_stats ps;

	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_HELLO, 0, 1);
	sy_msg_put_u32(&b, SY_A_VERSION, SY_PROTO_VERSION);
	put_msg("hello", &b);
	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_ECHO, 0, 2);
	sy_msg_put_str(&b, SY_A_PORT_NAME, "echo");
	put_msg("echo", &b);
	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_BARRIER, 0, 3);
	put_msg("barrier", &b);
	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_PORT_ADD, 0, 4);
	sy_msg_put_str(&b, SY_A_PORT_NAME, "p1");
	sy_msg_put_str(&b, SY_A_PORT_DEVARGS, "net_ring0");
	sy_msg_put_u32(&b, SY_A_PORT_ID, 1);
	sy_msg_put_u32(&b, SY_A_PORT_MTU, 1500);
	sy_msg_put_u32(&b, SY_A_PORT_ADMIN, 1);
	put_msg("port_add", &b);
	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_PORT_MOD, 0, 5);
	sy_msg_put_u32(&b, SY_A_PORT_ID, 1);
	sy_msg_put_u32(&b, SY_A_PORT_MTU, 9000);
	put_msg("port_mod", &b);
	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_PORT_STATS, 0, 6);
	sy_msg_put_u32(&b, SY_A_PORT_ID, 1);
	put_msg("port_stats", &b);
	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_FLOW_MOD, 0, 7);
	flow(&fm, SY_FC_ADD, 1);
	sy_put_flow(&b, &fm, NULL);
	flow(&fm, SY_FC_ADD, 3);
	fm.hdr.table_id = 0;
	sy_put_flow(&b, &fm, NULL);
	put_msg("flow_mod_add", &b);
	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_FLOW_MOD, 0, 8);
	flow(&fm, SY_FC_DELETE, 0);
	sy_put_flow(&b, &fm, NULL);
	put_msg("flow_mod_del", &b);
	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_FLOW_DUMP, SY_MSGF_REPLY, 9);
	flow(&fm, SY_FC_ADD, 2);
	sy_put_flow(&b, &fm, &st);
	put_msg("flow_dump_reply", &b);
	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_TABLE_MOD, 0, 10);
	memset(&td, 0, sizeof(td));
	td.id = 2, td.miss = 1, td.max_flows = 100;
	strcpy(td.name, "t2");
	sy_put_table_desc(&b, &td);
	put_msg("table_mod", &b);
	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_PORT_LIST, SY_MSGF_REPLY, 11);
	memset(&pd, 0, sizeof(pd));
	pd.id = 1;
	strcpy(pd.name, "p1");
	sy_put_port_desc(&b, &pd);
	memset(&ps, 0, sizeof(ps));
	ps.id = 1;
	sy_put_port_stats(&b, &ps);
	put_msg("port_list_reply", &b);
	sy_msg_init(&b), sy_msg_begin(&b, SY_MSG_DP_STATS, SY_MSGF_REPLY, 12);
	memset(&ds, 0, sizeof(ds));
	sy_put_dp_stats(&b, &ds);
	memset(&di, 0, sizeof(di));
	sy_put_dp_info(&b, &di);
	put_msg("dp_stats_reply", &b);
	sy_msg_init(&b);
	sy_msg_error(&b, 13, 3, 1, "flow 1: bad match");
	put_msg("error", &b);
	trace_seeds();
	issue4_seeds();
}

static void
frame(const char *name, const struct pkt_spec *s, uint8_t seg)
{
	uint8_t b[2 + 2048];

	b[0] = seg;
	b[1] = 1; /* the port */
	put_file("parse", name, b, 2 + pkt_build(s, b + 2));
}

/* The frame of s inside Ethernet + NSH of MD type md (1: context headers,
 * 2: one 8-byte TLV), next protocol Ethernet; cut: bytes left off the end. */
static void
nsh_frame(const char *name, const struct pkt_spec *s, uint8_t md, size_t cut)
{
	uint8_t b[2 + 2048];
	size_t nsh = md == 1 ? 24 : 16, len;

	b[0] = 0;
	b[1] = 1;
	memcpy(b + 2, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x89\x4f", 14);
	memset(b + 16, 0, nsh);
	b[16] = 0x0f, b[17] = (uint8_t)(0xc0 | nsh / 4), b[18] = md, b[19] = 3; /* TTL 63 */
	b[20] = 0x12, b[21] = 0x34, b[22] = 0x56, b[23] = 0xff;
	if (md == 2)
		b[24] = 0x01, b[27] = 4; /* class 1, length 4 */
	len = pkt_build(s, b + 16 + nsh);
	put_file("parse", name, b, 2 + 14 + nsh + len - cut);
}

static void
parse(void)
{
	struct pkt_spec s = pkt_default();

	frame("udp", &s, 0);
	s.proto = 6, s.tcp_flags = 0x12;
	frame("tcp", &s, 0);
	frame("tcp_seg20", &s, 20);
	s.opt_len = 8;
	frame("tcp_ipopt", &s, 0);
	s = pkt_default(), s.proto = 1;
	frame("icmp", &s, 0);
	s = pkt_default(), s.n_vlan = 2, s.tpid[0] = 0x88a8, s.tpid[1] = 0x8100, s.tci[0] = 10, s.tci[1] = 20;
	frame("qinq_udp", &s, 7);
	s = pkt_default(), s.l3_type = 0x86dd, s.proto = 6;
	frame("ipv6_tcp", &s, 0);
	s.ip6_hbh = true, s.ip6_frag = true, s.proto = 58;
	frame("ipv6_hbh_frag_icmp6", &s, 33);
	s = pkt_default(), s.frag = 0x2000 | 10;
	frame("ipv4_frag", &s, 0);
	s = pkt_default(), s.l3_type = 0x0806, s.payload = 28;
	frame("arp", &s, 0);
	s = pkt_default(), s.proto = 132, s.payload = 12;
	frame("sctp", &s, 0);
	s = pkt_default();
	nsh_frame("nsh_md1_udp", &s, 1, 0);
	nsh_frame("nsh_md2_udp", &s, 2, 0);
	s.payload = 0;
	nsh_frame("nsh_md1_cut", &s, 1, 28 + 8 + 14 + 10);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	dir = argv[1];
	codec();
	parse();
	return 0;
}
