/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edge.h — what a port does to frames at the edge of the switch: its VLAN
 * mode (access, trunk) and its NSH port tag.
 *
 * What?
 *   The behaviour is described with struct sy_port_vlan and struct
 *   sy_port_nsh_tag in proto.h ("Port VLAN modes and NSH port tag").  A
 *   port with either setting has a struct pl_edge in the port map
 *   (pipeline.h); a port with neither has NULL there, and pays nothing but
 *   that one test per received burst (pl_input) and per emitted packet
 *   (emit() in actions.c, and a train's packets in pl_train_go(), which run
 *   the egress step themselves; act_run_inline's lone output leaves edge
 *   ports to emit()).  Measured with net_ring ports, one lcore: a plain
 *   port's packet costs the same as before (55-57 cycles here, either
 *   build); access -> trunk about 100-108, trunk -> access (strip) about
 *   100.
 *
 *   Ingress (edge_rx), before the burst is parsed, each frame in turn:
 *   the VLAN step (tag an untagged or priority-tagged frame with the
 *   access or native VID, drop what the mode does not allow), then the NSH
 *   push.  So flows see the frame as it is inside the switch: dl_vlan=V,
 *   or dl_type=0x894f,nsh_spi=..., with in_port the port.
 *   Egress (edge_tx), after the tables chose the port: the NSH pop (a
 *   frame whose outer EtherType is NSH), then the VLAN step on what is
 *   left (strip the access or native VID, drop VIDs not allowed and frames
 *   without a tag).  A drop is counted on the port where it happens:
 *   VLAN_FILTERED, NO_HEADROOM (no room to push), NO_MBUF (no buffer for
 *   a copy).
 *
 * Copies
 *   A received frame is the lcore's own: it is written in place.  A frame
 *   sent to an edge port that must change (a tag stripped, an NSH header
 *   popped) is written in place only when it is the packet's last output
 *   and nothing else holds it (its own direct mbuf, reference count 1);
 *   otherwise (output:p1,output:p2, a flood, a group) the edge port gets a
 *   copy, and the other outputs keep the bytes they were given.
 *
 * Packet traces
 *   A trace (SY_MSG_TRACE, trace.h) takes the frame through the ingress
 *   step first (edge_ingress; a drop there is its TRACE_DROP and it goes
 *   no further), and records each output as it leaves the egress step.
 *
 * Not covered
 *   The MTU check of an output comes before the egress step (an NSH header
 *   about to be popped counts).
 *
 * Threads
 *   edge_rx/edge_tx: forwarding lcores.  edge_build: the main lcore.
 */
#ifndef SY_EDGE_H
#define SY_EDGE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include <switchyard/proto.h>

#include "pipeline.h"

struct sy_error;

/* Checks the settings asked for port (named in errors) and, when there
 * is any, allocates the struct pl_edge the lcores will read (*out; NULL
 * when both are off).  vlan or nsh NULL: that setting is off.  Returns 0,
 * or -1 with err filled (INVAL naming the field). */
int edge_build(const char *port, const struct sy_port_vlan *vlan,
	       const struct sy_port_nsh_tag *nsh, struct pl_edge **out, struct sy_error *err);

/* The ingress step of one frame that is the caller's own (written in
 * place): SY_DROP__MAX to keep it, else the reason to drop it (neither
 * counted nor freed here).  For a packet trace. */
unsigned int edge_ingress(const struct pl_edge *e, struct rte_mbuf *m);

/* The ingress step over a received burst, in place: drops are counted on
 * port slot and freed; returns how many frames are left in pkts[]. */
uint16_t edge_rx(struct pl_lcore *lc, const struct pl_edge *e, uint16_t slot,
		 struct rte_mbuf **pkts, uint16_t n);

/* The egress step of m toward port slot.  last: the caller gives its
 * reference to m away (else it keeps it).  Returns the frame to put in
 * the tx buffer, with a reference of its own (m itself or a copy), or
 * NULL when it was dropped (counted). */
struct rte_mbuf *edge_tx(struct pl_lcore *lc, const struct pl_edge *e, uint16_t slot,
			 struct rte_mbuf *m, bool last);

#endif /* SY_EDGE_H */
