/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ports.c — attaching, configuring, detaching ports; the port map the
 * pipeline reads; port counters (see ports.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_errno.h>
#include <rte_eth_bond.h>
#include <rte_ethdev.h>
#include <rte_log.h>

#include "datapath.h"
#include "mirrors.h"
#include "pipeline.h"
#include "ports.h"
#include "edge.h"
#include "rcu.h"
#include "stats.h"

#define RX_DESC 1024
#define TX_DESC 1024
#define MTU_MIN 68
#define MTU_MAX 9600
#define LINK_POLL_MS 500
#define CARRIER_POLL_MS 50      /* bond members whose driver has no link state */
#define BOND_LINK_MONITOR_MS 10 /* the bonding PMD's own poll of member links */
#define NO_DPDK_PORT UINT16_MAX

/* A member device of a bond port, owned by it. */
struct bond_member {
	bool attached;  /* probed and in the bond */
	bool watch;     /* net_af_packet: its kernel interface's carrier decides */
	uint16_t pid;   /* NO_DPDK_PORT while detached */
	struct rte_device *dev;
	char name[SY_NAME_MAX]; /* device name: the devargs up to the first comma */
	char iface[IF_NAMESIZE];
	char devargs[SY_DEVARGS_MAX];
};

struct port {
	bool used;
	bool admin_up;
	bool link_up;
	bool started;
	bool paused; /* being reconfigured: neither polled nor sent to */
	uint32_t id;
	uint16_t dpdk_port;
	uint16_t mtu;
	uint16_t nb_txq;
	uint16_t n_rxq;
	uint32_t speed;
	rte_spinlock_t *txq_lock; /* when lcores share tx queues */
	struct rte_device *dev;
	struct rte_ether_addr mac;
	char name[SY_NAME_MAX];
	char devargs[SY_DEVARGS_MAX];
	char driver[SY_NAME_MAX];
	/* a bond port: members[n_members] (else NULL) */
	struct bond_member *members;
	uint8_t n_members;
	uint8_t bond_mode;
	uint8_t xmit_policy;
	uint8_t primary; /* index, or UINT8_MAX */
	uint32_t bond_sig; /* member link/active/attached bits last reported */
	/* edge settings (edge.h): as set, and as the lcores read them (NULL:
	 * none; replaced whole, freed after the port map that had it) */
	struct sy_port_vlan vlan;
	struct sy_port_nsh_tag nsh;
	struct pl_edge *edge;
	/* counter baselines (a reused slot, a clear) */
	struct st_port_ctr base;
	uint64_t base_rx_errors, base_tx_errors, base_rx_missed;
};

static struct port ports[SY_MAX_PORTS]; /* by slot */
static unsigned int n_ports;
static uint64_t next_link_poll, next_carrier_poll;

/* --- lookups --- */

static struct port *
by_id(uint32_t id)
{
	for (unsigned int s = 0; s < SY_MAX_PORTS; s++)
		if (ports[s].used && ports[s].id == id)
			return &ports[s];
	return NULL;
}

static struct port *
by_name(const char *name)
{
	for (unsigned int s = 0; s < SY_MAX_PORTS; s++)
		if (ports[s].used && strcmp(ports[s].name, name) == 0)
			return &ports[s];
	return NULL;
}

static unsigned int
slot_of(const struct port *p)
{
	return (unsigned int)(p - ports);
}

unsigned int
ports_count(void)
{
	return n_ports;
}

bool
ports_exists(uint32_t id)
{
	return by_id(id) != NULL;
}

static int
id_cmp(const void *a, const void *b)
{
	const struct port *x = *(const struct port *const *)a;
	const struct port *y = *(const struct port *const *)b;

	return (x->id > y->id) - (x->id < y->id);
}

/* The ports in id order; returns how many. */
static unsigned int
sorted(struct port **out)
{
	unsigned int n = 0;

	for (unsigned int s = 0; s < SY_MAX_PORTS; s++)
		if (ports[s].used)
			out[n++] = &ports[s];
	qsort(out, n, sizeof(out[0]), id_cmp);
	return n;
}

/* --- the port map --- */

static void
portmap_free_rcu(struct rcu_head *h)
{
	free(container_of(h, struct pl_portmap, rcu));
}

static struct pl_portmap *
portmap_alloc(void)
{
	return calloc(1, sizeof(struct pl_portmap) + dp.n_slots * sizeof(struct pl_pollq));
}

void
ports_assign_rxqs(const struct ports_rxq_load *in, unsigned int n_in, unsigned int n_lcores,
		  struct pl_pollq *poll)
{
	unsigned int next = 0;

	for (unsigned int l = 0; l < n_lcores; l++)
		poll[l].n = 0;
	for (unsigned int i = 0; i < n_in; i++)
		for (uint16_t q = 0; q < in[i].n_rxq; q++) {
			struct pl_pollq *pq = &poll[next];

			pq->q[pq->n++] = (struct pl_rxq){ .slot = in[i].slot, .queue = q };
			next = (next + 1) % n_lcores;
		}
}

/* A port the pipeline may poll and send to. */
static bool
usable(const struct port *p)
{
	return p->admin_up && p->started && !p->paused;
}

/* Fills pm from the registry, publishes it and waits until no lcore uses
 * the previous one. */
static void
portmap_publish(struct pl_portmap *pm)
{
	struct port *list[SY_MAX_PORTS];
	struct ports_rxq_load load[SY_MAX_PORTS];
	unsigned int n = sorted(list), n_load = 0;
	struct pl_portmap *old;

	for (unsigned int i = 0; i < n; i++) {
		const struct port *p = list[i];
		uint16_t s = (uint16_t)slot_of(p);

		pm->port[s] = (struct pl_port){
			.id = p->id,
			.dpdk_port = p->dpdk_port,
			.mtu = p->mtu,
			.admin_up = usable(p),
			.link_up = p->link_up,
			.nb_txq = p->nb_txq,
			.txq_lock = p->txq_lock,
			.edge = p->edge,
		};
		if (p->id < PL_PORT_DIRECT) {
			pm->id_direct[p->id] = (uint16_t)(s + 1);
		} else {
			pm->sparse[pm->n_sparse].id = p->id;
			pm->sparse[pm->n_sparse].slot = s;
			pm->n_sparse++;
		}
		if (usable(p)) {
			pm->flood[pm->n_flood++] = s;
			load[n_load++] = (struct ports_rxq_load){ .slot = s, .n_rxq = p->n_rxq };
		}
	}
	ports_assign_rxqs(load, n_load, dp.n_slots, pm->poll);
	mir_fill(pm);
	old = pl_portmap;
	rcu_store(&pl_portmap, pm);
	if (old)
		rcu_defer(&old->rcu, portmap_free_rcu);
	rcu_sync();
}

int
ports_republish(void)
{
	struct pl_portmap *pm = portmap_alloc();

	if (pm == NULL)
		return -1;
	portmap_publish(pm);
	return 0;
}

/* --- descriptions and counters --- */

static void
describe(const struct port *p, struct sy_port_desc *d)
{
	memset(d, 0, sizeof(*d));
	d->id = p->id;
	d->dpdk_port = p->dpdk_port;
	d->mtu = p->mtu;
	d->admin_up = p->admin_up;
	d->link_up = p->link_up;
	memcpy(d->mac, p->mac.addr_bytes, 6);
	d->link_speed = p->speed;
	d->n_rxq = p->n_rxq;
	d->n_txq = p->nb_txq;
	snprintf(d->name, sizeof(d->name), "%s", p->name);
	snprintf(d->driver, sizeof(d->driver), "%s", p->driver);
	snprintf(d->devargs, sizeof(d->devargs), "%s", p->devargs);
}

static bool afp_carrier(const struct port *p);

/* The link as the driver reports it; for net_af_packet (whose 22.11 PMD
 * always says up) also its kernel interface's carrier. */
static void
read_link(struct port *p)
{
	struct rte_eth_link link;

	memset(&link, 0, sizeof(link));
	if (rte_eth_link_get_nowait(p->dpdk_port, &link) != 0)
		return;
	p->link_up = link.link_status == RTE_ETH_LINK_UP && afp_carrier(p);
	p->speed = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
}

static void
read_stats(const struct port *p, struct sy_port_stats *st)
{
	struct st_port_ctr c;
	struct rte_eth_stats es;

	st_port_sum(slot_of(p), &c);
	st_port_sub(&c, &p->base);
	memset(st, 0, sizeof(*st));
	st->id = p->id;
	st->rx_packets = c.rx_packets;
	st->rx_bytes = c.rx_bytes;
	st->tx_packets = c.tx_packets;
	st->tx_bytes = c.tx_bytes;
	for (int d = 0; d < SY_DROP__MAX; d++)
		st->drops[d] = c.drops[d];
	if (rte_eth_stats_get(p->dpdk_port, &es) == 0) {
		st->rx_errors = es.ierrors + es.rx_nombuf - p->base_rx_errors;
		st->tx_errors = es.oerrors - p->base_tx_errors;
		st->rx_missed = es.imissed - p->base_rx_missed;
	}
}

static void
reset_baselines(struct port *p)
{
	struct rte_eth_stats es;

	st_port_sum(slot_of(p), &p->base);
	p->base_rx_errors = p->base_tx_errors = p->base_rx_missed = 0;
	if (p->started && rte_eth_stats_get(p->dpdk_port, &es) == 0) {
		p->base_rx_errors = es.ierrors + es.rx_nombuf;
		p->base_tx_errors = es.oerrors;
		p->base_rx_missed = es.imissed;
	}
}

/* --- attaching and detaching devices --- */

/* rte_dev_probe(), with what DPDK logged meanwhile kept as the reason
 * (and still shown on the log). */
static int
probe(const char *devargs, char *reason, size_t len)
{
	FILE *prev = rte_log_get_stream(), *mem;
	char *buf = NULL, *line = NULL;
	size_t sz = 0;
	int rc;

	mem = open_memstream(&buf, &sz);
	if (mem)
		rte_openlog_stream(mem);
	rc = rte_dev_probe(devargs);
	if (mem) {
		rte_openlog_stream(prev);
		fclose(mem);
	}
	snprintf(reason, len, "%s", rc == -1 ? "the driver refused it" : rte_strerror(-rc));
	if (buf) {
		fputs(buf, prev);
		/* The driver's own complaint comes first; EAL's generic lines
		 * ("Driver cannot attach the device") follow it. */
		char *save = NULL, *first = NULL;

		for (char *s = strtok_r(buf, "\n", &save); s; s = strtok_r(NULL, "\n", &save)) {
			if (first == NULL)
				first = s;
			if (strncmp(s, "EAL: ", 5) != 0) {
				line = s;
				break;
			}
		}
		if (line == NULL)
			line = first;
		if (rc < 0 && line) {
			while (isspace((unsigned char)*line))
				line++;
			/* drivers mostly fail with -1, which says nothing */
			if (rc == -1)
				snprintf(reason, len, "%s", line);
			else
				snprintf(reason, len, "%s (%s)", rte_strerror(-rc), line);
		}
		free(buf);
	}
	return rc;
}

/* The ethdev of device name, or -1. */
static int
find_ethdev(const char *name, uint16_t *pid)
{
	uint16_t id;

	if (rte_eth_dev_get_port_by_name(name, pid) == 0)
		return 0;
	RTE_ETH_FOREACH_DEV(id) {
		struct rte_eth_dev_info info;

		if (rte_eth_dev_info_get(id, &info) == 0 && info.device &&
		    strcmp(rte_dev_name(info.device), name) == 0) {
			*pid = id;
			return 0;
		}
	}
	return -1;
}

static void bond_members_detach(struct port *p);

static void
teardown(struct port *p)
{
	if (p->started)
		rte_eth_dev_stop(p->dpdk_port);
	/* closing a bond takes its members out of it */
	rte_eth_dev_close(p->dpdk_port);
	if (p->dev && rte_dev_remove(p->dev) != 0)
		RTE_LOG(WARNING, USER1, "switchyard: port '%s': could not detach %s\n", p->name,
			p->devargs);
	bond_members_detach(p);
	free(p->members);
	free(p->txq_lock);
	free(p->edge); /* no port map has it any more */
	memset(p, 0, sizeof(*p));
}

/* The largest MTU the device takes, as ethdev reckons it: its max_mtu, or
 * its largest frame less the Ethernet header and CRC. */
static uint16_t
dev_max_mtu(const struct rte_eth_dev_info *info)
{
	uint32_t overhead = RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN, max;

	if (info->max_mtu != UINT16_MAX && info->max_rx_pktlen > info->max_mtu)
		overhead = info->max_rx_pktlen - info->max_mtu;
	max = info->max_rx_pktlen > overhead ? info->max_rx_pktlen - overhead : 0;
	return (uint16_t)RTE_MIN(max, (uint32_t)info->max_mtu);
}

/* --- net_af_packet: its frame size bounds the MTU and picks the pool --- */

#define AFP_DEFAULT_FRAMESZ 2048
/* Bytes of an af_packet frame slot the frame itself cannot use: the PMD's
 * tpacket2 header (32 bytes before the data on tx) and, on rx, the
 * kernel's aligned header and sockaddr_ll before the MAC header (up to 82
 * bytes); rounded up so that what we accept is never truncated. */
#define AFP_FRAME_OVERHEAD 128
#define AFP_PMD_OVERHEAD 32 /* TPACKET2_HDRLEN - sizeof(struct sockaddr_ll) */

static bool
is_af_packet(const struct port *p)
{
	return strcmp(p->driver, "net_af_packet") == 0;
}

/* The framesz= of an af_packet devargs string, or the PMD's default. */
static uint32_t
afp_framesz(const char *devargs)
{
	const char *f = strstr(devargs, ",framesz=");

	return f ? (uint32_t)strtoul(f + 9, NULL, 0) : AFP_DEFAULT_FRAMESZ;
}

/* The largest MTU an af_packet port carries whole: its frame slot less the
 * ring's headers, an Ethernet header and one VLAN tag. */
static uint16_t
afp_max_mtu(const struct port *p)
{
	uint32_t fs = afp_framesz(p->devargs);
	uint32_t max = fs > AFP_FRAME_OVERHEAD + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN
			       ? fs - AFP_FRAME_OVERHEAD - RTE_ETHER_HDR_LEN - RTE_VLAN_HLEN
			       : MTU_MIN;

	return (uint16_t)RTE_MIN(max, (uint32_t)MTU_MAX);
}

/* The pool p's rx queue takes mbufs from.  A driver without scattered rx
 * copies each frame into one mbuf: net_af_packet refuses a pool whose
 * mbufs are smaller than its frame slot, so a framesz above the default
 * mbuf's data room takes the jumbo pool. */
static struct rte_mempool *
rx_pool(const struct port *p, struct sy_error *err)
{
	uint32_t room = rte_pktmbuf_data_room_size(dp.pool) - RTE_PKTMBUF_HEADROOM;

	if (is_af_packet(p) && afp_framesz(p->devargs) - AFP_PMD_OVERHEAD > room) {
		if (afp_framesz(p->devargs) - AFP_PMD_OVERHEAD >
		    DP_JUMBO_DATAROOM - RTE_PKTMBUF_HEADROOM) {
			sy_fail(err, SY_E_INVAL,
				"port '%s': framesz=%u is above the largest the switch "
				"receives into (%u)",
				p->name, afp_framesz(p->devargs),
				DP_JUMBO_DATAROOM - RTE_PKTMBUF_HEADROOM + AFP_PMD_OVERHEAD);
			return NULL;
		}
		return dp_jumbo_pool(err);
	}
	return dp.pool;
}

/* Sets the device MTU where the driver can (see ports.h). */
static int
apply_mtu(struct port *p, uint16_t mtu, struct sy_error *err)
{
	struct rte_eth_dev_info info;
	int rc;

	if (rte_eth_dev_info_get(p->dpdk_port, &info) != 0)
		return sy_fail(err, SY_E_DEVICE, "port '%s': no device info", p->name);
	if (is_af_packet(p)) {
		if (mtu > afp_max_mtu(p))
			return sy_fail(err, SY_E_INVAL,
				       "port '%s': MTU %u is above what net_af_packet carries with "
				       "framesz=%u (at most %u); for jumbo frames attach it with "
				       "framesz=10240,blocksz=20480 in its devargs",
				       p->name, mtu, afp_framesz(p->devargs), afp_max_mtu(p));
		if (mtu > dev_max_mtu(&info)) {
			p->mtu = mtu; /* the kernel interface's MTU rules */
			return 0;
		}
	}
	rc = rte_eth_dev_set_mtu(p->dpdk_port, mtu);
	if (rc == 0 || rc == -ENOTSUP) {
		p->mtu = mtu;
		return 0;
	}
	if (rc == -EINVAL && (mtu < info.min_mtu || mtu > dev_max_mtu(&info)))
		return sy_fail(err, SY_E_INVAL,
			       "port '%s': MTU %u is out of range for %s (%u..%u)", p->name, mtu,
			       info.driver_name, info.min_mtu, dev_max_mtu(&info));
	return sy_fail(err, SY_E_DEVICE, "port '%s': cannot set MTU %u: %s", p->name, mtu,
		       rte_strerror(-rc));
}

/* --- rx queues --- */

/* What RSS hashes on when the device offers it: addresses and ports. */
#define RSS_HF_WANTED (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP)

/* The rx queue count port p gets for a request of want (0: the default:
 * 1, or all of net_af_packet's qpairs), checked against its device. */
static int
rxq_count(const struct port *p, const struct rte_eth_dev_info *info, uint16_t want,
	  uint16_t *out, struct sy_error *err)
{
	bool afp = is_af_packet(p);
	uint16_t max = info->max_rx_queues;

	if (want == 0)
		want = afp ? (uint16_t)RTE_MIN(max, SY_PORT_RXQ_MAX) : 1;
	if (want > SY_PORT_RXQ_MAX)
		return sy_fail(err, SY_E_INVAL, "port '%s': %u rx queues is out of range 1..%d",
			       p->name, want, SY_PORT_RXQ_MAX);
	if (want > max)
		return sy_fail(err, SY_E_INVAL,
			       "port '%s': %u rx queues asked, but %s has at most %u%s", p->name,
			       want, info->driver_name, max,
			       afp ? " (the qpairs= of its devargs)" : "");
	/* af_packet's kernel fanout hashes frames over every socket it
	 * opened: a socket nobody polls would swallow its share. */
	if (afp && want != max)
		return sy_fail(err, SY_E_INVAL,
			       "port '%s': net_af_packet spreads frames over the %u sockets its "
			       "devargs open (qpairs=%u); ask for %u rx queues, or attach it with "
			       "qpairs=%u",
			       p->name, max, max, max, want);
	*out = want;
	return 0;
}

/* net_tap refuses rx and tx queue counts that differ. */
static bool
same_rx_tx(const struct port *p)
{
	return strcmp(p->driver, "net_tap") == 0;
}

/* Sizes p's tx queues for n_rxq rx queues: one per forwarding lcore where
 * the device has them, else fewer, shared under spinlocks (pipeline.h);
 * net_tap gets as many as it has rx queues. */
static int
size_txq(struct port *p, const struct rte_eth_dev_info *info, uint16_t n_rxq,
	 struct sy_error *err)
{
	uint16_t n = same_rx_tx(p) ? n_rxq : (uint16_t)RTE_MIN(dp.n_slots, info->max_tx_queues);
	rte_spinlock_t *locks = NULL;

	if (n > info->max_tx_queues)
		return sy_fail(err, SY_E_INVAL, "port '%s': %u rx queues need as many tx queues, "
			       "but %s has at most %u", p->name, n_rxq, info->driver_name,
			       info->max_tx_queues);
	if (n < dp.n_slots) {
		locks = calloc(n, sizeof(*locks));
		if (locks == NULL)
			return sy_fail(err, SY_E_NOSPC, "port '%s': out of memory", p->name);
		for (uint16_t q = 0; q < n; q++)
			rte_spinlock_init(&locks[q]);
	}
	/* no lcore uses the old ones: the port is new, or paused */
	free(p->txq_lock);
	p->txq_lock = locks;
	p->nb_txq = n;
	return 0;
}

/* Configures the device with n_rxq rx queues (RSS over them where it has
 * RSS) and p->nb_txq tx queues, and sets every queue up. */
static int
configure_queues(struct port *p, const struct rte_eth_dev_info *info, uint16_t n_rxq,
		 struct rte_mempool *pool, struct sy_error *err)
{
	struct rte_eth_conf conf;
	uint16_t nb_rxd = RX_DESC, nb_txd = TX_DESC, pid = p->dpdk_port;
	int socket = rte_eth_dev_socket_id(pid), rc;

	if (socket < 0)
		socket = (int)rte_socket_id();
	memset(&conf, 0, sizeof(conf));
	/* Chained mbufs in and out wherever the device can, so that a later
	 * MTU change needs no restart of the port. */
	conf.rxmode.offloads |= info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER;
	conf.txmode.offloads |= info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	/* Several queues: RSS where the device hashes; others (af_packet's
	 * fanout, tap's multiqueue, ring, vhost) spread by themselves. */
	if (n_rxq > 1 && info->flow_type_rss_offloads) {
		uint64_t hf = RSS_HF_WANTED & info->flow_type_rss_offloads;

		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = NULL; /* the driver's default key */
		conf.rx_adv_conf.rss_conf.rss_hf = hf ? hf : info->flow_type_rss_offloads;
	}
	rc = rte_eth_dev_configure(pid, n_rxq, p->nb_txq, &conf);
	if (rc != 0)
		return sy_fail(err, SY_E_DEVICE, "port '%s': cannot configure %s with %u rx queues: %s",
			       p->name, info->driver_name, n_rxq, rte_strerror(-rc));
	rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rxd, &nb_txd);
	for (uint16_t q = 0; q < n_rxq; q++) {
		rc = rte_eth_rx_queue_setup(pid, q, nb_rxd, (unsigned int)socket, NULL, pool);
		if (rc != 0)
			return sy_fail(err, SY_E_DEVICE, "port '%s': cannot set up rx queue %u: %s",
				       p->name, q, rte_strerror(-rc));
	}
	for (uint16_t q = 0; q < p->nb_txq; q++) {
		rc = rte_eth_tx_queue_setup(pid, q, nb_txd, (unsigned int)socket, NULL);
		if (rc != 0)
			return sy_fail(err, SY_E_DEVICE, "port '%s': cannot set up tx queue %u: %s",
				       p->name, q, rte_strerror(-rc));
	}
	return 0;
}

