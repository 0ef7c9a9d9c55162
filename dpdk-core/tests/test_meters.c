/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_meters.c — the meter arithmetic (a known packet count at a known
 * rate passes the right share; the same answers as rte_meter's srTCM), the
 * meter table's refusals, and flows that name meters.
 */
#include <pthread.h>

#include <rte_cycles.h>
#include <rte_meter.h>

#include "datapath.h"
#include "meters.h"
#include "sy_flowmod.h"
#include "sy_test.h"

#define HZ 1000000000ull /* a 1 GHz TSC, so that times read as ns */

static struct meter *
meter_new(uint8_t unit, uint64_t rate, uint64_t burst)
{
	static union {
		struct meter m;
		uint8_t room[sizeof(struct meter) + sizeof(struct meter_ctr)];
	} u;
	struct sy_meter_desc d = { .id = 1, .unit = unit, .rate = rate, .burst = burst };
	struct sy_error err;

	memset(&u, 0, sizeof(u));
	if (meter_config(&u.m, &d, HZ, &err) < 0) {
		fprintf(stderr, "%s: %s\n", sy_test_current, err.msg);
		sy_test_failed_checks++;
	}
	return &u.m;
}

/* 10,000 packets at 2,000 pps through a 1,000 pps meter with a burst of
 * 100: the burst, then one packet in two. */
static void
pps_meter_passes_its_rate(void)
{
	struct meter *m = meter_new(SY_METER_PPS, 1000, 100);
	unsigned int pass = 0;

	for (uint64_t i = 0; i < 10000; i++)
		pass += meter_conform(m, i * (HZ / 2000), 1);
	/* 5 s at 1,000 pps, plus the full bucket of 100 at the start */
	CHECK(pass >= 5099 && pass <= 5101);
}

/* 1500-byte frames at 200 Mbit/s for 1 s through a 100 Mbit/s meter with
 * a 1,000-kbit burst: 12.5 MB plus 125 KB pass. */
static void
kbps_meter_passes_its_rate(void)
{
	struct meter *m = meter_new(SY_METER_KBPS, 100000, 1000);
	uint64_t gap = HZ * 1500 * 8 / 200000000, bytes = 0;

	for (uint64_t t = 0; t < HZ; t += gap)
		if (meter_conform(m, t, 1500))
			bytes += 1500;
	CHECK(bytes >= 12625000 - 1500 && bytes <= 12625000 + 1500);
}

/* Nothing passes while the bucket is empty, a long pause refills it to the
 * burst and no more, and a frame larger than the burst never passes. */
static void
bucket_refills_up_to_the_burst(void)
{
	struct meter *m = meter_new(SY_METER_PPS, 10, 5);
	unsigned int pass = 0;

	for (int i = 0; i < 20; i++)
		pass += meter_conform(m, 0, 1);
	CHECK_EQ(pass, 5);
	pass = 0;
	for (int i = 0; i < 20; i++)
		pass += meter_conform(m, 100 * HZ, 1);
	CHECK_EQ(pass, 5);
	m = meter_new(SY_METER_KBPS, 1000, 8); /* 1,000 bytes of burst */
	CHECK(!meter_conform(m, HZ, 1001));
	CHECK(meter_conform(m, HZ, 1000));
}

/* Against rte_meter's srTCM (CBS = burst, EBS = 0): the same frames at the
 * same times get the same verdicts, but for rounding at the edges. */
static void
same_verdicts_as_rte_meter_srtcm(void)
{
	uint64_t hz = rte_get_tsc_hz();
	struct rte_meter_srtcm_params prm = { .cir = 100000 * 125, .cbs = 1000 * 125, .ebs = 0 };
	struct rte_meter_srtcm_profile prof;
	struct rte_meter_srtcm rm;
	struct sy_meter_desc d = { .id = 1, .unit = SY_METER_KBPS, .rate = 100000, .burst = 1000 };
	static union {
		struct meter m;
		uint8_t room[sizeof(struct meter) + sizeof(struct meter_ctr)];
	} u;
	struct sy_error err;
	unsigned int ours = 0, theirs = 0, differ = 0;
	uint64_t t = hz; /* rte_meter starts with full buckets at time 0 */

	memset(&u, 0, sizeof(u));
	CHECK(meter_config(&u.m, &d, hz, &err) == 0);
	CHECK(rte_meter_srtcm_profile_config(&prof, &prm) == 0);
	CHECK(rte_meter_srtcm_config(&rm, &prof) == 0);
	rm.time = 0; /* both start full at t */
	srand(7);
	for (int i = 0; i < 200000; i++) {
		uint32_t len = 64 + (uint32_t)(rand() % 1455);
		bool a = meter_conform(&u.m, t, len);
		bool b = rte_meter_srtcm_color_blind_check(&rm, &prof, t, len) == RTE_COLOR_GREEN;

		ours += a;
		theirs += b;
		differ += a != b;
		t += (uint64_t)(rand() % 2000) * hz / 40000000; /* mean 25 us: ~2.5x the rate */
	}
	printf("     srTCM green %u, ours %u, verdicts differ on %u of 200000\n", theirs, ours,
	       differ);
	CHECK(ours > 50000 && ours < 150000); /* some refused, some passed */
	CHECK(ours >= theirs - theirs / 1000 && ours <= theirs + theirs / 1000);
}

/* Two bands, dscp_remark at 1,000 pps (burst 100) and drop at 2,000 pps
 * (burst 200), bands given highest first: 10,000 packets at 4,000 pps for
 * 2.5 s.  Under 2,000 pps plus its burst pass the drop band (5,200), the
 * rest is handled by it (4,800: red); of those 5,200, the remark band's
 * bucket passes 2,600 (green) and handles 2,600 (yellow).  The bands come
 * back sorted by rate, and the one-band fields describe band 0. */
static void
two_bands_are_a_trtcm(void)
{
	static union {
		struct meter m;
		uint8_t room[sizeof(struct meter) + sizeof(struct meter_ctr)];
	} u;
	struct sy_meter_desc d = { .id = 1, .unit = SY_METER_PPS };
	struct sy_meter_bands b = { .n_bands = 2 };
	unsigned int n[3] = { 0 }; /* green, yellow, red */
	struct sy_error err;

	b.band[0] = (struct sy_meter_band_desc){ .type = SY_BAND_DROP, .rate = 2000, .burst = 200 };
	b.band[1] = (struct sy_meter_band_desc){ .type = SY_BAND_DSCP_REMARK, .dscp = 10,
						 .rate = 1000, .burst = 100 };
	memset(&u, 0, sizeof(u));
	CHECK(meter_config_bands(&u.m, &d, &b, HZ, &err) == 0);
	CHECK_EQ(b.band[0].rate, 1000);
	CHECK_EQ(b.band[0].type, SY_BAND_DSCP_REMARK);
	CHECK_EQ(b.band[1].rate, 2000);
	CHECK_EQ(d.rate, 1000);
	CHECK_EQ(d.band, SY_BAND_DSCP_REMARK);
	CHECK_EQ(d.dscp, 10);
	CHECK_EQ(u.m.band[0].tos, 10 << 2);
	for (uint64_t i = 0; i < 10000; i++) {
		int v = meter_judge(&u.m, i * (HZ / 4000), 1);

		n[v + 1]++;
	}
	printf("     green %u, yellow (remark band) %u, red (drop band) %u\n", n[0], n[1], n[2]);
	CHECK(n[2] >= 4799 && n[2] <= 4801);
	CHECK(n[0] >= 2599 && n[0] <= 2601);
	CHECK_EQ(n[0] + n[1] + n[2], 10000);
}

/* Against rte_meter's colour-blind trTCM (CIR/CBS = the lower band,
 * PIR/PBS = the higher): the same colours for the same frames at the same
 * times, but for rounding at the edges. */
static void
same_colours_as_rte_meter_trtcm(void)
{
	uint64_t hz = rte_get_tsc_hz();
	struct rte_meter_trtcm_params prm = { .cir = 50000 * 125, .pir = 100000 * 125,
					      .cbs = 500 * 125, .pbs = 1000 * 125 };
	struct rte_meter_trtcm_profile prof;
	struct rte_meter_trtcm rm;
	struct sy_meter_desc d = { .id = 1, .unit = SY_METER_KBPS };
	struct sy_meter_bands b = { .n_bands = 2 };
	static union {
		struct meter m;
		uint8_t room[sizeof(struct meter) + sizeof(struct meter_ctr)];
	} u;
	struct sy_error err;
	unsigned int differ = 0, ours[3] = { 0 }, theirs[3] = { 0 };
	uint64_t t = hz;

	b.band[0] = (struct sy_meter_band_desc){ .type = SY_BAND_DSCP_REMARK, .rate = 50000,
						 .burst = 500 };
	b.band[1] = (struct sy_meter_band_desc){ .type = SY_BAND_DROP, .rate = 100000,
						 .burst = 1000 };
	memset(&u, 0, sizeof(u));
	CHECK(meter_config_bands(&u.m, &d, &b, hz, &err) == 0);
	CHECK(rte_meter_trtcm_profile_config(&prof, &prm) == 0);
	CHECK(rte_meter_trtcm_config(&rm, &prof) == 0);
	rm.time_tc = 0;
	rm.time_tp = 0;
	srand(11);
	for (int i = 0; i < 200000; i++) {
		uint32_t len = 64 + (uint32_t)(rand() % 1455);
		int a = meter_judge(&u.m, t, len) + 1; /* 0 green, 1 yellow, 2 red */
		enum rte_color c = rte_meter_trtcm_color_blind_check(&rm, &prof, t, len);
		int bcol = c == RTE_COLOR_GREEN ? 0 : c == RTE_COLOR_YELLOW ? 1 : 2;

		ours[a]++;
		theirs[bcol]++;
		differ += a != bcol;
		t += (uint64_t)(rand() % 2000) * hz / 40000000; /* ~2.5x the higher rate */
	}
	printf("     trTCM green/yellow/red %u/%u/%u, ours %u/%u/%u, colours differ on %u\n",
	       theirs[0], theirs[1], theirs[2], ours[0], ours[1], ours[2], differ);
	for (int c = 0; c < 3; c++) {
		CHECK(ours[c] > 10000);
		CHECK(ours[c] >= theirs[c] - theirs[c] / 500 && ours[c] <= theirs[c] + theirs[c] / 500);
	}
}

/* Bad bands are refused, naming the band; nothing is half-configured. */
static void
bad_bands_are_refused(void)
{
	struct meter m;
	struct sy_meter_desc d = { .id = 3, .unit = SY_METER_KBPS };
	struct sy_meter_bands b = { .n_bands = 2 };
	struct sy_error err;

	b.band[0] = (struct sy_meter_band_desc){ .type = SY_BAND_DROP, .rate = 100 };
	b.band[1] = (struct sy_meter_band_desc){ .type = SY_BAND_DROP, .rate = 100 };
	CHECK(meter_config_bands(&m, &d, &b, HZ, &err) < 0);
	CHECK_STR_CONTAINS(err.msg, "meter 3: two bands with rate 100");
	b.band[1].rate = 0;
	CHECK(meter_config_bands(&m, &d, &b, HZ, &err) < 0);
	CHECK_STR_CONTAINS(err.msg, "meter 3 band 1: rate 0, expected 1..100000000 kbps");
	b.band[1] = (struct sy_meter_band_desc){ .type = SY_BAND_DSCP_REMARK, .rate = 50, .dscp = 64 };
	CHECK(meter_config_bands(&m, &d, &b, HZ, &err) < 0);
	CHECK_STR_CONTAINS(err.msg, "meter 3 band 1: dscp 64, expected 0..63");
	b.n_bands = 5;
	CHECK(meter_config_bands(&m, &d, &b, HZ, &err) < 0);
	CHECK_STR_CONTAINS(err.msg, "meter 3: 5 bands, at most 4");
}

/* Two threads charging one shared bucket at once (compare-and-swap, as
 * with several poll-mode lcores) at one instant: together they pass
 * exactly the burst, not a burst each, and lose no charge to a race. */
struct racer {
	struct meter *m;
	unsigned int pass;
};

static volatile int race_go;

static void *
race(void *arg)
{
	struct racer *r = arg;

	while (!race_go)
		;
	for (int i = 0; i < 1500000; i++)
		r->pass += meter_conform(r->m, HZ, 1);
	return NULL;
}

static void
lcores_share_one_bucket(void)
{
	struct meter *m = meter_new(SY_METER_PPS, 1, 2000000);
	struct racer r[2] = { { .m = m }, { .m = m } };
	pthread_t t[2];

	m->shared = 1;
	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&t[i], NULL, race, &r[i]) == 0);
	race_go = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("     two threads, 1.5M tries each: %u + %u passed of a burst of 2000000\n",
	       r[0].pass, r[1].pass);
	CHECK_EQ(r[0].pass + r[1].pass, 2000000);
}

