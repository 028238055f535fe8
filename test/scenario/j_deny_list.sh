#!/usr/bin/env bash
# (j) deny_list mode: a [domain] entry now keeps its domain out (403, the
# Warning names the deny_list entry), though its peer_names name the
# partner's certificate, which would let it in otherwise; the partner's
# domain, not listed, passes (its edge name comes from its static route),
# over the same edge. Only that MESSAGE reaches the routing node. A
# [domain] section with no keys at all (direction both, edge names from DNS)
# is an entry as well: its domain is kept out too.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
scenario_init j-deny-list 24180

EXTRA_CONFIG="privacy_mode = deny_list

[domain denied.test]
peer_names = $PARTNER_FQDN

[domain keyless.test]
"
run_proxy_with_edge
sipp_uas node uas_answer.xml "$NODE_PORT"

foreign_message denied denied.test
assert_denied denied 'deny_list entry' 'From domain denied\.test'

foreign_message unlisted "$PARTNER_DOMAIN"
assert_answer unlisted '200 OK' "a domain the deny list does not name"

sipp_ok node
assert_passed node unlisted

foreign_message keyless keyless.test
assert_denied keyless 'deny_list entry' 'From domain keyless\.test'
finish
