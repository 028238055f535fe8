# lib.sh: what the benchmark phases share (sourced by run.sh).
#
#   processes  start_bg / stop_bg / stop_all: every process the benchmark
#              starts is recorded by name, and only those PIDs are stopped
#   /proc      CPU ticks and memory of a process tree, machine busy time
#   proxies    fedproxy and Kamailio on their own ports, with stunnel clients
#              in front (the foreign edge) and one sipp UAS behind (the
#              routing node)
#   sipp       one bounded UAC run, its counts and response times
#   results    one JSON object per measurement, appended to $RESULTS
#
# Every wait is bounded; every load run is bounded in calls and in time.
# shellcheck shell=bash disable=SC2034  # variables are for run.sh

set -u

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE_ROOT=$(cd "$BENCH_DIR/../.." && pwd)
SIPP_DIR=$BENCH_DIR/sipp
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)

# Ports: base+0..+9 listeners (base+9: fedproxy's [dns] server, where
# nothing answers: no name is ever looked up), base+20..+39 sipp client
# ports (rotated, so that a run never waits for the previous one's
# TIME_WAIT).
BASE_PORT=${BENCH_BASE_PORT:-25500}
FP_EXT=$BASE_PORT              # fedproxy: mutual-TLS listener (foreign edges)
FP_INT=$((BASE_PORT + 1))      # fedproxy: TCP listener (inside nodes)
KAM_TLS=$((BASE_PORT + 2))     # Kamailio: mutual-TLS listener
KAM_TCP=$((BASE_PORT + 3))     # Kamailio: TCP listener (inside)
NODE_PORT=$((BASE_PORT + 4))   # the routing node: a sipp UAS
FP_EDGE=$((BASE_PORT + 5))     # stunnel client (foreign edge) -> FP_EXT
KAM_EDGE=$((BASE_PORT + 6))    # stunnel client (foreign edge) -> KAM_TLS
BASELINE_PORT=$((BASE_PORT + 7)) # tlsload serve: the GnuTLS-only baseline
UAC_PORT0=$((BASE_PORT + 20))

PROXY_FQDN=fedproxy.example.test
LOCAL_DOMAIN=example.test
PARTNER_DOMAIN=partner.example.test
PARTNER_EDGE=edge.$PARTNER_DOMAIN
USERS=(-key from "sip:alice@$PARTNER_DOMAIN" -key to "sip:bob@$LOCAL_DOMAIN")
# fedproxy's default TLS priority string (etc/fedproxy.conf), given to the
# baseline server too; the load client offers P-256 only, so that every
# server under test does ECDHE P-256 with its ECDSA P-256 certificate.
FP_PRIORITY='NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:%SERVER_PRECEDENCE'
CLIENT_PRIORITY='NORMAL:-GROUP-ALL:+GROUP-SECP256R1'

W=          # the work directory (temp), set by bench_init
RESULTS=    # $OUT/results.jsonl
declare -A PID_OF=()

say() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
	say "ERROR: $*"
	exit 1
}

# ---- processes ---------------------------------------------------------------

# start_bg NAME LOG CMD...: CMD in the background from the work directory,
# output to LOG, its PID recorded as NAME.
start_bg() {
	local name=$1 log=$2
	shift 2
	[ -z "${PID_OF[$name]:-}" ] || die "start_bg: $name is running already"
	(cd "$W" && exec "$@") >>"$log" 2>&1 &
	PID_OF[$name]=$!
}

alive() { [ -n "${PID_OF[$1]:-}" ] && kill -0 "${PID_OF[$1]}" 2>/dev/null; }

# stop_bg NAME: SIGTERM, SIGKILL after 5 s; the exit status is not kept.
stop_bg() {
	local pid=${PID_OF[$1]:-}
	unset "PID_OF[$1]"
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait_pid "$pid" 5 || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

stop_all() {
	local name
	for name in "${!PID_OF[@]}"; do
		stop_bg "$name"
	done
}

# wait_pid PID SECONDS: wait (bounded) for PID to end by itself; status 1
# if it is still there. wait_gone NAME SECONDS: the same for a started NAME.
wait_pid() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}
wait_gone() { [ -z "${PID_OF[$1]:-}" ] || wait_pid "${PID_OF[$1]}" "$2"; }

