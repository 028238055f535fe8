#!/usr/bin/env bash
# run.sh BUILD_DIR [PHASE...]: fedproxy against Kamailio on this machine.
#
# `make bench` runs it as `bash test/bench/run.sh build` after building.
# Phases (default: all five, in this order):
#   presence   presence translation of a 1 KB PIDF each way (fedproxy alone)
#   traffic    sipp MESSAGE and SUBSCRIBE+NOTIFY through each proxy (TLS legs
#              through stunnel), A B A B, BENCH_REPS (3) repetitions: the
#              sustained rate with zero failures, response times and CPU at
#              half of it, peak memory
#   idle       idle mutual-TLS connections held (1k, 10k, 50k) and memory per
#              connection
#   handshake  new mutual-TLS handshakes per second and server CPU per
#              handshake, against a GnuTLS-only server (tlsload serve)
#   profile    perf (or callgrind) of fedproxy under MESSAGE load and under
#              handshakes
# and, only when named: cost (instructions per MESSAGE transaction under
# callgrind, BENCH_COST_CALLS of them: compares two builds on a busy box).
# Then one table on stdout. Results: BUILD_DIR/bench-results/ (results.jsonl,
# table.txt, the profiles); logs in a temp dir, kept with BENCH_KEEP=1 (and
# after a failure).
# Installs what it needs from Debian when missing (root or sudo).
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

REPS=${BENCH_REPS:-3}
PROBE_S=3            # seconds of calls per rate probe
LATENCY_S=4          # seconds of calls per response-time run
RATE_CAP=40000       # calls/s offered when estimating capacity...
CAP_INFLIGHT=1000    # ... with at most this many calls in flight
RT_PROBE_RATE=200    # calls/s of the client that times calls
MEAN_RT_LIMIT=20     # ms: a probe whose mean response time is above failed
HANDSHAKES=${BENCH_HANDSHAKES:-1000} # per handshake run...
HANDSHAKE_REPS=$((REPS + 2)) # ... fedproxy, Kamailio, GnuTLS alone in turn
read -ra IDLE_LEVELS <<<"${BENCH_IDLE_LEVELS:-1000 10000 50000}"
IDLE_TRAFFIC_RATE=500 # MESSAGE calls/s while the idle connections are held
PACKAGES=(kamailio kamailio-tls-modules sip-tester stunnel4 gnutls-bin gcc pkg-config
	libgnutls28-dev python3 procps iproute2 coreutils)

# ---- setup ---------------------------------------------------------------------

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

