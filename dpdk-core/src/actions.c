/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * actions.c — apply-actions on one packet: outputs by reference, rewrites
 * with incremental checksums, VLAN push/pop, dec_ttl (see actions.h).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "actions.h"
#include "edge.h"
#include "datapath.h"
#include "groups.h"
#include "nsh.h"
#include "meters.h"
#include "mirrors.h"
#include "packet_in.h"
#include "flow_table.h"
#include "trace.h"

#define ETYPE_IPV4 0x0800
#define ETYPE_IPV6 0x86dd
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58

/* --- checksums: RFC 1624, HC' = ~(~HC + ~m + m'), on wire-order words --- */

static inline uint16_t
ld16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void
st16(void *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* The checksum at csum_at after len bytes (even) changed from old to new. */
static inline void
csum_replace(uint8_t *csum_at, const void *old, const void *new, unsigned int len)
{
	const uint8_t *o = old, *n = new;
	uint32_t s = (uint16_t)~ld16(csum_at);

	for (unsigned int i = 0; i < len; i += 2)
		s += (uint16_t)~ld16(o + i) + (uint32_t)ld16(n + i);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	st16(csum_at, (uint16_t)~s);
}

/* Same for a UDP checksum: 0 over IPv4 means "none" and stays; a result of
 * 0 is sent as 0xffff. */
static inline void
udp_csum_replace(uint8_t *csum_at, const void *old, const void *new, unsigned int len,
		 bool ipv6)
{
	if (ld16(csum_at) == 0 && !ipv6)
		return;
	csum_replace(csum_at, old, new, len);
	if (ld16(csum_at) == 0)
		st16(csum_at, 0xffff);
}

/* An IP address changed: fix the L4 checksum, whose pseudo-header has it. */
static void
l4_addr_changed(struct act_pkt *p, uint8_t *frame, const void *old, const void *new,
		unsigned int len)
{
	uint8_t *l4 = frame + p->lay.l4_ofs;
	bool ipv6 = p->key.dl_type == ETYPE_IPV6;

	if (p->lay.l4_ofs == 0)
		return;
	switch (p->key.nw_proto) {
	case PROTO_TCP:
		csum_replace(l4 + 16, old, new, len);
		break;
	case PROTO_UDP:
		udp_csum_replace(l4 + 6, old, new, len, ipv6);
		break;
	case PROTO_ICMPV6:
		if (ipv6)
			csum_replace(l4 + 2, old, new, len);
		break;
	}
}

/* --- outputs --- */

/* Hands m to port slot's tx buffer.  last: with the packet's own reference
 * (the end of its life here), else with a new one. */
static inline void
emit(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p, uint16_t slot,
     bool last)
{
	struct rte_mbuf *m = p->m;

	if (rte_pktmbuf_pkt_len(m) - p->lay.l3_ofs > pm->port[slot].mtu) {
		act_count_drop(lc, slot, SY_DROP_TOO_BIG);
		p->n_fail++;
		if (last)
			rte_pktmbuf_free(m);
		return;
	}
	if (unlikely(lc->trace != NULL)) { /* recorded, as it would leave, not sent */
		if (pm->port[slot].edge != NULL) {
			struct rte_mbuf *out = edge_tx(lc, pm->port[slot].edge, slot, m, false);

			if (out == NULL) { /* counted, and recorded as a drop */
				p->n_fail++;
				if (last)
					rte_pktmbuf_free(m);
				return;
			}
			trace_output(lc->trace, pm->port[slot].id, out);
			rte_pktmbuf_free(out); /* the copy, or the reference edge_tx took */
		} else {
			trace_output(lc->trace, pm->port[slot].id, m);
		}
		p->shared |= !last;
		p->n_out++;
		if (last)
			rte_pktmbuf_free(m);
		return;
	}
	if (unlikely(pm->port[slot].edge != NULL)) { /* VLAN mode, NSH port tag */
		struct rte_mbuf *out = edge_tx(lc, pm->port[slot].edge, slot, m, last);

		if (out == NULL) {
			p->n_fail++;
			return;
		}
		p->shared |= !last && out == m;
		p->n_out++;
		pl_tx_put(lc, pm, slot, out, p->queue);
		return;
	}
	if (!last) {
		/* every segment: a chain's tail segments have counts of their
		 * own, and the first free would otherwise take them away */
		rte_pktmbuf_refcnt_update(m, 1);
		p->shared = 1;
	}
	p->n_out++;
	pl_tx_put(lc, pm, slot, m, p->queue);
}

static inline void
queue_output(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p,
	     uint16_t slot)
{
	if (p->pending != PL_NO_PORT)
		emit(lc, pm, p, p->pending, false);
	p->pending = slot;
}

static inline void
refuse_output(struct pl_lcore *lc, struct act_pkt *p, enum sy_drop_reason why)
{
	act_count_drop(lc, p->in_slot, why);
	p->n_fail++;
}

/* Sends p, as it is now, to the controller (packet_in.h): a reference, as
 * an output that is never pending (the ring takes it at once).  A trace
 * records it as an output to the controller port instead. */
static void
act_controller(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p,
	       unsigned int reason, unsigned int max_len)
{
	/* the entry's cookie; written only by the main lcore, read whole */
	uint64_t cookie = p->flow ? __atomic_load_n(&p->flow->cookie, __ATOMIC_RELAXED) : 0;

	if (unlikely(lc->trace != NULL)) {
		trace_output(lc->trace, SY_PORT_CONTROLLER, p->m);
		p->n_out++;
		return;
	}
	/* key.in_port, not the slot's: a packet-out may come from no port */
	if (!pin_send(lc, p->m, p->key.in_port, p->table, cookie, reason, max_len)) {
		refuse_output(lc, p, SY_DROP_CONTROLLER);
		return;
	}
	p->shared = 1; /* the control thread reads these bytes later */
	p->n_out++;
}

/* output:table of a packet-out: the packet as it is now, on a reference
 * of its own, through the tables from table 0 (as a group bucket runs). */
static void
act_to_table(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p)
{
	struct act_pkt q;

	act_pkt_fork(p, &q);
	p->n_out++;
	pl_resubmit(lc, pm, &q);
}

static void
act_output(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p, uint32_t port)
{
	uint16_t slot;

	switch (port) {
	case SY_PORT_IN_PORT:
		queue_output(lc, pm, p, p->in_slot);
		return;
	case SY_PORT_FLOOD:
	case SY_PORT_ALL:
		for (unsigned int i = 0; i < pm->n_flood; i++)
			if (pm->flood[i] != p->in_slot)
				queue_output(lc, pm, p, pm->flood[i]);
		return;
	case SY_PORT_TABLE: /* packet-out only (packet_out.h): through the tables from table 0 */
		act_to_table(lc, pm, p);
		return;
	case SY_PORT_CONTROLLER: /* OpenFlow: output:controller sends the whole frame */
		act_controller(lc, pm, p, SY_PIN_ACTION, SY_PIN_MAX_LEN);
		return;
	}
	slot = pl_port_slot(pm, port);
	if (slot == PL_NO_PORT)
		refuse_output(lc, p, SY_DROP_NO_PORT);
	else if (slot == p->in_slot)
		; /* OpenFlow: only output:in_port sends back */
	else if (!pm->port[slot].admin_up)
		refuse_output(lc, p, SY_DROP_PORT_DOWN);
	else
		queue_output(lc, pm, p, slot);
}

/* Frees a dropped packet: with the rest of the burst's, when the pipeline
 * gathers them (one bulk free, one mempool access, instead of one each). */
static inline void
drop_free(struct pl_lcore *lc, struct rte_mbuf *m)
{
	if (lc->free_later && lc->n_dead < RTE_DIM(lc->dead))
		lc->dead[lc->n_dead++] = m;
	else
		rte_pktmbuf_free(m);
}

void
act_stop(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p,
	 enum sy_drop_reason why)
{
	act_count_drop(lc, p->in_slot, why);
	if (p->pending != PL_NO_PORT) {
		emit(lc, pm, p, p->pending, true);
		p->pending = PL_NO_PORT;
	} else {
		drop_free(lc, p->m);
	}
}

static void
act_finish(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p)
{
	if (p->pending != PL_NO_PORT) {
		emit(lc, pm, p, p->pending, true);
		p->pending = PL_NO_PORT;
		return;
	}
	if (p->n_out == 0 && p->n_fail == 0)
		act_count_drop(lc, p->in_slot, SY_DROP_ACTION_DROP);
	drop_free(lc, p->m);
}

void
act_table_miss(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p,
	       unsigned int t)
{
	if (likely(__atomic_load_n(&ft_tables[t].miss, __ATOMIC_RELAXED) != SY_MISS_CONTROLLER)) {
		act_stop(lc, pm, p, SY_DROP_TABLE_MISS);
		return;
	}
	p->flow = NULL;
	p->table = (uint8_t)t;
	act_controller(lc, pm, p, SY_PIN_NO_MATCH, SY_PIN_MISS_LEN);
	act_finish(lc, pm, p);
}

/* --- rewrites --- */

/* Makes p->m safe to write: its own (unshared) mbuf with the headers in the
 * first segment.  A pending output leaves with the bytes as they are.
 * Returns false when the packet had to stop (counted). */
static bool
prepare_write(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p)
{
	struct rte_mbuf *c;

	if (!p->shared && p->pending == PL_NO_PORT &&
	    rte_pktmbuf_data_len(p->m) >= p->lay.hdr_len)
		return true;
	c = rte_pktmbuf_copy(p->m, dp.pool, 0, UINT32_MAX);
	if (c)
		lc->ctr.copies++; /* shown by `switchyard stats` */
	if (c == NULL || rte_pktmbuf_data_len(c) < p->lay.hdr_len) {
		rte_pktmbuf_free(c);
		act_stop(lc, pm, p, SY_DROP_NO_MBUF);
		return false;
	}
	if (p->pending != PL_NO_PORT) {
		emit(lc, pm, p, p->pending, true);
		p->pending = PL_NO_PORT;
	} else {
		rte_pktmbuf_free(p->m);
	}
	p->m = c;
	p->shared = 0;
	return true;
}

bool
act_prepare_write(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p)
{
	return prepare_write(lc, pm, p);
}

bool
act_vlan_insert(struct rte_mbuf *m, uint16_t tpid, uint16_t tci)
{
	uint8_t *d = (uint8_t *)rte_pktmbuf_prepend(m, 4);

	if (d == NULL)
		return false;
	memmove(d, d + 4, 12);
	st16(d + 12, rte_cpu_to_be_16(tpid));
	st16(d + 14, rte_cpu_to_be_16(tci));
	return true;
}

uint8_t *
act_vlan_remove(struct rte_mbuf *m)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);

	memmove(d + 4, d, 12);
	return (uint8_t *)rte_pktmbuf_adj(m, 4);
}