/* Starts the configured device and applies the port's state to it. */
static int
start(struct port *p, const struct rte_eth_dev_info *info, struct sy_error *err)
{
	uint16_t pid = p->dpdk_port;
	int rc = rte_eth_dev_start(pid);

	if (rc != 0)
		return sy_fail(err, SY_E_DEVICE, "port '%s': cannot start %s: %s", p->name,
			       info->driver_name, rte_strerror(-rc));
	p->started = true;
	rte_eth_promiscuous_enable(pid); /* a switch port; not every driver can */
	if (!p->admin_up)
		rte_eth_dev_set_link_down(pid);
	rte_eth_macaddr_get(pid, &p->mac);
	read_link(p);
	return 0;
}

/* Configures, sizes and starts the ethdev of p, with n_rxq rx queues (0:
 * the default, see rxq_count()). */
static int
setup(struct port *p, uint16_t mtu, uint16_t n_rxq, struct sy_error *err)
{
	struct rte_eth_dev_info info;
	struct rte_mempool *pool;
	uint16_t pid = p->dpdk_port;
	int rc;

	rc = rte_eth_dev_info_get(pid, &info);
	if (rc != 0)
		return sy_fail(err, SY_E_DEVICE, "port '%s': no device info: %s", p->name,
			       rte_strerror(-rc));
	snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name);
	p->dev = info.device;
	if (info.max_rx_queues == 0 || info.max_tx_queues == 0)
		return sy_fail(err, SY_E_DEVICE, "port '%s': %s has no rx or no tx queue", p->name,
			       info.driver_name);
	if (rxq_count(p, &info, n_rxq, &p->n_rxq, err) < 0 ||
	    size_txq(p, &info, p->n_rxq, err) < 0)
		return -1;

	pool = rx_pool(p, err);
	if (pool == NULL)
		return -1;
	if (configure_queues(p, &info, p->n_rxq, pool, err) < 0)
		return -1;
	if (mtu) {
		if (apply_mtu(p, mtu, err) < 0)
			return -1;
	} else if (rte_eth_dev_get_mtu(pid, &p->mtu) != 0 || p->mtu == 0) {
		p->mtu = RTE_ETHER_MTU;
	}
	return start(p, &info, err);
}

