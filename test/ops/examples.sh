#!/usr/bin/env bash
# Every example config in etc/examples passes `fedproxy -t`, given the PKI
# files it names (made here with test/certs/mkpki.sh); and -t refuses an
# expired certificate and a key that does not match its certificate, naming
# the line of the culprit.
set -euo pipefail
: "${FEDPROXY:?}" "${SOURCE_ROOT:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash "$SOURCE_ROOT/test/certs/mkpki.sh" "$work/pki"
# The AOL example presents a separate client certificate.
cp "$work/pki/fedproxy-chain.pem" "$work/pki/fedproxy-client-chain.pem"
cp "$work/pki/fedproxy.key" "$work/pki/fedproxy-client.key"
cp "$SOURCE_ROOT/etc/presence-map.conf" "$work/"
failed=0
for example in "$SOURCE_ROOT"/etc/examples/*.conf; do
	cp "$example" "$work/"
	conf="$work/$(basename "$example")"
	if out=$("$FEDPROXY" -c "$conf" -t 2>&1); then
		echo "ok: $(basename "$example")"
	else
		echo "FAIL: $(basename "$example") does not pass -t:"
		echo "$out"
		failed=1
	fi
done

# expect_refusal NAME CERT KEY LINE_OF_CULPRIT WORDS: a config whose
# [external] certificate/key are CERT/KEY is refused at that line.
expect_refusal() {
	local conf="$work/$1.conf" out
	sed -e "s|^certificate = .*|certificate = $2|" -e "s|^key = .*|key = $3|" \
		"$SOURCE_ROOT/etc/examples/office365.conf" >"$conf"
	if out=$("$FEDPROXY" -c "$conf" -t 2>&1); then
		echo "FAIL: $1 passed -t"
		failed=1
	elif grep -q "$conf:$4: .*$5" <<<"$out"; then
		echo "ok: $1 refused at line $4"
	else
		echo "FAIL: $1: no '$conf:$4: ...$5' in:"
		echo "$out"
		failed=1
	fi
}
line_of() { grep -n "^$1 = " "$SOURCE_ROOT/etc/examples/office365.conf" | cut -d: -f1; }
expect_refusal expired pki/expired.pem pki/expired.key "$(line_of certificate)" "expired"
expect_refusal key-mismatch pki/fedproxy-chain.pem pki/partner.key "$(line_of key)" "cannot use key"
exit $failed
