/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow.c — the tables generated from flow.h and proto.h, and the one
 * validation of a flow-mod that the data plane applies (the addon links
 * this file too, so what it refuses is what the data plane would refuse).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <switchyard/flow.h>
#include <switchyard/proto.h>

#define MEMBER_SIZE(member) sizeof(((struct sy_flow_key *)0)->member)

const struct sy_field_info sy_fields[SY_F__MAX] = {
#define SY_X_INFO(ID, name_, member, kind_, pre, settable_)                    \
	[SY_F_##ID] = {                                                        \
		.name = name_,                                                 \
		.offset = offsetof(struct sy_flow_key, member),                \
		.width = MEMBER_SIZE(member),                                  \
		.kind = kind_,                                                 \
		.prereq = pre,                                                 \
		.settable = settable_,                                         \
	},
	SY_FIELDS(SY_X_INFO)
#undef SY_X_INFO
};

const char *const sy_action_names[SY_ACT__MAX] = {
	[SY_ACT_NONE] = "none",
#define SY_X_NAME(ID, name) [SY_ACT_##ID] = name,
	SY_ACTIONS(SY_X_NAME)
#undef SY_X_NAME
};

const char *const sy_drop_names[SY_DROP__MAX] = {
#define SY_X_NAME(ID, name, help) [SY_DROP_##ID] = name,
	SY_DROPS(SY_X_NAME)
#undef SY_X_NAME
};

const char *const sy_error_names[SY_E__MAX] = {
#define SY_X_NAME(ID, text) [SY_E_##ID] = #ID,
	SY_ERRORS(SY_X_NAME)
#undef SY_X_NAME
};

enum sy_field_id
sy_field_by_name(const char *name)
{
	for (int f = 1; f < SY_F__MAX; f++)
		if (strcmp(sy_fields[f].name, name) == 0)
			return (enum sy_field_id)f;
	return SY_F_NONE;
}

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
field_is_masked(const struct sy_flow_key *mask, enum sy_field_id f)
{
	const uint8_t *m = (const uint8_t *)mask + sy_fields[f].offset;

	for (unsigned int i = 0; i < sy_fields[f].width; i++)
		if (m[i])
			return 1;
	return 0;
}

static int
dl_type_is(const struct sy_flow_mod *fm, uint16_t type)
{
	return fm->mask.dl_type == 0xffff && fm->key.dl_type == type;
}

static int
nw_proto_is(const struct sy_flow_mod *fm, uint8_t proto)
{
	return fm->mask.nw_proto == 0xff && fm->key.nw_proto == proto;
}

/* Whether the entry's match establishes prerequisite pre. */
static int
prereq_met(const struct sy_flow_mod *fm, enum sy_field_prereq pre)
{
	int ip4 = dl_type_is(fm, 0x0800), ip6 = dl_type_is(fm, 0x86dd);

	switch (pre) {
	case SY_PRE_NONE:
		return 1;
	case SY_PRE_VLAN:
		return (fm->mask.vlan_tci & SY_VLAN_PRESENT) &&
		       (fm->key.vlan_tci & SY_VLAN_PRESENT);
	case SY_PRE_IP:
		return ip4 || ip6;
	case SY_PRE_IPV4:
		return ip4;
	case SY_PRE_IPV6:
		return ip6;
	case SY_PRE_L4:
		return (ip4 || ip6) &&
		       (nw_proto_is(fm, 6) || nw_proto_is(fm, 17) || nw_proto_is(fm, 132));
	case SY_PRE_TCP:
		return (ip4 || ip6) && nw_proto_is(fm, 6);
	case SY_PRE_ICMP:
		return (ip4 && nw_proto_is(fm, 1)) || (ip6 && nw_proto_is(fm, 58));
	case SY_PRE_NSH:
		return dl_type_is(fm, 0x894f);
	}
	return 0;
}

static const char *const prereq_text[] = {
	[SY_PRE_NONE] = "",
	[SY_PRE_VLAN] = "a VLAN tag (vlan_tci=0x1000/0x1000)",
	[SY_PRE_IP] = "ip or ipv6",
	[SY_PRE_IPV4] = "ip (dl_type=0x0800)",
	[SY_PRE_IPV6] = "ipv6 (dl_type=0x86dd)",
	[SY_PRE_L4] = "tcp, udp or sctp",
	[SY_PRE_TCP] = "tcp",
	[SY_PRE_ICMP] = "icmp or icmp6",
	[SY_PRE_NSH] = "nsh (dl_type=0x894f)",
};

