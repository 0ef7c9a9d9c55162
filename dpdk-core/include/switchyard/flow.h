/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow.h — the flow key, the match fields and the actions.
 *
 * What?
 *   Every packet is parsed once into a struct sy_flow_key.  A flow entry
 *   matches a packet when (packet_key & entry_mask) == entry_key, word by
 *   word, over the 16 64-bit words of the key.  Because the key is a fixed
 *   128-byte, 8-byte-aligned structure, masking, hashing and comparing are
 *   straight-line loops over words; the classifier relies on that.
 *
 * Byte order
 *   Every integer field of the key is in HOST byte order (the parser converts
 *   on the way in, the actions convert on the way out).  IPv4 addresses are
 *   host-order uint32_t, so 10.0.0.1 is 0x0a000001.  MAC and IPv6 addresses
 *   are byte arrays in wire order.  Fields that are absent from a packet are
 *   zero in its key (an IPv6 packet has nw_src == 0).
 *
 * Fields
 *   SY_FIELDS below is the one list of match fields.  It yields the enum of
 *   field ids, the names shown to people (ovs-ofctl names), each field's
 *   offset and width in the key, its kind (how it is written as text) and its
 *   prerequisite (the dl_type/nw_proto that must be matched before the field
 *   may be, as in OpenFlow).  dl_vlan and dl_vlan_pcp are not fields of their
 *   own: they are views of vlan_tci, whose SY_VLAN_PRESENT bit says a tag was
 *   there (as in Open vSwitch).
 *
 * Actions
 *   A flow's instructions are one ordered list of struct sy_action: the
 *   apply-actions, then at most one write_metadata and at most one goto_table
 *   (which must be last and name a higher table).  The struct is fixed-size
 *   and is carried as-is by the control protocol (see proto.h).
 *
 * This header is plain C11 with no DPDK dependency: the Node addon includes
 * it too.
 */
#ifndef SWITCHYARD_FLOW_H
#define SWITCHYARD_FLOW_H

#include <assert.h> /* static_assert, in C11 and C++ alike */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Tables are numbered 0..SY_MAX_TABLES-1; processing starts at table 0. */
#define SY_MAX_TABLES 255
#define SY_TABLE_ALL 0xff /* in a delete or dump: every table */

/* Actions in one flow entry, instructions included. */
#define SY_MAX_ACTIONS 32

/* Port numbers.  Real ports are 1..SY_MAX_PORT_ID; the reserved numbers are
 * OpenFlow's, so that flows written for Open vSwitch read the same. */
#define SY_MAX_PORTS 256 /* ports attached at once */
#define SY_MAX_PORT_ID 0xffffff00u
#define SY_PORT_IN_PORT 0xfffffff8u
#define SY_PORT_TABLE 0xfffffff9u /* output:table: packet-out only (OFPP_TABLE) */
#define SY_PORT_FLOOD 0xfffffffbu
#define SY_PORT_ALL 0xfffffffcu
#define SY_PORT_CONTROLLER 0xfffffffdu
#define SY_PORT_LOCAL 0xfffffffeu
#define SY_PORT_ANY 0xffffffffu /* "no port" in filters */

/* vlan_tci: PCP(3) | PRESENT(1, the CFI/DEI position, as in OVS) | VID(12) */
#define SY_VLAN_PRESENT 0x1000
#define SY_VLAN_VID_MASK 0x0fff
#define SY_VLAN_PCP_SHIFT 13
#define SY_VLAN_PCP_MASK 0xe000

/* nw_frag */
#define SY_FRAG_ANY 0x01   /* the packet is an IP fragment */
#define SY_FRAG_LATER 0x02 /* ...and not the first one (no L4 header) */

struct sy_flow_key {
	/* word 0 */
	uint64_t metadata;
	/* word 1 */
	uint32_t in_port;
	uint16_t dl_type;  /* EtherType after any VLAN tag */
	uint16_t vlan_tci; /* outermost 802.1Q tag, SY_VLAN_PRESENT if any */
	/* words 2-3 */
	uint8_t dl_dst[6];
	uint8_t dl_src[6];
	uint8_t nw_proto;
	uint8_t nw_tos; /* IPv4 TOS / IPv6 traffic class: DSCP << 2 | ECN */
	uint8_t nw_ttl; /* IPv4 TTL / IPv6 hop limit */
	uint8_t nw_frag;
	/* word 4 */
	uint32_t nw_src;
	uint32_t nw_dst;
	/* words 5-8 */
	uint8_t ipv6_src[16];
	uint8_t ipv6_dst[16];
	/* word 9 */
	uint16_t tp_src; /* TCP/UDP source port; ICMP/ICMPv6 type */
	uint16_t tp_dst; /* TCP/UDP destination port; ICMP/ICMPv6 code */
	uint16_t tcp_flags;
	uint8_t nsh_mdtype;
	uint8_t nsh_np;
	/* word 10 */
	uint32_t nsh_spi;
	uint8_t nsh_si;
	uint8_t nsh_ttl;
	uint16_t pad0;
	/* words 11-12 */
	uint32_t nsh_c[4];
	/* word 13 */
	uint64_t tun_id;
	/* words 14-15 */
	uint32_t ipv6_label;
	uint32_t pad1;
	uint64_t pad2;
} __attribute__((aligned(8)));

