/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * codec.c — the control protocol's builder and strict parser (codec.h).
 *
 * The parser trusts nothing: every length is checked against what is left
 * of its container before anything is read, and every read copies with
 * memcpy.  The attribute policy table below is the one place that says how
 * big each attribute is; sy_msg_parse() enforces it for the whole message
 * up front, so that request handlers only ever see well-formed attributes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <switchyard/codec.h>

/* ------------------------------------------------------------------ */
/* Names and policy */

#define U32(n) [SY_A_##n] = { #n, SY_AK_U32, 4 }
#define STR(n, max) [SY_A_##n] = { #n, SY_AK_STRING, max }
#define FIXED(n, type) [SY_A_##n] = { #n, SY_AK_FIXED, sizeof(type) }
#define NEST(n) [SY_A_##n] = { #n, SY_AK_NEST, 0 }
#define BINARY(n) [SY_A_##n] = { #n, SY_AK_BINARY, 0 }

static const struct sy_attr_policy policy[SY_A__MAX] = {
	U32(ERR_CODE),
	STR(ERR_MSG, SY_ERRMSG_MAX),
	U32(ERR_INDEX),
	U32(VERSION),
	FIXED(DP_INFO, struct sy_dp_info),
	STR(STATS_SEGMENT, SY_PATH_MAX),
	U32(PORT_ID),
	STR(PORT_NAME, SY_NAME_MAX),
	STR(PORT_DEVARGS, SY_DEVARGS_MAX),
	U32(PORT_MTU),
	U32(PORT_ADMIN),
	FIXED(PORT_DESC, struct sy_port_desc),
	FIXED(PORT_STATS, struct sy_port_stats),
	U32(PORT_REASON),
	U32(PORT_RXQ),
	NEST(FLOW),
	FIXED(FLOW_HDR, struct sy_flow_hdr),
	[SY_A_FLOW_MATCH] = { "FLOW_MATCH", SY_AK_FIXED, 2 * sizeof(struct sy_flow_key) },
	FIXED(FLOW_ACTION, struct sy_action),
	FIXED(FLOW_STATS, struct sy_flow_stats),
	U32(FLOW_COUNT),
	U32(FLOW_REASON),
	U32(TABLE_ID),
	FIXED(TABLE_DESC, struct sy_table_desc),
	FIXED(DP_STATS, struct sy_dp_stats),
	FIXED(PMD_STATS, struct sy_pmd_stats),
	U32(COOKIE_LIMIT),
	FIXED(COOKIE_STATS, struct sy_cookie_stats),
	BINARY(PACKET),
	[SY_A_TRACE_KEY] = { "TRACE_KEY", SY_AK_FIXED, 2 * sizeof(struct sy_flow_key) },
	NEST(TRACE_STEP),
	NEST(TRACE_ACTION),
	FIXED(TRACE_CHANGE, struct sy_trace_change),
	NEST(TRACE_OUTPUT),
	U32(TRACE_DROP),
	U32(TRACE_MISS),
	U32(BOND_MODE),
	STR(BOND_MEMBER, SY_DEVARGS_MAX),
	U32(BOND_XMIT_POLICY),
	STR(BOND_PRIMARY, SY_NAME_MAX),
	FIXED(PORT_BOND, struct sy_port_bond),
	FIXED(GROUP_HDR, struct sy_group_hdr),
	FIXED(GROUP_BUCKET, struct sy_group_bucket),
	FIXED(GROUP_STATS, struct sy_group_stats),
	U32(GROUP_ID),
	U32(METER_CMD),
	FIXED(METER_DESC, struct sy_meter_desc),
	U32(METER_ID),
	FIXED(METER_STATS, struct sy_meter_stats),
	FIXED(METER_BANDS, struct sy_meter_bands),
	FIXED(METER_BAND_STATS, struct sy_meter_band_stats),
	FIXED(PORT_QOS, struct sy_port_qos),
	FIXED(PORT_VLAN, struct sy_port_vlan),
	FIXED(PORT_NSH_TAG, struct sy_port_nsh_tag),
	U32(MIRROR_CMD),
	FIXED(MIRROR_DESC, struct sy_mirror_desc),
	FIXED(MIRROR_STATS, struct sy_mirror_stats),
	U32(PIN_REASON),
	U32(PIN_TOTAL_LEN),
};

#undef U32
#undef STR
#undef FIXED
#undef NEST
#undef BINARY

static const struct sy_attr_policy unknown_policy = { NULL, SY_AK_UNKNOWN, 0 };

const struct sy_attr_policy *
sy_attr_policy(uint16_t t)
{
	if (t < SY_A__MAX && policy[t].name != NULL)
		return &policy[t];
	return &unknown_policy;
}

const char *
sy_attr_name(uint16_t t)
{
	static _Thread_local char buf[24];

	if (t < SY_A__MAX && policy[t].name != NULL)
		return policy[t].name;
	snprintf(buf, sizeof(buf), "attribute %u", t);
	return buf;
}

