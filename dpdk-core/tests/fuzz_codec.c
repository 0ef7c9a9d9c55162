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

#include "codec_consume.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
		if (sy_msg_parse(copy, len, &m, err, sizeof(err)) == 0) {
			if (sy_codec_consume(&m) < 0)
				abort();
		} else if (err[0] == '\0') {
			abort(); /* every refusal says why */
		}
		free(copy);
		off += len;
	}
	return 0;
}

#ifdef SY_FUZZ_STANDALONE
#include "fuzz_standalone.h"
#endif
