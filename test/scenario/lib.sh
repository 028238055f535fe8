# lib.sh: what the scenario scripts share. Source it, then:
#   scenario_init NAME BASEPORT   temp dir, PKI, ports, cleanup trap
#   ... start things, run sipp, assert ...
#   finish                        SIGTERM the proxy, expect exit 0, pass
# Exit codes: 0 pass, 1 fail, 77 skip. On failure the temp dir is kept and
# the proxy, stunnel and sipp logs are printed (KEEP_TEMP=1: keep it always).
#
# Every process a script starts goes through start_bg and is recorded in
# PID_OF; the EXIT trap stops exactly those PIDs. Every wait is bounded.
# shellcheck shell=bash disable=SC2034  # variables are for the scripts

set -u

SCENARIO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE_ROOT=${SOURCE_ROOT:-$(cd "$SCENARIO_DIR/../.." && pwd)}
XML_DIR=$SCENARIO_DIR/sipp

# dnsmasq lives in /usr/sbin, which a user's PATH may lack.
PATH=$PATH:/usr/sbin:/sbin

PROXY_FQDN=fedproxy.example.test
PARTNER_DOMAIN=partner.example.test
PARTNER_FQDN=edge.$PARTNER_DOMAIN
FOREIGN_URI=sip:alice@$PARTNER_DOMAIN
PARTNER2_DOMAIN=partner2.example.test # the second foreign edge (pat_init)
PARTNER2_FQDN=edge.$PARTNER2_DOMAIN
FOREIGN2_URI=sip:carol@$PARTNER2_DOMAIN
LOCAL_URI=sip:bob@example.test
# -key arguments for the UAC scenarios: who talks to whom.
INBOUND=(-key from "$FOREIGN_URI" -key to "$LOCAL_URI")
OUTBOUND=(-key from "$LOCAL_URI" -key to "$FOREIGN_URI")

declare -A PID_OF=() SIPP_RC=() FROM_OF=() # FROM_OF: see foreign_message
# Inside nodes by name (the routing node is "routing"; more from add_node):
# role, port of the node's address on 127.0.0.1, the public port that leads
# to it, and the port of the edge's TLS client towards that public port.
declare -A ROLE_OF=() NODE_PORT_OF=() PUBLIC_PORT_OF=() CLIENT_PORT_OF=()
declare -A DLG=() # the dialog dialog_keys read
NODES=()          # the nodes of add_node, in config order
ROUTES=()         # the static routes of add_route
NAME=scenario
T=
# The inside's address (the internal listener and the routing node):
# 127.0.0.1, or ::1 for a scenario of an IPv6 inside (set before sourcing).
INSIDE_IP=${INSIDE_IP:-127.0.0.1}

say() { printf '%s: %s\n' "$NAME" "$*"; }
fail() { say "FAIL: $*" >&2; exit 1; }
skip() { say "SKIP: $*"; exit 77; }

# scenario_init NAME BASEPORT [TOOL...]: ports BASEPORT..BASEPORT+19 belong
# to NAME; TOOLs: what it needs beyond sipp, stunnel, certtool and ss.
scenario_init() {
	NAME=$1
	local base=$2 tool
	[ -n "${FEDPROXY:-}" ] || skip "FEDPROXY is not set (meson sets it)"
	[ -x "$FEDPROXY" ] || fail "FEDPROXY=$FEDPROXY is not an executable"
	FEDPROXY=$(realpath "$FEDPROXY")
	for tool in sipp stunnel certtool ss "${@:3}"; do
		command -v "$tool" >/dev/null || skip "$tool is not installed"
	done

	EXT_PORT=$base                # proxy: mutual-TLS listener for foreign edges
	INT_PORT=$((base + 1))        # proxy: TCP listener for inside nodes
	NODE_PORT=$((base + 2))       # the routing node (a sipp)
	NODE2_PORT=$((base + 3))      # another node address (reload test)
	EDGE_CLIENT_PORT=$((base + 4)) # stunnel client: foreign edge -> EXT_PORT
	EDGE_PORT=$((base + 5))       # stunnel server: the foreign edge's TLS port
	FOREIGN_PORT=$((base + 6))    # the foreign sipp behind EDGE_PORT
	UAC_PORT=$((base + 7))        # local ports of sipp clients
	UAC2_PORT=$((base + 8))
	DNS_PORT=$((base + 9))        # the [dns] server: start_dns, else nobody
	SPARE_PORT=$((base + 10))     # base+10..19: extra stunnel clients
	ROLE_OF[routing]=routing
	NODE_PORT_OF[routing]=$NODE_PORT
	PUBLIC_PORT_OF[routing]=$EXT_PORT
	CLIENT_PORT_OF[routing]=$EDGE_CLIENT_PORT
	local busy
	busy=$(ss -Hltn "( sport >= :$base and sport <= :$((base + 19)) )" | head -3)
	[ -z "$busy" ] || fail "ports $base-$((base + 19)) are in use: $busy"

	T=$(mktemp -d "${TMPDIR:-/tmp}/fedproxy-$NAME.XXXXXX") || fail "mktemp"
	trap 'cleanup $?' EXIT
	"$SOURCE_ROOT/test/certs/mkpki.sh" "$T/pki" || fail "mkpki.sh failed"
}

# make_leaf NAME DNS_NAME...: one more edge certificate from this test's
# intermediate CA: pki/NAME.pem, NAME.key, NAME-chain.pem (mkpki.sh --leaf).
make_leaf() {
	"$SOURCE_ROOT/test/certs/mkpki.sh" --leaf "$T/pki" "$@" || fail "mkpki.sh --leaf $* failed"
}

cleanup() {
	local rc=$1 name
	trap - EXIT
	for name in "${!PID_OF[@]}"; do
		stop_bg "$name"
	done
	[ -n "$T" ] || exit "$rc"
	if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		dump_logs
	elif [ -z "${KEEP_TEMP:-}" ]; then
		rm -rf "$T"
		exit "$rc"
	fi
	say "logs kept in $T"
	exit "$rc"
}

