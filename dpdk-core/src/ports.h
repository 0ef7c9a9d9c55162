/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ports.h — switch ports: DPDK devices attached at run time.
 *
 * What?
 *   A port is a DPDK ethdev probed from a devargs string (net_tap,
 *   net_af_packet, net_ring, net_null, net_pcap, a PCI address...), with a
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
 * MTU
 *   The port's MTU is what TOO_BIG is checked against.  It is set on the
 *   device with rte_eth_dev_set_mtu() when one is given; drivers without
 *   that operation (net_ring, net_null, net_pcap) keep it in software only.
 *   net_af_packet reports a 1518-byte frame limit that the kernel interface
 *   does not have: an MTU above it is kept in software (set the interface's
 *   own MTU with ip link).  Above what a default mbuf holds, scattered rx is
 *   enabled when the device offers it.
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
