/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * qos.h — port egress QoS: a rate limit on what a port sends, per port and
 * per queue (set_queue:N).
 *
 * What?
 *   A port may have an egress policer: a token bucket (tbucket.h) of a rate
 *   in kbit/s of frame bytes and a burst in kbit, shared by every lcore
 *   sending to the port.  It may also have up to SY_PORT_QOS_QUEUES queue
 *   buckets: a packet that went through set_queue:N is charged to queue N's
 *   bucket, then to the port's; queue 0 holds the packets without
 *   set_queue, and those naming a queue the port does not configure.  A
 *   packet that does not conform to either is freed and counted under drop
 *   reason `policed` of the output port.  It is a policer, not a shaper:
 *   nothing waits in a queue (as OVS's egress-policer and trtcm-policer QoS
 *   types), so TCP sees losses and backs off to the rate.  A packet refused
 *   by the port's bucket has been charged to its queue's: the queue then
 *   passes a little less than its rate while the port is over its own.
 *
 * Where
 *   pl_tx_put() (pipeline.h), the one place a packet enters a port's tx
 *   buffer (actions' outputs, the lone-output shortcut of act_run_inline()
 *   and the trains of pipeline.c), so no path skips it.  A port without
 *   QoS costs one load of qos_by_slot[slot] and one predictable branch.
 *
 * Changes
 *   qos_set() on the main lcore: it publishes a new struct port_qos (new
 *   buckets, full) under RCU and frees the old one after a grace period.
 *   ports.c calls qos_port_gone() when a port is deleted, so a slot reused
 *   by another port starts without QoS.
 */
#ifndef SY_QOS_H
#define SY_QOS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include <switchyard/proto.h>

#include "rcu.h"
#include "tbucket.h"

struct sy_error;

struct qos_bucket {
	uint64_t tat; /* the shared word */
	struct tb_rate rate;
	uint8_t on;   /* configured */
} __rte_cache_aligned;

struct port_qos {
	struct qos_bucket port;
	struct qos_bucket queue[SY_PORT_QOS_QUEUES];
	uint8_t shared; /* more than one forwarding lcore */
	struct sy_port_qos desc; /* as configured, bursts resolved */
	struct rcu_head rcu;
};

/* By port slot; NULL: no QoS.  Published under RCU. */
extern struct port_qos *qos_by_slot[SY_MAX_PORTS];

/* Whether a packet of len bytes in queue `queue` conforms at TSC time now
 * (charged if so). */
static inline bool
qos_conform(struct port_qos *q, uint32_t queue, uint64_t now, uint32_t len)
{
	struct qos_bucket *b = &q->queue[0];

	if (queue < SY_PORT_QOS_QUEUES && q->queue[queue].on)
		b = &q->queue[queue];
	if (b->on && !tb_conform(&b->tat, &b->rate, q->shared, now, len))
		return false;
	return !q->port.on || tb_conform(&q->port.tat, &q->port.rate, q->shared, now, len);
}

/* --- main lcore --- */

/* Checks d and fills q's buckets for a TSC of hz (bursts resolved into
 * d); INVAL naming the field.  Exposed for the unit test. */
int qos_config(struct port_qos *q, struct sy_port_qos *d, uint64_t hz, struct sy_error *err);

/* Sets the egress QoS of the port in slot (d->port_id is its id): none when
 * every rate is 0.  *out: as configured. */
int qos_set(uint16_t slot, const struct sy_port_qos *d, struct sy_port_qos *out,
	    struct sy_error *err);

/* The QoS of the port in slot (all rates 0: none); port_id left to the caller. */
void qos_get(uint16_t slot, struct sy_port_qos *out);

/* The port in slot is gone: its QoS too. */
void qos_port_gone(uint16_t slot);

/* Frees everything (shutdown, after the lcores stopped). */
void qos_fini(void);

#endif /* SY_QOS_H */
