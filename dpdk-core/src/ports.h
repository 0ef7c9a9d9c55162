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
 *   first comma), configure its rx queues (see below) and one tx queue
 *   per forwarding lcore (fewer if the device has fewer: then lcores
 *   share them under a per-queue spinlock, see pipeline.h; net_tap, which
 *   wants as many tx as rx queues, gets n_rxq tx queues), set the MTU,
 *   start it, publish a new port map.  Any failure detaches whatever was probed.
 *   del: publish a port map without it, wait for an RCU grace period (no
 *   lcore polls it or holds packets for it), then stop, close and
 *   rte_dev_remove().  Flows that output to it stay and count NO_PORT.
 *   admin down: rte_eth_dev_set_link_down where the driver has it; the
 *   pipeline stops polling the port and drops output to it (PORT_DOWN).
 *
 * Rx queues (SY_A_PORT_RXQ, 1..SY_PORT_RXQ_MAX)
 *   A port has n_rxq rx queues, 1 unless asked otherwise.  With more than
 *   one, a device that hashes (dev_info.flow_type_rss_offloads) is
 *   configured for RSS on IP addresses and TCP/UDP ports (as much of that
 *   as it offers, else whatever it offers), with its default key; devices
 *   that spread by themselves (tap's multiqueue, vhost, ring: the sender
 *   picks) get the queues as they are.  A device with fewer rx queues than
 *   asked (dev_info.max_rx_queues) is refused with INVAL naming its
 *   maximum.  net_af_packet is special: its devargs' qpairs=N opens N
 *   sockets at probe time and the kernel's PACKET_FANOUT_HASH spreads
 *   frames over all of them, so such a port has exactly N rx queues (the
 *   default for it; asking for another count is refused, naming qpairs).
 *   Changing n_rxq (dp_port_mod) takes the port out of the pipeline (its
 *   queues unpolled, output to it counted PORT_DOWN), stops it,
 *   reconfigures and restarts it with its MTU and admin state: a pause of
 *   a few milliseconds on that port only (frames arriving meanwhile wait
 *   in the device or the kernel, or are lost as on a full ring).  If it
 *   fails the old queue count is restored and DEVICE reported; if even that
 *   fails the port stays stopped (a later PORT_MOD with PORT_RXQ retries).
 *
 * Placement (ports_assign_rxqs)
 *   Every rx queue of every port that is up is polled by exactly one
 *   forwarding lcore.  Queues are dealt round robin over the lcores, in
 *   order of port id then queue number, the deal continuing from one port
 *   to the next: ports a (2 queues), b (1), c (2) on lcores 0 and 1 give
 *   a/0 -> 0, a/1 -> 1, b/0 -> 0, c/0 -> 1, c/1 -> 0.  So every lcore polls
 *   the same number of queues, give or take one, and a port's queues land
 *   on different lcores.  It is recomputed, and a new port map published
 *   under RCU, whenever a port is added, deleted, set up or down, or gets
 *   another queue count.  It counts queues, not load: one busy queue and
 *   one idle one weigh the same (OVS's cycles-based assignment, from the
 *   per-queue counters of dp_pmd_stats(), is the natural next step).
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
 * Bond ports (link aggregation)
 *   A PORT_ADD with a bond (dp_bond_req) makes one port of several member
 *   devices with DPDK's bonding PMD: each member's devargs is probed (as a
 *   port's would be), the bonding device is created under the port's
 *   devargs (its name, net_bonding...) with rte_eth_bond_create(), the
 *   members added in order, the primary set, and then the bond is set up
 *   and started like any device (its rx pool and queues; the PMD sets the
 *   members up with the same).  A failure at any step undoes every earlier
 *   one and names the member at fault.  The members belong to the port:
 *   closing the bond takes them out of it, and they are detached with it.
 *   A device that is a member is not a port of its own.
 *   Member links: the bonding PMD polls members without link interrupts
 *   every BOND_LINK_MONITOR_MS.  net_af_packet (22.11) reports "up" whatever
 *   its interface does, so for such a member the switch reads the kernel
 *   interface's flags (IFF_UP and IFF_RUNNING) every CARRIER_POLL_MS: on a
 *   lost carrier the member leaves the bond and is detached (the PMD fails
 *   over to the others); when it returns the member is probed afresh and
 *   added back.  Around either change the bond is out of the pipeline (as
 *   in a queue change), so no lcore is inside the member being removed.
 *   A change of a member's link, activity or presence is a PORT_STATUS
 *   LINK event; PORT_BOND (dp_port_bond) describes the members.
 *   A bond keeps the rx queue count it was made with (a change would
 *   restart the bond, which reconfigures every member under it: not
 *   offered yet).
 *
 * Edge settings (edge.h)
 *   A port's VLAN mode and NSH tag come with PORT_ADD or later with
 *   dp_port_set_edge(); they are checked whole before anything changes
 *   (edge_build), kept as set (struct sy_port_vlan, sy_port_nsh_tag: what
 *   dp_port_edge() reports) and as the lcores read them (struct pl_edge,
 *   pointed to from the port map).  A change publishes a new port map with
 *   a new pl_edge and frees the old one after the grace period.
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
#include "pipeline.h"

/* A port whose rx queues are to be polled: its slot and queue count. */
struct ports_rxq_load {
	uint16_t slot;
	uint16_t n_rxq;
};

/* Deals the rx queues of ports (in the order given: port id order) to
 * n_lcores lcores (>= 1), round robin (see "Placement"); fills poll[0..
 * n_lcores-1].  A pure function. */
void ports_assign_rxqs(const struct ports_rxq_load *ports, unsigned int n_ports,
		       unsigned int n_lcores, struct pl_pollq *poll);

int ports_init(struct sy_error *err);
void ports_fini(void); /* detaches every port */

unsigned int ports_count(void);
bool ports_exists(uint32_t id);
/* The port map again, from the registry and the mirrors (mirrors.c);
 * returns once no lcore uses the old one.  -1: out of memory. */
int ports_republish(void);

/* Polls link states (at most every 500 ms), reporting changes. */
void ports_poll_links(uint64_t now_tsc);

#endif /* SY_PORTS_H */