#define SY_FLOW_KEY_WORDS (sizeof(struct sy_flow_key) / sizeof(uint64_t))
static_assert(sizeof(struct sy_flow_key) == 128, "flow key is 16 words");

/* How a field is written as text (and passed to the addon from JavaScript). */
enum sy_field_kind {
	SY_KIND_U8,
	SY_KIND_U16,
	SY_KIND_U32,
	SY_KIND_U64,
	SY_KIND_MAC,
	SY_KIND_IPV4,
	SY_KIND_IPV6,
};

/* What must be matched exactly before a field may be matched. */
enum sy_field_prereq {
	SY_PRE_NONE,
	SY_PRE_VLAN,   /* vlan_tci PRESENT bit set (a tagged packet) */
	SY_PRE_IP,     /* dl_type 0x0800 or 0x86dd */
	SY_PRE_IPV4,   /* dl_type 0x0800 */
	SY_PRE_IPV6,   /* dl_type 0x86dd */
	SY_PRE_L4,     /* IP with nw_proto TCP, UDP or SCTP (tp_src/tp_dst) */
	SY_PRE_TCP,    /* IP with nw_proto 6 */
	SY_PRE_ICMP,   /* IPv4 with nw_proto 1 or IPv6 with nw_proto 58 */
	SY_PRE_NSH,    /* dl_type 0x894f */
};

/* X(ID, name, member, kind, prereq, settable)
 * name is the ovs-ofctl name; tp_src/tp_dst also answer to icmp_type and
 * icmp_code in the text syntax (that aliasing lives in src/flowspec). */
#define SY_FIELDS(X)                                                           \
	X(IN_PORT, "in_port", in_port, SY_KIND_U32, SY_PRE_NONE, 0)            \
	X(METADATA, "metadata", metadata, SY_KIND_U64, SY_PRE_NONE, 1)         \
	X(DL_SRC, "dl_src", dl_src, SY_KIND_MAC, SY_PRE_NONE, 1)               \
	X(DL_DST, "dl_dst", dl_dst, SY_KIND_MAC, SY_PRE_NONE, 1)               \
	X(DL_TYPE, "dl_type", dl_type, SY_KIND_U16, SY_PRE_NONE, 0)            \
	X(VLAN_TCI, "vlan_tci", vlan_tci, SY_KIND_U16, SY_PRE_NONE, 1)         \
	X(NW_SRC, "nw_src", nw_src, SY_KIND_IPV4, SY_PRE_IPV4, 1)              \
	X(NW_DST, "nw_dst", nw_dst, SY_KIND_IPV4, SY_PRE_IPV4, 1)              \
	X(NW_PROTO, "nw_proto", nw_proto, SY_KIND_U8, SY_PRE_IP, 0)            \
	X(NW_TOS, "nw_tos", nw_tos, SY_KIND_U8, SY_PRE_IP, 1)                  \
	X(NW_TTL, "nw_ttl", nw_ttl, SY_KIND_U8, SY_PRE_IP, 1)                  \
	X(NW_FRAG, "nw_frag", nw_frag, SY_KIND_U8, SY_PRE_IP, 0)               \
	X(IPV6_SRC, "ipv6_src", ipv6_src, SY_KIND_IPV6, SY_PRE_IPV6, 1)        \
	X(IPV6_DST, "ipv6_dst", ipv6_dst, SY_KIND_IPV6, SY_PRE_IPV6, 1)        \
	X(IPV6_LABEL, "ipv6_label", ipv6_label, SY_KIND_U32, SY_PRE_IPV6, 1)   \
	X(TP_SRC, "tp_src", tp_src, SY_KIND_U16, SY_PRE_L4, 1)                 \
	X(TP_DST, "tp_dst", tp_dst, SY_KIND_U16, SY_PRE_L4, 1)                 \
	X(ICMP_TYPE, "icmp_type", tp_src, SY_KIND_U16, SY_PRE_ICMP, 0)         \
	X(ICMP_CODE, "icmp_code", tp_dst, SY_KIND_U16, SY_PRE_ICMP, 0)         \
	X(TCP_FLAGS, "tcp_flags", tcp_flags, SY_KIND_U16, SY_PRE_TCP, 0)       \
	X(NSH_MDTYPE, "nsh_mdtype", nsh_mdtype, SY_KIND_U8, SY_PRE_NSH, 0)     \
	X(NSH_NP, "nsh_np", nsh_np, SY_KIND_U8, SY_PRE_NSH, 0)                 \
	X(NSH_SPI, "nsh_spi", nsh_spi, SY_KIND_U32, SY_PRE_NSH, 1)             \
	X(NSH_SI, "nsh_si", nsh_si, SY_KIND_U8, SY_PRE_NSH, 1)                 \
	X(NSH_TTL, "nsh_ttl", nsh_ttl, SY_KIND_U8, SY_PRE_NSH, 0)              \
	X(NSH_C1, "nsh_c1", nsh_c[0], SY_KIND_U32, SY_PRE_NSH, 1)              \
	X(NSH_C2, "nsh_c2", nsh_c[1], SY_KIND_U32, SY_PRE_NSH, 1)              \
	X(NSH_C3, "nsh_c3", nsh_c[2], SY_KIND_U32, SY_PRE_NSH, 1)              \
	X(NSH_C4, "nsh_c4", nsh_c[3], SY_KIND_U32, SY_PRE_NSH, 1)              \
	X(TUN_ID, "tun_id", tun_id, SY_KIND_U64, SY_PRE_NONE, 1)

