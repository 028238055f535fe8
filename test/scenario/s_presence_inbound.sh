#!/usr/bin/env bash
# (s) Presence translation inbound: the routing node subscribes to alice at
# the partner's edge (a Lync edge: the default dialect), which NOTIFYs her
# Busy as Lync writes PIDF (the fixture lync-busy.pidf.xml, her address in
# it). The node gets what XMPP users read: basic open, jabber:client show
# away, the one note "Busy" (the table's row in lync busy), as
# application/pidf+xml with a Content-Length that frames exactly it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
lync_busy_init s-presence-inbound 24360 1

notify_ok busy "$EDGE_CLIENT_PORT" 1 "$FIXTURE"
sipp_wait routing

assert_xmpp routing 1 1 away Busy
assert_body ! 'rpid-status' "the Lync activity at the routing node"
assert_row 1 from "$PARTNER_DOMAIN" in lync busy xmpp
sipp_ok routing
finish
