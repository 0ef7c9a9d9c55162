/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * packet_out.h — frames the controller injects (PACKET_OUT, proto.h
 * "Packet-out").
 *
 * What?
 *   dp_packet_out() (main lcore) checks a request, copies the frame into an
 *   mbuf and queues it, with its action list, on a forwarding lcore's
 *   packet-out ring.  That lcore runs the actions in pl_run_once(), between
 *   its rx bursts and its tx flush, exactly as it runs an entry's actions:
 *   the frames leave on the tx queues the lcore owns (no queue is shared
 *   with the main lcore, no lock is taken) and count in the output ports'
 *   tx counters.  output:table (SY_PORT_TABLE) hands the frame to the
 *   tables from table 0 (pl_resubmit()), as if received on in_port.
 *
 * Which lcore
 *   The one that polls in_port's first rx queue, so that a packet-out keeps
 *   its place among that port's packets; without in_port (or when no lcore
 *   polls it), slot 0.
 *
 * Cost when unused
 *   One test of an empty ring per loop iteration (a load of two indexes
 *   the main lcore writes only when it queues a frame).
 *
 * Threads
 *   dp_packet_out(), pout_init(), pout_fini(): main lcore.  pout_run(): the
 *   forwarding lcore that owns the ring.
 */
#ifndef SY_PACKET_OUT_H
#define SY_PACKET_OUT_H

#include <stdint.h>

#include <switchyard/flow.h>
#include <switchyard/proto.h>

#define POUT_RING_SIZE 64 /* packet-outs waiting for one lcore, at most */

struct pl_lcore;
struct pl_portmap;
struct rte_mbuf;

/* One packet-out on its way: the frame, where it came from, what to do. */
struct pout_rec {
	struct rte_mbuf *m;
	uint32_t in_port; /* SY_PORT_CONTROLLER: none given */
	uint16_t n;
	uint16_t pad;
	struct sy_action a[SY_MAX_ACTIONS];
};

/* Creates every lcore's ring.  0, or -1 with err. */
int pout_init(struct sy_error *err);

/* Frees what waits and the rings. */
void pout_fini(void);

/* Checks and queues a packet-out (see proto.h "Packet-out" for what is
 * refused).  in_port SY_PORT_ANY: none.  0, or -1 with err; nothing is
 * sent when it fails. */
int dp_packet_out(uint32_t in_port, const uint8_t *frame, uint32_t len,
		  const struct sy_action *a, unsigned int n, struct sy_error *err);

/* Forwarding lcore: runs every packet-out waiting on lc's ring. */
void pout_run(struct pl_lcore *lc, const struct pl_portmap *pm);

#endif /* SY_PACKET_OUT_H */
