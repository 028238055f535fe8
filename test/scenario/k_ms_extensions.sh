#!/usr/bin/env bash
# (k) Microsoft extensions from a foreign edge, all on one TLS connection:
# NEGOTIATE (compression, Max-Forwards 0) is answered 200 by the proxy
# without a Compression header and goes no further; a MESSAGE after it still
# passes. A SUBSCRIBE with Proxy-Require: ms-benotify reaches the routing
# node without its Proxy-Require (Supported stays), and its 200 comes back;
# the node's BENOTIFY in that dialog reaches the edge with nobody answering
# it. Proxy-Require with any other tag gets 420 and Unsupported naming it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
scenario_init k-ms-extensions 24200

run_proxy_with_edge
sipp_uas node uas_answer.xml "$NODE_PORT" -m 2
raw_open "$EDGE_CLIENT_PORT"

raw_request negotiate '1 NEGOTIATE' "Request-URI: sip:$PROXY_FQDN:$EXT_PORT;transport=tls" \
	'Max-Forwards: 0' "From: <sip:$PARTNER_FQDN>;tag=t-negotiate" "To: <sip:$PROXY_FQDN>" \
	'Compression: LZ77-8K' || fail "no answer to NEGOTIATE"
assert_answer negotiate '200 OK' "answer to NEGOTIATE"
assert_hdr "$T/negotiate.sip" cseq 1 '1 NEGOTIATE$' "CSeq of the answer to NEGOTIATE"
assert_hdr_count "$T/negotiate.sip" compression 0 "Compression in the answer to NEGOTIATE (declined)"

raw_request after-negotiate '1 MESSAGE' || fail "no answer to a MESSAGE after NEGOTIATE"
assert_answer after-negotiate '200 OK' "a MESSAGE on the connection after NEGOTIATE"

# subscribe ID PROXY_REQUIRE: a SUBSCRIBE supporting ms-benotify with that
# Proxy-Require value.
subscribe() {
	raw_request "$1" '1 SUBSCRIBE' "Contact: <sip:alice@127.0.0.1:$EDGE_CLIENT_PORT;transport=tls>" \
		'Event: presence' 'Supported: ms-benotify' "Proxy-Require: $2" 'Expires: 3600' ||
		fail "no answer to SUBSCRIBE $1"
}

subscribe foo foo
assert_answer foo '420 Bad Extension' "Proxy-Require: foo"
assert_hdr_count "$T/foo.sip" unsupported 1 "Unsupported in the 420"
assert_hdr "$T/foo.sip" unsupported 1 'foo$' "Unsupported in the 420"
subscribe also-foo 'ms-benotify, foo'
assert_answer also-foo '420 Bad Extension' "Proxy-Require: ms-benotify, foo"
assert_hdr "$T/also-foo.sip" unsupported 1 'foo$' "Unsupported in the 420 to ms-benotify, foo"

subscribe benotify ms-benotify
assert_answer benotify '200 OK' "Proxy-Require: ms-benotify"
sipp_ok node
assert_requests node after-negotiate benotify
assert_inbound node SUBSCRIBE
assert_hdr_count "$MSG" proxy-require 0 "Proxy-Require at the routing node"
assert_hdr_count "$MSG" supported 1 "Supported at the routing node"
assert_hdr "$MSG" supported 1 'ms-benotify$' "Supported at the routing node"

dialog_keys node SUBSCRIBE
sipp_start notifier indialog_benotify.xml "127.0.0.1:$INT_PORT" -p "$UAC2_PORT" "${DIALOG[@]}"
raw_response "$T/benotify-in.sip" || fail "no BENOTIFY at the foreign edge"
assert_start "$T/benotify-in.sip" \
	"BENOTIFY sip:alice@127\\.0\\.0\\.1:$EDGE_CLIENT_PORT;transport=tls SIP/2\\.0" \
	"BENOTIFY at the foreign edge"
assert_in_dialog "$T/benotify-in.sip" BENOTIFY "$(via_outside)"
assert_hdr "$T/benotify-in.sip" 'call-id|i' 1 'benotify$' "Call-ID of the BENOTIFY"
raw_close
sipp_ok notifier
finish
