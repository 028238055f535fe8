#!/usr/bin/env bash
# (t) Presence translation outbound: alice at the partner's edge (a Lync
# edge: the default dialect) subscribes to bob; the routing node answers,
# then NOTIFYs from the inside with XMPP dnd and the note "In a meeting"
# (the fixture xmpp-dnd-note.pidf.xml, bob's address in it). Alice's edge
# gets what Lync reads (the table's row out xmpp dnd: lync busy, keep the
# note): basic open, the RPID activity busy in both spellings (RFC 4480
# under dm:person, the pre-RFC ep:activity in status), that note, bob as a
# sip: entity.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
scenario_init t-presence-outbound 24380 xmllint

presence_config
run_proxy_with_edge
sipp_uas node uas_answer.xml "$NODE_PORT"
foreign_call edge uac_subscribe.xml "$UAC_PORT" -set notifies 1
sipp_ok node
dialog_keys node SUBSCRIBE
fixture xmpp-dnd-note.pidf.xml "${LOCAL_URI#sip:}"
notify_ok dnd "$INT_PORT" 1 "$FIXTURE" "Via: SIP/2.0/TCP 127.0.0.1:$NODE_PORT;branch=z9hG4bK-dnd;rport"
sipp_wait edge

assert_pidf edge 1 1
assert_body "<presence [^>]*entity=\"$(re_quote "$LOCAL_URI")\"" "entity of the NOTIFY at the foreign edge"
assert_body '<status> *<basic>open</basic>' "basic of the NOTIFY at the foreign edge"
assert_body '<status>.*<ep:activities> *<ep:activity>busy</ep:activity> *</ep:activities>.*</status>' \
	"pre-RFC RPID activity of the NOTIFY at the foreign edge"
assert_body '<dm:person[ >].*<rpid:activities> *<rpid:busy/> *</rpid:activities>.*</dm:person>' \
	"RFC 4480 activity of the NOTIFY at the foreign edge"
assert_body '<note( xml:lang="en")?>In a meeting</note>' "note of the NOTIFY at the foreign edge"
assert_body ! '<rpid:(away|dnd)/>|<ep:activity>(away|dnd)<' "other activities in the NOTIFY at the foreign edge"
assert_row 1 to "$PARTNER_DOMAIN" out xmpp dnd lync
sipp_ok edge
finish
