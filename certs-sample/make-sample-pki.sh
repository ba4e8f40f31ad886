#!/usr/bin/env bash
# make-sample-pki.sh - build the TEST-ONLY sample PKI used by the Gateway walkthrough.
#
#   !!! TEST ONLY - NEVER USE THESE KEYS IN PRODUCTION !!!
#   Every private key this script writes is published in the repository.
#
# Produces, in the folder this script lives in (overwriting earlier output):
#   ca.crt, ca.key                       sample CA (RSA-3072, 7305 days)
#   alice@example.test.p12               internal sender: key + cert + CA cert
#                                        (password "sample-only", legacy PBE-SHA1-3DES
#                                        so GnuPG gpgsm 2.2 can import it)
#   alice@example.test.crt               alice's certificate (public part)
#   bob@partner.test.crt/.key            external recipient (unencrypted PEM key)
#   carol@partner.test.crt/.key          external recipient (unencrypted PEM key)
# Deliberately no certificate for erin@partner.test nor dave@elsewhere.test.
#
# Requires only OpenSSL 3. Runnable from any working directory.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

ORG="Gateway TEST ONLY - not for production"
CA_CN="Gateway Sample Test CA (TEST ONLY)"
CA_DAYS=7305    # ~20 years: the CA must outlive the leaves
LEAF_DAYS=3653  # ~10 years
P12_PASS="sample-only"
INTERNAL_SENDER="alice@example.test"
EXTERNAL_RECIPIENTS=("bob@partner.test" "carol@partner.test")

command -v openssl >/dev/null || { echo "openssl not found" >&2; exit 1; }
case "$(openssl version)" in
    "OpenSSL 3."*) ;;
    *) echo "OpenSSL 3 required, found: $(openssl version)" >&2; exit 1 ;;
esac

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Random positive serial: 16 bytes, first nibble 1..7 (top bit clear, non-zero).
random_serial() {
    printf '0x%x%s' $((RANDOM % 7 + 1)) "$(openssl rand -hex 15)"
}

new_rsa_key() { # <bits> <outfile>
    openssl genpkey -quiet -algorithm RSA -pkeyopt "rsa_keygen_bits:$1" -out "$2"
}

