#!/usr/bin/env bash
# (e) The routing node subscribes to a foreign user: TCP to the inside
# listener, then TLS (SNI, server check, our client certificate) to the
# static route's edge. The edge then NOTIFYs on a TLS connection of its own
# to the proxy's public port, following the recorded route.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
scenario_init e-outbound 24080

run_proxy
sipp_uas foreign uas_answer.xml "$FOREIGN_PORT"
start_edge_server edge-tls
sipp_start node uac_subscribe.xml "127.0.0.1:$INT_PORT" -p "$NODE_PORT" "${OUTBOUND[@]}"
sipp_wait foreign

msg_of foreign received '^SUBSCRIBE '
assert_start "$MSG" 'SUBSCRIBE sip:alice@partner\.example\.test SIP/2\.0' "request URI at the foreign edge"
assert_via_from_proxy "$MSG" 2 "$(via_outside)" "Via at the foreign edge"
assert_record_route "$MSG" "$(rr_outside)" "$(rr_inside)" "Record-Route at the foreign edge"
sipp_ok foreign

start_edge_client edge-client "$EDGE_CLIENT_PORT" partner-chain.pem partner.key
dialog_keys foreign SUBSCRIBE
sipp_start notify indialog_notify.xml "127.0.0.1:$EDGE_CLIENT_PORT" -p "$UAC2_PORT" "${DIALOG[@]}"
sipp_wait notify node

msg_of node received '^NOTIFY '
assert_start "$MSG" "NOTIFY sip:watcher@127\.0\.0\.1:$NODE_PORT;transport=tcp SIP/2\.0" \
	"NOTIFY request line at the routing node"
assert_in_dialog "$MSG" NOTIFY "$(via_inside)"
assert_answered notify

sipp_ok notify node
finish
