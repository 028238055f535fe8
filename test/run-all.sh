#!/usr/bin/env bash
# run-all.sh BUILD [MESON TEST ARGS...]: run the meson tests (all of them by
# default) and end with one summary line "N passed, N failed, N skipped" that
# CI reads. Exit non-zero on any failure.
set -uo pipefail
build=${1:-build}
shift || true

meson test -C "$build" --print-errorlogs --num-processes 2 "$@" | tee "$build/check.log"
status=${PIPESTATUS[0]}

count() { awk -v k="$1" -F: '$1 == k { gsub(/ /, "", $2); print $2 }' "$build/check.log" | tail -1; }
ok=$(count "Ok")
fail=$(count "Fail")
timeout=$(count "Timeout")
xpass=$(count "Unexpected Pass")
skipped=$(count "Skipped")
failed=$(( ${fail:-0} + ${timeout:-0} + ${xpass:-0} ))
echo "${ok:-0} passed, ${failed} failed, ${skipped:-0} skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
