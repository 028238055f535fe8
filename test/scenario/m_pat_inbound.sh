#!/usr/bin/env bash
# (m) PAT, new inbound requests: three inside nodes (routing, standby b,
# member c), each a sipp that answers 200. A new SUBSCRIBE from the foreign
# edge on the main external port lands on the routing node only, one on b's
# public port on b only, one on c's on c only. Each node gets the proxy's
# Record-Route for a dialog of its own (fpx tokens naming it, inside entry
# on top), and the foreign edge reads the same two entries in the 200: the
# outside one names the public FQDN and the port that leads to that node.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
pat_init m-pat-inbound 24240

run_proxy
for node in routing b c; do
	node_uas "$node"
	start_pat_client "$node"
done

pat="new inbound request on the node's public port"
declare -A why=([routing]="new inbound request, routing node" [b]=$pat [c]=$pat)
for node in routing b c; do
	raw_once "${CLIENT_PORT_OF[$node]}" "sub-$node" '1 SUBSCRIBE' 'Event: presence' \
		"Contact: <sip:alice@$PARTNER_FQDN;transport=tls>" 'Expires: 600' ||
		fail "no answer to the SUBSCRIBE on the port of node $node"
	assert_answer "sub-$node" '200 OK' "SUBSCRIBE on the port of node $node"
	assert_node_rr "$T/sub-$node.sip" "$node" i "Record-Route the foreign edge saw for node $node"
	assert_inbound "$node" SUBSCRIBE 1 "$node"
	assert_routed SUBSCRIBE "sub-$node" "$node" "${why[$node]}" 1
done

for node in routing b c; do
	assert_received "$node" "SUBSCRIBE sub-$node"
done
finish