install_missing() {
	local missing=() p
	for p; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq >/dev/null &&
		$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

bench_init() {
	local build=$1 busy
	T_START=$(now)
	[ -d "$build" ] || build=$SOURCE_ROOT/$build
	FEDPROXY=$(realpath "$build/proxy/fedproxy" 2>/dev/null)
	PRESENCE_BENCH=$(realpath "$build/bench/presence_bench" 2>/dev/null)
	[ -x "$FEDPROXY" ] || die "no fedproxy binary under $build (run make first)"
	OUT=$(realpath "$build")/bench-results
	mkdir -p "$OUT"
	RESULTS=$OUT/results.jsonl
	: >"$RESULTS"
	local fresh_kamailio=no
	dpkg-query -W -f='${Status}' kamailio 2>/dev/null | grep -q 'install ok installed' ||
		fresh_kamailio=yes
	install_missing "${PACKAGES[@]}" || die "could not install ${PACKAGES[*]}"
	# On a systemd machine the package starts kamailio.service with Debian's
	# sample config (port 5060 on every address, in the way of `make run`).
	# The benchmark runs its own Kamailio: stop the one its install started.
	if [ "$fresh_kamailio" = yes ] && systemctl is-active --quiet kamailio 2>/dev/null; then
		say "stopping kamailio.service, which installing the package started"
		$SUDO systemctl disable --now kamailio >/dev/null 2>&1
	fi
	# A profiler: perf when the kernel lets us sample, else callgrind.
	install_missing linux-perf >/dev/null 2>&1 || install_missing valgrind >/dev/null 2>&1
	busy=$(ss -Hltn "( sport >= :$BASE_PORT and sport <= :$((BASE_PORT + 39)) )" | head -3)
	[ -z "$busy" ] || die "ports $BASE_PORT-$((BASE_PORT + 39)) are in use: $busy"
	W=$(mktemp -d "${TMPDIR:-/tmp}/fpbench.XXXXXX") || die mktemp
	trap 'finish $?' EXIT
	trap 'exit 130' INT TERM
	# A copy: a rebuild of BUILD_DIR during the run changes neither the
	# proxy under test nor the symbols the profiler reads.
	cp "$FEDPROXY" "$W/fedproxy" && FEDPROXY=$W/fedproxy
	"$SOURCE_ROOT/test/certs/mkpki.sh" "$W/pki" || die "mkpki.sh failed"
	local gnutls
	read -ra gnutls <<<"$(pkg-config --cflags --libs gnutls)"
	gcc -O2 -Wall -o "$W/tlsload" "$BENCH_DIR/tlsload.c" "${gnutls[@]}" || die "cannot build tlsload"
	CLIENT_OPTS=(--cert "$W/pki/partner-chain.pem" --key "$W/pki/partner.key"
		--sni "$PROXY_FQDN" --priority "$CLIENT_PRIORITY")
	raise_fd_limit 120000
	cd "$W" || die "cannot enter $W"
	say "fedproxy: $FEDPROXY ($("$FEDPROXY" -V 2>&1 | head -1))"
	say "kamailio: $(kamailio -v 2>&1 | head -1); sipp $(sipp -v 2>&1 | grep -o 'v[0-9.]*' | head -1)"
	say "work dir $W; descriptors per process: $FD_LIMIT; $NCPU CPUs"
	record phase=env date="$(date -u +%Y-%m-%dT%H:%MZ)" cpus="$NCPU" fd_limit="$FD_LIMIT" \
		cpu="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" \
		fedproxy="$("$FEDPROXY" -V 2>&1 | head -1)" kamailio="$(kamailio -v 2>&1 | head -1)" \
		commit="$(git -C "$SOURCE_ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
}

finish() {
	trap - EXIT
	stop_all
	if [ "$1" = 0 ] && [ -z "${BENCH_KEEP:-}" ]; then
		rm -rf "$W"
	else
		say "logs kept in $W"
	fi
	exit "$1"
}

# ---- traffic: sipp through both proxies ----------------------------------------

declare -A SUSTAINED=() PEAK_KB=()

# Transactions, and messages through the proxy, per call of each scenario.
txns_per_call() { [ "$1" = message ] && echo 1 || echo 2; }
msgs_per_call() { [ "$1" = message ] && echo 2 || echo 4; }
# The first line of what ends a call's response time (lib.sh response_times).
rt_end() { [ "$1" = message ] && echo '^SIP/2\.0 200' || echo '^NOTIFY '; }

note_memory() {
	local kb
	kb=$(proxy_pss "$1")
	PEAK_KB[$1]=$(fmax "${PEAK_KB[$1]:-0}" "$kb")
}

# keep_up PROXY SCEN REP: a proxy that died (or a stunnel in front of it)
# is started again, and the restart recorded, so that one crash costs one
# measurement, not the rest of the run.
keep_up() {
	# The routing node (sipp) exits on a TCP send error, which an overload
	# probe can cause; without it every later call of the block fails.
	if ! alive node; then
		say "$2 rep $3: the node (sipp) is not running: restarting it (see $W/node.log)"
		record phase=restart proxy=node scenario="$2" rep="$3"
		stop_bg node
		uas_start "$2"
	fi
	alive "$1" && alive "edge-$1" && return 0
	say "$2 rep $3: $1 is not running: restarting it (see $W/$1.log)"
	record phase=restart proxy="$1" scenario="$2" rep="$3"
	stop_bg "edge-$1"
	stop_bg "$1"
	proxy_start "$1"
	edge_start "$1"
}

# probe PROXY SCEN REP RATE KIND: one rate probe; PASS = zero failures, every
# call done, in time (sipp kept the pace, so the proxy did), and without a
# queue building up (mean response time at most MEAN_RT_LIMIT ms, where an
# unloaded proxy answers in about 1 ms).
probe() {
	local proxy=$1 scen=$2 rep=$3 rate=$4 kind=$5 calls secs=$((PROBE_S * 3 + 2))
	keep_up "$proxy" "$scen" "$rep"
	calls=$((rate * PROBE_S))
	# The overload probe stops after PROBE_S whatever is left.
	[ "$kind" != estimate ] || secs=$PROBE_S
	uac_run "$proxy" "$scen" "$rate" "$calls" "$secs"
	PASS=0
	[ "$RUN_FAILED" = 0 ] && [ "$RUN_OK" = "$calls" ] &&
		[ "$(calc "$RUN_WALL <= $PROBE_S * 1.05 + 0.25")" = 1 ] &&
		[ "$(calc "$RUN_MEAN_MS <= $MEAN_RT_LIMIT")" = 1 ] && PASS=1
	[ "$kind" = estimate ] && PASS=0
	record phase=probe proxy="$proxy" scenario="$scen" rep="$rep" kind="$kind" rate="$rate" \
		calls="$calls" ok="$RUN_OK" failed="$RUN_FAILED" wall="$RUN_WALL" mean_ms="$RUN_MEAN_MS" pass="$PASS" \
		cpu_s="$RUN_CPU" generator_pct="$RUN_GEN" foreign_pct="$RUN_FOREIGN"
	note_memory "$proxy"
	settle "$proxy"
}

round50() { calc "int(($1) / 50 + 0.5) * 50"; }

# search PROXY SCEN REP: SUSTAINED[PROXY] = the highest rate that passed.
# First an overload probe: what gets through at RATE_CAP estimates capacity
# C; then bisection from 0.9 C (bracket [0, 1.1 C]) to within 5%.
search() {
	local proxy=$1 scen=$2 rep=$3 cap lo=0 hi r i
	LIMIT=$CAP_INFLIGHT probe "$proxy" "$scen" "$rep" "$RATE_CAP" estimate
	cap=$(calc "$RUN_OK / $RUN_WALL")
	hi=$(round50 "$cap * 1.1")
	r=$(round50 "$cap * 0.9")
	for ((i = 0; i < 6 && r >= 50; i++)); do
		probe "$proxy" "$scen" "$rep" "$r" search
		if [ "$PASS" = 1 ]; then lo=$r; else hi=$r; fi
		if [ "$lo" = 0 ]; then
			r=$(round50 "$r * 0.7")
		else
			[ "$(calc "$hi - $lo <= 0.05 * $lo")" = 1 ] && break
			r=$(round50 "($lo + $hi) / 2")
			[ "$r" = "$lo" ] && break
		fi
	done
	SUSTAINED[$proxy]=$lo
	record phase=sustained proxy="$proxy" scenario="$scen" rep="$rep" rate="$lo" \
		capacity_estimate="$cap"
	say "$scen rep $rep: $proxy sustains $lo calls/s (overload throughput $cap/s)"
}

# measure PROXY SCEN REP RATE LOAD: response times and CPU at RATE calls/s;
# LOAD says which comparison it serves (own = half its own sustained rate,
# equal = half the lower of the two, own+equal = both). The load is two
# sipp clients at once: the bulk, untraced, and a light one (at most
# RT_PROBE_RATE calls/s) whose message log times every call. A client that
# logs every message at thousands of calls/s falls behind and would time
# itself; the light one sees the proxy under the full load, on a second
# connection, as a second federated edge would.
measure() {
	local proxy=$1 scen=$2 rep=$3 rate=$4 load=$5 prate bulk msg stat p50 p99 n body pok pfail
	keep_up "$proxy" "$scen" "$rep"
	# A fresh routing node for every timed run: a sipp UAS that has just
	# been through the overload probes answers with a tail of its own (p99
	# 24-38 ms behind either proxy at 8,000/s, 2.8-5.1 ms with a new node,
	# RESULTS.md), which would be charged to whichever proxy came next.
	stop_bg node
	uas_start "$scen"
	uac_run "$proxy" "$scen" 100 100 15
	[ "$RUN_OK" = 100 ] ||
		say "$scen rep $rep: warm-up through $proxy: $RUN_OK of 100 calls answered (logs in $W)"
	prate=$((rate / 4 < RT_PROBE_RATE ? rate / 4 : RT_PROBE_RATE))
	[ "$prate" -ge 10 ] || prate=10
	bulk=$((rate - prate))
	uac_prepare "$proxy" "$scen" "$prate" $((prate * LATENCY_S)) $((LATENCY_S * 3 + 2)) -trace_msg
	msg=$UAC_MSG stat=$UAC_STAT
	start_bg rtprobe "$UAC_OUT" "${UAC_CMD[@]}"
	uac_run "$proxy" "$scen" "$bulk" $((bulk * LATENCY_S)) $((LATENCY_S * 3 + 2))
	wait_gone rtprobe 10
	stop_bg rtprobe
	read -r pok pfail _ < <(sipp_counts "$stat")
	read -r p50 p99 n < <(response_times "$msg" "$(rt_end "$scen")" | percentiles)
	body=n/a
	[ "$scen" = subscribe ] && body=$(notify_body_state "$msg")
	local ok=$((RUN_OK + pok))
	record phase=latency proxy="$proxy" scenario="$scen" rep="$rep" load="$load" rate="$rate" \
		ok="$ok" failed=$((RUN_FAILED + pfail)) wall="$RUN_WALL" p50_ms="$p50" p99_ms="$p99" \
		timed="$n" cpu_s="$RUN_CPU" \
		cpu_ms_per_1000_txn="$(calc "1e6 * $RUN_CPU / ($ok * $(txns_per_call "$scen") + 1e-9)")" \
		cpu_us_per_msg="$(calc "1e6 * $RUN_CPU / ($ok * $(msgs_per_call "$scen") + 1e-9)")" \
		generator_pct="$RUN_GEN" foreign_pct="$RUN_FOREIGN" notify_body="$body"
	note_memory "$proxy"
	rm -f "$msg"
	settle "$proxy"
}

# notify_body_state LOG: whether the NOTIFY reached the watcher with the
# node's PIDF as it was sent (plain forwarding) or rewritten (translation).
notify_body_state() {
	local first
	first=$(awk '/message received/ { r = 1; next } r && /^NOTIFY / { p = 1 } p && /^<\/presence>/ { print "end"; exit }
		p { print } /^-{10}/ { r = 0 }' "$1" | head -60)
	if [ -z "$first" ]; then
		echo none
	elif grep -q 'entity="pres:bob@example.test"' <<<"$first" && grep -q 'bench-desk-' <<<"$first"; then
		echo forwarded
	else
		echo translated
	fi
}

traffic_block() {
	local rep=$1 scen=$2 proxy low half
	PEAK_KB=()
	uas_start "$scen"
	for proxy in fedproxy kamailio; do
		proxy_start "$proxy"
		edge_start "$proxy"
		# A short first run: everything answers, and connections are up.
		uac_run "$proxy" "$scen" 100 100 15
		[ "$RUN_OK" = 100 ] || die "$scen through $proxy: $RUN_OK of 100 calls succeeded (logs in $W)"
	done
	for proxy in fedproxy kamailio; do
		search "$proxy" "$scen" "$rep"
	done
	low=$((SUSTAINED[fedproxy] < SUSTAINED[kamailio] ? SUSTAINED[fedproxy] : SUSTAINED[kamailio]))
	low=$(round50 "$low / 2")
	for proxy in fedproxy kamailio; do
		half=$(round50 "${SUSTAINED[$proxy]} / 2")
		if [ "$half" -lt 50 ]; then
			say "$scen rep $rep: $proxy sustained no rate: no response-time runs"
		elif [ "$low" -lt 50 ]; then
			measure "$proxy" "$scen" "$rep" "$half" own
		elif [ "$(calc "$half > 1.05 * $low")" = 1 ]; then
			measure "$proxy" "$scen" "$rep" "$half" own
			measure "$proxy" "$scen" "$rep" "$low" equal
		else
			measure "$proxy" "$scen" "$rep" "$half" own+equal
		fi
	done
	for proxy in fedproxy kamailio; do
		note_memory "$proxy"
		local peak=${PEAK_KB[$proxy]} how=pss_sampled
		if [ "$proxy" = fedproxy ]; then
			peak=$(hwm_kb "${PID_OF[fedproxy]}") how=vmhwm
		fi
		record phase=memory proxy="$proxy" scenario="$scen" rep="$rep" peak_kb="$peak" how="$how"
		stop_bg "edge-$proxy"
		stop_bg "$proxy"
	done
	stop_bg node
}

phase_traffic() {
	local rep scen
	for ((rep = 1; rep <= REPS; rep++)); do
		for scen in message subscribe; do
			say "traffic: $scen, repetition $rep of $REPS"
			traffic_block "$rep" "$scen"
		done
	done
}

# ---- idle connections -------------------------------------------------------------

# idle_traffic PROXY LEVEL HELD: a short MESSAGE load through PROXY while it
# holds HELD idle connections. The node is restarted first, so that the
# proxy's connection to it opens after all of them (as after a node
# restart): what forwarding costs next to many idle peers.
idle_traffic() {
	stop_bg node
	uas_start message
	uac_run "$1" message "$IDLE_TRAFFIC_RATE" $((IDLE_TRAFFIC_RATE * PROBE_S)) 30
	record phase=idle_traffic proxy="$1" level="$2" held="$3" rate="$IDLE_TRAFFIC_RATE" \
		ok="$RUN_OK" failed="$RUN_FAILED" mean_ms="$RUN_MEAN_MS" \
		cpu_us_per_txn="$(calc "1e6 * $RUN_CPU / ($RUN_OK + 1e-9)")"
	say "idle: $1 forwards MESSAGE at $(calc "1e6 * $RUN_CPU / ($RUN_OK + 1e-9)") us CPU each next to $3 idle connections"
}

# idle_run PROXY: hold 1k, 10k, 50k idle connections (those the descriptor
# limit allows) and measure the proxy's memory at each level; at the first
# and the last level, idle_traffic.
idle_run() {
	local proxy=$1 max=$((FD_LIMIT - 300)) level m0 m answer per_proc held levels=()
	for level in "${IDLE_LEVELS[@]}"; do
		if [ "$level" -le "$max" ]; then
			levels+=("$level")
		else
			record phase=idle proxy="$proxy" level="$level" skipped="descriptor limit $FD_LIMIT"
		fi
	done
	# The most this machine allows, when 50k is out of reach.
	[ "${IDLE_LEVELS[-1]}" -le "$max" ] || levels+=($((max / 1000 * 1000)))
	uas_start message
	proxy_start "$proxy" "$((max + 1000))"
	edge_start "$proxy"
	settle "$proxy"
	m0=$(proxy_pss "$proxy")
	per_proc=$((FD_LIMIT - 100 < 15000 ? FD_LIMIT - 100 : 15000))
	coproc HOLD { "$W/tlsload" hold "127.0.0.1:$(tls_port "$proxy")" -c 64 "${CLIENT_OPTS[@]}" \
		--per-proc "$per_proc" --timeout 240 2>>"$W/tlsload.log"; }
	for level in "${levels[@]}"; do
		echo "$level" >&"${HOLD[1]}"
		read -r -t 300 answer <&"${HOLD[0]}" || answer="held=0 failed=$level secs=300"
		sleep 2
		settle "$proxy"
		m=$(proxy_pss "$proxy")
		held=${answer#held=}
		held=${held%% *}
		record phase=idle proxy="$proxy" level="$level" held="$held" \
			failed="$(sed -E 's/.*failed=([0-9]+).*/\1/' <<<"$answer")" \
			secs="$(sed -E 's/.*secs=([0-9.]+).*/\1/' <<<"$answer")" mem_kb="$m" base_kb="$m0" \
			bytes_per_conn="$(calc "1024 * ($m - $m0) / ($held + 1e-9)")"
		say "idle: $proxy holds $held of $level connections, $(calc "($m - $m0) / ($held + 1e-9)") KiB each"
		if [ "$level" = "${levels[0]}" ] || [ "$level" = "${levels[-1]}" ]; then
			idle_traffic "$proxy" "$level" "$held"
		fi
	done
	# Still open after all that?
	echo check >&"${HOLD[1]}"
	read -r -t 60 answer <&"${HOLD[0]}" || answer="alive=0 closed=0"
	record phase=idle_check proxy="$proxy" answer="$answer"
	# EOF tells tlsload to close everything and exit.
	local hold_in=${HOLD[1]} hold_pid=${HOLD_PID:?}
	exec {hold_in}>&-
	wait_pid "$hold_pid" 30 || kill "$hold_pid" 2>/dev/null
	wait "$hold_pid" 2>/dev/null
	stop_bg "edge-$proxy"
	stop_bg "$proxy"
	stop_bg node
}

phase_idle() {
	local proxy
	for proxy in fedproxy kamailio; do
		say "idle connections: $proxy"
		idle_run "$proxy"
	done
}

# ---- handshakes ---------------------------------------------------------------------

baseline_start() {
	start_bg baseline "$W/baseline.log" "$W/tlsload" serve "127.0.0.1:$BASELINE_PORT" \
		--cert "$W/pki/fedproxy-chain.pem" --key "$W/pki/fedproxy.key" --ca "$W/pki/ca.pem" \
		--priority "$FP_PRIORITY"
	wait_listen "$BASELINE_PORT" baseline
}

phase_handshake() {
	local rep server port c0 c1 b0 b1 u0 u1 t0 t1 answer
	proxy_start fedproxy
	proxy_start kamailio
	baseline_start
	# Warm-up, not measured: each server's heap and caches grow on its first
	# few hundred connections.
	for server in fedproxy kamailio baseline; do
		port=$BASELINE_PORT
		[ "$server" = baseline ] || port=$(tls_port "$server")
		"$W/tlsload" churn "127.0.0.1:$port" -n 300 -c 32 "${CLIENT_OPTS[@]}" --timeout 60 \
			>/dev/null 2>>"$W/tlsload.log"
	done
	for ((rep = 1; rep <= HANDSHAKE_REPS; rep++)); do
		for server in fedproxy kamailio baseline; do
			port=$BASELINE_PORT
			[ "$server" = baseline ] || port=$(tls_port "$server")
			c0=$(proxy_ticks "$server") b0=$(busy_ticks) u0=$(child_ticks) t0=$(now)
			answer=$("$W/tlsload" churn "127.0.0.1:$port" -n "$HANDSHAKES" -c 32 \
				"${CLIENT_OPTS[@]}" --timeout 60 2>>"$W/tlsload.log")
			c1=$(proxy_ticks "$server") b1=$(busy_ticks) u1=$(child_ticks) t1=$(now)
			record phase=handshake server="$server" rep="$rep" \
				ok="$(sed -E 's/.*ok=([0-9]+).*/\1/' <<<"$answer")" \
				failed="$(sed -E 's/.*failed=([0-9]+).*/\1/' <<<"$answer")" \
				rate="$(sed -E 's/.*rate=([0-9.]+).*/\1/' <<<"$answer")" \
				tls="$(sed -E 's/.*tls=//' <<<"$answer")" \
				server_ms_per_handshake="$(calc "1000 * ($c1 - $c0) / $CLK_TCK / $HANDSHAKES")" \
				client_ms_per_handshake="$(calc "1000 * ($u1 - $u0) / $CLK_TCK / $HANDSHAKES")" \
				foreign_pct="$(fmax 0 "$(calc "100 * ($b1 - $b0 - ($c1 - $c0) - ($u1 - $u0)) / $CLK_TCK / ($t1 - $t0)")")"
			say "handshakes rep $rep: $server: $answer"
			settle "$server"
		done
	done
	stop_bg baseline
	stop_bg kamailio
	stop_bg fedproxy
}

# ---- profile --------------------------------------------------------------------------

# perf_works: the kernel lets us sample a process's CPU (cpu-clock).
perf_works() {
	command -v perf >/dev/null && perf record -q -e cpu-clock -o "$W/perf.test" -- true >/dev/null 2>&1
}

# profile_under NAME CMD...: profile fedproxy while CMD runs; the report
# (perf_summary.py: self, charged to fedproxy's functions, inclusive) goes
# to $OUT/profile-NAME.txt.
profile_under() {
	local name=$1 perf_pid report
	report=$OUT/profile-$name.txt
	shift
	perf record -q -e cpu-clock -F 1999 --call-graph dwarf,16384 -p "${PID_OF[fedproxy]}" \
		-o "$W/perf-$name.data" >/dev/null 2>&1 &
	perf_pid=$!
	"$@"
	kill -INT "$perf_pid"
	wait "$perf_pid"
	{
		echo "# fedproxy under $name load ($(date -u +%Y-%m-%dT%H:%MZ)): perf, cpu-clock"
		perf script -i "$W/perf-$name.data" -F ip,sym,dso 2>/dev/null |
			python3 "$BENCH_DIR/perf_summary.py" fedproxy 30
	} >"$report"
	say "profile ($name), charged to fedproxy's functions (all of it: $report):"
	sed -n '/^# charged/,/^$/p' "$report" | head -16 >&2
}

phase_profile() {
	local rate
	rate=$(awk -F'"rate": ' '/"phase": "sustained", "proxy": "fedproxy", "scenario": "message"/ {
		split($2, a, ","); print a[1] }' "$RESULTS" | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 4000 }')
	rate=$(round50 "$rate / 2")
	uas_start message
	fedproxy_start
	edge_start fedproxy
	uac_run fedproxy message 100 100 15
	if perf_works; then
		profile_under message uac_run fedproxy message "$rate" $((rate * 5)) 20
		profile_under handshake "$W/tlsload" churn "127.0.0.1:$FP_EXT" -n 1000 -c 32 \
			"${CLIENT_OPTS[@]}" --timeout 60
	elif command -v valgrind >/dev/null; then
		callgrind_fedproxy
	else
		say "profile: neither perf nor valgrind usable here"
	fi
	stop_bg edge-fedproxy
	stop_bg fedproxy
	stop_bg node
}

# start_under_callgrind OUTFILE: fedproxy under callgrind, with the foreign
# edge's stunnel in front of it.
start_under_callgrind() {
	fedproxy_config "$W/fedproxy.conf"
	start_bg fedproxy "$W/fedproxy.log" valgrind --tool=callgrind \
		--callgrind-out-file="$1" "$FEDPROXY" -c "$W/fedproxy.conf"
	wait_listen "$FP_EXT" fedproxy
	edge_start fedproxy
}

# callgrind_fedproxy: without perf, fedproxy under callgrind at a light
# MESSAGE load (callgrind runs it about 50 times slower).
callgrind_fedproxy() {
	stop_bg edge-fedproxy
	stop_bg fedproxy
	start_under_callgrind "$W/callgrind.out"
	uac_run fedproxy message 100 2000 60
	stop_bg fedproxy
	callgrind_annotate --inclusive=yes "$W/callgrind.out" 2>/dev/null | head -80 \
		>"$OUT/profile-message.txt"
	say "profile (callgrind): $OUT/profile-message.txt"
}

# ---- cost: instructions per transaction ---------------------------------------

# cost: fedproxy under callgrind relays COST_CALLS MESSAGE transactions after
# a warm-up; the instructions it executed for them, per transaction, and the
# functions they went to. Unlike CPU time the count does not move with what
# else the machine runs, so two builds compare on a shared box; it says
# nothing of cache misses or system calls (the traffic phase does).
COST_CALLS=${BENCH_COST_CALLS:-2000}
phase_cost() {
	local dump ir
	uas_start message
	start_under_callgrind "$W/cost.out"
	# The warm-up opens the connections (handshakes are not what is counted).
	uac_run fedproxy message 50 200 60
	callgrind_control -z "${PID_OF[fedproxy]}" >/dev/null
	uac_run fedproxy message 100 "$COST_CALLS" 120
	[ "$RUN_OK" = "$COST_CALLS" ] || die "cost: $RUN_OK of $COST_CALLS calls succeeded"
	callgrind_control -d "${PID_OF[fedproxy]}" >/dev/null
	dump=$(ls -t "$W"/cost.out.* 2>/dev/null | head -1)
	[ -n "$dump" ] || die "cost: callgrind wrote no dump"
	ir=$(awk '/^summary:/ {print $2}' "$dump")
	record phase=cost proxy=fedproxy scenario=message calls="$COST_CALLS" \
		instructions_per_tx="$(calc "$ir / $COST_CALLS")"
	# The dump itself is kept for callgrind_annotate or kcachegrind.
	cp "$dump" "$OUT/cost-message.callgrind"
	callgrind_annotate --inclusive=yes "$dump" 2>/dev/null | head -120 >"$OUT/cost-message.txt"
	say "cost: $(calc "int($ir / $COST_CALLS)") instructions per MESSAGE transaction (functions: $OUT/cost-message.txt)"
	stop_bg edge-fedproxy
	stop_bg fedproxy
	stop_bg node
}

# ---- presence translation -------------------------------------------------------------

# phase_presence: the table-driven translation of a 1 KB PIDF each way,
# timed by bench/presence_bench (fedproxy's code alone: Kamailio does not
# translate, so there is nothing to alternate with).
phase_presence() {
	local dir bytes us out=$W/presence.out
	[ -x "$PRESENCE_BENCH" ] || die "no $PRESENCE_BENCH (run make first)"
	say "presence: translating a 1 KB NOTIFY body each way"
	"$PRESENCE_BENCH" "$SOURCE_ROOT/etc/presence-map.conf" >"$out" 2>&1 ||
		die "presence_bench failed: $(tail -1 "$out")"
	while read -r dir bytes us; do
		record phase=presence direction="$dir" bytes="$bytes" us_per_translation="$us"
	done < <(awk '/ us per translation / { print $1, $2 + 0, $4 }' "$out")
}

# ---- main -----------------------------------------------------------------------------------

main() {
	local phase
	bench_init "${1:-build}"
	[ $# -eq 0 ] || shift
	PHASES=("$@")
	[ ${#PHASES[@]} -gt 0 ] || PHASES=(presence traffic idle handshake profile)
	for phase in "${PHASES[@]}"; do
		declare -F "phase_$phase" >/dev/null || die "no phase $phase"
		"phase_$phase"
	done
	record phase=end seconds="$(calc "$(now) - $T_START")"
	python3 "$BENCH_DIR/report.py" "$RESULTS" "$OUT" || die "report.py failed"
	say "done in $(calc "int(($(now) - $T_START) / 60)") min $(calc "int($(now) - $T_START) % 60") s; results in $OUT"
}

main "$@"
