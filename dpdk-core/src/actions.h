/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * actions.h — running a flow entry's instructions on one packet.
 *
 * What?
 *   act_run() executes an entry's struct sy_action list in order, with
 *   OpenFlow apply-actions semantics: output emits the packet as it is at
 *   that point; set_field, push_vlan, pop_vlan and dec_ttl rewrite the frame
 *   and the flow key alike (so that a later table matches the rewritten
 *   headers); write_metadata sets key.metadata; goto_table hands the packet
 *   back to the pipeline for the next table.
 *
 * One packet, several outputs: reference counts, never copies
 *   An output is not emitted at once: it is kept pending until the next
 *   output, rewrite or the end of the list.  The last output takes the
 *   packet's own reference, so a packet with one output costs no atomic at
 *   all; each earlier output of an unmodified packet shares the same mbuf
 *   (rte_pktmbuf_refcnt_update, on every segment of a chain: each has a
 *   count of its own).  Once the mbuf is shared (or arrived shared,
 *   refcnt > 1 or indirect), a rewrite first makes the packet its own copy
 *   (rte_pktmbuf_copy): the earlier outputs keep the original bytes, the
 *   rest of the actions work on the copy.  If the copy cannot be had the
 *   packet stops there, counted NO_MBUF.  A copy also gathers headers that
 *   a multi-segment mbuf split across segments, so rewrites always see
 *   contiguous headers.  A chained mbuf whose first segment holds the
 *   headers (a 9000-byte frame in 2 KB mbufs) is rewritten in place.  Every
 *   copy counts in the lcore's `copies` counter (switchyard stats), so that
 *   zero copy can be checked, not assumed.
 *
 * Checksums
 *   Rewrites of IPv4 addresses, TOS and TTL update the IPv4 header checksum
 *   incrementally (RFC 1624); rewrites of addresses (IPv4 or IPv6) and
 *   TCP/UDP ports update the TCP, UDP or ICMPv6 checksum likewise.  A UDP
 *   checksum of 0 over IPv4 (none) stays 0.  SCTP ports are not rewritten
 *   (their CRC32c is not incremental): set_field of tp_src/tp_dst leaves an
 *   SCTP packet as it is, as it does a packet without the header at all.
 *
 * Drops
 *   Each is counted once, with its reason, on the ingress port (TOO_BIG on
 *   the egress port): an output to a missing port (NO_PORT), to a port that
 *   is down (PORT_DOWN) or too small (TOO_BIG) fails alone; dec_ttl of TTL
 *   0 or 1 (TTL_EXPIRED), a push without headroom (NO_HEADROOM) or a failed
 *   copy (NO_MBUF) stop the packet, although outputs before them still go;
 *   a list that ends without any output and without any failed one counts
 *   ACTION_DROP.  Output to the ingress port is skipped unless it is
 *   output:in_port; flood and all both mean every admin-up port but the
 *   ingress one.  `controller` and output:controller hand the packet (by
 *   reference, as an output) to the control thread (packet_in.h); over the
 *   rate limit or with the ring full they fail alone, counted CONTROLLER.
 *   While pl_input() runs a burst (pl_lcore.free_later), the
 *   mbufs of dropped packets are gathered and freed in one bulk at its end.
 *
 * Fast path
 *   act_run_inline() does the two commonest lists in the caller's loop (a
 *   lone goto_table, a lone output to a port that is up and big enough)
 *   and hands everything else to act_run(), which does them the same way.
 *
 * Packet trace
 *   On the lcore of a packet trace (lc->trace set; trace.h) act_run()
 *   reports each action before it runs it, emit() records the packet as it
 *   is at that point instead of queueing it, and each drop is reported as
 *   it is counted.  A trace calls act_run(), never act_run_inline(), whose
 *   speed is thus untouched; elsewhere each report is a test of a NULL
 *   pointer already in a register.
 *
 * Threads
 *   Forwarding lcores (the pipeline), or a test on the main lcore.
 */
#ifndef SY_ACTIONS_H
#define SY_ACTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <switchyard/flow.h>
#include <switchyard/proto.h>

#include "parse.h"
#include "pipeline.h"
#include "trace.h"

