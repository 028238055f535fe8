#!/usr/bin/env bash
# (c) Session-mode IM from a foreign user: INVITE/100/200/ACK, three
# MESSAGEs each way inside the dialog, BYE from the inside (sent, like the
# inside MESSAGEs, by a second sipp on its own connection to the inside
# listener). With INSIDE_IP=::1 (scenario-c-im-session-ipv6) the inside is
# IPv6: the proxy's inside Via and Record-Route carry [::1], and the inside's
# requests must find that Route to be the proxy's own.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
case $INSIDE_IP in
*:*)
	ip -6 addr show dev lo 2>/dev/null | grep -q "inet6 $INSIDE_IP/" ||
		skip "no $INSIDE_IP on lo (IPv6 off on this machine)"
	scenario_init c-im-session-ipv6 24520
	;;
*) scenario_init c-im-session 24040 ;;
esac

run_proxy_with_edge
sipp_uas node uas_im.xml "$NODE_PORT" -i "$INSIDE_IP"
foreign_call edge uac_im.xml
sipp_wait node

assert_inbound node INVITE
msg_of node received '^ACK '
assert_start "$MSG" "ACK sip:im@$(inside_re "$NODE_PORT");transport=tcp SIP/2\.0" "ACK at the routing node"
assert_hdr_count "$MSG" route 0 "Route left in the ACK"
assert_eq "$(count_msgs node received '^MESSAGE ')" 3 "MESSAGEs from the foreign side at the routing node"
msg_of node received '^MESSAGE ' 3
assert_hdr_count "$MSG" record-route 0 "Record-Route in an in-dialog MESSAGE"
sipp_ok node

dialog_keys node INVITE
sipp_start inside indialog_im.xml "$(inside_at "$INT_PORT")" -p "$UAC2_PORT" -i "$INSIDE_IP" "${DIALOG[@]}"
sipp_wait inside edge

msg_of edge received '^SIP/2\.0 100 '
assert_eq "$(count_msgs edge received '^MESSAGE ')" 3 "MESSAGEs from the inside at the foreign edge"
msg_of edge received '^BYE '
assert_start "$MSG" "BYE sip:alice@127\.0\.0\.1:$UAC_PORT;transport=tcp SIP/2\.0" "BYE at the foreign edge"
assert_via_from_proxy "$MSG" 2 "$(via_outside)" "Via of the BYE" "$INSIDE_IP"

sipp_ok inside edge
finish
