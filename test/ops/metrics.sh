#!/usr/bin/env bash
# GET /metrics ([control] metrics) while a foreign edge sends 300 MESSAGEs
# and the proxy reloads 5 times (3 broken files, 2 good): every scrape is
# Prometheus text exposition (format 0.0.4), counters never go down, and at
# the end they match what sipp counted (MESSAGEs sent, 200s received) and
# the reloads done; `fedproxyctl stats` agrees.
# shellcheck source-path=SCRIPTDIR source=opslib.sh
. "$(dirname "$0")/opslib.sh"
ops_init ops-metrics 24420 curl

COUNT=300
RATE=50
FORWARDED='fedproxy_requests_total{method="MESSAGE",decision="forward"}'

NAME_RE='[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL_RE='[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\[\\"n])*"'
VALUE_RE='[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?|Inf)|NaN'
SAMPLE_RE="^($NAME_RE)(\\{($LABEL_RE(,$LABEL_RE)*,?)?\\})? ($VALUE_RE)( -?[0-9]+)?\$"
TYPE_RE="^# TYPE ($NAME_RE) (counter|gauge|histogram|summary|untyped)\$"
HELP_RE="^# HELP ($NAME_RE)( ([^\\\\]|\\\\[\\\\n])*)?\$"

# scrape FILE: GET /metrics into FILE (body), headers into FILE.head; HTTP
# status 200 required.
scrape() {
	local code
	code=$(curl -sS -m 5 -D "$1.head" -o "$1" -w '%{http_code}' \
		"http://127.0.0.1:$METRICS_PORT/metrics") || fail "curl /metrics failed"
	assert_eq "$code" 200 "HTTP status of GET /metrics"
}

# metric FILE SERIES: the value of SERIES (name{labels}, exactly as exposed)
# in FILE; empty when absent.
metric() {
	awk -v s="$2" 'substr($0, 1, length(s) + 1) == s " " { print $2 }' "$1"
}

# exposition_problems FILE: prints what in FILE is not text exposition
# format 0.0.4: a line that is neither a sample nor a well-formed HELP/TYPE
# (other comments pass), HELP or TYPE twice for a name or TYPE after its
# samples, a sample with no TYPE before it (fedproxy types every metric) or
# apart from the rest of its family, a series twice, a label twice in a
# series, a negative counter, no newline at the end.
exposition_problems() {
	local line n=0 name family labels lnames
	local -A typed=() helped=() done_family=() series=()
	local current=
	[ -z "$(tail -c 1 "$1")" ] || echo "no newline after the last line"
	while IFS= read -r line; do
		n=$((n + 1))
		if [[ $line =~ ^#\ (HELP|TYPE)\  ]]; then
			if [[ ${BASH_REMATCH[1]} == TYPE ]]; then
				[[ $line =~ $TYPE_RE ]] || { echo "line $n: malformed TYPE: $line"; continue; }
				name=${BASH_REMATCH[1]}
				[ -z "${typed[$name]:-}" ] || echo "line $n: second TYPE for $name"
				[ -z "${done_family[$name]:-}${series[$name]:-}" ] || echo "line $n: TYPE for $name after its samples"
				typed[$name]=${BASH_REMATCH[2]}
			else
				[[ $line =~ $HELP_RE ]] || { echo "line $n: malformed HELP: $line"; continue; }
				name=${BASH_REMATCH[1]}
				[ -z "${helped[$name]:-}" ] || echo "line $n: second HELP for $name"
				helped[$name]=1
			fi
			continue
		fi
		[[ $line == \#* || -z $line ]] && continue
		[[ $line =~ $SAMPLE_RE ]] || { echo "line $n: not a sample: $line"; continue; }
		name=${BASH_REMATCH[1]}
		labels=${BASH_REMATCH[3]}
		family=$name
		[ -n "${typed[$family]:-}" ] || [[ ! $name =~ ^(.*)_(sum|count|bucket)$ ]] ||
			family=${BASH_REMATCH[1]}
		[ -n "${typed[$family]:-}" ] || echo "line $n: no TYPE before the sample $name"
		if [ "$family" != "$current" ]; then
			[ -z "${done_family[$family]:-}" ] || echo "line $n: samples of $family not together"
			[ -z "$current" ] || done_family[$current]=1
			current=$family
		fi
		[ -z "${series[${line% *}]:-}" ] || echo "line $n: series twice: ${line% *}"
		series[${line% *}]=1
		series[$name]=1
		lnames=" "
		while [[ $labels =~ ^([a-zA-Z_][a-zA-Z0-9_]*)=\"([^\"\\]|\\.)*\",?(.*)$ ]]; do
			[[ $lnames != *" ${BASH_REMATCH[1]} "* ]] || echo "line $n: label ${BASH_REMATCH[1]} twice: $line"
			lnames+="${BASH_REMATCH[1]} "
			labels=${BASH_REMATCH[3]}
		done
		[[ ${typed[$family]:-} != counter || ${line##* } != -* ]] || echo "line $n: negative counter: $line"
	done <"$1"
}

# scrape_valid FILE: scrape into FILE, which must be text exposition with
# the right Content-Type.
scrape_valid() {
	local problems
	scrape "$1"
	grep -qiE '^content-type: text/plain; version=0\.0\.4(;|\r|$)' "$1.head" ||
		fail "Content-Type of /metrics: $(grep -i '^content-type' "$1.head")"
	problems=$(exposition_problems "$1")
	[ -z "$problems" ] || fail "/metrics (${1#"$T"/}) is not Prometheus text exposition:
$problems"
}

# scrape_under_load: one scrape during the load, valid, its forwarded count
# not lower than the one before (in LAST); LEGS: the most connections seen.
LAST=0 LEGS=0
scrape_under_load() {
	local now
	scrape_valid "$T/metrics-load.txt"
	now=$(metric "$T/metrics-load.txt" "$FORWARDED")
	((now >= LAST)) || fail "$FORWARDED went down from $LAST to $now"
	LAST=$now
	now=$(metric "$T/metrics-load.txt" fedproxy_connections)
	((now <= LEGS)) || LEGS=$now
}

# The checker must refuse what is not exposition format, or it proves nothing.
# shellcheck disable=SC1003  # the HELP line ends in a lone backslash
printf '%s\n' '# TYPE x counter' 'x{a="1",a="2"} 1' 'x{b="1"} 2' 'y 3' 'x{c="1"} 1' \
	'# HELP bad\' 'z{d=1} 4' 'x{b="1"} 5' >"$T/not-exposition.txt"
printf '# TYPE w gauge\nw 1' >"$T/no-newline.txt"
assert_eq "$(exposition_problems "$T/not-exposition.txt" | wc -l)" 6 \
	"problems found in a broken exposition: $(exposition_problems "$T/not-exposition.txt")"
assert_eq "$(exposition_problems "$T/no-newline.txt")" "no newline after the last line" \
	"problems found in an exposition without its last newline"

run_proxy_with_edge
make_configs

scrape_valid "$T/metrics-0.txt"
assert_eq "$(metric "$T/metrics-0.txt" "$FORWARDED")" 0 "forwarded MESSAGEs before any"
assert_eq "$(metric "$T/metrics-0.txt" 'fedproxy_reloads_total{outcome="ok"}')" 0 "reloads ok at start"
code=$(curl -sS -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/other") ||
	fail "curl /other failed"
assert_eq "$code" 404 "HTTP status of GET /other"

node_for "$COUNT"
sipp_load edge "$COUNT" "$RATE"
wait_grep "$T/edge.msg" '^SIP/2\.0 200 ' 10 "first 200 at the foreign sipp"
# Each reload (broken, good, broken, good, broken) followed by a scrape.
for ((i = 1; i <= 5; i++)); do
	GAP=0 flip_reloads "$i" 1
	scrape_under_load
done
alive edge || fail "the load ended before the reloads and scrapes were done: they did not happen under load"
# The connections gauge sees both legs (the edge's, in, and the node's, out).
((LEGS >= 2)) || fail "fedproxy_connections was at most $LEGS during the load (want the edge's and the node's)"
sipp_finish edge $((COUNT / RATE + 30))
sipp_finish node 10
assert_all_answered edge "$COUNT"

M=$T/metrics-end.txt
scrape_valid "$M"
assert_eq "$(metric "$M" "$FORWARDED")" "$(count_msgs edge sent '^MESSAGE ')" "$FORWARDED vs MESSAGEs sipp sent"
assert_eq "$(metric "$M" 'fedproxy_responses_total{class="2xx"}')" "$(count_msgs edge received '^SIP/2\.0 200 ')" \
	'fedproxy_responses_total{class="2xx"} vs 200s sipp received'
assert_eq "$(awk '/^fedproxy_requests_total\{/ { n += $2 } END { print n }' "$M")" "$COUNT" \
	"all fedproxy_requests_total together (only the MESSAGEs)"
assert_eq "$(awk '/^fedproxy_responses_total\{/ { n += $2 } END { print n }' "$M")" "$COUNT" \
	"all fedproxy_responses_total together (only the 200s)"
assert_eq "$(metric "$M" 'fedproxy_tls_handshakes_total{outcome="ok",reason=""}')" 1 \
	"TLS handshakes (sipp keeps one connection)"
assert_eq "$(metric "$M" 'fedproxy_reloads_total{outcome="ok"}')" 2 "fedproxy_reloads_total ok (2 good files)"
assert_eq "$(metric "$M" 'fedproxy_reloads_total{outcome="failed"}')" 3 "fedproxy_reloads_total failed (3 broken files)"
ctl_ok stats stats
assert_reloads "$CTL_OUT" 2 3
assert_line "$CTL_OUT" "  MESSAGE +forward +$COUNT" "forwarded MESSAGEs in fedproxyctl stats"
assert_eq "$(stats_value "$CTL_OUT" 'responses sent upstream:' 2xx)" "$COUNT" "2xx in fedproxyctl stats"
[ -n "$(metric "$M" fedproxy_connections)" ] || fail "no fedproxy_connections gauge"
say "/metrics at the end:"
grep -vE '^#|} 0$' "$M"
finish
