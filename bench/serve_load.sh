#!/usr/bin/env bash
# Starts `hearth serve` on a model, runs bench/serve_load.cjs against it at 1, 4 and 16
# concurrent streams, and stops the server. Not a test: it takes minutes on a real model.
#
#   bench/serve_load.sh MODEL.gguf [extra serve options ...]
#
# For the README's numbers: a synthetic TinyLlama-1.1B Q4_0 (random weights, real shapes):
#   build/hearth synth --shape tinyllama-1.1b --type Q4_0 \
#       --vocab ../shared/testdata/vocab/ggml-vocab-llama-spm.gguf -o /tmp/tinyllama-q4_0.gguf
#   bench/serve_load.sh /tmp/tinyllama-q4_0.gguf
# Environment: HEARTH (the binary, default build/hearth), TOKENS (per request, default 128),
# LEVELS (default 1,4,16), PER_CLIENT (requests per client, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: bench/serve_load.sh MODEL.gguf [serve options]}
shift
hearth=${HEARTH:-build/hearth}
log=$(mktemp)
out=$(mktemp)
"$hearth" serve -m "$model" --port 0 --max-running 16 "$@" >"$out" 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log" "$out"' EXIT
for _ in $(seq 300); do
  port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$out")
  [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.2
done
echo "model: $model ($(nproc) CPUs)"
node bench/serve_load.cjs "http://127.0.0.1:$port" --levels "${LEVELS:-1,4,16}" \
  --tokens "${TOKENS:-128}" --requests-per-client "${PER_CLIENT:-2}"
kill -TERM "$pid"
wait "$pid"
