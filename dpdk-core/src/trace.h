/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * trace.h — one frame through the live tables, recorded, not forwarded
 * (the TRACE request, proto.h "Packet trace"; ovs-appctl ofproto/trace).
 *
 * What?
 *   trace_request() builds an mbuf from the request's frame and hands it
 *   to the pipeline's own code: parse_packet(), then pl_trace(), which is
 *   the cascade of pl_cascade() instantiated with a trace (pipeline.c), and
 *   which runs each entry's list with act_run() (actions.c).  So a trace
 *   cannot disagree with what a packet does: there is one implementation.
 *
 * How the code it shares records, and why that costs the fast path nothing
 *   The trace runs on a struct pl_lcore of its own (trace_lc in trace.c)
 *   whose `trace` member points at the struct trace being recorded; every
 *   forwarding lcore's is NULL.
 *   - pl_trace() is pl_cascade()'s body compiled with the trace (VPP's
 *     "one inline body, two instances"): the fast-path instance has no
 *     trace code at all.  The traced one looks tables up without counting,
 *     credits no entry, skips the flow cache, and reports each table to
 *     trace_table()/trace_miss()/trace_table_end().
 *   - act_run() reports each action before running it (trace_action()),
 *     emit() hands the packet to trace_output() instead of a tx buffer, and
 *     every drop is reported to trace_drop() as it is counted.  Each is one
 *     test of lc->trace, a register once act_run() has loaded it; the
 *     inline fast path (act_run_inline()) is not used by a trace.
 *   - Counters a trace does touch through that shared code (drops, copies)
 *     are trace_lc's, which nothing ever reads: the switch's counters stay
 *     as they were.
 *   The fields an action changed are found by comparing the flow key
 *   before and after it (the actions keep the key in step with the frame).
 *
 * Threads
 *   The main lcore only (the control server), which is also the only writer
 *   of the tables: they cannot change during a trace.
 */
#ifndef SY_TRACE_H
#define SY_TRACE_H

#include <stdint.h>

#include <switchyard/codec.h>

struct act_pkt;
struct ft_flow;
struct rte_mbuf;
struct sy_action;
struct sy_error;
struct trace;

/* Serves a TRACE request: appends the answer's attributes to reply (begun
 * by the caller) and returns 0, or -1 with err filled (INVAL: no port, no
 * frame, an empty or oversized one; NOENT: no such port; NOSPC: out of
 * memory).  Sends nothing and changes no counter. */
int trace_request(const struct sy_msg *req, struct sy_msgbuf *reply, struct sy_error *err);

/* Hooks, called by the shared code when lc->trace is set. */

/* A lookup in table t found f (NULL: a miss): a step begins. */
void trace_table(struct trace *tr, unsigned int t, const struct ft_flow *f);
/* The step's table had no entry, and does miss. */
void trace_miss(struct trace *tr, unsigned int miss);
/* The step ends (p's key as the last action left it). */
void trace_table_end(struct trace *tr, const struct act_pkt *p);
/* Action a is about to run on p. */
void trace_action(struct trace *tr, const struct act_pkt *p, const struct sy_action *a);
/* A copy of m would be sent on port_id now (m is not consumed). */
void trace_output(struct trace *tr, uint32_t port_id, const struct rte_mbuf *m);
/* The packet is counted under a drop reason (enum sy_drop_reason). */
void trace_drop(struct trace *tr, unsigned int why);

#endif /* SY_TRACE_H */
