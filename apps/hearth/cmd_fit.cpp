// hearth fit: which models, at which weight type and context, this machine (or one a person
// describes) can host, and how to split the ones that barely fit between GPU and CPU.
#include <cmath>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.h"
#include "core/error.h"
#include "fit/catalog.h"
#include "fit/fit_json.h"
#include "fit/gpu_table.h"
#include "fit/hardware.h"
#include "fit/names.h"
#include "fit/planner.h"
#include "fit_report.h"
#include "models/model.h"

namespace hearth::cli {
namespace {

// The context plans use when --ctx is not given (each model's own when shorter): long
// enough for real conversations, short enough that the KV cache does not dominate.
constexpr int64_t kDefaultFitContext = 8192;

// Numbers are taken as text and parsed here, so a typo gets the same one-line error as an
// out-of-range value.
struct FitOptions {
  std::string model;
  std::string gpu = "auto";
  std::string gpus, ram_gib, cpu_bandwidth, ctx, parallel = "1", batch = "512";
  std::string kv_type = "auto";
  std::string type;
  bool json = false;
  bool all = false;
  bool list_gpus = false;
};

// The value of a numeric option, or nullopt when it was not given.
std::optional<double> number(const char* option, const std::string& text, const char* what) {
  if (text.empty()) return std::nullopt;
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size()) fail("{} {}: not a number ({})", option, text, what);
  return v;
}

std::optional<int64_t> whole(const char* option, const std::string& text, int64_t low,
                             int64_t high, const char* what) {
  const auto v = number(option, text, what);
  if (!v) return std::nullopt;
  // (NaN fails the range test too.)
  if (!(*v >= static_cast<double>(low) && *v <= static_cast<double>(high)) || *v != std::floor(*v))
    fail("{} {}: give {} from {} to {}", option, text, what, low, high);
  return static_cast<int64_t>(*v);
}

// The options as numbers, each checked.
struct FitSettings {
  std::optional<int64_t> ctx;
  int64_t parallel = 1, batch = 512;
  std::optional<kv::KVType> kv_type;
  fit::MachineRequest machine;
};

FitSettings settings_of(const FitOptions& o) {
  FitSettings s;
  s.ctx = whole("--ctx", o.ctx, 1, fit::kMaxPlanContext, "a context in tokens");
  s.parallel =
      whole("--parallel", o.parallel, 1, fit::kMaxPlanParallel, "a number of sequences").value_or(1);
  s.batch = whole("--batch", o.batch, 1, 65536, "a number of tokens").value_or(512);
  s.kv_type = parse_kv_type(o.kv_type);
  s.machine.gpu = o.gpu;
  s.machine.gpus = static_cast<int>(whole("--gpus", o.gpus, 1, 64, "a number of GPUs").value_or(0));
  s.machine.ram_gib = number("--ram", o.ram_gib, "GiB of RAM");
  s.machine.cpu_bandwidth_gbs = number("--cpu-bandwidth", o.cpu_bandwidth, "GB/s");
  return s;
}

// The weight types to plan: one named with --type, else all of fit::kPlanTypes.
std::vector<DType> plan_types(const FitOptions& o) {
  if (o.type.empty()) return {fit::kPlanTypes.begin(), fit::kPlanTypes.end()};
  const auto t = dtype_from_name(o.type);
  if (!t || *t == DType::I32)
    fail("--type {}: not a weight type (choose F32, F16, BF16, Q8_0, Q6_K, Q4_K or Q4_0)", o.type);
  return {*t};
}

fit::RunShape run_shape(const FitSettings& s, const ModelConfig& c) {
  fit::RunShape run;
  run.context = std::min(s.ctx.value_or(kDefaultFitContext), c.max_context);
  run.parallel = s.parallel;
  run.batch = s.batch;
  run.kv_type = s.kv_type;
  return run;
}

// --model: a catalog id, else a local file, folder or model id hearth can find.
fit::ModelShape resolve_model(const std::string& spec) {
  if (const fit::CatalogModel* m = fit::find_catalog_model(spec)) return fit::shape_from_catalog(*m);
  try {
    return fit::shape_from_local(spec);
  } catch (const Error& e) {
    const auto close = fit::similar_catalog_ids(spec);
    if (close.empty()) throw;
    fail("{} (catalog models with a similar name: {})", e.what(), fit::join_or(close));
  }
}

// --json: every plan, for programs to filter.
void print_json(const fit::Machine& machine, const std::vector<fit::Plan>& plans) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& p : plans) list.push_back(fit::to_json(p));
  const nlohmann::json out{{"hardware", fit::to_json(machine)}, {"plans", list}};
  std::printf("%s\n", out.dump(2).c_str());
}

void list_gpus() {
  std::printf("%-22s %-8s %-12s %8s %10s\n", "GPU", "vendor", "kind", "memory", "bandwidth");
  for (const auto& g : fit::gpu_table())
    std::printf("%-22s %-8s %-12s %5.0f GiB %6.0f GB/s\n", g.name.c_str(), g.vendor.c_str(),
                g.kind.c_str(), g.memory_gib, g.bandwidth_gbs);
}

