/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * packet_in.c — the ring from the forwarding lcores to the control loop,
 * and the rate limit in front of it (see packet_in.h).
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dataplane.h"
#include "datapath.h"
#include "packet_in.h"
#include "pipeline.h"

static struct rte_ring *pin_ring;
/* Each lcore's share of the rate: TSC cycles between two packet-ins, and
 * how far ahead of now its theoretical arrival time may run (the burst).
 * Set before the lcores start; read-only after. */
static uint64_t pin_interval, pin_tolerance;

void
pin_set_rate(uint32_t r)
{
	uint64_t rate = r ? r : PIN_DEFAULT_RATE;
	uint64_t burst = rate / 4 > PIN_MIN_BURST ? rate / 4 : PIN_MIN_BURST;
	uint64_t lc_burst;

	/* each lcore gets rate / n_slots per second and burst / n_slots at once */
	pin_interval = dp.tsc_hz * dp.n_slots / rate;
	if (pin_interval == 0)
		pin_interval = 1;
	lc_burst = burst / dp.n_slots ? burst / dp.n_slots : 1;
	pin_tolerance = pin_interval * (lc_burst - 1);
	for (unsigned int s = 0; s < dp.n_slots; s++)
		if (dp.lcore[s])
			dp.lcore[s]->pin_tat = 0;
}

int
pin_init(struct sy_error *err)
{
	pin_set_rate(dp.cfg.controller_rate);
	pin_ring = rte_ring_create_elem("sy_pin", sizeof(struct pin_rec), PIN_RING_SIZE,
					(int)rte_socket_id(), RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (pin_ring == NULL)
		return sy_fail(err, SY_E_NOSPC, "cannot create the packet-in ring: %s",
			       rte_strerror(rte_errno));
	return 0;
}

void
pin_fini(void)
{
	struct pin_rec r;

	if (pin_ring == NULL)
		return;
	while (rte_ring_sc_dequeue_elem(pin_ring, &r, sizeof(r)) == 0)
		rte_pktmbuf_free(r.m);
	rte_ring_free(pin_ring);
	pin_ring = NULL;
}

bool
pin_send(struct pl_lcore *lc, struct rte_mbuf *m, uint32_t in_port, unsigned int table,
	 uint64_t cookie, unsigned int reason, unsigned int max_len)
{
	uint64_t now = rte_rdtsc(), tat = lc->pin_tat > now ? lc->pin_tat : now;
	struct pin_rec r;

	if (tat - now > pin_tolerance || pin_ring == NULL)
		return false;
	r.m = m;
	r.cookie = cookie;
	r.in_port = in_port;
	r.max_len = (uint16_t)(max_len > SY_PIN_MAX_LEN ? SY_PIN_MAX_LEN : max_len);
	r.table = (uint8_t)table;
	r.reason = (uint8_t)reason;
	r.total_len = rte_pktmbuf_pkt_len(m);
	r.pad = 0;
	rte_pktmbuf_refcnt_update(m, 1); /* every segment; before the consumer may free it */
	if (rte_ring_mp_enqueue_elem(pin_ring, &r, sizeof(r)) != 0) {
		rte_pktmbuf_refcnt_update(m, -1);
		return false;
	}
	lc->pin_tat = tat + pin_interval; /* only packet-ins that went use the rate */
	return true;
}

static void
pin_event(const struct pin_rec *r, const void *data, uint32_t len)
{
	struct sy_flow_hdr hdr;

	memset(&hdr, 0, sizeof(hdr));
	hdr.table_id = r->table;
	hdr.cookie = r->cookie;
	ctl_event_packet_in(r->in_port, r->table, r->reason == SY_PIN_ACTION ? &hdr : NULL, data,
			    len, r->reason, r->total_len);
}

bool
pin_drain(void)
{
	return pin_drain_to(pin_event);
}

bool
pin_drain_to(pin_event_fn fn)
{
	static uint8_t buf[SY_PIN_MAX_LEN]; /* main lcore only */
	struct pin_rec recs[32];
	unsigned int done = 0, n;

	if (pin_ring == NULL)
		return false;
	while (done < PIN_DRAIN_BUDGET &&
	       (n = rte_ring_sc_dequeue_burst_elem(pin_ring, recs, sizeof(recs[0]),
						   RTE_DIM(recs), NULL)) != 0) {
		for (unsigned int i = 0; i < n; i++) {
			struct pin_rec *r = &recs[i];
			uint32_t len = r->total_len < r->max_len ? r->total_len : r->max_len;
			const void *data = rte_pktmbuf_read(r->m, 0, len, buf);

			if (data != NULL)
				fn(r, data, len);
			rte_pktmbuf_free(r->m);
		}
		done += n;
	}
	return !rte_ring_empty(pin_ring);
}
