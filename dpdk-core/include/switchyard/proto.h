/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * proto.h — the control protocol between the data plane and its clients.
 *
 * What?
 *   Asynchronous messages over a unix stream socket, in the spirit of the
 *   Netlink channel of the paper: every message is a fixed 16-byte header
 *   followed by attributes.  An attribute is an 8-byte header (type, length)
 *   and a payload padded to 8 bytes; attributes nest (a NEST attribute's
 *   payload is more attributes).  Both ends are on one host, so integers are
 *   in host byte order.
 *
 * Conversation
 *   - The client sends HELLO first; the server answers with its version and
 *     identity.  A version mismatch is answered with SY_E_VERSION and the
 *     connection is closed.
 *   - Every request carries a transaction id (xid != 0) and gets exactly one
 *     answer with the same xid: the same type with SY_MSGF_REPLY, or ERROR.
 *   - Requests are executed in the order they arrive.  BARRIER is answered
 *     once everything before it is live in the data path (every forwarding
 *     lcore has passed a quiescent state since).
 *   - A reply too large for one message (a FLOW_DUMP of a million entries)
 *     comes in parts: every part carries the request's xid and the same
 *     type with SY_MSGF_REPLY; all but the last also carry SY_MSGF_MORE.
 *     Each part holds whole top-level attributes, so a client may decode
 *     parts as they arrive.  An ERROR ends the answer at any point.
 *   - Events (port status, flow removed, packet-in) carry xid 0 and
 *     SY_MSGF_EVENT, and go to every connected client.
 *   - A malformed message (bad header, length, attribute overrun, attribute
 *     of the wrong size) is answered with SY_E_PROTO when its xid can be read;
 *     a stream that cannot be resynchronised (bad version, length under the
 *     header size or over SY_MSG_MAX) is closed.  Either way the data plane
 *     keeps forwarding.
 *
 * Which attributes each message carries is written beside its type below.
 * "FLOW" is a nest of FLOW_HDR (struct sy_flow_hdr), FLOW_MATCH (key then
 * mask, 2 x struct sy_flow_key), zero or more FLOW_ACTION (struct sy_action,
 * in order) and, in dumps, FLOW_STATS (struct sy_flow_stats).
 *
 * Plain C11, no DPDK: the addon includes it.
 */
#ifndef SWITCHYARD_PROTO_H
#define SWITCHYARD_PROTO_H

#include <stdint.h>

#include "flow.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SY_PROTO_VERSION 1
#define SY_MSG_MAX (256u << 20) /* largest message, header included */
#define SY_NAME_MAX 32          /* port and table names, NUL included */
#define SY_DEVARGS_MAX 256      /* NUL included */
#define SY_ERRMSG_MAX 256       /* NUL included */
#define SY_FLOW_BATCH_MAX 131072 /* FLOW attributes in one FLOW_MOD: the data
                                  * plane decodes a batch into an array of
                                  * struct sy_flow_mod (about 1.3 KB each) */

struct sy_msg_hdr {
	uint8_t version; /* SY_PROTO_VERSION */
	uint8_t flags;   /* SY_MSGF_* */
	uint16_t type;   /* enum sy_msg_type */
	uint32_t length; /* whole message, header included, multiple of 8 */
	uint32_t xid;    /* transaction id; 0 for events */
	uint32_t reserved;
};
static_assert(sizeof(struct sy_msg_hdr) == 16, "message header is 16 bytes");

#define SY_MSGF_REPLY 0x01
#define SY_MSGF_EVENT 0x02
#define SY_MSGF_MORE 0x04 /* a part of a reply; more parts follow */
#define SY_REPLY_PART_MAX (4u << 20) /* a server starts a new part past this */

struct sy_attr {
	uint16_t type;   /* enum sy_attr_type */
	uint16_t flags;  /* reserved, 0 */
	uint32_t length; /* header + payload, not counting the padding */
};
static_assert(sizeof(struct sy_attr) == 8, "attribute header is 8 bytes");

#define SY_ALIGN 8
#define SY_ALIGN_UP(n) (((n) + SY_ALIGN - 1) & ~(uint32_t)(SY_ALIGN - 1))

