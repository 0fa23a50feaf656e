// hearth bench: prompt-processing and generation speed, like llama-bench, next to this
// machine's measured memory bandwidth (the roofline for generation).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "backends/devices.h"
#include "commands.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "engine/model_loader.h"
#include "fit/bandwidth.h"
#include "gpu_layers.h"
#include "models/model.h"
#include "ops/ops.h"

namespace hearth::cli {
namespace {

struct BenchOptions {
  std::string model;
  int64_t n_prompt = 512;
  int64_t n_gen = 128;
  int threads = 0;
  int repetitions = 2;
  int parallel = 0;          // > 1: also time this many sequences decoding together
  int64_t parallel_prompt = 64;  // each parallel sequence's prompt
  bool json = false;
  std::string gpu_layers = "0";  // auto or N: layers on the GPU (as `hearth run`)
  bool gpu_bandwidth = false;    // measure the GPU's copy bandwidth (the GPU roofline)
  std::string kv_type = "auto";  // the CPU KV cache's element type (as `hearth run`)
};

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Generated tokens are timed in segments of this many, with the read bandwidth sampled
// between segments (outside the timed spans): the roofline of a segment is the bandwidth
// read just before and just after it, so a shared host's swings (tens of percent within a
// minute on the development VM) move the roofline and the speed together.
constexpr int64_t kGenSegment = 16;

struct GenSegment {
  int64_t tokens = 0;
  double seconds = 0;
  double read_gbs = 0;  // the mean of the readings before and after the segment
};

struct Timing {
  double prompt_s = 0, gen_s = 0;
  std::vector<GenSegment> segments;  // empty without a probe
};

// One repetition: n_prompt tokens in one batch, then n_gen tokens one at a time after them;
// with a probe, the bandwidth is read before the first generated token and after every
// kGenSegment tokens.
Timing run_once(Model& m, ThreadPool& pool, const BenchOptions& o, std::mt19937& rng,
                BandwidthProbe* probe = nullptr) {
  const auto& c = m.config();
  kv::KVCache cache(m.kv_config(o.n_prompt + o.n_gen + 1));
  cache.reserve(0, o.n_prompt + o.n_gen + 1);
  std::vector<float> logits(c.n_vocab);
  std::uniform_int_distribution<int32_t> tok(0, static_cast<int32_t>(c.n_vocab - 1));
  Timing t;
  Batch b;
  for (int64_t i = 0; i < o.n_prompt; ++i) b.add(tok(rng), static_cast<int32_t>(i), 0, i + 1 == o.n_prompt);
  double t0 = now_s();
  if (o.n_prompt > 0) m.forward(b, cache, logits.data(), pool);
  t.prompt_s = now_s() - t0;
  double before_gbs = probe && o.n_gen > 0 ? probe->read_gbs(1) : 0;
  for (int64_t i0 = 0; i0 < o.n_gen; i0 += kGenSegment) {
    const int64_t i1 = std::min(o.n_gen, i0 + kGenSegment);
    t0 = now_s();
    for (int64_t i = i0; i < i1; ++i) {
      b.clear();
      b.add(tok(rng), static_cast<int32_t>(o.n_prompt + i), 0, true);
      m.forward(b, cache, logits.data(), pool);
    }
    const double seconds = now_s() - t0;
    t.gen_s += seconds;
    if (probe) {
      const double after_gbs = probe->read_gbs(1);
      t.segments.push_back({i1 - i0, seconds, (before_gbs + after_gbs) / 2});
      before_gbs = after_gbs;
    }
  }
  return t;
}

// Batched decode: n_seqs sequences, each after its own prompt of n_prompt tokens, generate
// n_gen tokens each, all stepping together (one forward call of n_seqs tokens per step, as
// the server's scheduler runs them). Returns generated tokens per second, all sequences.
double batched_decode_tok_s(Model& m, ThreadPool& pool, int n_seqs, int64_t n_prompt,
                            int64_t n_gen, std::mt19937& rng) {
  const auto& c = m.config();
  constexpr int64_t kBlock = 16;  // the KV cache's block size: each sequence takes whole blocks
  const int64_t per_seq = (n_prompt + n_gen + 1 + kBlock - 1) / kBlock * kBlock;
  kv::KVCache cache(m.kv_config(per_seq * n_seqs, kBlock));
  for (int s = 0; s < n_seqs; ++s)
    if (!cache.reserve(s, per_seq)) fail("internal error: no KV cache room for sequence {}", s);
  std::vector<float> logits(static_cast<size_t>(c.n_vocab * n_seqs));
  std::uniform_int_distribution<int32_t> tok(0, static_cast<int32_t>(c.n_vocab - 1));
  Batch b;
  for (int s = 0; s < n_seqs; ++s) {  // prompts, one sequence per call
    b.clear();
    for (int64_t i = 0; i < n_prompt; ++i) b.add(tok(rng), static_cast<int32_t>(i), s, i + 1 == n_prompt);
    if (n_prompt > 0) m.forward(b, cache, logits.data(), pool);
  }
  const double t0 = now_s();
  for (int64_t i = 0; i < n_gen; ++i) {
    b.clear();
    for (int s = 0; s < n_seqs; ++s) b.add(tok(rng), static_cast<int32_t>(n_prompt + i), s, true);
    m.forward(b, cache, logits.data(), pool);
  }
  const double dt = now_s() - t0;
  return dt > 0 ? static_cast<double>(n_gen * n_seqs) / dt : 0;
}

void bench(const BenchOptions& o) {
  check_gpu_layers(o.gpu_layers);
  const GpuOffload offload =
      plan_gpu_offload(o.gpu_layers, o.gpu_layers != "0", o.model, o.n_prompt + o.n_gen + 1,
                       std::max<int64_t>(o.n_prompt, 1));
  LoadedModel lm = load_model_and_tokenizer(o.model, "");
  Model& m = *lm.model;
  m.set_kv_type(parse_kv_type(o.kv_type));
  m.offload(offload);
  ThreadPool pool(o.threads);
  std::fprintf(stderr, "measuring memory bandwidth with %d threads...\n", pool.size());
  BandwidthProbe probe(pool);
  const double start_gbs = probe.read_gbs(3);
  const bool all_on_gpu = offload.gpu_layers == m.config().n_layers && offload.output_on_gpu;
  double gpu_gbs = 0;
  if (o.gpu_bandwidth || all_on_gpu) {
    std::fprintf(stderr, "measuring GPU copy bandwidth...\n");
    gpu_gbs = measure_gpu_copy_bandwidth();
  }
  std::mt19937 rng(1234);
  { // warm-up: page in the weights, grow scratch buffers
    BenchOptions w = o;
    w.n_prompt = std::min<int64_t>(o.n_prompt, 16);
    w.n_gen = 2;
    run_once(m, pool, w, rng);
  }
  double prompt_s = 0, gen_s = 0;
  std::vector<GenSegment> segments;
  for (int r = 0; r < o.repetitions; ++r) {
    const Timing t = run_once(m, pool, o, rng, all_on_gpu ? nullptr : &probe);
    prompt_s += t.prompt_s;
    gen_s += t.gen_s;
    segments.insert(segments.end(), t.segments.begin(), t.segments.end());
  }
  const double prompt_tok_s = prompt_s > 0 ? o.n_prompt * o.repetitions / prompt_s : 0;
  const double gen_tok_s = gen_s > 0 ? o.n_gen * o.repetitions / gen_s : 0;
  const uint64_t bytes = m.weight_bytes_per_token();
  // The CPU's read bandwidth while the tokens were generated: a bandwidth-bound decoder
  // would take tokens x bytes / GB/s for each segment at the readings around it, so the
  // roofline's bandwidth is their token-weighted harmonic mean (the reading taken before the
  // timed runs when nothing was generated).
  double inverse_sum = 0, gen_gbs_min = 0, gen_gbs_max = 0;
  int64_t segment_tokens = 0;
  for (const GenSegment& g : segments) {
    if (g.read_gbs <= 0) continue;
    inverse_sum += static_cast<double>(g.tokens) / g.read_gbs;
    segment_tokens += g.tokens;
    gen_gbs_min = gen_gbs_min == 0 ? g.read_gbs : std::min(gen_gbs_min, g.read_gbs);
    gen_gbs_max = std::max(gen_gbs_max, g.read_gbs);
  }
  const double gen_gbs = inverse_sum > 0 ? static_cast<double>(segment_tokens) / inverse_sum : start_gbs;
  // Everything on the GPU: the GPU's measured bandwidth bounds decode; otherwise the CPU's
  // (a split's roofline is the planner's business: `hearth fit`).
  const double roof_gbs = all_on_gpu ? gpu_gbs : gen_gbs;
  // A generated token also reads the keys and values of every earlier position (in the
  // cache's element type): at the mean context of the timed tokens that is part of the least
  // traffic per token, so the roofline counts it (TinyLlama after a 512-token prompt: ~2% of
  // the Q4_0 weights in F16). The weights-only figure is reported beside it.
  const auto& mc = m.config();
  const double mean_context = static_cast<double>(o.n_prompt) + static_cast<double>(o.n_gen + 1) / 2;
  const double kv_element_bytes = static_cast<double>(ops::kv_type_bytes(m.kv_type()));
  const double kv_bytes = offload.gpu_layers == 0 && o.n_gen > 0
                              ? static_cast<double>(mc.n_layers * mc.kv_dim() * 2) * kv_element_bytes * mean_context
                              : 0.0;
  const double roofline_tok_s = roof_gbs * 1e9 / (static_cast<double>(bytes) + kv_bytes);
  const double roofline_pct = 100.0 * gen_tok_s / roofline_tok_s;
  const double weights_only_pct = 100.0 * gen_tok_s / (roof_gbs * 1e9 / static_cast<double>(bytes));
  const std::string kernels = ops::kernel_report();
  // Batched decode next to one sequence decoding after the same prompt, in the same run.
  double one_seq_tok_s = 0, parallel_tok_s = 0;
  if (o.parallel > 1) {
    for (int r = 0; r < o.repetitions; ++r) {
      one_seq_tok_s = std::max(one_seq_tok_s, batched_decode_tok_s(m, pool, 1, o.parallel_prompt, o.n_gen, rng));
      parallel_tok_s = std::max(parallel_tok_s, batched_decode_tok_s(m, pool, o.parallel, o.parallel_prompt, o.n_gen, rng));
    }
  }
  if (o.json) {
    nlohmann::json j{{"model", lm.path},
                     {"params_bytes_per_token", bytes},
                     {"kv_bytes_per_token", kv_bytes},
                     {"kv_type", ops::kv_type_name(m.kv_type())},
                     {"threads", pool.size()},
                     {"n_prompt", o.n_prompt},
                     {"n_gen", o.n_gen},
                     {"repetitions", o.repetitions},
                     {"prompt_tok_s", prompt_tok_s},
                     {"gen_tok_s", gen_tok_s},
                     {"mem_bandwidth_gbs", gen_gbs},
                     {"mem_bandwidth_start_gbs", start_gbs},
                     {"mem_bandwidth_gen_min_gbs", gen_gbs_min},
                     {"mem_bandwidth_gen_max_gbs", gen_gbs_max},
                     {"gen_segments", segments.size()},
                     {"roofline_tok_s", roofline_tok_s},
                     {"roofline_pct", roofline_pct},
                     {"roofline_weights_only_pct", weights_only_pct},
                     {"kernels", kernels},
                     {"placement", m.placement()},
                     {"gpu_layers", offload.gpu_layers},
                     {"gpu_copy_bandwidth_gbs", gpu_gbs},
                     {"roofline_from", all_on_gpu ? "gpu" : "cpu"}};
    if (o.parallel > 1)
      j["batched"] = {{"sequences", o.parallel},
                      {"prompt_per_sequence", o.parallel_prompt},
                      {"one_sequence_tok_s", one_seq_tok_s},
                      {"all_sequences_tok_s", parallel_tok_s},
                      {"speedup", one_seq_tok_s > 0 ? parallel_tok_s / one_seq_tok_s : 0}};
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("model      %s (%.1f MB of weights read per token)\n", lm.path.c_str(), bytes / 1e6);
  std::printf("threads    %d\n", pool.size());
  std::printf("kernels    %s\n", kernels.c_str());
  std::printf("placement  %s, KV cache %s\n", m.placement().c_str(), ops::kv_type_name(m.kv_type()));
  if (segments.empty())
    std::printf("bandwidth  %.1f GB/s read (measured)\n", start_gbs);
  else
    std::printf("bandwidth  %.1f GB/s read while generating (%zu readings, %.1f-%.1f; %.1f before)\n",
                gen_gbs, segments.size() + static_cast<size_t>(o.repetitions), gen_gbs_min, gen_gbs_max,
                start_gbs);
  if (gpu_gbs > 0) std::printf("GPU copy   %.1f GB/s read+write (measured)%s\n", gpu_gbs,
                               all_on_gpu ? ", the roofline below" : "");
  std::printf("pp%-6lld  %8.1f tok/s\n", static_cast<long long>(o.n_prompt), prompt_tok_s);
  std::printf("tg%-6lld  %8.1f tok/s   roofline %.1f tok/s -> %.0f%% (weights %.1f MB + KV %.1f MB "
              "per token; weights alone: %.0f%%)\n",
              static_cast<long long>(o.n_gen), gen_tok_s, roofline_tok_s, roofline_pct, bytes / 1e6,
              kv_bytes / 1e6, weights_only_pct);
  if (o.parallel > 1)
    std::printf("batched    %d sequences x tg%lld after %lld-token prompts: %.1f tok/s, one "
                "sequence %.1f tok/s -> %.1fx\n",
                o.parallel, static_cast<long long>(o.n_gen), static_cast<long long>(o.parallel_prompt),
                parallel_tok_s, one_seq_tok_s, one_seq_tok_s > 0 ? parallel_tok_s / one_seq_tok_s : 0);
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure prompt and generation speed against the memory-bandwidth roofline");
  cmd->add_option("-m,--model", o->model, "A .gguf file, an HF folder or a model id")->required();
  cmd->add_option("-p,--n-prompt", o->n_prompt, "Prompt tokens (one batch)")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-n,--n-gen", o->n_gen, "Generated tokens (one at a time, after the prompt)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("-t,--threads", o->threads, "CPU threads (default: physical cores)");
  cmd->add_option("-r,--repetitions", o->repetitions, "Repetitions to average")->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--parallel", o->parallel,
                  "Also time this many sequences decoding together (batched decode) against one")
      ->check(CLI::Range(0, 256));
  cmd->add_option("--parallel-prompt", o->parallel_prompt, "Prompt tokens of each batched sequence")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->add_option("--gpu-layers", o->gpu_layers,
                  "Layers on the GPU: auto (the planner's split) or N (default 0: CPU only)");
  cmd->add_option("--kv-type", o->kv_type,
                  "CPU KV cache element type: auto (F32 for a model all in F32, else F16), f32 or f16")
      ->capture_default_str();
  cmd->add_flag("--gpu-bandwidth", o->gpu_bandwidth,
                "Also measure the GPU's copy bandwidth (always done when everything is on the GPU)");
  cmd->callback([o] { bench(*o); });
}

}  // namespace hearth::cli