static int
validate_match(const struct sy_flow_mod *fm, char *err, size_t errlen)
{
	const uint64_t *k = (const uint64_t *)&fm->key;
	const uint64_t *m = (const uint64_t *)&fm->mask;

	for (size_t i = 0; i < SY_FLOW_KEY_WORDS; i++)
		if (k[i] & ~m[i])
			return fail(err, errlen,
				    "match: value has bits outside its mask (key word %zu)", i);
	if (fm->mask.pad0 || fm->mask.pad1 || fm->mask.pad2)
		return fail(err, errlen, "match: reserved bits are masked");

	/* tp_src/tp_dst are shared by the L4 ports and ICMP type/code: either
	 * prerequisite will do. */
	for (int f = 1; f < SY_F__MAX; f++) {
		enum sy_field_prereq pre = sy_fields[f].prereq;

		if (f == SY_F_ICMP_TYPE || f == SY_F_ICMP_CODE)
			continue;
		if (!field_is_masked(&fm->mask, f))
			continue;
		if (f == SY_F_TP_SRC || f == SY_F_TP_DST) {
			if (prereq_met(fm, SY_PRE_L4) || prereq_met(fm, SY_PRE_ICMP))
				continue;
			return fail(err, errlen,
				    "match: %s needs tcp, udp, sctp, icmp or icmp6 to be matched first",
				    sy_fields[f].name);
		}
		if (!prereq_met(fm, pre))
			return fail(err, errlen, "match: %s needs %s to be matched first",
				    sy_fields[f].name, prereq_text[pre]);
	}
	return 0;
}

