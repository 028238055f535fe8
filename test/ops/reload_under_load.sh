#!/usr/bin/env bash
# Reload everywhere: 20 SIGHUPs, alternating a broken config (an unknown key
# on a known line) and a good one, while a foreign edge sends 1000 MESSAGEs
# (50/s) over mutual TLS. Every MESSAGE gets its 200 (sipp counts no failed
# call), `fedproxyctl stats` shows reloads ok 10 and failed 10, the log
# names FILE:LINE of the broken file 10 times, and the proxy's RSS levels
# off: 40 more reloads after the load add little.
# shellcheck source-path=SCRIPTDIR source=opslib.sh
. "$(dirname "$0")/opslib.sh"
ops_init ops-reload-load 24400

COUNT=1000
RATE=50
# RSS growth allowed (kB): for the load with its reloads (1000 finished
# transactions, 10 new snapshots), and over the 40 reloads after it.
RSS_LOAD_KB=4096
RSS_SLACK_KB=1024

run_proxy_with_edge
make_configs
rss_start=$(rss_kb)

node_for "$COUNT"
sipp_load edge "$COUNT" "$RATE"
# Let the load get going, then reload 20 times (0.4 s apart: about 8 s of
# the 20 s the load lasts).
wait_grep "$T/edge.msg" '^SIP/2\.0 200 ' 10 "first 200 at the foreign sipp"
GAP=0.4 flip_reloads 1 20
alive edge || fail "the load ended before the 20th reload: the reloads did not happen under load"
sipp_finish edge $((COUNT / RATE + 30))
sipp_finish node 10
assert_all_answered edge "$COUNT"
assert_eq "$(count_msgs node received '^MESSAGE ')" "$COUNT" "MESSAGEs at the routing node"

ctl_ok stats stats
assert_reloads "$CTL_OUT" 10 10
assert_eq "$(grep -cF -- "$CONF:$BROKEN_LINE: " "$T/proxy.log")" 10 \
	"log lines naming $CONF:$BROKEN_LINE"
assert_eq "$(grep -c 'reload done: ' "$T/proxy.log")" 10 "reloads done in the log"

# Memory: after the load and its reloads, 40 more reloads (20 of them
# loading the certificates again) must not keep adding to the RSS.
rss_loaded=$(rss_kb)
say "RSS: ${rss_start} kB at start, ${rss_loaded} kB after $COUNT MESSAGEs and 20 reloads"
((rss_loaded - rss_start <= RSS_LOAD_KB)) ||
	fail "RSS grew by $((rss_loaded - rss_start)) kB over $COUNT MESSAGEs and 20 reloads (allowed $RSS_LOAD_KB)"
GAP=0.05 flip_reloads 21 40
rss_after=$(rss_kb)
say "RSS: ${rss_after} kB after 40 more reloads"
((rss_after - rss_loaded <= RSS_SLACK_KB)) ||
	fail "RSS grew by $((rss_after - rss_loaded)) kB over 40 reloads without load (allowed $RSS_SLACK_KB)"
ctl_ok stats-after stats
assert_reloads "$CTL_OUT" 30 30
finish
