/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rcu.h — freeing what forwarding lcores may still be reading.
 *
 * What?
 *   Forwarding lcores read tables, flows and the port map without locks.
 *   The main lcore changes them by building a new object aside, publishing
 *   it with one atomic store, and handing what it replaced to rcu_defer().
 *   The object is freed once every forwarding lcore has passed a quiescent
 *   state (rte_rcu_qsbr) after the publication: no reader can hold it any
 *   more.
 *
 * How
 *   An object that can be retired embeds a struct rcu_head; deferring it
 *   never allocates, so it can be done where nothing may fail (the apply
 *   phase of a flow-mod batch).  Deferred objects collect in the current
 *   batch until rcu_commit(), which stamps them with an rte_rcu_qsbr token;
 *   rcu_poll() frees, without waiting, every committed object whose token
 *   every reader has passed (called from dp_periodic() and after each
 *   change).  rcu_sync() waits for a grace period and frees everything.
 *
 * Readers
 *   Each forwarding lcore is registered with dp.qsbr under its counter slot
 *   and reports quiescence once per loop iteration, after its tx flush; it
 *   goes offline while it sleeps.  Between two reports it may dereference
 *   any published pointer it loaded (with an acquire load).
 *
 * Threads
 *   Everything here is for the main lcore only.
 */
#ifndef SY_RCU_H
#define SY_RCU_H

#include <stdint.h>

struct rcu_head {
	struct rcu_head *next;
	void (*free)(struct rcu_head *head);
	uint64_t token;
};

struct rte_rcu_qsbr;

/* The quiescent-state variable every reader reports to (set by dp_init). */
void rcu_init(struct rte_rcu_qsbr *qs);

/* Frees head with fn(head) after a grace period that starts at the next
 * rcu_commit().  Never fails. */
void rcu_defer(struct rcu_head *head, void (*fn)(struct rcu_head *));

/* Closes the current batch of deferred objects: their grace period starts
 * now. */
void rcu_commit(void);

/* Frees committed objects whose grace period is over; never waits. */
void rcu_poll(void);

/* Commits, waits until every reader has passed a quiescent state, frees
 * everything deferred. */
void rcu_sync(void);

/* Publishes a pointer that readers load with rcu_load(). */
#define rcu_store(pp, v) __atomic_store_n((pp), (v), __ATOMIC_RELEASE)
#define rcu_load(pp) __atomic_load_n((pp), __ATOMIC_ACQUIRE)

#endif /* SY_RCU_H */