/* Message types.  Request attributes -> reply attributes. */
enum sy_msg_type {
	SY_MSG_ERROR = 1,      /* ERR_CODE, ERR_MSG, [ERR_INDEX] */
	SY_MSG_HELLO = 2,      /* VERSION -> VERSION, DP_INFO */
	SY_MSG_ECHO = 3,       /* anything -> the same attributes */
	SY_MSG_BARRIER = 4,    /* -> (none) */
	SY_MSG_PORT_ADD = 10,  /* PORT_NAME, PORT_DEVARGS, [PORT_ID], [PORT_MTU], [PORT_ADMIN], [PORT_RXQ],
	                        * [BOND_MODE, BOND_MEMBER+, [BOND_XMIT_POLICY], [BOND_PRIMARY]],
	                        * [PORT_VLAN], [PORT_NSH_TAG]
	                        * -> PORT_DESC, [PORT_BOND], [PORT_VLAN], [PORT_NSH_TAG] */
	SY_MSG_PORT_DEL = 11,  /* PORT_ID -> (none) */
	SY_MSG_PORT_MOD = 12,  /* PORT_ID, [PORT_MTU], [PORT_ADMIN], [PORT_RXQ], [PORT_VLAN],
	                        * [PORT_NSH_TAG] -> PORT_DESC, [PORT_BOND], [PORT_VLAN], [PORT_NSH_TAG] */
	SY_MSG_PORT_LIST = 13, /* -> (PORT_DESC, [PORT_BOND], [PORT_VLAN], [PORT_NSH_TAG])* */
	SY_MSG_PORT_STATS = 14, /* [PORT_ID] -> PORT_STATS* */
	SY_MSG_PORT_STATS_CLEAR = 15, /* [PORT_ID] -> (none) */
	SY_MSG_FLOW_MOD = 20,  /* FLOW+ (each a flow-mod; all or nothing) -> FLOW_COUNT */
	SY_MSG_FLOW_DUMP = 21, /* [FLOW (filter: table, match, cookie, out_port)] -> FLOW* (in parts) */
	SY_MSG_FLOW_COOKIE_STATS = 22, /* [COOKIE_LIMIT] -> COOKIE_STATS* (every flow summed by
	                                * cookie; the busiest COOKIE_LIMIT by packets, most first) */
	SY_MSG_TRACE = 23,     /* PORT_ID, PACKET -> [TRACE_KEY], TRACE_STEP*, then TRACE_OUTPUT and
	                        * TRACE_DROP in the order they happen (see "Packet trace" below) */
	SY_MSG_TABLE_LIST = 30, /* -> TABLE_DESC* (tables that have flows or settings) */
	SY_MSG_TABLE_MOD = 31,  /* TABLE_DESC (id, name, miss, max_flows) -> TABLE_DESC */
	SY_MSG_DP_STATS = 40,   /* -> DP_STATS */
	SY_MSG_PMD_STATS = 41,  /* -> PMD_STATS* (one per forwarding lcore, by slot) */
	SY_MSG_PMD_STATS_CLEAR = 42, /* -> (none) */
	SY_MSG_GROUP_MOD = 50,   /* GROUP_HDR, then per bucket GROUP_BUCKET and its FLOW_ACTIONs -> (none) */
	SY_MSG_GROUP_STATS = 51, /* [GROUP_ID] -> GROUP_STATS* (by id) */
	SY_MSG_METER_MOD = 56,   /* METER_CMD, METER_DESC, [METER_BANDS] -> METER_DESC, METER_BANDS
	                          * (ADD, MODIFY; see "Meters") */
	SY_MSG_METER_STATS = 57, /* [METER_ID] -> (METER_STATS, METER_BANDS, METER_BAND_STATS)*
	                          * (every meter, by id, when absent) */
	SY_MSG_MIRROR_MOD = 60,   /* MIRROR_CMD, MIRROR_DESC -> (none) (see "Mirrors" below) */
	SY_MSG_MIRROR_STATS = 61, /* -> MIRROR_STATS* (every mirror, by id) */
	SY_MSG_PORT_QOS = 65,    /* PORT_ID, [PORT_QOS] -> PORT_QOS: sets the port's egress QoS
	                          * when PORT_QOS is given (all zero: none), else reads it */
	SY_MSG_PACKET_OUT = 70,  /* [PORT_ID (in_port)], PACKET, FLOW_ACTION+ -> (none): the frame
	                          * is queued to a forwarding lcore, which runs the actions on it
	                          * (see "Packet-out" below) */
	SY_MSG_PORT_STATUS = 100, /* event: PORT_DESC, PORT_REASON */
	SY_MSG_FLOW_REMOVED = 101, /* event: FLOW (with FLOW_STATS), FLOW_REASON; every expiry, deletions only with send_flow_rem */
	SY_MSG_PACKET_IN = 102,    /* event: PORT_ID, TABLE_ID, [FLOW_HDR], PACKET, PIN_REASON,
	                            * PIN_TOTAL_LEN (see "Packet-in" below) */
};

