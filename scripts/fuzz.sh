#!/usr/bin/env bash
# Build the libFuzzer targets with clang into build-fuzz/ and run each one.
#
#   scripts/fuzz.sh                  every target 10 minutes (npm run fuzz)
#   scripts/fuzz.sh --seconds 30     every target 30 s (npm test does this)
#   scripts/fuzz.sh --seconds 60 parse    one target
#   scripts/fuzz.sh --gen-corpus     rewrite the seed corpora in dpdk-core/tests/corpus/
#   FUZZ_SECONDS=N, FUZZ_JOBS=N      the same from the environment (jobs: parallel
#                                    fuzzing processes per target, default 1)
#
# Targets (dpdk-core/tests/fuzz_*.c):
#   codec   any bytes on the control socket: framing, parsing, every attribute getter
#   parse   any bytes as a frame on any port, in one mbuf or a chain (EAL --no-huge)
#
# Each target reads its checked-in seed corpus (dpdk-core/tests/corpus/<t>/,
# never written) and keeps what it finds in build-fuzz/corpus/<t>/. A crash
# leaves build-fuzz/crashes/<t>/crash-* and makes this script fail; rerun it
# with build-fuzz/fuzz_<t> FILE, then add the file to the target's unit test
# (test_codec.c / test_parse.c) as a regression case.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
OUT=$ROOT/build-fuzz
SECONDS_EACH=${FUZZ_SECONDS:-600}
JOBS=${FUZZ_JOBS:-1}
GEN=0
TARGETS=()
while (($#)); do
	case $1 in
	--seconds) SECONDS_EACH=$2; shift 2 ;;
	--jobs) JOBS=$2; shift 2 ;;
	--gen-corpus) GEN=1; shift ;;
	-h | --help) sed -n '2,20p' "$0"; exit 0 ;;
	codec | parse) TARGETS+=("$1"); shift ;;
	*) echo "fuzz: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
((${#TARGETS[@]})) || TARGETS=(codec parse)

command -v clang >/dev/null || { echo "fuzz: clang is missing (apt-get install clang libclang-rt-14-dev; scripts/bootstrap.sh does)" >&2; exit 1; }
mkdir -p "$OUT"

T=dpdk-core/tests
S=dpdk-core/src
CFLAGS=(-g -O1 -fno-omit-frame-pointer -Idpdk-core/include -I$S -I$T -DALLOW_EXPERIMENTAL_API
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
read -r -a DPDK_CFLAGS <<<"$(pkg-config --cflags libdpdk)"
read -r -a DPDK_LIBS <<<"$(pkg-config --libs libdpdk)"

# build NAME SOURCES... : build-fuzz/fuzz_NAME, rebuilt when a source or header is newer.
build() {
	local name=$1 bin=$OUT/fuzz_$1
	shift
	if [[ -x $bin ]] && [[ -z $(find "$@" dpdk-core/include "$S"/*.h "$T"/*.h -newer "$bin" -print -quit) ]]; then
		return
	fi
	echo "fuzz: building $bin"
	if [[ $name == parse ]]; then
		clang "${CFLAGS[@]}" "${DPDK_CFLAGS[@]}" "$@" -o "$bin" "${DPDK_LIBS[@]}"
	else
		clang "${CFLAGS[@]}" "$@" -o "$bin"
	fi
}

build codec $T/fuzz_codec.c $S/codec.c $S/flow.c
build parse $T/fuzz_parse.c $S/parse.c

if ((GEN)); then
	gcc -O1 -Idpdk-core/include -I$T "${DPDK_CFLAGS[@]}" $T/gen_corpus.c $S/codec.c $S/flow.c -o "$OUT/gen_corpus"
	for t in codec parse; do
		rm -rf "$T/corpus/$t"
		mkdir -p "$T/corpus/$t"
	done
	"$OUT/gen_corpus" "$T/corpus"
	echo "fuzz: seed corpora written to $T/corpus/"
	exit 0
fi

fail=0
for t in "${TARGETS[@]}"; do
	work=$OUT/corpus/$t crashes=$OUT/crashes/$t
	mkdir -p "$work" "$crashes"
	args=(-max_total_time="$SECONDS_EACH" -artifact_prefix="$crashes/" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048)
	case $t in
	codec) args+=(-max_len=8192) ;;
	parse) args+=(-max_len=4096) ;;
	esac
	((JOBS > 1)) && args+=(-jobs="$JOBS" -workers="$JOBS")
	echo "fuzz: $t for ${SECONDS_EACH}s (corpus $T/corpus/$t + $work)"
	log=$OUT/$t.log
	# ASan's leak check runs at exit: libFuzzer reports a leak per input too.
	if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		"$OUT/fuzz_$t" "${args[@]}" "$work" "$T/corpus/$t" >"$log" 2>&1; then
		echo "fuzz: $t ok: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') runs, $(ls "$work" | wc -l) inputs in its corpus"
	else
		fail=1
		echo "fuzz: $t FAILED; last lines of $log:" >&2
		grep -E 'ERROR|runtime error|SUMMARY|Test unit written|deadly signal' "$log" | head -20 >&2 || tail -30 "$log" >&2
	fi
done
exit $fail
