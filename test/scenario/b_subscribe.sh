#!/usr/bin/env bash
# (b) A foreign SUBSCRIBE reaches the routing node, which answers 200 and
# then NOTIFYs along the recorded route from its own connection to the
# inside listener (a second sipp speaks for it: a sipp server cannot open
# one); the NOTIFY must reach the foreign edge on the TLS connection the
# SUBSCRIBE came in on (its stunnel client accepts nothing).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
scenario_init b-subscribe 24020

run_proxy_with_edge
sipp_uas node uas_answer.xml "$NODE_PORT"
foreign_call edge uac_subscribe.xml
sipp_wait node
assert_inbound node SUBSCRIBE
sipp_ok node

dialog_keys node SUBSCRIBE
sipp_start notify indialog_notify.xml "127.0.0.1:$INT_PORT" -p "$UAC2_PORT" "${DIALOG[@]}"
sipp_wait notify edge

msg_of edge received '^NOTIFY '
assert_start "$MSG" "NOTIFY sip:watcher@127\.0\.0\.1:$UAC_PORT;transport=tcp SIP/2\.0" \
	"NOTIFY request line at the foreign edge"
assert_in_dialog "$MSG" NOTIFY "$(via_outside)"
assert_answered notify

sipp_ok notify edge
finish
