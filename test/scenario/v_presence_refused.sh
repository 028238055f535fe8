#!/usr/bin/env bash
# (v) Presence bodies the proxy must not translate. Node b watches alice at
# the partner's edge (Lync, the default dialect), node c watches carol at
# the second edge, whose domain has dialect = pidf. From alice's edge: a
# truncated PIDF (malformed-truncated.xml) gets 400 with a Reason and goes
# no further; her Busy PIDF (lync-busy.pidf.xml) under Event: dialog, then
# under Event: presence as text/plain, reaches b byte for byte. From
# carol's edge the same Busy PIDF reaches c byte for byte.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
pat_init v-presence-refused 24480

presence_config "$PARTNER2_DOMAIN" pidf
run_proxy
node_uas routing
watch_foreign b 2
fixture lync-busy.pidf.xml "${FOREIGN_URI#sip:}"
busy=$FIXTURE
fixture malformed-truncated.xml "${FOREIGN_URI#sip:}"
presence_notify truncated "${CLIENT_PORT_OF[b]}" 1 "$FIXTURE"
notify_ok dialog-event "${CLIENT_PORT_OF[b]}" 2 "$busy" 'Event: dialog'
notify_ok text-plain "${CLIENT_PORT_OF[b]}" 3 "$busy" 'Content-Type: text/plain'

watch_foreign c 1 2
fixture lync-busy.pidf.xml "${FOREIGN2_URI#sip:}"
notify_ok pidf-dialect "${CLIENT_PORT_OF[c]}" 1 "$FIXTURE"
sipp_wait b c

assert_start "$T/truncated.sip" 'SIP/2\.0 400 .+' "answer to the truncated PIDF"
assert_hdr "$T/truncated.sip" cseq 1 '1 NOTIFY$' "CSeq of the answer to the truncated PIDF"
assert_hdr_count "$T/truncated.sip" reason 1 "Reason in the 400"
assert_hdr "$T/truncated.sip" reason 1 'SIP;cause=400;text="[^"]+"$' "Reason in the 400"
assert_idle routing
assert_eq "$(count_msgs b received '^NOTIFY ')" 2 "NOTIFYs at node b (not the truncated one)"
assert_untouched b 1 2 'application/pidf\+xml' "$busy"
assert_untouched b 2 3 'text/plain' "$busy"
assert_untouched c 1 1 'application/pidf\+xml' "$FIXTURE"
assert_log_count 'presence (from|to) .* translated by ' 0 "translated presence bodies"
sipp_ok b c
finish
