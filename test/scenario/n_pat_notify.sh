#!/usr/bin/env bash
# (n) PAT, outbound subscriptions of two nodes at once: node b subscribes to
# alice at the partner's edge, node c to carol at a second foreign edge
# (partner2), both over the inside listener, identified by their Via. Each
# edge sees a Record-Route naming the public port of the node that
# subscribed, with tokens naming that node. Then both edges NOTIFY at once,
# each on a TLS connection of its own to the port its Record-Route names:
# b's NOTIFY reaches b, c's reaches c, the routing node gets nothing.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
pat_init n-pat-notify 24260

run_proxy
node_uas routing
foreign_uas foreign uas_answer.xml
foreign_uas foreign2 uas_answer.xml 2
node_uac b uac_subscribe.xml "$FOREIGN_URI"
node_uac c uac_subscribe.xml "$FOREIGN2_URI"
sipp_wait foreign foreign2

assert_outbound foreign SUBSCRIBE b "$FOREIGN_URI"
assert_outbound foreign2 SUBSCRIBE c "$FOREIGN2_URI"
sipp_ok foreign foreign2
start_pat_client b
start_pat_client c partner2-chain.pem partner2.key

dialog_keys foreign SUBSCRIBE
foreign_indialog notify-b indialog_notify.xml b "$UAC_PORT"
dialog_keys foreign2 SUBSCRIBE
foreign_indialog notify-c indialog_notify.xml c "$UAC2_PORT"
sipp_wait notify-b notify-c b c

assert_idle routing
for node in b c; do
	id=$(call_id_of "$node" SUBSCRIBE)
	assert_received "$node" "NOTIFY $id"
	msg_of "$node" received '^NOTIFY '
	assert_start "$MSG" "NOTIFY sip:watcher@127\\.0\\.0\\.1:${NODE_PORT_OF[$node]};transport=tcp SIP/2\\.0" \
		"NOTIFY request line at node $node"
	assert_in_dialog "$MSG" NOTIFY "$(via_inside)"
	assert_routed NOTIFY "$id" "$node" 'in-dialog, node from Route' 1
	assert_answered "notify-$node"
done

sipp_ok notify-b notify-c b c
finish