# wait_listen PORT NAME: NAME listens on 127.0.0.1:PORT within 15 s.
wait_listen() {
	local i
	for ((i = 0; i < 150; i++)); do
		[ -n "$(ss -Hltn "sport = :$1")" ] && return 0
		alive "$2" || die "$2 exited before listening on port $1 (see $W/$2.log)"
		sleep 0.1
	done
	die "$2 is not listening on port $1 after 15 s"
}

# ---- /proc -------------------------------------------------------------------

# tree PID: PID and its children (Kamailio forks its workers from main),
# one per line.
tree() {
	echo "$1"
	ps --ppid "$1" -o pid= 2>/dev/null | tr -d ' '
}

# ticks PID...: user+system CPU of the processes, in clock ticks.
ticks() {
	local p s=0 t
	for p; do
		t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) && s=$((s + t))
	done
	echo "$s"
}

# pss_kb PID...: their summed proportional set size (shared memory such as
# Kamailio's shm pool counted once across its processes).
pss_kb() {
	local p s=0 t
	for p; do
		t=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null) && s=$((s + t))
	done
	echo "$s"
}

hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# busy_ticks: CPU ticks the whole machine spent busy (all CPUs).
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }

now() { date +%s.%N; }
# calc EXPR: floating-point arithmetic for the shell.
calc() { awk "BEGIN { printf \"%.6g\", ($*) }"; }
fmax() { calc "($1) > ($2) ? ($1) : ($2)"; }

# proxy_pids NAME: PIDS = the processes whose CPU and memory count for
# proxy NAME. proxy_ticks / proxy_pss NAME: their CPU ticks / their PSS.
proxy_pids() { mapfile -t PIDS < <(tree "${PID_OF[$1]}"); }
proxy_ticks() {
	proxy_pids "$1"
	ticks "${PIDS[@]}"
}
proxy_pss() {
	proxy_pids "$1"
	pss_kb "${PIDS[@]}"
}

# ---- results -----------------------------------------------------------------