enum sy_attr_type {
	SY_A_UNSPEC = 0,
	SY_A_ERR_CODE = 1,   /* u32, enum sy_error_code */
	SY_A_ERR_MSG = 2,    /* NUL-terminated string */
	SY_A_ERR_INDEX = 3,  /* u32: which FLOW of a batch was refused */
	SY_A_VERSION = 4,    /* u32 */
	SY_A_DP_INFO = 5,    /* struct sy_dp_info */
	SY_A_STATS_SEGMENT = 6, /* string: absolute path of the stats segment
	                         * (stats_segment.h); absent when it has none */
	SY_A_PORT_ID = 10,   /* u32 */
	SY_A_PORT_NAME = 11, /* string */
	SY_A_PORT_DEVARGS = 12, /* string */
	SY_A_PORT_MTU = 13,  /* u32 */
	SY_A_PORT_ADMIN = 14, /* u32: 1 up, 0 down */
	SY_A_PORT_DESC = 15, /* struct sy_port_desc */
	SY_A_PORT_STATS = 16, /* struct sy_port_stats */
	SY_A_PORT_REASON = 17, /* u32: enum sy_port_reason */
	SY_A_PORT_RXQ = 18,  /* u32: rx queues, 1..SY_PORT_RXQ_MAX (RSS spreads
	                      * flows over them; each is polled by one lcore) */
	SY_A_FLOW = 20,       /* nest */
	SY_A_FLOW_HDR = 21,   /* struct sy_flow_hdr */
	SY_A_FLOW_MATCH = 22, /* struct sy_flow_key key, struct sy_flow_key mask */
	SY_A_FLOW_ACTION = 23, /* struct sy_action */
	SY_A_FLOW_STATS = 24, /* struct sy_flow_stats */
	SY_A_FLOW_COUNT = 25, /* u32: entries added, modified or deleted */
	SY_A_FLOW_REASON = 26, /* u32: enum sy_flow_removed_reason */
	SY_A_TABLE_ID = 30,   /* u32 */
	SY_A_TABLE_DESC = 31, /* struct sy_table_desc */
	SY_A_DP_STATS = 40,   /* struct sy_dp_stats */
	SY_A_PMD_STATS = 41,  /* struct sy_pmd_stats */
	SY_A_COOKIE_LIMIT = 42, /* u32: 1..SY_COOKIE_LIMIT_MAX (default SY_COOKIE_LIMIT_DEFAULT) */
	SY_A_COOKIE_STATS = 43, /* struct sy_cookie_stats */
	SY_A_PACKET = 50,     /* raw frame bytes */
	SY_A_TRACE_KEY = 60,    /* struct sy_flow_key key, struct sy_flow_key mask: the frame as
	                         * parsed, and the fields it has (as FLOW_MATCH) */
	SY_A_TRACE_STEP = 61,   /* nest: TABLE_ID, FLOW (the entry hit) or TRACE_MISS, TRACE_ACTION* */
	SY_A_TRACE_ACTION = 62, /* nest: FLOW_ACTION, TRACE_CHANGE* (the fields it rewrote) */
	SY_A_TRACE_CHANGE = 63, /* struct sy_trace_change */
	SY_A_TRACE_OUTPUT = 64, /* nest: PORT_ID, PACKET (the frame as it would leave) */
	SY_A_TRACE_DROP = 65,   /* u32: enum sy_drop_reason of a drop the packet would be counted under */
	SY_A_TRACE_MISS = 66,   /* u32: enum sy_table_miss of the table that had no entry */
	/* Link aggregation (see "Bond ports" below).  Replies, lists and
	 * PORT_STATUS events carry a PORT_BOND right after the PORT_DESC of
	 * each bond port. */
	SY_A_BOND_MODE = 90,        /* u32: enum sy_bond_mode; makes the new port a bond */
	SY_A_BOND_MEMBER = 91,      /* string: a member's devargs; one per member, in order */
	SY_A_BOND_XMIT_POLICY = 92, /* u32: enum sy_bond_xmit_policy (balance-xor; default l2) */
	SY_A_BOND_PRIMARY = 93,     /* string: device name of the preferred member (active-backup) */
	SY_A_PORT_BOND = 94,        /* struct sy_port_bond */
	/* Groups (see "Groups" below) */
	SY_A_GROUP_HDR = 110,    /* struct sy_group_hdr */
	SY_A_GROUP_BUCKET = 111, /* struct sy_group_bucket; the FLOW_ACTIONs after it are its actions */
	SY_A_GROUP_STATS = 112,  /* struct sy_group_stats */
	SY_A_GROUP_ID = 113,     /* u32 */
	/* Meters (see "Meters" below) */
	SY_A_METER_CMD = 120,   /* u32: enum sy_meter_cmd */
	SY_A_METER_DESC = 121,  /* struct sy_meter_desc */
	SY_A_METER_ID = 122,    /* u32 */
	SY_A_METER_STATS = 123, /* struct sy_meter_stats */
	SY_A_METER_BANDS = 124, /* struct sy_meter_bands: all the bands (absent in a request: the one
	                         * band of METER_DESC) */
	SY_A_METER_BAND_STATS = 125, /* struct sy_meter_band_stats, after its METER_STATS, METER_BANDS */
	/* Port edge settings (see "Port VLAN modes and NSH port tag" below).
	 * In PORT_ADD and PORT_MOD: set (mode NONE / enabled 0 clears), absent:
	 * left as is.  Replies, lists and PORT_STATUS events carry each one a
	 * port has right after its PORT_DESC (and PORT_BOND). */
	SY_A_PORT_VLAN = 130,    /* struct sy_port_vlan */
	SY_A_PORT_NSH_TAG = 131, /* struct sy_port_nsh_tag */
	/* Mirrors (see "Mirrors" below) */
	SY_A_MIRROR_CMD = 140,   /* u32: enum sy_mirror_cmd */
	SY_A_MIRROR_DESC = 141,  /* struct sy_mirror_desc */
	SY_A_MIRROR_STATS = 142, /* struct sy_mirror_stats */
	/* Port egress QoS (see "Port egress QoS" below) */
	SY_A_PORT_QOS = 150, /* struct sy_port_qos */
	/* Packet-in and packet-out (see "Packet-in" below) */
	SY_A_PIN_REASON = 160,    /* u32: enum sy_packet_in_reason */
	SY_A_PIN_TOTAL_LEN = 161, /* u32: the frame's length (PACKET may hold fewer bytes) */
	SY_A__MAX
};

