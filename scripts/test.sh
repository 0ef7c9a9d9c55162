#!/usr/bin/env bash
# Run every test: the C unit tests (meson test), then vitest (unit, then
# integration on real DPDK virtual devices in network namespaces).
# `npm test` runs scripts/bootstrap.sh first. Ends with "N passed, N failed"
# and exits non-zero if anything failed.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p build
RESULTS=build/test-results
rm -rf "$RESULTS"
mkdir -p "$RESULTS"

if [[ $(id -u) != 0 ]]; then
	echo "test: not root: the integration tests need root (namespaces, af_packet, DPDK)" >&2
fi

# --- C unit tests -----------------------------------------------------------
c_pass=0 c_fail=0
if [[ -e build/meson-private/coredata.dat ]]; then
	meson test -C build --print-errorlogs
	c_rc=$?
	if [[ -e build/meson-logs/testlog.json ]]; then
		read -r c_pass c_fail < <(node -e '
			const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
			let p = 0, f = 0;
			for (const l of lines) {
				const r = JSON.parse(l).result;
				if (r === "OK" || r === "EXPECTEDFAIL") p++;
				else if (r !== "SKIP") f++;
			}
			console.log(p, f);' build/meson-logs/testlog.json)
	fi
	if ((c_rc != 0 && c_fail == 0)); then
		c_fail=1 # meson test itself failed (build error, no tests run)
	fi
else
	echo "test: build/ is not configured (run scripts/bootstrap.sh)" >&2
	c_fail=1
fi

# --- vitest -------------------------------------------------------------------
npx --no-install vitest run --passWithNoTests \
	--reporter=default --reporter=json --outputFile.json="$RESULTS/vitest.json"
v_rc=$?
v_pass=0 v_fail=0
if [[ -e $RESULTS/vitest.json ]]; then
	read -r v_pass v_fail < <(node -e '
		const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
		// A file that fails to load or whose beforeAll fails has no failed
		// tests of its own: every test in it that did not pass has failed
		// (at least one per file).
		let broken = 0;
		for (const f of r.testResults) {
			if (f.status !== "failed" || f.assertionResults.some((a) => a.status === "failed")) continue;
			broken += Math.max(1, f.assertionResults.filter((a) => a.status !== "passed").length);
		}
		console.log(r.numPassedTests, r.numFailedTests + broken);' "$RESULTS/vitest.json")
fi
if ((v_rc != 0 && v_fail == 0)); then
	v_fail=1
fi

pass=$((c_pass + v_pass))
fail=$((c_fail + v_fail))
echo
echo "C unit tests: $c_pass passed, $c_fail failed; vitest: $v_pass passed, $v_fail failed"
echo "$pass passed, $fail failed"
((fail == 0))
