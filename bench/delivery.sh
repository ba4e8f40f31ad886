#!/usr/bin/env bash
# End-to-end delivery rate: smtp-source -> Gateway -> smtp-sink (package postfix), loopback.
#
#   bench/delivery.sh GATEWAY_DLL [MESSAGES] [SESSIONS] [BODY_BYTES]
#
# Runs two cases with the repository's policy.json and certs-sample/:
#   pass-through   dave@other.test -> frank@elsewhere.test (relayed unchanged)
#   sign+encrypt   alice@example.test -> bob@partner.test  (signed and encrypted)
# The clock runs from the first message sent until the audit log counts MESSAGES "delivered"
# lines, so the figure is what leaves the gateway, not only what it accepts.
# Prints one line per case: accepted msg/s (smtp-source done), delivered msg/s and the CPU
# seconds the gateway process used.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
DLL=$(realpath "$1"); M=${2:-1000}; S=${3:-4}; L=${4:-10240}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d /tmp/gateway-bench.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cleanup() { [[ -n ${GW:-} ]] && kill "$GW" 2>/dev/null || true; [[ -n ${SINK:-} ]] && kill "$SINK" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

SINK_PORT=$(free_port)
smtp-sink -u nobody "127.0.0.1:$SINK_PORT" 256 >"$WORK/sink.log" 2>&1 & SINK=$!

run_case() { # NAME FROM TO
  local name=$1 from=$2 to=$3 port dir t0 t1 t2 n
  port=$(free_port); dir="$WORK/$name"; mkdir -p "$dir"
  cat >"$dir/appsettings.json" <<JSON
{ "Gateway": {
    "Smtp": { "Address": "127.0.0.1", "Port": $port, "AllowedNetworks": [ "127.0.0.0/8" ], "ServerName": "gateway.bench" },
    "Relay": { "Host": "127.0.0.1", "Port": $SINK_PORT, "TlsMode": "None" },
    "Spool": { "Path": "$dir/spool" },
    "Audit": { "Path": "$dir/audit.jsonl" },
    "Policy": { "Path": "$REPO/policy.json" },
    "Certificates": { "Path": "$REPO/certs-sample", "TrustAnchors": [ "$REPO/certs-sample/ca.crt" ], "Pkcs12Password": "sample-only" } },
  "Logging": { "LogLevel": { "Default": "Warning" } } }
JSON
  (cd "$dir" && exec dotnet "$DLL" run --config "$dir/appsettings.json" >"$dir/gateway.log" 2>&1) & GW=$!
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  t0=$(date +%s.%N)
  smtp-source -s "$S" -m "$M" -l "$L" -f "$from" -t "$to" -M client.bench "127.0.0.1:$port"
  t1=$(date +%s.%N)
  while :; do
    n=$(grep -c '"event":"delivered"' "$dir/audit.jsonl" 2>/dev/null || true)
    [[ ${n:-0} -ge $M ]] && break
    sleep 0.05
  done
  t2=$(date +%s.%N)
  # CPU the gateway used (user+system, includes its start-up): steadier than wall time on a busy machine.
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{print ($14+$15)/hz}' "/proc/$GW/stat")
  kill "$GW"; wait "$GW" 2>/dev/null || true; GW=
  printf '%-13s messages=%d sessions=%d body=%dB  accepted %6.1f msg/s  delivered %6.1f msg/s  gateway CPU %5.2f s\n' \
    "$name" "$M" "$S" "$L" "$(echo "$M/($t1-$t0)" | bc -l)" "$(echo "$M/($t2-$t0)" | bc -l)" "$cpu"
}

run_case pass-through dave@other.test frank@elsewhere.test
run_case sign+encrypt alice@example.test bob@partner.test