static bool
act_push_vlan(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p,
	      uint16_t tpid)
{
	uint16_t tci = (p->key.vlan_tci & SY_VLAN_PRESENT) ? p->key.vlan_tci & ~SY_VLAN_PRESENT : 0;

	if (!prepare_write(lc, pm, p))
		return false;
	if (!act_vlan_insert(p->m, tpid, tci)) {
		act_stop(lc, pm, p, SY_DROP_NO_HEADROOM);
		return false;
	}
	p->key.vlan_tci = tci | SY_VLAN_PRESENT;
	p->lay.n_vlan++;
	p->lay.l3_ofs += 4;
	p->lay.hdr_len += 4;
	if (p->lay.l4_ofs)
		p->lay.l4_ofs += 4;
	return true;
}

static bool
act_pop_vlan(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p)
{
	uint8_t *d;

	if (p->lay.n_vlan == 0)
		return true;
	if (!prepare_write(lc, pm, p))
		return false;
	d = act_vlan_remove(p->m);
	p->lay.n_vlan--;
	p->lay.l3_ofs -= 4;
	p->lay.hdr_len -= 4;
	if (p->lay.l4_ofs)
		p->lay.l4_ofs -= 4;
	p->key.vlan_tci = p->lay.n_vlan ? rte_be_to_cpu_16(ld16(d + 14)) | SY_VLAN_PRESENT : 0;
	return true;
}

