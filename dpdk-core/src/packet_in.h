/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * packet_in.h — packets on their way to the controller (the daemon).
 *
 * What?
 *   A `controller` action, output:controller, or a miss in a table whose
 *   miss behaviour is `controller` sends the packet to the daemon as a
 *   PACKET_IN event (proto.h, "Packet-in").  A forwarding lcore may not
 *   write a socket, so it hands the packet over: pin_send() puts one record
 *   (the mbuf, taken by reference, and what the event says of it) on a
 *   multi-producer, single-consumer rte_ring; the main lcore drains the ring
 *   in its control loop (pin_drain(), at least every PIN_POLL_MS) and turns
 *   each record into an event, then frees the mbuf.
 *
 * Rate limit
 *   Packet-ins are limited to dp.cfg.controller_rate per second with a
 *   burst of a quarter of that (at least PIN_MIN_BURST), as OVS's
 *   controller_rate_limit / controller_burst_limit (default 1000/s here as
 *   there).  The rate is split evenly between the forwarding lcores, each
 *   with a bucket of its own in struct pl_lcore (GCRA: one theoretical
 *   arrival time, no atomics).  A packet-in over the limit, or one that
 *   finds the ring full, is counted under the drop reason `controller` on
 *   the ingress port; the packet's other outputs go on as they would.
 *
 * Cost when unused
 *   Nothing on the fast path: the records are made only by the action and
 *   the miss behaviour, and the control loop's check of an empty ring is
 *   one load.
 *
 * Threads
 *   pin_send(): forwarding lcores (any number at once).  pin_init(),
 *   pin_drain(), pin_fini(): the main lcore.
 */
#ifndef SY_PACKET_IN_H
#define SY_PACKET_IN_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include <switchyard/proto.h>

#define PIN_RING_SIZE 1024    /* packet-ins waiting for the main lcore, at most */
#define PIN_DEFAULT_RATE 1000 /* packet-ins per second, the whole switch */
#define PIN_MAX_RATE 1000000
#define PIN_MIN_BURST 25      /* as OVS's controller_burst_limit */
#define PIN_POLL_MS 10        /* the control loop drains the ring this often, at least */
#define PIN_DRAIN_BUDGET 256  /* records turned into events per loop round */

struct pl_lcore;
struct sy_error;

/* One packet-in on its way: 32 bytes, a ring element. */
struct pin_rec {
	struct rte_mbuf *m; /* a reference of the record's own */
	uint64_t cookie;    /* of the entry that sent it (PIN_ACTION) */
	uint32_t in_port;
	uint16_t max_len;
	uint8_t table;
	uint8_t reason; /* enum sy_packet_in_reason */
	uint32_t total_len;
	uint32_t pad;
};

/* Creates the ring and sets every lcore's bucket.  0, or -1 with err. */
int pin_init(struct sy_error *err);

/* Frees every waiting packet and the ring. */
void pin_fini(void);

/* Hands m to the controller: takes a new reference of m (every segment)
 * and queues a record.  False, m untouched, when the lcore's rate is used
 * up or the ring is full: the caller counts the drop (`controller`). */
bool pin_send(struct pl_lcore *lc, struct rte_mbuf *m, uint32_t in_port, unsigned int table,
	      uint64_t cookie, unsigned int reason, unsigned int max_len);

/* Main lcore: turns up to PIN_DRAIN_BUDGET waiting records into PACKET_IN
 * events (ctl_event_packet_in).  Returns true if more are waiting. */
bool pin_drain(void);

/* pin_drain() with each record, and its first len bytes in data, handed
 * to fn instead (tests). */
typedef void (*pin_event_fn)(const struct pin_rec *r, const void *data, uint32_t len);
bool pin_drain_to(pin_event_fn fn);

/* Sets the rate (packet-ins per second, the whole switch; 0: the default)
 * and refills every lcore's bucket.  Main lcore, while no lcore forwards
 * (start-up, tests). */
void pin_set_rate(uint32_t rate);

#endif /* SY_PACKET_IN_H */