enum sy_field_id {
	SY_F_NONE = 0,
#define SY_X_ENUM(ID, name, member, kind, pre, settable) SY_F_##ID,
	SY_FIELDS(SY_X_ENUM)
#undef SY_X_ENUM
	SY_F__MAX
};

struct sy_field_info {
	const char *name;
	uint16_t offset; /* in struct sy_flow_key */
	uint8_t width;   /* bytes */
	uint8_t kind;    /* enum sy_field_kind */
	uint8_t prereq;  /* enum sy_field_prereq */
	uint8_t settable; /* usable in set_field */
};

/* The field table, indexed by enum sy_field_id (entry 0 is empty). */
extern const struct sy_field_info sy_fields[SY_F__MAX];

/* Field id by ovs-ofctl name, or SY_F_NONE. */
enum sy_field_id sy_field_by_name(const char *name);

/* Actions and instructions.  X(ID, name) */
#define SY_ACTIONS(X)                                                          \
	X(OUTPUT, "output")          /* arg: port number (or reserved port) */ \
	X(SET_FIELD, "set_field")    /* field, value.bytes: key layout */       \
	X(PUSH_VLAN, "push_vlan")    /* arg: TPID (0x8100 or 0x88a8) */         \
	X(POP_VLAN, "pop_vlan")                                                 \
	X(DEC_TTL, "dec_ttl")                                                   \
	X(GOTO_TABLE, "goto_table")  /* arg: table id, higher than this one */  \
	X(WRITE_METADATA, "write_metadata") /* value.u64[0], mask */            \
	X(CONTROLLER, "controller")  /* arg: max bytes to send */               \
	X(GROUP, "group")            /* arg: group id */                        \
	X(METER, "meter")            /* arg: meter id */                        \
	X(SET_QUEUE, "set_queue")    /* arg: queue id */                        \
	X(PUSH_NSH, "push_nsh")      /* see SY_NSH_ARG below */                 \
	X(POP_NSH, "pop_nsh")                                                   \
	X(DEC_NSH_TTL, "dec_nsh_ttl")                                            \
	X(MIRROR, "mirror")          /* arg: mirror id (proto.h "Mirrors") */

enum sy_action_type {
	SY_ACT_NONE = 0,
#define SY_X_ENUM(ID, name) SY_ACT_##ID,
	SY_ACTIONS(SY_X_ENUM)
#undef SY_X_ENUM
	SY_ACT__MAX
};

extern const char *const sy_action_names[SY_ACT__MAX];

