/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sy_test.h — the few macros the C unit tests share.
 *
 * A test file is a main() that calls its cases with RUN(name); a CHECK that
 * fails prints where and what, marks the case failed and goes on, so one run
 * shows every failure.  main() returns sy_test_summary(), whose last line is
 * "N passed, N failed" (what CI reads).  Tests that need DPDK call
 * sy_test_eal_init(), which starts EAL without hugepages or PCI under a file
 * prefix of its own, and end with sy_test_eal_fini(), which stops it and
 * removes the runtime directory EAL leaves under /var/run/dpdk;
 * sy_test_dp_start() adds the data plane (dp_init) on top.
 */
#ifndef SY_TEST_H
#define SY_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int sy_test_failed_checks __attribute__((unused)), sy_test_passed __attribute__((unused)),
	sy_test_failed __attribute__((unused));
static const char *sy_test_current __attribute__((unused));

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n",       \
				__FILE__, __LINE__, sy_test_current, #cond);   \
			sy_test_failed_checks++;                               \
		}                                                              \
	} while (0)

#define CHECK_EQ(a, b)                                                         \
	do {                                                                   \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);               \
		if (a_ != b_) {                                                \
			fprintf(stderr,                                        \
				"%s:%d: %s: %s == %s failed: %" PRIu64         \
				" != %" PRIu64 "\n",                           \
				__FILE__, __LINE__, sy_test_current, #a, #b,   \
				a_, b_);                                       \
			sy_test_failed_checks++;                               \
		}                                                              \
	} while (0)

#define CHECK_STR_CONTAINS(s, sub)                                             \
	do {                                                                   \
		if (strstr((s), (sub)) == NULL) {                              \
			fprintf(stderr, "%s:%d: %s: \"%s\" lacks \"%s\"\n",    \
				__FILE__, __LINE__, sy_test_current, (s),      \
				(sub));                                        \
			sy_test_failed_checks++;                               \
		}                                                              \
	} while (0)

#define RUN(fn)                                                                \
	do {                                                                   \
		int before_ = sy_test_failed_checks;                           \
		sy_test_current = #fn;                                         \
		fn();                                                          \
		if (sy_test_failed_checks == before_) {                        \
			sy_test_passed++;                                      \
			printf("ok   %s\n", #fn);                              \
		} else {                                                       \
			sy_test_failed++;                                      \
			printf("FAIL %s\n", #fn);                              \
		}                                                              \
	} while (0)

static inline int
sy_test_summary(void)
{
	printf("%d passed, %d failed\n", sy_test_passed, sy_test_failed);
	return sy_test_failed ? 1 : 0;
}

#ifdef SY_TEST_WITH_EAL
#include <dirent.h>
#include <limits.h>

#include <rte_eal.h>

#include "datapath.h"

/* Starts EAL for a unit test: no hugepages, no PCI, a file prefix of its own,
 * and the vdevs given (may be NULL). */
static inline int
sy_test_eal_init(const char *name, const char *const *vdevs)
{
	char prefix[64], *argv[32];
	int argc = 0;

	snprintf(prefix, sizeof(prefix), "--file-prefix=sytest-%s-%d", name, (int)getpid());
	argv[argc++] = (char *)name;
	argv[argc++] = (char *)"--no-huge";
	argv[argc++] = (char *)"--no-pci";
	argv[argc++] = (char *)"-m";
	argv[argc++] = (char *)"256";
	argv[argc++] = (char *)"-l";
	argv[argc++] = (char *)"0";
	argv[argc++] = (char *)"--log-level=lib.eal:warning";
	argv[argc++] = prefix;
	for (int i = 0; vdevs && vdevs[i] && argc < 30; i++) {
		argv[argc++] = (char *)"--vdev";
		argv[argc++] = (char *)vdevs[i];
	}
	return rte_eal_init(argc, argv);
}

/* EAL (sy_test_eal_init) and the data plane (dp_init) of a test, whose one
 * lcore slot the test drives by hand (pl_run_once, pl_input).  Returns that
 * slot's lcore, or NULL after saying what failed. */
static inline struct pl_lcore *
sy_test_dp_start(const char *name, const struct dp_config *cfg)
{
	struct sy_error err;

	if (sy_test_eal_init(name, NULL) < 0) {
		fprintf(stderr, "cannot start EAL\n");
		return NULL;
	}
	if (dp_init(cfg, &err) < 0) {
		fprintf(stderr, "dp_init: %s\n", err.msg);
		return NULL;
	}
	return dp.lcore[0];
}

/* Attaches a port (dp_port_add) or ends the test run; returns its DPDK
 * port id.  mtu 0: the device's default. */
static inline uint16_t
sy_test_port_add(const char *name, const char *devargs, uint32_t id, uint16_t mtu, int up)
{
	struct dp_port_add_req req = { .name = name, .devargs = devargs, .id = id,
				       .mtu = mtu, .admin_up = up };
	struct sy_port_desc d;
	struct sy_error err;

	if (dp_port_add(&req, &d, &err) < 0) {
		fprintf(stderr, "dp_port_add %s: %s\n", devargs, err.msg);
		exit(1);
	}
	return d.dpdk_port;
}

/* Applies one flow-mod (dp_flow_mod); a refusal is a failed check.
 * Returns the number of entries changed, or -1 if refused. */
static inline int
sy_test_flow_mod(struct sy_flow_mod *fm)
{
	struct sy_error err;
	uint32_t n;

	if (dp_flow_mod(fm, 1, &n, &err) < 0) {
		fprintf(stderr, "%s: flow-mod refused: %s\n", sy_test_current, err.msg);
		sy_test_failed_checks++;
		return -1;
	}
	return (int)n;
}

/* Stops EAL and removes its runtime directory (/var/run/dpdk/<prefix>). */
static inline void
sy_test_eal_fini(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (!dir[0] || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) { /* EAL's runtime dir is flat */
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name), unlink(path);
	}
	closedir(d);
	rmdir(dir);
}
#endif

#endif /* SY_TEST_H */
