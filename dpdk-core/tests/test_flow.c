/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_flow.c — the field table generated from SY_FIELDS and the one
 * validation every flow-mod passes before it reaches a table.
 */
#include <string.h>

#include <switchyard/flow.h>
#include <switchyard/proto.h>

#include "sy_test.h"

static char err[256];

static void
init_add(struct sy_flow_mod *fm, uint8_t table)
{
	memset(fm, 0, sizeof(*fm));
	fm->hdr.command = SY_FC_ADD;
	fm->hdr.table_id = table;
	fm->hdr.priority = 100;
	fm->hdr.out_port = SY_PORT_ANY;
}

static void
match_ipv4(struct sy_flow_mod *fm)
{
	fm->key.dl_type = 0x0800;
	fm->mask.dl_type = 0xffff;
}

static void
add_action(struct sy_flow_mod *fm, uint16_t type, uint32_t arg)
{
	struct sy_action *a = &fm->actions[fm->n_actions++];

	memset(a, 0, sizeof(*a));
	a->type = type;
	a->arg = arg;
}

static void
field_table_matches_key_layout(void)
{
	CHECK_EQ(sy_fields[SY_F_NW_SRC].offset, offsetof(struct sy_flow_key, nw_src));
	CHECK_EQ(sy_fields[SY_F_NW_SRC].width, 4);
	CHECK_EQ(sy_fields[SY_F_DL_DST].width, 6);
	CHECK_EQ(sy_fields[SY_F_IPV6_DST].width, 16);
	CHECK_EQ(sy_fields[SY_F_METADATA].width, 8);
	CHECK_EQ(sy_fields[SY_F_NSH_C3].offset, offsetof(struct sy_flow_key, nsh_c[2]));
	CHECK_EQ(sy_fields[SY_F_ICMP_TYPE].offset, sy_fields[SY_F_TP_SRC].offset);
	for (int f = 1; f < SY_F__MAX; f++) {
		CHECK(sy_fields[f].name != NULL);
		CHECK(sy_fields[f].offset + sy_fields[f].width <= sizeof(struct sy_flow_key));
		CHECK_EQ(sy_field_by_name(sy_fields[f].name), f);
	}
	CHECK_EQ(sy_field_by_name("nw_srcx"), SY_F_NONE);
}

static void
names_cover_every_enum(void)
{
	for (int i = 0; i < SY_DROP__MAX; i++)
		CHECK(sy_drop_names[i] != NULL && sy_drop_names[i][0]);
	for (int i = 0; i < SY_ACT__MAX; i++)
		CHECK(sy_action_names[i] != NULL);
	for (int i = 0; i < SY_E__MAX; i++)
		CHECK(sy_error_names[i] != NULL);
	CHECK(strcmp(sy_drop_names[SY_DROP_TABLE_MISS], "table_miss") == 0);
	CHECK(strcmp(sy_error_names[SY_E_NOENT], "NOENT") == 0);
}

static void
accepts_a_plain_forwarding_entry(void)
{
	struct sy_flow_mod fm;

	init_add(&fm, 0);
	fm.key.in_port = 1;
	fm.mask.in_port = 0xffffffff;
	add_action(&fm, SY_ACT_OUTPUT, 2);
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), 0);
}

static void
refuses_a_field_without_its_prerequisite(void)
{
	struct sy_flow_mod fm;

	init_add(&fm, 0);
	fm.key.nw_src = 0x0a000000;
	fm.mask.nw_src = 0xffffff00;
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "nw_src");
	CHECK_STR_CONTAINS(err, "ip");

	match_ipv4(&fm);
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), 0);

	fm.key.tp_dst = 80;
	fm.mask.tp_dst = 0xffff;
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "tp_dst");
	fm.key.nw_proto = 6;
	fm.mask.nw_proto = 0xff;
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), 0);

	/* ICMP type shares tp_src with the L4 ports. */
	fm.key.nw_proto = 1;
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), 0);
}

static void
refuses_value_bits_outside_the_mask(void)
{
	struct sy_flow_mod fm;

	init_add(&fm, 0);
	match_ipv4(&fm);
	fm.key.nw_src = 0x0a000001;
	fm.mask.nw_src = 0xffffff00;
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "outside its mask");
}

static void
goto_table_must_go_forward_and_last(void)
{
	struct sy_flow_mod fm;

	init_add(&fm, 3);
	add_action(&fm, SY_ACT_GOTO_TABLE, 1);
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "goto_table:1 must name a table after 3");

	init_add(&fm, 3);
	add_action(&fm, SY_ACT_GOTO_TABLE, 3);
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);

	init_add(&fm, 3);
	add_action(&fm, SY_ACT_GOTO_TABLE, 4);
	add_action(&fm, SY_ACT_OUTPUT, 1);
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "last");

	init_add(&fm, 3);
	add_action(&fm, SY_ACT_OUTPUT, 1);
	add_action(&fm, SY_ACT_GOTO_TABLE, 254);
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), 0);
}

static void
checks_set_field_and_push_vlan(void)
{
	struct sy_flow_mod fm;
	struct sy_action *a;
	uint16_t vid = SY_VLAN_PRESENT | 100;

	init_add(&fm, 0);
	a = &fm.actions[fm.n_actions++];
	memset(a, 0, sizeof(*a));
	a->type = SY_ACT_SET_FIELD;
	a->field = SY_F_IN_PORT; /* not settable */
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "in_port");

	a->field = SY_F_VLAN_TCI; /* vlan_vid: VID plus present, under 0x1fff */
	memcpy(a->value.bytes, &vid, sizeof(vid));
	a->mask = 0x1fff;
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), 0);
	a->mask = 0x1ffff; /* wider than the field */
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);
	a->mask = 0;
	vid = 100; /* a whole-TCI write without the present bit */
	memcpy(a->value.bytes, &vid, sizeof(vid));
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);

	init_add(&fm, 0);
	add_action(&fm, SY_ACT_PUSH_VLAN, 0x0800);
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "TPID");
	fm.actions[0].arg = 0x8100;
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), 0);
}

static void
refuses_unknown_and_unsupported_actions(void)
{
	struct sy_flow_mod fm;

	init_add(&fm, 0);
	add_action(&fm, 999, 0);
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "unknown action");

	init_add(&fm, 0);
	add_action(&fm, SY_ACT_OUTPUT, 0);
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "output:0");

	init_add(&fm, 0);
	fm.n_actions = SY_MAX_ACTIONS + 1;
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);
}

static void
deletes_skip_action_checks_but_not_match_checks(void)
{
	struct sy_flow_mod fm;

	init_add(&fm, SY_TABLE_ALL);
	fm.hdr.command = SY_FC_DELETE;
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), 0);

	fm.hdr.command = SY_FC_ADD;
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "one table");

	init_add(&fm, 0);
	fm.hdr.command = SY_FC_DELETE;
	fm.mask.tp_src = 0xffff;
	fm.key.tp_src = 22;
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);

	fm.hdr.command = 77;
	CHECK_EQ(sy_flow_mod_validate(&fm, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "command");
}

int
main(void)
{
	RUN(field_table_matches_key_layout);
	RUN(names_cover_every_enum);
	RUN(accepts_a_plain_forwarding_entry);
	RUN(refuses_a_field_without_its_prerequisite);
	RUN(refuses_value_bits_outside_the_mask);
	RUN(goto_table_must_go_forward_and_last);
	RUN(checks_set_field_and_push_vlan);
	RUN(refuses_unknown_and_unsupported_actions);
	RUN(deletes_skip_action_checks_but_not_match_checks);
	return sy_test_summary();
}
