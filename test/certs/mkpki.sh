#!/bin/sh
# mkpki.sh DIR [PROXY_FQDN] [PARTNER_FQDN]
# mkpki.sh --leaf DIR NAME DNS_NAME...
#
# Makes a throw-away PKI for tests and for `make run` with certtool (ECDSA
# P-256 keys everywhere):
#   ca.pem ca.key                 root CA
#   int.pem int.key               intermediate CA, signed by the root
#   fedproxy.pem fedproxy.key     our leaf (SAN: PROXY_FQDN, IP 127.0.0.1;
#   fedproxy-chain.pem            EKU serverAuth+clientAuth), chain = leaf+int
#   partner.pem partner.key       a foreign edge's leaf (SAN: PARTNER_FQDN),
#   partner-chain.pem             signed by the intermediate, chain = leaf+int
#   rogue-ca.pem rogue.pem        an untrusted CA and a leaf it signed
#   rogue.key                     (same SAN as the partner)
#   expired.pem expired.key       signed by the intermediate, validity in the past
# Does nothing when DIR/ca.pem exists already. Quiet unless something fails.
#
# --leaf: one more edge leaf in the PKI that DIR already holds, signed by its
# intermediate (EKU serverAuth+clientAuth, CN = the first DNS_NAME, a DNS SAN
# per DNS_NAME): NAME.pem NAME.key NAME-chain.pem. Does nothing when
# DIR/NAME.pem exists already.
set -eu

usage() {
    echo "usage: $0 DIR [PROXY_FQDN] [PARTNER_FQDN]" >&2
    echo "       $0 --leaf DIR NAME DNS_NAME..." >&2
    exit 2
}
leaf=
if [ "${1:-}" = --leaf ]; then
    [ $# -ge 4 ] || usage
    dir=$2 leaf=$3
    shift 3
    case $leaf in '' | */* | .*) usage ;; esac
    if [ ! -f "$dir/int.pem" ] || [ ! -f "$dir/int.key" ]; then
        echo "mkpki.sh: $dir holds no PKI (int.pem, int.key)" >&2
        exit 1
    fi
    [ -f "$dir/$leaf.pem" ] && exit 0
else
    case $# in 1 | 2 | 3) ;; *) usage ;; esac
    dir=$1
    proxy_fqdn=${2:-fedproxy.example.test}
    partner_fqdn=${3:-edge.partner.example.test}
    [ -f "$dir/ca.pem" ] && exit 0
    mkdir -p "$dir"
fi
dir=$(cd "$dir" && pwd)
# Build in a scratch directory inside DIR and move the files in at the end, so
# an interrupted run never leaves a DIR/ca.pem that would make the next run skip.
work=$(mktemp -d "$dir/.mkpki.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

run() { # certtool with its output captured; shown only on failure
    if ! certtool "$@" >log 2>&1; then
        cat log >&2
        echo "mkpki.sh: certtool $* failed" >&2
        exit 1
    fi
}

newkey() { run --generate-privkey --key-type=ecdsa --curve=secp256r1 --no-text --outfile="$1.key"; }

# tmpl NAME LINE...: writes NAME.tmpl, one template line per argument.
tmpl() { name=$1; shift; printf '%s\n' "$@" >"$name.tmpl"; }

# selfsigned NAME: a root CA from NAME.tmpl.
selfsigned() {
    newkey "$1"
    run --generate-self-signed --load-privkey="$1.key" --template="$1.tmpl" \
        --no-text --outfile="$1.pem"
}

# signed NAME ISSUER: a certificate from NAME.tmpl signed by ISSUER.pem/.key.
signed() {
    newkey "$1"
    run --generate-certificate --load-privkey="$1.key" --template="$1.tmpl" \
        --load-ca-certificate="$2.pem" --load-ca-privkey="$2.key" \
        --no-text --outfile="$1.pem"
}

ca_lines='ca
cert_signing_key
crl_signing_key'
leaf_lines='tls_www_server
tls_www_client
signing_key'

if [ -n "$leaf" ]; then
    # the template: CN and one dns_name line per name (the first is the CN)
    tmpl "$leaf" "cn = \"$1\"" 'expiration_days = 825' "$leaf_lines"
    for name; do
        printf 'dns_name = "%s"\n' "$name" >>"$leaf.tmpl"
    done
    signed "$leaf" "$dir/int"
    cat "$leaf.pem" "$dir/int.pem" >"$leaf-chain.pem"
    chmod 600 "$leaf.key"
    # NAME.pem goes last: it is the "already made" marker.
    mv "$leaf.key" "$leaf-chain.pem" "$dir/"
    mv "$leaf.pem" "$dir/"
    exit 0
fi

tmpl ca 'cn = "fedproxy test root CA"' 'organization = "fedproxy tests"' \
    'expiration_days = 3650' "$ca_lines"
selfsigned ca

tmpl int 'cn = "fedproxy test intermediate CA"' 'organization = "fedproxy tests"' \
    'expiration_days = 3650' 'path_len = 0' "$ca_lines"
signed int ca

tmpl fedproxy "cn = \"$proxy_fqdn\"" "dns_name = \"$proxy_fqdn\"" \
    'ip_address = "127.0.0.1"' 'expiration_days = 825' "$leaf_lines"
signed fedproxy int

tmpl partner "cn = \"$partner_fqdn\"" "dns_name = \"$partner_fqdn\"" \
    'expiration_days = 825' "$leaf_lines"
signed partner int

tmpl rogue-ca 'cn = "untrusted rogue CA"' 'expiration_days = 3650' "$ca_lines"
selfsigned rogue-ca
cp partner.tmpl rogue.tmpl
signed rogue rogue-ca

tmpl expired "cn = \"$partner_fqdn\"" "dns_name = \"$partner_fqdn\"" \
    'activation_date = "2020-01-01 00:00:00 UTC"' \
    'expiration_date = "2021-01-01 00:00:00 UTC"' "$leaf_lines"
signed expired int

cat fedproxy.pem int.pem >fedproxy-chain.pem
cat partner.pem int.pem >partner-chain.pem
chmod 600 ./*.key

# ca.pem goes last: it is the "already made" marker.
for f in int fedproxy partner rogue-ca rogue expired; do
    mv "$f.pem" "$f.key" "$dir/"
done
mv fedproxy-chain.pem partner-chain.pem ca.key "$dir/"
mv ca.pem "$dir/"
