#!/usr/bin/env bash
# fedproxyctl against a running proxy: `status` shows the nodes (a probed
# routing node up, a member nobody answers for DOWN) and the reloads;
# `connections` lists the foreign edge's connection (the stunnel client
# with the partner's certificate) with its certificate name and domain,
# inbound, external, and the connection to the node; `reload` with a broken
# file exits 1 with "reload failed: FILE:LINE: ...", with a good one prints
# "reload ok" and exits 0, and the edge's connection lives on; an unknown
# command exits 1, no command 2, no proxy 1.
# shellcheck source-path=SCRIPTDIR source=opslib.sh
. "$(dirname "$0")/opslib.sh"
PROBE_INTERVAL=1 ops_init ops-ctl 24440

# re_escape STRING: STRING as an ERE that matches it literally.
# shellcheck disable=SC2001  # one bracket expression, not a pattern per char
re_escape() { sed 's/[][\\.*^$+?(){}|]/\\&/g' <<<"$1"; }

SPARE_PUBLIC_PORT=$((EXT_PORT + 12))
EXTRA_CONFIG+="
[node spare]
address = 127.0.0.1:$NODE2_PORT
transport = tcp
role = member
public_port = $SPARE_PUBLIC_PORT
"
run_proxy_with_edge
node_for 1000 node_options.xml
make_configs
conf_re=$(re_escape "$CONF")
partner_fqdn_re=$(re_escape "$PARTNER_FQDN")
partner_domain_re=$(re_escape "$PARTNER_DOMAIN")

# status_until REGEX WHAT: polls `fedproxyctl status` (10 s at most) until a
# line matches ^REGEX$; the last answer stays in CTL_OUT.
status_until() {
	local i
	for ((i = 0; i < 50; i++)); do
		ctl_ok status status
		grep -Eq -- "^$1\$" "$CTL_OUT" && return 0
		sleep 0.2
	done
	assert_line "$CTL_OUT" "$1" "$2"
}

# assert_status OK FAILED [LAST_FAILURE]: status shows the proxy, its config,
# the reloads (with the last failure, a regex, when given) and both nodes:
# the routing node up (it answers the probes), the spare DOWN.
assert_status() {
	local last=${3:+; last failure: $3}
	status_until 'node spare 127\.0\.0\.1:'"$NODE2_PORT member DOWN public port $SPARE_PUBLIC_PORT" \
		"status: the member node nobody answers for"
	assert_line "$CTL_OUT" "fedproxy [^ ]+, pid ${PID_OF[proxy]}, up [0-9]+ s" "status: version, pid, uptime"
	assert_line "$CTL_OUT" "config $conf_re" "status: config file"
	assert_line "$CTL_OUT" 'connections [0-9]+, transactions [0-9]+ \([0-9]+ waiting for a final answer\)' \
		"status: counts"
	assert_line "$CTL_OUT" "reloads ok $1, failed $2$last" "status: reloads"
	assert_line "$CTL_OUT" 'node routing 127\.0\.0\.1:'"$NODE_PORT routing up public port $EXT_PORT" \
		"status: the routing node"
	assert_eq "$(grep -c '^node ' "$CTL_OUT")" 2 "node lines in status"
}

assert_status 0 0
(($(count_msgs node received '^OPTIONS ') > 0)) || fail "the routing node got no health probe"

# The foreign edge's connection: two MESSAGEs on one connection through the
# stunnel client; its end towards the proxy is the peer fedproxy sees.
raw_open "$EDGE_CLIENT_PORT"
raw_request ctl-1 '1 MESSAGE' || fail "no answer to MESSAGE ctl-1"
assert_answer ctl-1 '200 .*' "answer to MESSAGE ctl-1"
raw_request ctl-2 '1 MESSAGE' || fail "no answer to MESSAGE ctl-2"
assert_answer ctl-2 '200 .*' "answer to MESSAGE ctl-2"
edge_peer=$(ss -Htnp state established "( dport = :$EXT_PORT )" |
	awk -v pid="pid=${PID_OF[edge-tls]}," 'index($0, pid) { print $3 }')
[[ $edge_peer =~ ^127\.0\.0\.1:[0-9]+$ ]] ||
	fail "the stunnel client's connection to port $EXT_PORT: '$edge_peer' ($(ss -Htnp state established))"

# assert_connections MSGS: `fedproxyctl connections` has its header, one
# external connection: the edge's, with MSGS messages in and MSGS out, and
# the connection out to the routing node.
assert_connections() {
	ctl_ok connections connections
	assert_line "$CTL_OUT" 'peer +side +dir +tp +certificate +domain +age_s +idle_s +msgs_in +msgs_out' \
		"connections: header"
	assert_line "$CTL_OUT" "${edge_peer//./\\.} +external +inbound +tls +$partner_fqdn_re +$partner_domain_re +[0-9]+ +[0-9]+ +$1 +$1" \
		"connections: the foreign edge (stunnel client, partner certificate)"
	assert_eq "$(grep -c ' external ' "$CTL_OUT")" 1 "external connections listed"
	assert_line "$CTL_OUT" '127\.0\.0\.1:'"$NODE_PORT"' +internal +outbound +tcp +- +- +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+' \
		"connections: the routing node"
}
assert_connections 2
say "fedproxyctl connections:"
cat "$CTL_OUT"

# A broken file: refused, named, and the old configuration stays.
use_config "$BROKEN"
ctl reload-broken reload
assert_eq "$CTL_RC" 1 "exit status of fedproxyctl reload on a broken file"
assert_line "$CTL_OUT" "reload failed: $conf_re:$BROKEN_LINE: .+" "fedproxyctl reload on a broken file"
assert_eq "$(wc -l <"$CTL_OUT")" 1 "lines printed by fedproxyctl reload on a broken file"
assert_grep "$T/proxy.log" "$conf_re:$BROKEN_LINE: " "the reload error in the log"
assert_status 0 1 "$conf_re:$BROKEN_LINE: .+"

use_config "$GOOD"
ctl reload-good reload
assert_eq "$CTL_RC" 0 "exit status of fedproxyctl reload on a good file"
assert_eq "$(cat "$CTL_OUT")" "reload ok" "fedproxyctl reload on a good file"
assert_status 1 1

# The edge's connection outlived both reloads.
raw_request ctl-3 '1 MESSAGE' || fail "no answer to MESSAGE ctl-3 after the reloads"
assert_answer ctl-3 '200 .*' "answer to MESSAGE ctl-3 after the reloads"
assert_connections 3
raw_close

ctl unknown frobnicate
assert_eq "$CTL_RC" 1 "exit status of fedproxyctl frobnicate"
assert_line "$CTL_OUT" "error: unknown command 'frobnicate'.*" "fedproxyctl frobnicate"
ctl usage
assert_eq "$CTL_RC" 2 "exit status of fedproxyctl without a command"
CTL_SOCKET=$T/nobody.sock ctl unreachable status
assert_eq "$CTL_RC" 1 "exit status of fedproxyctl with no proxy at the socket"
assert_grep "$CTL_OUT" "cannot reach fedproxy at $(re_escape "$T/nobody.sock")" "fedproxyctl with no proxy"

ctl_ok stats stats
assert_reloads "$CTL_OUT" 1 1
finish
