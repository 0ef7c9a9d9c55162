#!/usr/bin/env bash
# npm run bench [-- SCENARIO...]: runs benchmark scenarios, prints their
# tables and writes build/bench/<scenario>.json and .md.
#
# A scenario is bench/scenarios/<name>.scenario.ts: a vitest file that
# measures and calls report() (bench/lib/report.ts). With no argument every
# scenario runs. Needs root (namespaces, vhost-user sockets, DPDK) and a
# built tree (scripts/bootstrap.sh). Not part of npm test.
#
#   fastpath  one forwarding lcore: a generated pcap replayed for ever
#             (net_pcap infinite_rx) -> switch -> net_null, beside testpmd
#             --forward-mode=io on the same file and cores (and Open vSwitch
#             with DPDK when installed): one flow, 1,000 dl_dst flows, a
#             two-table ACL of 1K/100K/1M rules at 64 and 1518 bytes; flow
#             load time and resident memory (about 8 minutes; traffic files
#             are made once in build/bench/*.pcap; BENCH_FP_* in the file)
#   load      the operator's path: the fastpath ACL as 100,000-line flow
#             files through switchyard flow add --file (CLI -> gRPC ->
#             daemon -> addon -> data plane), 100K and 1M flows, then one
#             flow more, a full dump and a daemon restart (about 3 minutes)
#   guests    guest-to-guest over vhost-user: testpmd txonly -> switch ->
#             testpmd rxonly, beside testpmd --forward-mode=io on the same
#             sockets and cores (the ceiling), at 64 and 9000 bytes; and
#             one flowgen guest on both sockets, both ways, at 64 bytes
#   statsread the fastpath one-flow case on one switchyard-dp, alternately
#             with no reader, readStats() (the stats segment) 10 times a
#             second and pmdStats()+portStats() messages 10 times a second:
#             Mpps of each and the ratio (about 2 minutes; BENCH_SR_* in
#             the file)
#
# Shared pieces are in bench/lib: report.ts (tables), measure.ts (ceiling
# vs switch rounds, testpmd rate samples, medians), dp.ts (switchyard-dp
# with the addon), testpmd.ts, ovs.ts, pcap.ts, rules.ts, traffic.ts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ $(id -u) != 0 ]]; then
	echo "bench: needs root" >&2
	exit 1
fi
[[ -x build/dpdk-core/src/switchyard-dp && -e dist/mgmt/main.js ]] || {
	echo "bench: build first (bash scripts/bootstrap.sh)" >&2
	exit 1
}

files=()
if (($#)); then
	for s in "$@"; do
		f=bench/scenarios/$s.scenario.ts
		[[ -e $f ]] || {
			echo "bench: no scenario '$s' (have: $(cd bench/scenarios && ls *.scenario.ts | sed 's/\.scenario\.ts//' | tr '\n' ' '))" >&2
			exit 2
		}
		files+=("$f")
	done
else
	files=(bench/scenarios/*.scenario.ts)
fi

mkdir -p build/bench
npx --no-install vitest run --config bench/vitest.config.ts "${files[@]}"
echo
for f in "${files[@]}"; do
	n=$(basename "$f" .scenario.ts)
	[[ -e build/bench/$n.md ]] && cat "build/bench/$n.md"
done