static bool
act_dec_ttl(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p)
{
	bool ipv4 = p->key.dl_type == ETYPE_IPV4;
	uint8_t *ip;

	if (!ipv4 && p->key.dl_type != ETYPE_IPV6)
		return true; /* nothing to decrement */
	if (p->key.nw_ttl <= 1) {
		act_stop(lc, pm, p, SY_DROP_TTL_EXPIRED);
		return false;
	}
	if (!prepare_write(lc, pm, p))
		return false;
	ip = rte_pktmbuf_mtod_offset(p->m, uint8_t *, p->lay.l3_ofs);
	p->key.nw_ttl--;
	if (ipv4) {
		uint8_t old[2] = { ip[8], ip[9] };

		ip[8] = p->key.nw_ttl;
		csum_replace(ip + 10, old, ip + 8, 2);
	} else {
		ip[7] = p->key.nw_ttl;
	}
	return true;
}

/* Whether the packet has the header that field lives in. */
static bool
field_present(const struct act_pkt *p, unsigned int field)
{
	bool ipv4 = p->key.dl_type == ETYPE_IPV4, ipv6 = p->key.dl_type == ETYPE_IPV6;

	switch (field) {
	case SY_F_METADATA:
	case SY_F_DL_SRC:
	case SY_F_DL_DST:
	case SY_F_VLAN_TCI:
		return true;
	case SY_F_NW_SRC:
	case SY_F_NW_DST:
		return ipv4;
	case SY_F_NW_TOS:
	case SY_F_NW_TTL:
		return ipv4 || ipv6;
	case SY_F_IPV6_SRC:
	case SY_F_IPV6_DST:
	case SY_F_IPV6_LABEL:
		return ipv6;
	case SY_F_TP_SRC:
	case SY_F_TP_DST:
		return p->lay.l4_ofs &&
		       (p->key.nw_proto == PROTO_TCP || p->key.nw_proto == PROTO_UDP);
	default:
		return nsh_field_present(p, field);
	}
}

