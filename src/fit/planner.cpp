#include "fit/planner.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace hearth::fit {
namespace {

// Everything placement needs for one context.
struct Parts {
  WeightBytes w;
  RunBytes r;
  int64_t n_layers;
};

struct Placement {
  Verdict verdict = Verdict::None;
  int64_t gpu_layers = 0;
  uint64_t gpu = 0, cpu = 0;
};

// Layers [n_layers - g, n_layers) go to the GPUs (the last ones, next to the output head, as
// llama.cpp offloads); the embeddings, head and model tables join them only when all do.
uint64_t gpu_bytes(const Parts& p, int64_t g, size_t n_gpus) {
  if (g == 0) return 0;
  uint64_t b = p.r.compute * n_gpus;
  for (int64_t i = p.n_layers - g; i < p.n_layers; ++i) b += p.w.layers[i] + p.r.kv_per_gpu_layer;
  if (g == p.n_layers) b += p.w.global + p.r.resident;
  return b;
}

uint64_t cpu_bytes(const Parts& p, int64_t g) {
  uint64_t b = p.r.overhead + p.r.file_extra;
  if (g == p.n_layers) return b;
  b += p.w.global + p.r.resident + p.r.compute;
  for (int64_t i = 0; i < p.n_layers - g; ++i) b += p.w.layers[i] + p.r.kv_per_layer;
  return b;
}

Placement place(const Parts& p, const Machine& m) {
  uint64_t gpu_room = 0;
  for (const auto& g : m.gpus) gpu_room += g.usable_bytes;
  Placement out;
  if (!m.gpus.empty()) {
    // The most layers the GPUs hold: add layers from the last one down while they fit.
    int64_t g = 0;
    uint64_t need = p.r.compute * m.gpus.size();
    for (int64_t k = 1; k <= p.n_layers; ++k) {
      need += p.w.layers[p.n_layers - k] + p.r.kv_per_gpu_layer;
      const uint64_t with_head = k == p.n_layers ? need + p.w.global + p.r.resident : need;
      if (with_head > gpu_room) break;
      g = k;
    }
    if (g > 0 && cpu_bytes(p, g) <= m.ram_usable_bytes) {
      out.verdict = g == p.n_layers ? Verdict::Gpu : Verdict::Split;
      out.gpu_layers = g;
      out.gpu = gpu_bytes(p, g, m.gpus.size());
      out.cpu = cpu_bytes(p, g);
      return out;
    }
  }
  out.cpu = cpu_bytes(p, 0);
  out.verdict = out.cpu <= m.ram_usable_bytes ? Verdict::Cpu : Verdict::None;
  return out;
}

Parts parts_at(const ModelShape& model, std::optional<DType> type, const WeightBytes& w,
               RunShape run, int64_t context) {
  run.context = context;
  return {w, run_bytes(model, type, run), model.config.n_layers};
}

// The largest context in [1, limit] for which `fits` holds (it only turns false as the
// context grows); 0 when even one position does not fit.
template <typename Fits>
int64_t largest_context(int64_t limit, const Fits& fits) {
  if (limit < 1 || !fits(1)) return 0;
  int64_t lo = 1, hi = limit;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

double tokens_per_second(const Parts& p, const Placement& at, const Machine& m) {
  if (at.verdict == Verdict::None || m.cpu_bandwidth_gbs <= 0) return 0;
  double gpu_read = 0, cpu_read = 0;
  for (int64_t i = 0; i < p.n_layers; ++i) {
    const bool on_gpu = i >= p.n_layers - at.gpu_layers;
    const double layer = static_cast<double>(
        p.w.read_layers[i] + (on_gpu ? p.r.kv_read_per_gpu_layer : p.r.kv_read_per_layer));
    (on_gpu ? gpu_read : cpu_read) += layer;
  }
  (at.gpu_layers == p.n_layers ? gpu_read : cpu_read) += static_cast<double>(p.w.read_global);
  double gpu_bw = 0;
  for (const auto& g : m.gpus)
    if (g.bandwidth_gbs > 0) gpu_bw = gpu_bw == 0 ? g.bandwidth_gbs : std::min(gpu_bw, g.bandwidth_gbs);
  if (gpu_read > 0 && gpu_bw <= 0) return 0;
  // Layers run one after another, so the times add, wherever each layer lives.
  const double seconds =
      cpu_read / (m.cpu_bandwidth_gbs * 1e9) + (gpu_read > 0 ? gpu_read / (gpu_bw * 1e9) : 0);
  return seconds > 0 ? 1.0 / seconds : 0;
}

}  // namespace

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::Gpu: return "gpu";
    case Verdict::Split: return "split";
    case Verdict::Cpu: return "cpu";
    case Verdict::None: return "none";
  }
  return "none";
}

std::string kv_type_text(const Plan& p) {
  std::string text = ops::kv_type_name(p.kv_type);
  if (p.gpu_layers > 0 && p.kv_type != kv::KVType::F32) text += " (F32 on the GPU)";
  return text;
}

Plan plan_model(const ModelShape& model, std::optional<DType> type, const RunShape& run,
                const Machine& machine) {
  if (!type && !model.local)
    fail("internal error: only a local file can be planned in the type it is stored in");
  const ModelConfig& c = model.config;
  const WeightBytes w = weight_bytes(model, type);
  const Parts p = parts_at(model, type, w, run, run.context);
  const Placement at = place(p, machine);

  Plan plan;
  plan.model = model.id;
  plan.name = model.name;
  plan.as_stored = !type;
  plan.weight_type = dtype_name(type ? *type : model.file_type);
  plan.context = run.context;
  plan.parallel = run.parallel;
  plan.kv_type = p.r.kv_type;
  plan.n_layers = c.n_layers;
  plan.params = parameter_count(model);
  plan.weights = w.total() + p.r.file_extra;
  plan.kv = p.r.kv_per_layer * static_cast<uint64_t>(c.n_layers - at.gpu_layers) +
            p.r.kv_per_gpu_layer * static_cast<uint64_t>(at.gpu_layers);
  plan.compute = p.r.compute + p.r.resident;
  plan.overhead = p.r.overhead;
  plan.engine = engine_bytes(w, p.r, c.n_layers);
  plan.verdict = at.verdict;
  plan.gpu_layers = at.gpu_layers;
  plan.bytes_gpu = at.gpu;
  plan.bytes_cpu = at.cpu;
  plan.est_tokens_per_s = tokens_per_second(p, at, machine);

  auto verdict_at = [&](int64_t context) {
    return place(parts_at(model, type, w, run, context), machine).verdict;
  };
  plan.max_context =
      largest_context(c.max_context, [&](int64_t n) { return verdict_at(n) != Verdict::None; });
  if (!machine.gpus.empty())
    plan.max_context_gpu =
        largest_context(c.max_context, [&](int64_t n) { return verdict_at(n) == Verdict::Gpu; });
  return plan;
}

}  // namespace hearth::fit
