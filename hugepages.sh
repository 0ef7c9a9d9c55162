#!/usr/bin/env bash
# Reserve, show or give back 2 MB hugepages for DPDK.
#
# Switchyard does not need hugepages: `npm start` and `npm test` run the data
# plane with --no-huge. Use this for benchmarks or when you pass EAL arguments
# that want hugepage memory.
#
#   ./hugepages.sh --pages N   reserve N 2 MB pages, mount hugetlbfs on /dev/hugepages
#   ./hugepages.sh --status    show what is reserved, free and mounted
#   ./hugepages.sh --release   set the reservation to 0 and remove leftover
#                              /dev/hugepages/*map_* files of processes that are gone
set -euo pipefail

MNT=/dev/hugepages
NR=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
SYS=/sys/kernel/mm/hugepages/hugepages-2048kB

usage() {
	cat >&2 <<EOF
usage: $0 --pages N | --status | --release
  --pages N   reserve N 2 MB hugepages and mount hugetlbfs on $MNT
  --status    show reserved, free and mounted hugepages
  --release   give all 2 MB hugepages back and remove leftover map files
EOF
	exit 2
}

need_root() {
	if [[ $(id -u) != 0 ]]; then
		echo "$0: must be run as root" >&2
		exit 1
	fi
}

mounted() { findmnt -n -t hugetlbfs "$MNT" >/dev/null 2>&1; }

status() {
	if [[ ! -e $NR ]]; then
		echo "2 MB hugepages: not supported by this kernel"
		return
	fi
	echo "2 MB hugepages: $(cat "$NR") reserved, $(cat "$SYS/free_hugepages") free"
	if mounted; then
		echo "hugetlbfs: mounted on $MNT"
	else
		echo "hugetlbfs: not mounted on $MNT"
	fi
	local n
	n=$(find "$MNT" -maxdepth 1 -name '*map_*' 2>/dev/null | wc -l || true)
	echo "map files in $MNT: $n"
}

# A map file is in use while some process has it open or mapped.
in_use() {
	local f=$1 p
	for p in /proc/[0-9]*; do
		if grep -qF -- "$f" "$p/maps" 2>/dev/null; then
			return 0
		fi
		if ls -l "$p/fd" 2>/dev/null | grep -qF -- "$f"; then
			return 0
		fi
	done
	return 1
}

reserve() {
	local n=$1
	need_root
	[[ -e $NR ]] || { echo "$0: this kernel has no 2 MB hugepages" >&2; exit 1; }
	echo "$n" >"$NR"
	local got
	got=$(cat "$NR")
	if ((got < n)); then
		echo "$0: asked for $n pages, the kernel gave $got (memory fragmented?)" >&2
	fi
	if ! mounted; then
		mkdir -p "$MNT"
		mount -t hugetlbfs -o pagesize=2M nodev "$MNT"
	fi
	status
	((got >= n))
}

release() {
	need_root
	local f removed=0 kept=0
	if [[ -d $MNT ]]; then
		shopt -s nullglob
		for f in "$MNT"/*map_*; do
			if in_use "$f"; then
				kept=$((kept + 1))
			else
				rm -f -- "$f"
				removed=$((removed + 1))
			fi
		done
	fi
	[[ -e $NR ]] && echo 0 >"$NR"
	echo "removed $removed leftover map files, $kept still in use"
	status
}

[[ $# -ge 1 ]] || usage
case $1 in
--pages)
	[[ $# -eq 2 && $2 =~ ^[0-9]+$ ]] || usage
	reserve "$2"
	;;
--status)
	[[ $# -eq 1 ]] || usage
	status
	;;
--release)
	[[ $# -eq 1 ]] || usage
	release
	;;
-h | --help) usage ;;
*) usage ;;
esac
