#!/usr/bin/env bash
# Send one demo MESSAGE through a fedproxy started by `make run`: play the
# inside routing node with sipp on 127.0.0.1:5070, and a foreign edge with
# gnutls-cli presenting the demo partner certificate on 127.0.0.1:5061.
# Prints the message the routing node received and the response that came
# back to the foreign edge.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
pki="$top/build/demo/pki"
work=$(mktemp -d)
trap 'kill "$uas" 2>/dev/null || true; rm -rf "$work"' EXIT

sipp -sf "$top/test/demo/routing-node.xml" -t t1 -i 127.0.0.1 -p 5070 -m 1 \
	-trace_msg -message_file "$work/node.log" -timeout 10 >/dev/null 2>&1 &
uas=$!
sleep 0.5

body="Hello from partner.example.test"
printf 'MESSAGE sip:bob@example.test SIP/2.0\r\nVia: SIP/2.0/TLS edge.partner.example.test:5061;branch=z9hG4bK%s\r\nMax-Forwards: 70\r\nFrom: <sip:alice@partner.example.test>;tag=demo\r\nTo: <sip:bob@example.test>\r\nCall-ID: demo-%s@partner.example.test\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s' \
	"$RANDOM$RANDOM" "$RANDOM" "${#body}" "$body" >"$work/request"

echo "== response seen by the foreign edge"
(cat "$work/request"; sleep 1) | gnutls-cli --logfile=/dev/null --x509cafile "$pki/ca.pem" \
	--x509certfile "$pki/partner-chain.pem" --x509keyfile "$pki/partner.key" \
	--sni-hostname fedproxy.example.test -p 5061 127.0.0.1 2>/dev/null | sed -n '/^SIP\/2.0/,/^\r*$/p'
wait "$uas" 2>/dev/null || true
echo "== request received by the routing node"
sed -n '/^MESSAGE/,$p' "$work/node.log" | sed '/^---/,$d'
