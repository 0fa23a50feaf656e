#!/usr/bin/env bash
# The device check of the CUDA backend (docs/cuda.md), meant for one NVIDIA GPU (an H100) and
# 10 minutes:
#   1. build hearth with -DHEARTH_CUDA=ON (this card's architecture only, to build fast)
#   2. the CUDA op tests (test_cuda_ops: every kernel against the CPU reference, and
#      stories260K's logits on the GPU against the CPU's); skipped tests fail the check
#   3. stories260K greedy on the GPU: the 256 ids equal the CPU's and the reference
#   4. synth TinyLlama-1.1B and Mistral-7B shapes in BF16, Q8_0 and Q4_0: prompt processing
#      (pp512) and batch-1 decode (tg128) with every layer on the GPU, next to the card's
#      measured copy bandwidth (the decode roofline)
#   5. the baseline: transformers generate() in bf16 on a randomly initialized Mistral-7B
#   6. one table, and the issue's bars (decode >= 80% of the roofline for the 7B shape, and
#      >= 3x the transformers baseline)
#
# Usage: bench/gpu/check.sh [--cpu-only]
#   --cpu-only  what runs without a GPU: uses build/ as it is, stories260K with
#               --gpu-layers 0, the table code on a tiny synth model; no CUDA, no torch.
# Environment: HEARTH_CHECK_DIR (scratch for models, default /tmp/hearth-gpu-check),
#   HEARTH_TESTDATA (default ../shared/testdata), HEARTH_CHECK_SHAPES, HEARTH_CHECK_TYPES
#   (space-separated, to run a subset), CUDA_ARCH (default: the GPU's, else 90).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

CPU_ONLY=0
if [[ "${1:-}" == "--cpu-only" ]]; then CPU_ONLY=1; fi
TESTDATA=${HEARTH_TESTDATA:-$ROOT/../shared/testdata}
WORK=${HEARTH_CHECK_DIR:-/tmp/hearth-gpu-check}
VOCAB=$TESTDATA/vocab/ggml-vocab-llama-spm.gguf
STORIES=$TESTDATA/models/stories260K.gguf
mkdir -p "$WORK"
RESULTS=$WORK/results.tsv
: > "$RESULTS"
START=$(date +%s)

step() { printf '\n=== [%4ds] %s\n' "$(( $(date +%s) - START ))" "$*"; }
die() { echo "check.sh: $*" >&2; exit 1; }
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

for tool in cmake ninja python3; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/setup first (Debian packages)"
done
[[ -f "$STORIES" && -f "$VOCAB" ]] || die "no ground truth at $TESTDATA (set HEARTH_TESTDATA)"

# ---- 1. build ----
if [[ $CPU_ONLY == 1 ]]; then
  BUILD=$ROOT/build
  [[ -x $BUILD/hearth ]] || die "--cpu-only uses build/: run scripts/build first"
  SHAPES=${HEARTH_CHECK_SHAPES:-tiny-256}
  TYPES=${HEARTH_CHECK_TYPES:-Q8_0 Q4_0}
  GPU_FLAGS=(--gpu-layers 0)
else
  NVCC=${CUDACXX:-/usr/local/cuda/bin/nvcc}
  [[ -x $NVCC ]] || NVCC=$(command -v nvcc || true)
  [[ -n $NVCC && -x $NVCC ]] || die "no nvcc (install the CUDA toolkit or set CUDACXX)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  if [[ -z ${CUDA_ARCH:-} ]]; then
    CUDA_ARCH=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '.' || true)
    CUDA_ARCH=${CUDA_ARCH:-90}
  fi
  BUILD=$ROOT/build-gpu
  step "build with CUDA (sm_$CUDA_ARCH) into $BUILD"
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHEARTH_CUDA=ON \
    -DCMAKE_CUDA_COMPILER="$NVCC" -DCMAKE_CUDA_ARCHITECTURES="$CUDA_ARCH" \
    -DHEARTH_TESTDATA="$TESTDATA" -DHEARTH_BUILD_BENCH=OFF >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target hearth test_cuda_ops
  SHAPES=${HEARTH_CHECK_SHAPES:-tinyllama-1.1b mistral-7b}
  TYPES=${HEARTH_CHECK_TYPES:-BF16 Q8_0 Q4_0}
  GPU_FLAGS=(--gpu-layers auto)
fi
HEARTH=$BUILD/hearth
"$HEARTH" --version

# ---- 2. op tests ----
if [[ $CPU_ONLY == 0 ]]; then
  step "CUDA op tests"
  "$BUILD/tests/test_cuda_ops" | tee "$WORK/test_cuda_ops.log"
  if grep -q '\[  SKIPPED \]' "$WORK/test_cuda_ops.log"; then die "CUDA op tests were skipped: no device?"; fi
fi

