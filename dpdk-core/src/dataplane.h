/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dataplane.h — what the control server may ask of the data plane.
 *
 * What?
 *   The slow-path operations behind every control-protocol request: ports,
 *   flows, tables, counters.  The control server (ctl_server.c) decodes a
 *   request, calls exactly one of these, and encodes the answer.  It knows
 *   nothing of lcores, mbufs or the classifier; this API knows nothing of
 *   sockets or the wire format (it speaks the fixed structs of flow.h and
 *   proto.h).
 *
 * Threads
 *   Every function here runs on the main lcore only, the one thread that
 *   changes state.  Forwarding lcores read that state under RCU: a change is
 *   built aside, published with one atomic store, and what it replaced is
 *   freed only after every forwarding lcore has reported quiescence.
 *
 * Errors
 *   Functions return 0, or -1 after filling *err with a code from
 *   enum sy_error_code and a message a person can act on that names the
 *   offending thing ("port 'p9' does not exist", "flow 3: goto_table:0 must
 *   name a table after 1").  On failure nothing has changed.
 */
#ifndef SWITCHYARD_DATAPLANE_H
#define SWITCHYARD_DATAPLANE_H

#include <stdbool.h>
#include <stdint.h>

#include <switchyard/proto.h>

struct sy_error {
	int code; /* enum sy_error_code */
	int index; /* for a batch: which item failed, else -1 */
	char msg[SY_ERRMSG_MAX];
};

/* Fills err and returns -1: `return sy_fail(err, SY_E_NOENT, "port %u ...", id);` */
int sy_fail(struct sy_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Identity of this data plane, for HELLO. */
void dp_info(struct sy_dp_info *info);

/* --- ports --- */

struct dp_port_add_req {
	const char *name;    /* unique, 1..SY_NAME_MAX-1 chars */
	const char *devargs; /* DPDK devargs: "net_tap0,iface=sy0" */
	uint32_t id;         /* 0: the lowest free number from 1 */
	uint16_t mtu;        /* 0: the device's default (1500) */
	int admin_up;        /* 1 (default) or 0 */
	uint16_t n_rxq;      /* 0: 1; more than 1 needs a device with RSS (or
	                      * its own spreading, as af_packet's fanout) */
	const struct dp_bond_req *bond; /* NULL: a plain device */
	const struct sy_port_vlan *vlan;   /* NULL: no VLAN mode (edge.h) */
	const struct sy_port_nsh_tag *nsh; /* NULL: no NSH port tag */
};

/* A bond port (ports.h, "Bond ports"): devargs is then the bonding
 * device's name. */
struct dp_bond_req {
	uint32_t mode;        /* enum sy_bond_mode */
	uint32_t xmit_policy; /* enum sy_bond_xmit_policy */
	const char *primary;  /* a member's device name, or NULL */
	unsigned int n_members;
	const char *member[SY_BOND_MEMBERS_MAX]; /* devargs */
};

/* Probes the device, configures one rx and one tx queue per forwarding
 * lcore as the device allows, starts it and makes it visible to the
 * pipeline.  Fails with EXIST (name or id taken), INVAL (bad name, devargs
 * that DPDK cannot parse, MTU out of range) or DEVICE (probe/config failed);
 * a failed probe leaves no device behind. */
int dp_port_add(const struct dp_port_add_req *req, struct sy_port_desc *out,
		struct sy_error *err);

/* Stops the port, waits until no lcore uses it, closes and detaches the
 * device.  Flows that output to it stay and count NO_PORT drops. */
int dp_port_del(uint32_t port_id, struct sy_error *err);

/* mtu 0, admin < 0 and n_rxq 0 mean "leave as is".  Changing n_rxq
 * reconfigures the device (stop, configure, start: a brief pause on that
 * port only) and re-spreads every port's rx queues over the forwarding
 * lcores. */
int dp_port_mod(uint32_t port_id, uint16_t mtu, int admin, uint16_t n_rxq,
		struct sy_port_desc *out, struct sy_error *err);

/* Sets port_id's egress QoS to *set (all rates 0: none; see qos.h), or
 * only reads it (set NULL); *out: as the port now has it.  NOENT. */
int dp_port_qos(uint32_t port_id, const struct sy_port_qos *set, struct sy_port_qos *out,
		struct sy_error *err);
/* Sets the port's VLAN mode and NSH port tag (edge.h); NULL leaves one as
 * it is, mode NONE / enabled 0 clears it.  Checked whole before anything
 * changes (INVAL naming the field); then published with a new port map. */
int dp_port_set_edge(uint32_t port_id, const struct sy_port_vlan *vlan,
		     const struct sy_port_nsh_tag *nsh, struct sy_port_desc *out,
		     struct sy_error *err);

/* Checks what dp_port_set_edge() would set, changing nothing. */
int dp_port_check_edge(uint32_t port_id, const struct sy_port_vlan *vlan,
		       const struct sy_port_nsh_tag *nsh, struct sy_error *err);

/* The port's edge settings, as set: a bit each of 1 (vlan filled, mode
 * not NONE) and 2 (nsh filled, enabled); 0 for none or no such port. */
unsigned int dp_port_edge(uint32_t port_id, struct sy_port_vlan *vlan,
			  struct sy_port_nsh_tag *nsh);

typedef void (*dp_port_desc_cb)(const struct sy_port_desc *desc, void *arg);
typedef void (*dp_port_stats_cb)(const struct sy_port_stats *st, void *arg);

/* Every port, in id order. */
void dp_port_list(dp_port_desc_cb cb, void *arg);

/* The bond state of port id (members, their link, which carry traffic);
 * false if it is not a bond port. */
bool dp_port_bond(uint32_t port_id, struct sy_port_bond *out);

/* One port's counters (summed over lcores plus the device's error counters),
 * or every port's when port_id is 0. */
int dp_port_stats(uint32_t port_id, dp_port_stats_cb cb, void *arg,
		  struct sy_error *err);
int dp_port_stats_clear(uint32_t port_id, struct sy_error *err);

/* --- flows and tables --- */

/* Applies a batch all or nothing: every mod is validated and every change is
 * built aside first; only if all succeed is the batch published (one RCU
 * swap per touched table).  *n_changed counts entries added, modified or
 * deleted.  err->index names the mod that failed. */
int dp_flow_mod(const struct sy_flow_mod *mods, unsigned int n_mods,
		uint32_t *n_changed, struct sy_error *err);

typedef void (*dp_flow_cb)(const struct sy_flow_mod *entry,
			   const struct sy_flow_stats *stats, void *arg);

/* Entries that the filter covers (non-strict match semantics; table_id
 * SY_TABLE_ALL for all tables; cookie/cookie_mask and out_port as in
 * OpenFlow), table by table, highest priority first.  A NULL filter dumps
 * everything. */
int dp_flow_dump(const struct sy_flow_mod *filter, dp_flow_cb cb, void *arg,
		 struct sy_error *err);

typedef void (*dp_table_cb)(const struct sy_table_desc *desc, void *arg);

/* Tables that hold flows or have non-default settings, in id order. */
void dp_table_list(dp_table_cb cb, void *arg);

/* Sets a table's name, miss behaviour and flow limit. */
int dp_table_mod(const struct sy_table_desc *desc, struct sy_table_desc *out,
		 struct sy_error *err);

/* --- counters and synchronisation --- */

void dp_stats(struct sy_dp_stats *out);

typedef void (*dp_pmd_stats_cb)(const struct sy_pmd_stats *st, void *arg);

/* Every forwarding lcore's counters and rx queues, by slot. */
void dp_pmd_stats(dp_pmd_stats_cb cb, void *arg);
void dp_pmd_stats_clear(void);

typedef void (*dp_cookie_stats_cb)(const struct sy_cookie_stats *st, void *arg);

/* Every flow of every table summed by cookie, in one walk; the `limit`
 * busiest cookies (1..SY_COOKIE_LIMIT_MAX; by packets, then bytes), most
 * first.  INVAL for a limit out of range, NOSPC out of memory. */
int dp_flow_cookie_stats(uint32_t limit, dp_cookie_stats_cb cb, void *arg,
			 struct sy_error *err);

/* Returns once every forwarding lcore has passed a quiescent state after
 * the call: everything published before is live in the data path. */
void dp_barrier(void);

/* --- events, and periodic work on the main lcore --- */

/* Called by the data plane on the main lcore when something happens that
 * clients should hear of; implemented by the control server (broadcast). */
void ctl_event_port_status(const struct sy_port_desc *desc, int reason);
void ctl_event_flow_removed(const struct sy_flow_mod *entry,
			    const struct sy_flow_stats *stats, int reason);
/* A packet-in (packet_in.h): hdr (NULL for a table miss) gives the cookie
 * and table of the entry that sent it; pkt holds the first len bytes of a
 * frame of total_len; reason is an enum sy_packet_in_reason. */
void ctl_event_packet_in(uint32_t port_id, uint32_t table_id, const struct sy_flow_hdr *hdr,
			 const void *pkt, uint32_t len, uint32_t reason, uint32_t total_len);

/* Called by the control server's loop at least every 100 ms: link-state
 * polling, flow timeouts, deferred frees. */
void dp_periodic(void);

#endif /* SWITCHYARD_DATAPLANE_H */
