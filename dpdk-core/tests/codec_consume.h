/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * codec_consume.h — everything a receiver might do with a parsed message,
 * shared by the codec fuzz target and the codec unit test's mutation loop:
 * every attribute is read with the getter its policy and type call for.
 * Returns -1 when a getter broke its contract (a string whose NUL is not
 * inside its attribute, a flow with more than SY_MAX_ACTIONS actions), else
 * 0; the getters' own refusals are expected and ignored.
 */
#ifndef SY_CODEC_CONSUME_H
#define SY_CODEC_CONSUME_H

#include <stdbool.h>
#include <string.h>

#include <switchyard/codec.h>

/* A TRACE_STEP and each of its TRACE_ACTIONs, as a client reads them. */
static inline int
sy_codec_consume_trace_step(const struct sy_attr *step)
{
	static struct sy_trace_step st;
	char why[SY_CODEC_ERR_MAX];
	struct sy_trace_change ch[SY_F__MAX];
	struct sy_attr_iter it;
	const struct sy_attr *a;
	struct sy_action act;
	unsigned int n;

	if (sy_get_trace_step(step, &st, why, sizeof(why)) < 0)
		return 0;
	if (st.hit && st.entry.n_actions > SY_MAX_ACTIONS)
		return -1;
	sy_attr_iter_nest(&it, step);
	while (sy_attr_next(&it, &a) > 0) {
		if (a->type != SY_A_TRACE_ACTION)
			continue;
		if (sy_get_trace_action(a, &act, ch, SY_F__MAX, &n, why, sizeof(why)) == 0 &&
		    n > SY_F__MAX)
			return -1;
	}
	return 0;
}

static inline int
sy_codec_consume(const struct sy_msg *m)
{
	char why[SY_CODEC_ERR_MAX], text[SY_ERRMSG_MAX];
	struct sy_attr_iter it;
	const struct sy_attr *a;
	int code, index;

	sy_get_error(m, &code, &index, text, sizeof(text), why, sizeof(why));
	sy_attr_iter_msg(&it, m);
	while (sy_attr_next(&it, &a) > 0) {
		union {
			struct sy_port_desc pd;
			struct sy_port_bond pb;
			struct sy_port_vlan pv;
			struct sy_port_nsh_tag pn;
			struct sy_port_stats ps;
			struct sy_table_desc td;
			struct sy_dp_stats ds;
			struct sy_dp_info di;
			struct sy_cookie_stats cs;
			struct sy_port_qos pq;
			struct sy_meter_desc md;
			struct sy_meter_stats ms;
			struct sy_meter_bands mb;
			struct sy_meter_band_stats mbs;
			struct sy_mirror_desc mi;
			struct sy_mirror_stats mis;
			struct sy_flow_mod fm;
			uint32_t u;
		} u;
		struct sy_flow_stats st;
		bool has;

		switch (sy_attr_policy(a->type)->kind) {
		case SY_AK_STRING: {
			const char *s = sy_attr_get_str(a, why, sizeof(why));

			if (s != NULL && strlen(s) >= sy_attr_payload_len(a))
				return -1; /* the NUL must be inside the attribute */
			break;
		}
		case SY_AK_U32:
			sy_attr_get_u32(a, &u.u, why, sizeof(why));
			break;
		default:
			break;
		}
		switch (a->type) {
		case SY_A_FLOW:
			if (sy_get_flow(a, &u.fm, &st, &has, why, sizeof(why)) == 0 &&
			    u.fm.n_actions > SY_MAX_ACTIONS)
				return -1;
			break;
		case SY_A_PORT_DESC:
			sy_get_port_desc(a, &u.pd, why, sizeof(why));
			break;
		case SY_A_PORT_BOND:
			sy_get_port_bond(a, &u.pb, why, sizeof(why));
			break;
		case SY_A_PORT_VLAN:
			sy_get_port_vlan(a, &u.pv, why, sizeof(why));
			break;
		case SY_A_PORT_NSH_TAG:
			sy_get_port_nsh_tag(a, &u.pn, why, sizeof(why));
			break;
		case SY_A_PORT_STATS:
			sy_get_port_stats(a, &u.ps, why, sizeof(why));
			break;
		case SY_A_TABLE_DESC:
			sy_get_table_desc(a, &u.td, why, sizeof(why));
			break;
		case SY_A_DP_STATS:
			sy_get_dp_stats(a, &u.ds, why, sizeof(why));
			break;
		case SY_A_DP_INFO:
			sy_get_dp_info(a, &u.di, why, sizeof(why));
			break;
		case SY_A_TRACE_KEY:
			sy_get_trace_key(a, &u.fm.key, &u.fm.mask, why, sizeof(why));
			break;
		case SY_A_TRACE_STEP:
			if (sy_codec_consume_trace_step(a) < 0)
				return -1;
			break;
		case SY_A_TRACE_OUTPUT: {
			const uint8_t *frame;
			uint32_t port, len;

			if (sy_get_trace_output(a, &port, &frame, &len, why, sizeof(why)) == 0 &&
			    frame + len > (const uint8_t *)a + a->length)
				return -1; /* the frame must be inside the attribute */
			break;
		}
		case SY_A_COOKIE_STATS:
			sy_get_cookie_stats(a, &u.cs, why, sizeof(why));
			break;
		case SY_A_PORT_QOS:
			sy_get_port_qos(a, &u.pq, why, sizeof(why));
			break;
		case SY_A_METER_DESC:
			sy_get_meter_desc(a, &u.md, why, sizeof(why));
			break;
		case SY_A_METER_STATS:
			sy_get_meter_stats(a, &u.ms, why, sizeof(why));
			break;
		case SY_A_METER_BANDS:
			if (sy_get_meter_bands(a, &u.mb, why, sizeof(why)) == 0 &&
			    u.mb.n_bands > SY_METER_BANDS_MAX)
				return -1;
			break;
		case SY_A_METER_BAND_STATS:
			if (sy_get_meter_band_stats(a, &u.mbs, why, sizeof(why)) == 0 &&
			    u.mbs.n_bands > SY_METER_BANDS_MAX)
				return -1;
			break;
		case SY_A_MIRROR_DESC:
			sy_attr_get_fixed(a, &u.mi, sizeof(u.mi), why, sizeof(why));
			break;
		case SY_A_MIRROR_STATS:
			sy_attr_get_fixed(a, &u.mis, sizeof(u.mis), why, sizeof(why));
			break;
		default:
			break;
		}
	}
	return 0;
}

#endif /* SY_CODEC_CONSUME_H */
