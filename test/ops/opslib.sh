# opslib.sh: what the operations tests share, on top of the scenario helpers
# (test/scenario/lib.sh, sourced as it is). Source it, then:
#   ops_init NAME BASEPORT [TOOL...]  scenario_init, fedproxyctl, and an
#                                     EXTRA_CONFIG with [control] and [health]
#   run_proxy_with_edge               (lib.sh) proxy + the partner's TLS client
#   ... load, reloads, fedproxyctl, /metrics, assertions ...
#   finish                            (lib.sh)
# Ports: BASEPORT..BASEPORT+19 as in lib.sh; METRICS_PORT is BASEPORT+19.
# shellcheck shell=bash disable=SC2034  # variables are for the scripts
# shellcheck source=../scenario/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scenario/lib.sh"

OPS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ops_init NAME BASEPORT [TOOL...]: scenario_init; FEDPROXYCTL (meson sets
# it; by hand: next to FEDPROXY); CTL_SOCKET and METRICS_PORT; EXTRA_CONFIG
# for write_config: a [control] section with both, a [health] section
# (probes every PROBE_INTERVAL seconds, default 0: none, so a sipp node
# that only answers MESSAGE stays "up"; with probes, one left unanswered for
# 2 s marks a node down). A test may append sections of its own.
ops_init() {
	scenario_init "$@"
	FEDPROXYCTL=${FEDPROXYCTL:-$(dirname "$FEDPROXY")/fedproxyctl}
	[ -x "$FEDPROXYCTL" ] || fail "FEDPROXYCTL=$FEDPROXYCTL is not an executable"
	CTL_SOCKET=$T/control.sock
	METRICS_PORT=$(($2 + 19))
	EXTRA_CONFIG="
[control]
socket = $CTL_SOCKET
metrics = 127.0.0.1:$METRICS_PORT

[health]
interval = ${PROBE_INTERVAL:-0}
timeout = 2
failures = 1
"
}

# ctl NAME COMMAND...: fedproxyctl -s CTL_SOCKET COMMAND..., stdout and
# stderr to $T/ctl-NAME.out (also in CTL_OUT), exit status in CTL_RC.
ctl() {
	local name=$1
	shift
	CTL_OUT=$T/ctl-$name.out
	CTL_RC=0
	timeout 10 "$FEDPROXYCTL" -s "$CTL_SOCKET" "$@" >"$CTL_OUT" 2>&1 || CTL_RC=$?
}

# ctl_ok NAME COMMAND...: ctl, which must exit 0.
ctl_ok() {
	ctl "$@"
	[ "$CTL_RC" = 0 ] || fail "fedproxyctl ${*:2} exited $CTL_RC: $(cat "$CTL_OUT")"
}

# assert_line FILE REGEX WHAT: some line of FILE matches ^REGEX$ (ERE).
assert_line() {
	grep -Eq -- "^$2\$" "$1" || fail "$3: no line matches /^$2\$/ in ${1#"$T"/}:
$(cat "$1")"
}

# stats_value FILE SECTION KEY: in `fedproxyctl stats` output FILE, the
# number after KEY in SECTION (a heading such as "reloads:", without its
# indented lines); empty when absent. "ok" is both a reload and a handshake
# count: the section tells them apart.
stats_value() {
	awk -v sec="$2" -v key="$3" '
		/^[^ ]/ { in_sec = ($0 == sec); next }
		in_sec && $1 == key && NF == 2 { print $2 }
	' "$1"
}

# assert_reloads FILE OK FAILED: `fedproxyctl stats` output FILE counts OK
# reloads that worked and FAILED that failed.
assert_reloads() {
	assert_eq "$(stats_value "$1" reloads: ok)" "$2" "reloads ok in fedproxyctl stats"
	assert_eq "$(stats_value "$1" reloads: failed)" "$3" "reloads failed in fedproxyctl stats"
}

# --- good and broken configurations -------------------------------------------

# BROKEN_LINE: the line of the unknown key in the broken copy.
BROKEN_LINE=3

# make_configs: GOOD = a copy of the running $CONF, BROKEN = the same with an
# unknown key on BROKEN_LINE; fedproxy -t must refuse BROKEN at that line
# (else the reload assertions would test nothing).
make_configs() {
	GOOD=$T/good.conf.in
	BROKEN=$T/broken.conf.in
	cp "$CONF" "$GOOD"
	sed "${BROKEN_LINE}i no_such_key = yes" "$GOOD" >"$BROKEN"
	cp "$BROKEN" "$T/check.conf"
	! "$FEDPROXY" -c "$T/check.conf" -t >"$T/check.out" 2>&1 ||
		fail "fedproxy -t accepted the broken config"
	assert_grep "$T/check.out" "$T/check.conf:$BROKEN_LINE: " "fedproxy -t on the broken config"
}

# use_config FILE: FILE becomes $CONF in one rename (the proxy never reads a
# half-written file).
use_config() {
	{ cp "$1" "$CONF.new" && mv -f "$CONF.new" "$CONF"; } || fail "cannot install $1 as $CONF"
}

# reloads_logged: how many reloads the proxy has finished (done or failed).
reloads_logged() {
	grep -cE 'reload done: |reload failed: keeping the running configuration' "$T/proxy.log"
}

# hup N: SIGHUP to the proxy, then waits (5 s at most) until it has logged
# the end of reload number N. One signal at a time: two pending SIGHUPs
# would be one reload.
hup() {
	local i
	kill -HUP "${PID_OF[proxy]}" || fail "cannot signal the proxy"
	for ((i = 0; i < 50; i++)); do
		[ "$(reloads_logged)" -ge "$1" ] && break
		sleep 0.1
	done
	assert_eq "$(reloads_logged)" "$1" "reloads finished after SIGHUP #$1"
}

# flip_reloads FIRST COUNT: COUNT SIGHUPs numbered FIRST.., alternating the
# broken (odd numbers) and the good (even numbers) config; GAP seconds
# between them (default 0.3). $CONF is the good one afterwards.
flip_reloads() {
	local n
	for ((n = $1; n < $1 + $2; n++)); do
		if ((n % 2)); then use_config "$BROKEN"; else use_config "$GOOD"; fi
		hup "$n"
		sleep "${GAP:-0.3}"
	done
	use_config "$GOOD"
}

# --- load ---------------------------------------------------------------------

# sipp_load NAME COUNT RATE: the foreign sipp NAME sends COUNT MESSAGEs, RATE
# per second, on one connection through the edge's TLS client, each waiting
# 10 s at most for its 200; per-call statistics in $T/NAME.csv.
# The routing node must answer COUNT calls: node_for COUNT. The message log
# exists from the start, so that wait_grep can watch it at once.
sipp_load() {
	: >"$T/$1.msg"
	sipp_start "$1" uac_message.xml "127.0.0.1:$EDGE_CLIENT_PORT" -p "$UAC_PORT" "${INBOUND[@]}" \
		-m "$2" -r "$3" -timeout $(($2 / $3 + 30)) -recv_timeout 10000 \
		-trace_stat -stf "$T/$1.csv"
}

# node_for COUNT [XML]: the routing node "node", a sipp answering COUNT
# calls with 200: XML is a scenario of test/scenario/sipp (default
# uas_answer.xml: MESSAGE and SUBSCRIBE) or of test/ops (node_options.xml:
# also the health probes).
node_for() {
	local xml=${2:-uas_answer.xml}
	[ ! -f "$OPS_DIR/$xml" ] || xml=$(realpath --relative-to="$XML_DIR" "$OPS_DIR/$xml")
	sipp_uas node "$xml" "$NODE_PORT" -m "$1" -timeout 120
}

# sipp_finish NAME SECONDS: waits for sipp NAME (SECONDS at most), which
# must exit 0.
sipp_finish() {
	wait_exit "$1" "$2"
	[ "$RC" = 0 ] || fail "sipp $1 exited $RC (124: still running after $2 s); see $1.err"
}

# sipp_stat NAME COLUMN: the last value of COLUMN (e.g. "FailedCall(C)") in
# sipp NAME's statistics file.
sipp_stat() {
	awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
		c { v = $c } END { print v }' "$T/$1.csv"
}

# assert_all_answered NAME COUNT: sipp NAME counts COUNT successful calls and
# no failed one, sent COUNT MESSAGEs and received COUNT responses, all 200.
assert_all_answered() {
	assert_eq "$(sipp_stat "$1" 'SuccessfulCall(C)')" "$2" "successful calls counted by sipp $1"
	assert_eq "$(sipp_stat "$1" 'FailedCall(C)')" 0 "failed calls counted by sipp $1"
	assert_eq "$(count_msgs "$1" sent '^MESSAGE ')" "$2" "MESSAGEs sent by sipp $1"
	assert_eq "$(count_msgs "$1" received '^SIP/2\.0 ')" "$2" "responses received by sipp $1"
	assert_eq "$(count_msgs "$1" received '^SIP/2\.0 200 ')" "$2" "200s received by sipp $1"
}

# rss_kb: the proxy's resident set size in kB.
rss_kb() {
	alive proxy || fail "the proxy is gone"
	awk '$1 == "VmRSS:" { print $2 }' "/proc/${PID_OF[proxy]}/status"
}