/* Writes the key's (new) value of field into the frame. */
static void
write_field(struct act_pkt *p, unsigned int field)
{
	uint8_t *d = rte_pktmbuf_mtod(p->m, uint8_t *);
	uint8_t *ip = d + p->lay.l3_ofs, *l4 = d + p->lay.l4_ofs;
	uint8_t old[16];

	switch (field) {
	case SY_F_DL_DST:
		memcpy(d, p->key.dl_dst, 6);
		break;
	case SY_F_DL_SRC:
		memcpy(d + 6, p->key.dl_src, 6);
		break;
	case SY_F_VLAN_TCI:
		st16(d + 14, rte_cpu_to_be_16(p->key.vlan_tci & ~SY_VLAN_PRESENT));
		break;
	case SY_F_NW_SRC:
	case SY_F_NW_DST: {
		uint8_t *a = ip + (field == SY_F_NW_SRC ? 12 : 16);
		rte_be32_t v = rte_cpu_to_be_32(field == SY_F_NW_SRC ? p->key.nw_src : p->key.nw_dst);

		memcpy(old, a, 4);
		memcpy(a, &v, 4);
		csum_replace(ip + 10, old, a, 4);
		l4_addr_changed(p, d, old, a, 4);
		break;
	}
	case SY_F_NW_TOS:
		if (p->key.dl_type == ETYPE_IPV4) {
			memcpy(old, ip, 2);
			ip[1] = p->key.nw_tos;
			csum_replace(ip + 10, old, ip, 2);
		} else {
			ip[0] = (uint8_t)((ip[0] & 0xf0) | p->key.nw_tos >> 4);
			ip[1] = (uint8_t)((ip[1] & 0x0f) | p->key.nw_tos << 4);
		}
		break;
	case SY_F_NW_TTL:
		if (p->key.dl_type == ETYPE_IPV4) {
			memcpy(old, ip + 8, 2);
			ip[8] = p->key.nw_ttl;
			csum_replace(ip + 10, old, ip + 8, 2);
		} else {
			ip[7] = p->key.nw_ttl;
		}
		break;
	case SY_F_IPV6_SRC:
	case SY_F_IPV6_DST: {
		uint8_t *a = ip + (field == SY_F_IPV6_SRC ? 8 : 24);

		memcpy(old, a, 16);
		memcpy(a, field == SY_F_IPV6_SRC ? p->key.ipv6_src : p->key.ipv6_dst, 16);
		l4_addr_changed(p, d, old, a, 16);
		break;
	}
	case SY_F_IPV6_LABEL:
		p->key.ipv6_label &= 0xfffff;
		ip[1] = (uint8_t)((ip[1] & 0xf0) | p->key.ipv6_label >> 16);
		ip[2] = (uint8_t)(p->key.ipv6_label >> 8);
		ip[3] = (uint8_t)p->key.ipv6_label;
		break;
	case SY_F_TP_SRC:
	case SY_F_TP_DST: {
		uint8_t *a = l4 + (field == SY_F_TP_SRC ? 0 : 2);
		uint16_t v = rte_cpu_to_be_16(field == SY_F_TP_SRC ? p->key.tp_src : p->key.tp_dst);

		memcpy(old, a, 2);
		st16(a, v);
		if (p->key.nw_proto == PROTO_TCP)
			csum_replace(l4 + 16, old, a, 2);
		else
			udp_csum_replace(l4 + 6, old, a, 2, p->key.dl_type == ETYPE_IPV6);
		break;
	}
	default:
		nsh_write_field(p, field);
		break;
	}
}

static bool
act_set_field(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p,
	      const struct sy_action *a)
{
	const struct sy_field_info *fi = &sy_fields[a->field];
	uint8_t *kf = (uint8_t *)&p->key + fi->offset;
	uint8_t nv[16];

	if (!field_present(p, a->field))
		return true;
	/* mod_vlan_vid on an untagged packet: tag it first */
	if (a->field == SY_F_VLAN_TCI && p->lay.n_vlan == 0 &&
	    !act_push_vlan(lc, pm, p, 0x8100))
		return false;
	if (a->mask) {
		uint8_t mb[8];

		memcpy(mb, &a->mask, sizeof(mb));
		for (unsigned int i = 0; i < fi->width; i++)
			nv[i] = (uint8_t)((kf[i] & ~mb[i]) | (a->value.bytes[i] & mb[i]));
	} else {
		memcpy(nv, a->value.bytes, fi->width);
	}
	if (a->field == SY_F_METADATA) { /* not in the frame */
		memcpy(kf, nv, fi->width);
		return true;
	}
	if (!prepare_write(lc, pm, p))
		return false;
	memcpy(kf, nv, fi->width);
	write_field(p, a->field);
	return true;
}