// One model: as stored (a local file) and at each weight type.
std::vector<fit::Plan> plan_one(const fit::ModelShape& model, const FitSettings& settings,
                                const std::vector<DType>& types, bool with_stored,
                                const fit::Machine& machine) {
  std::vector<fit::Plan> plans;
  const fit::RunShape run = run_shape(settings, model.config);
  if (model.local && with_stored) plans.push_back(fit::plan_model(model, std::nullopt, run, machine));
  for (DType t : types) plans.push_back(fit::plan_model(model, t, run, machine));
  return plans;
}

// The catalog: one row per model, every row (fitting or not) when `all`.
std::vector<FitRow> plan_catalog(const FitSettings& settings, const std::vector<DType>& types,
                                 const fit::Machine& machine, bool all, size_t& hidden) {
  std::vector<FitRow> rows;
  hidden = 0;
  for (const auto& m : fit::catalog()) {
    const fit::ModelShape shape = fit::shape_from_catalog(m);
    FitRow row{m.id, m.params_b, settings.ctx.value_or(kDefaultFitContext),
               plan_one(shape, settings, types, false, machine)};
    bool fits = false;
    for (const auto& p : row.plans) fits |= p.verdict != fit::Verdict::None;
    if (fits || all)
      rows.push_back(std::move(row));
    else
      ++hidden;
  }
  return rows;
}

void fit_command(const FitOptions& o) {
  if (o.list_gpus) return list_gpus();
  const FitSettings settings = settings_of(o);
  const std::vector<DType> types = plan_types(o);
  // The model before the machine: a typo should not wait for a bandwidth measurement.
  std::optional<fit::ModelShape> one;
  if (!o.model.empty()) one = resolve_model(o.model);
  const fit::Machine machine = fit::describe_machine(settings.machine);

  if (one) {
    const auto plans = plan_one(*one, settings, types, o.type.empty(), machine);
    if (o.json) return print_json(machine, plans);
    print_machine(machine);
    return print_fit_detail(*one, plans);
  }
  size_t hidden = 0;
  const auto rows = plan_catalog(settings, types, machine, o.all || o.json, hidden);
  if (o.json) {
    std::vector<fit::Plan> plans;
    for (const auto& r : rows) plans.insert(plans.end(), r.plans.begin(), r.plans.end());
    return print_json(machine, plans);
  }
  std::vector<std::string> headings;
  for (DType t : types) headings.push_back(dtype_name(t));
  print_machine(machine);
  print_fit_table(rows, headings, hidden);
}

}  // namespace

void add_fit_command(CLI::App& app) {
  auto o = std::make_shared<FitOptions>();
  CLI::App* cmd = app.add_subcommand(
      "fit", "Which models fit this machine (or a GPU/RAM you name), at which weight type and "
             "context, and how to split them between GPU and CPU");
  cmd->add_option("-m,--model", o->model,
                  "Plan one model in detail: a catalog id (e.g. mistral-7b-v0.1), a .gguf file, an "
                  "HF folder or a model id");
  cmd->add_option("--gpu", o->gpu,
                  "auto (detect NVIDIA GPUs), none, or a card to plan for, e.g. \"RTX 4080\"")
      ->capture_default_str();
  cmd->add_option("--gpus", o->gpus, "How many of that GPU (default: 1, or all detected)");
  cmd->add_option("--ram", o->ram_gib, "RAM of the machine to plan for, GiB (default: this one's)");
  cmd->add_option("-c,--ctx", o->ctx,
                  "Context per sequence in tokens (default: 8192, or the model's own if shorter)");
  cmd->add_option("--parallel", o->parallel, "Sequences served at once")->capture_default_str();
  cmd->add_option("-b,--batch", o->batch, "Prompt tokens per forward pass")->capture_default_str();
  cmd->add_option("--kv-type", o->kv_type, "CPU KV cache element type: auto (F32 for an all-F32 model, else F16, as hearth "
                  "allocates it), f32 or f16; GPU layers keep F32")
      ->capture_default_str();
  cmd->add_option("--type", o->type, "Plan one weight type only (F16, BF16, Q8_0, Q6_K, Q4_K, Q4_0)");
  cmd->add_option("--cpu-bandwidth", o->cpu_bandwidth,
                  "CPU memory bandwidth in GB/s (default: measured, about half a second)");
  cmd->add_flag("--all", o->all, "Also list catalog models that fit nowhere");
  cmd->add_flag("--list-gpus", o->list_gpus, "List the GPUs --gpu knows");
  cmd->add_flag("--json", o->json, "Print {\"hardware\": ..., \"plans\": [...]} as JSON");
  cmd->callback([o] { fit_command(*o); });
}

}  // namespace hearth::cli
