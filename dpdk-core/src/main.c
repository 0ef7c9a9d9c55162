/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c — switchyard-dp: EAL, the data plane, the control server.
 *
 *   switchyard-dp [EAL args] -- [--socket PATH] [--port NAME=DEVARGS]...
 *                 [--pmd-sleep-max US] [--mbufs N] [--max-flows N] [--controller-rate N]
 *                 [--stats-segment PATH|none]
 *
 * The main lcore serves the control socket (ctl_server.h) and does every
 * slow-path change; every other lcore forwards (pipeline.h), so at least
 * two lcores are needed.  The main lcore also publishes every counter in
 * the stats segment (stats_segment.h; by default dp.stats beside the
 * control socket, mode 0600, removed on exit), which clients read without
 * a message.  Forwarding lcores may share a CPU: EAL's
 * `--lcores 0@0,1@1,2@1` gives two of them on CPU 1 (PMD_STATS reports
 * each one's CPU), and ports' rx queues are dealt over them (ports.h).  Ports given with --port are attached before the
 * socket is served.  SIGINT or SIGTERM stops the switch: forwarding lcores
 * first, then ports, then the socket, then EAL.  Any start-up error is one
 * line on stderr naming the problem, and a non-zero exit.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include <switchyard/stats_segment.h>

#include "ctl_server.h"
#include "dataplane.h"
#include "datapath.h"
#include "packet_in.h"
#include "stats_segment.h"

#define DEFAULT_SOCKET "/run/switchyard/dp.sock"
#define MAX_CLI_PORTS SY_MAX_PORTS

static volatile bool quit;

struct options {
	const char *socket;
	const char *stats_segment; /* NULL: beside the socket; "none": none */
	struct dp_config dp;
	unsigned int n_ports;
	char *port[MAX_CLI_PORTS]; /* NAME=DEVARGS */
};

static void
on_signal(int sig)
{
	(void)sig;
	quit = true;
}

static void
usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [EAL args] -- [--socket PATH] [--port NAME=DEVARGS]...\n"
		"       [--pmd-sleep-max US] [--mbufs N] [--max-flows N] [--stats-segment PATH]\n"
		"       [--controller-rate N]\n"
		"  --socket PATH        control socket (default %s)\n"
		"  --stats-segment PATH counters in shared memory for clients to read\n"
		"                       (default: " SY_SSEG_NAME " beside the control socket;\n"
		"                       none: no segment)\n"
		"  --port NAME=DEVARGS  attach a port at start, e.g. p1=net_tap0,iface=sy0\n"
		"  --pmd-sleep-max US   idle forwarding lcores sleep up to US microseconds\n"
		"                       (default 0: poll without sleeping)\n"
		"  --mbufs N            mbufs in the packet pool (default %u)\n"
		"  --max-flows N        flow entries in the whole switch (default %u)\n"
		"  --controller-rate N  packet-ins per second, the whole switch; bursts of\n"
		"                       a quarter of that, at least %d (default %d)\n",
		prog, DEFAULT_SOCKET, DP_DEFAULT_MBUFS, DP_DEFAULT_MAX_FLOWS, PIN_MIN_BURST,
		PIN_DEFAULT_RATE);
}

static int
parse_u32(const char *opt, const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "switchyard-dp: --%s %s: expected a number in %u..%u\n", opt, s,
			min, max);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* 0: run; 1: stop with success (--help); -1: stop with an error. */
