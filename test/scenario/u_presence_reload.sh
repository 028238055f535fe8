#!/usr/bin/env bash
# (u) The mapping table on reload, as in (s): the routing node watches
# alice at the partner's (Lync) edge, who NOTIFYs Busy three times. First
# the table's row in lync busy gives "Busy". Then the row is rewritten to
# set:"In a call" and SIGHUP reloads: the next NOTIFY says "In a call".
# Then a broken table (the row rewritten again, a line with an unknown
# state added): fedproxy -t and the reload name TABLE:LINE, and the next
# NOTIFY still says "In a call".
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
lync_busy_init u-presence-reload 24460 3

# busy_rule RULE: the status rule of the table's row in lync busy xmpp
# becomes RULE.
busy_rule() {
	sed -i -E "s/^(in\\tlync\\tbusy\\txmpp\\taway\\t)[^\\t]+/\\1$1/" "$TABLE"
	grep -q "^in	lync	busy	xmpp	away	$1	" "$TABLE" || fail "cannot set the busy row to $1"
}

# reload REGEX WHAT: SIGHUP, then a line matching REGEX in the proxy's log.
reload() {
	kill -HUP "${PID_OF[proxy]}"
	wait_grep "$T/proxy.log" "$1" 5 "$2"
}

notify_ok first "$EDGE_CLIENT_PORT" 1 "$FIXTURE"

busy_rule 'set:"In a call"'
reload 'reload done: ' "reload with the busy row changed"
notify_ok changed "$EDGE_CLIENT_PORT" 2 "$FIXTURE"

busy_rule 'set:"Broken"'
printf '%s\t' in lync no-such-state xmpp away keep >>"$TABLE"
printf '%s\n' local >>"$TABLE"
bad="$(re_quote "$TABLE"):$(wc -l <"$TABLE"):"
! "$FEDPROXY" -c "$CONF" -t >"$T/check.out" 2>&1 || fail "fedproxy -c FILE -t accepted the broken table"
assert_grep "$T/check.out" "$bad" "fedproxy -t on the broken table"
reload "$bad" "reload error naming the broken table's line"
# Logged after the error line: waited for, not just looked for.
wait_grep "$T/proxy.log" 'reload failed: keeping the running configuration' 5 "the failed reload"
notify_ok kept "$EDGE_CLIENT_PORT" 3 "$FIXTURE"
sipp_wait routing

assert_xmpp routing 1 1 away Busy
assert_xmpp routing 2 2 away 'In a call'
assert_xmpp routing 3 3 away 'In a call'
assert_row 3 from "$PARTNER_DOMAIN" in lync busy xmpp
sipp_ok routing
finish
