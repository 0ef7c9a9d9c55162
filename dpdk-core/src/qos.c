/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * qos.c — port egress QoS (see qos.h): configuration and publication under
 * RCU.  The per-packet part is inline in qos.h, called from pl_tx_put().
 */
#include <stdlib.h>
#include <string.h>

#include "dataplane.h"
#include "datapath.h"
#include "meters.h"
#include "qos.h"

struct port_qos *qos_by_slot[SY_MAX_PORTS];

/* One rate: checked, burst resolved, bucket filled.  what names it in errors. */
static int
rate_config(struct qos_bucket *b, struct sy_qos_rate *r, uint64_t hz, uint32_t port,
	    const char *what, struct sy_error *err)
{
	memset(b, 0, sizeof(*b));
	if (r->rate == 0) {
		if (r->burst != 0)
			return sy_fail(err, SY_E_INVAL, "port %u: %s burst %llu without a rate",
				       port, what, (unsigned long long)r->burst);
		return 0;
	}
	if (r->rate > SY_METER_RATE_MAX)
		return sy_fail(err, SY_E_INVAL, "port %u: %s rate %llu kbit/s, expected 1..%llu",
			       port, what, (unsigned long long)r->rate, SY_METER_RATE_MAX);
	if (r->burst > SY_METER_RATE_MAX * 10)
		return sy_fail(err, SY_E_INVAL, "port %u: %s burst %llu kbit, at most %llu", port,
			       what, (unsigned long long)r->burst, SY_METER_RATE_MAX * 10);
	if (r->burst == 0) /* as meters: 100 ms of the rate, at least two frames */
		r->burst = RTE_MAX(r->rate / 10, (uint64_t)SY_METER_BURST_MIN_KBIT);
	b->rate = tb_rate(hz, r->rate * 125, r->burst * 125); /* kbit: bytes */
	b->on = 1;
	return 0;
}

int
qos_config(struct port_qos *q, struct sy_port_qos *d, uint64_t hz, struct sy_error *err)
{
	char what[16];

	if (rate_config(&q->port, &d->port, hz, d->port_id, "egress", err) < 0)
		return -1;
	for (unsigned int i = 0; i < SY_PORT_QOS_QUEUES; i++) {
		snprintf(what, sizeof(what), "queue %u", i);
		if (rate_config(&q->queue[i], &d->queue[i], hz, d->port_id, what, err) < 0)
			return -1;
	}
	d->pad = 0;
	q->desc = *d;
	return 0;
}

static bool
qos_none(const struct port_qos *q)
{
	if (q->port.on)
		return false;
	for (unsigned int i = 0; i < SY_PORT_QOS_QUEUES; i++)
		if (q->queue[i].on)
			return false;
	return true;
}

static void
qos_free_rcu(struct rcu_head *h)
{
	free(container_of(h, struct port_qos, rcu));
}

static void
replace(uint16_t slot, struct port_qos *q)
{
	struct port_qos *old = qos_by_slot[slot];

	rcu_store(&qos_by_slot[slot], q);
	if (old != NULL) {
		rcu_defer(&old->rcu, qos_free_rcu);
		rcu_commit();
		rcu_poll();
	}
}

int
qos_set(uint16_t slot, const struct sy_port_qos *d, struct sy_port_qos *out,
	struct sy_error *err)
{
	struct sy_port_qos nd = *d;
	struct port_qos tmp, *q = NULL;

	memset(&tmp, 0, sizeof(tmp));
	if (qos_config(&tmp, &nd, dp.tsc_hz, err) < 0)
		return -1;
	if (!qos_none(&tmp)) {
		q = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sizeof(*q), RTE_CACHE_LINE_SIZE));
		if (q == NULL)
			return sy_fail(err, SY_E_NOSPC, "port %u: out of memory for its QoS",
				       d->port_id);
		*q = tmp;
		q->shared = dp.n_workers > 1;
	}
	replace(slot, q);
	if (out != NULL) {
		if (q != NULL)
			*out = q->desc;
		else
			memset(out, 0, sizeof(*out));
		out->port_id = d->port_id;
	}
	return 0;
}

void
qos_get(uint16_t slot, struct sy_port_qos *out)
{
	memset(out, 0, sizeof(*out));
	if (qos_by_slot[slot] != NULL)
		*out = qos_by_slot[slot]->desc;
}

void
qos_port_gone(uint16_t slot)
{
	if (qos_by_slot[slot] != NULL)
		replace(slot, NULL);
}

void
qos_fini(void)
{
	for (unsigned int i = 0; i < SY_MAX_PORTS; i++) {
		free(qos_by_slot[i]);
		qos_by_slot[i] = NULL;
	}
}