/* Error codes.  Each maps to one gRPC status in the daemon. */
#define SY_ERRORS(X)                                                           \
	X(OK, "ok")                   /* OK */                                 \
	X(INVAL, "invalid argument")  /* INVALID_ARGUMENT */                   \
	X(NOENT, "not found")         /* NOT_FOUND */                          \
	X(EXIST, "already exists")    /* ALREADY_EXISTS */                     \
	X(NOSPC, "no space")          /* RESOURCE_EXHAUSTED */                 \
	X(BUSY, "busy")               /* UNAVAILABLE */                        \
	X(UNSUPP, "not supported")    /* UNIMPLEMENTED */                      \
	X(PROTO, "malformed message") /* INVALID_ARGUMENT */                   \
	X(VERSION, "version mismatch") /* FAILED_PRECONDITION */               \
	X(DEVICE, "device error")     /* FAILED_PRECONDITION */                \
	X(INTERNAL, "internal error") /* INTERNAL */

enum sy_error_code {
#define SY_X_ENUM(ID, text) SY_E_##ID,
	SY_ERRORS(SY_X_ENUM)
#undef SY_X_ENUM
	SY_E__MAX
};

/* Why a packet was dropped.  One list: the enum, the names shown by
 * `switchyard port stats`, and the counters.  X(ID, name, help) */
#define SY_DROPS(X)                                                                   \
	X(RUNT, "runt", "frame shorter than an Ethernet header")                     \
	X(L2_TRUNCATED, "l2_truncated", "802.1Q tag or NSH header cut short")        \
	X(IP_TRUNCATED, "ip_truncated", "IP header or total length past the frame")  \
	X(IP_BAD_HEADER, "ip_bad_header", "IPv4 version or IHL invalid")             \
	X(L4_TRUNCATED, "l4_truncated", "TCP/UDP/ICMP header past the IP payload")   \
	X(TABLE_MISS, "table_miss", "no entry matched and the table drops on miss")  \
	X(ACTION_DROP, "action_drop", "the matching entry drops (no output)")        \
	X(TTL_EXPIRED, "ttl_expired", "dec_ttl on TTL 0 or 1")                       \
	X(NO_HEADROOM, "no_headroom", "no room to push a header")                    \
	X(PORT_DOWN, "port_down", "output port administratively down")               \
	X(NO_PORT, "no_port", "output to a port that does not exist")                \
	X(TOO_BIG, "too_big", "frame longer than the output port's MTU")             \
	X(TX_FULL, "tx_full", "the output queue was full")                           \
	X(NO_MBUF, "no_mbuf", "no buffer to copy or clone the packet")               \
	X(RECIRC_LIMIT, "recirc_limit", "too many table hops")                       \
	X(TAG_TTL_EXPIRED, "tag_ttl_expired", "dec_nsh_ttl on TTL 0 or 1")           \
	X(METER, "meter", "dropped by a meter band")                                 \
	X(CONTROLLER, "controller", "packet-in over the rate limit or queue full")   \
	X(GROUP_NO_BUCKET, "group_no_bucket", "the group has no live bucket (or no such group)") \
	X(POLICED, "policed", "over the output port's egress rate limit (or its queue's)")      \
	X(VLAN_FILTERED, "vlan_filtered", "VLAN not allowed on the port (access/trunk mode)")

enum sy_drop_reason {
#define SY_X_ENUM(ID, name, help) SY_DROP_##ID,
	SY_DROPS(SY_X_ENUM)
#undef SY_X_ENUM
	SY_DROP__MAX
};
#define SY_DROP_SLOTS 24 /* room in the wire structs; >= SY_DROP__MAX */
static_assert(SY_DROP__MAX <= SY_DROP_SLOTS, "drop reasons fit the wire");

enum sy_table_miss {
	SY_MISS_DROP = 0,     /* count under table_miss and drop */
	SY_MISS_CONTINUE = 1, /* go on to the next table */
	SY_MISS_CONTROLLER = 2, /* send to the controller */
};

/* Packet-in
 *   A packet sent to the controller (a `controller` action, output:controller,
 *   or a table whose miss is `controller`) becomes one PACKET_IN event:
 *   PORT_ID the ingress port, TABLE_ID the table it was in, FLOW_HDR (only
 *   for PIN_ACTION: cookie and table of the entry that sent it), PACKET its
 *   first max_len bytes, PIN_TOTAL_LEN the whole frame's length.  The
 *   forwarding lcores hand them to the main lcore through a ring; over the
 *   rate limit (switchyard-dp --controller-rate) or with the ring full a
 *   packet-in is counted under the drop reason `controller` instead. */
enum sy_packet_in_reason {
	SY_PIN_NO_MATCH = 0, /* a table miss with miss=controller */
	SY_PIN_ACTION = 1,   /* an entry's controller action */
};
/* Mirrors
 *   A mirror copies what its src ports receive and what its dst ports send
 *   (after the actions, as the frame leaves), and what `mirror:ID` actions
 *   name, to its out_port.  MIRROR_MOD SET adds or replaces mirror `id`
 *   (0..SY_MIRROR_MAX-1); DELETE removes it (only id is read).  Refused:
 *   an unknown port (NOENT), more than SY_MIRROR_PORTS src or dst ports, an
 *   output port that is also a mirrored port of any mirror (INVAL).  Copies
 *   are mbuf copies from the pool; one that finds no mbuf is counted in
 *   no_mbuf and the original goes on untouched. */
