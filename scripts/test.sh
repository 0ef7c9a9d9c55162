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

# --- C unit tests under ASan + UBSan, and short fuzz runs ---------------------
# build-asan/ (gcc, -Db_sanitize=address,undefined) also holds the data plane
# that test/integration/asan.test.ts runs. A sanitizer report fails the test
# (halt_on_error; LeakSanitizer at exit). The fuzz targets (scripts/fuzz.sh,
# clang) run FUZZ_SECONDS each (default 20); `npm run fuzz` runs them long.
s_pass=0 s_fail=0
if [[ ! -e build-asan/meson-private/coredata.dat ]]; then
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || rm -rf build-asan
fi
if meson compile -C build-asan >"$RESULTS/asan-build.log" 2>&1; then
	ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		meson test -C build-asan --print-errorlogs
	a_rc=$?
	read -r s_pass s_fail < <(node -e '
		const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
		let p = 0, f = 0;
		for (const l of lines) {
			const t = JSON.parse(l);
			const clean = !/runtime error:|Sanitizer/.test((t.stdout || "") + (t.stderr || ""));
			if ((t.result === "OK" || t.result === "EXPECTEDFAIL") && clean) p++;
			else if (t.result !== "SKIP") f++;
		}
		console.log(p, f);' build-asan/meson-logs/testlog.json)
	((a_rc != 0 && s_fail == 0)) && s_fail=1
else
	cat "$RESULTS/asan-build.log" >&2
	echo "test: the ASan build (build-asan/) failed" >&2
	s_fail=1
fi
if bash scripts/fuzz.sh --seconds "${FUZZ_SECONDS:-20}"; then
	s_pass=$((s_pass + 2))
else
	s_fail=$((s_fail + 1))
fi
c_pass=$((c_pass + s_pass))
c_fail=$((c_fail + s_fail))

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
echo "C unit tests (plain, ASan+UBSan) and fuzz runs: $c_pass passed, $c_fail failed; vitest: $v_pass passed, $v_fail failed"
echo "$pass passed, $fail failed"
((fail == 0))