# Remove previous output and any stray temporary files.
rm -f ca.crt ca.key ca.srl ./*.csr ./*.ext ./*.srl \
      "$INTERNAL_SENDER.p12" "$INTERNAL_SENDER.crt" "$INTERNAL_SENDER.key"
for addr in "${EXTERNAL_RECIPIENTS[@]}"; do
    rm -f "$addr.crt" "$addr.key"
done

# ---------------------------------------------------------------- CA
cat > "$WORK/ca.cnf" <<EOF
[ req ]
distinguished_name = dn
prompt             = no
x509_extensions    = v3_ca
default_md         = sha256
utf8               = yes
string_mask        = utf8only

[ dn ]
O  = $ORG
CN = $CA_CN

[ v3_ca ]
basicConstraints     = critical, CA:TRUE
keyUsage             = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF

echo "==> CA: $CA_CN"
new_rsa_key 3072 ca.key
openssl req -new -x509 -config "$WORK/ca.cnf" -key ca.key -sha256 \
    -days "$CA_DAYS" -set_serial "$(random_serial)" -out ca.crt

# ---------------------------------------------------------------- leaves
cat > "$WORK/leaf.ext" <<'EOF'
[ v3_smime ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = emailProtection
subjectAltName         = email:${ENV::LEAF_EMAIL}
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
EOF

# issue_leaf <address> <keyfile> <certfile>
issue_leaf() {
    local addr="$1" key="$2" crt="$3"
    echo "==> leaf: $addr"
    new_rsa_key 2048 "$key"
    openssl req -new -key "$key" -sha256 -utf8 \
        -subj "/O=$ORG/CN=$addr" -out "$WORK/$addr.csr"
    LEAF_EMAIL="$addr" openssl x509 -req -in "$WORK/$addr.csr" \
        -CA ca.crt -CAkey ca.key -set_serial "$(random_serial)" \
        -days "$LEAF_DAYS" -sha256 \
        -extfile "$WORK/leaf.ext" -extensions v3_smime -out "$crt"
}

# Internal sender: the key only ever lives inside the PKCS#12 file.
issue_leaf "$INTERNAL_SENDER" "$WORK/$INTERNAL_SENDER.key" "$INTERNAL_SENDER.crt"
openssl pkcs12 -export \
    -inkey "$WORK/$INTERNAL_SENDER.key" -in "$INTERNAL_SENDER.crt" -certfile ca.crt \
    -name "$INTERNAL_SENDER" -caname "$CA_CN" \
    -certpbe PBE-SHA1-3DES -keypbe PBE-SHA1-3DES -macalg sha1 \
    -passout "pass:$P12_PASS" -out "$INTERNAL_SENDER.p12"

# External recipients: certificate plus unencrypted private key (public on purpose).
for addr in "${EXTERNAL_RECIPIENTS[@]}"; do
    issue_leaf "$addr" "$addr.key" "$addr.crt"
done

chmod 0644 ca.crt ca.key ./*.crt ./*.key ./*.p12
rm -f ./*.csr ./*.ext ./*.srl

# ---------------------------------------------------------------- verification
echo
echo "==> verification"
fail=0

# Alice: use the certificate extracted from the PKCS#12 file, and check it is
# the same as the published .crt and matches the key inside the .p12.
openssl pkcs12 -in "$INTERNAL_SENDER.p12" -passin "pass:$P12_PASS" \
    -clcerts -nokeys | openssl x509 -out "$WORK/p12-leaf.crt"
openssl pkcs12 -in "$INTERNAL_SENDER.p12" -passin "pass:$P12_PASS" \
    -nocerts -nodes | openssl pkey -pubout -out "$WORK/p12-key.pub"
cmp -s "$WORK/p12-leaf.crt" "$INTERNAL_SENDER.crt" \
    || { echo "FAIL: $INTERNAL_SENDER.crt differs from the certificate in the .p12" >&2; fail=1; }

check_key_matches() { # <certfile> <pubkey-pem-file> <label>
    if cmp -s <(openssl x509 -in "$1" -noout -pubkey) "$2"; then
        echo "$3: private key matches certificate"
    else
        echo "FAIL: $3: private key does not match certificate" >&2; fail=1
    fi
}
check_key_matches "$WORK/p12-leaf.crt" "$WORK/p12-key.pub" "$INTERNAL_SENDER.p12"

verify_leaf() { # <certfile> <label>
    local purpose out
    for purpose in smimesign smimeencrypt; do
        if out="$(openssl verify -x509_strict -CAfile ca.crt -purpose "$purpose" "$1" 2>&1)" \
            && [[ "$out" == *": OK" ]]; then
            echo "$2 [$purpose]: ${out##*: }"
        else
            echo "FAIL: $2 [$purpose]: $out" >&2; fail=1
        fi
    done
}

verify_leaf "$WORK/p12-leaf.crt" "$INTERNAL_SENDER (from .p12)"
for addr in "${EXTERNAL_RECIPIENTS[@]}"; do
    check_key_matches "$addr.crt" <(openssl pkey -in "$addr.key" -pubout) "$addr.key"
    verify_leaf "$addr.crt" "$addr"
done

echo
for c in ca.crt "$INTERNAL_SENDER.crt" "${EXTERNAL_RECIPIENTS[@]/%/.crt}"; do
    printf '%-24s %s\n' "$c" "$(openssl x509 -in "$c" -noout -enddate)"
done

if [[ $fail -ne 0 ]]; then
    echo "VERIFICATION FAILED" >&2
    exit 1
fi
echo "All sample certificates verified OK (TEST ONLY - never use in production)."
