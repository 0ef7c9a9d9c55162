/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_parse.c — a libFuzzer target for the packet parser: any bytes as a
 * frame, on any port, in one segment or in a chain of segments.
 *
 * Input: byte 0 is the segment size (0: the whole frame in one mbuf, as far
 * as the mbuf holds), byte 1 the input port, the rest the frame.
 * parse_packet() must not crash or read outside the mbufs, and what it says
 * must hold together: an accepted frame's layout lies inside the frame, a
 * refused one has a named drop reason.
 *
 * EAL starts once (no hugepages, no PCI, a file prefix of its own) and its
 * runtime directory is removed at exit.  Built and run by scripts/fuzz.sh
 * (clang, -fsanitize=fuzzer,address,undefined); with -DSY_FUZZ_STANDALONE
 * any compiler builds a runner over files (a reproducer, a corpus).
 */
#include <stdio.h>
#include <stdlib.h>

#include <rte_mbuf.h>

#define SY_TEST_WITH_EAL
#include "parse.h"
#include "sy_pkt.h"
#include "sy_test.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DATA_ROOM 2048

static struct rte_mempool *mp;

static void
fini(void)
{
	rte_mempool_free(mp);
	sy_test_eal_fini();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (sy_test_eal_init("fuzz_parse", NULL) < 0) {
		fprintf(stderr, "fuzz_parse: EAL init failed\n");
		exit(1);
	}
	mp = rte_pktmbuf_pool_create("fuzz", 1023, 0, 0, DATA_ROOM + RTE_PKTMBUF_HEADROOM,
				     SOCKET_ID_ANY);
	if (mp == NULL) {
		fprintf(stderr, "fuzz_parse: no mbuf pool\n");
		exit(1);
	}
	atexit(fini);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sy_flow_key key;
	struct parse_layout lay;
	enum sy_drop_reason why = SY_DROP__MAX;
	struct rte_mbuf *m;
	size_t seg, len;

	if (size < 2)
		return 0;
	seg = data[0] ? data[0] : DATA_ROOM;
	len = size - 2;
	if (len > 64 * 1024 - 1 || (len + seg - 1) / seg > 127)
		return 0; /* more than an mbuf chain may hold */
	m = pkt_mbuf(mp, data + 2, len, seg);
	if (m == NULL)
		abort(); /* the pool leaks */
	if (parse_packet(m, data[1], &key, &lay, &why)) {
		if (key.in_port != data[1] || lay.l3_ofs < 14 || lay.hdr_len > m->pkt_len ||
		    lay.l3_ofs > lay.hdr_len || lay.l4_ofs > lay.hdr_len ||
		    lay.n_vlan > PARSE_MAX_VLAN)
			abort();
	} else if (why >= SY_DROP__MAX) {
		abort(); /* a refusal names its reason */
	}
	rte_pktmbuf_free(m);
	return 0;
}

#ifdef SY_FUZZ_STANDALONE
#define SY_FUZZ_HAS_INIT
#include "fuzz_standalone.h"
#endif
