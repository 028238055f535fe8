#!/usr/bin/env bash
# A reload moves the control socket and the /metrics address: fedproxyctl
# reload through the old socket answers "reload ok", then only the new
# socket and the new port answer and the old socket file is gone. A reload
# naming a metrics address already taken (the proxy's own TLS port) fails
# as a whole: fedproxyctl says so, the new socket is never created, the
# running socket and port still answer. A reload without a metrics address
# closes the endpoint.
# shellcheck source-path=SCRIPTDIR source=opslib.sh
. "$(dirname "$0")/opslib.sh"
ops_init ops-endpoints 24540 curl

FIRST_SOCKET=$CTL_SOCKET
MOVED_SOCKET=$T/moved.sock
MOVED_PORT=$SPARE_PORT

# metrics_code PORT: the HTTP status of GET /metrics on PORT, 000 when
# nothing answers.
metrics_code() {
	curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/metrics" || true
}

# configured SOCKET METRICS: $CONF with [control] socket = SOCKET and
# metrics = METRICS (the line dropped when METRICS is empty), installed.
configured() {
	sed -e "s|^socket = .*|socket = $1|" \
		-e "s|^metrics = .*|${2:+metrics = $2}|" "$T/first.conf" >"$T/next.conf"
	use_config "$T/next.conf"
}

run_proxy
cp "$CONF" "$T/first.conf"
ctl_ok first-status status
assert_eq "$(metrics_code "$METRICS_PORT")" 200 "GET /metrics on the first port"

configured "$MOVED_SOCKET" "127.0.0.1:$MOVED_PORT"
ctl_ok move reload
assert_eq "$(cat "$CTL_OUT")" "reload ok" "reload that moves both, asked on the old socket"
[ ! -e "$FIRST_SOCKET" ] || fail "the old control socket file is still there"
ctl old-socket status
assert_eq "$CTL_RC" 1 "fedproxyctl on the old socket after the move"
CTL_SOCKET=$MOVED_SOCKET
ctl_ok moved-status status
assert_eq "$(metrics_code "$MOVED_PORT")" 200 "GET /metrics on the new port"
assert_eq "$(metrics_code "$METRICS_PORT")" 000 "GET /metrics on the old port after the move"
assert_grep "$T/proxy.log" "control socket ${MOVED_SOCKET//./\\.}" "the new control socket in the log"

configured "$T/third.sock" "127.0.0.1:$EXT_PORT"
ctl taken reload
assert_eq "$CTL_RC" 1 "exit status of a reload whose metrics address is taken"
assert_line "$CTL_OUT" "reload failed: cannot open the new listeners, control socket or metrics address \\(see the log\\)" \
	"fedproxyctl reload with a taken metrics address"
assert_grep "$T/proxy.log" "metrics: cannot listen on 127\\.0\\.0\\.1:$EXT_PORT" "why, in the log"
[ ! -e "$T/third.sock" ] || fail "the failed reload left its control socket behind"
ctl_ok after-failure status
assert_eq "$(metrics_code "$MOVED_PORT")" 200 "GET /metrics on the running port after the failed reload"

configured "$MOVED_SOCKET" ""
ctl_ok no-metrics reload
assert_eq "$(cat "$CTL_OUT")" "reload ok" "reload without a metrics address"
assert_eq "$(metrics_code "$MOVED_PORT")" 000 "GET /metrics after the address was removed"
ctl_ok last-status status
finish
