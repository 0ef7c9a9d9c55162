/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_server.c — the control server over a real unix socket: a flow
 * dump too large for one part comes in parts (MORE on all but the last,
 * whole FLOW attributes in each, every flow once, even when the client
 * reads slowly), PMD_STATS and PMD_STATS_CLEAR, and PORT_RXQ in PORT_ADD
 * and PORT_MOD.  The server runs in a thread of its own (the "main lcore");
 * this thread is the client.
 */
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <rte_ethdev.h>

#include <switchyard/codec.h>

#include "ctl_server.h"
#include "datapath.h"
#include "sy_test.h"

#define N_FLOWS 60000 /* about 23 MB of dump: six parts, and the drain window */

static char sock_path[108];
static volatile bool server_quit;
static int fd = -1;
static uint32_t next_xid = 1;

static void *
server_main(void *arg)
{
	ctl_server_run(&server_quit);
	return NULL;
}

/* --- a minimal client --- */

static int
send_msg(struct sy_msgbuf *b)
{
	size_t off = 0;

	if (sy_msg_finish(b) < 0)
		return -1;
	while (off < b->len) {
		ssize_t n = send(fd, b->data + off, b->len - off, 0);

		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

static int
read_all(void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = recv(fd, (uint8_t *)buf + off, len - off, 0);

		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* Reads one message (malloc'd, parsed into *m); skips events. */
static uint8_t *
recv_msg(struct sy_msg *m)
{
	for (;;) {
		struct sy_msg_hdr h;
		uint8_t *buf;
		char err[SY_CODEC_ERR_MAX];

		if (read_all(&h, sizeof(h)) < 0)
			return NULL;
		buf = malloc(h.length);
		if (buf == NULL)
			return NULL;
		memcpy(buf, &h, sizeof(h));
		if (read_all(buf + sizeof(h), h.length - sizeof(h)) < 0 ||
		    sy_msg_parse(buf, h.length, m, err, sizeof(err)) < 0) {
			fprintf(stderr, "recv_msg: %s\n", err);
			free(buf);
			return NULL;
		}
		if (m->hdr.flags & SY_MSGF_EVENT) {
			free(buf);
			continue;
		}
		return buf;
	}
}

static void
begin(struct sy_msgbuf *b, uint16_t type)
{
	sy_msg_begin(b, type, 0, next_xid++);
}

/* Sends b and reads the one-part answer; returns the buffer (free it). */
static uint8_t *
call(struct sy_msgbuf *b, struct sy_msg *m)
{
	uint32_t xid;
	uint8_t *buf;

	memcpy(&xid, b->data + offsetof(struct sy_msg_hdr, xid), sizeof(xid));
	if (send_msg(b) < 0)
		return NULL;
	buf = recv_msg(m);
	CHECK(buf != NULL);
	if (buf != NULL) {
		CHECK_EQ(m->hdr.xid, xid);
		CHECK((m->hdr.flags & SY_MSGF_MORE) == 0);
	}
	return buf;
}

static int
error_code(const struct sy_msg *m, char *text, size_t len)
{
	int code = 0, index;
	char err[SY_CODEC_ERR_MAX];

	if (m->hdr.type != SY_MSG_ERROR)
		return 0;
	sy_get_error(m, &code, &index, text, len, err, sizeof(err));
	return code;
}

/* --- the tests --- */

/* The codec side of parts: a reply cut where it passes the limit, MORE on
 * all but the last, every part parses alone and holds whole attributes. */
static void
codec_parts_roundtrip(void)
{
	struct sy_msgbuf b = { 0 };
	struct sy_pmd_stats st, back;
	unsigned int n = 0, parts = 0, seen = 0;
	uint8_t *msgs[16];
	size_t lens[16];
	char err[SY_CODEC_ERR_MAX];

	memset(&st, 0, sizeof(st));
	sy_msg_begin(&b, SY_MSG_PMD_STATS, SY_MSGF_REPLY, 77);
	/* 10 MB of 1 KB records: three parts */
	while (n < (10u << 20) / sizeof(st)) {
		if (sy_msg_part_full(&b)) {
			sy_msg_set_more(&b, true);
			CHECK_EQ(sy_msg_finish(&b), 0);
			msgs[parts] = sy_msg_steal(&b, &lens[parts]);
			parts++;
			sy_msg_begin(&b, SY_MSG_PMD_STATS, SY_MSGF_REPLY, 77);
		}
		st.slot = n++;
		sy_put_pmd_stats(&b, &st);
	}
	CHECK_EQ(sy_msg_finish(&b), 0);
	msgs[parts] = sy_msg_steal(&b, &lens[parts]);
	parts++;
	CHECK_EQ(parts, 3);
	for (unsigned int i = 0; i < parts; i++) {
		struct sy_msg m;
		struct sy_attr_iter it;
		const struct sy_attr *a;

		CHECK_EQ(sy_msg_parse(msgs[i], lens[i], &m, err, sizeof(err)), 0);
		CHECK_EQ(m.hdr.xid, 77);
		CHECK_EQ(m.hdr.type, SY_MSG_PMD_STATS);
		CHECK_EQ(!!(m.hdr.flags & SY_MSGF_MORE), i + 1 < parts);
		CHECK(m.hdr.flags & SY_MSGF_REPLY);
		CHECK(lens[i] <= SY_REPLY_PART_MAX + 8 + sizeof(st));
		sy_attr_iter_msg(&it, &m);
		while (sy_attr_next(&it, &a) > 0) {
			CHECK_EQ(sy_get_pmd_stats(a, &back, err, sizeof(err)), 0);
			CHECK_EQ(back.slot, seen);
			seen++;
		}
		free(msgs[i]);
	}
	CHECK_EQ(seen, n);
	/* MORE can be cleared again */
	sy_msg_begin(&b, SY_MSG_FLOW_DUMP, SY_MSGF_REPLY, 1);
	sy_msg_set_more(&b, true);
	sy_msg_set_more(&b, false);
	CHECK_EQ(sy_msg_finish(&b), 0);
	CHECK_EQ(b.data[1], SY_MSGF_REPLY);
	sy_msg_free(&b);
}

static void
flow_dump_in_parts(void)
{
	struct sy_msgbuf b = { 0 };
	struct sy_msg m;
	unsigned int parts = 0, flows = 0, last_more = 1;
	uint32_t xid = next_xid;
	uint8_t *seen = calloc(N_FLOWS, 1);

	begin(&b, SY_MSG_FLOW_DUMP);
	CHECK_EQ(send_msg(&b), 0);
	sy_msg_free(&b);
	/* a slow reader: the server must wait for it, not pile up the dump */
	usleep(300 * 1000);
	while (last_more) {
		uint8_t *buf = recv_msg(&m);
		struct sy_attr_iter it;
		const struct sy_attr *a;

		CHECK(buf != NULL);
		if (buf == NULL)
			break;
		CHECK_EQ(m.hdr.type, SY_MSG_FLOW_DUMP);
		CHECK_EQ(m.hdr.xid, xid);
		CHECK(m.hdr.flags & SY_MSGF_REPLY);
		/* at most one FLOW past the part limit */
		CHECK(m.hdr.length <= SY_REPLY_PART_MAX + 4096);
		last_more = m.hdr.flags & SY_MSGF_MORE;
		if (last_more)
			CHECK(m.hdr.length > SY_REPLY_PART_MAX);
		sy_attr_iter_msg(&it, &m);
		while (sy_attr_next(&it, &a) > 0) {
			struct sy_flow_mod fm;
			char err[SY_CODEC_ERR_MAX];

			CHECK_EQ(a->type, SY_A_FLOW);
			if (sy_get_flow(a, &fm, NULL, NULL, err, sizeof(err)) == 0 &&
			    fm.hdr.cookie < N_FLOWS) {
				CHECK_EQ(seen[fm.hdr.cookie], 0);
				seen[fm.hdr.cookie] = 1;
			}
			flows++;
		}
		parts++;
		free(buf);
		if (!last_more)
			break;
		if (parts == 2)
			usleep(200 * 1000);
	}
	CHECK_EQ(flows, N_FLOWS);
	CHECK(parts >= 5);
	free(seen);

	/* the connection goes on: a one-part dump of one table */
	{
		struct sy_flow_mod filter;
		uint8_t *buf;

		memset(&filter, 0, sizeof(filter));
		filter.hdr.table_id = 1;
		filter.hdr.out_port = SY_PORT_ANY;
		begin(&b, SY_MSG_FLOW_DUMP);
		sy_put_flow(&b, &filter, NULL);
		buf = call(&b, &m);
		sy_msg_free(&b);
		if (buf) {
			CHECK_EQ(m.hdr.type, SY_MSG_FLOW_DUMP);
			CHECK_EQ(sy_msg_count(&m, SY_A_FLOW), 0);
		}
		free(buf);
	}
}

static void
pmd_stats_over_the_wire(void)
{
	struct sy_msgbuf b = { 0 };
	struct sy_msg m;
	struct sy_pmd_stats st;
	char err[SY_CODEC_ERR_MAX];
	uint8_t *buf;

	begin(&b, SY_MSG_PMD_STATS_CLEAR);
	buf = call(&b, &m);
	if (buf)
		CHECK_EQ(m.hdr.type, SY_MSG_PMD_STATS_CLEAR);
	free(buf);

	begin(&b, SY_MSG_PMD_STATS);
	buf = call(&b, &m);
	sy_msg_free(&b);
	if (buf == NULL)
		return;
	CHECK_EQ(m.hdr.type, SY_MSG_PMD_STATS);
	CHECK_EQ(sy_msg_count(&m, SY_A_PMD_STATS), dp.n_slots);
	CHECK_EQ(sy_get_pmd_stats(sy_msg_find(&m, SY_A_PMD_STATS), &st, err, sizeof(err)), 0);
	CHECK_EQ(st.slot, 0);
	CHECK_EQ(st.packets, 0); /* just cleared, nothing polled since */
	CHECK_EQ(st.n_rxq, 3);    /* port "q" below, 3 queues */
	free(buf);
}

static void
port_rxq_attribute(void)
{
	struct sy_msgbuf b = { 0 };
	struct sy_msg m;
	struct sy_port_desc d;
	char err[SY_CODEC_ERR_MAX], text[SY_ERRMSG_MAX];
	uint8_t *buf;

	begin(&b, SY_MSG_PORT_ADD);
	sy_msg_put_str(&b, SY_A_PORT_NAME, "q");
	sy_msg_put_str(&b, SY_A_PORT_DEVARGS, "net_ring3");
	sy_msg_put_u32(&b, SY_A_PORT_RXQ, 0);
	buf = call(&b, &m);
	if (buf) {
		CHECK_EQ(error_code(&m, text, sizeof(text)), SY_E_INVAL);
		CHECK_STR_CONTAINS(text, "PORT_RXQ is 0");
	}
	free(buf);

	begin(&b, SY_MSG_PORT_ADD);
	sy_msg_put_str(&b, SY_A_PORT_NAME, "q");
	sy_msg_put_str(&b, SY_A_PORT_DEVARGS, "net_ring3");
	sy_msg_put_u32(&b, SY_A_PORT_RXQ, 2);
	buf = call(&b, &m);
	if (buf) {
		CHECK_EQ(m.hdr.type, SY_MSG_PORT_ADD);
		CHECK_EQ(sy_get_port_desc(sy_msg_find(&m, SY_A_PORT_DESC), &d, err, sizeof(err)), 0);
		CHECK_EQ(d.n_rxq, 2);
	}
	free(buf);

	begin(&b, SY_MSG_PORT_MOD);
	sy_msg_put_u32(&b, SY_A_PORT_ID, d.id);
	sy_msg_put_u32(&b, SY_A_PORT_RXQ, SY_PORT_RXQ_MAX + 1);
	buf = call(&b, &m);
	if (buf)
		CHECK_EQ(error_code(&m, text, sizeof(text)), SY_E_INVAL);
	free(buf);

	begin(&b, SY_MSG_PORT_MOD);
	sy_msg_put_u32(&b, SY_A_PORT_ID, d.id);
	sy_msg_put_u32(&b, SY_A_PORT_RXQ, 3);
	buf = call(&b, &m);
	if (buf) {
		CHECK_EQ(m.hdr.type, SY_MSG_PORT_MOD);
		CHECK_EQ(sy_get_port_desc(sy_msg_find(&m, SY_A_PORT_DESC), &d, err, sizeof(err)), 0);
		CHECK_EQ(d.n_rxq, 3);
	}
	free(buf);
	sy_msg_free(&b);
}

static int
add_flows(void)
{
	const unsigned int batch = 10000;
	struct sy_flow_mod *mods = calloc(batch, sizeof(*mods));
	struct sy_error err;
	uint32_t n;

	for (unsigned int base = 0; base < N_FLOWS; base += batch) {
		for (unsigned int i = 0; i < batch; i++) {
			struct sy_flow_mod *fm = &mods[i];

			memset(fm, 0, sizeof(*fm));
			fm->hdr.command = SY_FC_ADD;
			fm->hdr.priority = 100;
			fm->hdr.out_port = SY_PORT_ANY;
			fm->hdr.cookie = base + i;
			fm->key.dl_type = 0x0800;
			fm->mask.dl_type = 0xffff;
			fm->key.nw_dst = 0x0a000000u + base + i;
			fm->mask.nw_dst = 0xffffffffu;
			fm->n_actions = 1;
			fm->actions[0] = (struct sy_action){ .type = SY_ACT_DEC_TTL };
		}
		if (dp_flow_mod(mods, batch, &n, &err) < 0) {
			fprintf(stderr, "dp_flow_mod: %s\n", err.msg);
			free(mods);
			return -1;
		}
	}
	free(mods);
	return 0;
}

int
main(void)
{
	struct dp_config cfg = { .n_mbufs = 2048, .max_flows = N_FLOWS + 10 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sy_msgbuf b = { 0 };
	struct sy_error err;
	struct sy_msg m;
	pthread_t th;
	uint8_t *buf;

	if (sy_test_eal_init("ctl_server", NULL) < 0) {
		fprintf(stderr, "cannot start EAL\n");
		return 1;
	}
	if (dp_init(&cfg, &err) < 0 || add_flows() < 0) {
		fprintf(stderr, "dp_init: %s\n", err.msg);
		return 1;
	}
	snprintf(sock_path, sizeof(sock_path), "/tmp/pq-test-ctl-%d.sock", (int)getpid());
	if (ctl_server_init(sock_path) < 0) {
		perror("ctl_server_init");
		return 1;
	}
	pthread_create(&th, NULL, server_main, NULL);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("connect");
		return 1;
	}
	begin(&b, SY_MSG_HELLO);
	sy_msg_put_u32(&b, SY_A_VERSION, SY_PROTO_VERSION);
	buf = call(&b, &m);
	free(buf);

	RUN(codec_parts_roundtrip);
	RUN(flow_dump_in_parts);
	RUN(port_rxq_attribute);
	RUN(pmd_stats_over_the_wire);

	close(fd);
	sy_msg_free(&b);
	server_quit = true;
	pthread_join(th, NULL);
	ctl_server_fini();
	dp_fini();
	sy_test_eal_fini();
	return sy_test_summary();
}
