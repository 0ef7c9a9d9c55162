/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_stats_segment.c — the stats segment and flows summed by cookie.
 *
 * The segment: the file is created mode 0600 with the layout a reader
 * checks, a stale file is replaced and one that a running data plane holds
 * is refused, and the file goes away on sseg_fini().  What a reader copies
 * out of it under the seqlock equals what the stats messages answer
 * (dp_stats, dp_port_stats, dp_table_list, dp_pmd_stats), cleared counters
 * included; and a reader thread racing thousands of publishes never sees a
 * torn snapshot (counters that must agree always agree).
 *
 * Cookies: dp_flow_cookie_stats() sums every entry of every table by
 * cookie, as a dump summed by hand does, orders the cookies by packets,
 * keeps the `limit` busiest and refuses a limit out of range; and it walks
 * SY_TEST_COOKIE_FLOWS entries (default a million) in well under a second
 * of CPU (about 0.2 s here with a thousand cookies, 0.4 s with a cookie
 * per entry).
 *
 * One lcore: the test drives the pipeline by hand (pl_run_once) and reads
 * the segment through a mapping of its own, read-only, as a client does.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include <rte_ring.h>

#include <switchyard/stats_segment.h>

#include "datapath.h"
#include "pipeline.h"
#include "stats_segment.h"
#include "sy_flowmod.h"
#include "sy_pkt.h"
#include "sy_test.h"

#define IN_PORT 1
#define OUT_PORT 2

static struct pl_lcore *lc;
static char seg_path[128];
static const struct sy_stats_segment *seg; /* our read-only mapping */
static struct sy_stats_segment *snap;       /* a copy taken under the seqlock */
static uint32_t frame_len;

/* --- a reader, as a client does it --- */