/* Zero rate, bad DSCP, taken ids, missing ids, meters in use. */
static void
meter_table_refuses_bad_changes(void)
{
	struct sy_meter_desc d = { .id = 7, .unit = SY_METER_KBPS, .rate = 0 }, out;
	struct sy_flow_mod *fm;
	struct sy_error err;
	uint32_t n;

	CHECK(meter_mod(SY_MC_ADD, &d, &out, &err) < 0);
	CHECK_EQ(err.code, SY_E_INVAL);
	CHECK_STR_CONTAINS(err.msg, "meter 7: rate 0");
	d.rate = 1000;
	d.band = SY_BAND_DSCP_REMARK;
	d.dscp = 64;
	CHECK(meter_mod(SY_MC_ADD, &d, &out, &err) < 0);
	CHECK_STR_CONTAINS(err.msg, "dscp 64");
	d.dscp = 46;
	CHECK(meter_mod(SY_MC_ADD, &d, &out, &err) == 0);
	CHECK_EQ(out.burst, 100); /* 100 ms of 1,000 kbit/s */
	CHECK(meter_mod(SY_MC_ADD, &d, &out, &err) < 0);
	CHECK_EQ(err.code, SY_E_EXIST);

	fm = fm_new(SY_FC_ADD, 0, 10);
	act(fm, (struct sy_action){ .type = SY_ACT_METER, .arg = 8 });
	act(fm, output(SY_PORT_FLOOD));
	CHECK(dp_flow_mod(fm, 1, &n, &err) < 0);
	CHECK_EQ(err.code, SY_E_NOENT);
	CHECK_STR_CONTAINS(err.msg, "meter:8, no such meter");
	fm->actions[0].arg = 7;
	CHECK(dp_flow_mod(fm, 1, &n, &err) == 0);

	d.rate = 2000;
	CHECK(meter_mod(SY_MC_MODIFY, &d, &out, &err) == 0);
	CHECK_EQ(out.rate, 2000);
	CHECK(meter_mod(SY_MC_DELETE, &d, NULL, &err) < 0);
	CHECK_EQ(err.code, SY_E_BUSY);
	CHECK_STR_CONTAINS(err.msg, "meter 7 is used by 1 flow");
	fm->hdr.command = SY_FC_DELETE;
	CHECK(dp_flow_mod(fm, 1, &n, &err) == 0);
	CHECK(meter_mod(SY_MC_DELETE, &d, NULL, &err) == 0);
	CHECK(!meter_exists(7));
	CHECK(meter_mod(SY_MC_DELETE, &d, NULL, &err) < 0);
	CHECK_EQ(err.code, SY_E_NOENT);
}

int
main(void)
{
	struct dp_config cfg = { .n_mbufs = 1024 };

	if (sy_test_dp_start("meters", &cfg) == NULL)
		return 1;
	RUN(pps_meter_passes_its_rate);
	RUN(kbps_meter_passes_its_rate);
	RUN(bucket_refills_up_to_the_burst);
	RUN(same_verdicts_as_rte_meter_srtcm);
	RUN(two_bands_are_a_trtcm);
	RUN(same_colours_as_rte_meter_trtcm);
	RUN(bad_bands_are_refused);
	RUN(lcores_share_one_bucket);
	RUN(meter_table_refuses_bad_changes);
	dp_fini();
	sy_test_eal_fini();
	return sy_test_summary();
}