/* meter:N (meters.h): false when the packet was dropped by the band. */
static bool
act_meter(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p, uint32_t id)
{
	struct sy_action remark = { .type = SY_ACT_SET_FIELD, .field = SY_F_NW_TOS, .mask = 0xfc };
	uint8_t band, tos;

	if (lc->trace != NULL) /* a trace passes and charges nothing */
		return true;
	if (meter_run(id, lc->slot, lc->now, rte_pktmbuf_pkt_len(p->m), &band, &tos))
		return true;
	if (band == SY_BAND_DROP) {
		act_stop(lc, pm, p, SY_DROP_METER);
		return false;
	}
	remark.value.bytes[0] = tos;
	return act_set_field(lc, pm, p, &remark);
}

/* --- the instruction list --- */

int
act_run(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p,
	const struct sy_action *a, unsigned int n)
{
	struct trace *tr = lc->trace; /* a packet trace (trace.h): told of each action */

	/* The commonest list, one output to a port that is up: straight to its
	 * tx buffer (anything unusual goes the long way, which counts it). */
	if (n == 1 && a[0].type == SY_ACT_OUTPUT && a[0].arg <= SY_MAX_PORT_ID &&
	    p->pending == PL_NO_PORT) {
		uint16_t slot = pl_port_slot(pm, a[0].arg);

		if (slot != PL_NO_PORT && slot != p->in_slot && pm->port[slot].admin_up) {
			if (unlikely(tr != NULL))
				trace_action(tr, p, &a[0]);
			emit(lc, pm, p, slot, true);
			return -1;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		if (unlikely(tr != NULL))
			trace_action(tr, p, &a[i]);
		switch (a[i].type) {
		case SY_ACT_OUTPUT:
			act_output(lc, pm, p, a[i].arg);
			break;
		case SY_ACT_SET_FIELD:
			if (!act_set_field(lc, pm, p, &a[i]))
				return -1;
			break;
		case SY_ACT_PUSH_VLAN:
			if (!act_push_vlan(lc, pm, p, (uint16_t)a[i].arg))
				return -1;
			break;
		case SY_ACT_POP_VLAN:
			if (!act_pop_vlan(lc, pm, p))
				return -1;
			break;
		case SY_ACT_DEC_TTL:
			if (!act_dec_ttl(lc, pm, p))
				return -1;
			break;
		case SY_ACT_WRITE_METADATA:
			p->key.metadata = (p->key.metadata & ~a[i].mask) |
					  (a[i].value.u64[0] & a[i].mask);
			break;
		case SY_ACT_PUSH_NSH:
			if (!nsh_push(lc, pm, p, &a[i]))
				return -1;
			break;
		case SY_ACT_POP_NSH:
			if (!nsh_pop(lc, pm, p))
				return -1;
			break;
		case SY_ACT_DEC_NSH_TTL:
			if (!nsh_dec_ttl(lc, pm, p))
				return -1;
			break;
		case SY_ACT_METER:
			if (!act_meter(lc, pm, p, a[i].arg))
				return -1;
			break;
		case SY_ACT_SET_QUEUE:
			/* an output still pending goes with the queue it was given under */
			if (p->pending != PL_NO_PORT) {
				emit(lc, pm, p, p->pending, false);
				p->pending = PL_NO_PORT;
			}
			p->queue = a[i].arg;
			break;
		case SY_ACT_GOTO_TABLE:
			return (int)a[i].arg;
		case SY_ACT_CONTROLLER:
			act_controller(lc, pm, p, SY_PIN_ACTION, a[i].arg);
			break;
		case SY_ACT_MIRROR: /* a copy as the packet is now (mirrors.h) */
			if (likely(tr == NULL))
				mir_copy(lc, pm, a[i].arg, p->m);
			break;
		case SY_ACT_GROUP: /* groups.h */
			if (!grp_run(lc, pm, p, a[i].arg, i + 1 == n))
				return -1;
			break;
		default: /* refused by dp_flow_mod */
			break;
		}
	}
	act_finish(lc, pm, p);
	return -1;
}