#define SY_MIRROR_MAX 32
#define SY_MIRROR_PORTS 16
enum sy_mirror_cmd { SY_MIR_SET = 0, SY_MIR_DELETE = 1 };
struct sy_mirror_desc {
	uint32_t id;
	uint32_t out_port;
	uint16_t n_src;
	uint16_t n_dst;
	uint32_t pad;
	char name[SY_NAME_MAX];
	uint32_t src[SY_MIRROR_PORTS];
	uint32_t dst[SY_MIRROR_PORTS];
};
struct sy_mirror_stats {
	struct sy_mirror_desc desc;
	uint64_t packets; /* copies sent */
	uint64_t bytes;
	uint64_t no_mbuf; /* copies that found no mbuf */
};

/* Packet-out
 *   PACKET_OUT runs FLOW_ACTIONs (output, set_field, push/pop_vlan, dec_ttl,
 *   group, controller, meter) on a frame as if it had been received on
 *   PORT_ID (absent: from the controller, in_port CONTROLLER).  output:
 *   SY_PORT_TABLE, last, is OpenFlow's OFPP_TABLE: the frame then goes
 *   through the tables from table 0.  Refused (nothing sent): no or an
 *   empty frame, one shorter than an Ethernet header, one over an output
 *   port's MTU, an unknown port, goto_table or write_metadata, output:in_port
 *   without PORT_ID; BUSY when the lcore's queue is full.  The frames count
 *   in the output ports' tx counters. */
#define SY_PIN_MISS_LEN 128      /* bytes a table miss sends (OpenFlow's miss_send_len) */
#define SY_PIN_MAX_LEN 65535     /* controller's default max_len, as ovs-ofctl's */

enum sy_port_reason { SY_PR_ADD = 0, SY_PR_DELETE = 1, SY_PR_MODIFY = 2, SY_PR_LINK = 3 /* link went up or down, or its speed changed */ };

enum sy_flow_removed_reason {
	SY_FR_IDLE_TIMEOUT = 0,
	SY_FR_HARD_TIMEOUT = 1,
	SY_FR_DELETE = 2,
};

struct sy_dp_info {
	uint32_t pid;
	uint32_t n_workers;   /* forwarding lcores */
	uint64_t start_ns;    /* CLOCK_REALTIME at start */
	uint64_t tsc_hz;
	uint32_t max_ports;
	uint32_t max_tables;
	char version[32];     /* switchyard version */
	char dpdk_version[64];
	char file_prefix[64];
};

struct sy_port_desc {
	uint32_t id;
	uint16_t dpdk_port;  /* DPDK ethdev port id */
	uint16_t mtu;
	uint8_t admin_up;
	uint8_t link_up;
	uint8_t mac[6];
	uint32_t link_speed; /* Mbit/s, 0 unknown */
	uint16_t n_rxq;
	uint16_t n_txq;
	uint32_t pad;
	char name[SY_NAME_MAX];
	char driver[SY_NAME_MAX];
	char devargs[SY_DEVARGS_MAX];
};

struct sy_port_stats {
	uint32_t id;
	uint32_t pad;
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t rx_errors;  /* device counters (ierrors + rx_nombuf) */
	uint64_t tx_errors;  /* device counters (oerrors) */
	uint64_t rx_missed;  /* device imissed */
	uint64_t drops[SY_DROP_SLOTS]; /* by enum sy_drop_reason, attributed to
	                                * the ingress port, except TX_FULL and
	                                * TOO_BIG to the egress port */
};

struct sy_table_desc {
	uint32_t id;
	uint32_t miss;      /* enum sy_table_miss */
	uint32_t n_flows;
	uint32_t max_flows; /* 0 = no limit but the switch's */
	uint64_t lookups;
	uint64_t matched;
	char name[SY_NAME_MAX];
};

/* One forwarding (poll-mode) lcore.  Counters are since start or the last
 * PMD_STATS_CLEAR.  Cycles are TSC cycles (sy_dp_info.tsc_hz): an
 * iteration of the loop that received packets is busy, one that received
 * none is idle (sleep included).  Cycles per packet = busy / packets. */
#define SY_PORT_RXQ_MAX 16
#define SY_PMD_RXQ_MAX 64
struct sy_pmd_stats {
	uint32_t slot;       /* 0..n_workers-1 */
	uint32_t lcore_id;   /* EAL lcore */
	uint32_t cpu;        /* the CPU it runs on, or UINT32_MAX if several */
	uint32_t n_rxq;      /* rx queues it polls (the first SY_PMD_RXQ_MAX in rxq) */
	uint64_t packets;    /* received */
	uint64_t busy_cycles;
	uint64_t idle_cycles;
	uint64_t cache_hits;   /* packets whose tables the flow cache answered */
	uint64_t cache_misses; /* packets that walked the classifier */
	uint64_t cls_lookups;  /* classifier lookups (one per table visited on a miss) */
	uint64_t cls_probes;   /* subtables probed by those lookups */
	struct sy_pmd_rxq {
		uint32_t port_id;
		uint16_t queue;
		uint16_t pad;
		uint64_t packets; /* received from this queue by this lcore */
	} rxq[SY_PMD_RXQ_MAX];
};

