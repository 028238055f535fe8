#!/usr/bin/env bash
# (w) Connection reuse: the proxy dials a peer once and sends every later
# request to it over that connection. Five foreign MESSAGEs, each a call of
# its own, sent in one burst (most arrive while the first connection is
# still opening), reach the routing node over the one TCP connection the
# proxy dialled for the first; a later call takes it too. Five MESSAGEs
# from the inside to the partner's domain (static route), again in a burst,
# reach its edge over one TLS connection. A domain found through DNS SRV
# (dnsmasq), whose edge (the SRV target, named by its certificate) has a
# TLS connection of its own open to us, gets a MESSAGE from the inside on
# that connection: the proxy dials nothing (nobody listens at the SRV
# target's port).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
scenario_init w-conn-reuse 24500 dnsmasq

CALLS=5 # calls per burst: the last -m given to sipp wins over sipp_start's -m 1
REUSE_DOMAIN=reuse.example-partner.test
REUSE_EDGE=edge.$REUSE_DOMAIN
REUSE_CLIENT_PORT=$SPARE_PORT       # that edge's TLS client towards us
REUSE_EDGE_PORT=$((SPARE_PORT + 1)) # its TLS port in the SRV record: closed
SENDER_PORT=$((SPARE_PORT + 2))     # the inside sipp of the last request
make_leaf reuse "$REUSE_EDGE"
start_dns "$REUSE_DOMAIN" "$(fed_srv "$REUSE_DOMAIN" "$REUSE_EDGE" "$REUSE_EDGE_PORT")" \
	"--host-record=$REUSE_EDGE,127.0.0.1"

HEALTH=off
EXTRA_CONFIG="
[domain $REUSE_DOMAIN]
direction = both
"
run_proxy
node_uas routing

# dialled PORT N WHAT: the proxy dialled 127.0.0.1:PORT N times.
dialled() {
	assert_log_count "conn [0-9]+: dialling (tcp|tls) 127\\.0\\.0\\.1:$1 " "$2" "$3"
}

# Inbound: one connection to the routing node for all the calls.
start_edge_client edge-client "$EDGE_CLIENT_PORT" partner-chain.pem partner.key
foreign_call edge uac_message.xml "$UAC_PORT" -m "$CALLS" -r 1000
sipp_ok edge
assert_eq "$(count_msgs routing received '^MESSAGE ')" "$CALLS" "MESSAGEs at the routing node"
dialled "$NODE_PORT" 1 "connections to the routing node for $CALLS calls"

# Outbound: one connection to the partner's edge for all the calls.
sipp_uas foreign uas_answer.xml "$FOREIGN_PORT" -m "$CALLS"
start_edge_server edge-server
sipp_start inside uac_message.xml "127.0.0.1:$INT_PORT" -p "$UAC2_PORT" "${OUTBOUND[@]}" \
	-m "$CALLS" -r 1000
sipp_ok inside foreign
dialled "$EDGE_PORT" 1 "connections to the partner's edge for $CALLS calls"

# Outbound on the connection the SRV target's edge opened to us.
start_edge_client reuse-client "$REUSE_CLIENT_PORT" reuse-chain.pem reuse.key
raw_open "$REUSE_CLIENT_PORT"
raw_request reuse-in '1 MESSAGE' "Via: SIP/2.0/TLS $REUSE_EDGE:5061;branch=z9hG4bK-reuse-in;rport" \
	"From: <sip:alice@$REUSE_DOMAIN>;tag=t-reuse-in" || fail "no answer to MESSAGE reuse-in"
assert_answer reuse-in '200 OK' "MESSAGE from the edge of $REUSE_DOMAIN"
dialled "$NODE_PORT" 1 "connections to the routing node after one more call"
sipp_start reuse-out uac_message.xml "127.0.0.1:$INT_PORT" -p "$SENDER_PORT" \
	-key from "$LOCAL_URI" -key to "sip:alice@$REUSE_DOMAIN"
raw_response "$T/reuse-out.sip"
arrived=$?
dialled "$REUSE_EDGE_PORT" 0 "connections to $REUSE_EDGE, which has one open to us"
[ "$arrived" = 0 ] || fail "no MESSAGE to $REUSE_DOMAIN on the connection its edge opened to us"
assert_start "$T/reuse-out.sip" "MESSAGE sip:alice@${REUSE_DOMAIN//./\\.} SIP/2\\.0" \
	"request line at the edge of $REUSE_DOMAIN"
assert_hdr "$T/reuse-out.sip" 'call-id|i' 1 "$(re_quote "$(call_id_of reuse-out MESSAGE)")\$" \
	"Call-ID at the edge of $REUSE_DOMAIN"
# The edge's 200: the MESSAGE's Vias, From, To (with a tag), Call-ID, CSeq.
fields=$(sed '/^$/q' "$T/reuse-out.sip" |
	grep -iE '^(via|v|from|f|to|t|call-id|i|cseq)[[:space:]]*:' |
	sed -E 's/^(to|t)[[:space:]]*:.*$/&;tag=t-reuse-out/I')
printf 'SIP/2.0 200 OK\r\n%s\r\nContent-Length: 0\r\n\r\n' "${fields//$'\n'/$'\r\n'}" >&"$RAW"
sipp_ok reuse-out
raw_close
finish
