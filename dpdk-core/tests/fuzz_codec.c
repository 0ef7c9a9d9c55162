/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_codec.c — a libFuzzer target for the control protocol's parser.
 *
 * The input is a byte stream as a client might send it: it is framed with
 * sy_msg_frame(), each message parsed with sy_msg_parse(), and every
 * attribute of a message that parses is read with the getter a receiver
 * would use.  Nothing may crash, read out of bounds or leak.
 *
 * scripts/fuzz.sh builds it with clang (-fsanitize=fuzzer,address,undefined)
 * and runs it (`npm run fuzz`; npm test runs it briefly).  meson builds it
 * with -DSY_FUZZ_STANDALONE (fuzz_standalone.h) and `meson test` replays the
 * seed corpus and every crash reproducer in dpdk-core/tests/corpus/codec/.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <switchyard/codec.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
consume(const struct sy_msg *m)
{
	char err[SY_CODEC_ERR_MAX], text[SY_ERRMSG_MAX];
	struct sy_attr_iter it;
	const struct sy_attr *a;
	int code, index;

	sy_get_error(m, &code, &index, text, sizeof(text), err, sizeof(err));
	sy_attr_iter_msg(&it, m);
	while (sy_attr_next(&it, &a) > 0) {
		union {
			struct sy_port_desc pd;
			struct sy_port_stats ps;
			struct sy_table_desc td;
			struct sy_dp_stats ds;
			struct sy_dp_info di;
			struct sy_flow_mod fm;
			uint32_t u;
		} u;
		struct sy_flow_stats st;
		bool has;

		switch (sy_attr_policy(a->type)->kind) {
		case SY_AK_STRING: {
			const char *s = sy_attr_get_str(a, err, sizeof(err));

			if (s != NULL && strlen(s) >= sy_attr_payload_len(a))
				abort(); /* the NUL must be inside the attribute */
			break;
		}
		case SY_AK_U32:
			sy_attr_get_u32(a, &u.u, err, sizeof(err));
			break;
		default:
			break;
		}
		switch (a->type) {
		case SY_A_FLOW:
			if (sy_get_flow(a, &u.fm, &st, &has, err, sizeof(err)) == 0 &&
			    u.fm.n_actions > SY_MAX_ACTIONS)
				abort();
			break;
		case SY_A_PORT_DESC:
			sy_get_port_desc(a, &u.pd, err, sizeof(err));
			break;
		case SY_A_PORT_STATS:
			sy_get_port_stats(a, &u.ps, err, sizeof(err));
			break;
		case SY_A_TABLE_DESC:
			sy_get_table_desc(a, &u.td, err, sizeof(err));
			break;
		case SY_A_DP_STATS:
			sy_get_dp_stats(a, &u.ds, err, sizeof(err));
			break;
		case SY_A_DP_INFO:
			sy_get_dp_info(a, &u.di, err, sizeof(err));
			break;
		default:
			break;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[SY_CODEC_ERR_MAX];
	size_t off = 0;

	while (off < size) {
		struct sy_msg_hdr h;
		struct sy_msg m;
		uint32_t len;
		uint8_t *copy;

		if (sy_msg_frame(data + off, size - off, &h, &len, err, sizeof(err)) != SY_FRAME_OK)
			break; /* short, or a stream the server would close */
		/* An exact-size copy, as the server's buffer holds it. */
		copy = malloc(len);
		if (copy == NULL)
			break;
		memcpy(copy, data + off, len);
		if (sy_msg_parse(copy, len, &m, err, sizeof(err)) == 0)
			consume(&m);
		else if (err[0] == '\0')
			abort(); /* every refusal says why */
		free(copy);
		off += len;
	}
	return 0;
}

#ifdef SY_FUZZ_STANDALONE
#include "fuzz_standalone.h"
#endif
