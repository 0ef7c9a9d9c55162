/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_server.c — the control protocol's server, on the main lcore.
 *
 * One epoll loop serves the listening socket and every client.  Each client
 * has:
 *   - an input buffer that grows, as bytes arrive, up to the length of the
 *     message being received (never more than SY_MSG_MAX), and shrinks back
 *     once it is drained;
 *   - an output queue of whole encoded messages, written with sendmsg() as
 *     far as the socket takes them, the rest on EPOLLOUT.
 *
 * Replies in parts (FLOW_DUMP)
 *   A flow dump is encoded part by part (codec.h, "Replies in parts"): a
 *   part that passes SY_REPLY_PART_MAX (4 MB) is queued with SY_MSGF_MORE
 *   and the next one begun.  dp_flow_dump() walks the tables in one go, so
 *   to keep a dump of millions of flows from piling up in memory, once
 *   more than CTL_DUMP_WINDOW bytes wait for that client the main lcore
 *   blocks in conn_drain() until the client has read half of them.  Memory
 *   stays at about CTL_DUMP_WINDOW plus the table's entry pointers (8 bytes
 *   a flow) whatever the dump's size; the forwarding lcores go on (they
 *   never wait for the main lcore), other clients and dp_periodic() wait
 *   for the dump, as for any long request.  A client that reads nothing
 *   for CTL_DRAIN_STALL_NS is dropped and the rest of its dump skipped.
 *
 * Limits, so that no client can hurt the others or the data plane:
 *   - per round, a client gets at most CTL_READ_BUDGET bytes read and
 *     CTL_MSG_BUDGET requests served; dp_periodic() runs between requests
 *     whenever 100 ms have passed;
 *   - a client with more than CTL_OUT_PAUSE bytes unsent is not read from
 *     until it catches up (it cannot make us build replies it does not
 *     read); one with more than CTL_OUT_MAX unsent (events pile up too) is
 *     dropped;
 *   - a stream that cannot be resynchronised (bad version, length under 16
 *     or over SY_MSG_MAX) gets an ERROR when its xid is readable and is
 *     closed; every other malformed message gets an ERROR and the
 *     connection goes on.
 *
 * Conversation rules enforced here: HELLO first (anything else before it is
 * refused with PROTO), xid != 0, no REPLY/EVENT flags on requests, exactly
 * one answer per request.  Events go only to clients that said HELLO.
 *
 * Clients are freed only at the end of a loop round (a dp_* call can emit
 * an event that drops a client whose request is being served).
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <switchyard/codec.h>

#include "ctl_server.h"
#include "dataplane.h"
#include "groups.h"
#include "meters.h"
#include "mirrors.h"
#include "packet_in.h"
#include "packet_out.h"
#include "trace.h"
#include "stats_segment.h"

#define CTL_PERIOD_NS 100000000ull      /* dp_periodic() at least this often */
#define CTL_IN_INITIAL (64u << 10)      /* input buffer to start with */
#define CTL_IN_KEEP (1u << 20)          /* larger, idle input buffers are freed */
#define CTL_READ_BUDGET (8u << 20)      /* bytes read from one client per round */
#define CTL_MSG_BUDGET 64               /* requests served per client per round */
#define CTL_OUT_PAUSE (64ull << 20)     /* unsent bytes: stop reading the client */
#define CTL_OUT_MAX (512ull << 20)      /* unsent bytes: drop the client */
#define CTL_MAX_CLIENTS 64
#define CTL_CLOSE_GRACE_NS 5000000000ull /* flush before closing, at most */
#define CTL_IOV_MAX 32
#define CTL_DUMP_WINDOW (4ull * SY_REPLY_PART_MAX) /* unsent bytes a dump may leave */
#define CTL_DRAIN_STALL_NS 10000000000ull /* a dump's client reads nothing: drop it */

struct out_chunk {
	struct out_chunk *next;
	uint8_t *data;
	size_t len, off;
};

struct ctl_conn {
	struct ctl_conn *next;
	int fd;
	unsigned int id;      /* for the log */
	uint32_t events;      /* registered with epoll */
	bool hello;           /* said HELLO with our version */
	bool closing;         /* no more requests; close once the output is out */
	bool dead;            /* to be freed at the end of the round */
	uint64_t close_by;    /* closing: give up flushing at this time */
	uint8_t *in;
	size_t in_off, in_len, in_cap;
	struct out_chunk *out_head, *out_tail;
	size_t out_bytes;
};

static struct {
	int lfd, epfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	struct ctl_conn *conns;
	unsigned int n_conns, next_id;
	uint64_t next_periodic;
	volatile bool *quit; /* ctl_server_run()'s */
	bool up;
} ctl = { .lfd = -1, .epfd = -1 };