dump_logs() {
	local f
	for f in "$T"/*.conf "$T"/*.out "$T"/*.err "$T"/*.msg "$T"/*.sip "$T"/proxy.log; do
		[ -s "$f" ] || continue
		printf '\n===== %s (last 300 lines) =====\n' "${f#"$T"/}"
		tail -n 300 "$f"
	done >&2
}

# start_bg NAME LOGFILE CMD...: CMD in the background (from /, so relative
# paths in configs must resolve against their own directory), output to
# LOGFILE, PID recorded under NAME.
start_bg() {
	local name=$1 log=$2
	shift 2
	[ -z "${PID_OF[$name]:-}" ] || fail "start_bg: '$name' was started already"
	(cd / && exec "$@") >>"$log" 2>&1 &
	PID_OF[$name]=$!
}

alive() { [ -n "${PID_OF[$1]:-}" ] && kill -0 "${PID_OF[$1]}" 2>/dev/null; }

# wait_exit NAME SECONDS: waits for NAME to end; RC = its exit status, or
# 124 when it is still running after SECONDS.
wait_exit() {
	local pid=${PID_OF[$1]} i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		RC=124
		return
	fi
	wait "$pid"
	RC=$?
	unset "PID_OF[$1]"
}

# stop_bg NAME: SIGTERM, then SIGKILL after 3 s.
stop_bg() {
	alive "$1" || { unset "PID_OF[$1]"; return 0; }
	kill -TERM "${PID_OF[$1]}" 2>/dev/null
	wait_exit "$1" 3
	[ "$RC" = 124 ] || return 0
	kill -KILL "${PID_OF[$1]}" 2>/dev/null
	wait "${PID_OF[$1]}" 2>/dev/null
	unset "PID_OF[$1]"
}

# wait_listen PORT NAME: NAME listens on 127.0.0.1:PORT within 10 s.
wait_listen() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -n "$(ss -Hltn "sport = :$1")" ] && return 0
		alive "$2" || fail "$2 exited before listening on port $1"
		sleep 0.1
	done
	fail "$2 is not listening on port $1 after 10 s"
}

# --- the proxy -------------------------------------------------------------

# write_config FILE [NODE_PORT]: a complete config for this scenario's
# ports; the routing node is at NODE_PORT (default $NODE_PORT). File names
# are relative to the config's directory ($T). Variations, from variables:
#   STATIC_ROUTE=no  no [route] for the partner's domain (it is on the allow
#                    list and names the partner's edge only through one)
#   EXTRA_CONFIG     text appended inside [policy], after local_domains:
#                    more [policy] keys first, then sections of its own
#   HEALTH           "INTERVAL TIMEOUT FAILURES" for [health], or "off"
#                    (interval 0); unset: no [health] (the defaults)
# and the nodes of add_node after the routing node, the routes of add_route
# after the partner's. Name lookups go to 127.0.0.1:DNS_PORT, where nothing
# answers unless the test runs start_dns: the proxy never asks a real name
# server.
write_config() {
	local route='' nodes='' health='' name h
	if [ "${STATIC_ROUTE:-yes}" != no ]; then
		route_section "$PARTNER_DOMAIN" "$PARTNER_FQDN" "$EDGE_PORT"
		route=$SECTION
	fi
	for name in "${ROUTES[@]}"; do
		read -r -a h <<<"$name"
		route_section "${h[@]}"
		route+=$SECTION
	done
	for name in "${NODES[@]}"; do
		printf -v h '%s\n' "[node $name]" "address = 127.0.0.1:${NODE_PORT_OF[$name]}" \
			"transport = tcp" "role = ${ROLE_OF[$name]}" "public_port = ${PUBLIC_PORT_OF[$name]}" ""
		nodes+=$h
	done
	if [ "${HEALTH:-}" = off ]; then
		printf -v health '%s\n' "[health]" "interval = 0" ""
	elif [ -n "${HEALTH:-}" ]; then
		read -r -a h <<<"$HEALTH"
		printf -v health '%s\n' "[health]" "interval = ${h[0]}" "timeout = ${h[1]}" "failures = ${h[2]}" ""
	fi
	cat >"$1" <<EOF
; $NAME: written by test/scenario/lib.sh
[proxy]
public_fqdn = $PROXY_FQDN
log_level = debug
trace = yes
handshake_timeout = 5
drain_timeout = 3
route_secret = $NAME-secret

[external]
listen = 127.0.0.1:$EXT_PORT
certificate = pki/fedproxy-chain.pem
key = pki/fedproxy.key
ca_bundle = pki/ca.pem

[internal]
listen = $(inside_at "$INT_PORT")
transport = tcp

[node routing]
address = $(inside_at "${2:-$NODE_PORT}")
transport = tcp
role = routing

${nodes}${health}[dns]
servers = 127.0.0.1:$DNS_PORT

${route}[policy]
local_domains = example.test
${EXTRA_CONFIG:-}
EOF
}

# route_section DOMAIN HOST PORT: SECTION = a [route DOMAIN] to HOST, dialled
# at 127.0.0.1:PORT (a foreign edge's TLS server).
route_section() {
	printf -v SECTION '%s\n' "[route $1]" "host = $2" "port = $3" "address = 127.0.0.1" ""
}

# add_route DOMAIN HOST PORT: write_config adds route_section DOMAIN HOST PORT.
add_route() { ROUTES+=("$1 $2 $3"); }

# add_node NAME ROLE PORT PUBLIC_PORT CLIENT_PORT: write_config adds
# [node NAME] (role ROLE, address 127.0.0.1:PORT, public_port PUBLIC_PORT);
# start_pat_client NAME will listen on CLIENT_PORT.
add_node() {
	NODES+=("$1")
	ROLE_OF[$1]=$2
	NODE_PORT_OF[$1]=$3
	PUBLIC_PORT_OF[$1]=$4
	CLIENT_PORT_OF[$1]=$5
}

# start_proxy CONF: checks CONF with -t, runs the proxy on it, waits for
# its listeners (the nodes' public ports too).
start_proxy() {
	local out name
	out=$("$FEDPROXY" -c "$1" -t 2>&1) || fail "fedproxy -c $1 -t refused the config: $out"
	# FEDPROXY_WRAP runs the proxy under a tool (make check-valgrind).
	# shellcheck disable=SC2086
	start_bg proxy "$T/proxy.log" ${FEDPROXY_WRAP:-} "$FEDPROXY" -c "$1"
	wait_listen "$EXT_PORT" proxy
	wait_listen "$INT_PORT" proxy
	for name in "${NODES[@]}"; do
		wait_listen "${PUBLIC_PORT_OF[$name]}" proxy
	done
}

# run_proxy: the proxy on this scenario's config, CONF=$T/fedproxy.conf.
run_proxy() {
	CONF=$T/fedproxy.conf
	write_config "$CONF"
	start_proxy "$CONF"
}

# run_proxy_with_edge: run_proxy, plus the foreign edge's TLS client
# "edge-tls" (partner certificate) on EDGE_CLIENT_PORT.
run_proxy_with_edge() {
	run_proxy
	start_edge_client edge-tls "$EDGE_CLIENT_PORT" partner-chain.pem partner.key
}

# stop_proxy: the proxy must drain and exit 0 on SIGTERM.
stop_proxy() {
	kill -TERM "${PID_OF[proxy]}"
	wait_exit proxy 30
	[ "$RC" = 0 ] || fail "fedproxy exited with $RC on SIGTERM (124: still running after 30 s)"
	# Under valgrind (--error-exitcode would hide behind our own exit 0).
	! grep -qE '== ERROR SUMMARY: [1-9]' "$T/proxy.log" ||
		fail "valgrind found errors in the proxy (see proxy.log)"
}

# restart_proxy: stop_proxy, then the same config again (start_proxy CONF);
# LOG_MARK = the lines of proxy.log before the new start (see assert_log_count).
restart_proxy() {
	stop_proxy
	LOG_MARK=$(wc -l <"$T/proxy.log")
	start_proxy "$CONF"
}

# finish: stop_proxy; then the test passes.
finish() {
	stop_proxy
	say "PASS"
	exit 0
}

# --- TLS legs (stunnel) ----------------------------------------------------

# start_stunnel NAME ACCEPT_PORT OPTION...: one stunnel service accepting on
# 127.0.0.1:ACCEPT_PORT; OPTIONs are service lines ("key = value").
start_stunnel() {
	local name=$1 port=$2 conf="$T/$1.conf"
	shift 2
	printf '%s\n' "foreground = yes" "pid =" "debug = info" "syslog = no" \
		"[$name]" "accept = 127.0.0.1:$port" "$@" >"$conf"
	start_bg "$name" "$T/$name.out" stunnel "$conf"
	wait_listen "$port" "$name"
}

# start_edge_client NAME ACCEPT_PORT [CERT KEY]: a foreign edge's TLS client
# towards the proxy's external port: checks the proxy's certificate and
# presents CERT/KEY (files in the PKI; none when omitted).
start_edge_client() {
	start_tls_client "$1" "$2" "$EXT_PORT" "${@:3}"
}

# start_tls_client NAME ACCEPT_PORT PROXY_PORT [CERT KEY]: start_edge_client
# towards the proxy's port PROXY_PORT (the main external one or a public
# port).
start_tls_client() {
	local name=$1 port=$2
	local opts=(client=yes "connect = 127.0.0.1:$3" "sni = $PROXY_FQDN"
		"checkHost = $PROXY_FQDN" "verifyChain = yes" "CAfile = $T/pki/ca.pem")
	[ $# -lt 5 ] || opts+=("cert = $T/pki/$4" "key = $T/pki/$5")
	start_stunnel "$name" "$port" "${opts[@]}"
}

# start_pat_client NODE [CHAIN KEY]: the foreign edge's TLS client "tls-NODE"
# on CLIENT_PORT_OF[NODE] towards NODE's public port, with the partner's
# certificate (or CHAIN/KEY).
start_pat_client() {
	start_tls_client "tls-$1" "${CLIENT_PORT_OF[$1]}" "${PUBLIC_PORT_OF[$1]}" \
		"${2:-partner-chain.pem}" "${3:-partner.key}"
}

# start_edge_server NAME [EDGE_PORT BACKEND_PORT CHAIN KEY]: a foreign edge's
# TLS port (default EDGE_PORT) in front of its sipp (default FOREIGN_PORT),
# with the partner's certificate (or CHAIN/KEY); requires a client
# certificate naming the proxy.
start_edge_server() {
	edge_server_opts "${3:-$FOREIGN_PORT}" "${4:-partner-chain.pem}" "${5:-partner.key}"
	start_stunnel "$1" "${2:-$EDGE_PORT}" "${OPTS[@]}"
}

# edge_server_opts PORT CHAIN KEY: OPTS = the stunnel service lines of a
# foreign edge's TLS server in front of 127.0.0.1:PORT, presenting CHAIN/KEY
# (files in the PKI) and requiring a client certificate naming the proxy.
edge_server_opts() {
	OPTS=("connect = 127.0.0.1:$1" "cert = $T/pki/$2" "key = $T/pki/$3"
		"CAfile = $T/pki/ca.pem" "verifyChain = yes" "requireCert = yes"
		"checkHost = $PROXY_FQDN")
}

# --- a name server (dnsmasq) --------------------------------------------------

# start_dns ZONE RECORD...: dnsmasq (scenario_init ... dnsmasq) in the
# foreground on 127.0.0.1:DNS_PORT, the [dns] server of write_config. It
# answers from RECORDs (dnsmasq options: fed_srv, --host-record=NAME,IP)
# only: a name under ZONE that they lack is NXDOMAIN, any other name
# REFUSED. Queries are logged to dns.out.
start_dns() {
	local zone=$1
	shift
	start_bg dns "$T/dns.out" dnsmasq --no-daemon --port="$DNS_PORT" --listen-address=127.0.0.1 \
		--bind-interfaces --no-resolv --no-hosts -C /dev/null --pid-file= \
		--log-facility=- --log-queries --local="/$zone/" "$@"
	wait_listen "$DNS_PORT" dns
}

# fed_srv DOMAIN TARGET PORT: the dnsmasq option for DOMAIN's
# _sipfederationtls._tcp record, one target: TARGET:PORT.
fed_srv() { printf -- '--srv-host=_sipfederationtls._tcp.%s,%s,%s,0,0' "$@"; }

# --- sipp --------------------------------------------------------------------

# sipp_start NAME SCENARIO.xml ARG...: one call of the scenario in the
# background, TCP, messages logged to $T/NAME.msg. ARGs go to sipp as they
# are (the remote host for a client, -p PORT, -key ...).
sipp_start() {
	local name=$1 xml=$2
	shift 2
	start_bg "$name" "$T/$name.out" sipp -sf "$XML_DIR/$xml" -t t1 -i 127.0.0.1 \
		-m 1 -nostdin -max_socket 64 -timeout 20 -timeout_error \
		-trace_msg -message_file "$T/$name.msg" -trace_err -error_file "$T/$name.err" "$@"
}

# sipp_uas NAME SCENARIO.xml PORT ARG...: a sipp server on PORT, listening.
sipp_uas() {
	local name=$1 xml=$2 port=$3
	shift 3
	sipp_start "$name" "$xml" -p "$port" "$@"
	wait_listen "$port" "$name"
}

# foreign_call NAME SCENARIO.xml [LOCAL_PORT [ARG...]]: a foreign user's sipp
# client through the edge's TLS client (run_proxy_with_edge), to the local
# user; ARGs go to sipp (e.g. -set notifies N).
foreign_call() {
	sipp_start "$1" "$2" "127.0.0.1:$EDGE_CLIENT_PORT" -p "${3:-$UAC_PORT}" "${INBOUND[@]}" "${@:4}"
}

# sipp_wait NAME...: lets each sipp NAME end (25 s at most) and keeps its
# exit status in SIPP_RC[NAME] (124: still running). Assert first, then
# sipp_ok: a failed header check says more than "sipp exited 1".
sipp_wait() {
	local name
	for name; do
		[ -n "${SIPP_RC[$name]:-}" ] && continue
		wait_exit "$name" 25
		SIPP_RC[$name]=$RC
	done
}

# sipp_ok NAME...: each sipp NAME ended with every call successful.
sipp_ok() {
	local name
	sipp_wait "$@"
	for name; do
		[ "${SIPP_RC[$name]}" = 0 ] ||
			fail "sipp $name failed (exit ${SIPP_RC[$name]}, 124: still running); see $name.err, $name.msg"
	done
}

# --- reading what sipp saw -----------------------------------------------------

# msg_of NAME DIR REGEX [NTH]: the NTH (default 1st) message that sipp NAME
# DIR (sent or received) whose first line matches REGEX goes to a file
# named by MSG. Fails when there is none.
msg_of() {
	local name=$1 dir=$2 re=$3 nth=${4:-1}
	MSG="$T/$name.$dir.$(printf '%s' "$re" | tr -c 'A-Za-z0-9' _).$nth.sip"
	sipp_messages "$T/$name.msg" "$dir" "$re" "$nth" >"$MSG"
	[ -s "$MSG" ] || fail "sipp $name never $dir a message matching /$re/ (#$nth)"
}

# count_msgs NAME DIR REGEX: how many messages sipp NAME DIR starting REGEX.
count_msgs() {
	[ -f "$T/$1.msg" ] || { echo 0; return; }
	sipp_messages "$T/$1.msg" "$2" "$3" 0 | grep -c '^=== '
}

# msg_body NAME DIR REGEX [NTH]: BODY = a file holding the body of the
# message msg_of picks, byte for byte: what follows its head, as many bytes
# as sipp's trace log says the whole message had (sipp frames a message on
# TCP by its Content-Length, so a wrong one shows as a cut or overlong body).
msg_body() {
	local nth=${4:-1}
	BODY="$T/$1.$2.$(printf '%s' "$3" | tr -c 'A-Za-z0-9' _).$nth.body"
	LC_ALL=C awk -v dir="$2" -v re="$3" -v nth="$nth" '
		function flush() {
			if (mode == 2) printf "%s", substr(body, 1, size - head)
			mode = 3
		}
		/^-----------------------------------------------( |$)/ { flush(); mode = 0; next }
		mode == 0 {
			mode = 3
			if ($0 ~ ("message " dir) && match($0, /[0-9]+ *\]? *bytes/)) {
				mode = 1
				size = substr($0, RSTART, RLENGTH) + 0
			}
			next
		}
		mode == 1 && $0 == "" { next }
		mode == 1 {
			mode = 3
			first = $0
			sub(/\r$/, "", first)
			if (first !~ re || ++n != nth) next
			mode = 2; in_head = 1; head = 0; body = ""
		}
		mode == 2 && in_head {
			head += length($0) + 1
			if ($0 == "\r" || $0 == "") in_head = 0
			next
		}
		mode == 2 { body = body $0 "\n" }
		END { flush() }
	' "$T/$1.msg" >"$BODY"
}

# sipp_messages LOG DIR REGEX NTH: prints message NTH of LOG; NTH 0 prints
# every matching message, each after a "=== " line. The log is sipp's
# -trace_msg format: a dashed line, "TCP message sent|received ...", a blank
# line, the message.
sipp_messages() {
	awk -v dir="$2" -v re="$3" -v nth="$4" '
		{ sub(/\r$/, "") }
		/^-----------------------------------------------( |$)/ { if (done) exit; mode = 0; next }
		mode == 0 { mode = ($0 ~ ("message " dir)) ? 1 : 3; next }
		mode == 1 && $0 == "" { next }
		mode == 1 {
			mode = 3
			if ($0 !~ re) next
			n++
			if (nth == 0) { print "=== " n; mode = 2 }
			else if (n == nth) { mode = 2; done = 1 }
		}
		mode == 2 { print }
	' "$1"
}

# hdr_values FILE NAMES: the values of the header fields NAMES (an ERE of
# lower-case names, e.g. "via|v") in the message in FILE, one per line, in
# order: comma-separated values are split apart (not inside <> or quotes).
hdr_values() {
	awk -v names="$2" '
		function emit(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); if (s != "") print s }
		{ sub(/\r$/, "") }
		NR == 1 { next }
		$0 == "" { exit }
		{
			i = index($0, ":")
			name = tolower(substr($0, 1, i - 1))
			sub(/[ \t]+$/, "", name)
			if (i == 0 || name !~ ("^(" names ")$")) next
			v = substr($0, i + 1); cur = ""; depth = 0; q = 0
			for (k = 1; k <= length(v); k++) {
				c = substr(v, k, 1)
				if (c == "\"") q = !q
				else if (!q && c == "<") depth++
				else if (!q && c == ">") depth--
				if (c == "," && !q && depth == 0) { emit(cur); cur = "" }
				else cur = cur c
			}
			emit(cur)
		}
	' "$1"
}

# uri_of VALUE: the URI in a name-addr ("<sip:...>;tag=x" gives sip:...).
uri_of() { sed -E 's/^[^<]*<([^>]*)>.*$/\1/' <<<"$1"; }

# dialog_keys NAME METHOD: DIALOG = the sipp arguments with which
# indialog_*.xml speaks for the side of the dialog that sipp NAME answered
# (METHOD received, 2xx sent): Call-ID, remote target, route set (the
# Record-Route as received, same order on the answering side), both ends.
# The same values go to DLG[call_id, target, routes, local, remote, me,
# contact] (routes: the entries, comma-separated).
dialog_keys() {
	msg_of "$1" received "^$2 "
	local req=$MSG
	msg_of "$1" sent '^SIP/2\.0 2[0-9][0-9] '
	DLG=([call_id]=$(hdr_values "$req" 'call-id|i')
		[target]=$(uri_of "$(hdr_values "$req" 'contact|m')")
		[routes]=$(hdr_values "$req" record-route | paste -sd, - | sed 's/,/, /g')
		[local]=$(hdr_values "$MSG" 'to|t')
		[remote]=$(hdr_values "$req" 'from|f')
		[me]=$(uri_of "$(hdr_values "$req" 'to|t')")
		[contact]=$(uri_of "$(hdr_values "$MSG" 'contact|m')"))
	DIALOG=(-cid_str "${DLG[call_id]}" -key d_target "${DLG[target]}"
		-key d_routes "${DLG[routes]:+Route: ${DLG[routes]}}"
		-key d_local "${DLG[local]}" -key d_remote "${DLG[remote]}"
		-key d_me "${DLG[me]}" -key d_contact "${DLG[contact]}")
}

# dialog_request LABEL PORT CSEQ ROUTE [FIELD...]: raw_once to PORT of a
# request inside the dialog of DLG (dialog_keys), from its answering side:
# Request-URI, From, To and Call-ID from DLG, Route: ROUTE (the entries as
# one value, possibly edited), answer in $T/LABEL.sip. Status 1: no answer.
dialog_request() {
	raw_once "$2" "$1" "$3" "Request-URI: ${DLG[target]}" "From: ${DLG[local]}" \
		"To: ${DLG[remote]}" "Call-ID: ${DLG[call_id]}" "Route: $4" "${@:5}"
}

# branch_of FILE: the branch parameter of the top Via.
branch_of() { hdr_values "$1" 'via|v' | head -n 1 | sed -nE 's/.*;branch=([^;]*).*/\1/p'; }

# wait_grep FILE REGEX SECONDS WHAT: a line matching REGEX shows up in FILE.
wait_grep() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -Eq -- "$2" "$1" && return 0
		sleep 0.1
	done
	fail "$4: /$2/ not in ${1#"$T"/} after $3 s"
}

