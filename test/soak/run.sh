#!/usr/bin/env bash
# run.sh BUILD MINUTES: the soak test (make soak; never part of check or CI).
# fedproxy from BUILD under MINUTES of mixed traffic with reloads, dropped
# connections and an inside node restart (test/soak/soak.py; README.md).
# Exit 0 pass, 1 fail, 77 skip. Environment: SOAK_RATE (requests/s, 150),
# SOAK_SEED, SOAK_RSS_LIMIT_KB (4096), SOAK_BASE_PORT (24900: 20 ports),
# KEEP_TEMP=1 (keep the logs of a passing run too).
set -euo pipefail

usage() {
	echo "usage: $0 BUILD MINUTES" >&2
	exit 2
}
[ $# -eq 2 ] || usage
[[ $2 =~ ^[0-9]+(\.[0-9]+)?$ ]] && [ "${2//[.0]/}" != "" ] || usage
here=$(cd "$(dirname "$0")" && pwd)
build=$(realpath "$1")
export FEDPROXY=$build/proxy/fedproxy
export FEDPROXYCTL=$build/proxy/fedproxyctl
export SOURCE_ROOT=${SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
export PYTHONDONTWRITEBYTECODE=1
[ -x "$FEDPROXY" ] || { echo "soak: $FEDPROXY is not built (make all)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "soak: SKIP: python3 is not installed"; exit 77; }

# Bounded: the load, then at most the drain and the stops (about a minute);
# SIGINT first, so that what the soak started is stopped by it.
limit=$(awk -v m="$2" 'BEGIN { printf "%d", m * 60 + 180 }')
exec timeout --signal=INT --kill-after=30 "$limit" python3 "$here/soak.py" "$2"