/* One packet on its way through the tables. */
struct act_pkt {
	struct sy_flow_key key;
	struct rte_mbuf *m;
	struct parse_layout lay;
	uint16_t in_slot; /* ingress port slot */
	uint16_t pending; /* slot of an output not yet emitted, or PL_NO_PORT */
	uint16_t shared;  /* others may see m's bytes: copy before writing */
	uint16_t n_out;   /* outputs emitted */
	uint16_t n_fail;  /* outputs refused, each already counted */
	uint32_t queue;   /* set_queue id for the outputs after it (qos.h); 0: none */
	/* Where the actions being run come from, for a packet-in: set by the
	 * pipeline before each entry's actions (two stores to a line already
	 * written), read only by the controller action. */
	const struct ft_flow *flow;
	uint8_t table;
};

struct ft_flow;

/* Counts one drop on port slot; a packet trace records it too.  A
 * packet-out without in_port (packet_out.h) has no port to count its
 * refusals on (slot PL_NO_PORT): they are not counted. */
static inline void
act_count_drop(struct pl_lcore *lc, uint16_t slot, enum sy_drop_reason why)
{
	if (likely(slot != PL_NO_PORT))
		st_drop(&lc->ctr, slot, why, 1);
	if (unlikely(lc->trace != NULL))
		trace_drop(lc->trace, why);
}

/* Sets up p for a packet just parsed. */
static inline void
act_pkt_init(struct act_pkt *p, struct rte_mbuf *m, uint16_t in_slot)
{
	p->m = m;
	p->in_slot = in_slot;
	p->pending = PL_NO_PORT;
	p->shared = rte_mbuf_refcnt_read(m) > 1 || !RTE_MBUF_DIRECT(m);
	p->n_out = 0;
	p->n_fail = 0;
	p->queue = 0;
	p->flow = NULL;
	p->table = 0;
}

/* q: p's packet on a reference of its own, for actions run apart from p's
 * (a group bucket, output:table): nothing pending, no outputs yet, and the
 * bytes shared, so that either side copies before it writes. */
static inline void
act_pkt_fork(struct act_pkt *p, struct act_pkt *q)
{
	*q = *p;
	q->pending = PL_NO_PORT;
	q->shared = 1;
	q->n_out = 0;
	q->n_fail = 0;
	rte_pktmbuf_refcnt_update(p->m, 1); /* every segment */
	p->shared = 1;
}

/* Runs a[0..n) on p.  Returns the table to continue in (goto_table), or -1
 * when the packet is done with: emitted, dropped and counted, or both. */
int act_run(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p,
	    const struct sy_action *a, unsigned int n);

/* act_run() with the two commonest lists done inline: a lone goto_table,
 * and a lone output to a port that is up and big enough (anything unusual
 * goes the long way, which counts it). */
static inline int
act_run_inline(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p,
	       const struct sy_action *a, unsigned int n)
{
	if (n == 1 && p->pending == PL_NO_PORT) {
		if (a[0].type == SY_ACT_GOTO_TABLE)
			return (int)a[0].arg;
		if (a[0].type == SY_ACT_OUTPUT && a[0].arg <= SY_MAX_PORT_ID) {
			uint16_t slot = pl_port_slot(pm, a[0].arg);

			if (slot != PL_NO_PORT && slot != p->in_slot && pm->port[slot].admin_up &&
			    pm->port[slot].edge == NULL &&
			    rte_pktmbuf_pkt_len(p->m) - p->lay.l3_ofs <= pm->port[slot].mtu) {
				p->n_out++;
				pl_tx_put(lc, pm, slot, p->m, p->queue);
				return -1;
			}
		}
	}
	return act_run(lc, pm, p, a, n);
}

/* The bytes of an 802.1Q tag, for push_vlan/pop_vlan and the port VLAN
 * modes (edge.h): insert one after the MACs (false: no headroom), remove
 * the outermost (the frame must have one in its first segment; returns the
 * new start). */
bool act_vlan_insert(struct rte_mbuf *m, uint16_t tpid, uint16_t tci);
uint8_t *act_vlan_remove(struct rte_mbuf *m);
/* A miss in table t: a table whose miss is `controller` sends p to the
 * controller (packet_in.h, reason no_match, SY_PIN_MISS_LEN bytes), any
 * other drops it (TABLE_MISS).  p is done with either way. */
void act_table_miss(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p,
		    unsigned int t);

/* Makes p->m safe to write (its own mbuf, headers in the first segment),
 * for rewrites outside this file (nsh.c).  False when p stopped (counted). */
bool act_prepare_write(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p);

/* Ends p for reason why (counted on the ingress port); a pending output
 * still goes. */
void act_stop(struct pl_lcore *lc, const struct pl_portmap *pm, struct act_pkt *p,
	      enum sy_drop_reason why);

#endif /* SY_ACTIONS_H */