/* Reconfigures a stopped port with n_rxq rx queues and the given MTU, and
 * starts it again (configuring resets a device's MTU, so it is set anew). */
static int
restart(struct port *p, uint16_t n_rxq, uint16_t mtu, struct sy_error *err)
{
	struct rte_eth_dev_info info;
	struct rte_mempool *pool;
	int rc = rte_eth_dev_info_get(p->dpdk_port, &info);

	if (rc != 0)
		return sy_fail(err, SY_E_DEVICE, "port '%s': no device info: %s", p->name,
			       rte_strerror(-rc));
	pool = rx_pool(p, err);
	if (pool == NULL || size_txq(p, &info, n_rxq, err) < 0)
		return -1;
	if (configure_queues(p, &info, n_rxq, pool, err) < 0 || apply_mtu(p, mtu, err) < 0)
		return -1;
	if (start(p, &info, err) < 0)
		return -1;
	p->n_rxq = n_rxq;
	return 0;
}

/* Changes the rx queue count of a port (and its MTU with it, if mtu is not
 * 0): takes the port out of the pipeline (a port map where it is not
 * usable: its queues are not polled, output to it counts PORT_DOWN), stops
 * it, reconfigures and restarts it.  On failure it restores the old queue
 * count and MTU; if even that fails the port stays stopped.  The caller
 * publishes the final port map; pm is used for the pause. */