static int
validate_actions(const struct sy_flow_mod *fm, char *err, size_t errlen)
{
	int seen_goto = 0, seen_meta = 0;

	if (fm->n_actions > SY_MAX_ACTIONS)
		return fail(err, errlen, "actions: %u actions, at most %d allowed",
			    fm->n_actions, SY_MAX_ACTIONS);

	for (unsigned int i = 0; i < fm->n_actions; i++) {
		const struct sy_action *a = &fm->actions[i];

		if (seen_goto)
			return fail(err, errlen, "actions: goto_table must be the last instruction");

		switch (a->type) {
		case SY_ACT_OUTPUT:
			if (a->arg == 0 || (a->arg > SY_MAX_PORT_ID && a->arg != SY_PORT_IN_PORT &&
					    a->arg != SY_PORT_FLOOD && a->arg != SY_PORT_ALL &&
					    a->arg != SY_PORT_CONTROLLER && a->arg != SY_PORT_LOCAL))
				return fail(err, errlen, "actions: output:%u is not a port number",
					    a->arg);
			break;
		case SY_ACT_SET_FIELD: {
			const uint8_t *v = a->value.bytes;
			unsigned int width;

			if (a->field == SY_F_NONE || a->field >= SY_F__MAX ||
			    !sy_fields[a->field].settable)
				return fail(err, errlen, "actions: set_field cannot set field %u%s%s",
					    a->field, a->field && a->field < SY_F__MAX ? " " : "",
					    a->field && a->field < SY_F__MAX ? sy_fields[a->field].name : "");
			width = sy_fields[a->field].width;
			for (unsigned int b = width; b < sizeof(a->value.bytes); b++)
				if (v[b])
					return fail(err, errlen,
						    "actions: set_field value too wide for %s",
						    sy_fields[a->field].name);
			if (a->mask && width > sizeof(a->mask))
				return fail(err, errlen, "actions: set_field of %s cannot be masked",
					    sy_fields[a->field].name);
			if (a->mask && width < sizeof(a->mask) && (a->mask >> (8 * width)))
				return fail(err, errlen, "actions: set_field mask too wide for %s",
					    sy_fields[a->field].name);
			if (a->field == SY_F_VLAN_TCI) {
				uint16_t tci, m = a->mask ? (uint16_t)a->mask : 0xffff;

				memcpy(&tci, v, sizeof(tci));
				if ((m & SY_VLAN_PRESENT) && !(tci & SY_VLAN_PRESENT))
					return fail(err, errlen,
						    "actions: set_field of vlan_tci must keep the tag present (0x1000)");
			}
			break;
		}
		case SY_ACT_PUSH_VLAN:
			if (a->arg != 0x8100 && a->arg != 0x88a8)
				return fail(err, errlen,
					    "actions: push_vlan:0x%x, the TPID must be 0x8100 or 0x88a8",
					    a->arg);
			break;
		case SY_ACT_POP_VLAN:
		case SY_ACT_DEC_TTL:
		case SY_ACT_POP_NSH:
		case SY_ACT_DEC_NSH_TTL:
			break;
		case SY_ACT_PUSH_NSH:
			if (SY_NSH_MASK_MDTYPE(a->mask) != 1 && SY_NSH_MASK_MDTYPE(a->mask) != 2)
				return fail(err, errlen, "actions: push_nsh md_type=%u, it must be 1 or 2",
					    SY_NSH_MASK_MDTYPE(a->mask));
			if (SY_NSH_MASK_TTL(a->mask) > SY_NSH_MAX_TTL)
				return fail(err, errlen, "actions: push_nsh ttl=%u, it must be 0..%d",
					    SY_NSH_MASK_TTL(a->mask), SY_NSH_MAX_TTL);
			if (a->mask >> 16)
				return fail(err, errlen, "actions: push_nsh has unknown arguments");
			if (SY_NSH_MASK_MDTYPE(a->mask) == 2 && (a->value.u64[0] || a->value.u64[1]))
				return fail(err, errlen,
					    "actions: push_nsh c1..c4 are MD type 1's, not md_type=2's");
			break;
		case SY_ACT_GOTO_TABLE:
			if (a->arg >= SY_MAX_TABLES)
				return fail(err, errlen, "actions: goto_table:%u, tables are 0..%d",
					    a->arg, SY_MAX_TABLES - 1);
			if (fm->hdr.table_id != SY_TABLE_ALL && a->arg <= fm->hdr.table_id)
				return fail(err, errlen,
					    "actions: goto_table:%u must name a table after %u",
					    a->arg, fm->hdr.table_id);
			seen_goto = 1;
			break;
		case SY_ACT_MIRROR:
			if (a->arg >= SY_MIRROR_MAX)
				return fail(err, errlen, "actions: mirror:%u, mirrors are 0..%d", a->arg,
					    SY_MIRROR_MAX - 1);
			break;
		case SY_ACT_CONTROLLER:
			if (a->arg == 0 || a->arg > SY_PIN_MAX_LEN)
				return fail(err, errlen, "actions: controller(max_len=%u), max_len is 1..%d",
					    a->arg, SY_PIN_MAX_LEN);
			break;
		case SY_ACT_GROUP:
			if (a->arg > SY_GROUP_ID_MAX)
				return fail(err, errlen, "actions: group:%u, groups are 0..%d", a->arg,
					    SY_GROUP_ID_MAX);
			break;
		case SY_ACT_SET_QUEUE: /* any id: one the port lacks is queue 0 (qos.h) */
			break;
		case SY_ACT_METER:
			if (a->arg == 0 || a->arg > SY_METER_ID_MAX)
				return fail(err, errlen, "actions: meter:%u, meters are 1..%d",
					    a->arg, SY_METER_ID_MAX);
			break;
		case SY_ACT_WRITE_METADATA:
			if (seen_meta++)
				return fail(err, errlen, "actions: write_metadata given twice");
			if (a->value.u64[0] & ~a->mask)
				return fail(err, errlen,
					    "actions: write_metadata value has bits outside its mask");
			break;
		default:
			if (a->type > SY_ACT_NONE && a->type < SY_ACT__MAX)
				return fail(err, errlen, "actions: %s is not supported yet",
					    sy_action_names[a->type]);
			return fail(err, errlen, "actions: unknown action type %u", a->type);
		}
	}
	return 0;
}

int
sy_flow_mod_validate(const struct sy_flow_mod *fm, char *err, size_t errlen)
{
	switch (fm->hdr.command) {
	case SY_FC_ADD:
	case SY_FC_MODIFY:
	case SY_FC_MODIFY_STRICT:
		if (fm->hdr.table_id == SY_TABLE_ALL && fm->hdr.command == SY_FC_ADD)
			return fail(err, errlen, "table: a flow is added to one table, 0..%d",
				    SY_MAX_TABLES - 1);
		break;
	case SY_FC_DELETE:
	case SY_FC_DELETE_STRICT:
		break;
	default:
		return fail(err, errlen, "command: unknown flow-mod command %u", fm->hdr.command);
	}
	if (fm->hdr.table_id >= SY_MAX_TABLES && fm->hdr.table_id != SY_TABLE_ALL)
		return fail(err, errlen, "table: %u is out of range 0..%d", fm->hdr.table_id,
			    SY_MAX_TABLES - 1);
	if (validate_match(fm, err, errlen) < 0)
		return -1;
	if (fm->hdr.command == SY_FC_DELETE || fm->hdr.command == SY_FC_DELETE_STRICT)
		return 0;
	return validate_actions(fm, err, errlen);
}
