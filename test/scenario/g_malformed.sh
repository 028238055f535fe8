#!/usr/bin/env bash
# (g) A request with a malformed CSeq, correctly framed, gets 400 with a
# reason phrase and goes no further; a good request on the same connection
# then goes through.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
scenario_init g-malformed 24120

run_proxy_with_edge
sipp_uas node uas_answer.xml "$NODE_PORT"

raw_open "$EDGE_CLIENT_PORT"
raw_request bad-cseq 'one MESSAGE' || fail "no answer to a malformed CSeq (connection closed or silent)"
assert_start "$T/bad-cseq.sip" 'SIP/2\.0 400 [^ ].*' "answer to a malformed CSeq"
raw_request good '1 MESSAGE' || fail "no answer to a good request after the malformed one"
assert_start "$T/good.sip" 'SIP/2\.0 200 .+' "answer to the good request on the same connection"
raw_close

sipp_ok node
assert_only_request node good
finish
