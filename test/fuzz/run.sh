#!/usr/bin/env bash
# run.sh BUILD_DIR SECONDS: run every fuzz target for SECONDS on a scratch
# copy of its seed corpus (libFuzzer adds what it finds there), and print
# the executions and crashes. Exit 1 on any crash; the crashing input is
# kept in BUILD_DIR/fuzz-out/<target>/ to become a regression seed.
set -uo pipefail
build=$1 seconds=${2:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
status=0
for target in sip configfile pidf table; do
	seeds="$top/test/fuzz/corpus/$target"
	work="$build/fuzz-out/$target"
	rm -rf "$work" && mkdir -p "$work/corpus" && cp "$seeds"/* "$work/corpus/"
	log="$work/fuzz.log"
	(cd "$work" && "$build/test/fuzz/fuzz_$target" -max_total_time="$seconds" \
		-print_final_stats=1 -artifact_prefix="$work/" "$work/corpus") >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	crashes=$(find "$work" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' | wc -l)
	echo "fuzz_$target: ${execs:-0} executions in ${seconds}s, $crashes crashes"
	if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
		tail -n 30 "$log"
		status=1
	fi
done
exit $status