static int
change_rxq(struct port *p, uint16_t n_rxq, uint16_t mtu, struct pl_portmap *pm,
	   struct sy_error *err)
{
	uint16_t old_rxq = p->n_rxq, old_mtu = p->mtu;
	struct sy_error again;
	struct rte_eth_dev_info info;
	uint16_t want;

	if (rte_eth_dev_info_get(p->dpdk_port, &info) != 0) {
		free(pm);
		return sy_fail(err, SY_E_DEVICE, "port '%s': no device info", p->name);
	}
	if (rxq_count(p, &info, n_rxq, &want, err) < 0) {
		free(pm);
		return -1;
	}
	if (mtu == 0)
		mtu = p->mtu;

	p->paused = true;
	portmap_publish(pm); /* no lcore polls it or sends to it now */
	if (p->started) {
		rte_eth_dev_stop(p->dpdk_port);
		p->started = false;
	}
	if (restart(p, want, mtu, err) == 0) {
		p->paused = false;
		return 0;
	}
	RTE_LOG(WARNING, USER1, "switchyard: %s; restoring %u rx queues\n", err->msg, old_rxq);
	if (restart(p, old_rxq, old_mtu, &again) == 0) {
		size_t len = strlen(err->msg);

		snprintf(err->msg + len, sizeof(err->msg) - len, "; it keeps %u rx queue%s",
			 old_rxq, old_rxq == 1 ? "" : "s");
	} else {
		size_t len = strlen(err->msg);

		snprintf(err->msg + len, sizeof(err->msg) - len,
			 "; restoring %u rx queues failed too (%s): the port is stopped", old_rxq,
			 again.msg);
	}
	if (err->code != SY_E_INVAL) /* an MTU the device refuses stays INVAL */
		err->code = SY_E_DEVICE;
	p->paused = false;
	return -1;
}

static bool
name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n >= SY_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._-:@/", name[i]))
			return false;
	return true;
}

/* The devargs a device is probed with: the user's, and for net_vhost
 * without client= the vhost-user client mode with reconnect (the guest's
 * virtio-user or QEMU listens; after a data-plane restart the new process
 * reconnects to the running guest).  client=0 keeps server mode. */
static void
effective_devargs(const char *devargs, const char *drv, char *out, size_t len)
{
	if (strncmp(drv, "net_vhost", 9) == 0 && strstr(devargs, ",client=") == NULL)
		snprintf(out, len, "%s,client=1", devargs);
	else
		snprintf(out, len, "%s", devargs);
}

static uint32_t
lowest_free_id(void)
{
	uint32_t id = 1;

	while (by_id(id))
		id++;
	return id;
}

/* --- bond ports (link aggregation) --- */

static const char *const bond_mode_names[] = {
	[SY_BOND_ROUND_ROBIN] = "round-robin",
	[SY_BOND_ACTIVE_BACKUP] = "active-backup",
	[SY_BOND_BALANCE_XOR] = "balance-xor",
	[SY_BOND_BROADCAST] = "broadcast",
};

/* The value of key= in devargs ("iface" in "net_af_packet0,iface=veth1"). */
static bool
devargs_value(const char *devargs, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);

	for (const char *s = strchr(devargs, ','); s; s = strchr(s + 1, ',')) {
		if (strncmp(s + 1, key, klen) == 0 && s[1 + klen] == '=') {
			const char *v = s + 2 + klen, *end = strchr(v, ',');
			size_t n = end ? (size_t)(end - v) : strlen(v);

			if (n == 0 || n >= len)
				return false;
			memcpy(out, v, n);
			out[n] = '\0';
			return true;
		}
	}
	return false;
}

/* Whether kernel interface iface is up with a carrier (IFF_UP and
 * IFF_RUNNING).  A missing interface has none. */
