#!/usr/bin/env bash
# (o) PAT, a session started inside: node c INVITEs a foreign user and sends
# three MESSAGEs. The foreign side answers its part of the dialog through
# the port its Record-Route names (c's public port): three MESSAGEs and the
# BYE, on a TLS connection of its own. Every one reaches c, as the proxy's
# log says (node from Route); the routing node and b get nothing.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
pat_init o-pat-session 24280

run_proxy
node_session c
foreign_indialog replies indialog_im.xml c "$UAC_PORT"
sipp_wait replies c

assert_replies c c
assert_idle routing b
sipp_ok replies c
finish