const char *
sy_msg_type_name(uint16_t t)
{
	switch (t) {
	case SY_MSG_ERROR: return "ERROR";
	case SY_MSG_HELLO: return "HELLO";
	case SY_MSG_ECHO: return "ECHO";
	case SY_MSG_BARRIER: return "BARRIER";
	case SY_MSG_PORT_ADD: return "PORT_ADD";
	case SY_MSG_PORT_DEL: return "PORT_DEL";
	case SY_MSG_PORT_MOD: return "PORT_MOD";
	case SY_MSG_PORT_LIST: return "PORT_LIST";
	case SY_MSG_PORT_STATS: return "PORT_STATS";
	case SY_MSG_PORT_STATS_CLEAR: return "PORT_STATS_CLEAR";
	case SY_MSG_FLOW_MOD: return "FLOW_MOD";
	case SY_MSG_FLOW_DUMP: return "FLOW_DUMP";
	case SY_MSG_FLOW_COOKIE_STATS: return "FLOW_COOKIE_STATS";
	case SY_MSG_TRACE: return "TRACE";
	case SY_MSG_PACKET_OUT: return "PACKET_OUT";
	case SY_MSG_MIRROR_MOD: return "MIRROR_MOD";
	case SY_MSG_MIRROR_STATS: return "MIRROR_STATS";
	case SY_MSG_TABLE_LIST: return "TABLE_LIST";
	case SY_MSG_TABLE_MOD: return "TABLE_MOD";
	case SY_MSG_DP_STATS: return "DP_STATS";
	case SY_MSG_PMD_STATS: return "PMD_STATS";
	case SY_MSG_PMD_STATS_CLEAR: return "PMD_STATS_CLEAR";
	case SY_MSG_GROUP_MOD: return "GROUP_MOD";
	case SY_MSG_GROUP_STATS: return "GROUP_STATS";
	case SY_MSG_METER_MOD: return "METER_MOD";
	case SY_MSG_METER_STATS: return "METER_STATS";
	case SY_MSG_PORT_QOS: return "PORT_QOS";
	case SY_MSG_PORT_STATUS: return "PORT_STATUS";
	case SY_MSG_FLOW_REMOVED: return "FLOW_REMOVED";
	case SY_MSG_PACKET_IN: return "PACKET_IN";
	}
	return NULL;
}

__attribute__((format(printf, 3, 4))) static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Builder */

#define MSGBUF_MIN 4096

