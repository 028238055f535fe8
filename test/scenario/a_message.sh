#!/usr/bin/env bash
# (a) A foreign edge's MESSAGE comes in over mutual TLS, reaches the routing
# node with the proxy's Via and Record-Route on top, and the 200 goes back.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
scenario_init a-message 24000

run_proxy_with_edge
sipp_uas node uas_answer.xml "$NODE_PORT"
foreign_call edge uac_message.xml
sipp_wait edge node

assert_inbound node MESSAGE
assert_hdr "$MSG" max-forwards 1 '69$' "Max-Forwards at the routing node (70 sent)"

assert_answered edge
assert_hdr "$MSG" cseq 1 '1 MESSAGE$' "CSeq of the response"
assert_hdr_count "$MSG" 'via|v' 1 "Via in the response (the proxy's own removed)"

sipp_ok edge node
finish