struct sy_action {
	uint16_t type;  /* enum sy_action_type */
	uint16_t field; /* SET_FIELD: enum sy_field_id */
	uint32_t arg;
	union {
		uint8_t bytes[16]; /* SET_FIELD: the value, as laid out in the key */
		uint64_t u64[2];   /* WRITE_METADATA: u64[0] is the value */
	} value;
	/* WRITE_METADATA: the bits to write.  SET_FIELD of a field of at most 8
	 * bytes: 0 writes the whole field, else only these bits (laid out as the
	 * field in the key, in its first `width` bytes): this is how vlan_vid
	 * (0x1fff of vlan_tci) and vlan_pcp (0xe000 plus present) are set.
	 * SET_FIELD of vlan_tci on an untagged packet pushes an 802.1Q tag first
	 * (as Open vSwitch's mod_vlan_vid does). */
	uint64_t mask;
};
static_assert(sizeof(struct sy_action) == 32, "action is 32 bytes");

/* PUSH_NSH's arguments: arg = SPI (24 bits) << 8 | SI; mask = MD type << 8
 * | TTL (6 bits); value.bytes = the context headers c1..c4 of MD type 1,
 * four host-order uint32_t (MD type 2 pushes no metadata TLV). */
#define SY_NSH_ARG(spi, si) ((uint32_t)(spi) << 8 | (uint8_t)(si))
#define SY_NSH_ARG_SPI(arg) ((arg) >> 8)
#define SY_NSH_ARG_SI(arg) ((uint8_t)(arg))
#define SY_NSH_MASK(mdtype, ttl) ((uint64_t)(mdtype) << 8 | (uint8_t)(ttl))
#define SY_NSH_MASK_MDTYPE(mask) ((uint8_t)((mask) >> 8))
#define SY_NSH_MASK_TTL(mask) ((uint8_t)(mask))
#define SY_NSH_MAX_SPI 0xffffffu
#define SY_NSH_MAX_TTL 63

/* Flow-mod commands, as OpenFlow's. */
enum sy_flow_cmd {
	SY_FC_ADD = 1,       /* replace an entry of identical match+priority */
	SY_FC_MODIFY,        /* new actions for every entry the match covers */
	SY_FC_MODIFY_STRICT, /* new actions for the entry of identical match+priority */
	SY_FC_DELETE,        /* delete every entry the match covers */
	SY_FC_DELETE_STRICT, /* delete the entry of identical match+priority */
};

/* Flow-mod flags */
#define SY_FF_SEND_FLOW_REM 0x0001
#define SY_FF_CHECK_OVERLAP 0x0002
#define SY_FF_RESET_COUNTS 0x0004

/* Fixed part of a flow entry or flow-mod, carried as one attribute. */
struct sy_flow_hdr {
	uint8_t command;  /* enum sy_flow_cmd (flow-mods only) */
	uint8_t table_id; /* SY_TABLE_ALL allowed in deletes */
	uint16_t priority;
	uint16_t flags;
	uint16_t idle_timeout; /* seconds, 0 = none */
	uint16_t hard_timeout;
	uint16_t pad0;
	uint32_t out_port; /* deletes: only entries that output here; SY_PORT_ANY */
	uint64_t cookie;
	uint64_t cookie_mask; /* modify/delete: entries with (cookie & mask) == (this & mask) */
};
static_assert(sizeof(struct sy_flow_hdr) == 32, "flow header is 32 bytes");

/* A flow-mod, or a flow entry as described by a dump, decoded. */
struct sy_flow_mod {
	struct sy_flow_hdr hdr;
	struct sy_flow_key key;  /* already masked */
	struct sy_flow_key mask;
	uint16_t n_actions;
	struct sy_action actions[SY_MAX_ACTIONS];
};

/* Counters of one entry, in a dump. */
struct sy_flow_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t duration_ns; /* since it was added */
	uint64_t idle_ns;     /* since it last matched (== duration if never) */
};

/* Checks a match and its instructions as the data plane will: the mask is
 * applied, every prerequisite is met, goto_table is last and names a higher
 * table, set_field names a settable field.  On failure writes a message that
 * names the offending field or action into err (errlen bytes) and returns -1. */
int sy_flow_mod_validate(const struct sy_flow_mod *fm, char *err, size_t errlen);

/* Applies mask to key in place. */
static inline void
sy_flow_key_apply_mask(struct sy_flow_key *key, const struct sy_flow_key *mask)
{
	uint64_t *k = (uint64_t *)key;
	const uint64_t *m = (const uint64_t *)mask;
	for (size_t i = 0; i < SY_FLOW_KEY_WORDS; i++)
		k[i] &= m[i];
}

#ifdef __cplusplus
}
#endif

#endif /* SWITCHYARD_FLOW_H */
