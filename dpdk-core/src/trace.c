/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * trace.c — the TRACE request: one frame through the pipeline's own code,
 * recorded instead of forwarded (see trace.h).
 */
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "actions.h"
#include "datapath.h"
#include "edge.h"
#include "flow_table.h"
#include "parse.h"
#include "pipeline.h"
#include "trace.h"

/* What a trace is recording.  Steps go straight into the reply (a
 * TRACE_STEP nest open while its table's actions run, a TRACE_ACTION nest
 * inside it while an action runs); outputs and drops, which come in the
 * middle of steps, go to `tail`, appended to the reply at the end. */
struct trace {
	struct sy_msgbuf *reply;
	struct sy_msgbuf tail;
	bool in_step;
	bool in_action;
	struct sy_flow_key before; /* the key when the open action began */
	struct sy_flow_mod entry;  /* scratch: the entry of a step */
};

/* The lcore a trace runs on: its counters and tx buffers are its own, and
 * nothing reads them (trace.h).  Main lcore only. */
static struct pl_lcore trace_lc;

void
trace_table(struct trace *tr, unsigned int t, const struct ft_flow *f)
{
	static const struct sy_flow_stats zero;
	struct sy_flow_mod *fm = &tr->entry;

	sy_msg_nest_begin(tr->reply, SY_A_TRACE_STEP);
	tr->in_step = true;
	sy_msg_put_u32(tr->reply, SY_A_TABLE_ID, t);
	if (f == NULL)
		return;
	/* as a dump describes it, counters zero */
	ft_flow_entry(f, fm);
	sy_put_flow(tr->reply, fm, &zero);
}

void
trace_miss(struct trace *tr, unsigned int miss)
{
	sy_msg_put_u32(tr->reply, SY_A_TRACE_MISS, miss);
}

/* Ends the open action: the key fields it changed. */
static void
action_end(struct trace *tr, const struct sy_flow_key *now)
{
	if (!tr->in_action)
		return;
	for (unsigned int id = 1; id < SY_F__MAX; id++) {
		const struct sy_field_info *fi = &sy_fields[id];
		const uint8_t *b = (const uint8_t *)&tr->before + fi->offset;
		const uint8_t *a = (const uint8_t *)now + fi->offset;
		struct sy_trace_change c;

		/* icmp_type/icmp_code are tp_src/tp_dst under other names */
		if (id == SY_F_ICMP_TYPE || id == SY_F_ICMP_CODE || memcmp(a, b, fi->width) == 0)
			continue;
		memset(&c, 0, sizeof(c));
		c.field = (uint16_t)id;
		memcpy(c.before, b, fi->width);
		memcpy(c.after, a, fi->width);
		sy_msg_put(tr->reply, SY_A_TRACE_CHANGE, &c, sizeof(c));
	}
	sy_msg_nest_end(tr->reply);
	tr->in_action = false;
}

void
trace_action(struct trace *tr, const struct act_pkt *p, const struct sy_action *a)
{
	action_end(tr, &p->key);
	sy_msg_nest_begin(tr->reply, SY_A_TRACE_ACTION);
	sy_msg_put(tr->reply, SY_A_FLOW_ACTION, a, sizeof(*a));
	tr->before = p->key;
	tr->in_action = true;
}

void
trace_table_end(struct trace *tr, const struct act_pkt *p)
{
	action_end(tr, &p->key);
	if (tr->in_step)
		sy_msg_nest_end(tr->reply);
	tr->in_step = false;
}

void
trace_output(struct trace *tr, uint32_t port_id, const struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	uint8_t *dst;
	const void *src;

	sy_msg_nest_begin(&tr->tail, SY_A_TRACE_OUTPUT);
	sy_msg_put_u32(&tr->tail, SY_A_PORT_ID, port_id);
	dst = sy_msg_put(&tr->tail, SY_A_PACKET, NULL, len);
	if (dst != NULL) {
		src = rte_pktmbuf_read(m, 0, len, dst); /* copies a chain into dst */
		if (src != NULL && src != dst)
			memcpy(dst, src, len);
	}
	sy_msg_nest_end(&tr->tail);
}

void
trace_drop(struct trace *tr, unsigned int why)
{
	sy_msg_put_u32(&tr->tail, SY_A_TRACE_DROP, why);
}

/* The mask of the fields a parsed frame has, as ovs-appctl ofproto/trace
 * prints its flow: Ethernet always, the tag if there is one, the IP fields
 * of its version, the L4 ports (ICMP type and code) and TCP flags when the
 * parser read an L4 header. */
static void
key_fields(const struct sy_flow_key *k, const struct parse_layout *lay, struct sy_flow_key *m)
{
	bool ip4 = k->dl_type == 0x0800, ip6 = k->dl_type == 0x86dd;

	memset(m, 0, sizeof(*m));
	m->in_port = UINT32_MAX;
	memset(m->dl_dst, 0xff, sizeof(m->dl_dst));
	memset(m->dl_src, 0xff, sizeof(m->dl_src));
	m->dl_type = UINT16_MAX;
	if (k->vlan_tci & SY_VLAN_PRESENT)
		m->vlan_tci = UINT16_MAX;
	if (ip4) {
		m->nw_src = m->nw_dst = UINT32_MAX;
	} else if (ip6) {
		memset(m->ipv6_src, 0xff, sizeof(m->ipv6_src));
		memset(m->ipv6_dst, 0xff, sizeof(m->ipv6_dst));
		m->ipv6_label = 0xfffff;
	}
	if (ip4 || ip6) {
		m->nw_proto = m->nw_tos = m->nw_ttl = UINT8_MAX;
		m->nw_frag = SY_FRAG_ANY | SY_FRAG_LATER;
		if (lay->l4_ofs != 0) {
			m->tp_src = m->tp_dst = UINT16_MAX;
			if (k->nw_proto == 6)
				m->tcp_flags = UINT16_MAX;
		}
	}
}

