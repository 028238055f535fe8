#!/usr/bin/env bash
# (q) PAT, node health: OPTIONS probes every 0.5 s (timeout 0.3 s, down after
# 2 misses) to three nodes, sipps that answer probes and requests alike. All
# up: a new foreign MESSAGE lands on the routing node. Routing node stopped:
# the proxy logs it down, and the next MESSAGE lands on the standby b. b
# stopped too: logged down, a MESSAGE (on the main port, and on b's public
# port) gets 503 with Retry-After and reaches nobody. A new sipp at the
# routing node's address: logged up again, and the next MESSAGE lands
# there. Member c never gets a request.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
HEALTH="0.5 0.3 2"
pat_init q-pat-health 24320

# The nodes listen before the proxy's first probes (0.25 s to 0.5 s in).
for node in routing b c; do
	node_uas "$node"
done
run_proxy_with_edge
start_pat_client b
for node in routing b c; do
	wait_grep "$T/$node.msg" "^OPTIONS sip:127\\.0\\.0\\.1:${NODE_PORT_OF[$node]};transport=tcp SIP/2\\.0" 5 \
		"health probe at node $node"
done

# health NODE STATE: the proxy logs NODE (at its address) down or up again.
health() {
	wait_grep "$T/proxy.log" "node $1 \\(127\\.0\\.0\\.1:${NODE_PORT_OF[$1]}\\) is $2" 5 "node $1 $2"
}

# refused CALLID WHAT: raw request CALLID got 503 with Retry-After, as the
# proxy's log says: its node is down.
refused() {
	assert_answer "$1" '503 .+' "$2"
	assert_hdr "$T/$1.sip" retry-after 1 '[0-9]+$' "Retry-After in the 503: $2"
	assert_log_count "req in  MESSAGE call-id=$1 .* -> reject 503 \\(the node is down\\)$" 1 "$2"
}

foreign_message all-up "$PARTNER_DOMAIN"
assert_answer all-up '200 OK' "MESSAGE with every node up"
assert_node_rr "$T/all-up.sip" routing i "Record-Route the foreign edge saw, every node up"
assert_routed MESSAGE all-up routing 'new inbound request, routing node' 1

stop_bg routing
health routing 'down: 2 probes unanswered'
foreign_message standby "$PARTNER_DOMAIN"
assert_answer standby '200 OK' "MESSAGE with the routing node down"
assert_node_rr "$T/standby.sip" b i "Record-Route the foreign edge saw, the routing node down"
assert_routed MESSAGE standby b 'new inbound request, standby \(routing node down\)' 1

stop_bg b
health b 'down: 2 probes unanswered'
foreign_message none-up "$PARTNER_DOMAIN"
refused none-up "MESSAGE with the routing node and the standby down"
raw_once "${CLIENT_PORT_OF[b]}" to-b '1 MESSAGE' || fail "no answer to the MESSAGE on b's public port"
refused to-b "MESSAGE on the public port of b, b down"

node_uas routing routing-again
health routing 'up again'
foreign_message back "$PARTNER_DOMAIN"
assert_answer back '200 OK' "MESSAGE with the routing node back"
assert_node_rr "$T/back.sip" routing i "Record-Route the foreign edge saw, the routing node back"
assert_routed MESSAGE back routing 'new inbound request, routing node' 1

assert_received routing "MESSAGE all-up"
assert_received b "MESSAGE standby"
assert_received routing-again "MESSAGE back"
assert_received c
changes=$(grep -Eo 'node [a-z]+ \([0-9.:]+\) is (down|up again)' "$T/proxy.log" | paste -sd'|' -)
assert_eq "$changes" "node routing (127.0.0.1:$NODE_PORT) is down|node b (127.0.0.1:$NODE2_PORT) is down|node routing (127.0.0.1:$NODE_PORT) is up again" \
	"health changes in the proxy log"
finish
