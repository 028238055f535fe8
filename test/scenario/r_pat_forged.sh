#!/usr/bin/env bash
# (r) PAT, forged Route tokens: node b subscribes to a foreign user, whose
# side then NOTIFYs through b's public port with the recorded route edited:
# the outside token's node renamed (b -> c), also sent to c's public port;
# the inside token's node renamed (b -> routing); either token's mac
# changed. Each gets 403 Forbidden Route from the proxy and reaches no node.
# The same NOTIFY with the route as recorded then reaches b.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
pat_init r-pat-forged 24340

run_proxy
node_uas routing
node_uas c
foreign_uas foreign uas_answer.xml
node_uac b uac_subscribe.xml "$FOREIGN_URI"
sipp_wait foreign
assert_outbound foreign SUBSCRIBE b "$FOREIGN_URI"
sipp_ok foreign
start_pat_client b
start_pat_client c
dialog_keys foreign SUBSCRIBE
routes=${DLG[routes]}

# tamper_mac SIDE: the recorded route with the last digit of the mac in
# SIDE's token changed.
tamper_mac() {
	local re="(fpx=$1\\.[^.]+\\.[0-9a-f]{16}\\.[0-9a-f]{15})([0-9a-f])" digit=0
	[[ $routes =~ $re ]] || fail "no $1 token in the recorded route: $routes"
	[ "${BASH_REMATCH[2]}" != 0 ] || digit=1
	printf '%s' "${routes/"${BASH_REMATCH[0]}"/"${BASH_REMATCH[1]}$digit"}"
}

# notify LABEL NODE CSEQ ROUTE: the foreign side's NOTIFY in the dialog
# through NODE's public port, Route: ROUTE; the answer is in $T/LABEL.sip.
notify() {
	dialog_request "$1" "${CLIENT_PORT_OF[$2]}" "$3 NOTIFY" "$4" 'Event: presence' \
		'Subscription-State: active;expires=600' || fail "no answer to NOTIFY $1"
}

declare -A forged=(
	[e-node]=${routes/fpx=e.b./fpx=e.c.}
	[i-node]=${routes/fpx=i.b./fpx=i.routing.}
	[e-mac]=$(tamper_mac e)
	[i-mac]=$(tamper_mac i)
)
cseq=1
for label in e-node i-node e-mac i-mac; do
	[ "${forged[$label]}" != "$routes" ] || fail "forged route $label is the recorded one"
	for node in b c; do
		notify "$label-via-$node" "$node" $((cseq++)) "${forged[$label]}"
		assert_start "$T/$label-via-$node.sip" 'SIP/2\.0 403 Forbidden Route' \
			"NOTIFY with the $label token edited, through the public port of $node"
	done
done
assert_log_count "req in  NOTIFY call-id=$(re_quote "${DLG[call_id]}") .*/external -> answer 403 \\(Route token failed its integrity check\\)$" \
	8 "forged NOTIFYs refused"
assert_log_count "req in  NOTIFY .*-> forward" 0 "forged NOTIFYs forwarded"
assert_idle b

notify recorded b $((cseq++)) "$routes"
assert_start "$T/recorded.sip" 'SIP/2\.0 200 OK' "NOTIFY with the recorded route"
sipp_ok b
assert_received b "NOTIFY ${DLG[call_id]}"
assert_routed NOTIFY "${DLG[call_id]}" b 'in-dialog, node from Route' 1
assert_idle routing c
finish
