#include "fit_report.h"

#include <fmt/format.h>

#include <cstdio>

#include "fit/run_check.h"

namespace hearth::cli {
namespace {

std::string speed(double tokens_per_s) {
  if (tokens_per_s <= 0) return "";
  return tokens_per_s >= 10 ? fmt::format("{:.0f} t/s", tokens_per_s)
                            : fmt::format("{:.1f} t/s", tokens_per_s);
}

// One table cell: where the model goes at this type, and how fast it would generate.
std::string cell(const fit::Plan& p) {
  switch (p.verdict) {
    case fit::Verdict::Gpu: return fmt::format("gpu {}", speed(p.est_tokens_per_s));
    case fit::Verdict::Split:
      return fmt::format("{}/{}L {}", p.gpu_layers, p.n_layers, speed(p.est_tokens_per_s));
    case fit::Verdict::Cpu: return fmt::format("cpu {}", speed(p.est_tokens_per_s));
    case fit::Verdict::None: return "-";
  }
  return "-";
}

std::string params(double n) {
  if (n >= 1e9) return fmt::format("{:.1f}B", n / 1e9);
  if (n >= 1e6) return fmt::format("{:.0f}M", n / 1e6);
  return fmt::format("{:.0f}K", n / 1e3);
}

std::string kv_type(const fit::Plan& p) { return fit::kv_type_text(p); }

std::string where(const fit::Plan& p) {
  switch (p.verdict) {
    case fit::Verdict::Gpu: return "GPU";
    case fit::Verdict::Split: return fmt::format("split {}/{} layers on GPU", p.gpu_layers, p.n_layers);
    case fit::Verdict::Cpu: return "CPU";
    case fit::Verdict::None: return "does not fit";
  }
  return "";
}

}  // namespace

void print_machine(const fit::Machine& m) {
  std::printf("CPU   %s, %d cores / %d threads, %s kernels", m.cpu.model.c_str(), m.cpu.cores,
              m.cpu.threads, m.cpu.simd.c_str());
  if (m.cpu_bandwidth_gbs > 0)
    std::printf(", memory %.1f GB/s (%s)", m.cpu_bandwidth_gbs, m.bandwidth_source.c_str());
  std::printf("\nRAM   %s, %s usable (%s)\n", fit::format_bytes(m.ram_total_bytes).c_str(),
              fit::format_bytes(m.ram_usable_bytes).c_str(), m.ram_source.c_str());
  if (m.gpus.empty()) std::printf("GPU   none (planning for the CPU only)\n");
  for (const auto& g : m.gpus)
    std::printf("GPU   %s, %s, %s usable, %.0f GB/s (%s)\n", g.name.c_str(),
                fit::format_bytes(g.total_bytes).c_str(), fit::format_bytes(g.usable_bytes).c_str(),
                g.bandwidth_gbs, g.source.c_str());
}

void print_fit_table(const std::vector<FitRow>& rows, const std::vector<std::string>& types,
                     size_t hidden_rows) {
  if (!rows.empty()) {
    const fit::Plan& any = rows.front().plans.front();
    std::printf("\ncontext up to %lld tokens (capped at each model's own) x %lld sequence%s, "
                "KV cache %s\n\n",
                static_cast<long long>(rows.front().context), static_cast<long long>(any.parallel),
                any.parallel == 1 ? "" : "s", kv_type(any).c_str());
  }
  std::printf("%-32s %7s %7s", "model", "params", "context");
  for (const auto& t : types) std::printf("  %-14s", t.c_str());
  std::printf("\n");
  for (const auto& r : rows) {
    std::printf("%-32s %7s %7lld", r.model.c_str(), params(r.params_b * 1e9).c_str(),
                static_cast<long long>(r.plans.front().context));
    for (const auto& p : r.plans) std::printf("  %-14s", cell(p).c_str());
    std::printf("\n");
  }
  if (rows.empty()) std::printf("(no catalog model fits this machine)\n");
  std::printf(
      "\ngpu: all on the GPU | 24/32L: 24 of 32 layers on the GPU, the rest on the CPU | cpu: CPU "
      "only | -: does not fit\nt/s: expected generation speed, bounded by the memory bandwidth "
      "where the weights live\n");
  if (hidden_rows > 0)
    std::printf("%zu catalog model%s that fit nowhere are not shown (--all shows them)\n",
                hidden_rows, hidden_rows == 1 ? "" : "s");
}

void print_fit_detail(const fit::ModelShape& model, const std::vector<fit::Plan>& plans) {
  const ModelConfig& c = model.config;
  const fit::Plan& first = plans.front();
  std::printf("\n%s (%s)\n", model.name.c_str(), model.id.c_str());
  std::printf("  %s parameters, %lld layers, hidden %lld, %lld heads / %lld KV heads of %lld, "
              "FFN %lld, vocabulary %lld, context %lld",
              params(static_cast<double>(first.params)).c_str(), static_cast<long long>(c.n_layers),
              static_cast<long long>(c.dim), static_cast<long long>(c.n_heads),
              static_cast<long long>(c.n_kv_heads), static_cast<long long>(c.head_dim),
              static_cast<long long>(c.ffn_dim), static_cast<long long>(c.n_vocab),
              static_cast<long long>(c.max_context));
  if (model.extras.n_experts > 0)
    std::printf(", %lld experts (%lld active)", static_cast<long long>(model.extras.n_experts),
                static_cast<long long>(model.extras.n_active_experts));
  if (c.tied_embeddings) std::printf(", tied embeddings");
  std::printf("\n  planned for %lld tokens x %lld sequence%s, KV cache %s\n\n",
              static_cast<long long>(first.context), static_cast<long long>(first.parallel),
              first.parallel == 1 ? "" : "s", kv_type(first).c_str());
  std::printf("%-12s %10s %10s %10s %10s %10s  %-26s %10s %10s %9s %9s %9s\n", "type", "weights",
              "KV cache", "compute", "runtime", "total", "where", "on GPU", "in RAM", "max ctx",
              "GPU ctx", "speed");
  for (const auto& p : plans) {
    const std::string type = p.as_stored ? p.weight_type + " (file)" : p.weight_type;
    std::printf("%-12s %10s %10s %10s %10s %10s  %-26s %10s %10s %9lld %9lld %9s\n", type.c_str(),
                fit::format_bytes(p.weights).c_str(), fit::format_bytes(p.kv).c_str(),
                fit::format_bytes(p.compute).c_str(), fit::format_bytes(p.overhead).c_str(),
                fit::format_bytes(p.engine + p.overhead).c_str(), where(p).c_str(),
                p.bytes_gpu ? fit::format_bytes(p.bytes_gpu).c_str() : "-",
                fit::format_bytes(p.bytes_cpu).c_str(), static_cast<long long>(p.max_context),
                static_cast<long long>(p.max_context_gpu), speed(p.est_tokens_per_s).c_str());
  }
  std::printf("\nmax ctx: the longest context that still fits (GPU ctx: all on the GPU); speed: "
              "expected generation,\nbounded by the memory bandwidth where the weights live\n");
}

}  // namespace hearth::cli
