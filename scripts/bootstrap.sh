#!/usr/bin/env bash
# Bring a checkout up to date: Debian packages, node_modules, the meson build
# (data plane, C tests, addon), generated gRPC types and the TypeScript build.
#
# `npm start`, `npm test` and `npm run build` all run this first. Every step
# checks before it acts, so a second run only checks (a second or two).
#
# Environment:
#   SWITCHYARD_BOOTSTRAP_SKIP_BUILD=1   skip the meson step (nothing else)
#   SWITCHYARD_BOOTSTRAP_VERBOSE=1      show the output of every step
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
STAMPS=$ROOT/build/.bootstrap
VERBOSE=${SWITCHYARD_BOOTSTRAP_VERBOSE:-0}

say() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: %s\n' "$*" >&2; exit 1; }

# Run a step quietly; on failure show its output and stop.
quiet() {
	local log
	log=$(mktemp)
	if [[ $VERBOSE == 1 ]]; then
		"$@" 2>&1 | tee "$log" || { rm -f "$log"; return 1; }
		rm -f "$log"
		return 0
	fi
	if ! "$@" >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		return 1
	fi
	rm -f "$log"
}

# inputs_sig PATH... : a digest of the files under the paths (names, times,
# sizes). A step re-runs when its inputs' digest differs from the one saved
# after its last success: edits, new and deleted files, and files whose times
# went backwards (a checkout of an older commit) all count.
inputs_sig() {
	find "$@" -type f -printf '%p %T@ %s\n' 2>/dev/null | LC_ALL=C sort | md5sum | cut -d' ' -f1
}

# changed STEP PATH... : true when the inputs of STEP changed since its last
# success; leaves the new digest in $STAMPS/STEP.new for done_step.
changed() {
	local step=$1
	shift
	inputs_sig "$@" >"$STAMPS/$step.new"
	! cmp -s "$STAMPS/$step.new" "$STAMPS/$step"
}

# done STEP : records that STEP succeeded with the inputs changed() saw.
done_step() { mv "$STAMPS/$1.new" "$STAMPS/$1"; }

# ---------------------------------------------------------------------------
# (a) Debian packages
# ---------------------------------------------------------------------------
PKGS=(
	gcc g++ pkg-config meson ninja-build python3
	libdpdk-dev dpdk dpdk-dev
	iproute2 iputils-ping ethtool procps
	iperf3 tcpdump tshark python3-scapy
	clang libclang-rt-14-dev
)
# The addon compiles against Node's own headers. Debian's nodejs keeps them in
# libnode-dev; NodeSource's nodejs ships them itself.
NODE_INC=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node
if [[ ! -e $NODE_INC/node_api.h && ! -e /usr/include/node/node_api.h ]]; then
	PKGS+=(libnode-dev)
fi

if command -v dpkg-query >/dev/null; then
	installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PKGS[@]}" 2>/dev/null || true)
	missing=()
	for p in "${PKGS[@]}"; do
		awk -v p="$p" '$1 == p && $2 == "ii" { found = 1 } END { exit !found }' <<<"$installed" ||
			missing+=("$p")
	done
	if ((${#missing[@]})); then
		if [[ $(id -u) != 0 ]]; then
			die "missing Debian packages: ${missing[*]}
  install them as root:  apt-get install -y --no-install-recommends ${missing[*]}"
		fi
		say "installing Debian packages: ${missing[*]}"
		# tshark asks whether non-root users may capture: no.
		echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
		quiet apt-get update -q || die "apt-get update failed"
		quiet env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" ||
			die "apt-get install failed"
	fi
	say "debian packages ok"
else
	say "no dpkg-query (not Debian?): not checking packages"
fi

# ---------------------------------------------------------------------------
# (b) node_modules
# ---------------------------------------------------------------------------
mkdir -p "$STAMPS"
need_npm=0
if [[ ! -e node_modules/.package-lock.json ]]; then
	need_npm=1
	changed npm package.json package-lock.json || true
elif changed npm package.json package-lock.json; then
	# No record yet, but node_modules is at least as new as the lock file
	# (installed by hand): take it as it is rather than reinstall.
	if [[ -e $STAMPS/npm || package-lock.json -nt node_modules/.package-lock.json ]]; then
		need_npm=1
	else
		done_step npm
	fi
fi
if ((need_npm)); then
	say "npm ci"
	if ! npm_log=$(npm ci --no-audit --no-fund --loglevel=error 2>&1); then
		printf '%s\n' "$npm_log" >&2
		# npm ci wants every optional platform package (rollup's) in the lock
		# file; a lock made against a registry that serves only some of them
		# lacks the rest. scripts/lock-platforms.py adds them.
		grep -q 'Missing: .* from lock file' <<<"$npm_log" &&
			say "the lock file lacks platform packages: run python3 scripts/lock-platforms.py"
		die "npm ci failed"
	fi
	done_step npm
fi
say "node modules ok"

# ---------------------------------------------------------------------------
# (c) meson: data plane, C unit tests, addon
# ---------------------------------------------------------------------------
if [[ ${SWITCHYARD_BOOTSTRAP_SKIP_BUILD:-0} == 1 ]]; then
	say "meson build skipped (SWITCHYARD_BOOTSTRAP_SKIP_BUILD=1)"
else
	if [[ ! -e build/meson-private/coredata.dat ]]; then
		say "meson setup build"
		quiet meson setup build || die "meson setup failed"
	fi
	# Incremental: ninja re-runs meson itself when a meson.build changed.
	quiet meson compile -C build || die "meson compile failed"
	say "meson build ok"
fi

# ---------------------------------------------------------------------------
# (d) gRPC types generated from proto/ into src/gen/
# ---------------------------------------------------------------------------
if [[ -f scripts/gen-proto-types.sh ]]; then
	if changed gen-proto proto scripts/gen-proto-types.sh || [[ ! -d src/gen ]]; then
		quiet bash scripts/gen-proto-types.sh || die "scripts/gen-proto-types.sh failed"
		done_step gen-proto
		say "proto types generated"
	else
		say "proto types ok"
	fi
fi

# ---------------------------------------------------------------------------
# (e) TypeScript -> dist/
# ---------------------------------------------------------------------------
if changed tsc src tsconfig.json package-lock.json || [[ ! -d dist ]]; then
	quiet npx --no-install tsc -p . || die "tsc failed"
	done_step tsc
	say "typescript compiled"
else
	say "typescript ok"
fi
