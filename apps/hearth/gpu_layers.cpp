#include "gpu_layers.h"

#include <cstdio>

#include "backends/devices.h"
#include "fit/hardware.h"
#include "fit/memory.h"
#include "fit/placement.h"
#include "fit/planner.h"
#include "fit/run_check.h"

namespace hearth::cli {

void check_gpu_layers(const std::string& value) { fit::parse_gpu_layers(value); }

GpuOffload plan_gpu_offload(const std::string& value, bool given, const std::string& model,
                            int64_t kv_positions, int64_t batch) {
  const std::optional<int64_t> requested = fit::parse_gpu_layers(value);
  if (requested == 0) return {};
  const GpuScan scan = scan_gpus();
  const bool have_gpu = !scan.devices.empty();
  if (!have_gpu) {
    if (!requested && given)
      std::fprintf(stderr, "note: --gpu-layers auto: no GPU (%s), so the model runs on the CPU\n",
                   scan.why_none.c_str());
    const auto p = fit::place_layers({}, requested, false, scan.why_none, 0);
    if (!p.note.empty()) std::fprintf(stderr, "note: %s\n", p.note.c_str());
    return {};
  }
  // The planner's figures for this model and run, on this machine with the first device.
  const fit::ModelShape shape = fit::shape_from_local(model);
  fit::RunShape run;
  run.context = kv_positions;
  run.batch = batch;
  const fit::WeightBytes w = fit::weight_bytes(shape, std::nullopt);
  const fit::RunBytes r = fit::run_bytes(shape, std::nullopt, run);
  const GpuDevice& d = scan.devices.front();
  fit::PlacementInputs in;
  in.layer_bytes = w.layers;
  in.kv_per_layer = r.kv_per_gpu_layer;
  in.head_bytes = w.global + r.resident;
  in.compute_bytes = r.compute;
  in.gpu_usable_bytes = d.free_bytes > fit::kGpuReserveBytes ? d.free_bytes - fit::kGpuReserveBytes : 0;
  fit::Machine machine = fit::this_machine_cpu_only();
  machine.gpus.push_back({d.name, d.total_bytes, in.gpu_usable_bytes, 0, "cuda"});
  const fit::Plan plan = fit::plan_model(shape, std::nullopt, run, machine);
  const fit::LayerPlacement p = fit::place_layers(in, requested, true, "", plan.gpu_layers);
  if (!p.note.empty()) std::fprintf(stderr, "note: %s\n", p.note.c_str());
  std::fprintf(stderr, "note: %lld of %lld layers%s on cuda:%d (%s), %s of %s free\n",
               static_cast<long long>(p.gpu_layers), static_cast<long long>(in.n_layers()),
               p.output_on_gpu ? " and the output head" : "", d.index, d.name.c_str(),
               fit::format_bytes(p.gpu_bytes).c_str(), fit::format_bytes(in.gpu_usable_bytes).c_str());
  return {p.gpu_layers, p.output_on_gpu, d.index};
}

}  // namespace hearth::cli
