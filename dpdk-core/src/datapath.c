/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * datapath.c — start-up, shut-down and the generic requests of
 * dataplane.h (see datapath.h).
 */
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_version.h>

#include "datapath.h"
#include "flow_cache.h"
#include "flow_table.h"
#include "groups.h"
#include "meters.h"
#include "qos.h"
#include "packet_in.h"
#include "mirrors.h"
#include "packet_out.h"
#include "ports.h"
#include "rcu.h"
#include "stats.h"

struct dp_global dp;

static uint64_t next_expire_tsc;
static bool launched;

int
sy_fail(struct sy_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	err->index = -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
dp_init(const struct dp_config *cfg, struct sy_error *err)
{
	struct st_lcore *ctr[RTE_MAX_LCORE];
	struct timespec ts;
	unsigned int lcore;
	size_t sz;

	memset(&dp, 0, sizeof(dp));
	dp.cfg = *cfg;
	if (dp.cfg.n_mbufs == 0)
		dp.cfg.n_mbufs = DP_DEFAULT_MBUFS;
	if (dp.cfg.max_flows == 0)
		dp.cfg.max_flows = DP_DEFAULT_MAX_FLOWS;
	if (dp.cfg.max_flows > DP_MAX_FLOWS_LIMIT)
		return sy_fail(err, SY_E_INVAL, "max-flows %u is over the limit of %u",
			       dp.cfg.max_flows, DP_MAX_FLOWS_LIMIT);
	dp.tsc_hz = rte_get_tsc_hz();
	clock_gettime(CLOCK_REALTIME, &ts);
	dp.start_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;

	RTE_LCORE_FOREACH_WORKER(lcore)
		dp.lcore_id[dp.n_workers++] = lcore;
	dp.n_slots = dp.n_workers ? dp.n_workers : 1;
	if (dp.n_workers == 0)
		dp.lcore_id[0] = rte_get_main_lcore();

	dp.pool = rte_pktmbuf_pool_create("sy_mbufs", dp.cfg.n_mbufs, DP_MBUF_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (dp.pool == NULL)
		return sy_fail(err, SY_E_NOSPC, "cannot create a pool of %u mbufs: %s",
			       dp.cfg.n_mbufs, rte_strerror(rte_errno));

	sz = rte_rcu_qsbr_get_memsize(dp.n_slots);
	dp.qsbr = rte_zmalloc("sy_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (dp.qsbr == NULL || rte_rcu_qsbr_init(dp.qsbr, dp.n_slots) != 0) {
		dp_fini();
		return sy_fail(err, SY_E_NOSPC, "cannot set up RCU for %u lcores", dp.n_slots);
	}
	rcu_init(dp.qsbr);

	for (unsigned int s = 0; s < dp.n_slots; s++) {
		unsigned int socket = rte_lcore_to_socket_id(dp.lcore_id[s]);

		dp.lcore[s] = rte_zmalloc_socket("sy_lcore", sizeof(struct pl_lcore),
						 RTE_CACHE_LINE_SIZE, (int)socket);
		if (dp.lcore[s] == NULL) {
			dp_fini();
			return sy_fail(err, SY_E_NOSPC, "out of memory for lcore state");
		}
		dp.lcore[s]->slot = s;
		dp.lcore[s]->lcore_id = dp.lcore_id[s];
		ctr[s] = &dp.lcore[s]->ctr;
	}
	if (st_init(dp.n_slots, ctr) < 0) {
		dp_fini();
		return sy_fail(err, SY_E_NOSPC, "out of memory for counter baselines");
	}
	if (pin_init(err) < 0 || pout_init(err) < 0) {
		dp_fini();
		return -1;
	}
	ft_init(dp.cfg.max_flows);
	/* Each forwarding lcore's cache of the paths through the tables.
	 * Without memory for one, that lcore walks the tables for every
	 * packet: slower, not wrong. */
	for (unsigned int s = 0; s < dp.n_slots; s++) {
		dp.lcore[s]->fc = fc_create(FC_DEFAULT_ENTRIES);
		if (dp.lcore[s]->fc == NULL)
			RTE_LOG(WARNING, USER1, "no memory for the flow cache of lcore slot %u\n", s);
	}
	if (ports_init(err) < 0) {
		dp_fini();
		return -1;
	}
	next_expire_tsc = rte_get_tsc_cycles() + dp.tsc_hz;
	return 0;
}

struct rte_mempool *
dp_jumbo_pool(struct sy_error *err)
{
	if (dp.jumbo_pool)
		return dp.jumbo_pool;
	dp.jumbo_pool = rte_pktmbuf_pool_create("sy_jumbo", DP_JUMBO_MBUFS, DP_MBUF_CACHE, 0,
						DP_JUMBO_DATAROOM, (int)rte_socket_id());
	if (dp.jumbo_pool == NULL)
		sy_fail(err, SY_E_NOSPC, "cannot create a pool of %u jumbo mbufs (%u bytes): %s",
			DP_JUMBO_MBUFS, DP_JUMBO_DATAROOM, rte_strerror(rte_errno));
	return dp.jumbo_pool;
}

int
dp_launch(void)
{
	for (unsigned int s = 0; s < dp.n_workers; s++) {
		int rc = rte_eal_remote_launch(pl_worker_main, dp.lcore[s], dp.lcore_id[s]);

		if (rc != 0)
			return rc;
		launched = true;
	}
	return 0;
}

void
dp_halt(void)
{
	if (!launched)
		return;
	pl_stop();
	rte_eal_mp_wait_lcore();
	launched = false;
}

void
dp_fini(void)
{
	dp_halt();
	ports_fini();
	ft_fini();
	grp_fini();
	rcu_sync();
	meter_fini();
	qos_fini();
	pin_fini();
	pout_fini();
	mir_fini();
	if (dp.lcore[0])
		st_fini();
	for (unsigned int s = 0; s < dp.n_slots; s++) {
		if (dp.lcore[s])
			fc_destroy(dp.lcore[s]->fc);
		rte_free(dp.lcore[s]);
		dp.lcore[s] = NULL;
	}
	rcu_init(NULL);
	rte_free(dp.qsbr);
	dp.qsbr = NULL;
	rte_mempool_free(dp.pool);
	dp.pool = NULL;
	rte_mempool_free(dp.jumbo_pool);
	dp.jumbo_pool = NULL;
}

void
dp_info(struct sy_dp_info *info)
{
	char dir[256];

	memset(info, 0, sizeof(*info));
	info->pid = (uint32_t)getpid();
	info->n_workers = dp.n_workers;
	info->start_ns = dp.start_ns;
	info->tsc_hz = dp.tsc_hz;
	info->max_ports = SY_MAX_PORTS;
	info->max_tables = SY_MAX_TABLES;
	snprintf(info->version, sizeof(info->version), "%s", DP_VERSION);
	snprintf(info->dpdk_version, sizeof(info->dpdk_version), "%s", rte_version());
	/* the runtime dir is .../dpdk/<file prefix> */
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	snprintf(info->file_prefix, sizeof(info->file_prefix), "%s", basename(dir));
}

void
dp_barrier(void)
{
	rcu_sync();
}

void
dp_periodic(void)
{
	uint64_t now = rte_get_tsc_cycles();

	rcu_poll();
	ports_poll_links(now);
	if (now >= next_expire_tsc) {
		next_expire_tsc = now + dp.tsc_hz;
		ft_expire(now);
		rcu_poll();
	}
}
