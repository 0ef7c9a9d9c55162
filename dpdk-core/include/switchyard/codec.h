/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * codec.h — building and parsing control-protocol messages (see proto.h).
 *
 * What?
 *   The one implementation of the wire format, linked by the data plane's
 *   control server and by the Node addon.  Two halves:
 *
 *   Builder (struct sy_msgbuf).  sy_msg_begin() starts a message in a
 *   growing heap buffer; sy_msg_put*() append attributes (8-byte header,
 *   payload, zero padding to 8); sy_msg_nest_begin()/_end() wrap attributes
 *   in a nest; sy_msg_finish() writes the total length into the header.
 *   Errors are sticky: after an allocation failure or once the message
 *   would exceed SY_MSG_MAX, every call is a no-op and sy_msg_finish()
 *   returns -1, so a long sequence of puts needs one check at the end.
 *
 *   Parser (struct sy_msg).  sy_msg_parse() checks the header (version,
 *   length >= 16, a multiple of 8, <= SY_MSG_MAX, no more than the bytes at
 *   hand) and then walks every attribute, recursing into nests: an attribute
 *   shorter than its header, one that runs past its container, a fixed-size
 *   attribute of the wrong size, an integer of the wrong width, a string that
 *   is not NUL-terminated or is too long: each is refused with a message
 *   naming the attribute ("attribute FLOW_MATCH has 100 bytes, expected
 *   256").  Attribute types it does not know are skipped (forward
 *   compatibility).  After a successful parse the iterators and getters
 *   below can be used without further checks; they still bound every read.
 *
 *   Typed helpers put and get the fixed structs (port desc, port stats,
 *   table desc, dp stats, pmd stats, dp info), the FLOW nest <-> struct sy_flow_mod (+
 *   struct sy_flow_stats in dumps), and whole ERROR messages.
 *
 * Replies in parts
 *   A server answering with a lot (FLOW_DUMP) begins a reply, puts
 *   attributes, and before each put checks sy_msg_part_full(): once the
 *   message has passed SY_REPLY_PART_MAX it marks it sy_msg_set_more(b,
 *   true), finishes and sends it, and begins the next part with the same
 *   type, flags and xid.  The last part goes out without MORE.  So every
 *   part holds whole top-level attributes and is at most SY_REPLY_PART_MAX
 *   plus one attribute long.  A client keeps reading replies with the same
 *   xid while SY_MSGF_MORE is set (an ERROR ends the answer).
 *
 * Framing on a stream
 *   sy_msg_frame() looks at the first bytes of a stream and says whether a
 *   whole message is there, more bytes are needed, or the stream cannot be
 *   resynchronised (bad version, length < 16 or > SY_MSG_MAX): the caller
 *   then closes the connection.  A message whose length is not a multiple
 *   of 8 is framed (its length is known) and then refused by sy_msg_parse().
 *
 * Alignment
 *   Attribute pointers returned here point into the caller's buffer; the
 *   getters copy with memcpy, so the buffer need not be aligned (but a
 *   malloc'd buffer holding the message at its start is).
 *
 * Threads
 *   No global state: any thread may use its own builders and messages.
 *
 * Plain C11, no DPDK.
 */
#ifndef SWITCHYARD_CODEC_H
#define SWITCHYARD_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "proto.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Nests inside nests, at most (the protocol uses two: FLOW or TRACE_ACTION in TRACE_STEP). */
#define SY_NEST_DEPTH 4

/* Room for a parse error message. */
#define SY_CODEC_ERR_MAX 160

/* ------------------------------------------------------------------ */
/* Attribute policy: what each attribute type carries. */

enum sy_attr_kind {
	SY_AK_UNKNOWN = 0, /* not a known type: skipped */
	SY_AK_U32,
	SY_AK_STRING, /* NUL-terminated; max is the size with the NUL */
	SY_AK_FIXED,  /* exactly `size` bytes */
	SY_AK_NEST,
	SY_AK_BINARY, /* any bytes */
};

struct sy_attr_policy {
	const char *name; /* "FLOW_MATCH" */
	uint8_t kind;     /* enum sy_attr_kind */
	uint32_t size;    /* FIXED: the size; STRING: max bytes with the NUL */
};

/* Policy of attribute type t (kind SY_AK_UNKNOWN for unknown types). */
const struct sy_attr_policy *sy_attr_policy(uint16_t t);

/* "FLOW_MATCH", or "attribute 77" (in a static buffer) for unknown types. */
const char *sy_attr_name(uint16_t t);

/* "FLOW_MOD", "HELLO", ... or NULL for an unknown message type. */
const char *sy_msg_type_name(uint16_t t);

/* ------------------------------------------------------------------ */
/* Builder */

struct sy_msgbuf {
	uint8_t *data;
	size_t len; /* bytes written */
	size_t cap;
	size_t nest[SY_NEST_DEPTH]; /* offsets of the open nests' headers */
	unsigned int depth;
	int error; /* 0, or ENOMEM / EMSGSIZE / EINVAL (nest misuse): sticky */
};

/* A zeroed struct is a valid empty builder. */
void sy_msg_init(struct sy_msgbuf *b);

/* Frees the buffer (the builder can be used again after sy_msg_init). */
void sy_msg_free(struct sy_msgbuf *b);

/* Starts a message, discarding anything in the buffer and any error. */
void sy_msg_begin(struct sy_msgbuf *b, uint16_t type, uint8_t flags, uint32_t xid);

/* Appends an attribute of len payload bytes copied from data (data may be
 * NULL: the payload is zeroed).  Returns the payload in the buffer (valid
 * until the next put) or NULL after an error. */
void *sy_msg_put(struct sy_msgbuf *b, uint16_t type, const void *data, size_t len);
void sy_msg_put_u32(struct sy_msgbuf *b, uint16_t type, uint32_t v);
/* Puts s with its NUL. */
void sy_msg_put_str(struct sy_msgbuf *b, uint16_t type, const char *s);
/* Appends already-encoded attributes (ECHO): len bytes, a multiple of 8. */
void sy_msg_put_raw(struct sy_msgbuf *b, const void *attrs, size_t len);

void sy_msg_nest_begin(struct sy_msgbuf *b, uint16_t type);
void sy_msg_nest_end(struct sy_msgbuf *b);

/* Closes the message: writes its length.  Returns 0, or -1 if an error
 * occurred on the way (b->error says which) or a nest is still open. */
int sy_msg_finish(struct sy_msgbuf *b);

/* After sy_msg_finish(): hands the buffer to the caller (free() it), and
 * leaves the builder empty.  *len gets the message length. */
uint8_t *sy_msg_steal(struct sy_msgbuf *b, size_t *len);

/* Sets (or clears) SY_MSGF_MORE in the header of the message begun in b:
 * "more parts of this reply follow". */
void sy_msg_set_more(struct sy_msgbuf *b, bool more);

/* The message begun in b has passed SY_REPLY_PART_MAX: time to send it as
 * a part and begin the next one (see "Replies in parts"). */
static inline bool
sy_msg_part_full(const struct sy_msgbuf *b)
{
	return b->len > SY_REPLY_PART_MAX;
}

/* Bytes written so far (the message length once finished). */
static inline size_t
sy_msg_len(const struct sy_msgbuf *b)
{
	return b->len;
}

/* ------------------------------------------------------------------ */
/* Framing and parsing */

enum sy_frame_status {
	SY_FRAME_OK = 0,      /* *msg_len bytes form a message (maybe malformed) */
	SY_FRAME_SHORT = 1,   /* need *msg_len bytes (16 if the header is not in) */
	SY_FRAME_FATAL = -1,  /* the stream cannot be resynchronised */
};

/* Looks at avail bytes at the start of a stream.  On FATAL, err says why
 * and *hdr holds the header as read (its xid may be used for a reply). */
enum sy_frame_status sy_msg_frame(const void *buf, size_t avail, struct sy_msg_hdr *hdr,
				  uint32_t *msg_len, char *err, size_t errlen);

/* A parsed message: points into the caller's buffer. */
struct sy_msg {
	struct sy_msg_hdr hdr;
	const uint8_t *attrs; /* first attribute */
	size_t attrs_len;     /* bytes of attributes (hdr.length - 16) */
};

/* Validates a whole message of len bytes (see above) and fills *msg.
 * On failure returns -1 with err naming what is wrong; msg->hdr is filled
 * whenever 16 bytes were there, so its xid can be used for an error reply. */
int sy_msg_parse(const void *buf, size_t len, struct sy_msg *msg, char *err, size_t errlen);

/* Iterating over attributes.  sy_attr_next() returns 1 and the next
 * attribute, 0 at the end, or -1 if an attribute does not fit (never after
 * a successful sy_msg_parse()). */
struct sy_attr_iter {
	const uint8_t *pos, *end;
};

void sy_attr_iter_msg(struct sy_attr_iter *it, const struct sy_msg *msg);
void sy_attr_iter_nest(struct sy_attr_iter *it, const struct sy_attr *nest);
int sy_attr_next(struct sy_attr_iter *it, const struct sy_attr **attr);

static inline uint32_t
sy_attr_payload_len(const struct sy_attr *a)
{
	return a->length - (uint32_t)sizeof(struct sy_attr);
}

static inline const void *
sy_attr_payload(const struct sy_attr *a)
{
	return (const uint8_t *)a + sizeof(struct sy_attr);
}

/* The first top-level attribute of type t, or NULL. */
const struct sy_attr *sy_msg_find(const struct sy_msg *msg, uint16_t t);

/* Top-level attributes of type t. */
unsigned int sy_msg_count(const struct sy_msg *msg, uint16_t t);

/* The first top-level attribute of type t; if absent returns NULL with err
 * "missing attribute PORT_NAME". */
const struct sy_attr *sy_msg_require(const struct sy_msg *msg, uint16_t t, char *err,
				     size_t errlen);

/* Getters; each checks the payload size and returns 0, or -1 with err. */
int sy_attr_get_u32(const struct sy_attr *a, uint32_t *v, char *err, size_t errlen);
/* The string in a (NUL-terminated within the attribute) or NULL with err. */
const char *sy_attr_get_str(const struct sy_attr *a, char *err, size_t errlen);
/* Copies a fixed-size payload of exactly size bytes. */
int sy_attr_get_fixed(const struct sy_attr *a, void *dst, size_t size, char *err,
		      size_t errlen);

/* ------------------------------------------------------------------ */
/* Typed helpers */

void sy_put_port_desc(struct sy_msgbuf *b, const struct sy_port_desc *d);
void sy_put_port_stats(struct sy_msgbuf *b, const struct sy_port_stats *s);
void sy_put_table_desc(struct sy_msgbuf *b, const struct sy_table_desc *d);
void sy_put_port_qos(struct sy_msgbuf *b, const struct sy_port_qos *q);
int sy_get_port_qos(const struct sy_attr *a, struct sy_port_qos *q, char *err, size_t errlen);
void sy_put_meter_bands(struct sy_msgbuf *b, const struct sy_meter_bands *m);
void sy_put_meter_band_stats(struct sy_msgbuf *b, const struct sy_meter_band_stats *s);
int sy_get_meter_bands(const struct sy_attr *a, struct sy_meter_bands *m, char *err, size_t errlen);
int sy_get_meter_band_stats(const struct sy_attr *a, struct sy_meter_band_stats *s, char *err,
			    size_t errlen);
void sy_put_meter_desc(struct sy_msgbuf *b, const struct sy_meter_desc *d);
void sy_put_meter_stats(struct sy_msgbuf *b, const struct sy_meter_stats *s);
int sy_get_meter_desc(const struct sy_attr *a, struct sy_meter_desc *d, char *err, size_t errlen);
int sy_get_meter_stats(const struct sy_attr *a, struct sy_meter_stats *s, char *err,
		       size_t errlen);
void sy_put_dp_stats(struct sy_msgbuf *b, const struct sy_dp_stats *s);
void sy_put_dp_info(struct sy_msgbuf *b, const struct sy_dp_info *i);
void sy_put_pmd_stats(struct sy_msgbuf *b, const struct sy_pmd_stats *s);
void sy_put_cookie_stats(struct sy_msgbuf *b, const struct sy_cookie_stats *s);

/* The getters also NUL-terminate the structs' char arrays, whatever came
 * over the wire. */
int sy_get_port_desc(const struct sy_attr *a, struct sy_port_desc *d, char *err, size_t errlen);
/* Groups: a GROUP_MOD's attributes (header, then each bucket and its
 * actions), and GROUP_STATS. */
void sy_put_group_mod(struct sy_msgbuf *b, const struct sy_group_mod *gm);
int sy_get_group_mod(const struct sy_msg *msg, struct sy_group_mod *gm, char *err, size_t errlen);
void sy_put_group_stats(struct sy_msgbuf *b, const struct sy_group_stats *s);
int sy_get_group_stats(const struct sy_attr *a, struct sy_group_stats *s, char *err, size_t errlen);
void sy_put_port_bond(struct sy_msgbuf *b, const struct sy_port_bond *d);
int sy_get_port_bond(const struct sy_attr *a, struct sy_port_bond *d, char *err, size_t errlen);
/* Port edge settings (PORT_VLAN, PORT_NSH_TAG): fixed size; the values are
 * checked by the data plane (requests) and the addon (replies). */
void sy_put_port_vlan(struct sy_msgbuf *b, const struct sy_port_vlan *v);
int sy_get_port_vlan(const struct sy_attr *a, struct sy_port_vlan *v, char *err, size_t errlen);
void sy_put_port_nsh_tag(struct sy_msgbuf *b, const struct sy_port_nsh_tag *t);
int sy_get_port_nsh_tag(const struct sy_attr *a, struct sy_port_nsh_tag *t, char *err,
			size_t errlen);
int sy_get_port_stats(const struct sy_attr *a, struct sy_port_stats *s, char *err,
		      size_t errlen);
int sy_get_table_desc(const struct sy_attr *a, struct sy_table_desc *d, char *err,
		      size_t errlen);
int sy_get_dp_stats(const struct sy_attr *a, struct sy_dp_stats *s, char *err, size_t errlen);
int sy_get_dp_info(const struct sy_attr *a, struct sy_dp_info *i, char *err, size_t errlen);
int sy_get_pmd_stats(const struct sy_attr *a, struct sy_pmd_stats *s, char *err,
		     size_t errlen);
int sy_get_cookie_stats(const struct sy_attr *a, struct sy_cookie_stats *s, char *err,
			size_t errlen);

/* Appends a FLOW nest: FLOW_HDR, FLOW_MATCH (key, mask), one FLOW_ACTION per
 * action and, if stats is not NULL, FLOW_STATS.  More than SY_MAX_ACTIONS
 * actions is an error (b->error = EINVAL). */
void sy_put_flow(struct sy_msgbuf *b, const struct sy_flow_mod *fm,
		 const struct sy_flow_stats *stats);

/* Decodes a FLOW nest.  FLOW_HDR is required; FLOW_MATCH is optional (absent:
 * match everything) and must come at most once, as FLOW_HDR and FLOW_STATS;
 * FLOW_ACTIONs keep their order, at most SY_MAX_ACTIONS.  The key is
 * returned as sent (not masked).  If stats is not NULL it gets FLOW_STATS
 * (zeros if absent) and *has_stats says whether it was there. */
int sy_get_flow(const struct sy_attr *flow, struct sy_flow_mod *fm, struct sy_flow_stats *stats,
		bool *has_stats, char *err, size_t errlen);

/* TRACE replies (proto.h, "Packet trace").  The pointers returned point
 * into the message.  A TRACE_STEP's actions are its TRACE_ACTION
 * attributes, read with sy_attr_iter_nest() and sy_get_trace_action(). */
struct sy_trace_step {
	uint32_t table_id;
	bool hit;               /* entry holds the entry matched (no stats) */
	bool missed;            /* miss holds enum sy_table_miss */
	uint32_t miss;
	unsigned int n_actions; /* TRACE_ACTION attributes */
	struct sy_flow_mod entry;
};

int sy_get_trace_key(const struct sy_attr *a, struct sy_flow_key *key, struct sy_flow_key *mask,
		     char *err, size_t errlen);
/* TABLE_ID once, exactly one of FLOW and TRACE_MISS. */
int sy_get_trace_step(const struct sy_attr *step, struct sy_trace_step *s, char *err,
		      size_t errlen);
/* FLOW_ACTION once, at most max TRACE_CHANGEs (of known fields) into changes. */
int sy_get_trace_action(const struct sy_attr *action, struct sy_action *act,
			struct sy_trace_change *changes, unsigned int max, unsigned int *n_changes,
			char *err, size_t errlen);
/* PORT_ID and PACKET, once each. */
int sy_get_trace_output(const struct sy_attr *out, uint32_t *port_id, const uint8_t **frame,
			uint32_t *len, char *err, size_t errlen);

/* Builds a whole ERROR message: ERR_CODE, ERR_MSG (cut to SY_ERRMSG_MAX - 1
 * bytes), and ERR_INDEX when index >= 0.  Flags SY_MSGF_REPLY. */
void sy_msg_error(struct sy_msgbuf *b, uint32_t xid, int code, int index, const char *msg);

/* Reads an ERROR message: code, index (-1 when absent) and the text. */
int sy_get_error(const struct sy_msg *msg, int *code, int *index, char *text, size_t textlen,
		 char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* SWITCHYARD_CODEC_H */