/* Bond ports: one switch port made of several member devices with DPDK's
 * bonding PMD.  PORT_ADD with BOND_MODE makes one: PORT_DEVARGS is then
 * the bonding device's name (net_bonding...), and each BOND_MEMBER the
 * devargs of a device the data plane probes and owns (detached with the
 * bond).  Modes are DPDK's numbers. */
#define SY_BOND_MEMBERS_MAX 8
enum sy_bond_mode {
	SY_BOND_ROUND_ROBIN = 0,   /* each frame to the next member */
	SY_BOND_ACTIVE_BACKUP = 1, /* one member carries all; the next takes over when it fails */
	SY_BOND_BALANCE_XOR = 2,   /* a hash of the headers (xmit policy) picks the member */
	SY_BOND_BROADCAST = 3,     /* every frame to every member */
};
enum sy_bond_xmit_policy {
	SY_BOND_XMIT_L2 = 0,  /* source and destination MAC */
	SY_BOND_XMIT_L23 = 1, /* MACs and IP addresses */
	SY_BOND_XMIT_L34 = 2, /* IP addresses and TCP/UDP ports */
};
struct sy_bond_member {
	uint16_t dpdk_port;  /* UINT16_MAX while detached (carrier lost) */
	uint8_t link_up;
	uint8_t active;      /* carries traffic now (active-backup: the current one) */
	uint32_t pad;
	uint64_t rx_packets; /* the member device's own counters since it was attached */
	uint64_t tx_packets;
	char devargs[SY_DEVARGS_MAX];
};
struct sy_port_bond {
	uint32_t port_id;
	uint8_t mode;        /* enum sy_bond_mode */
	uint8_t xmit_policy; /* enum sy_bond_xmit_policy */
	uint8_t n_members;
	uint8_t primary;     /* index of the preferred member, or UINT8_MAX if none was given */
	struct sy_bond_member member[SY_BOND_MEMBERS_MAX];
};

/* Port VLAN modes and NSH port tag ("edge" settings, edge.h).
 *   access: an untagged (or priority-tagged, VID 0) frame received gets an
 *     802.1Q tag with VID tag before it is parsed; any other tagged frame
 *     received is dropped.  Sent to the port: VID tag leaves untagged, any
 *     other VID and untagged frames are dropped.
 *   trunk: tagged frames pass both ways if their VID is allowed (trunks:
 *     bit v of the bitmap for VID v; all zero = every VID), else dropped.
 *     With a native VLAN, untagged (or VID 0) frames received get its tag,
 *     and its frames leave untagged; without one untagged frames are
 *     dropped both ways.  The native VID is always allowed.
 *   A frame inside the switch without a tag belongs to no tenant: it never
 *   leaves by an access or trunk port.  Every such drop is VLAN_FILTERED,
 *   counted on the port where it happens.
 *   nsh tag: every frame received gets an Ethernet + NSH header pushed (as
 *   push_nsh: next protocol Ethernet, the frame's own MACs outside) before
 *   it is parsed; a frame sent to the port whose outer EtherType is NSH
 *   leaves with that header and its outer Ethernet popped (as pop_nsh).
 *   On ingress the VLAN step comes first (the tag is inside the NSH
 *   payload), on egress the NSH pop.  VIDs are 1..4094. */
#define SY_VLAN_BITMAP_WORDS 64 /* 4096 bits */
enum sy_vlan_mode {
	SY_VLAN_NONE = 0,
	SY_VLAN_ACCESS = 1,
	SY_VLAN_TRUNK = 2,
};
struct sy_port_vlan {
	uint32_t port_id; /* in replies; ignored in requests */
	uint8_t mode;     /* enum sy_vlan_mode; NONE clears */
	uint8_t pad;
	uint16_t tag;     /* access: the port's VID */
	uint16_t native;  /* trunk: the native VID, 0 none */
	uint16_t pad2;
	uint32_t pad3;
	uint64_t trunks[SY_VLAN_BITMAP_WORDS]; /* trunk: allowed VIDs, all zero = all */
};
struct sy_port_nsh_tag {
	uint32_t port_id; /* in replies; ignored in requests */
	uint8_t enabled;  /* 0 clears */
	uint8_t mdtype;   /* 1 (four context headers) or 2 (none) */
	uint8_t si;       /* service index */
	uint8_t ttl;      /* 1..63 */
	uint32_t spi;     /* 0..SY_NSH_MAX_SPI */
	uint32_t ctx[4];  /* MD type 1: c1..c4 */
};

/* The flows of one cookie, summed (FLOW_COOKIE_STATS).  Counters as in
 * FLOW_STATS: since each entry was added (or its counters reset). */