# ---- 3. stories260K greedy: GPU ids = CPU ids = reference ----
step "stories260K greedy, ${GPU_FLAGS[*]} against the CPU"
"$HEARTH" run -m "$STORIES" -p '' --temp 0 -n 256 --json --gpu-layers 0 > "$WORK/stories_cpu.json"
"$HEARTH" run -m "$STORIES" -p '' --temp 0 -n 256 --json "${GPU_FLAGS[@]}" > "$WORK/stories_gpu.json"
python3 - "$WORK/stories_cpu.json" "$WORK/stories_gpu.json" "$TESTDATA/models/stories260K.greedy_bos.json" <<'PY'
import json, sys
cpu, gpu, ref = (json.load(open(p)) for p in sys.argv[1:4])
same = gpu["generated_ids"] == cpu["generated_ids"] == ref["generated_ids"]
first = next((i for i, (a, b) in enumerate(zip(gpu["generated_ids"], ref["generated_ids"])) if a != b), None)
print(f"stories260K: {len(gpu['generated_ids'])} ids, GPU == CPU == reference: {same}"
      + ("" if same else f" (first difference at {first})"))
sys.exit(0 if same else 1)
PY

# ---- 4. synth models: prompt processing and decode ----
for shape in $SHAPES; do
  for type in $TYPES; do
    model=$WORK/$shape-$type.gguf
    if [[ ! -s $model ]]; then
      step "synth $shape $type"
      "$HEARTH" synth --shape "$shape" --type "$type" --vocab "$VOCAB" -o "$model.part" >/dev/null
      mv "$model.part" "$model"
    fi
    step "bench $shape $type (${GPU_FLAGS[*]})"
    extra=()
    [[ $CPU_ONLY == 0 ]] && extra=(--gpu-bandwidth)
    "$HEARTH" bench -m "$model" -p 512 -n 128 -r 1 --json "${GPU_FLAGS[@]}" "${extra[@]}" > "$WORK/bench-$shape-$type.json"
    python3 - "$WORK/bench-$shape-$type.json" "$shape" "$type" >> "$RESULTS" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
bw = j["gpu_copy_bandwidth_gbs"] if j["roofline_from"] == "gpu" else j["mem_bandwidth_gbs"]
print("\t".join(str(x) for x in [f"hearth {sys.argv[2]}", sys.argv[3], f"{j['prompt_tok_s']:.1f}",
      f"{j['gen_tok_s']:.1f}", f"{bw:.0f} ({j['roofline_from']})", f"{j['roofline_tok_s']:.1f}",
      f"{j['roofline_pct']:.0f}%", j["placement"]]))
PY
    # The models are big (Mistral-7B BF16: 14.5 GB): keep only what the next run reuses.
    [[ $CPU_ONLY == 0 && $type == BF16 && $shape == mistral-7b ]] && rm -f "$model"
  done
done

# ---- 5. transformers baseline ----
if [[ $CPU_ONLY == 0 ]]; then
  step "baseline: transformers generate(), bf16, random Mistral-7B"
  python3 - >> "$RESULTS" <<'PY' || echo -e "transformers mistral-7b\tBF16\t-\tfailed\t-\t-\t-\t-" >> "$RESULTS"
import time, torch
from transformers import MistralConfig, MistralForCausalLM
cfg = MistralConfig(vocab_size=32000, hidden_size=4096, intermediate_size=14336,
                    num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
                    max_position_embeddings=32768, rope_theta=10000.0, sliding_window=4096)
torch.manual_seed(0)
with torch.device("cuda"):
    model = MistralForCausalLM(cfg).to(torch.bfloat16).eval()
prompt = torch.randint(0, cfg.vocab_size, (1, 512), device="cuda")
def gen(n):
    torch.cuda.synchronize(); t = time.time()
    model.generate(prompt, max_new_tokens=n, min_new_tokens=n, do_sample=False, pad_token_id=0)
    torch.cuda.synchronize(); return time.time() - t
with torch.inference_mode():
    gen(4)                       # warm-up
    t1 = gen(1)                  # prompt + one token: the prompt's time
    t128 = gen(129)
tg = 128 / max(t128 - t1, 1e-9)
print(f"transformers mistral-7b\tBF16\t{512 / t1:.1f}\t{tg:.1f}\t-\t-\t-\tcuda bf16 generate()")
PY
fi

# ---- 6. the table ----
step "results"
python3 - "$RESULTS" "$CPU_ONLY" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
head = ["model", "type", "pp512 tok/s", "tg128 tok/s", "bandwidth GB/s", "roofline tok/s", "% roofline", "placement"]
widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
print(line(head)); print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
for r in rows: print(line(r))
if sys.argv[2] == "1":
    print("\n(--cpu-only: no GPU numbers; the bars below need the GPU run)")
    sys.exit(0)
base = next((float(r[3]) for r in rows if r[0].startswith("transformers") and r[3] != "failed"), None)
ok = True
for r in rows:
    if r[0] == "hearth mistral-7b":
        pct = float(r[6].rstrip("%"))
        fast = base is not None and float(r[3]) >= 3 * base
        print(f"mistral-7b {r[1]}: decode {pct:.0f}% of roofline (bar 80%): {'ok' if pct >= 80 else 'BELOW'}; "
              f"{float(r[3]) / base if base else float('nan'):.1f}x transformers (bar 3x): {'ok' if fast else 'BELOW'}")
        ok = ok and pct >= 80 and fast
print("all bars met" if ok else "some bars not met")
PY
step "done"
