/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * packet_out.c — checking a packet-out on the main lcore, running it on a
 * forwarding lcore (see packet_out.h).
 */
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "actions.h"
#include "dataplane.h"
#include "datapath.h"
#include "packet_out.h"
#include "parse.h"
#include "pipeline.h"

int
pout_init(struct sy_error *err)
{
	for (unsigned int s = 0; s < dp.n_slots; s++) {
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "sy_pout%u", s);
		dp.lcore[s]->pout = rte_ring_create_elem(name, sizeof(struct pout_rec),
							 POUT_RING_SIZE, (int)rte_socket_id(),
							 RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		if (dp.lcore[s]->pout == NULL)
			return sy_fail(err, SY_E_NOSPC, "cannot create the packet-out ring: %s",
				       rte_strerror(rte_errno));
	}
	return 0;
}

void
pout_fini(void)
{
	static struct pout_rec r;

	for (unsigned int s = 0; s < dp.n_slots; s++) {
		if (dp.lcore[s] == NULL || dp.lcore[s]->pout == NULL)
			continue;
		while (rte_ring_sc_dequeue_elem(dp.lcore[s]->pout, &r, sizeof(r)) == 0)
			rte_pktmbuf_free(r.m);
		rte_ring_free(dp.lcore[s]->pout);
		dp.lcore[s]->pout = NULL;
	}
}

/* The frame in mbufs of the default pool, chained when it is larger than
 * one (a jumbo frame: the ports' tx takes chains). */
static struct rte_mbuf *
frame_mbuf(const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *head = NULL;

	while (len > 0 || head == NULL) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);
		uint32_t room, k;
		char *d;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		room = rte_pktmbuf_tailroom(m);
		k = len < room ? len : room;
		d = rte_pktmbuf_append(m, (uint16_t)k);
		memcpy(d, frame, k);
		frame += k;
		len -= k;
		if (head == NULL) {
			head = m;
		} else if (rte_pktmbuf_chain(head, m) != 0) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			return NULL;
		}
	}
	return head;
}

/* The length after the Ethernet header and its VLAN tags: what an MTU
 * bounds. */
static uint32_t
l3_len(const uint8_t *f, uint32_t len)
{
	uint32_t o = 12;

	while (o + 4 <= len && ((f[o] == 0x81 && f[o + 1] == 0x00) || (f[o] == 0x88 && f[o + 1] == 0xa8)))
		o += 4;
	o += 2;
	return len > o ? len - o : 0;
}