static bool
carrier(const char *iface)
{
	static int fd = -1;
	struct ifreq ifr;

	if (fd < 0)
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true; /* cannot tell: leave it to the driver */
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
		return false;
	return (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
}

/* A plain net_af_packet port: its interface's carrier; any other: true. */
static bool
afp_carrier(const struct port *p)
{
	char iface[IF_NAMESIZE];

	if (p->members != NULL || !is_af_packet(p) ||
	    !devargs_value(p->devargs, "iface", iface, sizeof(iface)))
		return true;
	return carrier(iface);
}

/* Probes member m (its devargs) and records its ethdev; on failure leaves
 * nothing behind and names the member. */
static int
member_attach(struct port *p, unsigned int i, struct sy_error *err)
{
	struct bond_member *m = &p->members[i];
	char eff[SY_DEVARGS_MAX + 16], reason[SY_ERRMSG_MAX / 2];
	struct rte_eth_dev_info info;
	struct rte_devargs da;
	uint16_t pid;
	int rc;

	memset(&da, 0, sizeof(da));
	if (rte_devargs_parse(&da, m->devargs) != 0)
		return sy_fail(err, SY_E_INVAL, "port '%s': member %u: cannot parse devargs '%s'",
			       p->name, i + 1, m->devargs);
	if (find_ethdev(da.name, &pid) == 0) {
		rte_devargs_reset(&da);
		return sy_fail(err, SY_E_EXIST,
			       "port '%s': member %u '%s': device '%s' is already in use", p->name,
			       i + 1, m->devargs, m->name);
	}
	effective_devargs(m->devargs, da.name, eff, sizeof(eff));
	rc = probe(eff, reason, sizeof(reason));
	if (rc < 0) {
		if (rc != -EEXIST)
			rte_eal_hotplug_remove(rte_bus_name(da.bus), da.name);
		rte_devargs_reset(&da);
		return sy_fail(err, rc == -EINVAL || rc == -ENOENT || rc == -ENODEV ||
					    rc == -ENOTSUP || rc == -EEXIST
				       ? SY_E_INVAL
				       : SY_E_DEVICE,
			       "port '%s': member %u: cannot attach '%s': %s", p->name, i + 1,
			       m->devargs, reason);
	}
	if (find_ethdev(da.name, &pid) != 0 || rte_eth_dev_info_get(pid, &info) != 0) {
		rte_eal_hotplug_remove(rte_bus_name(da.bus), da.name);
		rte_devargs_reset(&da);
		return sy_fail(err, SY_E_INVAL, "port '%s': member %u: '%s' is not a network device",
			       p->name, i + 1, m->devargs);
	}
	rte_devargs_reset(&da);
	m->pid = pid;
	m->dev = info.device;
	m->attached = true;
	return 0;
}

/* Stops, closes and detaches member m (already out of the bond). */
static void
member_detach(struct port *p, struct bond_member *m)
{
	if (!m->attached)
		return;
	rte_eth_dev_stop(m->pid);
	rte_eth_dev_close(m->pid);
	if (m->dev && rte_dev_remove(m->dev) != 0)
		RTE_LOG(WARNING, USER1, "switchyard: port '%s': could not detach member %s\n",
			p->name, m->devargs);
	m->attached = false;
	m->pid = NO_DPDK_PORT;
	m->dev = NULL;
}

static void
bond_members_detach(struct port *p)
{
	for (unsigned int i = 0; i < p->n_members; i++)
		member_detach(p, &p->members[i]);
}

/* Checks a bond request and copies it into p (members not yet attached). */
static int
bond_check(struct port *p, const struct dp_port_add_req *req, struct sy_error *err)
{
	const struct dp_bond_req *b = req->bond;

	if (strncmp(req->devargs, "net_bonding", 11) != 0 || strchr(req->devargs, ',') ||
	    strlen(req->devargs) >= RTE_ETH_NAME_MAX_LEN)
		return sy_fail(err, SY_E_INVAL,
			       "port '%s': a bond's devargs is its device name, net_bonding "
			       "followed by letters or digits, at most %d characters (not '%s')",
			       req->name, RTE_ETH_NAME_MAX_LEN - 1, req->devargs);
	if (b->mode >= RTE_DIM(bond_mode_names))
		return sy_fail(err, SY_E_INVAL,
			       "port '%s': bond mode %u is not supported (round-robin 0, "
			       "active-backup 1, balance-xor 2, broadcast 3)",
			       req->name, b->mode);
	if (b->xmit_policy > SY_BOND_XMIT_L34)
		return sy_fail(err, SY_E_INVAL,
			       "port '%s': bond transmit hash policy %u is not one of l2 0, "
			       "l23 1, l34 2",
			       req->name, b->xmit_policy);
	if (b->n_members == 0 || b->n_members > SY_BOND_MEMBERS_MAX)
		return sy_fail(err, SY_E_INVAL, "port '%s': a bond needs 1 to %d members, not %u",
			       req->name, SY_BOND_MEMBERS_MAX, b->n_members);
	p->members = calloc(b->n_members, sizeof(*p->members));
	if (p->members == NULL)
		return sy_fail(err, SY_E_NOSPC, "port '%s': out of memory", req->name);
	p->n_members = (uint8_t)b->n_members;
	p->bond_mode = (uint8_t)b->mode;
	p->xmit_policy = (uint8_t)b->xmit_policy;
	p->primary = UINT8_MAX;
	for (unsigned int i = 0; i < b->n_members; i++) {
		struct bond_member *m = &p->members[i];
		const char *d = b->member[i];
		size_t n = d ? strcspn(d, ",") : 0;

		if (d == NULL || d[0] == '\0' || strlen(d) >= SY_DEVARGS_MAX || n >= SY_NAME_MAX)
			return sy_fail(err, SY_E_INVAL,
				       "port '%s': member %u: devargs must be 1 to %d characters, "
				       "its device name at most %d",
				       req->name, i + 1, SY_DEVARGS_MAX - 1, SY_NAME_MAX - 1);
		m->pid = NO_DPDK_PORT;
		snprintf(m->devargs, sizeof(m->devargs), "%s", d);
		memcpy(m->name, d, n);
		m->name[n] = '\0';
		for (unsigned int j = 0; j < i; j++)
			if (strcmp(p->members[j].name, m->name) == 0)
				return sy_fail(err, SY_E_INVAL,
					       "port '%s': members %u and %u are both device '%s'",
					       req->name, j + 1, i + 1, m->name);
		/* af_packet reports its link up whatever the interface does
		 * (22.11): the switch watches the interface's carrier instead. */
		m->watch = strncmp(m->name, "net_af_packet", 13) == 0 &&
			   devargs_value(d, "iface", m->iface, sizeof(m->iface));
		if (b->primary && strcmp(b->primary, m->name) == 0)
			p->primary = (uint8_t)i;
	}
	if (b->primary && b->primary[0] && p->primary == UINT8_MAX)
		return sy_fail(err, SY_E_INVAL,
			       "port '%s': primary '%s' is not the device name of one of its "
			       "members (such as '%s')",
			       req->name, b->primary, p->members[0].name);
	return 0;
}

/* Creates the bonding device of p (named p->devargs) with every member
 * probed and added; on failure undoes all of it and names the member at
 * fault. */
static int
bond_create(struct port *p, uint16_t *out, struct sy_error *err)
{
	struct rte_eth_dev_info info;
	unsigned int i, added = 0;
	int pid;

	for (i = 0; i < p->n_members; i++)
		if (member_attach(p, i, err) < 0)
			goto undo;
	pid = rte_eth_bond_create(p->devargs, p->bond_mode, (uint8_t)rte_socket_id());
	if (pid < 0) {
		sy_fail(err, SY_E_DEVICE, "port '%s': cannot create bonding device '%s': %s",
			p->name, p->devargs, rte_strerror(rte_errno));
		goto undo;
	}
	rte_eth_bond_xmit_policy_set((uint16_t)pid, p->xmit_policy);
	rte_eth_bond_link_monitoring_set((uint16_t)pid, BOND_LINK_MONITOR_MS);
	for (; added < p->n_members; added++) {
		struct bond_member *m = &p->members[added];
		int rc = rte_eth_bond_slave_add((uint16_t)pid, m->pid);

		if (rc != 0) {
			sy_fail(err, SY_E_DEVICE, "port '%s': member %u '%s': the bond refused it: %s",
				p->name, added + 1, m->devargs, rte_strerror(-rc));
			goto free_bond;
		}
	}
	if (p->primary != UINT8_MAX)
		rte_eth_bond_primary_set((uint16_t)pid, p->members[p->primary].pid);
	if (rte_eth_dev_info_get((uint16_t)pid, &info) == 0)
		p->dev = info.device;
	*out = (uint16_t)pid;
	return 0;

free_bond:
	while (added > 0)
		rte_eth_bond_slave_remove((uint16_t)pid, p->members[--added].pid);
	rte_eth_bond_free(p->devargs);
undo:
	bond_members_detach(p);
	return -1;
}

/* Member i's link: the kernel interface's carrier for a watched member,
 * else what its driver says. */
static bool
member_link(const struct bond_member *m)
{
	struct rte_eth_link link;

	if (!m->attached)
		return m->watch ? carrier(m->iface) : false;
	if (m->watch)
		return carrier(m->iface);
	memset(&link, 0, sizeof(link));
	return rte_eth_link_get_nowait(m->pid, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

static bool
member_active(const struct port *p, const struct bond_member *m)
{
	uint16_t act[RTE_MAX_ETHPORTS];
	int n;

	if (!m->attached || !p->started)
		return false;
	if (p->bond_mode == SY_BOND_ACTIVE_BACKUP)
		return rte_eth_bond_primary_get(p->dpdk_port) == m->pid &&
		       rte_eth_bond_active_slaves_get(p->dpdk_port, act, RTE_DIM(act)) > 0;
	n = rte_eth_bond_active_slaves_get(p->dpdk_port, act, RTE_DIM(act));
	for (int k = 0; k < n; k++)
		if (act[k] == m->pid)
			return true;
	return false;
}

/* Link, active and attached bits of every member: a change is reported. */
static uint32_t
bond_signature(const struct port *p)
{
	uint32_t sig = 0;

	for (unsigned int i = 0; i < p->n_members; i++) {
		const struct bond_member *m = &p->members[i];

		sig |= (uint32_t)member_link(m) << (3 * i);
		sig |= (uint32_t)member_active(p, m) << (3 * i + 1);
		sig |= (uint32_t)m->attached << (3 * i + 2);
	}
	return sig;
}

bool
dp_port_bond(uint32_t port_id, struct sy_port_bond *out)
{
	const struct port *p = by_id(port_id);

	if (p == NULL || p->members == NULL)
		return false;
	memset(out, 0, sizeof(*out));
	out->port_id = p->id;
	out->mode = p->bond_mode;
	out->xmit_policy = p->xmit_policy;
	out->n_members = p->n_members;
	out->primary = p->primary;
	for (unsigned int i = 0; i < p->n_members; i++) {
		const struct bond_member *m = &p->members[i];
		struct sy_bond_member *o = &out->member[i];
		struct rte_eth_stats es;

		o->dpdk_port = m->attached ? m->pid : NO_DPDK_PORT;
		o->link_up = member_link(m);
		o->active = member_active(p, m);
		if (m->attached && rte_eth_stats_get(m->pid, &es) == 0) {
			o->rx_packets = es.ipackets;
			o->tx_packets = es.opackets;
		}
		snprintf(o->devargs, sizeof(o->devargs), "%s", m->devargs);
	}
	return true;
}

/* Takes bond p out of the pipeline (nothing polls it or sends to it) so
 * that its members can change under it; false if out of memory. */
static bool
bond_pause(struct port *p)
{
	struct pl_portmap *pm = portmap_alloc();

	if (pm == NULL)
		return false;
	p->paused = true;
	portmap_publish(pm);
	return true;
}

static void
bond_resume(struct port *p)
{
	struct pl_portmap *pm = portmap_alloc();

	p->paused = false;
	if (pm)
		portmap_publish(pm);
	else
		RTE_LOG(ERR, USER1, "switchyard: port '%s': out of memory: it stays paused\n",
			p->name);
}

/* Watched members (net_af_packet, whose driver says "up" whatever the
 * interface does): one whose interface lost its carrier is taken out of
 * the bond and detached, so that the bonding PMD fails over to the others;
 * one whose carrier is back is probed afresh and added again. */
static void
bond_watch(struct port *p)
{
	for (unsigned int i = 0; i < p->n_members; i++) {
		struct bond_member *m = &p->members[i];
		struct sy_error err;
		bool up;

		if (!m->watch)
			continue;
		up = carrier(m->iface);
		if (m->attached == up)
			continue;
		if (!bond_pause(p))
			return;
		if (!up) {
			rte_eth_bond_slave_remove(p->dpdk_port, m->pid);
			member_detach(p, m);
			RTE_LOG(INFO, USER1, "switchyard: port '%s': member %s lost its carrier\n",
				p->name, m->devargs);
		} else if (member_attach(p, i, &err) < 0) {
			RTE_LOG(WARNING, USER1, "switchyard: %s\n", err.msg);
		} else if (rte_eth_bond_slave_add(p->dpdk_port, m->pid) != 0) {
			RTE_LOG(WARNING, USER1, "switchyard: port '%s': cannot add member %s back\n",
				p->name, m->devargs);
			member_detach(p, m);
		} else {
			if (p->primary == i)
				rte_eth_bond_primary_set(p->dpdk_port, m->pid);
			RTE_LOG(INFO, USER1, "switchyard: port '%s': member %s is back\n", p->name,
				m->devargs);
		}
		bond_resume(p);
	}
}

/* Discards what the rx queues of DPDK port pid hold; returns how many. */
static unsigned int
drain_queues(uint16_t pid, uint16_t n_rxq)
{
	struct rte_mbuf *pkts[PL_BURST];
	unsigned int n = 0;

	for (uint16_t q = 0; q < n_rxq; q++)
		for (unsigned int burst = 0; burst < 256; burst++) {
			uint16_t got = rte_eth_rx_burst(pid, q, pkts, PL_BURST);

			if (got == 0)
				break;
			rte_pktmbuf_free_bulk(pkts, got);
			n += got;
		}
	return n;
}

/* Frames a device received before it became a port are not the port's.
 * net_af_packet opens its sockets for every protocol and binds them to the
 * interface afterwards: in between, the kernel hands them any frame of the
 * namespace (loopback gRPC traffic, other ports' frames), which would
 * enter the switch as if received here, and be forwarded if a flow matched.
 * So before the port is first published (no lcore polls it yet), whatever
 * its sockets hold is discarded, once, on the control thread.  Only
 * af_packet's: what other devices hold at attach is theirs (a pcap file's
 * frames, a ring a test filled first).  A bond's af_packet members are
 * drained one by one: the bond reads only its active ones.  (A member
 * attached again later, when its carrier returns, joins a bond that is
 * being polled and is not drained.) */
static void
drain_backlog(const struct port *p)
{
	unsigned int n = is_af_packet(p) ? drain_queues(p->dpdk_port, p->n_rxq) : 0;

	for (unsigned int i = 0; p->members && i < p->n_members; i++)
		if (p->members[i].attached && p->members[i].watch)
			n += drain_queues(p->members[i].pid, p->n_rxq);
	if (n)
		RTE_LOG(INFO, USER1, "port '%s': discarded %u frame(s) queued before it was attached\n",
			p->name, n);
}

int
dp_port_add(const struct dp_port_add_req *req, struct sy_port_desc *out,
	    struct sy_error *err)
{
	struct rte_devargs da;
	struct pl_portmap *pm;
	struct pl_edge *edge;
	struct port *p, *other;
	char reason[SY_ERRMSG_MAX / 2];
	unsigned int slot;
	uint16_t pid;
	int rc;

	if (!name_ok(req->name))
		return sy_fail(err, SY_E_INVAL,
			       "port name '%s': 1 to %d letters, digits or . _ - : @ /",
			       req->name ? req->name : "", SY_NAME_MAX - 1);
	if (req->devargs == NULL || req->devargs[0] == '\0' ||
	    strlen(req->devargs) >= SY_DEVARGS_MAX)
		return sy_fail(err, SY_E_INVAL, "port '%s': devargs must be 1 to %d characters",
			       req->name, SY_DEVARGS_MAX - 1);
	if ((other = by_name(req->name)))
		return sy_fail(err, SY_E_EXIST, "port '%s' already exists (id %u)", req->name,
			       other->id);
	if (req->id > SY_MAX_PORT_ID)
		return sy_fail(err, SY_E_INVAL, "port '%s': id %u is out of range 1..%u",
			       req->name, req->id, SY_MAX_PORT_ID);
	if (req->id && (other = by_id(req->id)))
		return sy_fail(err, SY_E_EXIST, "port id %u is taken by '%s'", req->id,
			       other->name);
	if (req->mtu && (req->mtu < MTU_MIN || req->mtu > MTU_MAX))
		return sy_fail(err, SY_E_INVAL, "port '%s': MTU %u is out of range %d..%d",
			       req->name, req->mtu, MTU_MIN, MTU_MAX);
	if (req->n_rxq > SY_PORT_RXQ_MAX)
		return sy_fail(err, SY_E_INVAL, "port '%s': %u rx queues is out of range 1..%d",
			       req->name, req->n_rxq, SY_PORT_RXQ_MAX);
	if (n_ports == SY_MAX_PORTS)
		return sy_fail(err, SY_E_NOSPC, "port '%s': the switch has its maximum of %d ports",
			       req->name, SY_MAX_PORTS);
	if (edge_build(req->name, req->vlan, req->nsh, &edge, err) < 0)
		return -1;
	free(edge); /* built again below, once the port exists */
	memset(&da, 0, sizeof(da));
	if (rte_devargs_parse(&da, req->devargs) != 0)
		return sy_fail(err, SY_E_INVAL, "port '%s': cannot parse devargs '%s'", req->name,
			       req->devargs);
	for (slot = 0; ports[slot].used; slot++)
		;

	if (req->bond) {
		/* the members are probed and the bonding device made here */
		p = &ports[slot];
		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "%s", req->name);
		snprintf(p->devargs, sizeof(p->devargs), "%s", req->devargs);
		rc = find_ethdev(da.name, &pid) == 0
			     ? sy_fail(err, SY_E_EXIST, "port '%s': device '%s' already exists",
				       req->name, da.name)
			     : 0;
		rte_devargs_reset(&da);
		if (rc < 0 || bond_check(p, req, err) < 0 || bond_create(p, &pid, err) < 0) {
			free(p->members);
			memset(p, 0, sizeof(*p));
			return -1;
		}
	} else if (find_ethdev(da.name, &pid) == 0) {
		/* Created by EAL (--vdev) or attached already. */
		for (unsigned int s = 0; s < SY_MAX_PORTS; s++) {
			if (ports[s].used && ports[s].dpdk_port == pid) {
				rte_devargs_reset(&da);
				return sy_fail(err, SY_E_EXIST, "device '%s' is already port '%s'",
					       da.name, ports[s].name);
			}
			for (unsigned int i = 0; ports[s].used && i < ports[s].n_members; i++)
				if (ports[s].members[i].attached && ports[s].members[i].pid == pid) {
					rte_devargs_reset(&da);
					return sy_fail(err, SY_E_EXIST,
						       "device '%s' is a member of bond port '%s'",
						       da.name, ports[s].name);
				}
		}
	} else {
		char eff[SY_DEVARGS_MAX + 16];

		effective_devargs(req->devargs, da.name, eff, sizeof(eff));
		rc = probe(eff, reason, sizeof(reason));
		if (rc < 0) {
			/* a driver may leave a half-made device behind */
			if (rc != -EEXIST)
				rte_eal_hotplug_remove(rte_bus_name(da.bus), da.name);
			rte_devargs_reset(&da);
			return sy_fail(err,
				       rc == -EINVAL || rc == -ENOENT || rc == -ENODEV ||
						       rc == -ENOTSUP || rc == -EEXIST
					       ? SY_E_INVAL
					       : SY_E_DEVICE,
				       "port '%s': cannot attach '%s': %s", req->name,
				       req->devargs, reason);
		}
		if (find_ethdev(da.name, &pid) != 0) {
			rte_eal_hotplug_remove(rte_bus_name(da.bus), da.name);
			rte_devargs_reset(&da);
			return sy_fail(err, SY_E_INVAL, "port '%s': '%s' is not a network device",
				       req->name, req->devargs);
		}
	}
	if (!req->bond)
		rte_devargs_reset(&da);

	p = &ports[slot];
	if (!req->bond)
		memset(p, 0, sizeof(*p));
	p->dpdk_port = pid;
	p->id = req->id ? req->id : lowest_free_id();
	p->admin_up = req->admin_up != 0;
	snprintf(p->name, sizeof(p->name), "%s", req->name);
	snprintf(p->devargs, sizeof(p->devargs), "%s", req->devargs);

	if (req->vlan && req->vlan->mode != SY_VLAN_NONE)
		p->vlan = *req->vlan;
	if (req->nsh && req->nsh->enabled)
		p->nsh = *req->nsh;
	pm = portmap_alloc();
	if (pm == NULL || edge_build(req->name, req->vlan, req->nsh, &p->edge, err) < 0) {
		if (pm == NULL)
			sy_fail(err, SY_E_NOSPC, "port '%s': out of memory", req->name);
		free(pm);
		teardown(p);
		return -1;
	}
	if (setup(p, req->mtu, req->n_rxq, err) < 0) {
		free(pm);
		teardown(p);
		return -1;
	}
	if (p->members) {
		bond_watch(p); /* members without a carrier leave at once */
		p->bond_sig = bond_signature(p);
	}
	drain_backlog(p);
	p->used = true;
	n_ports++;
	reset_baselines(p);
	st_rxq_rebase(slot);
	portmap_publish(pm);

	describe(p, out);
	ctl_event_port_status(out, SY_PR_ADD);
	return 0;
}

int
dp_port_del(uint32_t port_id, struct sy_error *err)
{
	struct port *p = by_id(port_id);
	struct sy_port_desc desc;
	struct pl_portmap *pm;

	if (p == NULL)
		return sy_fail(err, SY_E_NOENT, "port %u does not exist", port_id);
	pm = portmap_alloc();
	if (pm == NULL)
		return sy_fail(err, SY_E_NOSPC, "port %u: out of memory", port_id);
	describe(p, &desc);
	p->used = false;
	portmap_publish(pm); /* returns once no lcore can use the port */
	qos_port_gone(slot_of(p));
	n_ports--;
	teardown(p);
	ctl_event_port_status(&desc, SY_PR_DELETE);
	return 0;
}

int
dp_port_qos(uint32_t port_id, const struct sy_port_qos *set, struct sy_port_qos *out,
	    struct sy_error *err)
{
	struct port *p = by_id(port_id);
	struct sy_port_qos d;

	if (p == NULL)
		return sy_fail(err, SY_E_NOENT, "port %u does not exist", port_id);
	if (set == NULL) {
		qos_get(slot_of(p), out);
		out->port_id = port_id;
		return 0;
	}
	d = *set;
	d.port_id = port_id;
	return qos_set(slot_of(p), &d, out, err);
}

int
dp_port_mod(uint32_t port_id, uint16_t mtu, int admin, uint16_t n_rxq, struct sy_port_desc *out,
	    struct sy_error *err)
{
	struct port *p = by_id(port_id);
	struct pl_portmap *pm, *pause;
	bool changed = false;

	if (p == NULL)
		return sy_fail(err, SY_E_NOENT, "port %u does not exist", port_id);
	if (mtu && (mtu < MTU_MIN || mtu > MTU_MAX))
		return sy_fail(err, SY_E_INVAL, "port '%s': MTU %u is out of range %d..%d",
			       p->name, mtu, MTU_MIN, MTU_MAX);
	if (n_rxq > SY_PORT_RXQ_MAX)
		return sy_fail(err, SY_E_INVAL, "port '%s': %u rx queues is out of range 1..%d",
			       p->name, n_rxq, SY_PORT_RXQ_MAX);
	/* A new queue count would restart the bond, which reconfigures and
	 * restarts every member under it: not offered (yet). */
	if (p->members && n_rxq && n_rxq != p->n_rxq)
		return sy_fail(err, SY_E_INVAL,
			       "port '%s': a bond keeps the %u rx queue%s it was made with; "
			       "delete and add it again to change that",
			       p->name, p->n_rxq, p->n_rxq == 1 ? "" : "s");
	pm = portmap_alloc();
	if (pm == NULL)
		return sy_fail(err, SY_E_NOSPC, "port '%s': out of memory", p->name);
	/* A new queue count (or a port that a failed change left stopped):
	 * reconfigure it, with the new MTU if there is one. */
	if ((n_rxq && n_rxq != p->n_rxq) || (n_rxq && !p->started)) {
		pause = portmap_alloc();
		if (pause == NULL) {
			free(pm);
			return sy_fail(err, SY_E_NOSPC, "port '%s': out of memory", p->name);
		}
		if (change_rxq(p, n_rxq, mtu, pause, err) < 0) {
			portmap_publish(pm); /* back in the pipeline (if it runs) */
			return -1;
		}
		changed = true;
	} else if (mtu && mtu != p->mtu) {
		if (apply_mtu(p, mtu, err) < 0) {
			free(pm);
			return -1;
		}
		changed = true;
	}
	if (admin >= 0 && (admin != 0) != p->admin_up) {
		p->admin_up = admin != 0;
		if (p->admin_up && p->started)
			rte_eth_dev_set_link_up(p->dpdk_port);
		changed = true;
	}
	if (changed) {
		portmap_publish(pm); /* a port going down is no longer polled... */
		if (!p->admin_up && p->started)
			rte_eth_dev_set_link_down(p->dpdk_port); /* ...before this */
		read_link(p);
	} else {
		free(pm);
	}
	describe(p, out);
	if (changed)
		ctl_event_port_status(out, SY_PR_MODIFY);
	return 0;
}

int
dp_port_set_edge(uint32_t port_id, const struct sy_port_vlan *vlan,
		 const struct sy_port_nsh_tag *nsh, struct sy_port_desc *out, struct sy_error *err)
{
	struct port *p = by_id(port_id);
	struct pl_edge *edge, *old;
	struct pl_portmap *pm;

	if (p == NULL)
		return sy_fail(err, SY_E_NOENT, "port %u does not exist", port_id);
	if (edge_build(p->name, vlan ? vlan : &p->vlan, nsh ? nsh : &p->nsh, &edge, err) < 0)
		return -1;
	pm = portmap_alloc();
	if (pm == NULL) {
		free(edge);
		return sy_fail(err, SY_E_NOSPC, "port '%s': out of memory", p->name);
	}
	if (vlan) {
		p->vlan = *vlan;
		if (vlan->mode == SY_VLAN_NONE)
			memset(&p->vlan, 0, sizeof(p->vlan));
	}
	if (nsh) {
		p->nsh = *nsh;
		if (!nsh->enabled)
			memset(&p->nsh, 0, sizeof(p->nsh));
	}
	old = p->edge;
	p->edge = edge;
	portmap_publish(pm); /* returns once no lcore reads the old one */
	free(old);
	describe(p, out);
	ctl_event_port_status(out, SY_PR_MODIFY);
	return 0;
}

int
dp_port_check_edge(uint32_t port_id, const struct sy_port_vlan *vlan,
		   const struct sy_port_nsh_tag *nsh, struct sy_error *err)
{
	struct port *p = by_id(port_id);
	struct pl_edge *edge;

	if (p == NULL)
		return sy_fail(err, SY_E_NOENT, "port %u does not exist", port_id);
	if (edge_build(p->name, vlan ? vlan : &p->vlan, nsh ? nsh : &p->nsh, &edge, err) < 0)
		return -1;
	free(edge);
	return 0;
}

unsigned int
dp_port_edge(uint32_t port_id, struct sy_port_vlan *vlan, struct sy_port_nsh_tag *nsh)
{
	const struct port *p = by_id(port_id);
	unsigned int has = 0;

	if (p == NULL)
		return 0;
	if (p->vlan.mode != SY_VLAN_NONE) {
		*vlan = p->vlan;
		vlan->port_id = p->id;
		has |= 1;
	}
	if (p->nsh.enabled) {
		*nsh = p->nsh;
		nsh->port_id = p->id;
		has |= 2;
	}
	return has;
}

void
dp_port_list(dp_port_desc_cb cb, void *arg)
{
	struct port *list[SY_MAX_PORTS];
	unsigned int n = sorted(list);

	for (unsigned int i = 0; i < n; i++) {
		struct sy_port_desc d;

		describe(list[i], &d);
		cb(&d, arg);
	}
}

int
dp_port_stats(uint32_t port_id, dp_port_stats_cb cb, void *arg, struct sy_error *err)
{
	struct port *list[SY_MAX_PORTS];
	unsigned int n;
	struct sy_port_stats st;

	if (port_id) {
		struct port *p = by_id(port_id);

		if (p == NULL)
			return sy_fail(err, SY_E_NOENT, "port %u does not exist", port_id);
		read_stats(p, &st);
		cb(&st, arg);
		return 0;
	}
	n = sorted(list);
	for (unsigned int i = 0; i < n; i++) {
		read_stats(list[i], &st);
		cb(&st, arg);
	}
	return 0;
}

int
dp_port_stats_clear(uint32_t port_id, struct sy_error *err)
{
	if (port_id) {
		struct port *p = by_id(port_id);

		if (p == NULL)
			return sy_fail(err, SY_E_NOENT, "port %u does not exist", port_id);
		reset_baselines(p);
		return 0;
	}
	for (unsigned int s = 0; s < SY_MAX_PORTS; s++)
		if (ports[s].used)
			reset_baselines(&ports[s]);
	return 0;
}

void
ports_poll_links(uint64_t now)
{
	bool links = now >= next_link_poll, carriers = now >= next_carrier_poll;
	bool republish = false;

	if (!links && !carriers)
		return;
	if (carriers)
		next_carrier_poll = now + dp.tsc_hz * CARRIER_POLL_MS / 1000;
	if (links)
		next_link_poll = now + dp.tsc_hz * LINK_POLL_MS / 1000;
	for (unsigned int s = 0; s < SY_MAX_PORTS; s++) {
		struct port *p = &ports[s];
		bool was = p->link_up, bond_changed = false;
		uint32_t speed = p->speed;

		if (!p->used || (!links && p->members == NULL && !is_af_packet(p)))
			continue;
		if (p->members) {
			uint32_t sig;

			bond_watch(p);
			sig = bond_signature(p);
			bond_changed = sig != p->bond_sig;
			p->bond_sig = sig;
		}
		read_link(p);
		if (p->link_up != was || p->speed != speed || bond_changed) {
			struct sy_port_desc d;

			describe(p, &d);
			ctl_event_port_status(&d, SY_PR_LINK);
			republish |= p->link_up != was;
		}
	}
	if (republish) /* fast_failover groups watch link_up (groups.h) */
		ports_republish();
}

int
ports_init(struct sy_error *err)
{
	struct pl_portmap *pm = portmap_alloc();

	memset(ports, 0, sizeof(ports));
	n_ports = 0;
	if (pm == NULL)
		return sy_fail(err, SY_E_NOSPC, "out of memory for the port map");
	portmap_publish(pm);
	return 0;
}

void
ports_fini(void)
{
	struct pl_portmap *pm = portmap_alloc();

	for (unsigned int s = 0; s < SY_MAX_PORTS; s++)
		if (ports[s].used)
			ports[s].used = false;
	if (pm)
		portmap_publish(pm); /* an empty one */
	for (unsigned int s = 0; s < SY_MAX_PORTS; s++)
		if (ports[s].dev || ports[s].started)
			teardown(&ports[s]);
	n_ports = 0;
	rcu_sync();
	free(pl_portmap);
	pl_portmap = NULL;
}