# --- assertions ------------------------------------------------------------------

# assert_grep FILE REGEX WHAT (ERE, anywhere in FILE)
assert_grep() {
	grep -Eq -- "$2" "$1" || fail "$3: no line matches /$2/ in ${1#"$T"/}"
}

# assert_start FILE REGEX WHAT: the first line (request or status line)
# matches ^REGEX$.
assert_start() {
	local first
	first=$(head -n 1 "$1")
	[[ $first =~ ^$2$ ]] || fail "$3: got '$first', want /^$2\$/"
}

# assert_hdr FILE NAMES NTH REGEX WHAT: value NTH of header NAMES matches
# ^REGEX (a prefix).
assert_hdr() {
	local v
	v=$(hdr_values "$1" "$2" | sed -n "${3}p")
	[[ $v =~ ^$4 ]] || fail "$5: $2 #$3 is '$v', want /^$4/"
}

# assert_hdr_count FILE NAMES N WHAT: header NAMES has N values.
assert_hdr_count() {
	local n
	n=$(hdr_values "$1" "$2" | wc -l)
	[ "$n" -eq "$3" ] || fail "$4: $n $2 values, want $3: $(hdr_values "$1" "$2" | paste -sd'|' -)"
}

assert_eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}

# inside_at PORT: INSIDE_IP:PORT as the config and SIP write it (an IPv6
# address in brackets); inside_re PORT: the same as a regex.
inside_at() {
	case $INSIDE_IP in
	*:*) printf '[%s]:%s' "$INSIDE_IP" "$1" ;;
	*) printf '%s:%s' "$INSIDE_IP" "$1" ;;
	esac
}
inside_re() {
	local at
	at=$(inside_at "$1")
	at=${at//./\\.} at=${at//\[/\\[} at=${at//]/\\]}
	printf '%s' "$at"
}

# The proxy's own entries, as regexes: Record-Route (URI parameters may
# follow lr) and the sent-by of its Via, facing inside or outside (outside:
# the public port of NODE, default the routing node's, the main one).
rr_inside() { printf '<sip:%s;transport=tcp;lr[;>]' "$(inside_re "$INT_PORT")"; }
rr_outside() { printf '<sip:%s:%s;transport=tls;lr[;>]' "${PROXY_FQDN//./\\.}" "$EXT_PORT"; }
via_inside() { printf 'SIP/2\\.0/TCP %s' "$(inside_re "$INT_PORT")"; }
via_outside() { printf 'SIP/2\\.0/TLS %s:%s' "${PROXY_FQDN//./\\.}" "${PUBLIC_PORT_OF[${1:-routing}]}"; }

# rr_of SIDE NODE: the whole Record-Route value (a regex) of the proxy's
# entry facing SIDE (e: public FQDN, NODE's public port, TLS; i: the inside
# listener, TCP), its fpx token (rr.h) naming SIDE and NODE: flow id, mac.
rr_of() {
	local hex='[0-9a-f]{16}' at="$(inside_re "$INT_PORT");transport=tcp"
	[ "$1" = i ] || at="${PROXY_FQDN//./\\.}:${PUBLIC_PORT_OF[$2]};transport=tls"
	printf '<sip:%s;lr;fpx=%s\\.%s\\.%s\\.%s>$' "$at" "$1" "$2" "$hex" "$hex"
}

# assert_node_rr FILE NODE TOP WHAT: FILE has the proxy's two Record-Route
# entries for a dialog of NODE (rr_of), the one facing side TOP (e or i) on
# top.
assert_node_rr() {
	local other=e
	[ "$3" = i ] || other=i
	assert_record_route "$1" "$(rr_of "$3" "$2")" "$(rr_of "$other" "$2")" "$4"
}

# assert_record_route FILE FIRST SECOND WHAT: exactly two Record-Route
# entries (the proxy's double record-route), FIRST on top.
assert_record_route() {
	assert_hdr_count "$1" record-route 2 "$4"
	assert_hdr "$1" record-route 1 "$2" "$4 (top entry)"
	assert_hdr "$1" record-route 2 "$3" "$4 (second entry)"
}

# assert_inbound NAME METHOD [NTH [NODE]]: sipp NAME (a node) received
# METHOD (the NTH one, default the 1st) for the local user as the proxy
# forwards a new request from outside: request line, the proxy's Via over
# the sender's, inside-facing Record-Route on top (with NODE: exactly the
# entries of a dialog of NODE, assert_node_rr). The request stays in MSG.
assert_inbound() {
	msg_of "$1" received "^$2 " "${3:-1}"
	assert_start "$MSG" "$2 ${LOCAL_URI//./\\.} SIP/2\\.0" "$2 request line at $1"
	assert_via_from_proxy "$MSG" 2 "$(via_inside)" "Via of the $2 at $1"
	if [ -n "${4:-}" ]; then
		assert_node_rr "$MSG" "$4" i "Record-Route of the $2 at $1"
	else
		assert_record_route "$MSG" "$(rr_inside)" "$(rr_outside)" "Record-Route of the $2 at $1"
	fi
}

# assert_only_request NAME CALLID: sipp NAME received one request, Call-ID
# CALLID.
assert_only_request() { assert_requests "$1" "$2"; }

# assert_requests NAME CALLID...: the requests sipp NAME received are
# exactly these, in this order (by Call-ID); none for no CALLID. OPTIONS
# (the proxy's health probes) do not count.
assert_requests() {
	local name=$1 got
	shift
	got=$(received_requests "$name" | cut -d' ' -f2 | paste -sd' ' -)
	assert_eq "$got" "$*" "Call-IDs of the requests at $name"
}

# assert_received NAME ["METHOD CALLID"...]: the requests sipp NAME received,
# OPTIONS aside, are exactly these, in this order; none when no argument.
assert_received() {
	local name=$1 got want
	shift
	got=$(received_requests "$name" | paste -sd'|' -)
	want=$(printf '%s\n' "$@" | paste -sd'|' -)
	assert_eq "$got" "$want" "requests at node $name (METHOD Call-ID|...)"
}

# received_requests NAME: "METHOD CALLID", one line per request sipp NAME
# received, but OPTIONS (the proxy's health probes).
received_requests() {
	[ -f "$T/$1.msg" ] || return 0
	sipp_messages "$T/$1.msg" received '^[A-Z]+ ' 0 | awk '
		/^=== / { method = ""; head = 1; next }
		method == "" { method = $1; next }
		$0 == "" { head = 0 }
		head && tolower($0) ~ /^(call-id|i)[ \t]*:/ {
			sub(/^[^:]*:[ \t]*/, "")
			if (method != "OPTIONS") print method, $0
		}'
}

# assert_answer CALLID STATUS WHAT: raw_request's answer to CALLID has the
# status line ^SIP/2.0 STATUS$ (a regex: code and phrase) and answers it
# (Call-ID).
assert_answer() {
	assert_start "$T/$1.sip" "SIP/2\\.0 $2" "$3"
	assert_hdr "$T/$1.sip" 'call-id|i' 1 "$1\$" "Call-ID of the answer: $3"
}

# assert_denied CALLID RULE DETAIL: the policy refused raw request CALLID:
# 403 Forbidden, one Warning naming RULE, and the proxy's log line naming
# RULE and DETAIL (regexes: escape the dots).
assert_denied() {
	assert_answer "$1" '403 Forbidden' "answer to $1"
	assert_hdr_count "$T/$1.sip" warning 1 "Warning in the answer to $1"
	assert_hdr "$T/$1.sip" warning 1 "399 ${PROXY_FQDN//./\\.} \"Denied by $2\"\$" \
		"Warning in the answer to $1"
	wait_grep "$T/proxy.log" "denied $1 from 127\\.0\\.0\\.1:[0-9]+: $2: $3\$" 5 \
		"the proxy's log of the denial of $1"
}

# assert_wrong_edge CALLID DOMAIN EXPECTED: assert_denied for peer identity:
# the partner's certificate does not name an edge of DOMAIN, whose first
# expected edge name is EXPECTED (a regex).
assert_wrong_edge() {
	assert_denied "$1" 'peer identity' "certificate ${PARTNER_FQDN//./\\.} does not name an edge of ${2//./\\.} \\(expected $3\\)"
}

# assert_answered NAME: the first response sipp NAME received is a 200.
assert_answered() {
	msg_of "$1" received '^SIP/2\.0 '
	assert_start "$MSG" 'SIP/2\.0 200 .+' "response at $1"
}

# assert_in_dialog FILE METHOD TOP: FILE holds METHOD as the proxy forwards
# it inside a dialog: its Via (sent-by regex TOP) over the sender's, no Route
# left (it pops its own entries), no Record-Route.
assert_in_dialog() {
	assert_via_from_proxy "$1" 2 "$3" "Via of the $2"
	assert_hdr_count "$1" route 0 "Route in the $2 (the proxy pops its own entries)"
	assert_hdr_count "$1" record-route 0 "Record-Route in an in-dialog $2"
}

# assert_passed NAME CALLID...: the requests sipp NAME (the routing node)
# received are exactly the MESSAGEs foreign_message sent as CALLID..., in
# this order, each as assert_inbound wants it, From and To as sent.
assert_passed() {
	local name=$1 id n=0
	shift
	assert_requests "$name" "$@"
	for id; do
		assert_inbound "$name" MESSAGE $((++n))
		assert_hdr "$MSG" 'from|f' 1 "<sip:alice@${FROM_OF[$id]//./\\.}>;tag=t-$id\$" "From of $id at $name"
		assert_hdr "$MSG" 'to|t' 1 "<${LOCAL_URI//./\\.}>\$" "To of $id at $name"
	done
}

# assert_via_from_proxy FILE N TOP WHAT [FROM]: N Vias, the top one the
# proxy's (TOP: sent-by regex), the next one stamped with received=FROM (the
# sender's address, default 127.0.0.1; bare, also for IPv6) and rport=.
assert_via_from_proxy() {
	local from=${5:-127.0.0.1}
	assert_hdr_count "$1" 'via|v' "$2" "$4"
	assert_hdr "$1" 'via|v' 1 "$3;branch=z9hG4bK" "$4 (proxy's Via)"
	hdr_values "$1" 'via|v' | sed -n 2p | grep -Eq ";received=${from//./\\.}(;|\$)" ||
		fail "$4: second Via has no received=$from: $(hdr_values "$1" 'via|v' | sed -n 2p)"
	hdr_values "$1" 'via|v' | sed -n 2p | grep -Eq ';rport=[0-9]+(;|$)' ||
		fail "$4: second Via has no rport=PORT: $(hdr_values "$1" 'via|v' | sed -n 2p)"
}

# --- a raw SIP client behind a stunnel client (no sipp: malformed input) -------

# raw_open PORT: connects fd RAW to 127.0.0.1:PORT.
raw_open() {
	exec {RAW}<>"/dev/tcp/127.0.0.1/$1" || fail "cannot connect to port $1"
}

raw_close() { exec {RAW}>&-; }

# raw_once PORT CALLID CSEQ [FIELD...]: raw_request on a connection of its
# own to 127.0.0.1:PORT; status 1 when nothing answers.
raw_once() {
	local status=0
	raw_open "$1"
	shift
	raw_request "$@" || status=1
	raw_close
	return "$status"
}

# raw_request CALLID CSEQ [FIELD...]: sends a request on RAW (CRLF line
# ends) and reads the answer, if any, into $T/CALLID.sip. Status 1: no answer
# within 5 s per line (connection closed or silent). The method is the last
# word of CSEQ (the header value, so a test can break it). By default it
# comes from the foreign user, over the partner's edge, to the local user. A
# FIELD "Name: value" replaces the header spelt Name (Via, Max-Forwards,
# From, To, Call-ID, CSeq) or is added after them; the pseudo-field
# "Request-URI: URI" sets the request URI (default: To's URI). The
# pseudo-field "Body-File: FILE" makes FILE the body, sent as it is (give
# its Content-Type as a FIELD); else a MESSAGE carries a text/plain body,
# other methods none.
raw_request() {
	local id=$1 cseq=$2 method=${2##* } ruri="" field i n body="" file="" len request
	local head=("Via: SIP/2.0/TLS $PARTNER_FQDN:5061;branch=z9hG4bK-$id;rport" "Max-Forwards: 70"
		"From: <$FOREIGN_URI>;tag=t-$id" "To: <$LOCAL_URI>" "Call-ID: $id" "CSeq: $cseq")
	shift 2
	for field; do
		if [[ $field =~ ^Request-URI:\ *(.*)$ ]]; then
			ruri=${BASH_REMATCH[1]}
			continue
		elif [[ $field =~ ^Body-File:\ *(.*)$ ]]; then
			file=${BASH_REMATCH[1]}
			continue
		fi
		n=${#head[@]}
		for ((i = 0; i < n; i++)); do
			[ "${head[i]%%:*}" = "${field%%:*}" ] && break
		done
		head[i]=$field # i = n: a new one at the end
	done
	for field in "${head[@]}"; do
		[[ $field =~ ^To:\ *(.*)$ ]] && [ -z "$ruri" ] && ruri=$(uri_of "${BASH_REMATCH[1]}")
	done
	if [ -n "$file" ]; then
		len=$(wc -c <"$file") || fail "raw_request $id: cannot read the body file $file"
	elif [ "$method" = MESSAGE ]; then
		body="Raw message $id."
		len=${#body}
		head+=("Content-Type: text/plain")
	fi
	printf -v request '%s\r\n' "$method $ruri SIP/2.0" "${head[@]}" "Content-Length: ${len:-0}" ""
	# A connection the proxy (or stunnel, after a refused handshake) has
	# already closed cannot be written to: that, too, is "no answer".
	# shellcheck disable=SC2261 # >&"$RAW" is an fd of its own, not stderr
	{ printf '%s%s' "$request" "$body" && { [ -z "$file" ] || cat -- "$file"; }; } >&"$RAW" 2>/dev/null ||
		return 1
	raw_response "$T/$id.sip"
}

# foreign_message CALLID DOMAIN [FIELD...]: a MESSAGE from alice@DOMAIN to
# the local user (raw_request: FIELDs) on a connection of its own through
# the partner's edge (run_proxy_with_edge); fails when nothing answers.
foreign_message() {
	local id=$1
	FROM_OF[$id]=$2
	raw_once "$EDGE_CLIENT_PORT" "$id" '1 MESSAGE' "From: <sip:alice@$2>;tag=t-$id" "${@:3}" ||
		fail "no answer to MESSAGE $id"
}

# raw_response FILE: reads one message from RAW (head and body: the answer,
# or a request the proxy sends on this connection) into FILE; status 1 on
# EOF or timeout before a complete head.
raw_response() {
	local line len=0 n body
	: >"$1"
	for ((n = 0; n < 100; n++)); do
		IFS= read -r -t 5 line <&"$RAW" || return 1
		line=${line%$'\r'}
		if [ -z "$line" ]; then
			[ -s "$1" ] && break # end of head; before it: CRLF keep-alives
			continue
		fi
		printf '%s\n' "$line" >>"$1"
		[[ ${line,,} =~ ^(content-length|l)[[:space:]]*:[[:space:]]*([0-9]+) ]] && len=${BASH_REMATCH[2]}
	done
	((n < 100)) || return 1
	((len == 0)) && return 0
	IFS= read -r -N "$len" -t 5 body <&"$RAW" || return 1
	printf '\n%s\n' "$body" >>"$1"
}

# --- three inside nodes behind public ports (PAT) ------------------------------

# pat_init NAME BASEPORT: scenario_init, then three inside nodes: the routing
# node (NODE_PORT; the main external port), standby b (NODE2_PORT; public
# port base+11) and member c (base+10; public port base+12), whose
# start_pat_client listens on base+13 and base+14. A second foreign edge,
# edge.partner2.example.test (certificate partner2-chain.pem), serves
# partner2.example.test (static route) on EDGE2_PORT (base+15) in front of
# FOREIGN2_PORT (base+16).
# Health probes are off unless the test set HEALTH before.
pat_init() {
	scenario_init "$1" "$2"
	local base=$2
	add_node b standby "$NODE2_PORT" $((base + 11)) $((base + 13))
	add_node c member $((base + 10)) $((base + 12)) $((base + 14))
	EDGE2_PORT=$((base + 15))
	FOREIGN2_PORT=$((base + 16))
	make_leaf partner2 "$PARTNER2_FQDN"
	add_route "$PARTNER2_DOMAIN" "$PARTNER2_FQDN" "$EDGE2_PORT"
	HEALTH=${HEALTH:-off}
}

# node_uas NODE [NAME]: sipp NAME (default NODE) listens at NODE's address
# and answers every OPTIONS, MESSAGE and SUBSCRIBE with 200, each one a call
# of its own (the health probes too), until the test stops it.
node_uas() {
	sipp_uas "${2:-$1}" uas_answer.xml "${NODE_PORT_OF[$1]}" -m 1000 -timeout 100
}

# node_uac NODE SCENARIO.xml TO_URI [ARG...]: sipp NODE speaks for inside
# user user-NODE@example.test from NODE's address: its requests go to the
# inside listener, with NODE's address as the Via sent-by. ARGs go to sipp.
node_uac() {
	sipp_start "$1" "$2" "127.0.0.1:$INT_PORT" -p "${NODE_PORT_OF[$1]}" \
		-key from "sip:user-$1@example.test" -key to "$3" "${@:4}"
}

# foreign_indialog NAME SCENARIO.xml NODE PORT ARG...: sipp NAME (from
# PORT) speaks for the foreign side of the dialog in DIALOG (dialog_keys)
# through the edge's TLS client towards NODE's public port (start_pat_client).
foreign_indialog() {
	sipp_start "$1" "$2" "127.0.0.1:${CLIENT_PORT_OF[$3]}" -p "$4" "${DIALOG[@]}" "${@:5}"
}

# assert_outbound NAME METHOD NODE TO_URI: the foreign sipp NAME received
# METHOD for TO_URI as the proxy forwards it from NODE: the proxy's Via
# (NODE's public port) over NODE's own (NODE's address), Record-Route for a
# dialog of NODE, the outside entry on top. The request stays in MSG.
assert_outbound() {
	msg_of "$1" received "^$2 "
	assert_start "$MSG" "$2 $(re_quote "$4") SIP/2\\.0" "$2 request line at $1"
	assert_via_from_proxy "$MSG" 2 "$(via_outside "$3")" "Via of the $2 at $1"
	assert_hdr "$MSG" 'via|v' 2 "SIP/2\\.0/TCP 127\\.0\\.0\\.1:${NODE_PORT_OF[$3]};" \
		"Via of node $3 under the proxy's in the $2 at $1"
	assert_node_rr "$MSG" "$3" e "Record-Route of the $2 at $1"
}

# assert_delivered NAME METHOD NTH: the NTH METHOD sipp NAME received is an
# in-dialog request of DLG (dialog_keys) as the proxy forwards it inside:
# request line to DLG's target, Call-ID, assert_in_dialog. Stays in MSG.
assert_delivered() {
	msg_of "$1" received "^$2 " "$3"
	assert_start "$MSG" "$2 $(re_quote "${DLG[target]}") SIP/2\\.0" "$2 #$3 request line at $1"
	assert_hdr "$MSG" 'call-id|i' 1 "$(re_quote "${DLG[call_id]}")\$" "Call-ID of $2 #$3 at $1"
	assert_in_dialog "$MSG" "$2" "$(via_inside)"
}

# assert_routed METHOD CALLID NODE WHY N: N log lines (since LOG_MARK, see
# restart_proxy) say the proxy forwarded METHOD CALLID from an outside
# peer to NODE for reason WHY (a regex).
assert_routed() {
	assert_log_count "req in  $1 call-id=$(re_quote "$2") .*peer=127\\.0\\.0\\.1:[0-9]+/external -> forward node=$3 \\($4\\)$" \
		"$5" "$1 $2 forwarded to node $3 ($4)"
}

# assert_log_count REGEX N WHAT: N lines of proxy.log since LOG_MARK (see
# restart_proxy) match REGEX.
assert_log_count() {
	local n
	n=$(tail -n +$((${LOG_MARK:-0} + 1)) "$T/proxy.log" | grep -Ec -- "$1")
	assert_eq "$n" "$2" "proxy log lines /$1/: $3"
}

# call_id_of NAME METHOD: the Call-ID of the first METHOD sipp NAME sent.
call_id_of() {
	msg_of "$1" sent "^$2 "
	hdr_values "$MSG" 'call-id|i'
}

# re_quote TEXT: TEXT as an ERE that matches it literally.
# shellcheck disable=SC2001 # one sed for a whole character class
re_quote() { sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$1"; }

# foreign_uas NAME SCENARIO.xml [2]: the foreign sipp server NAME behind its
# edge's TLS server: the partner's (FOREIGN_PORT behind EDGE_PORT, stunnel
# "edge-tls"), or with 2 the second edge's (FOREIGN2_PORT behind EDGE2_PORT,
# "edge2-tls", certificate partner2; pat_init).
foreign_uas() {
	if [ "${3:-}" = 2 ]; then
		sipp_uas "$1" "$2" "$FOREIGN2_PORT"
		start_edge_server edge2-tls "$EDGE2_PORT" "$FOREIGN2_PORT" partner2-chain.pem partner2.key
	else
		sipp_uas "$1" "$2" "$FOREIGN_PORT"
		start_edge_server edge-tls
	fi
}

# node_session NODE: every other node runs node_uas; NODE (uac_im.xml)
# invites the foreign user, whose sipp "foreign" (uas_im.xml, foreign_uas)
# accepts, then takes the ACK and NODE's three MESSAGEs. Asserts the INVITE
# the foreign side saw (assert_outbound: a dialog of NODE, its public port),
# then sets DIALOG and DLG for the foreign side and starts the edge's TLS
# client towards NODE's public port (start_pat_client), for the foreign
# side's requests in the dialog. NODE's sipp then takes MESSAGEs until BYE.
node_session() {
	local node
	for node in routing "${NODES[@]}"; do
		[ "$node" = "$1" ] || node_uas "$node"
	done
	foreign_uas foreign uas_im.xml
	node_uac "$1" uac_im.xml "$FOREIGN_URI"
	sipp_wait foreign
	assert_outbound foreign INVITE "$1" "$FOREIGN_URI"
	assert_eq "$(count_msgs foreign received '^MESSAGE ')" 3 "MESSAGEs from node $1 at the foreign side"
	sipp_ok foreign
	dialog_keys foreign INVITE
	start_pat_client "$1"
}

# assert_replies NAME NODE: sipp NAME, at NODE's address, received exactly
# what indialog_im.xml sends in the dialog of DLG, three MESSAGEs and the
# BYE, each as assert_delivered wants it, and the proxy logged each one
# (since LOG_MARK) as routed to NODE by the token in its Route.
assert_replies() {
	local id=${DLG[call_id]} n
	assert_received "$1" "MESSAGE $id" "MESSAGE $id" "MESSAGE $id" "BYE $id"
	for n in 1 2 3; do
		assert_delivered "$1" MESSAGE "$n"
	done
	assert_delivered "$1" BYE 1
	assert_routed MESSAGE "$id" "$2" 'in-dialog, node from Route' 3
	assert_routed BYE "$id" "$2" 'in-dialog, node from Route' 1
}

# assert_idle NAME...: sipp NAME... received no request (OPTIONS aside).
assert_idle() {
	local name
	for name; do
		assert_received "$name"
	done
}

# --- presence bodies (the [presence] mapping table) ------------------------------

# presence_config [DOMAIN DIALECT]...: EXTRA_CONFIG = a [presence] section
# with the mapping table etc/presence-map.conf, copied to TABLE (in $T), and
# the default dialect lync; then a [domain DOMAIN] speaking DIALECT per pair.
# shellcheck disable=SC2120 # the pairs are optional
presence_config() {
	local section
	TABLE=$T/presence-map.conf
	cp "$SOURCE_ROOT/etc/presence-map.conf" "$TABLE" || fail "cannot copy the mapping table"
	printf -v EXTRA_CONFIG '%s\n' "" "[presence]" "table = ${TABLE##*/}" "default_dialect = lync" ""
	while [ $# -ge 2 ]; do
		printf -v section '%s\n' "[domain $1]" "dialect = $2" ""
		EXTRA_CONFIG+=$section
		shift 2
	done
}

# fixture NAME [PRESENTITY]: FIXTURE = $T/[PRESENTITY.]NAME, the presence
# document test/presence/NAME as PRESENTITY (user@domain) sends it: each
# address in it (user@host.example) becomes PRESENTITY. Without
# PRESENTITY, as it is.
fixture() {
	FIXTURE=$T/${2:+$2.}$1
	sed -E "${2:+s/[[:alnum:]._-]+@[[:alnum:].-]+\\.example\\b/$2/g}" \
		"$SOURCE_ROOT/test/presence/$1" >"$FIXTURE" || fail "cannot read the fixture $1"
}

# watch_foreign NODE N [2]: node NODE subscribes (node_uac, uac_subscribe.xml
# taking N NOTIFYs) to the foreign user at the partner's edge (with 2: at
# the second edge, pat_init), whose sipp "foreign" ("foreign2") answers 200.
# Then DLG and DIALOG are that dialog's foreign side (dialog_keys), and the
# edge's TLS client towards NODE's public port (start_pat_client) is up for
# its NOTIFYs (presence_notify to CLIENT_PORT_OF[NODE]).
watch_foreign() {
	local name=foreign uri=$FOREIGN_URI tls=()
	[ "${3:-}" != 2 ] || { name=foreign2 uri=$FOREIGN2_URI tls=(partner2-chain.pem partner2.key); }
	foreign_uas "$name" uas_answer.xml "${3:-}"
	node_uac "$1" uac_subscribe.xml "$uri" -set notifies "$2"
	sipp_ok "$name"
	dialog_keys "$name" SUBSCRIBE
	start_pat_client "$1" "${tls[@]}"
}

# presence_notify LABEL PORT CSEQ BODY [FIELD...]: a NOTIFY of the presence
# package (Event, an active Subscription-State, Contact, Content-Type
# application/pidf+xml) with the file BODY as its body, from the side of
# the dialog of DLG that answered the SUBSCRIBE (dialog_request to PORT);
# FIELDs replace those fields or add to them. The answer is in
# $T/LABEL.sip; fails when nothing answers.
presence_notify() {
	dialog_request "$1" "$2" "$3 NOTIFY" "${DLG[routes]}" "Contact: <${DLG[contact]}>" \
		'Event: presence' 'Subscription-State: active;expires=3600' \
		'Content-Type: application/pidf+xml' "Body-File: $4" "${@:5}" ||
		fail "no answer to NOTIFY $1"
}

# notify_ok LABEL PORT CSEQ BODY [FIELD...]: presence_notify, answered 200
# (the watcher's answer, relayed).
notify_ok() {
	presence_notify "$@"
	assert_start "$T/$1.sip" 'SIP/2\.0 200 OK' "answer to NOTIFY $1"
}

# notify_at NAME NTH CSEQ: MSG and BODY (msg_of, msg_body) = the NTH NOTIFY
# sipp NAME received, which is the one sent with CSeq CSEQ, as the proxy
# forwards it in a dialog (assert_in_dialog; the inside Via when NAME is a
# node, else the outside one), its Content-Length the size of BODY.
notify_at() {
	local via
	msg_of "$1" received '^NOTIFY ' "$2"
	msg_body "$1" received '^NOTIFY ' "$2"
	assert_hdr "$MSG" cseq 1 "$3 NOTIFY\$" "CSeq of NOTIFY #$2 at $1"
	assert_hdr "$MSG" 'content-length|l' 1 "$(wc -c <"$BODY")\$" "Content-Length of NOTIFY #$2 at $1"
	if [ -n "${NODE_PORT_OF[$1]:-}" ]; then via=$(via_inside); else via=$(via_outside); fi
	assert_in_dialog "$MSG" "NOTIFY #$2 at $1" "$via"
}

# assert_pidf NAME NTH CSEQ: notify_at; the NOTIFY carries a translated
# PIDF: Content-Type application/pidf+xml, a body that is exactly one
# well-formed XML document (xmllint), and not FIXTURE (the body sent).
assert_pidf() {
	notify_at "$@"
	assert_hdr "$MSG" 'content-type|c' 1 'application/pidf\+xml$' "Content-Type of NOTIFY #$2 at $1"
	xmllint --noout --nonet "$BODY" 2>"$BODY.err" ||
		fail "NOTIFY #$2 at $1: its body is not one well-formed XML document: $(head -n 3 "$BODY.err")"
	! cmp -s "$BODY" "$FIXTURE" || fail "NOTIFY #$2 at $1: the body arrived untranslated"
}

# assert_untouched NAME NTH CSEQ TYPE FILE: notify_at; the NOTIFY carries
# FILE byte for byte, Content-Type TYPE (a regex) as sent.
assert_untouched() {
	notify_at "$1" "$2" "$3"
	assert_hdr "$MSG" 'content-type|c' 1 "$4\$" "Content-Type of NOTIFY #$2 at $1"
	cmp -s "$BODY" "$5" || fail "NOTIFY #$2 at $1: the body is not ${5##*/} as sent: $(cat "$BODY")"
}

# assert_body [!] REGEX WHAT: BODY, its lines joined by blanks, matches the
# ERE REGEX (with !: does not).
assert_body() {
	local want=0 flat got=0
	[ "$1" != '!' ] || { want=1; shift; }
	flat=$(tr '\r\n' '  ' <"$BODY")
	grep -Eq -- "$1" <<<"$flat" || got=1
	[ "$got" = "$want" ] && return
	[ "$want" = 0 ] || fail "$2: the body matches /$1/: $flat"
	fail "$2: the body does not match /$1/: $flat"
}

# assert_xmpp NAME NTH CSEQ SHOW TEXT: the NTH NOTIFY at inside node NAME,
# sent with CSEQ, carries what XMPP users read (assert_pidf): basic open,
# <show xmlns="jabber:client">SHOW</show> in its status, and one note, TEXT.
assert_xmpp() {
	assert_pidf "$1" "$2" "$3"
	assert_body '<status> *<basic>open</basic>' "basic of NOTIFY #$2 at $1"
	assert_body "<status>.*<show xmlns=\"jabber:client\">$4</show>.*</status>" "show of NOTIFY #$2 at $1"
	assert_body "<note( [^>]*)?>$(re_quote "$5")</note>" "status text of NOTIFY #$2 at $1"
	assert_eq "$(grep -o '<note[ >]' "$BODY" | wc -l)" 1 "notes in NOTIFY #$2 at $1"
}

# assert_row N WAY DOMAIN DIR SRC_SYS SRC_STATE DST_SYS: N lines of the
# proxy's log (since LOG_MARK) say a presence body WAY (from, to) DOMAIN was
# translated by that row of TABLE (FILE:LINE ORIGIN).
assert_row() {
	local row
	row=$(awk -v key="$4 $5 $6 $7" '$1 " " $2 " " $3 " " $4 == key { print FNR " " $NF; exit }' "$TABLE")
	[ -n "$row" ] || fail "no row '$4 $5 $6 $7' in ${TABLE##*/}"
	assert_log_count "presence $2 $(re_quote "$3") translated by $(re_quote "${TABLE##*/}:$row")\$" "$1" \
		"presence bodies $2 $3 translated by the row '$4 $5 $6 $7'"
}

# lync_busy_init NAME BASEPORT N: scenario_init NAME BASEPORT (and xmllint)
# for the routing node watching alice at the partner's Lync edge (the
# default dialect) through the mapping table (presence_config, run_proxy,
# watch_foreign routing N); FIXTURE = her Busy (lync-busy.pidf.xml), for
# presence_notify to EDGE_CLIENT_PORT.
lync_busy_init() {
	scenario_init "$1" "$2" xmllint
	presence_config
	run_proxy
	watch_foreign routing "$3"
	fixture lync-busy.pidf.xml "${FOREIGN_URI#sip:}"
}
