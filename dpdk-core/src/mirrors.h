/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mirrors.h — copies of a port's or a flow's traffic to another port.
 *
 * What?
 *   A mirror (proto.h "Mirrors") has src ports (what they receive is
 *   copied, as it arrives), dst ports (what is sent to them is copied, as
 *   it leaves) and an output port.  A flow's `mirror:ID` action copies the
 *   packet as it is at that point of its actions.
 *
 * Where the hot path pays
 *   The port map (pipeline.h) carries, per port, the mirrors it is a src
 *   (mir_src) or dst (mir_dst) of, as bit masks, and each mirror's output
 *   slot (mir_out).  pl_input() tests mir_src once per burst, pl_tx_flush()
 *   tests mir_dst once per burst: a port without a mirror pays those two
 *   predictable branches.  Every path to a port goes through its tx buffer
 *   and pl_tx_flush() (the "train" shortcut too), so dst mirroring misses
 *   nothing.  A mirror's output port cannot be a mirrored port, so a copy
 *   is never copied again.
 *
 * Copies
 *   rte_pktmbuf_copy() from the packet pool (no malloc): a copy, not a
 *   reference, so that later rewrites of the original do not show in it.
 *   A copy that finds no mbuf is counted (no_mbuf) and dropped; the
 *   original is never touched.  The counters are per lcore (struct
 *   pl_lcore.mir), summed when read.
 *
 * Threads
 *   dp_mirror_mod(), dp_mirror_stats(), mir_fill(): main lcore.
 *   mir_copy(), mir_ports(): forwarding lcores.
 */
#ifndef SY_MIRRORS_H
#define SY_MIRRORS_H

#include <stdint.h>

#include <switchyard/proto.h>

struct pl_lcore;
struct pl_portmap;
struct rte_mbuf;
struct sy_error;

/* Adds, replaces (SY_MIR_SET) or deletes a mirror, and republishes the
 * port map.  0, or -1 with err. */
int dp_mirror_mod(uint32_t cmd, const struct sy_mirror_desc *d, struct sy_error *err);

typedef void (*dp_mirror_stats_cb)(const struct sy_mirror_stats *st, void *arg);
/* Every mirror with its counters, by id. */
void dp_mirror_stats(dp_mirror_stats_cb cb, void *arg);

/* Sets the mirror fields of pm (its ports and id lookups already filled). */
void mir_fill(struct pl_portmap *pm);

/* Forgets every mirror (dp_fini). */
void mir_fini(void);

/* A copy of m to mirror id's output. */
void mir_copy(struct pl_lcore *lc, const struct pl_portmap *pm, unsigned int id,
	      const struct rte_mbuf *m);

/* Copies of pkts[0..n) to every mirror in mask. */
void mir_ports(struct pl_lcore *lc, const struct pl_portmap *pm, uint32_t mask,
	       struct rte_mbuf *const *pkts, unsigned int n);

#endif /* SY_MIRRORS_H */