#define SY_COOKIE_LIMIT_DEFAULT 1024
#define SY_COOKIE_LIMIT_MAX 65536
#define SY_PATH_MAX 4096 /* NUL included */
struct sy_cookie_stats {
	uint64_t cookie;
	uint32_t n_flows;
	uint32_t pad;
	uint64_t packets;
	uint64_t bytes;
};

/* Packet trace (TRACE), as ovs-appctl ofproto/trace: the data plane runs
 * one frame through its tables as if it had arrived on PORT_ID, with the
 * pipeline's own parser, classifier and action code, but sends nothing,
 * counts nothing (port, flow, table, PMD and drop counters stay as they
 * are) and leaves the flow caches alone.  The reply says:
 *   TRACE_KEY     the frame's flow key as parsed (absent if the parser
 *                 refused the frame: then one TRACE_DROP says why);
 *   TRACE_STEP    one per table visited, in order: TABLE_ID, then FLOW
 *                 (the entry hit: header, match and actions, counters zero)
 *                 or TRACE_MISS (what the table does on a miss); then one
 *                 TRACE_ACTION per action run, each with FLOW_ACTION and a
 *                 TRACE_CHANGE per key field it changed (before, after);
 *   TRACE_OUTPUT  each copy that would be sent: PORT_ID and the frame as
 *                 it would leave (after every rewrite made before it);
 *   TRACE_DROP    each drop the packet would be counted under: a table
 *                 miss, no output, an expired TTL, an output to a port that
 *                 is down, missing or too small (that copy only), ...
 * No TRACE_OUTPUT means the packet would go nowhere.  The frame is 1 to
 * SY_TRACE_FRAME_MAX bytes and at most the in port's MTU plus an Ethernet
 * header and two VLAN tags; a larger one, an empty one or an unknown port
 * is refused with INVAL or NOENT. */
#define SY_TRACE_FRAME_MAX (9600 + 14 + 8)
struct sy_trace_change {
	uint16_t field; /* enum sy_field_id */
	uint16_t pad0;
	uint32_t pad1;
	uint8_t before[16]; /* the field as laid out in the key (host order) */
	uint8_t after[16];
};
static_assert(sizeof(struct sy_trace_change) == 40, "trace change is 40 bytes");

struct sy_dp_stats {
	uint64_t drops[SY_DROP_SLOTS]; /* over all ports */
	uint64_t rx_packets;
	uint64_t tx_packets;
	uint32_t n_ports;
	uint32_t n_flows;
	uint64_t copies; /* packets the data path copied (rte_pktmbuf_copy), since start */
};

/* Groups (GROUP_MOD, GROUP_STATS), as OpenFlow's: the flow action
 * group:N runs the buckets of group N.  all: each bucket on its own copy
 * (by reference count); select: one bucket by a hash of the flow key's
 * 5-tuple (or the fields in sel_fields), in proportion to the weights;
 * indirect: its one bucket; fast_failover: the first bucket whose
 * watch_port is live (admin up and link up).  A bucket's actions are flow
 * actions but goto_table, write_metadata and group.  Group ids are
 * 0..SY_GROUP_ID_MAX.  ADD of an existing id is refused (EXIST), MODIFY of
 * a missing one too (NOENT); DELETE of a group that flows use is refused
 * (INVAL, naming how many): delete or change those flows first. */
#define SY_GROUP_ID_MAX 65535
#define SY_GROUP_BUCKETS_MAX 32
#define SY_GROUP_ACTIONS_MAX 16 /* per bucket */
enum sy_group_type { SY_GT_ALL = 0, SY_GT_SELECT = 1, SY_GT_INDIRECT = 2, SY_GT_FF = 3 };
enum sy_group_cmd { SY_GC_ADD = 1, SY_GC_MODIFY = 2, SY_GC_DELETE = 3 };
/* select: the key fields hashed; 0 means the 5-tuple (IP addresses,
 * protocol, L4 ports) */
#define SY_GSEL_DL_SRC 0x01
#define SY_GSEL_DL_DST 0x02
#define SY_GSEL_NW_SRC 0x04 /* nw_src or ipv6_src */
#define SY_GSEL_NW_DST 0x08 /* nw_dst or ipv6_dst */
#define SY_GSEL_NW_PROTO 0x10
#define SY_GSEL_TP_SRC 0x20
#define SY_GSEL_TP_DST 0x40
#define SY_GSEL_5TUPLE 0x7c
struct sy_group_hdr {
	uint8_t command;     /* enum sy_group_cmd */
	uint8_t type;        /* enum sy_group_type */
	uint16_t pad;
	uint32_t group_id;
	uint32_t sel_fields; /* select: SY_GSEL_*, 0 = SY_GSEL_5TUPLE */
	uint32_t pad1;
};
static_assert(sizeof(struct sy_group_hdr) == 16, "group header is 16 bytes");
#define SY_NO_WATCH 0xffffffffu
struct sy_group_bucket {
	uint16_t weight;     /* select: share of the flows (0: none) */
	uint16_t pad;
	uint32_t watch_port; /* fast_failover: the port whose liveness decides; SY_NO_WATCH */
};
static_assert(sizeof(struct sy_group_bucket) == 8, "group bucket is 8 bytes");
/* A group-mod, decoded. */
struct sy_group_mod {
	struct sy_group_hdr hdr;
	uint16_t n_buckets;
	struct sy_group_mod_bucket {
		struct sy_group_bucket b;
		uint16_t n_actions;
		struct sy_action actions[SY_GROUP_ACTIONS_MAX];
	} bucket[SY_GROUP_BUCKETS_MAX];
};
struct sy_group_stats {
	uint32_t group_id;
	uint8_t type;      /* enum sy_group_type */
	uint8_t n_buckets;
	uint16_t pad;
	uint32_t n_flows;  /* flows whose actions name it */
	uint32_t pad1;
	uint64_t packets;  /* since it was added */
	uint64_t bytes;
	uint64_t dropped;  /* packets that found no live bucket */
	struct sy_group_bucket_stats {
		uint64_t packets; /* since the last ADD or MODIFY */
		uint64_t bytes;
	} bucket[SY_GROUP_BUCKETS_MAX];
};