/* An mbuf holding frame, chained over default mbufs as a device with
 * scattered rx would deliver it; NULL when the pool is empty. */
static struct rte_mbuf *
frame_mbuf(const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *head = NULL, *last = NULL;
	uint32_t off = 0;

	while (off < len) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);
		uint32_t n;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		n = RTE_MIN(len - off, (uint32_t)rte_pktmbuf_tailroom(m));
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), frame + off, n);
		m->data_len = (uint16_t)n;
		if (head == NULL) {
			head = m;
			head->pkt_len = n;
		} else {
			last->next = m;
			head->nb_segs++;
			head->pkt_len += n;
		}
		last = m;
		off += n;
	}
	return head;
}

int
trace_request(const struct sy_msg *req, struct sy_msgbuf *reply, struct sy_error *err)
{
	const struct pl_portmap *pm = rcu_load(&pl_portmap);
	const struct sy_attr *port_a = sy_msg_find(req, SY_A_PORT_ID);
	const struct sy_attr *pkt_a = sy_msg_find(req, SY_A_PACKET);
	struct trace *tr;
	struct act_pkt p;
	struct rte_mbuf *m;
	enum sy_drop_reason why;
	uint32_t port_id, len, max;
	uint16_t slot;
	char msg[SY_CODEC_ERR_MAX];
	int rc = 0;

	if (port_a == NULL)
		return sy_fail(err, SY_E_INVAL, "TRACE: missing attribute PORT_ID (the port the frame arrives on)");
	if (sy_attr_get_u32(port_a, &port_id, msg, sizeof(msg)) < 0)
		return sy_fail(err, SY_E_PROTO, "TRACE: %s", msg);
	if (pkt_a == NULL)
		return sy_fail(err, SY_E_INVAL, "TRACE: missing attribute PACKET (the frame to trace)");
	len = sy_attr_payload_len(pkt_a);
	if (len == 0)
		return sy_fail(err, SY_E_INVAL, "TRACE: the frame is empty");
	slot = pm ? pl_port_slot(pm, port_id) : PL_NO_PORT;
	if (port_id == 0 || port_id > SY_MAX_PORT_ID || slot == PL_NO_PORT)
		return sy_fail(err, SY_E_NOENT, "TRACE: port %u does not exist", port_id);
	/* what the port can receive: its MTU after Ethernet and two tags */
	max = RTE_MIN((uint32_t)pm->port[slot].mtu + PARSE_ETH_HLEN + 4 * PARSE_MAX_VLAN,
		      (uint32_t)SY_TRACE_FRAME_MAX);
	if (len > max)
		return sy_fail(err, SY_E_INVAL,
			       "TRACE: a frame of %u bytes is longer than port %u receives (%u bytes: MTU %u, Ethernet header and two VLAN tags)",
			       len, port_id, max, pm->port[slot].mtu);
	tr = calloc(1, sizeof(*tr));
	m = tr ? frame_mbuf(sy_attr_payload(pkt_a), len) : NULL;
	if (m == NULL) {
		free(tr);
		return sy_fail(err, SY_E_NOSPC, "TRACE: no memory or mbuf for the frame");
	}
	tr->reply = reply;
	sy_msg_begin(&tr->tail, SY_MSG_TRACE, 0, 0);

	/* a port's VLAN mode or NSH tag comes first, as in pl_input() */
	if (pm->port[slot].edge != NULL &&
	    (why = (enum sy_drop_reason)edge_ingress(pm->port[slot].edge, m)) != SY_DROP__MAX) {
		trace_drop(tr, why);
		rte_pktmbuf_free(m);
	} else if (parse_packet(m, port_id, &p.key, &p.lay, &why)) {
		struct sy_flow_key mask;
		uint8_t *km = sy_msg_put(reply, SY_A_TRACE_KEY, NULL, 2 * sizeof(p.key));

		key_fields(&p.key, &p.lay, &mask);
		if (km != NULL) {
			memcpy(km, &p.key, sizeof(p.key));
			memcpy(km + sizeof(p.key), &mask, sizeof(mask));
		}
		act_pkt_init(&p, m, slot);
		trace_lc.trace = tr;
		pl_trace(&trace_lc, pm, &p); /* consumes m */
		trace_lc.trace = NULL;
	} else {
		trace_drop(tr, why);
		rte_pktmbuf_free(m);
	}

	if (tr->tail.error) {
		rc = sy_fail(err, SY_E_NOSPC, "TRACE: out of memory for the answer");
	} else {
		sy_msg_put_raw(reply, tr->tail.data + sizeof(struct sy_msg_hdr),
			       tr->tail.len - sizeof(struct sy_msg_hdr));
	}
	sy_msg_free(&tr->tail);
	free(tr);
	return rc;
}
