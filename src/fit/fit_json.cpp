#include "fit/fit_json.h"

namespace hearth::fit {

nlohmann::json to_json(const Machine& m) {
  nlohmann::json gpus = nlohmann::json::array();
  for (const auto& g : m.gpus)
    gpus.push_back({{"name", g.name},
                    {"total_bytes", g.total_bytes},
                    {"usable_bytes", g.usable_bytes},
                    {"bandwidth_gbs", g.bandwidth_gbs},
                    {"source", g.source}});
  return {{"cpu",
           {{"model", m.cpu.model},
            {"cores", m.cpu.cores},
            {"threads", m.cpu.threads},
            {"simd", m.cpu.simd},
            {"bandwidth_gbs", m.cpu_bandwidth_gbs},
            {"bandwidth_source", m.bandwidth_source}}},
          {"ram",
           {{"total_bytes", m.ram_total_bytes},
            {"usable_bytes", m.ram_usable_bytes},
            {"source", m.ram_source}}},
          {"gpus", gpus},
          {"gpu_reserve_bytes", kGpuReserveBytes}};
}

nlohmann::json to_json(const Plan& p) {
  return {{"model", p.model},
          {"name", p.name},
          {"params", p.params},
          {"weight_type", p.weight_type},
          {"as_stored", p.as_stored},
          {"context", p.context},
          {"parallel", p.parallel},
          {"kv_type", ops::kv_type_name(p.kv_type)},
          {"kv_type_gpu", p.gpu_layers > 0 ? nlohmann::json("F32") : nlohmann::json(nullptr)},
          {"verdict", verdict_name(p.verdict)},
          {"n_layers", p.n_layers},
          {"gpu_layers", p.gpu_layers},
          {"bytes_gpu", p.bytes_gpu},
          {"bytes_cpu", p.bytes_cpu},
          {"bytes",
           {{"weights", p.weights},
            {"kv_cache", p.kv},
            {"compute", p.compute},
            {"overhead", p.overhead},
            {"engine", p.engine}}},
          {"max_context", p.max_context},
          {"max_context_gpu", p.max_context_gpu},
          {"est_tokens_per_s", p.est_tokens_per_s}};
}

}  // namespace hearth::fit
