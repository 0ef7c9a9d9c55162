/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ports.h — switch ports: DPDK devices attached at run time.
 *
 * What?
 *   A port is a DPDK ethdev probed from a devargs string (net_tap,
 *   net_af_packet, net_vhost, net_memif, net_ring, net_null, net_pcap, a
 *   PCI address...), with a
 *   name, a numeric id (the lowest free from 1 unless given), an MTU, an
 *   admin state, a link state and counters.  This file implements the port
 *   half of dataplane.h (dp_port_add/del/mod/list/stats/stats_clear) and
 *   builds the port map the pipeline reads (pipeline.h).
 *
 * Life of a port
 *   add: rte_dev_probe(devargs) (or adopt an ethdev EAL already created
 *   with --vdev), find the ethdev by the devargs name (the part before the
 *   first comma), configure 1 rx queue and one tx queue per forwarding
 *   lcore (fewer if the device has fewer: then lcores share them under a
 *   per-queue spinlock, see pipeline.h), set the MTU, start it, publish a
 *   new port map.  Any failure detaches whatever was probed.
 *   del: publish a port map without it, wait for an RCU grace period (no
 *   lcore polls it or holds packets for it), then stop, close and
 *   rte_dev_remove().  Flows that output to it stay and count NO_PORT.
 *   admin down: rte_eth_dev_set_link_down where the driver has it; the
 *   pipeline stops polling the port and drops output to it (PORT_DOWN).
 *
 * Placement
 *   Each port's rx queue 0 is polled by one forwarding lcore, the one with
 *   the fewest ports when it is added.
 *
 * Guests
 *   net_vhost devargs without client= are probed with client=1: vhost-user
 *   client mode, which reconnects by itself (the guest listens), so a
 *   restarted data plane finds its running guests again.  client=0 keeps
 *   server mode.  The port keeps (and reports) the devargs as given.
 *
 * MTU (up to 9600)
 *   The port's MTU is what TOO_BIG is checked against, on egress: a frame
 *   above it is counted and dropped, never cut.  It is set on the device
 *   with rte_eth_dev_set_mtu() when one is given; drivers without that
 *   operation (net_ring, net_null, net_pcap, net_vhost) keep it in software.
 *   Scattered rx and multi-segment tx are enabled whenever the device offers
 *   them, so that frames larger than a 2 KB mbuf arrive chained and a later
 *   MTU change needs no restart; vhost and memif chain by themselves.
 *   net_af_packet cannot scatter: each frame lands in one mbuf and in one
 *   ring frame of framesz bytes (devargs, default 2048).  An MTU above what
 *   that frame holds (framesz - 128 - 18) is refused, naming the limit; an
 *   af_packet port whose framesz exceeds a default mbuf receives into the
 *   jumbo pool (datapath.h).  Its reported 1518-byte frame limit is not the
 *   kernel interface's: an MTU above it is kept in software (set the
 *   interface's own MTU with ip link).
 *
 * Counters
 *   rx/tx packets and bytes and drops by reason are the per-lcore counters
 *   (stats.h) of the port's slot; rx_errors (ierrors + rx_nombuf), tx_errors
 *   (oerrors) and rx_missed (imissed) come from rte_eth_stats_get().
 *   Clearing stores baselines.
 *
 * Threads
 *   The main lcore only.
 */
#ifndef SY_PORTS_H
#define SY_PORTS_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane.h"

int ports_init(struct sy_error *err);
void ports_fini(void); /* detaches every port */

unsigned int ports_count(void);
bool ports_exists(uint32_t id);

/* Polls link states (at most every 500 ms), reporting changes. */
void ports_poll_links(uint64_t now_tsc);

#endif /* SY_PORTS_H */
