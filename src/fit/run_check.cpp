#include "fit/run_check.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"

namespace hearth::fit {
namespace {

std::string breakdown(const Plan& p) {
  return fmt::format("weights {} + KV cache {} + compute {} + runtime {}", format_bytes(p.weights),
                     format_bytes(p.kv), format_bytes(p.compute), format_bytes(p.overhead));
}

// What to try instead: a shorter context when one fits, else a smaller weight type.
std::string advice(const ModelShape& model, const Plan& p, const RunShape& run,
                   const Machine& machine) {
  if (p.max_context > 0)
    return fmt::format("use -c {} or less (the most that fits)", p.max_context);
  for (DType type : {DType::Q4_K, DType::Q4_0}) {
    const Plan smaller = plan_model(model, type, run, machine);
    if (smaller.verdict != Verdict::None && smaller.weights < p.weights)
      return fmt::format("a {} file of this model would need {} (`hearth quantize` writes one)",
                         dtype_name(type), format_bytes(smaller.bytes_cpu));
  }
  return "use a smaller model (`hearth fit` lists what fits)";
}

// The most KV positions (up to kMaxPlanContext) that fit with this run's other buffers; 0 when
// not even one does.
int64_t largest_fitting_pool(const ModelShape& model, RunShape run, const Machine& machine) {
  auto fits = [&](int64_t n) {
    run.context = n;
    return plan_model(model, std::nullopt, run, machine).verdict != Verdict::None;
  };
  if (!fits(1)) return 0;
  int64_t lo = 1, hi = kMaxPlanContext;  // fits(lo) holds
  if (fits(hi)) return hi;
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
}

}  // namespace

std::string format_bytes(uint64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * 1024 * 1024) return fmt::format("{:.1f} GiB", b / (1024.0 * 1024 * 1024));
  if (b >= 1024.0 * 1024) return fmt::format("{:.0f} MiB", b / (1024.0 * 1024));
  return fmt::format("{:.0f} KiB", b / 1024.0);
}

RunDecision plan_local_run(const std::string& model_spec, int64_t requested_context, int64_t batch,
                           const Machine& machine, std::optional<kv::KVType> kv_type) {
  const ModelShape model = shape_from_local(model_spec);
  if (requested_context > kMaxPlanContext)
    fail("a {}-token context is beyond anything hearth can allocate (at most {}); {} was trained "
         "for {}", requested_context, kMaxPlanContext, model.id, model.config.max_context);
  RunShape run;
  run.batch = std::max<int64_t>(1, batch);
  run.kv_type = kv_type;
  const int64_t wanted =
      requested_context > 0 ? requested_context
                            : std::min(model.config.max_context, kDefaultRunContext);
  run.context = wanted;
  Plan plan = plan_model(model, std::nullopt, run, machine);
  if (requested_context == 0 && plan.verdict == Verdict::None && plan.max_context > 0) {
    // No context asked for: take the largest that fits.
    run.context = plan.max_context;
    plan = plan_model(model, std::nullopt, run, machine);
  }
  if (plan.verdict == Verdict::None)
    fail("{} needs {} of RAM for a {}-token context ({}) but this machine has {} available; {}",
         model.id, format_bytes(plan.bytes_cpu), run.context, breakdown(plan),
         format_bytes(machine.ram_usable_bytes), advice(model, plan, run, machine));
  return {run.context, plan};
}

ServeDecision plan_local_serve(const std::string& model_spec, int64_t requested_context,
                               int64_t requested_kv_tokens, int64_t batch,
                               const Machine& machine, std::optional<kv::KVType> kv_type) {
  const ModelShape model = shape_from_local(model_spec);
  for (int64_t v : {requested_context, requested_kv_tokens})
    if (v > kMaxPlanContext)
      fail("{} token positions are beyond anything hearth can allocate (at most {})", v,
           kMaxPlanContext);
  ServeDecision d;
  d.context_per_sequence = requested_context > 0
                               ? requested_context
                               : std::min(model.config.max_context, kDefaultRunContext);
  if (requested_kv_tokens > 0 && requested_kv_tokens < d.context_per_sequence)
    fail("--kv-tokens {} is smaller than one sequence's context ({}); give at least that many",
         requested_kv_tokens, d.context_per_sequence);
  RunShape run;
  run.batch = std::max<int64_t>(1, batch);
  run.kv_type = kv_type;
  run.context = requested_kv_tokens > 0
                    ? requested_kv_tokens
                    : std::max(kDefaultServeKvTokens, d.context_per_sequence);
  Plan plan = plan_model(model, std::nullopt, run, machine);
  // The pool is not bounded by the model's trained context (plan.max_context is), so the
  // largest pool that fits is searched here.
  const int64_t largest_pool = largest_fitting_pool(model, run, machine);
  if (requested_kv_tokens == 0 && plan.verdict == Verdict::None &&
      largest_pool >= d.context_per_sequence) {
    // No pool size asked for: take the largest that fits (at least one full context).
    run.context = largest_pool;
    plan = plan_model(model, std::nullopt, run, machine);
  }
  if (plan.verdict == Verdict::None) {
    std::string fix;
    if (requested_kv_tokens > 0 && largest_pool >= d.context_per_sequence)
      fix = fmt::format("use --kv-tokens {} or less (the most that fits)", largest_pool);
    else if (plan.max_context > 0 && plan.max_context < d.context_per_sequence)
      fix = fmt::format("use -c {} or less (the most that fits)", plan.max_context);
    else
      fix = advice(model, plan, run, machine);
    fail("{} needs {} of RAM for a KV cache of {} token positions ({}) but this machine has {} "
         "available; {}",
         model.id, format_bytes(plan.bytes_cpu), run.context, breakdown(plan),
         format_bytes(machine.ram_usable_bytes), fix);
  }
  d.kv_tokens = run.context;
  d.plan = plan;
  return d;
}

}  // namespace hearth::fit
