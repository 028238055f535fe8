#!/usr/bin/env bash
# (l) DNS discovery, no static route, a dnsmasq on loopback as the name
# server. Outbound: the routing node's SUBSCRIBE to srv.example-partner.test
# follows its _sipfederationtls._tcp record to edge.srv.example-partner.test
# and goes over TLS to a foreign edge that presents that name only to a
# client sending it as SNI (a stunnel service selected by SNI; for any other
# name the edge presents the partner's certificate and leads to a decoy
# sipp). A domain whose SRV target is not named by the certificate it gets
# (bad.example-partner.test) is refused at the TLS layer: 503 with
# Retry-After, nothing at either sipp. Outbound to a domain the allow list
# lacks, or lists for inbound only: 403, and nothing is looked up.
# Inbound, with no peer_names: the From domain's SRV target must be the name
# in the edge's certificate (id.example-partner.test); another target, or no
# record, is refused for peer identity.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
scenario_init l-srv-discovery 24220 dnsmasq

SRV_EDGE=edge.srv.example-partner.test
BAD_EDGE=edge.bad.example-partner.test
DECOY_PORT=$SPARE_PORT # the sipp behind the edge's default (non-SNI) service
make_leaf srv-edge "$SRV_EDGE"

start_dns example-partner.test \
	"$(fed_srv srv.example-partner.test "$SRV_EDGE" "$EDGE_PORT")" \
	"--host-record=$SRV_EDGE,127.0.0.1" \
	"$(fed_srv bad.example-partner.test "$BAD_EDGE" "$EDGE_PORT")" \
	"--host-record=$BAD_EDGE,127.0.0.1" \
	"$(fed_srv id.example-partner.test "$PARTNER_FQDN" 5061)" \
	"$(fed_srv id-other.example-partner.test edge.other.example-partner.test 5061)"

# direction = both is the default, spelt out here: the proxy ignores a
# [domain] section without keys (j_deny_list.sh shows it).
STATIC_ROUTE=no
EXTRA_CONFIG="
[domain *.example-partner.test]
direction = both

[domain inbound-only.test]
direction = inbound
"
run_proxy_with_edge

edge_server_opts "$DECOY_PORT" partner-chain.pem partner.key
by_default=("${OPTS[@]}")
edge_server_opts "$FOREIGN_PORT" srv-edge-chain.pem srv-edge.key
start_stunnel edge-server "$EDGE_PORT" "${by_default[@]}" \
	"[edge-server-sni]" "sni = edge-server:$SRV_EDGE" "${OPTS[@]}"
sipp_uas foreign uas_answer.xml "$FOREIGN_PORT"
sipp_uas decoy uas_answer.xml "$DECOY_PORT"
sipp_uas node uas_answer.xml "$NODE_PORT"

# subscribe ID DOMAIN: the local user's SUBSCRIBE to bob@DOMAIN, sent to
# the inside listener as the routing node would.
subscribe() {
	raw_once "$INT_PORT" "$1" '1 SUBSCRIBE' \
		"Via: SIP/2.0/TCP 127.0.0.1:$NODE_PORT;branch=z9hG4bK-$1;rport" \
		"From: <$LOCAL_URI>;tag=t-$1" "To: <sip:bob@$2>" \
		"Contact: <sip:bob@127.0.0.1:$NODE_PORT;transport=tcp>" 'Event: presence' ||
		fail "no answer to SUBSCRIBE $1"
}

subscribe srv srv.example-partner.test
assert_answer srv '200 OK' "SUBSCRIBE to a domain found through SRV"
sipp_ok foreign
msg_of foreign received '^SUBSCRIBE '
assert_start "$MSG" 'SUBSCRIBE sip:bob@srv\.example-partner\.test SIP/2\.0' "request line at the SRV edge"
assert_hdr "$MSG" 'call-id|i' 1 'srv$' "Call-ID at the SRV edge"
assert_via_from_proxy "$MSG" 2 "$(via_outside)" "Via at the SRV edge"
assert_record_route "$MSG" "$(rr_outside)" "$(rr_inside)" "Record-Route at the SRV edge"
assert_grep "$T/edge-server.out" "SNI: requested servername: ${SRV_EDGE//./\\.}\$" "the SNI the proxy sent"
assert_grep "$T/edge-server.out" "SNI: switched to service \[edge-server-sni\]" "the edge's SNI service"
assert_grep "$T/dns.out" "query\[SRV\] _sipfederationtls\._tcp\.srv\.example-partner\.test " \
	"the proxy's SRV query"

subscribe unlisted unlisted.test
assert_denied unlisted 'allow_list, not listed' 'target domain unlisted\.test'
subscribe inbound-only inbound-only.test
assert_denied inbound-only 'allow_list entry for the other direction' 'target domain inbound-only\.test'
! grep -Eq 'query\[[A-Z]+\] (_sipfederationtls\._tcp\.)?(unlisted|inbound-only)\.test' "$T/dns.out" ||
	fail "the proxy looked up a domain the policy refused: $(grep -E '(unlisted|inbound-only)\.test' "$T/dns.out")"

foreign_message id id.example-partner.test
assert_answer id '200 OK' "a From domain whose SRV target is the edge's certificate name"
foreign_message id-other id-other.example-partner.test
assert_wrong_edge id-other id-other.example-partner.test 'edge\.other\.example-partner\.test'
foreign_message id-none id-none.example-partner.test
assert_wrong_edge id-none id-none.example-partner.test '\(none\)'

sipp_ok node
assert_passed node id

subscribe bad bad.example-partner.test
assert_answer bad '503 .+' "SUBSCRIBE to a domain whose SRV target's certificate names another host"
wait_grep "$T/proxy.log" 'peer certificate does not name the host dialled' 5 \
	"the proxy's log of the refused TLS session"
assert_grep "$T/edge-server.out" "SNI: requested servername: ${BAD_EDGE//./\\.}\$" \
	"the SNI the proxy sent to the wrong edge"
stop_bg decoy
assert_requests decoy
assert_requests foreign srv
assert_hdr "$T/bad.sip" retry-after 1 '[0-9]+' "Retry-After in the 503"
finish
