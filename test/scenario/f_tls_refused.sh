#!/usr/bin/env bash
# (f) Foreign clients without a certificate, with one from an untrusted CA,
# or with an expired one are refused at the TLS layer: no SIP answer, and
# nothing reaches the routing node. A client with the partner's certificate,
# sending the same request, is the control (the only request the node sees).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
scenario_init f-tls-refused 24100

run_proxy
sipp_uas node uas_answer.xml "$NODE_PORT"
start_edge_client no-cert "$SPARE_PORT"
start_edge_client rogue "$((SPARE_PORT + 1))" rogue.pem rogue.key
start_edge_client expired "$((SPARE_PORT + 2))" expired.pem expired.key
start_edge_client partner "$EDGE_CLIENT_PORT" partner-chain.pem partner.key

# through CLIENT: one MESSAGE (Call-ID CLIENT) on a new connection through
# the stunnel client CLIENT; status 1 when nothing answers.
through() {
	raw_once "$(sed -n 's/^accept = 127\.0\.0\.1://p' "$T/$1.conf")" "$1" '1 MESSAGE'
}

for client in no-cert rogue expired; do
	! through "$client" || fail "client '$client' was not refused: $(head -n 1 "$T/$client.sip")"
done
through partner || fail "no answer through the partner's certificate"
assert_start "$T/partner.sip" 'SIP/2\.0 200 .+' "answer with the partner's certificate"

sipp_ok node
assert_only_request node partner
finish