__attribute__((format(printf, 1, 2))) static void
ctl_log(const char *fmt, ...)
{
	va_list ap;

	fputs("switchyard-dp: control: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Runs dp_periodic() if its time has come. */
static void
maybe_periodic(void)
{
	uint64_t t = now_ns();

	if (t >= ctl.next_periodic) {
		dp_periodic();
		sseg_periodic();
		ctl.next_periodic = now_ns() + CTL_PERIOD_NS;
	}
}

/* ------------------------------------------------------------------ */
/* Connections: output */

static void
conn_kill(struct ctl_conn *c, const char *why)
{
	if (c->dead)
		return;
	if (why != NULL)
		ctl_log("client %u dropped: %s", c->id, why);
	c->dead = true;
	epoll_ctl(ctl.epfd, EPOLL_CTL_DEL, c->fd, NULL);
}

static void
conn_update_events(struct ctl_conn *c)
{
	struct epoll_event ev = { .data.ptr = c };
	uint32_t want = 0;

	if (c->dead)
		return;
	if (!c->closing && c->out_bytes < CTL_OUT_PAUSE)
		want |= EPOLLIN;
	if (c->out_head != NULL)
		want |= EPOLLOUT;
	if (want == c->events)
		return;
	ev.events = want;
	if (epoll_ctl(ctl.epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		conn_kill(c, "epoll_ctl failed");
		return;
	}
	c->events = want;
}

/* Writes as much of the output queue as the socket takes. */
static void
conn_flush(struct ctl_conn *c)
{
	while (c->out_head != NULL && !c->dead) {
		struct iovec iov[CTL_IOV_MAX];
		struct msghdr mh = { .msg_iov = iov };
		struct out_chunk *ch = c->out_head;
		ssize_t n;

		for (; ch != NULL && mh.msg_iovlen < CTL_IOV_MAX; ch = ch->next) {
			iov[mh.msg_iovlen].iov_base = ch->data + ch->off;
			iov[mh.msg_iovlen].iov_len = ch->len - ch->off;
			mh.msg_iovlen++;
		}
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_kill(c, NULL); /* the peer went away */
			return;
		}
		c->out_bytes -= (size_t)n;
		while (n > 0) {
			size_t left;

			ch = c->out_head;
			left = ch->len - ch->off;

			if ((size_t)n < left) {
				ch->off += (size_t)n;
				break;
			}
			n -= (ssize_t)left;
			c->out_head = ch->next;
			free(ch->data);
			free(ch);
		}
	}
	if (c->out_head == NULL) {
		c->out_tail = NULL;
		if (c->closing)
			conn_kill(c, NULL);
	}
	conn_update_events(c);
}

/* Queues a whole message (takes ownership of data) and tries to send it. */
static void
conn_send(struct ctl_conn *c, uint8_t *data, size_t len)
{
	struct out_chunk *ch;

	if (c->dead) {
		free(data);
		return;
	}
	if (c->out_bytes + len > CTL_OUT_MAX) {
		free(data);
		conn_kill(c, "too much unread output (not reading its replies or events?)");
		return;
	}
	ch = malloc(sizeof(*ch));
	if (ch == NULL) {
		free(data);
		conn_kill(c, "out of memory");
		return;
	}
	ch->next = NULL;
	ch->data = data;
	ch->len = len;
	ch->off = 0;
	if (c->out_tail != NULL)
		c->out_tail->next = ch;
	else
		c->out_head = ch;
	c->out_tail = ch;
	c->out_bytes += len;
	conn_flush(c);
}

/* Blocks until at most target bytes of c's output are unsent, or c is
 * dropped (it read nothing for CTL_DRAIN_STALL_NS, or the switch stops). */
static void
conn_drain(struct ctl_conn *c, size_t target)
{
	uint64_t progress = now_ns();

	while (!c->dead && c->out_bytes > target) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
		size_t before = c->out_bytes;

		if (poll(&pfd, 1, 100) < 0 && errno != EINTR) {
			conn_kill(c, "poll failed while it read a flow dump");
			return;
		}
		conn_flush(c);
		if (c->out_bytes < before) {
			progress = now_ns();
		} else if (now_ns() - progress > CTL_DRAIN_STALL_NS) {
			conn_kill(c, "it stopped reading a flow dump");
			return;
		} else if (ctl.quit && *ctl.quit) {
			conn_kill(c, "the switch is stopping during its flow dump");
			return;
		}
	}
}

/* Sends an ERROR: reply_error(c, xid, SY_E_INVAL, -1, "port %u ...", id). */
__attribute__((format(printf, 5, 6))) static void
reply_error(struct ctl_conn *c, uint32_t xid, int code, int index, const char *fmt, ...)
{
	struct sy_msgbuf b = { 0 };
	char text[SY_ERRMSG_MAX];
	uint8_t *data;
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (code <= SY_E_OK || code >= SY_E__MAX)
		code = SY_E_INTERNAL;
	sy_msg_error(&b, xid, code, index, text);
	if (b.error) {
		sy_msg_free(&b);
		conn_kill(c, "out of memory");
		return;
	}
	data = sy_msg_steal(&b, &len);
	conn_send(c, data, len);
}

/* Finishes and sends a reply built in b, or an ERROR saying why it could
 * not be built. */
static void
reply_send(struct ctl_conn *c, struct sy_msgbuf *b, uint32_t xid, uint16_t type)
{
	uint8_t *data;
	size_t len;

	/* A client that reads the stats segment after this reply sees the
	 * change (a clear, a new port) in it. */
	if (sseg_changed_by(type))
		sseg_publish();
	if (sy_msg_finish(b) < 0) {
		int e = b->error;

		sy_msg_free(b);
		if (e == EMSGSIZE)
			reply_error(c, xid, SY_E_NOSPC, -1,
				    "the reply to %s exceeds the %u MB message limit; ask for less (one table, a cookie)",
				    sy_msg_type_name(type), SY_MSG_MAX >> 20);
		else if (e == ENOMEM)
			reply_error(c, xid, SY_E_NOSPC, -1, "out of memory building the reply to %s",
				    sy_msg_type_name(type));
		else
			reply_error(c, xid, SY_E_INTERNAL, -1, "could not encode the reply to %s",
				    sy_msg_type_name(type));
		return;
	}
	data = sy_msg_steal(b, &len);
	conn_send(c, data, len);
}

static void
reply_dp_error(struct ctl_conn *c, uint32_t xid, const struct sy_error *e)
{
	reply_error(c, xid, e->code, e->index, "%s", e->msg[0] ? e->msg : "failed");
}

/* ------------------------------------------------------------------ */
/* Requests */

struct req {
	struct ctl_conn *c;
	const struct sy_msg *m;
	uint32_t xid;
	uint16_t type;
	struct sy_msgbuf b; /* the reply, begun */
	char err[SY_ERRMSG_MAX];
};

/* An optional u32 attribute: 0 if absent, 1 if present, -1 (ERROR sent). */
static int
opt_u32(struct req *r, uint16_t t, uint32_t *v)
{
	const struct sy_attr *a = sy_msg_find(r->m, t);

	if (a == NULL)
		return 0;
	if (sy_attr_get_u32(a, v, r->err, sizeof(r->err)) < 0) {
		reply_error(r->c, r->xid, SY_E_PROTO, -1, "%s", r->err);
		return -1;
	}
	return 1;
}

static int
req_u32(struct req *r, uint16_t t, uint32_t *v)
{
	int rc = opt_u32(r, t, v);

	if (rc == 0)
		reply_error(r->c, r->xid, SY_E_INVAL, -1, "%s: missing attribute %s",
			    sy_msg_type_name(r->type), sy_attr_name(t));
	return rc == 1 ? 0 : -1;
}

static const char *
req_str(struct req *r, uint16_t t)
{
	const struct sy_attr *a = sy_msg_find(r->m, t);
	const char *s;

	if (a == NULL) {
		reply_error(r->c, r->xid, SY_E_INVAL, -1, "%s: missing attribute %s",
			    sy_msg_type_name(r->type), sy_attr_name(t));
		return NULL;
	}
	s = sy_attr_get_str(a, r->err, sizeof(r->err));
	if (s == NULL)
		reply_error(r->c, r->xid, SY_E_PROTO, -1, "%s", r->err);
	return s;
}

/* An optional PORT_RXQ: 0 if absent (*n = 0), 1 if valid, -1 (ERROR sent). */
static int
opt_rxq(struct req *r, const char *port, uint16_t *n)
{
	uint32_t v;
	int rc = opt_u32(r, SY_A_PORT_RXQ, &v);

	*n = 0;
	if (rc <= 0)
		return rc;
	if (v == 0 || v > SY_PORT_RXQ_MAX) {
		reply_error(r->c, r->xid, SY_E_INVAL, -1,
			    "port %s: PORT_RXQ is %u, expected 1..%d rx queues", port, v,
			    SY_PORT_RXQ_MAX);
		return -1;
	}
	*n = (uint16_t)v;
	return 1;
}

static void
do_hello(struct req *r)
{
	struct sy_dp_info info;
	uint32_t v;

	if (req_u32(r, SY_A_VERSION, &v) < 0)
		return;
	if (v != SY_PROTO_VERSION) {
		reply_error(r->c, r->xid, SY_E_VERSION, -1,
			    "the client speaks protocol version %u, this data plane speaks %u", v,
			    SY_PROTO_VERSION);
		r->c->closing = true;
		r->c->close_by = now_ns() + CTL_CLOSE_GRACE_NS;
		return;
	}
	r->c->hello = true;
	memset(&info, 0, sizeof(info));
	dp_info(&info);
	sy_msg_put_u32(&r->b, SY_A_VERSION, SY_PROTO_VERSION);
	sy_put_dp_info(&r->b, &info);
	if (sseg_path() != NULL)
		sy_msg_put_str(&r->b, SY_A_STATS_SEGMENT, sseg_path());
	reply_send(r->c, &r->b, r->xid, r->type);
}

/* PORT_DESC, and PORT_BOND after it for a bond port. */
static void
put_port_desc_cb(const struct sy_port_desc *desc, void *arg)
{
	struct sy_port_bond bond;

	struct sy_port_vlan vlan;
	struct sy_port_nsh_tag nsh;
	unsigned int edge;

	sy_put_port_desc(arg, desc);
	if (dp_port_bond(desc->id, &bond))
		sy_put_port_bond(arg, &bond);
	edge = dp_port_edge(desc->id, &vlan, &nsh);
	if (edge & 1)
		sy_put_port_vlan(arg, &vlan);
	if (edge & 2)
		sy_put_port_nsh_tag(arg, &nsh);
}

/* The optional PORT_VLAN and PORT_NSH_TAG of a PORT_ADD or PORT_MOD: each
 * pointer set when its attribute is there (else NULL).  0, or -1 (ERROR
 * sent).  The data plane checks the values (edge_build). */
static int
opt_edge(struct req *r, struct sy_port_vlan *vlan, struct sy_port_nsh_tag *nsh,
	 const struct sy_port_vlan **vp, const struct sy_port_nsh_tag **np)
{
	const struct sy_attr *a;

	*vp = NULL;
	*np = NULL;
	if ((a = sy_msg_find(r->m, SY_A_PORT_VLAN)) != NULL) {
		if (sy_get_port_vlan(a, vlan, r->err, sizeof(r->err)) < 0) {
			reply_error(r->c, r->xid, SY_E_PROTO, -1, "%s", r->err);
			return -1;
		}
		*vp = vlan;
	}
	if ((a = sy_msg_find(r->m, SY_A_PORT_NSH_TAG)) != NULL) {
		if (sy_get_port_nsh_tag(a, nsh, r->err, sizeof(r->err)) < 0) {
			reply_error(r->c, r->xid, SY_E_PROTO, -1, "%s", r->err);
			return -1;
		}
		*np = nsh;
	}
	return 0;
}

/* The bond attributes of a PORT_ADD: 0 if there is no BOND_MODE, 1 if
 * *bond is filled (the strings point into the request), -1 (ERROR sent).
 * The data plane checks the values; this only gathers them. */
static int
opt_bond(struct req *r, const char *port, struct dp_bond_req *bond)
{
	const struct sy_attr *a;
	struct sy_attr_iter it;
	int rc;

	memset(bond, 0, sizeof(*bond));
	if ((rc = opt_u32(r, SY_A_BOND_MODE, &bond->mode)) < 0)
		return rc;
	if (rc == 0) {
		if (sy_msg_find(r->m, SY_A_BOND_MEMBER) || sy_msg_find(r->m, SY_A_BOND_PRIMARY) ||
		    sy_msg_find(r->m, SY_A_BOND_XMIT_POLICY)) {
			reply_error(r->c, r->xid, SY_E_INVAL, -1,
				    "port %s: bond attributes without BOND_MODE", port);
			return -1;
		}
		return 0;
	}
	if (opt_u32(r, SY_A_BOND_XMIT_POLICY, &bond->xmit_policy) < 0)
		return -1;
	if ((a = sy_msg_find(r->m, SY_A_BOND_PRIMARY)) != NULL &&
	    (bond->primary = sy_attr_get_str(a, r->err, sizeof(r->err))) == NULL) {
		reply_error(r->c, r->xid, SY_E_PROTO, -1, "%s", r->err);
		return -1;
	}
	sy_attr_iter_msg(&it, r->m);
	while (sy_attr_next(&it, &a) > 0) {
		const char *s;

		if (a->type != SY_A_BOND_MEMBER)
			continue;
		if (bond->n_members == SY_BOND_MEMBERS_MAX) {
			reply_error(r->c, r->xid, SY_E_INVAL, -1,
				    "port %s: more than %d bond members", port,
				    SY_BOND_MEMBERS_MAX);
			return -1;
		}
		if ((s = sy_attr_get_str(a, r->err, sizeof(r->err))) == NULL) {
			reply_error(r->c, r->xid, SY_E_PROTO, -1, "%s", r->err);
			return -1;
		}
		bond->member[bond->n_members++] = s;
	}
	return 1;
}

static void
do_port_add(struct req *r)
{
	struct dp_port_add_req pa = { .admin_up = 1 };
	struct dp_bond_req bond;
	struct sy_port_vlan vlan;
	struct sy_port_nsh_tag nsh;
	struct sy_error e = { .index = -1 };
	struct sy_port_desc desc;
	uint32_t v;
	int rc;

	if ((pa.name = req_str(r, SY_A_PORT_NAME)) == NULL ||
	    (pa.devargs = req_str(r, SY_A_PORT_DEVARGS)) == NULL)
		return;
	if (opt_u32(r, SY_A_PORT_ID, &pa.id) < 0)
		return;
	if ((rc = opt_u32(r, SY_A_PORT_MTU, &v)) < 0)
		return;
	if (rc == 1) {
		if (v == 0 || v > UINT16_MAX) {
			reply_error(r->c, r->xid, SY_E_INVAL, -1, "port %s: MTU %u is out of range",
				    pa.name, v);
			return;
		}
		pa.mtu = (uint16_t)v;
	}
	if ((rc = opt_u32(r, SY_A_PORT_ADMIN, &v)) < 0)
		return;
	if (rc == 1) {
		if (v > 1) {
			reply_error(r->c, r->xid, SY_E_INVAL, -1,
				    "port %s: PORT_ADMIN is %u, expected 0 (down) or 1 (up)",
				    pa.name, v);
			return;
		}
		pa.admin_up = (int)v;
	}
	if (opt_rxq(r, pa.name, &pa.n_rxq) < 0)
		return;
	if ((rc = opt_bond(r, pa.name, &bond)) < 0)
		return;
	if (rc == 1)
		pa.bond = &bond;
	if (opt_edge(r, &vlan, &nsh, &pa.vlan, &pa.nsh) < 0)
		return;
	memset(&desc, 0, sizeof(desc));
	if (dp_port_add(&pa, &desc, &e) < 0) {
		reply_dp_error(r->c, r->xid, &e);
		return;
	}
	put_port_desc_cb(&desc, &r->b);
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
do_port_del(struct req *r)
{
	struct sy_error e = { .index = -1 };
	uint32_t id;

	if (req_u32(r, SY_A_PORT_ID, &id) < 0)
		return;
	if (dp_port_del(id, &e) < 0) {
		reply_dp_error(r->c, r->xid, &e);
		return;
	}
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
do_port_mod(struct req *r)
{
	struct sy_error e = { .index = -1 };
	struct sy_port_desc desc;
	uint32_t id, v, mtu = 0;
	uint16_t n_rxq;
	int admin = -1, rc;
	char name[16];
	struct sy_port_vlan vlan;
	struct sy_port_nsh_tag nsh;
	const struct sy_port_vlan *vp;
	const struct sy_port_nsh_tag *np;

	if (req_u32(r, SY_A_PORT_ID, &id) < 0)
		return;
	if ((rc = opt_u32(r, SY_A_PORT_MTU, &v)) < 0)
		return;
	if (rc == 1) {
		if (v == 0 || v > UINT16_MAX) {
			reply_error(r->c, r->xid, SY_E_INVAL, -1, "port %u: MTU %u is out of range",
				    id, v);
			return;
		}
		mtu = v;
	}
	if ((rc = opt_u32(r, SY_A_PORT_ADMIN, &v)) < 0)
		return;
	if (rc == 1) {
		if (v > 1) {
			reply_error(r->c, r->xid, SY_E_INVAL, -1,
				    "port %u: PORT_ADMIN is %u, expected 0 (down) or 1 (up)", id, v);
			return;
		}
		admin = (int)v;
	}
	snprintf(name, sizeof(name), "%u", id);
	if (opt_rxq(r, name, &n_rxq) < 0)
		return;
	if (opt_edge(r, &vlan, &nsh, &vp, &np) < 0)
		return;
	memset(&desc, 0, sizeof(desc));
	/* the edge settings are checked before anything changes */
	if ((vp || np) && dp_port_check_edge(id, vp, np, &e) < 0) {
		reply_dp_error(r->c, r->xid, &e);
		return;
	}
	if (dp_port_mod(id, (uint16_t)mtu, admin, n_rxq, &desc, &e) < 0 ||
	    ((vp || np) && dp_port_set_edge(id, vp, np, &desc, &e) < 0)) {
		reply_dp_error(r->c, r->xid, &e);
		return;
	}
	put_port_desc_cb(&desc, &r->b);
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
put_port_stats_cb(const struct sy_port_stats *st, void *arg)
{
	sy_put_port_stats(arg, st);
}

/* A FLOW_DUMP answered in parts (see the top of this file). */
struct dump {
	struct req *r;
	bool stop; /* the client is gone, or a part could not be built */
};

/* Sends the part in r->b with SY_MSGF_MORE and begins the next; waits
 * while the client has more than CTL_DUMP_WINDOW bytes to read. */
static void
dump_next_part(struct dump *d)
{
	struct req *r = d->r;
	uint8_t *data;
	size_t len;

	sy_msg_set_more(&r->b, true);
	if (sy_msg_finish(&r->b) < 0) {
		d->stop = true; /* the error stays in r->b for do_flow_dump */
		return;
	}
	data = sy_msg_steal(&r->b, &len);
	conn_send(r->c, data, len);
	if (!r->c->dead && r->c->out_bytes > CTL_DUMP_WINDOW)
		conn_drain(r->c, CTL_DUMP_WINDOW / 2);
	if (r->c->dead) {
		d->stop = true;
		return;
	}
	sy_msg_begin(&r->b, r->type, SY_MSGF_REPLY, r->xid);
}

static void
put_flow_cb(const struct sy_flow_mod *entry, const struct sy_flow_stats *stats, void *arg)
{
	struct dump *d = arg;

	if (d->stop)
		return;
	if (sy_msg_part_full(&d->r->b)) {
		dump_next_part(d);
		if (d->stop)
			return;
	}
	sy_put_flow(&d->r->b, entry, stats);
}

static void
put_pmd_stats_cb(const struct sy_pmd_stats *st, void *arg)
{
	sy_put_pmd_stats(arg, st);
}

static void
put_table_desc_cb(const struct sy_table_desc *desc, void *arg)
{
	sy_put_table_desc(arg, desc);
}

static void
do_port_list(struct req *r)
{
	dp_port_list(put_port_desc_cb, &r->b);
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
do_port_stats(struct req *r)
{
	struct sy_error e = { .index = -1 };
	uint32_t id = 0;

	if (opt_u32(r, SY_A_PORT_ID, &id) < 0)
		return;
	if (dp_port_stats(id, put_port_stats_cb, &r->b, &e) < 0) {
		reply_dp_error(r->c, r->xid, &e);
		return;
	}
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
do_group_mod(struct req *r)
{
	struct sy_error e = { .index = -1 };
	struct sy_group_mod *gm = malloc(sizeof(*gm));

	if (gm == NULL) {
		reply_error(r->c, r->xid, SY_E_NOSPC, -1, "GROUP_MOD: out of memory");
		return;
	}
	if (sy_get_group_mod(r->m, gm, r->err, sizeof(r->err)) < 0)
		reply_error(r->c, r->xid, SY_E_INVAL, -1, "GROUP_MOD: %s", r->err);
	else if (dp_group_mod(gm, &e) < 0)
		reply_dp_error(r->c, r->xid, &e);
	else
		reply_send(r->c, &r->b, r->xid, r->type);
	free(gm);
}

static void
put_group_stats_cb(const struct sy_group_stats *st, void *arg)
{
	sy_put_group_stats(arg, st);
}

static void
do_group_stats(struct req *r)
{
	struct sy_error e = { .index = -1 };
	uint32_t id = SY_NO_WATCH; /* every group */

	if (opt_u32(r, SY_A_GROUP_ID, &id) < 0)
		return;
	if (dp_group_stats(id, put_group_stats_cb, &r->b, &e) < 0) {
		reply_dp_error(r->c, r->xid, &e);
		return;
	}
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
do_port_stats_clear(struct req *r)
{
	struct sy_error e = { .index = -1 };
	uint32_t id = 0;

	if (opt_u32(r, SY_A_PORT_ID, &id) < 0)
		return;
	if (dp_port_stats_clear(id, &e) < 0) {
		reply_dp_error(r->c, r->xid, &e);
		return;
	}
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
do_flow_mod(struct req *r)
{
	struct sy_error e = { .index = -1 };
	unsigned int n = sy_msg_count(r->m, SY_A_FLOW), i = 0;
	struct sy_flow_mod *mods;
	struct sy_attr_iter it;
	const struct sy_attr *a;
	uint32_t changed = 0;

	if (n == 0) {
		reply_error(r->c, r->xid, SY_E_INVAL, -1, "FLOW_MOD: missing attribute FLOW");
		return;
	}
	if (n > SY_FLOW_BATCH_MAX) {
		reply_error(r->c, r->xid, SY_E_INVAL, -1,
			    "FLOW_MOD: %u flows in one batch, at most %u", n,
			    SY_FLOW_BATCH_MAX);
		return;
	}
	mods = calloc(n, sizeof(*mods));
	if (mods == NULL) {
		reply_error(r->c, r->xid, SY_E_NOSPC, -1,
			    "FLOW_MOD: out of memory for %u flows", n);
		return;
	}
	sy_attr_iter_msg(&it, r->m);
	while (sy_attr_next(&it, &a) > 0) {
		if (a->type != SY_A_FLOW)
			continue;
		if (sy_get_flow(a, &mods[i], NULL, NULL, r->err, sizeof(r->err)) < 0) {
			reply_error(r->c, r->xid, SY_E_INVAL, (int)i, "flow %u: %s", i, r->err);
			free(mods);
			return;
		}
		i++;
	}
	if (dp_flow_mod(mods, n, &changed, &e) < 0) {
		free(mods);
		reply_dp_error(r->c, r->xid, &e);
		return;
	}
	free(mods);
	sy_msg_put_u32(&r->b, SY_A_FLOW_COUNT, changed);
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
do_flow_dump(struct req *r)
{
	struct sy_error e = { .index = -1 };
	const struct sy_attr *a = sy_msg_find(r->m, SY_A_FLOW);
	struct sy_flow_mod *filter = NULL;
	struct dump d = { .r = r };

	if (a != NULL) {
		filter = malloc(sizeof(*filter));
		if (filter == NULL) {
			reply_error(r->c, r->xid, SY_E_NOSPC, -1, "FLOW_DUMP: out of memory");
			return;
		}
		if (sy_get_flow(a, filter, NULL, NULL, r->err, sizeof(r->err)) < 0) {
			reply_error(r->c, r->xid, SY_E_INVAL, -1, "FLOW_DUMP filter: %s", r->err);
			free(filter);
			return;
		}
	}
	if (dp_flow_dump(filter, put_flow_cb, &d, &e) < 0) {
		free(filter);
		sy_msg_free(&r->b); /* an ERROR ends a reply, even one in parts */
		reply_dp_error(r->c, r->xid, &e);
		return;
	}
	free(filter);
	if (r->c->dead) {
		sy_msg_free(&r->b);
		return;
	}
	reply_send(r->c, &r->b, r->xid, r->type); /* the last part (or an ERROR) */
}

static void
do_table_list(struct req *r)
{
	dp_table_list(put_table_desc_cb, &r->b);
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
do_table_mod(struct req *r)
{
	struct sy_error e = { .index = -1 };
	struct sy_table_desc in, out;
	const struct sy_attr *a;

	a = sy_msg_find(r->m, SY_A_TABLE_DESC);
	if (a == NULL) {
		reply_error(r->c, r->xid, SY_E_INVAL, -1, "TABLE_MOD: missing attribute TABLE_DESC");
		return;
	}
	if (sy_get_table_desc(a, &in, r->err, sizeof(r->err)) < 0) {
		reply_error(r->c, r->xid, SY_E_PROTO, -1, "%s", r->err);
		return;
	}
	memset(&out, 0, sizeof(out));
	if (dp_table_mod(&in, &out, &e) < 0) {
		reply_dp_error(r->c, r->xid, &e);
		return;
	}
	sy_put_table_desc(&r->b, &out);
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
do_dp_stats(struct req *r)
{
	struct sy_dp_stats st;

	memset(&st, 0, sizeof(st));
	dp_stats(&st);
	sy_put_dp_stats(&r->b, &st);
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
do_pmd_stats(struct req *r)
{
	dp_pmd_stats(put_pmd_stats_cb, &r->b);
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
put_cookie_stats_cb(const struct sy_cookie_stats *st, void *arg)
{
	sy_put_cookie_stats(arg, st);
}

static void
do_flow_cookie_stats(struct req *r)
{
	struct sy_error e = { .index = -1 };
	uint32_t limit = SY_COOKIE_LIMIT_DEFAULT;

	if (opt_u32(r, SY_A_COOKIE_LIMIT, &limit) < 0)
		return;
	if (dp_flow_cookie_stats(limit, put_cookie_stats_cb, &r->b, &e) < 0) {
		reply_dp_error(r->c, r->xid, &e);
		return;
	}
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
do_pmd_stats_clear(struct req *r)
{
	dp_pmd_stats_clear();
	reply_send(r->c, &r->b, r->xid, r->type);
}

/* METER_MOD: meters.c does the work. */
static void
do_meter_mod(struct req *r)
{
	struct sy_error e = { .index = -1 };
	const struct sy_attr *a = sy_msg_find(r->m, SY_A_METER_DESC);
	const struct sy_attr *ab = sy_msg_find(r->m, SY_A_METER_BANDS);
	struct sy_meter_desc in, out;
	struct sy_meter_bands bands, out_bands;
	uint32_t cmd;

	if (req_u32(r, SY_A_METER_CMD, &cmd) < 0)
		return;
	if (a == NULL) {
		reply_error(r->c, r->xid, SY_E_INVAL, -1, "METER_MOD: missing attribute METER_DESC");
		return;
	}
	if (sy_get_meter_desc(a, &in, r->err, sizeof(r->err)) < 0) {
		reply_error(r->c, r->xid, SY_E_PROTO, -1, "%s", r->err);
		return;
	}
	if (ab != NULL && sy_get_meter_bands(ab, &bands, r->err, sizeof(r->err)) < 0) {
		reply_error(r->c, r->xid, SY_E_PROTO, -1, "%s", r->err);
		return;
	}
	if (meter_mod_bands(cmd, &in, ab != NULL ? &bands : NULL, &out, &out_bands, &e) < 0) {
		reply_dp_error(r->c, r->xid, &e);
		return;
	}
	if (cmd != SY_MC_DELETE) {
		sy_put_meter_desc(&r->b, &out);
		sy_put_meter_bands(&r->b, &out_bands);
	}
	reply_send(r->c, &r->b, r->xid, r->type);
}

/* PORT_QOS: sets the port's egress QoS when a PORT_QOS is given, and
 * replies with it as the port now has it. */
static void
do_port_qos(struct req *r)
{
	struct sy_error e = { .index = -1 };
	const struct sy_attr *a = sy_msg_find(r->m, SY_A_PORT_QOS);
	struct sy_port_qos in, out;
	uint32_t id;

	if (req_u32(r, SY_A_PORT_ID, &id) < 0)
		return;
	if (a != NULL && sy_get_port_qos(a, &in, r->err, sizeof(r->err)) < 0) {
		reply_error(r->c, r->xid, SY_E_PROTO, -1, "%s", r->err);
		return;
	}
	if (dp_port_qos(id, a != NULL ? &in : NULL, &out, &e) < 0) {
		reply_dp_error(r->c, r->xid, &e);
		return;
	}
	sy_put_port_qos(&r->b, &out);
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
put_meter_stats_cb(const struct sy_meter_stats *st, const struct sy_meter_bands *bands,
		   const struct sy_meter_band_stats *band_stats, void *arg)
{
	sy_put_meter_stats(arg, st);
	sy_put_meter_bands(arg, bands);
	sy_put_meter_band_stats(arg, band_stats);
}

static void
do_meter_stats(struct req *r)
{
	struct sy_error e = { .index = -1 };
	uint32_t id = 0;

	if (opt_u32(r, SY_A_METER_ID, &id) < 0)
		return;
	if (meter_stats(id, put_meter_stats_cb, &r->b, &e) < 0) {
		reply_dp_error(r->c, r->xid, &e);
		return;
	}
	reply_send(r->c, &r->b, r->xid, r->type);
}

/* TRACE: trace.c does it all (it knows the pipeline; we know the wire). */
static void
do_trace(struct req *r)
{
	struct sy_error e = { .index = -1 };

	if (trace_request(r->m, &r->b, &e) < 0) {
		sy_msg_free(&r->b);
		reply_dp_error(r->c, r->xid, &e);
		return;
	}
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
do_mirror_mod(struct req *r)
{
	struct sy_error e = { .index = -1 };
	const struct sy_attr *a = sy_msg_find(r->m, SY_A_MIRROR_DESC);
	struct sy_mirror_desc d;
	uint32_t cmd;

	if (req_u32(r, SY_A_MIRROR_CMD, &cmd) < 0)
		return;
	if (a == NULL) {
		reply_error(r->c, r->xid, SY_E_INVAL, -1, "MIRROR_MOD: missing attribute MIRROR_DESC");
		return;
	}
	if (sy_attr_get_fixed(a, &d, sizeof(d), r->err, sizeof(r->err)) < 0) {
		reply_error(r->c, r->xid, SY_E_PROTO, -1, "%s", r->err);
		return;
	}
	if (dp_mirror_mod(cmd, &d, &e) < 0) {
		reply_dp_error(r->c, r->xid, &e);
		return;
	}
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
put_mirror_stats_cb(const struct sy_mirror_stats *st, void *arg)
{
	sy_msg_put(arg, SY_A_MIRROR_STATS, st, sizeof(*st));
}

static void
do_mirror_stats(struct req *r)
{
	dp_mirror_stats(put_mirror_stats_cb, &r->b);
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
do_packet_out(struct req *r)
{
	struct sy_error e = { .index = -1 };
	const struct sy_attr *pkt = sy_msg_find(r->m, SY_A_PACKET);
	struct sy_action acts[SY_MAX_ACTIONS];
	struct sy_attr_iter it;
	const struct sy_attr *a;
	uint32_t in_port = SY_PORT_ANY;
	unsigned int n = 0;

	if (opt_u32(r, SY_A_PORT_ID, &in_port) < 0)
		return;
	if (pkt == NULL) {
		reply_error(r->c, r->xid, SY_E_INVAL, -1, "PACKET_OUT: missing attribute PACKET (the frame)");
		return;
	}
	sy_attr_iter_msg(&it, r->m);
	while (sy_attr_next(&it, &a) > 0) {
		if (a->type != SY_A_FLOW_ACTION)
			continue;
		if (n == SY_MAX_ACTIONS) {
			reply_error(r->c, r->xid, SY_E_INVAL, -1,
				    "actions: more than %d actions", SY_MAX_ACTIONS);
			return;
		}
		if (sy_attr_get_fixed(a, &acts[n++], sizeof(acts[0]), r->err, sizeof(r->err)) < 0) {
			reply_error(r->c, r->xid, SY_E_PROTO, -1, "%s", r->err);
			return;
		}
	}
	if (dp_packet_out(in_port, sy_attr_payload(pkt), sy_attr_payload_len(pkt), acts, n, &e) < 0) {
		reply_dp_error(r->c, r->xid, &e);
		return;
	}
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
do_barrier(struct req *r)
{
	dp_barrier();
	reply_send(r->c, &r->b, r->xid, r->type);
}

static void
do_echo(struct req *r)
{
	sy_msg_put_raw(&r->b, r->m->attrs, r->m->attrs_len);
	reply_send(r->c, &r->b, r->xid, r->type);
}

/* Serves one framed message of len bytes at buf. */
static void
conn_dispatch(struct ctl_conn *c, const uint8_t *buf, size_t len)
{
	struct sy_msg m;
	struct req r = { .c = c, .m = &m };
	const char *tname;

	if (sy_msg_parse(buf, len, &m, r.err, sizeof(r.err)) < 0) {
		tname = sy_msg_type_name(m.hdr.type);
		if (tname != NULL) {
			reply_error(c, m.hdr.xid, SY_E_PROTO, -1, "%s: %s", tname, r.err);
			return;
		}
		{
			reply_error(c, m.hdr.xid, SY_E_PROTO, -1, "%s", r.err);
			return;
		}
	}
	r.xid = m.hdr.xid;
	r.type = m.hdr.type;
	tname = sy_msg_type_name(r.type);
	if (r.xid == 0) {
		reply_error(c, 0, SY_E_PROTO, -1,
			    "a request needs a transaction id; xid 0 is for events");
		return;
	}
	if (m.hdr.flags & (SY_MSGF_REPLY | SY_MSGF_EVENT)) {
		reply_error(c, r.xid, SY_E_PROTO, -1,
			    "a request must not carry the REPLY or EVENT flag");
		return;
	}
	if (!c->hello && r.type != SY_MSG_HELLO) {
		reply_error(c, r.xid, SY_E_PROTO, -1, "send HELLO first");
		return;
	}

	sy_msg_begin(&r.b, r.type, SY_MSGF_REPLY, r.xid);
	switch (r.type) {
	case SY_MSG_HELLO: do_hello(&r); break;
	case SY_MSG_ECHO: do_echo(&r); break;
	case SY_MSG_BARRIER: do_barrier(&r); break;
	case SY_MSG_PORT_ADD: do_port_add(&r); break;
	case SY_MSG_PORT_DEL: do_port_del(&r); break;
	case SY_MSG_PORT_MOD: do_port_mod(&r); break;
	case SY_MSG_PORT_LIST: do_port_list(&r); break;
	case SY_MSG_PORT_STATS: do_port_stats(&r); break;
	case SY_MSG_PORT_STATS_CLEAR: do_port_stats_clear(&r); break;
	case SY_MSG_FLOW_MOD: do_flow_mod(&r); break;
	case SY_MSG_FLOW_DUMP: do_flow_dump(&r); break;
	case SY_MSG_TRACE: do_trace(&r); break;
	case SY_MSG_PACKET_OUT: do_packet_out(&r); break;
	case SY_MSG_MIRROR_MOD: do_mirror_mod(&r); break;
	case SY_MSG_MIRROR_STATS: do_mirror_stats(&r); break;
	case SY_MSG_FLOW_COOKIE_STATS: do_flow_cookie_stats(&r); break;
	case SY_MSG_TABLE_LIST: do_table_list(&r); break;
	case SY_MSG_TABLE_MOD: do_table_mod(&r); break;
	case SY_MSG_DP_STATS: do_dp_stats(&r); break;
	case SY_MSG_PMD_STATS: do_pmd_stats(&r); break;
	case SY_MSG_PMD_STATS_CLEAR: do_pmd_stats_clear(&r); break;
	case SY_MSG_GROUP_MOD: do_group_mod(&r); break;
	case SY_MSG_GROUP_STATS: do_group_stats(&r); break;
	case SY_MSG_METER_MOD: do_meter_mod(&r); break;
	case SY_MSG_METER_STATS: do_meter_stats(&r); break;
	case SY_MSG_PORT_QOS: do_port_qos(&r); break;
	default:
		if (tname != NULL)
			reply_error(c, r.xid, SY_E_UNSUPP, -1, "%s is not a request", tname);
		else
			reply_error(c, r.xid, SY_E_UNSUPP, -1, "message type %u is not supported",
				    r.type);
		break;
	}
	sy_msg_free(&r.b); /* a no-op once the reply was sent */
}

/* ------------------------------------------------------------------ */
/* Connections: input */

/* Serves up to CTL_MSG_BUDGET complete messages.  Returns true if another
 * complete message is waiting. */
static bool
conn_serve(struct ctl_conn *c)
{
	char err[SY_ERRMSG_MAX];
	unsigned int served = 0;

	/* A client that does not read its replies gets no more until it does. */
	while (!c->dead && !c->closing && c->out_bytes < CTL_OUT_PAUSE) {
		struct sy_msg_hdr h;
		uint32_t mlen;
		enum sy_frame_status st;

		if (c->in_len - c->in_off < sizeof(h))
			break;
		st = sy_msg_frame(c->in + c->in_off, c->in_len - c->in_off, &h, &mlen, err,
				  sizeof(err));
		if (st == SY_FRAME_SHORT)
			break;
		if (st == SY_FRAME_FATAL) {
			bool hello = h.type == SY_MSG_HELLO && h.version != SY_PROTO_VERSION;

			ctl_log("client %u: %s; closing", c->id, err);
			reply_error(c, h.xid, hello ? SY_E_VERSION : SY_E_PROTO, -1, "%s; closing", err);
			c->in_off = c->in_len = 0;
			c->closing = true;
			c->close_by = now_ns() + CTL_CLOSE_GRACE_NS;
			conn_flush(c);
			break;
		}
		if (served == CTL_MSG_BUDGET)
			return true;
		/* Keep attributes aligned (a message whose length is not a
		 * multiple of 8 leaves the next one askew). */
		if ((c->in_off % SY_ALIGN) != 0) {
			memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
			c->in_len -= c->in_off;
			c->in_off = 0;
		}
		conn_dispatch(c, c->in + c->in_off, mlen);
		c->in_off += mlen;
		served++;
		maybe_periodic();
	}
	if (c->in_off == c->in_len) {
		c->in_off = c->in_len = 0;
		if (c->in_cap > CTL_IN_KEEP) {
			free(c->in);
			c->in = NULL;
			c->in_cap = 0;
		}
	}
	return false;
}

/* Makes room to read into.  Returns the room, 0 if the buffered messages
 * must be served first, or -1 (client dropped). */
static ssize_t
conn_in_room(struct ctl_conn *c)
{
	size_t want, cap;
	uint8_t *p;

	if (c->in_off > 0 && (c->in_off == c->in_len || c->in_len == c->in_cap)) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->in_len < c->in_cap)
		return (ssize_t)(c->in_cap - c->in_len);

	/* Full: grow only toward the length of an incomplete first message. */
	want = CTL_IN_INITIAL;
	if (c->in_len >= sizeof(struct sy_msg_hdr)) {
		struct sy_msg_hdr h;
		uint32_t mlen;
		char err[8];

		if (sy_msg_frame(c->in, c->in_len, &h, &mlen, err, sizeof(err)) != SY_FRAME_SHORT)
			return 0; /* a whole message (or garbage) to serve first */
		want = mlen;
	}
	cap = c->in_cap ? c->in_cap * 2 : CTL_IN_INITIAL;
	if (cap > want)
		cap = want > CTL_IN_INITIAL ? want : CTL_IN_INITIAL;
	if (cap <= c->in_cap)
		return 0;
	p = realloc(c->in, cap);
	if (p == NULL) {
		conn_kill(c, "out of memory for its input");
		return -1;
	}
	c->in = p;
	c->in_cap = cap;
	return (ssize_t)(c->in_cap - c->in_len);
}

static void
conn_read(struct ctl_conn *c)
{
	size_t budget = CTL_READ_BUDGET;

	while (budget > 0 && !c->dead && !c->closing) {
		ssize_t room = conn_in_room(c), n;

		if (room <= 0)
			break;
		if ((size_t)room > budget)
			room = (ssize_t)budget;
		n = recv(c->fd, c->in + c->in_len, (size_t)room, MSG_DONTWAIT);
		if (n > 0) {
			c->in_len += (size_t)n;
			budget -= (size_t)n;
			continue;
		}
		if (n == 0) {
			/* The peer is done sending: answer what it sent, then close. */
			conn_serve(c);
			while (!c->dead && !c->closing && conn_serve(c))
				;
			if (!c->dead && !c->closing) {
				c->closing = true;
				c->close_by = now_ns() + CTL_CLOSE_GRACE_NS;
				conn_flush(c);
			}
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			conn_kill(c, NULL);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Accepting and freeing */

static void
conn_free(struct ctl_conn *c)
{
	struct out_chunk *ch, *next;

	for (ch = c->out_head; ch != NULL; ch = next) {
		next = ch->next;
		free(ch->data);
		free(ch);
	}
	close(c->fd);
	free(c->in);
	free(c);
}

static void
accept_clients(void)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct ctl_conn *c;
		int fd, sz = 1 << 20;

		fd = accept4(ctl.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				ctl_log("accept: %s", strerror(errno));
			return;
		}
		if (ctl.n_conns >= CTL_MAX_CLIENTS) {
			ctl_log("refusing a client: %d already connected", CTL_MAX_CLIENTS);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		c->fd = fd;
		c->id = ++ctl.next_id;
		c->events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(ctl.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			ctl_log("epoll_ctl: %s", strerror(errno));
			close(fd);
			free(c);
			continue;
		}
		c->next = ctl.conns;
		ctl.conns = c;
		ctl.n_conns++;
	}
}

/* Frees dead clients; gives up on closing ones that would not drain. */
static void
reap_clients(void)
{
	struct ctl_conn **pp = &ctl.conns;
	uint64_t t = 0;

	while (*pp != NULL) {
		struct ctl_conn *c = *pp;

		if (!c->dead && c->closing) {
			if (t == 0)
				t = now_ns();
			if (c->out_head == NULL || t >= c->close_by)
				conn_kill(c, NULL);
		}
		if (c->dead) {
			*pp = c->next;
			ctl.n_conns--;
			conn_free(c);
			continue;
		}
		pp = &c->next;
	}
}

/* ------------------------------------------------------------------ */
/* Events */

static void
broadcast(struct sy_msgbuf *b)
{
	if (sy_msg_finish(b) < 0) {
		ctl_log("could not encode an event (error %d)", b->error);
		sy_msg_free(b);
		return;
	}
	for (struct ctl_conn *c = ctl.conns; c != NULL; c = c->next) {
		uint8_t *copy;

		if (c->dead || c->closing || !c->hello)
			continue;
		copy = malloc(b->len);
		if (copy == NULL) {
			conn_kill(c, "out of memory for an event");
			continue;
		}
		memcpy(copy, b->data, b->len);
		conn_send(c, copy, b->len);
	}
	sy_msg_free(b);
}

void
ctl_event_port_status(const struct sy_port_desc *desc, int reason)
{
	struct sy_msgbuf b = { 0 };

	if (!ctl.up)
		return;
	sy_msg_begin(&b, SY_MSG_PORT_STATUS, SY_MSGF_EVENT, 0);
	put_port_desc_cb(desc, &b);
	sy_msg_put_u32(&b, SY_A_PORT_REASON, (uint32_t)reason);
	broadcast(&b);
}

void
ctl_event_flow_removed(const struct sy_flow_mod *entry, const struct sy_flow_stats *stats,
		       int reason)
{
	struct sy_msgbuf b = { 0 };

	if (!ctl.up)
		return;
	sy_msg_begin(&b, SY_MSG_FLOW_REMOVED, SY_MSGF_EVENT, 0);
	sy_put_flow(&b, entry, stats);
	sy_msg_put_u32(&b, SY_A_FLOW_REASON, (uint32_t)reason);
	broadcast(&b);
}

void
ctl_event_packet_in(uint32_t port_id, uint32_t table_id, const struct sy_flow_hdr *hdr,
		    const void *pkt, uint32_t len, uint32_t reason, uint32_t total_len)
{
	struct sy_msgbuf b = { 0 };

	if (!ctl.up)
		return;
	if (len > (1u << 16))
		len = 1u << 16;
	sy_msg_begin(&b, SY_MSG_PACKET_IN, SY_MSGF_EVENT, 0);
	sy_msg_put_u32(&b, SY_A_PORT_ID, port_id);
	sy_msg_put_u32(&b, SY_A_TABLE_ID, table_id);
	if (hdr != NULL)
		sy_msg_put(&b, SY_A_FLOW_HDR, hdr, sizeof(*hdr));
	sy_msg_put(&b, SY_A_PACKET, pkt, len);
	sy_msg_put_u32(&b, SY_A_PIN_REASON, reason);
	sy_msg_put_u32(&b, SY_A_PIN_TOTAL_LEN, total_len);
	broadcast(&b);
}

/* ------------------------------------------------------------------ */
/* The socket and the loop */

/* mkdir -p of path's directory, new directories 0700. */
static int
make_parent_dir(const char *path)
{
	char dir[sizeof(ctl.path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;

			*p = '\0';
			if (mkdir(dir, 0700) < 0 && errno != EEXIST)
				return -1;
			*p = saved;
			if (saved == '\0')
				break;
		}
	}
	return 0;
}

/* A socket file is at path: 0 if it is stale (and was removed), -1 with
 * errno EADDRINUSE if a live server answers on it. */
static int
replace_stale_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc, e;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST; /* never remove a file that is not a socket */
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN) {
		errno = EADDRINUSE;
		return -1;
	}
	if (e != ECONNREFUSED) {
		errno = e;
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

int
ctl_server_init(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN };
	struct stat st;
	mode_t old;
	int e;

	if (ctl.up) {
		errno = EBUSY;
		return -1;
	}
	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(ctl.path, sizeof(ctl.path), "%s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);

	if (make_parent_dir(path) < 0 || replace_stale_socket(path) < 0)
		return -1;

	ctl.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl.lfd < 0)
		return -1;
	old = umask(0177);
	if (bind(ctl.lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		umask(old);
		goto fail;
	}
	umask(old);
	if (chmod(path, 0600) < 0 || listen(ctl.lfd, 64) < 0 || stat(path, &st) < 0) {
		e = errno;
		unlink(path);
		goto fail;
	}
	ctl.dev = st.st_dev;
	ctl.ino = st.st_ino;

	ctl.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ctl.epfd < 0) {
		e = errno;
		unlink(path);
		goto fail;
	}
	ev.data.ptr = NULL; /* the listening socket */
	if (epoll_ctl(ctl.epfd, EPOLL_CTL_ADD, ctl.lfd, &ev) < 0) {
		e = errno;
		unlink(path);
		goto fail;
	}
	ctl.next_periodic = now_ns() + CTL_PERIOD_NS;
	ctl.up = true;
	return 0;

fail:
	if (ctl.epfd >= 0)
		close(ctl.epfd);
	close(ctl.lfd);
	ctl.epfd = ctl.lfd = -1;
	errno = e;
	return -1;
}

void
ctl_server_run(volatile bool *quit)
{
	struct epoll_event evs[64];
	bool backlog = false;

	if (!ctl.up)
		return;
	ctl.quit = quit;
	while (!*quit) {
		uint64_t t = now_ns();
		int timeout, n;

		if (t >= ctl.next_periodic) {
			dp_periodic();
			sseg_periodic();
			ctl.next_periodic = now_ns() + CTL_PERIOD_NS;
			t = now_ns();
		}
		/* Packet-ins wait in a ring the lcores cannot wake us for
		 * (that would be a syscall per packet): look every PIN_POLL_MS. */
		if (pin_drain())
			backlog = true;
		timeout = backlog ? 0 : (int)((ctl.next_periodic - t + 999999) / 1000000);
		if (timeout > PIN_POLL_MS)
			timeout = PIN_POLL_MS;

		n = epoll_wait(ctl.epfd, evs, 64, timeout);
		if (n < 0) {
			if (errno != EINTR)
				ctl_log("epoll_wait: %s", strerror(errno));
			n = 0;
		}
		for (int i = 0; i < n; i++) {
			struct ctl_conn *c = evs[i].data.ptr;

			if (c == NULL) {
				accept_clients();
				continue;
			}
			if (c->dead)
				continue;
			if (evs[i].events & EPOLLOUT)
				conn_flush(c);
			if (evs[i].events & EPOLLIN)
				conn_read(c);
			if (evs[i].events & (EPOLLHUP | EPOLLERR)) {
				/* The peer is gone both ways: serve what it sent
				 * (a flow-mod then close is a valid use), drop it. */
				if (!c->dead && !c->closing)
					conn_read(c);
				conn_kill(c, NULL);
			}
		}

		/* Serve what is buffered, a budget per client per round. */
		backlog = false;
		for (struct ctl_conn *c = ctl.conns; c != NULL; c = c->next) {
			if (c->dead)
				continue;
			if (conn_serve(c))
				backlog = true;
			conn_update_events(c);
		}
		reap_clients();
	}
}

void
ctl_server_fini(void)
{
	struct stat st;

	if (!ctl.up)
		return;
	for (struct ctl_conn *c = ctl.conns; c != NULL; c = c->next)
		if (!c->dead)
			conn_flush(c); /* one last try, without waiting */
	while (ctl.conns != NULL) {
		struct ctl_conn *c = ctl.conns;

		ctl.conns = c->next;
		conn_free(c);
	}
	ctl.n_conns = 0;
	close(ctl.epfd);
	close(ctl.lfd);
	ctl.epfd = ctl.lfd = -1;
	/* Remove the socket file only if it is still ours. */
	if (stat(ctl.path, &st) == 0 && st.st_dev == ctl.dev && st.st_ino == ctl.ino)
		unlink(ctl.path);
	ctl.up = false;
}