static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "pmd-sleep-max", required_argument, NULL, 'S' },
		{ "mbufs", required_argument, NULL, 'm' },
		{ "max-flows", required_argument, NULL, 'f' },
		{ "stats-segment", required_argument, NULL, 'T' },
		{ "controller-rate", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->socket = DEFAULT_SOCKET;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'p':
			if (strchr(optarg, '=') == NULL || optarg[0] == '=') {
				fprintf(stderr, "switchyard-dp: --port %s: expected NAME=DEVARGS\n",
					optarg);
				return -1;
			}
			if (o->n_ports == MAX_CLI_PORTS) {
				fprintf(stderr, "switchyard-dp: at most %d --port options\n",
					MAX_CLI_PORTS);
				return -1;
			}
			o->port[o->n_ports++] = optarg;
			break;
		case 'S':
			if (parse_u32("pmd-sleep-max", optarg, 0, 10000000, &o->dp.pmd_sleep_max_us))
				return -1;
			break;
		case 'm':
			if (parse_u32("mbufs", optarg, 1024, 16u << 20, &o->dp.n_mbufs))
				return -1;
			break;
		case 'f':
			if (parse_u32("max-flows", optarg, 1, DP_MAX_FLOWS_LIMIT, &o->dp.max_flows))
				return -1;
			break;
		case 'C':
			if (parse_u32("controller-rate", optarg, 1, PIN_MAX_RATE,
				      &o->dp.controller_rate))
				return -1;
			break;
		case 'T':
			o->stats_segment = optarg;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 1;
		default:
			usage(stderr, argv[0]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "switchyard-dp: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* Creates the stats segment: at o->stats_segment, or SY_SSEG_NAME in the
 * socket's directory; none with "none".  0, or -1 after saying why. */
static int
start_stats_segment(const struct options *o)
{
	char path[SY_PATH_MAX], err[SY_PATH_MAX + 128];
	const char *slash;

	if (o->stats_segment != NULL && strcmp(o->stats_segment, "none") == 0)
		return 0;
	if (o->stats_segment != NULL) {
		snprintf(path, sizeof(path), "%s", o->stats_segment);
	} else {
		slash = strrchr(o->socket, '/');
		if (slash == NULL)
			snprintf(path, sizeof(path), "%s", SY_SSEG_NAME);
		else
			snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - o->socket),
				 o->socket, SY_SSEG_NAME);
	}
	if (sseg_init(path, err, sizeof(err)) < 0) {
		fprintf(stderr, "switchyard-dp: %s (--stats-segment none runs without one)\n", err);
		return -1;
	}
	return 0;
}

static int
add_cli_port(char *spec)
{
	char *eq = strchr(spec, '=');
	struct dp_port_add_req req = { .admin_up = 1 };
	struct sy_port_desc desc;
	struct sy_error err;

	*eq = '\0';
	req.name = spec;
	req.devargs = eq + 1;
	if (dp_port_add(&req, &desc, &err) < 0) {
		fprintf(stderr, "switchyard-dp: --port %s=%s: %s\n", spec, eq + 1, err.msg);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct options opts;
	struct sigaction sa;
	struct sy_error err;
	int n, rc;

	n = rte_eal_init(argc, argv);
	if (n < 0)
		rte_exit(EXIT_FAILURE, "switchyard-dp: cannot initialise EAL: %s\n",
			 rte_strerror(rte_errno));
	argc -= n;
	argv += n;

	memset(&opts, 0, sizeof(opts));
	rc = parse_args(argc, argv, &opts);
	if (rc != 0) {
		rte_eal_cleanup();
		return rc > 0 ? EXIT_SUCCESS : 2;
	}
	if (rte_lcore_count() < 2) {
		fprintf(stderr, "switchyard-dp: needs at least two lcores (e.g. -l 0,1): the main "
				"lcore serves the control socket, the others forward packets\n");
		rte_eal_cleanup();
		return EXIT_FAILURE;
	}

	if (dp_init(&opts.dp, &err) < 0) {
		fprintf(stderr, "switchyard-dp: %s\n", err.msg);
		rte_eal_cleanup();
		return EXIT_FAILURE;
	}
	if (ctl_server_init(opts.socket) < 0) {
		fprintf(stderr, "switchyard-dp: cannot listen on %s: %s\n", opts.socket,
			strerror(errno));
		dp_fini();
		rte_eal_cleanup();
		return EXIT_FAILURE;
	}
	if (start_stats_segment(&opts) < 0) {
		dp_fini();
		ctl_server_fini();
		rte_eal_cleanup();
		return EXIT_FAILURE;
	}
	for (unsigned int i = 0; i < opts.n_ports; i++)
		if (add_cli_port(opts.port[i]) < 0) {
			sseg_fini();
			dp_fini();
			ctl_server_fini();
			rte_eal_cleanup();
			return EXIT_FAILURE;
		}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (dp_launch() != 0) {
		fprintf(stderr, "switchyard-dp: cannot start the forwarding lcores\n");
		sseg_fini();
		dp_fini();
		ctl_server_fini();
		rte_eal_cleanup();
		return EXIT_FAILURE;
	}
	sseg_publish(); /* with the --port ports */
	if (sseg_path() != NULL)
		printf("switchyard-dp: stats segment %s\n", sseg_path());
	printf("switchyard-dp: ready, control socket %s\n", opts.socket);
	fflush(stdout);

	ctl_server_run(&quit);

	sseg_fini();
	dp_halt();
	dp_fini();
	ctl_server_fini();
	rte_eal_cleanup();
	return EXIT_SUCCESS;
}
