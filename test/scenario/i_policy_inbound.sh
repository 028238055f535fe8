#!/usr/bin/env bash
# (i) Inbound policy in allow_list mode, no static route: every MESSAGE
# comes through the partner's edge (certificate edge.partner.example.test),
# each on a connection of its own, and only the From domain, To or the
# Request-URI changes. Passes: a listed domain, a subdomain of a wildcard
# entry and the wildcard's own suffix. Refused with 403, a Warning naming the
# rule and a "denied" log line: an unlisted domain, a name that only ends
# like the wildcard's suffix, an outbound-only domain, a domain whose
# peer_names name another edge, a Request-URI or To outside the local
# domains, a Request-URI naming an inside host by address. The routing node
# gets the passed requests, and only them.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
scenario_init i-policy-inbound 24160

# Each refused domain would pass every other check: it is either unlisted
# or its entry names the partner's certificate.
STATIC_ROUTE=no
EXTRA_CONFIG="
[domain $PARTNER_DOMAIN]
peer_names = $PARTNER_FQDN

[domain *.example-partner.test]
peer_names = $PARTNER_FQDN

[domain outbound-only.test]
direction = outbound
peer_names = $PARTNER_FQDN

[domain other-edge.test]
peer_names = edge.other-edge.test
"
run_proxy_with_edge
sipp_uas node uas_answer.xml "$NODE_PORT" -m 3

foreign_message listed "$PARTNER_DOMAIN"
assert_answer listed '200 OK' "a listed domain (peer_names: the partner's certificate)"

foreign_message unlisted unlisted.test
assert_denied unlisted 'allow_list, not listed' 'From domain unlisted\.test'

foreign_message wildcard-sub sub.example-partner.test
assert_answer wildcard-sub '200 OK' "a subdomain of [domain *.example-partner.test]"
foreign_message wildcard-suffix example-partner.test
assert_answer wildcard-suffix '200 OK' "the suffix of [domain *.example-partner.test] itself"
foreign_message wildcard-miss notexample-partner.test
assert_denied wildcard-miss 'allow_list, not listed' 'From domain notexample-partner\.test'

foreign_message outbound-only outbound-only.test
assert_denied outbound-only 'allow_list entry for the other direction' 'From domain outbound-only\.test'

foreign_message identity other-edge.test
assert_wrong_edge identity other-edge.test 'edge\.other-edge\.test'

foreign_message relay-ruri "$PARTNER_DOMAIN" 'To: <sip:someone@other.test>'
assert_denied relay-ruri 'relay refused' 'Request-URI host other\.test is not a local domain'
foreign_message relay-ip "$PARTNER_DOMAIN" "Request-URI: sip:bob@127.0.0.1:$NODE_PORT;transport=tcp"
assert_denied relay-ip 'relay refused' 'Request-URI host 127\.0\.0\.1 is not a local domain'
foreign_message relay-to "$PARTNER_DOMAIN" "Request-URI: $LOCAL_URI" 'To: <sip:someone@other.test>'
assert_denied relay-to 'relay refused' 'To domain other\.test is not a local domain'

sipp_ok node
assert_passed node listed wildcard-sub wildcard-suffix
finish
