#!/usr/bin/env bash
# (d) A foreign user cancels a ringing INVITE: 100 from the proxy, 180, then
# CANCEL: 200 for the CANCEL, the CANCEL goes on to the node, 487 comes back,
# and the ACK for the 487 is the proxy's hop-by-hop one.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
scenario_init d-cancel 24060

run_proxy_with_edge
sipp_uas node uas_ringing.xml "$NODE_PORT"
foreign_call edge uac_cancel.xml
sipp_wait edge node

msg_of edge received '^SIP/2\.0 100 '
msg_of edge received '^SIP/2\.0 200 '
assert_hdr "$MSG" cseq 1 '1 CANCEL$' "the 200 at the foreign edge answers the CANCEL"
msg_of edge received '^SIP/2\.0 487 '
assert_hdr "$MSG" cseq 1 '1 INVITE$' "the 487 at the foreign edge answers the INVITE"

assert_inbound node INVITE
invite_branch=$(branch_of "$MSG")
msg_of node received '^CANCEL '
assert_start "$MSG" 'CANCEL sip:bob@example\.test SIP/2\.0' "CANCEL at the routing node"
assert_hdr_count "$MSG" 'via|v' 1 "Via of the proxy's CANCEL"
assert_eq "$(branch_of "$MSG")" "$invite_branch" "branch of the CANCEL (the forwarded INVITE's)"
msg_of node received '^ACK '
assert_hdr "$MSG" cseq 1 '1 ACK$' "CSeq of the ACK at the routing node"
assert_eq "$(branch_of "$MSG")" "$invite_branch" "branch of the ACK for the 487"

sipp_ok edge node
finish