# record KEY=VALUE...: one JSON object per line in $RESULTS; values that
# look like numbers stay numbers.
record() {
	local kv k v sep='' line='{'
	for kv; do
		k=${kv%%=*} v=${kv#*=}
		if [[ $v =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; then
			line+="$sep\"$k\": $v"
		else
			v=${v//\\/\\\\}
			line+="$sep\"$k\": \"${v//\"/\\\"}\""
		fi
		sep=', '
	done
	printf '%s}\n' "$line" >>"$RESULTS"
}

# ---- the machine ---------------------------------------------------------------

# raise_fd_limit WANT: the soft descriptor limit up to WANT, or as far as the
# hard limit goes (raising that needs CAP_SYS_RESOURCE). FD_LIMIT = result.
raise_fd_limit() {
	ulimit -n "$1" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
	FD_LIMIT=$(ulimit -n)
	if [ "$FD_LIMIT" = unlimited ]; then FD_LIMIT=$1; fi
}

# ---- the proxies -------------------------------------------------------------------

# fedproxy_config FILE: fedproxy on FP_EXT/FP_INT, the node at NODE_PORT, the
# partner's domain allowed; logging as in production (warn, no trace); no
# health probes (the node is a sipp that answers only the benchmark's
# requests). Two optional sections, each kept only when this binary knows
# it (fedproxy -t): [presence] (translation of the NOTIFY bodies for the
# partner, a Lync domain, with the project's own table) and [limits],
# opened wide (the benchmark sends thousands of requests per second from
# one domain and holds tens of thousands of connections from a handful of
# addresses). FP_SECTIONS says which were kept.
fedproxy_config() {
	local presence limits extra
	cp "$SOURCE_ROOT/etc/presence-map.conf" "$W/" 2>/dev/null
	presence=$(printf '%s\n' "[presence]" "table = presence-map.conf" "default_dialect = lync")
	limits=$(printf '%s\n' "[limits]" "max_connections = 1000000" \
		"max_connections_per_address = 1000000" "max_transactions = 1000000" "domain_rate = 0")
	for extra in "presence limits" presence limits ""; do
		write_fedproxy_config "$1" "$([[ $extra == *presence* ]] && echo "$presence")
$([[ $extra == *limits* ]] && echo "$limits")"
		if "$FEDPROXY" -c "$1" -t >"$W/fedproxy-t.out" 2>&1; then
			FP_SECTIONS=${extra:-none}
			return 0
		fi
	done
	die "fedproxy -t refuses the benchmark config: $(cat "$W/fedproxy-t.out")"
}

write_fedproxy_config() {
	cat >"$1" <<EOF
; fedproxy benchmark config, written by test/bench/lib.sh
[proxy]
public_fqdn = $PROXY_FQDN
log_level = warn
trace = no
route_secret = bench-secret

[external]
listen = 127.0.0.1:$FP_EXT
certificate = pki/fedproxy-chain.pem
key = pki/fedproxy.key
ca_bundle = pki/ca.pem

[internal]
listen = 127.0.0.1:$FP_INT
transport = tcp

[node routing]
address = 127.0.0.1:$NODE_PORT
transport = tcp
role = routing

[health]
interval = 0

[control]
socket =

[dns]
servers = 127.0.0.1:$((BASE_PORT + 9))

[policy]
local_domains = $LOCAL_DOMAIN

[domain $PARTNER_DOMAIN]
peer_names = $PARTNER_EDGE

$2
EOF
}

fedproxy_start() {
	fedproxy_config "$W/fedproxy.conf"
	start_bg fedproxy "$W/fedproxy.log" "$FEDPROXY" -c "$W/fedproxy.conf"
	wait_listen "$FP_EXT" fedproxy
	wait_listen "$FP_INT" fedproxy
}

# kamailio_start [MAX_CONNECTIONS]: Kamailio on KAM_TLS/KAM_TCP with its own
# config directory; shared memory sized for the connections it may hold.
#
# One TCP/TLS worker (tcp_children=1): Debian 12's Kamailio 5.6.3 with
# OpenSSL 3 frees OpenSSL's per-thread state from several worker processes
# at once and crashes under concurrent handshakes (kamailio issues #3695,
# #3791; fixed by tls_threads_mode in 5.8). One worker makes it a
# single-core proxy, like fedproxy. -x tlsf: Kamailio's fast allocator
# (the default q_malloc spends most of its time searching free lists once
# OpenSSL allocates from shared memory).
kamailio_start() {
	local max=${1:-1024} dir=$W/kamailio shm
	# Shared memory, MiB: tm keeps every finished transaction for its
	# wait_timer (5 s): about 3 KB each, so 1 GiB carries 20k tx/s for
	# 15 s; and about 90 KB per idle TLS connection.
	shm=$((1024 + max * 110 / 1024))
	mkdir -p "$dir"
	sed -e "s|@TLS_PORT@|$KAM_TLS|; s|@TCP_PORT@|$KAM_TCP|; s|@TCP_CHILDREN@|1|" \
		-e "s|@MAX_CONNECTIONS@|$max|g; s|@OPEN_FILES@|$FD_LIMIT|; s|@DIR@|$dir|" \
		-e "s|@LOCAL_DOMAIN@|$LOCAL_DOMAIN|g; s|@PARTNER_DOMAIN@|$PARTNER_DOMAIN|" \
		-e "s|@PARTNER_EDGE@|$PARTNER_EDGE|; s|@NODE_PORT@|$NODE_PORT|" \
		"$BENCH_DIR/kamailio.cfg" >"$dir/kamailio.cfg"
	# Server: mutual TLS with the same certificate, key and CA as
	# fedproxy; client side (towards nothing here) without checks.
	cat >"$dir/tls.cfg" <<EOF
[server:default]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
certificate = $W/pki/fedproxy-chain.pem
private_key = $W/pki/fedproxy.key
ca_list = $W/pki/ca.pem

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
EOF
	kamailio -f "$dir/kamailio.cfg" -c >"$dir/check.out" 2>&1 ||
		die "kamailio -c refuses $dir/kamailio.cfg: $(tail -5 "$dir/check.out")"
	start_bg kamailio "$W/kamailio.log" kamailio -f "$dir/kamailio.cfg" -DD -E \
		-x tlsf -m "$shm" -M 32 -Y "$dir" -w "$dir"
	wait_listen "$KAM_TLS" kamailio
	wait_listen "$KAM_TCP" kamailio
}

# proxy_start NAME [MAX_CONNECTIONS] / the edge (stunnel client) port of NAME.
proxy_start() { "${1}_start" "${@:2}"; }
edge_port() { [ "$1" = fedproxy ] && echo "$FP_EDGE" || echo "$KAM_EDGE"; }
tls_port() { [ "$1" = fedproxy ] && echo "$FP_EXT" || echo "$KAM_TLS"; }

# edge_start NAME: the foreign edge's TLS client in front of proxy NAME:
# stunnel, presenting the partner's certificate and checking the proxy's.
edge_start() {
	local name=edge-$1 conf=$W/edge-$1.conf
	printf '%s\n' "foreground = yes" "pid =" "debug = warning" "syslog = no" \
		"[$name]" "client = yes" "accept = 127.0.0.1:$(edge_port "$1")" \
		"connect = 127.0.0.1:$(tls_port "$1")" "sni = $PROXY_FQDN" \
		"checkHost = $PROXY_FQDN" "verifyChain = yes" "CAfile = $W/pki/ca.pem" \
		"cert = $W/pki/partner-chain.pem" "key = $W/pki/partner.key" >"$conf"
	start_bg "$name" "$W/$name.log" stunnel "$conf"
	wait_listen "$(edge_port "$1")" "$name"
}

# uas_start SCENARIO: the routing node, answering every call of
# uac_SCENARIO.xml from either proxy, until stopped.
uas_start() {
	start_bg node "$W/node.log" sipp -sf "$SIPP_DIR/uas_$1.xml" -t t1 -i 127.0.0.1 \
		-p "$NODE_PORT" -nostdin -recv_timeout 10000 -max_socket 64 "${USERS[@]}"
	wait_listen "$NODE_PORT" node
}

# settle NAME: wait (at most 10 s) until proxy NAME is idle again: below 5%
# of a core over 300 ms.
settle() {
	local i a b
	for ((i = 0; i < 33; i++)); do
		a=$(proxy_ticks "$1")
		sleep 0.3
		b=$(proxy_ticks "$1")
		(((b - a) * 100 < 5 * CLK_TCK * 3 / 10)) && return 0
	done
}

# ---- sipp ------------------------------------------------------------------------

UAC_SEQ=0

# uac_prepare PROXY SCENARIO RATE CALLS SECONDS [ARG...]: UAC_CMD = one
# sipp client run of uac_SCENARIO.xml through PROXY's foreign edge: CALLS
# calls at RATE per second, at most LIMIT (default: RATE) in flight,
# stopped after SECONDS whatever happens. Its files: UAC_STAT (sipp's
# counters), UAC_MSG (its message log, with -trace_msg among the ARGs),
# UAC_OUT (its output).
uac_prepare() {
	local proxy=$1 scen=$2 rate=$3 calls=$4 secs=$5 port=$((UAC_PORT0 + UAC_SEQ++ % 20))
	shift 5
	UAC_STAT=$W/uac-$UAC_SEQ.csv UAC_MSG=$W/uac-$UAC_SEQ.msg UAC_OUT=$W/uac-$UAC_SEQ.out
	UAC_CMD=(timeout -k 2 "$((secs + 5))" sipp -sf "$SIPP_DIR/uac_$scen.xml" -t t1
		-i 127.0.0.1 -p "$port" "127.0.0.1:$(edge_port "$proxy")" -nostdin -m "$calls"
		-r "$rate" -l "${LIMIT:-$((rate > 500 ? rate : 500))}" -timeout "$secs"
		-recv_timeout 5000 -trace_stat -stf "$UAC_STAT" -fd 1 -message_file "$UAC_MSG"
		"${USERS[@]}" "$@")
}

# uac_run PROXY SCENARIO RATE CALLS SECONDS [ARG...]: one client run
# (uac_prepare), waited for. Sets RUN_OK, RUN_FAILED (calls), RUN_WALL (s),
# RUN_MEAN_MS (mean response time), RUN_CPU (the proxy's CPU seconds), RUN_GEN (the busiest load generator's
# share of a core, %) and RUN_FOREIGN (CPU used meanwhile by processes that
# are not ours, % of a core).
uac_run() {
	local proxy=$1 gens i g0=() g1=() t0 t1 c0 c1 b0 b1 u0 u1 max ours
	uac_prepare "$@"
	gens=("${PID_OF[node]}" "${PID_OF[edge-$proxy]}")
	! alive rtprobe || gens+=("${PID_OF[rtprobe]}")
	proxy_pids "$proxy"
	local pids=("${PIDS[@]}")
	for i in "${!gens[@]}"; do g0[i]=$(ticks "${gens[i]}"); done
	b0=$(busy_ticks) c0=$(ticks "${pids[@]}") u0=$(child_ticks) t0=$(now)
	"${UAC_CMD[@]}" >"$UAC_OUT" 2>&1 &
	wait $!
	t1=$(now) c1=$(ticks "${pids[@]}") b1=$(busy_ticks) u1=$(child_ticks)
	for i in "${!gens[@]}"; do g1[i]=$(ticks "${gens[i]}"); done
	RUN_WALL=$(calc "$t1 - $t0")
	RUN_CPU=$(calc "($c1 - $c0) / $CLK_TCK")
	# The busiest load generator (sipp client, sipp node, stunnel), in % of
	# a core: near 100, the generator and not the proxy set the pace.
	max=$(calc "100 * ($u1 - $u0) / $CLK_TCK / $RUN_WALL")
	ours=$((c1 - c0 + u1 - u0))
	for i in "${!gens[@]}"; do
		ours=$((ours + g1[i] - g0[i]))
		max=$(fmax "$max" "$(calc "100 * (${g1[i]} - ${g0[i]}) / $CLK_TCK / $RUN_WALL")")
	done
	RUN_GEN=$max
	# Whatever else ran on the machine meanwhile (other people's tests):
	# busy time that is neither the proxy's nor the generators'.
	RUN_FOREIGN=$(fmax 0 "$(calc "100 * ($b1 - $b0 - $ours) / $CLK_TCK / $RUN_WALL")")
	read -r RUN_OK RUN_FAILED RUN_MEAN_MS < <(sipp_counts "$UAC_STAT")
}

# child_ticks: CPU of this shell's children that have been waited for (the
# sipp client ends before its /proc entry can be read).
child_ticks() { awk '{print $16 + $17}' "/proc/$$/stat"; }

# sipp_counts STATFILE: "successful failed mean_ms" from the last line of a
# sipp -trace_stat file (columns found by name): calls, and their mean
# response time 1 (the scenarios' rtd; sipp's clock ticks are coarse, but a
# mean over thousands of calls is not).
sipp_counts() {
	awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "SuccessfulCall(C)") s = i
			if ($i == "FailedCall(C)") f = i; if ($i == "ResponseTime1(C)") r = i }; next }
		{ ok = $s; bad = $f; rt = $r }
		END { split(rt, t, ":"); printf "%d %d %.3f\n", ok, bad,
			(t[1] * 3600 + t[2] * 60 + t[3]) * 1000 + t[4] / 1000 }' "$1" 2>/dev/null ||
		echo "0 0 0"
}

# response_times LOG END_REGEX: one line per call, in ms, from a sipp
# -trace_msg log: from the first request the client sent to the first
# message it received whose first line matches END_REGEX (same Call-ID).
# sipp's own response-time statistics count in ticks of the coarse clock
# (4 ms here); its message log carries microseconds.
response_times() {
	awk -v end="$2" '
		substr($0, 1, 48) == "----------------------------------------------- " {
			split($3, t, ":"); at = t[1] * 3600 + t[2] * 60 + t[3]; dir = ""; first = ""; next }
		dir == "" && /message (sent|received)/ { dir = ($0 ~ /sent/) ? "s" : "r"; next }
		dir != "" && first == "" && NF { first = $0; next }
		first != "" && first != "-" && tolower($0) ~ /^(call-id|i)[ \t]*:/ {
			id = $0; sub(/^[^:]*:[ \t]*/, "", id); sub(/\r$/, "", id)
			if (dir == "s" && first !~ /^SIP\/2\.0/ && !(id in start)) start[id] = at
			else if (dir == "r" && first ~ end && (id in start) && !(id in done)) {
				d = at - start[id]; if (d < 0) d += 86400
				printf "%.3f\n", d * 1000; done[id] = 1 }
			first = "-"
		}' "$1"
}

# percentiles: "p50 p99 n" of the numbers on stdin.
percentiles() {
	sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan nan 0"; exit }
		p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1]
		printf "%.3f %.3f %d\n", p50, p99, NR }'
}