static const struct sy_stats_segment *
map_segment(void)
{
	int fd = open(seg_path, O_RDONLY | O_CLOEXEC);
	void *p;

	if (fd < 0)
		return NULL;
	p = mmap(NULL, sizeof(struct sy_stats_segment), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static uint32_t
clamp(uint32_t n, uint32_t max)
{
	return n < max ? n : max;
}

/* Copies a consistent snapshot of m into out: 0, or -1 after `tries`
 * attempts that all met a publish under way. */
static int
seg_read(const struct sy_stats_segment *m, struct sy_stats_segment *out, unsigned int tries,
	 unsigned int *retries)
{
	for (unsigned int i = 0; i < tries; i++) {
		uint64_t s1 = __atomic_load_n(&m->hdr.seq, __ATOMIC_ACQUIRE), s2;

		if ((s1 & 1) == 0) {
			out->hdr = m->hdr;
			out->hdr.n_ports = clamp(out->hdr.n_ports, SY_SSEG_MAX_PORTS);
			out->hdr.n_tables = clamp(out->hdr.n_tables, SY_SSEG_MAX_TABLES);
			out->hdr.n_pmds = clamp(out->hdr.n_pmds, SY_SSEG_MAX_PMDS);
			out->dp = m->dp;
			memcpy(out->port, m->port, out->hdr.n_ports * sizeof(m->port[0]));
			memcpy(out->table, m->table, out->hdr.n_tables * sizeof(m->table[0]));
			memcpy(out->pmd, m->pmd, out->hdr.n_pmds * sizeof(m->pmd[0]));
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			s2 = __atomic_load_n(&m->hdr.seq, __ATOMIC_RELAXED);
			if (s1 == s2)
				return 0;
		}
		if (retries)
			(*retries)++;
		sched_yield();
	}
	return -1;
}

static const struct sy_sseg_port *
snap_port(const struct sy_stats_segment *s, uint32_t id)
{
	for (uint32_t i = 0; i < s->hdr.n_ports; i++)
		if (s->port[i].st.id == id)
			return &s->port[i];
	return NULL;
}

/* --- traffic --- */

/* n UDP frames to tp_dst `dport` into IN_PORT (net_ring0's rx ring), then
 * one pipeline run. */
static void
inject(uint16_t dport, unsigned int n)
{
	struct pkt_spec s = pkt_default();
	struct rte_mbuf *m[PL_BURST];
	uint8_t b[2048];
	struct rte_ring *r = rte_ring_lookup("ETH_RXTX0_net_ring0");

	s.dport = dport;
	frame_len = (uint32_t)pkt_build(&s, b);
	CHECK(r != NULL && n <= PL_BURST);
	if (r == NULL || n > PL_BURST)
		return;
	for (unsigned int i = 0; i < n; i++)
		m[i] = pkt_mbuf(dp.pool, b, frame_len, 0);
	CHECK_EQ(rte_ring_enqueue_burst(r, (void **)m, n, NULL), n);
	pl_run_once(lc);
}

static void
flow_mod(struct sy_flow_mod *fm)
{
	struct sy_error err;
	uint32_t n;

	if (dp_flow_mod(fm, 1, &n, &err) < 0) {
		fprintf(stderr, "dp_flow_mod: %s\n", err.msg);
		CHECK(0);
	}
}

/* --- what the messages answer, to compare with --- */

static struct {
	struct sy_port_stats port[8];
	struct sy_port_desc desc[8];
	struct sy_table_desc table[8];
	struct sy_pmd_stats pmd;
	unsigned int n_port, n_desc, n_table, n_pmd;
} msg;

static void
msg_port_cb(const struct sy_port_stats *st, void *arg)
{
	if (msg.n_port < 8)
		msg.port[msg.n_port++] = *st;
}

static void
msg_desc_cb(const struct sy_port_desc *d, void *arg)
{
	if (msg.n_desc < 8)
		msg.desc[msg.n_desc++] = *d;
}

static void
msg_table_cb(const struct sy_table_desc *d, void *arg)
{
	if (msg.n_table < 8)
		msg.table[msg.n_table++] = *d;
}

static void
msg_pmd_cb(const struct sy_pmd_stats *st, void *arg)
{
	msg.pmd = *st;
	msg.n_pmd++;
}

/* Publishes, reads the segment back, and checks it against every stats
 * message's answer at that moment. */
static void
check_matches_messages(void)
{
	struct sy_dp_stats ds;
	struct sy_error err;

	sseg_publish();
	CHECK_EQ(seg_read(seg, snap, 100, NULL), 0);
	memset(&msg, 0, sizeof(msg));
	dp_stats(&ds);
	dp_port_stats(0, msg_port_cb, NULL, &err);
	dp_port_list(msg_desc_cb, NULL);
	dp_table_list(msg_table_cb, NULL);
	dp_pmd_stats(msg_pmd_cb, NULL);

	CHECK(memcmp(&snap->dp, &ds, sizeof(ds)) == 0);
	CHECK_EQ(snap->hdr.n_ports, msg.n_port);
	for (unsigned int i = 0; i < msg.n_port && i < snap->hdr.n_ports; i++) {
		CHECK(memcmp(&snap->port[i].st, &msg.port[i], sizeof(msg.port[i])) == 0);
		CHECK_EQ(snap->port[i].link_up, msg.desc[i].link_up);
		CHECK_EQ(snap->port[i].admin_up, msg.desc[i].admin_up);
	}
	CHECK_EQ(snap->hdr.n_tables, msg.n_table);
	for (unsigned int i = 0; i < msg.n_table && i < snap->hdr.n_tables; i++) {
		CHECK_EQ(snap->table[i].id, msg.table[i].id);
		CHECK_EQ(snap->table[i].n_flows, msg.table[i].n_flows);
		CHECK_EQ(snap->table[i].lookups, msg.table[i].lookups);
		CHECK_EQ(snap->table[i].matched, msg.table[i].matched);
	}
	CHECK_EQ(snap->hdr.n_pmds, msg.n_pmd);
	CHECK(memcmp(&snap->pmd[0], &msg.pmd, sizeof(msg.pmd)) == 0);
}

/* --- the tests --- */

static void
file_is_private_and_self_describing(void)
{
	struct stat st;

	CHECK(stat(seg_path, &st) == 0);
	CHECK_EQ(st.st_mode & 0777, 0600);
	CHECK_EQ(st.st_size, sizeof(struct sy_stats_segment));
	CHECK(strcmp(sseg_path(), seg_path) == 0);
	CHECK_EQ(seg->hdr.magic, SY_SSEG_MAGIC);
	CHECK_EQ(seg->hdr.version, SY_SSEG_VERSION);
	CHECK_EQ(seg->hdr.hdr_size, sizeof(struct sy_sseg_hdr));
	CHECK_EQ(seg->hdr.size, sizeof(struct sy_stats_segment));
	CHECK_EQ(seg->hdr.max_ports, SY_SSEG_MAX_PORTS);
	CHECK_EQ(seg->hdr.max_tables, SY_SSEG_MAX_TABLES);
	CHECK_EQ(seg->hdr.max_pmds, SY_SSEG_MAX_PMDS);
	CHECK_EQ(seg->hdr.drop_slots, SY_DROP_SLOTS);
	CHECK_EQ(seg->hdr.port_size, sizeof(struct sy_sseg_port));
	CHECK_EQ(seg->hdr.table_size, sizeof(struct sy_sseg_table));
	CHECK_EQ(seg->hdr.pmd_size, sizeof(struct sy_pmd_stats));
	CHECK_EQ(seg->hdr.pid, getpid());
	CHECK_EQ(seg->hdr.tsc_hz, dp.tsc_hz);
	CHECK_EQ(seg->hdr.start_ns, dp.start_ns);
	CHECK_EQ(seg->hdr.live, 1);
	CHECK_EQ(seg->hdr.seq % 2, 0);
	CHECK(seg->hdr.n_publish >= 1);
	/* requests that change what it shows publish before their reply */
	CHECK(sseg_changed_by(SY_MSG_PORT_STATS_CLEAR));
	CHECK(sseg_changed_by(SY_MSG_PMD_STATS_CLEAR));
	CHECK(sseg_changed_by(SY_MSG_PORT_ADD));
	CHECK(!sseg_changed_by(SY_MSG_PORT_STATS));
	CHECK(!sseg_changed_by(SY_MSG_FLOW_MOD));
}

static void
read_back_equals_the_messages(void)
{
	struct sy_flow_mod *fm = fm_new(SY_FC_ADD, 0, 100);
	const struct sy_sseg_port *in, *out;
	uint64_t seq = seg->hdr.seq, t = seg->hdr.time_ns;

	MATCH(fm, in_port, IN_PORT, 0xffffffff);
	fm->hdr.cookie = 0x10;
	act(fm, output(OUT_PORT));
	flow_mod(fm);
	inject(2000, 7);
	check_matches_messages();
	CHECK(snap->hdr.seq >= seq + 2);
	CHECK(snap->hdr.time_ns > t);
	in = snap_port(snap, IN_PORT);
	out = snap_port(snap, OUT_PORT);
	CHECK(in != NULL && out != NULL);
	if (in == NULL || out == NULL)
		return;
	CHECK_EQ(in->st.rx_packets, 7);
	CHECK_EQ(in->st.rx_bytes, 7 * frame_len);
	CHECK_EQ(out->st.tx_packets, 7);
	CHECK_EQ(snap->dp.rx_packets, 7);
	CHECK_EQ(snap->dp.tx_packets, 7);
	CHECK_EQ(snap->pmd[0].packets, 7);
	CHECK_EQ(snap->hdr.n_tables, 1);
	CHECK_EQ(snap->table[0].n_flows, 1);
	CHECK_EQ(snap->table[0].matched, 7);
	CHECK_EQ(in->admin_up, 1);
}

/* A reader thread copies snapshots while this thread forwards and
 * publishes; in every copy it takes, the counters that count the same
 * packets agree. */
static struct {
	volatile bool stop;
	uint64_t base_dp, base_in, base_out, base_pmd;
	unsigned int reads, retries, failed_reads, torn, bad_seq;
} race;

static void *
reader_main(void *arg)
{
	struct sy_stats_segment *s = malloc(sizeof(*s));
	uint64_t last_seq = 0;

	while (s != NULL && !race.stop) {
		const struct sy_sseg_port *in, *out;

		if (seg_read(seg, s, 1000, &race.retries) < 0) {
			race.failed_reads++;
			continue;
		}
		race.reads++;
		if (s->hdr.seq & 1 || s->hdr.seq < last_seq)
			race.bad_seq++;
		last_seq = s->hdr.seq;
		in = snap_port(s, IN_PORT);
		out = snap_port(s, OUT_PORT);
		if (in == NULL || out == NULL || s->hdr.n_pmds != 1) {
			race.torn++;
			continue;
		}
		uint64_t n = s->dp.rx_packets - race.base_dp;

		if (in->st.rx_packets - race.base_in != n || out->st.tx_packets - race.base_out != n ||
		    s->pmd[0].packets - race.base_pmd != n || s->dp.tx_packets - race.base_dp != n)
			race.torn++;
	}
	free(s);
	return NULL;
}

static void
seqlock_never_shows_a_torn_snapshot(void)
{
	const unsigned int rounds = 20000;
	pthread_t th;

	sseg_publish();
	CHECK_EQ(seg_read(seg, snap, 100, NULL), 0);
	CHECK(snap_port(snap, IN_PORT) && snap_port(snap, OUT_PORT));
	if (!snap_port(snap, IN_PORT) || !snap_port(snap, OUT_PORT))
		return;
	race.base_dp = snap->dp.rx_packets;
	CHECK_EQ(snap->dp.tx_packets, race.base_dp);
	race.base_in = snap_port(snap, IN_PORT)->st.rx_packets;
	race.base_out = snap_port(snap, OUT_PORT)->st.tx_packets;
	race.base_pmd = snap->pmd[0].packets;
	{
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (unsigned int i = 0; i < 1000; i++)
			sseg_publish();
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("     a publish (gather and copy, 2 ports): %.1f us\n",
		       ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3 / 1000);
	}
	pthread_create(&th, NULL, reader_main, NULL);
	for (unsigned int i = 0; i < rounds; i++) {
		inject(2000, 1 + i % PL_BURST);
		sseg_publish();
	}
	race.stop = true;
	pthread_join(th, NULL);
	printf("     %u publishes: %u reads, %u retries, %u reads gave up\n", rounds, race.reads,
	       race.retries, race.failed_reads);
	CHECK(race.reads > 0);
	CHECK_EQ(race.torn, 0);
	CHECK_EQ(race.bad_seq, 0);
	check_matches_messages();
}

static void
cleared_counters_show_cleared(void)
{
	struct sy_error err;
	const struct sy_sseg_port *in;

	CHECK_EQ(dp_port_stats_clear(0, &err), 0);
	dp_pmd_stats_clear();
	check_matches_messages();
	in = snap_port(snap, IN_PORT);
	CHECK(in != NULL);
	if (in == NULL)
		return;
	CHECK_EQ(in->st.rx_packets, 0);
	CHECK_EQ(snap_port(snap, OUT_PORT)->st.tx_packets, 0);
	CHECK_EQ(snap->pmd[0].packets, 0);
	CHECK(snap->dp.rx_packets > 0); /* DP_STATS counts since start */

	inject(2000, 5);
	check_matches_messages();
	in = snap_port(snap, IN_PORT);
	CHECK_EQ(in->st.rx_packets, 5);
	CHECK_EQ(snap->pmd[0].packets, 5);

	/* one port's clear leaves the other's counters alone */
	CHECK_EQ(dp_port_stats_clear(OUT_PORT, &err), 0);
	check_matches_messages();
	CHECK_EQ(snap_port(snap, IN_PORT)->st.rx_packets, 5);
	CHECK_EQ(snap_port(snap, OUT_PORT)->st.tx_packets, 0);
}

static void
new_port_and_deleted_port_show(void)
{
	struct sy_error err;

	sy_test_port_add("n2", "net_null9,no-rx=1", 9, 0, 0);
	check_matches_messages();
	CHECK(snap_port(snap, 9) != NULL);
	CHECK_EQ(snap_port(snap, 9)->admin_up, 0);
	CHECK_EQ(dp_port_del(9, &err), 0);
	check_matches_messages();
	CHECK(snap_port(snap, 9) == NULL);
}

/* A stale file is replaced; one that a live data plane holds is refused;
 * sseg_fini() removes the file. */
static void
stale_and_held_files(void)
{
	struct sy_sseg_hdr h = { .magic = SY_SSEG_MAGIC, .pid = 4242 };
	char err[256];
	struct stat st;
	int fd;

	munmap((void *)seg, sizeof(*seg));
	seg = NULL;
	sseg_fini();
	CHECK(stat(seg_path, &st) < 0 && errno == ENOENT);
	CHECK(sseg_path() == NULL);
	sseg_publish(); /* nothing to publish into: a no-op */

	/* never anything but a regular file, in a directory that exists */
	CHECK_EQ(sseg_init("/dev/null", err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "/dev/null exists and is not a regular file");
	CHECK_EQ(sseg_init("/nonexistent-dir/dp.stats", err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "its directory");

	/* a data plane that still runs holds its file's lock */
	fd = open(seg_path, O_RDWR | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, &h, sizeof(h)), sizeof(h));
	CHECK_EQ(flock(fd, LOCK_EX), 0);
	CHECK_EQ(sseg_init(seg_path, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "in use by a running data plane (pid 4242)");
	CHECK_STR_CONTAINS(err, seg_path);

	/* once it is gone, its file is stale: replaced by a new one, 0600 */
	close(fd);
	CHECK_EQ(sseg_init(seg_path, err, sizeof(err)), 0);
	CHECK(stat(seg_path, &st) == 0);
	CHECK_EQ(st.st_mode & 0777, 0600);
	CHECK_EQ(st.st_size, sizeof(struct sy_stats_segment));
	seg = map_segment();
	CHECK(seg != NULL);
	if (seg == NULL)
		return;
	CHECK_EQ(seg->hdr.magic, SY_SSEG_MAGIC);
	CHECK_EQ(seg->hdr.pid, getpid());
	check_matches_messages();
	CHECK_EQ(sseg_init(seg_path, err, sizeof(err)), -1);
	CHECK_STR_CONTAINS(err, "already created");
}

/* --- cookies --- */

static struct {
	struct sy_cookie_stats c[16];
	unsigned int n;
} ck;

static void
cookie_cb(const struct sy_cookie_stats *st, void *arg)
{
	if (ck.n < 16)
		ck.c[ck.n++] = *st;
}

/* The dump summed by hand, by cookie. */
struct dump_sum {
	uint64_t cookie[16], packets[16], bytes[16];
	uint32_t flows[16];
	unsigned int n;
};

static void
dump_cb(const struct sy_flow_mod *e, const struct sy_flow_stats *st, void *arg)
{
	struct dump_sum *d = arg;
	unsigned int i = 0;

	while (i < d->n && d->cookie[i] != e->hdr.cookie)
		i++;
	if (i == d->n) {
		if (d->n == 16)
			return;
		d->cookie[d->n++] = e->hdr.cookie;
	}
	d->flows[i]++;
	d->packets[i] += st->packets;
	d->bytes[i] += st->bytes;
}

static int
cookie_stats(uint32_t limit, struct sy_error *err)
{
	memset(&ck, 0, sizeof(ck));
	return dp_flow_cookie_stats(limit, cookie_cb, NULL, err);
}

static void
cookies_summed_over_every_table(void)
{
	/* table 0: tp_dst 1..5 with cookies 2, 3, 1, 2, 3, each goto 1; table
	 * 1: two entries of cookie 3 that output, and the old in_port entry of
	 * cookie 0x10 (table 0, priority 100) under them */
	static const uint64_t cookie_of[6] = { 0, 2, 3, 1, 2, 3 };
	static const unsigned int sent[6] = { 0, 10, 20, 5, 1, 0 };
	struct dump_sum d = { .n = 0 };
	struct sy_error err;

	for (uint16_t k = 1; k <= 5; k++) {
		struct sy_flow_mod *fm = fm_new(SY_FC_ADD, 0, 200);

		MATCH(fm, dl_type, 0x0800, 0xffff);
		MATCH(fm, nw_proto, 17, 0xff);
		MATCH(fm, tp_dst, k, 0xffff);
		fm->hdr.cookie = cookie_of[k];
		act(fm, goto_table(1));
		flow_mod(fm);
	}
	for (uint16_t p = 0; p < 2; p++) {
		struct sy_flow_mod *fm = fm_new(SY_FC_ADD, 1, (uint16_t)(10 + p));

		if (p == 1)
			MATCH(fm, in_port, IN_PORT, 0xffffffff);
		fm->hdr.cookie = 3;
		act(fm, output(OUT_PORT));
		flow_mod(fm);
	}
	for (uint16_t k = 1; k <= 5; k++)
		if (sent[k])
			inject(k, sent[k]);

	CHECK_EQ(cookie_stats(1024, &err), 0);
	CHECK_EQ(dp_flow_dump(NULL, dump_cb, &d, &err), 0);
	CHECK_EQ(ck.n, 4); /* cookies 0x10, 1, 2, 3 */
	CHECK_EQ(ck.n, d.n);
	/* as the dump says, the busiest first: 0x10 (every packet before
	 * these entries came), 3, 2, 1 */
	for (unsigned int i = 0; i < ck.n; i++) {
		unsigned int j = 0;

		while (j < d.n && d.cookie[j] != ck.c[i].cookie)
			j++;
		CHECK(j < d.n);
		if (j == d.n)
			continue;
		CHECK_EQ(ck.c[i].n_flows, d.flows[j]);
		CHECK_EQ(ck.c[i].packets, d.packets[j]);
		CHECK_EQ(ck.c[i].bytes, d.bytes[j]);
		if (i > 0)
			CHECK(ck.c[i - 1].packets >= ck.c[i].packets);
	}
	/* cookies 1, 2, 3 exactly: packets counted in each table they crossed */
	for (unsigned int i = 0; i < ck.n; i++) {
		const struct sy_cookie_stats *c = &ck.c[i];

		if (c->cookie == 1) {
			CHECK_EQ(c->n_flows, 1);
			CHECK_EQ(c->packets, 5);
			CHECK_EQ(c->bytes, 5 * frame_len);
		} else if (c->cookie == 2) {
			CHECK_EQ(c->n_flows, 2);
			CHECK_EQ(c->packets, 11);
		} else if (c->cookie == 3) {
			CHECK_EQ(c->n_flows, 4);
			CHECK_EQ(c->packets, 20 + 36); /* table 0's tp_dst=2, table 1's catch-all */
		}
	}
	/* the busiest two, in order */
	CHECK_EQ(cookie_stats(2, &err), 0);
	CHECK_EQ(ck.n, 2);
	CHECK(ck.c[0].packets >= ck.c[1].packets);

	CHECK_EQ(cookie_stats(0, &err), -1);
	CHECK_EQ(err.code, SY_E_INVAL);
	CHECK_STR_CONTAINS(err.msg, "limit: 0 is out of range 1..65536");
	CHECK_EQ(cookie_stats(SY_COOKIE_LIMIT_MAX + 1, &err), -1);
	CHECK_EQ(err.code, SY_E_INVAL);
}

/* Under AddressSanitizer (build-asan) the walk is several times slower and
 * the flows much bigger: a tenth of them, and no time bound. */
#ifdef __SANITIZE_ADDRESS__
#define COOKIE_FLOWS_DEFAULT 100000
#define COOKIE_TIME_BOUND 0
#else
#define COOKIE_FLOWS_DEFAULT 1000000
#define COOKIE_TIME_BOUND 1
#endif

static unsigned int
env_uint(const char *name, unsigned int def)
{
	const char *v = getenv(name);

	return v && *v ? (unsigned int)strtoul(v, NULL, 10) : def;
}

/* Seconds of this thread's CPU time since *t0: what the walk costs,
 * whatever else the shared machine runs meanwhile. */
static double
cpu_seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static uint64_t big_total;
static unsigned int big_n;

static void
big_cb(const struct sy_cookie_stats *st, void *arg)
{
	big_total += st->n_flows;
	big_n++;
}

/* n entries in table 2 (nw_dst exact), cookies i % n_cookies. */
static int
add_big(unsigned int n, unsigned int n_cookies, uint64_t cookie_base)
{
	const unsigned int batch = 65536;
	struct sy_flow_mod *mods = calloc(batch, sizeof(*mods));
	struct sy_error err;
	uint32_t changed;

	for (unsigned int base = 0; mods && base < n; base += batch) {
		unsigned int k = n - base < batch ? n - base : batch;

		for (unsigned int i = 0; i < k; i++) {
			struct sy_flow_mod *fm = &mods[i];

			memset(fm, 0, sizeof(*fm));
			fm->hdr.command = SY_FC_ADD;
			fm->hdr.table_id = 2;
			fm->hdr.priority = 100;
			fm->hdr.out_port = SY_PORT_ANY;
			fm->hdr.cookie = cookie_base + (base + i) % n_cookies;
			fm->key.dl_type = 0x0800;
			fm->mask.dl_type = 0xffff;
			fm->key.nw_dst = 0x0b000000u + base + i;
			fm->mask.nw_dst = 0xffffffffu;
			fm->n_actions = 1;
			fm->actions[0] = output(OUT_PORT);
		}
		if (dp_flow_mod(mods, k, &changed, &err) < 0) {
			fprintf(stderr, "dp_flow_mod: %s\n", err.msg);
			free(mods);
			return -1;
		}
	}
	free(mods);
	return mods ? 0 : -1;
}

/* One walk over every entry: well under a second for a million, whether
 * they share a thousand cookies or each has its own. */
static void
a_million_flows_in_well_under_a_second(void)
{
	unsigned int n = env_uint("SY_TEST_COOKIE_FLOWS", COOKIE_FLOWS_DEFAULT);
	struct sy_flow_mod *del = fm_new(SY_FC_DELETE, 2, 0);
	struct timespec t0;
	struct sy_error err;
	uint32_t changed;
	double s;

	CHECK_EQ(add_big(n, 1000, 1000), 0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	big_total = big_n = 0;
	CHECK_EQ(dp_flow_cookie_stats(SY_COOKIE_LIMIT_DEFAULT, big_cb, NULL, &err), 0);
	s = cpu_seconds_since(&t0);
	printf("     %u flows, 1,000 cookies: %.0f ms of CPU\n", n, s * 1e3);
	CHECK(!COOKIE_TIME_BOUND || s < 0.6 * n / 1e6);
	CHECK_EQ(big_n, 1000 + 4);
	CHECK_EQ(big_total, n + 8);

	CHECK_EQ(dp_flow_mod(del, 1, &changed, &err), 0);
	CHECK_EQ(changed, n);
	CHECK_EQ(add_big(n, n, UINT64_C(1) << 40), 0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	big_total = big_n = 0;
	CHECK_EQ(dp_flow_cookie_stats(SY_COOKIE_LIMIT_DEFAULT, big_cb, NULL, &err), 0);
	s = cpu_seconds_since(&t0);
	printf("     %u flows, a cookie each: %.0f ms of CPU\n", n, s * 1e3);
	CHECK(!COOKIE_TIME_BOUND || s < 0.9 * n / 1e6);
	CHECK_EQ(big_n, SY_COOKIE_LIMIT_DEFAULT);
	CHECK_EQ(dp_flow_mod(del, 1, &changed, &err), 0);
}

int
main(void)
{
	unsigned int n_big = env_uint("SY_TEST_COOKIE_FLOWS", COOKIE_FLOWS_DEFAULT);
	struct dp_config cfg = { .n_mbufs = 4096, .max_flows = n_big + 64 };
	char err[256];
	int rc;

	snprintf(seg_path, sizeof(seg_path), "/tmp/sy-test-sseg-%d.stats", (int)getpid());
	lc = sy_test_dp_start("stats_segment", &cfg);
	snap = calloc(1, sizeof(*snap));
	if (lc == NULL || snap == NULL)
		return 1;
	sy_test_port_add("in", "net_ring0", IN_PORT, 0, 1);
	sy_test_port_add("out", "net_null0,no-rx=1", OUT_PORT, 0, 1);
	if (sseg_init(seg_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "sseg_init: %s\n", err);
		return 1;
	}
	seg = map_segment();
	if (seg == NULL) {
		perror(seg_path);
		return 1;
	}

	RUN(file_is_private_and_self_describing);
	RUN(read_back_equals_the_messages);
	RUN(seqlock_never_shows_a_torn_snapshot);
	RUN(cleared_counters_show_cleared);
	RUN(new_port_and_deleted_port_show);
	RUN(stale_and_held_files);
	RUN(cookies_summed_over_every_table);
	RUN(a_million_flows_in_well_under_a_second);

	if (seg)
		munmap((void *)seg, sizeof(*seg));
	sseg_fini();
	rc = access(seg_path, F_OK) == 0; /* removed on the way out */
	if (rc)
		fprintf(stderr, "%s is still there\n", seg_path);
	free(snap);
	dp_fini();
	sy_test_eal_fini();
	return sy_test_summary() || rc;
}
