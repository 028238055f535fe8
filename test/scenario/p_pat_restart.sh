#!/usr/bin/env bash
# (p) PAT across a proxy restart: node c starts an IM session with a foreign
# user; the foreign side's first in-dialog MESSAGE reaches c over c's own
# connection. The proxy then stops (SIGTERM) and starts again on the same
# config (same route_secret): every connection is gone, but the tokens in
# the Route still name c, so the foreign side's next three MESSAGEs and its
# BYE (through c's public port) reach c at its configured address, and
# nobody else.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
pat_init p-pat-restart 24300

run_proxy
node_session c
id=${DLG[call_id]}
foreign_indialog before indialog_message.xml c "$UAC_PORT"
sipp_ok before
assert_received c "MESSAGE $id"
assert_delivered c MESSAGE 1
assert_routed MESSAGE "$id" c 'in-dialog, node from Route' 1

# A sipp client answers only on its own connection, which the restart
# closes: a sipp server at c's address takes the rest of the dialog.
stop_bg c
restart_proxy
sipp_uas c-again uas_indialog.xml "${NODE_PORT_OF[c]}"
foreign_indialog after indialog_im.xml c "$UAC2_PORT" -base_cseq 2
sipp_wait after c-again

assert_replies c-again c
for n in 1 2 3; do
	msg_of c-again received '^MESSAGE ' "$n"
	assert_hdr "$MSG" cseq 1 "$((n + 1)) MESSAGE\$" "CSeq of MESSAGE #$n after the restart"
done
assert_received c "MESSAGE $id"
assert_idle routing b
sipp_ok after c-again
finish