int
dp_packet_out(uint32_t in_port, const uint8_t *frame, uint32_t len, const struct sy_action *a,
	      unsigned int n, struct sy_error *err)
{
	const struct pl_portmap *pm = pl_portmap; /* the main lcore writes it */
	struct sy_flow_mod *fm;
	struct pout_rec *r;
	unsigned int slot = 0;
	uint16_t in_slot = PL_NO_PORT;
	uint32_t l3; /* bytes after the Ethernet header (and tags): what MTUs measure */
	char msg[SY_ERRMSG_MAX];

	if (len == 0)
		return sy_fail(err, SY_E_INVAL, "frame: empty");
	if (len < 14)
		return sy_fail(err, SY_E_INVAL,
			       "frame: %u bytes, shorter than an Ethernet header (14)", len);
	if (n == 0)
		return sy_fail(err, SY_E_INVAL, "actions: none (a packet-out without actions sends nothing)");
	if (n > SY_MAX_ACTIONS)
		return sy_fail(err, SY_E_INVAL, "actions: %u actions, at most %d allowed", n,
			       SY_MAX_ACTIONS);
	if (pm == NULL)
		return sy_fail(err, SY_E_NOENT, "no ports");
	l3 = l3_len(frame, len);
	if (in_port != SY_PORT_ANY) {
		in_slot = pl_port_slot(pm, in_port);
		if (in_port > SY_MAX_PORT_ID || in_slot == PL_NO_PORT)
			return sy_fail(err, SY_E_NOENT, "in_port: no port %u", in_port);
		if (l3 > pm->port[in_slot].mtu)
			return sy_fail(err, SY_E_INVAL,
				       "frame: %u bytes after the Ethernet header, over in_port %u's MTU %u",
				       l3, in_port, pm->port[in_slot].mtu);
	}
	for (unsigned int i = 0; i < n; i++) {
		uint32_t p = a[i].arg;

		switch (a[i].type) {
		case SY_ACT_GOTO_TABLE:
			return sy_fail(err, SY_E_INVAL,
				       "actions: goto_table is not for a packet-out (output:table runs the tables)");
		case SY_ACT_WRITE_METADATA:
			return sy_fail(err, SY_E_INVAL,
				       "actions: write_metadata is not for a packet-out");
		case SY_ACT_OUTPUT:
			if (p == SY_PORT_TABLE) {
				if (i + 1 != n)
					return sy_fail(err, SY_E_INVAL,
						       "actions: output:table must be the last action");
				break;
			}
			if (p == SY_PORT_IN_PORT && in_slot == PL_NO_PORT)
				return sy_fail(err, SY_E_INVAL,
					       "actions: output:in_port needs an in_port");
			if (p >= 1 && p <= SY_MAX_PORT_ID) {
				uint16_t s = pl_port_slot(pm, p);

				if (s == PL_NO_PORT)
					return sy_fail(err, SY_E_NOENT, "actions: output:%u: no such port", p);
				if (l3 > pm->port[s].mtu)
					return sy_fail(err, SY_E_INVAL,
						       "frame: %u bytes after the Ethernet header, over port %u's MTU %u",
						       l3, p, pm->port[s].mtu);
			}
			break;
		default:
			break;
		}
	}
	/* the rest of what a flow's actions must be (dp_flow_mod's checks) */
	fm = calloc(1, sizeof(*fm));
	if (fm == NULL)
		return sy_fail(err, SY_E_NOSPC, "out of memory");
	fm->hdr.command = SY_FC_ADD;
	fm->hdr.out_port = SY_PORT_ANY;
	for (unsigned int i = 0; i < n; i++)
		if (!(a[i].type == SY_ACT_OUTPUT && a[i].arg == SY_PORT_TABLE))
			fm->actions[fm->n_actions++] = a[i];
	if (sy_flow_mod_validate(fm, msg, sizeof(msg)) < 0) {
		free(fm);
		return sy_fail(err, SY_E_INVAL, "%s", msg);
	}
	free(fm);

	/* the lcore that polls in_port, else slot 0 */
	if (in_slot != PL_NO_PORT)
		for (unsigned int s = 0; s < dp.n_slots; s++)
			for (unsigned int q = 0; q < pm->poll[s].n; q++)
				if (pm->poll[s].q[q].slot == in_slot) {
					slot = s;
					goto found;
				}
found:
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return sy_fail(err, SY_E_NOSPC, "out of memory");
	r->m = frame_mbuf(frame, len);
	if (r->m == NULL) {
		free(r);
		return sy_fail(err, SY_E_NOSPC, "no mbuf for a frame of %u bytes", len);
	}
	r->in_port = in_port == SY_PORT_ANY ? SY_PORT_CONTROLLER : in_port;
	r->n = (uint16_t)n;
	memcpy(r->a, a, n * sizeof(*a));
	if (rte_ring_sp_enqueue_elem(dp.lcore[slot]->pout, r, sizeof(*r)) != 0) {
		rte_pktmbuf_free(r->m);
		free(r);
		return sy_fail(err, SY_E_BUSY,
			       "packet-out queue full (%d frames wait for lcore slot %u): try again",
			       POUT_RING_SIZE, slot);
	}
	free(r);
	return 0;
}

void
pout_run(struct pl_lcore *lc, const struct pl_portmap *pm)
{
	struct pout_rec r;

	while (rte_ring_sc_dequeue_elem(lc->pout, &r, sizeof(r)) == 0) {
		struct act_pkt p;
		enum sy_drop_reason why;
		uint16_t in_slot = r.in_port == SY_PORT_CONTROLLER ? PL_NO_PORT
								  : pl_port_slot(pm, r.in_port);

		if (!parse_packet(r.m, r.in_port, &p.key, &p.lay, &why)) {
			act_count_drop(lc, in_slot, why);
			rte_pktmbuf_free(r.m);
			continue;
		}
		act_pkt_init(&p, r.m, in_slot);
		act_run(lc, pm, &p, r.a, r.n);
	}
}
