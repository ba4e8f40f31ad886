#!/usr/bin/env bash
# A throw-away PKI for the benchmark (TEST ONLY): a CA, the sender alice@example.test as
# PKCS#12 (password "bench") and recipients bob@, 2bob@ and 3bob@partner.test (the names
# smtp-source -r 3 generates from -t bob@partner.test).
set -euo pipefail
D=$1; mkdir -p "$D"; cd "$D"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -sha256 \
  -subj "/O=Gateway BENCH TEST ONLY/CN=Gateway Bench CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
issue() {  # issue ADDRESS
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/O=Gateway BENCH TEST ONLY/CN=$1" 2>/dev/null
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=emailProtection" "subjectAltName=email:$1" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 12)" -days 30 -sha256 \
    -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
issue alice@example.test
openssl pkcs12 -export -inkey alice@example.test.key -in alice@example.test.crt -name alice@example.test \
  -passout pass:bench -out alice@example.test.p12
chmod 600 alice@example.test.p12
rm -f alice@example.test.key alice@example.test.crt
for r in bob 2bob 3bob; do issue "$r@partner.test"; rm -f "$r@partner.test.key"; done
rm -f ca.key
