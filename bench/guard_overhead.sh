#!/usr/bin/env bash
# The content policy's overhead inside a server run (not a test): streams completions from
# 16 concurrent clients through `hearth serve` twice, without a policy and with
# bench/guard_policy.toml (rules + every PII detector on input and streamed output), and
# reports generated tok/s of both runs and, for the guarded run, the scanners' own time
# (hearth_guard_scan_seconds_total) against the run's generation time.
#
#   bench/guard_overhead.sh MODEL.gguf [extra serve options ...]
# Environment: HEARTH (default build/hearth), TOKENS (default 128), PER_CLIENT (default 2),
# CLIENTS (default 16).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: bench/guard_overhead.sh MODEL.gguf [serve options]}
shift
hearth=${HEARTH:-build/hearth}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

metric() {  # metric PORT NAME
  curl -sf "http://127.0.0.1:$1/metrics" | sed -n "s/^$2 //p"
}

run() {  # run LABEL [serve options]
  local label=$1
  shift
  "$hearth" serve -m "$model" --port 0 --max-running 16 "$@" >"$tmp/out" 2>"$tmp/log" &
  local pid=$! port=""
  for _ in $(seq 300); do
    port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$tmp/out")
    [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/log"; exit 1; }
    sleep 0.2
  done
  local t0 t1
  t0=$(date +%s.%N)
  node bench/serve_load.cjs "http://127.0.0.1:$port" --levels "${CLIENTS:-16}" --tokens "${TOKENS:-128}" \
    --requests-per-client "${PER_CLIENT:-2}" --json >"$tmp/$label.json"
  t1=$(date +%s.%N)
  local scan tokens
  scan=$(metric "$port" hearth_guard_scan_seconds_total)
  tokens=$(metric "$port" hearth_generated_tokens_total)
  kill -TERM "$pid"
  wait "$pid" || true
  python3 - "$label" "$tmp/$label.json" "$t0" "$t1" "$scan" "$tokens" <<'PY'
import json, sys
label, path, t0, t1, scan, tokens = sys.argv[1:]
row = json.load(open(path))[0]
wall = float(t1) - float(t0)
scan = float(scan or 0)
print(f"{label:10s} clients={row['clients']} tokens={int(float(tokens))} tok/s={row['tok_s']:.1f} "
      f"wall={wall:.2f}s scanner={scan * 1000:.1f}ms scanner/wall={100 * scan / wall:.2f}% "
      f"scanner/token={1e6 * scan / max(1, float(tokens)):.1f}us")
PY
}

echo "model: $model ($(nproc) CPUs)"
run plain "$@"
run guarded --policy bench/guard_policy.toml "$@"
