/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rcu.c — deferred frees behind rte_rcu_qsbr grace periods (see rcu.h).
 */
#include <stdbool.h>
#include <stddef.h>

#include <rte_rcu_qsbr.h>

#include "rcu.h"

static struct rte_rcu_qsbr *qsbr;

/* Deferred since the last commit, not yet stamped. */
static struct rcu_head *batch_head, **batch_tail = &batch_head;
/* Committed, in token order (oldest first). */
static struct rcu_head *wait_head, **wait_tail = &wait_head;

void
rcu_init(struct rte_rcu_qsbr *qs)
{
	qsbr = qs;
}

void
rcu_defer(struct rcu_head *head, void (*fn)(struct rcu_head *))
{
	head->free = fn;
	head->next = NULL;
	*batch_tail = head;
	batch_tail = &head->next;
}

void
rcu_commit(void)
{
	uint64_t token;

	if (batch_head == NULL)
		return;
	token = qsbr ? rte_rcu_qsbr_start(qsbr) : 0;
	for (struct rcu_head *h = batch_head; h; h = h->next)
		h->token = token;
	*wait_tail = batch_head;
	wait_tail = batch_tail;
	batch_head = NULL;
	batch_tail = &batch_head;
}

static void
free_until(bool wait)
{
	while (wait_head) {
		struct rcu_head *h = wait_head;

		if (qsbr && !rte_rcu_qsbr_check(qsbr, h->token, wait))
			return;
		wait_head = h->next;
		if (wait_head == NULL)
			wait_tail = &wait_head;
		h->free(h);
	}
}

void
rcu_poll(void)
{
	free_until(false);
}

void
rcu_sync(void)
{
	rcu_commit();
	free_until(true);
}