/* Meters (dpdk-core/src/meters.h): one token bucket and one band each,
 * used by flows with meter:N.  rate is kbit/s (frame bytes) or packets/s;
 * burst is kbit or packets, 0 for the default (100 ms of the rate).  A flow
 * naming a missing meter is refused with NOENT; deleting a meter that flows
 * use is refused with BUSY. */
#define SY_METER_ID_MAX 65535
#define SY_METER_RATE_MAX 100000000ull /* kbit/s (100 Gbit/s) or packets/s */
enum sy_meter_cmd { SY_MC_ADD = 1, SY_MC_MODIFY = 2, SY_MC_DELETE = 3 };
enum sy_meter_unit { SY_METER_KBPS = 0, SY_METER_PPS = 1 };
enum sy_meter_band { SY_BAND_DROP = 0, SY_BAND_DSCP_REMARK = 1 };
struct sy_meter_desc {
	uint32_t id;   /* 1..SY_METER_ID_MAX */
	uint8_t unit;  /* enum sy_meter_unit */
	uint8_t band;  /* enum sy_meter_band */
	uint8_t dscp;  /* DSCP_REMARK: the new DSCP, 0..63 */
	uint8_t pad;
	uint64_t rate;
	uint64_t burst;
};
static_assert(sizeof(struct sy_meter_desc) == 24, "meter desc is 24 bytes");
/* Bands (OpenFlow meter bands): 1..SY_METER_BANDS_MAX, each with its own
 * rate and burst in the meter's unit; a packet is handled by the band of
 * the highest rate it exceeds (none: it passes).  Bands come sorted by rate,
 * rates distinct.  With METER_BANDS, METER_DESC's rate, burst, band and
 * dscp are ignored in a request and describe band 0 (the lowest rate) in
 * a reply. */
#define SY_METER_BANDS_MAX 4
struct sy_meter_band_desc {
	uint8_t type; /* enum sy_meter_band */
	uint8_t dscp; /* DSCP_REMARK: the new DSCP, 0..63 */
	uint8_t pad[6];
	uint64_t rate;
	uint64_t burst; /* 0: default (resolved in replies) */
};
struct sy_meter_bands {
	uint32_t n_bands;
	uint32_t pad;
	struct sy_meter_band_desc band[SY_METER_BANDS_MAX];
};
static_assert(sizeof(struct sy_meter_bands) == 8 + 24 * SY_METER_BANDS_MAX, "meter bands size");
struct sy_meter_band_stats {
	uint32_t id; /* the meter's */
	uint32_t n_bands;
	struct {
		uint64_t packets; /* handled by this band */
		uint64_t bytes;
	} band[SY_METER_BANDS_MAX];
};
struct sy_meter_stats {
	struct sy_meter_desc desc;
	uint64_t duration_ns;  /* since it was added */
	uint64_t pass_packets; /* conformed to the rate */
	uint64_t pass_bytes;
	uint64_t band_packets; /* over the rate: dropped or remarked */
	uint64_t band_bytes;
};

/* Port egress QoS (dpdk-core/src/qos.h): a token bucket on a port's
 * egress, and one per queue (set_queue:N; queue 0 holds the packets
 * without set_queue, and those naming a queue the port does not configure).
 * Rates in kbit/s of frame bytes, 1..SY_METER_RATE_MAX, 0: no limit; burst
 * in kbit, 0 for the default (100 ms of the rate, at least two frames).
 * Over-rate packets are dropped, counted under drop reason `policed` of the
 * output port. */
#define SY_PORT_QOS_QUEUES 8
struct sy_qos_rate {
	uint64_t rate;  /* kbit/s; 0: none */
	uint64_t burst; /* kbit; 0: default (resolved in replies) */
};
struct sy_port_qos {
	uint32_t port_id;
	uint32_t pad;
	struct sy_qos_rate port;                      /* the whole port */
	struct sy_qos_rate queue[SY_PORT_QOS_QUEUES]; /* by set_queue id */
};
static_assert(sizeof(struct sy_port_qos) == 8 + 16 * (1 + SY_PORT_QOS_QUEUES), "port qos size");

extern const char *const sy_drop_names[SY_DROP__MAX];
extern const char *const sy_error_names[SY_E__MAX];

#ifdef __cplusplus
}
#endif

#endif /* SWITCHYARD_PROTO_H */
