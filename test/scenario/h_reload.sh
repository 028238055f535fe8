#!/usr/bin/env bash
# (h) SIGHUP with the routing node moved to another port: new requests go
# there. SIGHUP with a broken file (an unknown key on line 3): the error
# names FILE:3, and the previous configuration keeps serving.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
scenario_init h-reload 24140

run_proxy_with_edge

# message NAME PORT: one MESSAGE from the foreign edge (a new connection,
# so the current configuration applies), answered 200.
message() {
	foreign_call "$1" uac_message.xml "$2"
	sipp_ok "$1"
}

sipp_uas node1 uas_answer.xml "$NODE_PORT"
message before "$UAC_PORT"
sipp_ok node1

sipp_uas node2 uas_answer.xml "$NODE2_PORT" -m 2
write_config "$CONF" "$NODE2_PORT"
kill -HUP "${PID_OF[proxy]}"
sleep 1
message moved "$UAC2_PORT"
assert_eq "$(count_msgs node2 received '^MESSAGE ')" 1 "requests at the new routing node"

sed -i '3i no_such_key = yes' "$CONF"
! "$FEDPROXY" -c "$CONF" -t >"$T/check.out" 2>&1 || fail "fedproxy -c FILE -t accepted an unknown key"
assert_grep "$T/check.out" "$CONF:3:" "fedproxy -t on the broken file"
kill -HUP "${PID_OF[proxy]}"
wait_grep "$T/proxy.log" "$CONF:3:" 5 "reload error in the proxy log"
message kept "$SPARE_PORT"

sipp_ok node2
assert_eq "$(count_msgs node1 received '^MESSAGE ')" 1 "requests at the old routing node"
finish
