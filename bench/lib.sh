# Shell functions shared by bench/run and bench/ab (sourced, not run). They expect W (the run's
# temporary folder), PIDS (an array of what to stop on exit), SESSIONS and WARMUP; the gateway
# is started from GW_APP (default $W/app) with the policy files policy() writes into $W.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "error: nothing listens on $1" >&2; return 1; }
now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }

SINK_LOG=""
start_sink() {  # start_sink -> sets SINK_PORT, SINK_LOG
  # Not in $W: the gateway watches the folder of its policy file, and the sink writes its
  # counters once per message.
  SINK_PORT=$(free_port); SINK_LOG="$W/sinks/sink-$SINK_PORT.log"; mkdir -p "$W/sinks"
  smtp-sink -u nobody -c "127.0.0.1:$SINK_PORT" 1024 >"$SINK_LOG" 2>&1 & PIDS+=($!); SINK_PID=$!
  wait_port "$SINK_PORT"
}
sink_count() { tr '\r' '\n' <"$SINK_LOG" | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2 || true; }
wait_sink() {  # wait_sink COUNT TIMEOUT_S -> prints the time the sink had COUNT messages
  python3 bench/sink_wait.py "$SINK_LOG" "$1" "$2"
}

policy() {  # policy NAME SIGN ENCRYPT
  printf '{ "default": { "sign": "%s", "encrypt": "%s", "missingCertificate": "refuse" } }\n' "$2" "$3" >"$W/$1.policy.json"
}

start_gateway() {  # start_gateway NAME POLICY SIZE RECIPIENTS -> GW_PORT, GW_PID, GW_SINK_LOG, GW_SENT; warmed up
  local name=$1 pol=$2 size=$3 rcpts=$4
  GW_PORT=$(free_port); start_sink; GW_SINK_LOG=$SINK_LOG; GW_SINK_PID=$SINK_PID; rm -rf "$W/var"
  Gateway__Smtp__Port=$GW_PORT Gateway__Smtp__MaxMessageSize=104857600 \
  Gateway__Relay__Host=127.0.0.1 Gateway__Relay__Port=$SINK_PORT Gateway__Relay__TlsMode=None \
  Gateway__Spool__Path="$W/var/spool" Gateway__Audit__Path="$W/var/audit.jsonl" \
  Gateway__Policy__Path="$W/$pol.policy.json" Gateway__Certificates__Path="$W/certs" \
  Gateway__Certificates__TrustAnchors__0="$W/certs/ca.crt" Gateway__Certificates__Pkcs12Password=bench \
  Logging__LogLevel__Default=Warning \
    dotnet "${GW_APP:-$W/app}/gateway.dll" run --config "$W/none.json" >"$W/gateway-$name.log" 2>&1 & GW_PID=$!; PIDS+=($GW_PID)
  wait_port "$GW_PORT"
  # Warm-up, not measured: a gateway runs for weeks, and the first messages of a fresh process
  # pay for JIT compilation, pools and caches. After 1,000 messages the runtime was still
  # compiling hot methods: pass-through measured 0.8 CPU ms per message then, 0.5 after 3,000.
  # A 1 MB scenario gets the small messages' warm-up too (most of its path is theirs), then 100
  # of its own for the paths only large messages take (spool and work files): with 20 of its own
  # alone, the runtime's JIT still took 9 % of the gateway's CPU in the measured messages (perf).
  local warm_small=$(( size <= 10485760 ? WARMUP : 0 )) warm=$(( size <= 102400 ? 0 : size <= 10485760 ? 100 : 0 ))
  if (( warm_small > 0 )); then
    smtp-source -s $SESSIONS -m "$warm_small" -l 10240 -r "$rcpts" -f alice@example.test -t bob@partner.test -M bench.example.test "127.0.0.1:$GW_PORT"
  fi
  if (( warm > 0 )); then
    smtp-source -s $SESSIONS -m "$warm" -l "$size" -r "$rcpts" -f alice@example.test -t bob@partner.test -M bench.example.test "127.0.0.1:$GW_PORT"
  fi
  GW_SENT=$((warm_small + warm))
  if (( GW_SENT > 0 )); then
    wait_sink "$GW_SENT" 300 >/dev/null
    sleep 1 # the runtime compiles hot methods in the background for a while after they get hot
  fi
}

measure_gateway() {  # measure_gateway COUNT SIZE RECIPIENTS -> GW_RATE (msg/s), GW_CPU (CPU s per 1,000 messages, or ms per message)
  local count=$1 size=$2 rcpts=$3 cpu0 cpu1 t0 t1
  SINK_LOG=$GW_SINK_LOG
  cpu0=$(awk '{print $14+$15}' "/proc/$GW_PID/stat"); t0=$(now)
  smtp-source -s $SESSIONS -m "$count" -l "$size" -r "$rcpts" -f alice@example.test -t bob@partner.test -M bench.example.test "127.0.0.1:$GW_PORT"
  t1=$(wait_sink $((GW_SENT + count)) 600)
  cpu1=$(awk '{print $14+$15}' "/proc/$GW_PID/stat")
  GW_SENT=$((GW_SENT + count))
  GW_RATE=$(calc "round($count/($t1-$t0), 1)")
  GW_CPU=$(calc "round(($cpu1-$cpu0)/$(getconf CLK_TCK)/$count*1000, 3)")
}

stop_gateway() { kill "$GW_PID" "$GW_SINK_PID"; wait "$GW_PID" "$GW_SINK_PID" 2>/dev/null || true; }
