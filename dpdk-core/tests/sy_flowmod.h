/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sy_flowmod.h — building flow-mods in the C unit tests.
 *
 *   struct sy_flow_mod *fm = fm_new(SY_FC_ADD, 0, 100);
 *   MATCH(fm, nw_proto, 17, 0xff);
 *   act(fm, output(2));
 *
 * fm_new() hands out one of 64 static flow-mods in turn, zeroed, so a test
 * can build a handful and pass them to dp_flow_mod() without freeing.
 */
#ifndef SY_FLOWMOD_H
#define SY_FLOWMOD_H

#include <string.h>

#include <switchyard/flow.h>

static inline struct sy_flow_mod *
fm_new(uint8_t cmd, uint8_t table, uint16_t prio)
{
	static struct sy_flow_mod pool[64];
	static unsigned int next;
	struct sy_flow_mod *fm = &pool[next++ % 64];

	memset(fm, 0, sizeof(*fm));
	fm->hdr.command = cmd;
	fm->hdr.table_id = table;
	fm->hdr.priority = prio;
	fm->hdr.out_port = SY_PORT_ANY;
	return fm;
}

/* Matches key field `field` (a member of struct sy_flow_key) under mask m. */
#define MATCH(fm, field, v, m)                                                 \
	do {                                                                   \
		(fm)->mask.field = (m);                                        \
		(fm)->key.field = (v) & (m);                                   \
	} while (0)

static inline void
act(struct sy_flow_mod *fm, struct sy_action a)
{
	fm->actions[fm->n_actions++] = a;
}

static inline struct sy_action
output(uint32_t port)
{
	return (struct sy_action){ .type = SY_ACT_OUTPUT, .arg = port };
}

static inline struct sy_action
goto_table(uint32_t t)
{
	return (struct sy_action){ .type = SY_ACT_GOTO_TABLE, .arg = t };
}

#endif /* SY_FLOWMOD_H */