void
sy_msg_init(struct sy_msgbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void
sy_msg_free(struct sy_msgbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Makes room for need more bytes; sets the sticky error on failure. */
static int
reserve(struct sy_msgbuf *b, size_t need)
{
	size_t cap;
	uint8_t *p;

	if (b->error)
		return -1;
	if (need > SY_MSG_MAX || b->len > SY_MSG_MAX - need) {
		b->error = EMSGSIZE;
		return -1;
	}
	if (b->len + need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : MSGBUF_MIN;
	while (cap < b->len + need)
		cap *= 2;
	if (cap > SY_MSG_MAX)
		cap = SY_MSG_MAX;
	p = realloc(b->data, cap);
	if (p == NULL) {
		b->error = ENOMEM;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void
sy_msg_begin(struct sy_msgbuf *b, uint16_t type, uint8_t flags, uint32_t xid)
{
	struct sy_msg_hdr h = {
		.version = SY_PROTO_VERSION,
		.flags = flags,
		.type = type,
		.length = sizeof(h),
		.xid = xid,
	};

	b->len = 0;
	b->depth = 0;
	b->error = 0;
	if (reserve(b, sizeof(h)) < 0)
		return;
	memcpy(b->data, &h, sizeof(h));
	b->len = sizeof(h);
}

void *
sy_msg_put(struct sy_msgbuf *b, uint16_t type, const void *data, size_t len)
{
	struct sy_attr a;
	size_t total;
	uint8_t *p;

	if (b->error)
		return NULL;
	if (b->len < sizeof(struct sy_msg_hdr)) {
		b->error = EINVAL; /* no sy_msg_begin() */
		return NULL;
	}
	if (len > SY_MSG_MAX) {
		b->error = EMSGSIZE;
		return NULL;
	}
	total = SY_ALIGN_UP(sizeof(a) + len);
	if (reserve(b, total) < 0)
		return NULL;
	a.type = type;
	a.flags = 0;
	a.length = (uint32_t)(sizeof(a) + len);
	p = b->data + b->len;
	memcpy(p, &a, sizeof(a));
	if (data != NULL)
		memcpy(p + sizeof(a), data, len);
	else
		memset(p + sizeof(a), 0, len);
	memset(p + sizeof(a) + len, 0, total - sizeof(a) - len);
	b->len += total;
	return p + sizeof(a);
}

void
sy_msg_put_u32(struct sy_msgbuf *b, uint16_t type, uint32_t v)
{
	sy_msg_put(b, type, &v, sizeof(v));
}

void
sy_msg_put_str(struct sy_msgbuf *b, uint16_t type, const char *s)
{
	sy_msg_put(b, type, s, strlen(s) + 1);
}

void
sy_msg_put_raw(struct sy_msgbuf *b, const void *attrs, size_t len)
{
	if (b->error)
		return;
	if (b->len < sizeof(struct sy_msg_hdr) || len % SY_ALIGN) {
		b->error = EINVAL;
		return;
	}
	if (reserve(b, len) < 0)
		return;
	memcpy(b->data + b->len, attrs, len);
	b->len += len;
}

void
sy_msg_nest_begin(struct sy_msgbuf *b, uint16_t type)
{
	if (b->error)
		return;
	if (b->depth >= SY_NEST_DEPTH) {
		b->error = EINVAL;
		return;
	}
	if (sy_msg_put(b, type, NULL, 0) == NULL)
		return;
	b->nest[b->depth++] = b->len - sizeof(struct sy_attr);
}

void
sy_msg_nest_end(struct sy_msgbuf *b)
{
	struct sy_attr a;
	size_t off;

	if (b->error)
		return;
	if (b->depth == 0) {
		b->error = EINVAL;
		return;
	}
	off = b->nest[--b->depth];
	memcpy(&a, b->data + off, sizeof(a));
	a.length = (uint32_t)(b->len - off);
	memcpy(b->data + off, &a, sizeof(a));
}

int
sy_msg_finish(struct sy_msgbuf *b)
{
	struct sy_msg_hdr h;

	if (!b->error && b->depth)
		b->error = EINVAL;
	if (!b->error && b->len < sizeof(h))
		b->error = EINVAL;
	if (b->error)
		return -1;
	memcpy(&h, b->data, sizeof(h));
	h.length = (uint32_t)b->len;
	memcpy(b->data, &h, sizeof(h));
	return 0;
}

void
sy_msg_set_more(struct sy_msgbuf *b, bool more)
{
	struct sy_msg_hdr h;

	if (b->error || b->len < sizeof(h))
		return;
	memcpy(&h, b->data, sizeof(h));
	if (more)
		h.flags |= SY_MSGF_MORE;
	else
		h.flags &= (uint8_t)~SY_MSGF_MORE;
	memcpy(b->data, &h, sizeof(h));
}

uint8_t *
sy_msg_steal(struct sy_msgbuf *b, size_t *len)
{
	uint8_t *p = b->data;

	if (len != NULL)
		*len = b->len;
	memset(b, 0, sizeof(*b));
	return p;
}

/* ------------------------------------------------------------------ */
/* Framing and parsing */

enum sy_frame_status
sy_msg_frame(const void *buf, size_t avail, struct sy_msg_hdr *hdr, uint32_t *msg_len,
	     char *err, size_t errlen)
{
	if (avail < sizeof(*hdr)) {
		*msg_len = sizeof(*hdr);
		return SY_FRAME_SHORT;
	}
	memcpy(hdr, buf, sizeof(*hdr));
	if (hdr->version != SY_PROTO_VERSION) {
		fail(err, errlen, "protocol version %u, expected %u", hdr->version,
		     SY_PROTO_VERSION);
		return SY_FRAME_FATAL;
	}
	if (hdr->length < sizeof(*hdr)) {
		fail(err, errlen, "message length %u is shorter than the 16-byte header",
		     hdr->length);
		return SY_FRAME_FATAL;
	}
	if (hdr->length > SY_MSG_MAX) {
		fail(err, errlen, "message length %u is over the limit of %u bytes", hdr->length,
		     SY_MSG_MAX);
		return SY_FRAME_FATAL;
	}
	*msg_len = hdr->length;
	return avail < hdr->length ? SY_FRAME_SHORT : SY_FRAME_OK;
}

/* Checks the attributes in [p, end), recursing into nests.  in names the
 * container for messages. */
static int
check_attrs(const uint8_t *p, const uint8_t *end, unsigned int depth, const char *in,
	    char *err, size_t errlen)
{
	while (p < end) {
		size_t left = (size_t)(end - p);
		const struct sy_attr_policy *pol;
		const uint8_t *payload;
		struct sy_attr a;
		size_t plen;

		if (left < sizeof(a))
			return fail(err, errlen, "%zu stray bytes at the end of %s, less than an attribute header",
				    left, in);
		memcpy(&a, p, sizeof(a));
		if (a.length < sizeof(a))
			return fail(err, errlen, "attribute %s has length %u, less than its 8-byte header",
				    sy_attr_name(a.type), a.length);
		if (a.length > left)
			return fail(err, errlen, "attribute %s of %u bytes runs past the end of %s (%zu bytes left)",
				    sy_attr_name(a.type), a.length, in, left);
		pol = sy_attr_policy(a.type);
		payload = p + sizeof(a);
		plen = a.length - sizeof(a);
		switch (pol->kind) {
		case SY_AK_U32:
		case SY_AK_FIXED:
			if (plen != pol->size)
				return fail(err, errlen, "attribute %s has %zu bytes, expected %u",
					    pol->name, plen, pol->size);
			break;
		case SY_AK_STRING: {
			const uint8_t *nul = memchr(payload, 0, plen);

			if (nul == NULL)
				return fail(err, errlen, "attribute %s is not a NUL-terminated string",
					    pol->name);
			if ((size_t)(nul - payload) >= pol->size)
				return fail(err, errlen,
					    "attribute %s is a string of %zu bytes, at most %u allowed",
					    pol->name, (size_t)(nul - payload), pol->size - 1);
			break;
		}
		case SY_AK_NEST:
			if (depth + 1 > SY_NEST_DEPTH)
				return fail(err, errlen, "attribute %s nested deeper than %d levels",
					    pol->name, SY_NEST_DEPTH);
			if (check_attrs(payload, payload + plen, depth + 1, pol->name, err, errlen) < 0)
				return -1;
			break;
		default:
			break; /* binary, or unknown: skipped */
		}
		/* The padding of the last attribute may be left out of a nest. */
		if (SY_ALIGN_UP(a.length) >= left)
			break;
		p += SY_ALIGN_UP(a.length);
	}
	return 0;
}

int
sy_msg_parse(const void *buf, size_t len, struct sy_msg *msg, char *err, size_t errlen)
{
	const struct sy_msg_hdr *h = &msg->hdr;

	memset(msg, 0, sizeof(*msg));
	if (len < sizeof(msg->hdr))
		return fail(err, errlen, "message of %zu bytes is shorter than the 16-byte header",
			    len);
	memcpy(&msg->hdr, buf, sizeof(msg->hdr));
	if (h->version != SY_PROTO_VERSION)
		return fail(err, errlen, "protocol version %u, expected %u", h->version,
			    SY_PROTO_VERSION);
	if (h->length < sizeof(msg->hdr))
		return fail(err, errlen, "message length %u is shorter than the 16-byte header",
			    h->length);
	if (h->length % SY_ALIGN)
		return fail(err, errlen, "message length %u is not a multiple of %d", h->length,
			    SY_ALIGN);
	if (h->length > SY_MSG_MAX)
		return fail(err, errlen, "message length %u is over the limit of %u bytes",
			    h->length, SY_MSG_MAX);
	if (h->length != len)
		return fail(err, errlen, "message length %u in the header, but %zu bytes given",
			    h->length, len);
	msg->attrs = (const uint8_t *)buf + sizeof(msg->hdr);
	msg->attrs_len = len - sizeof(msg->hdr);
	return check_attrs(msg->attrs, msg->attrs + msg->attrs_len, 0, "the message", err,
			   errlen);
}

void
sy_attr_iter_msg(struct sy_attr_iter *it, const struct sy_msg *msg)
{
	it->pos = msg->attrs;
	it->end = msg->attrs + msg->attrs_len;
}

void
sy_attr_iter_nest(struct sy_attr_iter *it, const struct sy_attr *nest)
{
	it->pos = (const uint8_t *)sy_attr_payload(nest);
	it->end = it->pos + sy_attr_payload_len(nest);
}

int
sy_attr_next(struct sy_attr_iter *it, const struct sy_attr **attr)
{
	struct sy_attr a;
	size_t left;

	if (it->pos == NULL || it->pos >= it->end)
		return 0;
	left = (size_t)(it->end - it->pos);
	if (left < sizeof(a))
		return -1;
	memcpy(&a, it->pos, sizeof(a));
	if (a.length < sizeof(a) || a.length > left)
		return -1;
	*attr = (const struct sy_attr *)it->pos;
	if (SY_ALIGN_UP(a.length) >= left)
		it->pos = it->end;
	else
		it->pos += SY_ALIGN_UP(a.length);
	return 1;
}

const struct sy_attr *
sy_msg_find(const struct sy_msg *msg, uint16_t t)
{
	struct sy_attr_iter it;
	const struct sy_attr *a;

	sy_attr_iter_msg(&it, msg);
	while (sy_attr_next(&it, &a) > 0)
		if (a->type == t)
			return a;
	return NULL;
}

unsigned int
sy_msg_count(const struct sy_msg *msg, uint16_t t)
{
	struct sy_attr_iter it;
	const struct sy_attr *a;
	unsigned int n = 0;

	sy_attr_iter_msg(&it, msg);
	while (sy_attr_next(&it, &a) > 0)
		if (a->type == t)
			n++;
	return n;
}

const struct sy_attr *
sy_msg_require(const struct sy_msg *msg, uint16_t t, char *err, size_t errlen)
{
	const struct sy_attr *a = sy_msg_find(msg, t);

	if (a == NULL)
		fail(err, errlen, "missing attribute %s", sy_attr_name(t));
	return a;
}

int
sy_attr_get_fixed(const struct sy_attr *a, void *dst, size_t size, char *err, size_t errlen)
{
	if (sy_attr_payload_len(a) != size)
		return fail(err, errlen, "attribute %s has %u bytes, expected %zu",
			    sy_attr_name(a->type), sy_attr_payload_len(a), size);
	memcpy(dst, sy_attr_payload(a), size);
	return 0;
}

int
sy_attr_get_u32(const struct sy_attr *a, uint32_t *v, char *err, size_t errlen)
{
	return sy_attr_get_fixed(a, v, sizeof(*v), err, errlen);
}

const char *
sy_attr_get_str(const struct sy_attr *a, char *err, size_t errlen)
{
	const char *s = sy_attr_payload(a);
	const struct sy_attr_policy *pol = sy_attr_policy(a->type);
	const char *nul = memchr(s, 0, sy_attr_payload_len(a));

	if (nul == NULL) {
		fail(err, errlen, "attribute %s is not a NUL-terminated string",
		     sy_attr_name(a->type));
		return NULL;
	}
	if (pol->kind == SY_AK_STRING && (size_t)(nul - s) >= pol->size) {
		fail(err, errlen, "attribute %s is a string of %zu bytes, at most %u allowed",
		     pol->name, (size_t)(nul - s), pol->size - 1);
		return NULL;
	}
	return s;
}

/* ------------------------------------------------------------------ */
/* Typed helpers */

#define TERMINATE(arr) ((arr)[sizeof(arr) - 1] = '\0')

static int
get_typed(const struct sy_attr *a, uint16_t type, void *dst, size_t size, char *err,
	  size_t errlen)
{
	if (a->type != type)
		return fail(err, errlen, "expected attribute %s, got %s", policy[type].name,
			    sy_attr_name(a->type));
	return sy_attr_get_fixed(a, dst, size, err, errlen);
}

void
sy_put_port_desc(struct sy_msgbuf *b, const struct sy_port_desc *d)
{
	sy_msg_put(b, SY_A_PORT_DESC, d, sizeof(*d));
}

void
sy_put_port_stats(struct sy_msgbuf *b, const struct sy_port_stats *s)
{
	sy_msg_put(b, SY_A_PORT_STATS, s, sizeof(*s));
}

void
sy_put_table_desc(struct sy_msgbuf *b, const struct sy_table_desc *d)
{
	sy_msg_put(b, SY_A_TABLE_DESC, d, sizeof(*d));
}

void
sy_put_dp_stats(struct sy_msgbuf *b, const struct sy_dp_stats *s)
{
	sy_msg_put(b, SY_A_DP_STATS, s, sizeof(*s));
}

void
sy_put_pmd_stats(struct sy_msgbuf *b, const struct sy_pmd_stats *s)
{
	sy_msg_put(b, SY_A_PMD_STATS, s, sizeof(*s));
}

void
sy_put_dp_info(struct sy_msgbuf *b, const struct sy_dp_info *i)
{
	sy_msg_put(b, SY_A_DP_INFO, i, sizeof(*i));
}

void
sy_put_cookie_stats(struct sy_msgbuf *b, const struct sy_cookie_stats *s)
{
	sy_msg_put(b, SY_A_COOKIE_STATS, s, sizeof(*s));
}

void
sy_put_port_bond(struct sy_msgbuf *b, const struct sy_port_bond *d)
{
	sy_msg_put(b, SY_A_PORT_BOND, d, sizeof(*d));
}

int
sy_get_port_bond(const struct sy_attr *a, struct sy_port_bond *d, char *err, size_t errlen)
{
	if (get_typed(a, SY_A_PORT_BOND, d, sizeof(*d), err, errlen) < 0)
		return -1;
	if (d->n_members > SY_BOND_MEMBERS_MAX)
		return fail(err, errlen, "PORT_BOND: %u members, at most %d", d->n_members,
			    SY_BOND_MEMBERS_MAX);
	for (unsigned int i = 0; i < SY_BOND_MEMBERS_MAX; i++)
		TERMINATE(d->member[i].devargs);
	return 0;
}

void
sy_put_port_vlan(struct sy_msgbuf *b, const struct sy_port_vlan *v)
{
	sy_msg_put(b, SY_A_PORT_VLAN, v, sizeof(*v));
}

int
sy_get_port_vlan(const struct sy_attr *a, struct sy_port_vlan *v, char *err, size_t errlen)
{
	return get_typed(a, SY_A_PORT_VLAN, v, sizeof(*v), err, errlen);
}

void
sy_put_port_nsh_tag(struct sy_msgbuf *b, const struct sy_port_nsh_tag *t)
{
	sy_msg_put(b, SY_A_PORT_NSH_TAG, t, sizeof(*t));
}

int
sy_get_port_nsh_tag(const struct sy_attr *a, struct sy_port_nsh_tag *t, char *err,
		    size_t errlen)
{
	return get_typed(a, SY_A_PORT_NSH_TAG, t, sizeof(*t), err, errlen);
}

void
sy_put_meter_desc(struct sy_msgbuf *b, const struct sy_meter_desc *d)
{
	sy_msg_put(b, SY_A_METER_DESC, d, sizeof(*d));
}

void
sy_put_meter_stats(struct sy_msgbuf *b, const struct sy_meter_stats *s)
{
	sy_msg_put(b, SY_A_METER_STATS, s, sizeof(*s));
}

void
sy_put_meter_bands(struct sy_msgbuf *b, const struct sy_meter_bands *m)
{
	sy_msg_put(b, SY_A_METER_BANDS, m, sizeof(*m));
}

void
sy_put_meter_band_stats(struct sy_msgbuf *b, const struct sy_meter_band_stats *s)
{
	sy_msg_put(b, SY_A_METER_BAND_STATS, s, sizeof(*s));
}

int
sy_get_meter_bands(const struct sy_attr *a, struct sy_meter_bands *m, char *err, size_t errlen)
{
	if (get_typed(a, SY_A_METER_BANDS, m, sizeof(*m), err, errlen) < 0)
		return -1;
	if (m->n_bands > SY_METER_BANDS_MAX)
		return fail(err, errlen, "METER_BANDS: %u bands, at most %d", m->n_bands,
			    SY_METER_BANDS_MAX);
	return 0;
}

int
sy_get_meter_band_stats(const struct sy_attr *a, struct sy_meter_band_stats *s, char *err,
			size_t errlen)
{
	if (get_typed(a, SY_A_METER_BAND_STATS, s, sizeof(*s), err, errlen) < 0)
		return -1;
	if (s->n_bands > SY_METER_BANDS_MAX)
		return fail(err, errlen, "METER_BAND_STATS: %u bands, at most %d", s->n_bands,
			    SY_METER_BANDS_MAX);
	return 0;
}

int
sy_get_meter_desc(const struct sy_attr *a, struct sy_meter_desc *d, char *err, size_t errlen)
{
	return get_typed(a, SY_A_METER_DESC, d, sizeof(*d), err, errlen);
}

int
sy_get_meter_stats(const struct sy_attr *a, struct sy_meter_stats *s, char *err, size_t errlen)
{
	return get_typed(a, SY_A_METER_STATS, s, sizeof(*s), err, errlen);
}

void
sy_put_port_qos(struct sy_msgbuf *b, const struct sy_port_qos *q)
{
	sy_msg_put(b, SY_A_PORT_QOS, q, sizeof(*q));
}

int
sy_get_port_qos(const struct sy_attr *a, struct sy_port_qos *q, char *err, size_t errlen)
{
	return get_typed(a, SY_A_PORT_QOS, q, sizeof(*q), err, errlen);
}

int
sy_get_port_desc(const struct sy_attr *a, struct sy_port_desc *d, char *err, size_t errlen)
{
	if (get_typed(a, SY_A_PORT_DESC, d, sizeof(*d), err, errlen) < 0)
		return -1;
	TERMINATE(d->name);
	TERMINATE(d->driver);
	TERMINATE(d->devargs);
	return 0;
}

int
sy_get_port_stats(const struct sy_attr *a, struct sy_port_stats *s, char *err, size_t errlen)
{
	return get_typed(a, SY_A_PORT_STATS, s, sizeof(*s), err, errlen);
}

int
sy_get_table_desc(const struct sy_attr *a, struct sy_table_desc *d, char *err, size_t errlen)
{
	if (get_typed(a, SY_A_TABLE_DESC, d, sizeof(*d), err, errlen) < 0)
		return -1;
	TERMINATE(d->name);
	return 0;
}

int
sy_get_dp_stats(const struct sy_attr *a, struct sy_dp_stats *s, char *err, size_t errlen)
{
	return get_typed(a, SY_A_DP_STATS, s, sizeof(*s), err, errlen);
}

int
sy_get_pmd_stats(const struct sy_attr *a, struct sy_pmd_stats *s, char *err, size_t errlen)
{
	/* n_rxq may exceed SY_PMD_RXQ_MAX: rxq holds the first ones only */
	return get_typed(a, SY_A_PMD_STATS, s, sizeof(*s), err, errlen);
}

int
sy_get_cookie_stats(const struct sy_attr *a, struct sy_cookie_stats *s, char *err,
		    size_t errlen)
{
	return get_typed(a, SY_A_COOKIE_STATS, s, sizeof(*s), err, errlen);
}

void
sy_put_group_mod(struct sy_msgbuf *b, const struct sy_group_mod *gm)
{
	sy_msg_put(b, SY_A_GROUP_HDR, &gm->hdr, sizeof(gm->hdr));
	for (unsigned int i = 0; i < gm->n_buckets && i < SY_GROUP_BUCKETS_MAX; i++) {
		const struct sy_group_mod_bucket *gb = &gm->bucket[i];

		sy_msg_put(b, SY_A_GROUP_BUCKET, &gb->b, sizeof(gb->b));
		for (unsigned int j = 0; j < gb->n_actions && j < SY_GROUP_ACTIONS_MAX; j++)
			sy_msg_put(b, SY_A_FLOW_ACTION, &gb->actions[j], sizeof(gb->actions[j]));
	}
}

int
sy_get_group_mod(const struct sy_msg *msg, struct sy_group_mod *gm, char *err, size_t errlen)
{
	struct sy_attr_iter it;
	const struct sy_attr *a;
	bool seen_hdr = false;
	int rc;

	memset(gm, 0, sizeof(*gm));
	sy_attr_iter_msg(&it, msg);
	while ((rc = sy_attr_next(&it, &a)) > 0) {
		struct sy_group_mod_bucket *gb = gm->n_buckets ? &gm->bucket[gm->n_buckets - 1] : NULL;

		switch (a->type) {
		case SY_A_GROUP_HDR:
			if (seen_hdr)
				return fail(err, errlen, "attribute GROUP_HDR given twice");
			seen_hdr = true;
			if (sy_attr_get_fixed(a, &gm->hdr, sizeof(gm->hdr), err, errlen) < 0)
				return -1;
			break;
		case SY_A_GROUP_BUCKET:
			if (gm->n_buckets >= SY_GROUP_BUCKETS_MAX)
				return fail(err, errlen, "buckets: more than %d", SY_GROUP_BUCKETS_MAX);
			gb = &gm->bucket[gm->n_buckets++];
			if (sy_attr_get_fixed(a, &gb->b, sizeof(gb->b), err, errlen) < 0)
				return -1;
			break;
		case SY_A_FLOW_ACTION:
			if (gb == NULL)
				return fail(err, errlen, "FLOW_ACTION before any GROUP_BUCKET");
			if (gb->n_actions >= SY_GROUP_ACTIONS_MAX)
				return fail(err, errlen, "bucket %u: more than %d actions",
					    gm->n_buckets - 1, SY_GROUP_ACTIONS_MAX);
			if (sy_attr_get_fixed(a, &gb->actions[gb->n_actions], sizeof(gb->actions[0]),
					      err, errlen) < 0)
				return -1;
			gb->n_actions++;
			break;
		default:
			break; /* forward compatibility */
		}
	}
	if (rc < 0)
		return fail(err, errlen, "malformed attributes");
	if (!seen_hdr)
		return fail(err, errlen, "missing attribute GROUP_HDR");
	return 0;
}

void
sy_put_group_stats(struct sy_msgbuf *b, const struct sy_group_stats *s)
{
	sy_msg_put(b, SY_A_GROUP_STATS, s, sizeof(*s));
}

int
sy_get_group_stats(const struct sy_attr *a, struct sy_group_stats *s, char *err, size_t errlen)
{
	if (get_typed(a, SY_A_GROUP_STATS, s, sizeof(*s), err, errlen) < 0)
		return -1;
	if (s->n_buckets > SY_GROUP_BUCKETS_MAX)
		return fail(err, errlen, "GROUP_STATS: %u buckets, at most %d", s->n_buckets,
			    SY_GROUP_BUCKETS_MAX);
	return 0;
}

int
sy_get_dp_info(const struct sy_attr *a, struct sy_dp_info *i, char *err, size_t errlen)
{
	if (get_typed(a, SY_A_DP_INFO, i, sizeof(*i), err, errlen) < 0)
		return -1;
	TERMINATE(i->version);
	TERMINATE(i->dpdk_version);
	TERMINATE(i->file_prefix);
	return 0;
}

void
sy_put_flow(struct sy_msgbuf *b, const struct sy_flow_mod *fm, const struct sy_flow_stats *stats)
{
	uint8_t *match;

	if (b->error)
		return;
	if (fm->n_actions > SY_MAX_ACTIONS) {
		b->error = EINVAL;
		return;
	}
	sy_msg_nest_begin(b, SY_A_FLOW);
	sy_msg_put(b, SY_A_FLOW_HDR, &fm->hdr, sizeof(fm->hdr));
	match = sy_msg_put(b, SY_A_FLOW_MATCH, NULL, 2 * sizeof(struct sy_flow_key));
	if (match != NULL) {
		memcpy(match, &fm->key, sizeof(fm->key));
		memcpy(match + sizeof(fm->key), &fm->mask, sizeof(fm->mask));
	}
	for (unsigned int i = 0; i < fm->n_actions; i++)
		sy_msg_put(b, SY_A_FLOW_ACTION, &fm->actions[i], sizeof(fm->actions[i]));
	if (stats != NULL)
		sy_msg_put(b, SY_A_FLOW_STATS, stats, sizeof(*stats));
	sy_msg_nest_end(b);
}

int
sy_get_flow(const struct sy_attr *flow, struct sy_flow_mod *fm, struct sy_flow_stats *stats,
	    bool *has_stats, char *err, size_t errlen)
{
	bool seen_hdr = false, seen_match = false, seen_stats = false;
	uint8_t match[2 * sizeof(struct sy_flow_key)];
	struct sy_attr_iter it;
	const struct sy_attr *a;
	int rc;

	memset(fm, 0, sizeof(*fm));
	if (stats != NULL)
		memset(stats, 0, sizeof(*stats));
	if (has_stats != NULL)
		*has_stats = false;
	if (flow->type != SY_A_FLOW)
		return fail(err, errlen, "expected attribute FLOW, got %s", sy_attr_name(flow->type));

	sy_attr_iter_nest(&it, flow);
	while ((rc = sy_attr_next(&it, &a)) > 0) {
		switch (a->type) {
		case SY_A_FLOW_HDR:
			if (seen_hdr)
				return fail(err, errlen, "attribute FLOW_HDR given twice in FLOW");
			seen_hdr = true;
			if (sy_attr_get_fixed(a, &fm->hdr, sizeof(fm->hdr), err, errlen) < 0)
				return -1;
			break;
		case SY_A_FLOW_MATCH:
			if (seen_match)
				return fail(err, errlen, "attribute FLOW_MATCH given twice in FLOW");
			seen_match = true;
			if (sy_attr_get_fixed(a, match, sizeof(match), err, errlen) < 0)
				return -1;
			memcpy(&fm->key, match, sizeof(fm->key));
			memcpy(&fm->mask, match + sizeof(fm->key), sizeof(fm->mask));
			break;
		case SY_A_FLOW_ACTION:
			if (fm->n_actions >= SY_MAX_ACTIONS)
				return fail(err, errlen,
					    "FLOW has more than %d FLOW_ACTION attributes",
					    SY_MAX_ACTIONS);
			if (sy_attr_get_fixed(a, &fm->actions[fm->n_actions],
					      sizeof(fm->actions[0]), err, errlen) < 0)
				return -1;
			fm->n_actions++;
			break;
		case SY_A_FLOW_STATS: {
			struct sy_flow_stats st;

			if (seen_stats)
				return fail(err, errlen, "attribute FLOW_STATS given twice in FLOW");
			seen_stats = true;
			if (sy_attr_get_fixed(a, &st, sizeof(st), err, errlen) < 0)
				return -1;
			if (stats != NULL)
				*stats = st;
			break;
		}
		default:
			break; /* forward compatibility */
		}
	}
	if (rc < 0)
		return fail(err, errlen, "attribute runs past the end of FLOW");
	if (!seen_hdr)
		return fail(err, errlen, "missing attribute FLOW_HDR in FLOW");
	if (has_stats != NULL)
		*has_stats = seen_stats;
	return 0;
}

int
sy_get_trace_key(const struct sy_attr *a, struct sy_flow_key *key, struct sy_flow_key *mask,
		 char *err, size_t errlen)
{
	uint8_t km[2 * sizeof(struct sy_flow_key)];

	if (get_typed(a, SY_A_TRACE_KEY, km, sizeof(km), err, errlen) < 0)
		return -1;
	memcpy(key, km, sizeof(*key));
	memcpy(mask, km + sizeof(*key), sizeof(*mask));
	return 0;
}

int
sy_get_trace_step(const struct sy_attr *step, struct sy_trace_step *s, char *err, size_t errlen)
{
	bool seen_table = false;
	struct sy_attr_iter it;
	const struct sy_attr *a;
	int rc;

	memset(s, 0, sizeof(*s));
	if (step->type != SY_A_TRACE_STEP)
		return fail(err, errlen, "expected attribute TRACE_STEP, got %s", sy_attr_name(step->type));
	sy_attr_iter_nest(&it, step);
	while ((rc = sy_attr_next(&it, &a)) > 0) {
		switch (a->type) {
		case SY_A_TABLE_ID:
			if (seen_table)
				return fail(err, errlen, "attribute TABLE_ID given twice in TRACE_STEP");
			seen_table = true;
			if (sy_attr_get_u32(a, &s->table_id, err, errlen) < 0)
				return -1;
			break;
		case SY_A_FLOW:
		case SY_A_TRACE_MISS:
			if (s->hit || s->missed)
				return fail(err, errlen, "TRACE_STEP has more than one FLOW or TRACE_MISS");
			if (a->type == SY_A_FLOW) {
				if (sy_get_flow(a, &s->entry, NULL, NULL, err, errlen) < 0)
					return -1;
				s->hit = true;
			} else {
				if (sy_attr_get_u32(a, &s->miss, err, errlen) < 0)
					return -1;
				s->missed = true;
			}
			break;
		case SY_A_TRACE_ACTION:
			s->n_actions++;
			break;
		default:
			break; /* forward compatibility */
		}
	}
	if (rc < 0)
		return fail(err, errlen, "attribute runs past the end of TRACE_STEP");
	if (!seen_table)
		return fail(err, errlen, "missing attribute TABLE_ID in TRACE_STEP");
	if (!s->hit && !s->missed)
		return fail(err, errlen, "TRACE_STEP has neither FLOW nor TRACE_MISS");
	return 0;
}

int
sy_get_trace_action(const struct sy_attr *action, struct sy_action *act,
		    struct sy_trace_change *changes, unsigned int max, unsigned int *n_changes,
		    char *err, size_t errlen)
{
	bool seen_action = false;
	struct sy_attr_iter it;
	const struct sy_attr *a;
	int rc;

	*n_changes = 0;
	memset(act, 0, sizeof(*act));
	if (action->type != SY_A_TRACE_ACTION)
		return fail(err, errlen, "expected attribute TRACE_ACTION, got %s",
			    sy_attr_name(action->type));
	sy_attr_iter_nest(&it, action);
	while ((rc = sy_attr_next(&it, &a)) > 0) {
		switch (a->type) {
		case SY_A_FLOW_ACTION:
			if (seen_action)
				return fail(err, errlen, "attribute FLOW_ACTION given twice in TRACE_ACTION");
			seen_action = true;
			if (sy_attr_get_fixed(a, act, sizeof(*act), err, errlen) < 0)
				return -1;
			break;
		case SY_A_TRACE_CHANGE:
			if (*n_changes >= max)
				return fail(err, errlen, "TRACE_ACTION has more than %u TRACE_CHANGE attributes",
					    max);
			if (sy_attr_get_fixed(a, &changes[*n_changes], sizeof(changes[0]), err,
					      errlen) < 0)
				return -1;
			if (changes[*n_changes].field == SY_F_NONE ||
			    changes[*n_changes].field >= SY_F__MAX)
				return fail(err, errlen, "TRACE_CHANGE of unknown field %u",
					    changes[*n_changes].field);
			(*n_changes)++;
			break;
		default:
			break;
		}
	}
	if (rc < 0)
		return fail(err, errlen, "attribute runs past the end of TRACE_ACTION");
	if (!seen_action)
		return fail(err, errlen, "missing attribute FLOW_ACTION in TRACE_ACTION");
	return 0;
}

int
sy_get_trace_output(const struct sy_attr *out, uint32_t *port_id, const uint8_t **frame,
		    uint32_t *len, char *err, size_t errlen)
{
	bool seen_port = false;
	struct sy_attr_iter it;
	const struct sy_attr *a;
	int rc;

	*frame = NULL;
	*len = 0;
	if (out->type != SY_A_TRACE_OUTPUT)
		return fail(err, errlen, "expected attribute TRACE_OUTPUT, got %s", sy_attr_name(out->type));
	sy_attr_iter_nest(&it, out);
	while ((rc = sy_attr_next(&it, &a)) > 0) {
		if (a->type == SY_A_PORT_ID) {
			if (seen_port)
				return fail(err, errlen, "attribute PORT_ID given twice in TRACE_OUTPUT");
			seen_port = true;
			if (sy_attr_get_u32(a, port_id, err, errlen) < 0)
				return -1;
		} else if (a->type == SY_A_PACKET) {
			if (*frame != NULL)
				return fail(err, errlen, "attribute PACKET given twice in TRACE_OUTPUT");
			*frame = sy_attr_payload(a);
			*len = sy_attr_payload_len(a);
		}
	}
	if (rc < 0)
		return fail(err, errlen, "attribute runs past the end of TRACE_OUTPUT");
	if (!seen_port || *frame == NULL)
		return fail(err, errlen, "missing attribute %s in TRACE_OUTPUT",
			    seen_port ? "PACKET" : "PORT_ID");
	return 0;
}

void
sy_msg_error(struct sy_msgbuf *b, uint32_t xid, int code, int index, const char *msg)
{
	char text[SY_ERRMSG_MAX];

	snprintf(text, sizeof(text), "%s", msg != NULL ? msg : "");
	sy_msg_begin(b, SY_MSG_ERROR, SY_MSGF_REPLY, xid);
	sy_msg_put_u32(b, SY_A_ERR_CODE, (uint32_t)code);
	sy_msg_put_str(b, SY_A_ERR_MSG, text);
	if (index >= 0)
		sy_msg_put_u32(b, SY_A_ERR_INDEX, (uint32_t)index);
	sy_msg_finish(b);
}

int
sy_get_error(const struct sy_msg *msg, int *code, int *index, char *text, size_t textlen,
	     char *err, size_t errlen)
{
	const struct sy_attr *a;
	uint32_t v;

	if (msg->hdr.type != SY_MSG_ERROR)
		return fail(err, errlen, "not an ERROR message");
	a = sy_msg_require(msg, SY_A_ERR_CODE, err, errlen);
	if (a == NULL || sy_attr_get_u32(a, &v, err, errlen) < 0)
		return -1;
	*code = (int)v;
	*index = -1;
	a = sy_msg_find(msg, SY_A_ERR_INDEX);
	if (a != NULL) {
		if (sy_attr_get_u32(a, &v, err, errlen) < 0)
			return -1;
		*index = v > INT32_MAX ? -1 : (int)v;
	}
	if (textlen > 0)
		text[0] = '\0';
	a = sy_msg_find(msg, SY_A_ERR_MSG);
	if (a != NULL) {
		const char *s = sy_attr_get_str(a, err, errlen);

		if (s == NULL)
			return -1;
		if (textlen > 0)
			snprintf(text, textlen, "%s", s);
	}
	return 0;
}
