#include "backends/cpu/dispatch.h"

#include <cstdlib>
#include <string_view>

#include "core/error.h"

namespace hearth::cpu {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Generic:
      return "generic";
    case Isa::Avx2:
      return "avx2";
    case Isa::Avx512:
      return "avx512";
  }
  return "unknown";
}

bool isa_supported(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  switch (isa) {
    case Isa::Generic:
      return true;
    case Isa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c");
    case Isa::Avx512:
      return isa_supported(Isa::Avx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni");
  }
  return false;
#else
  return isa == Isa::Generic;
#endif
}

const KernelTable& kernels_for(Isa isa) {
  if (!isa_supported(isa))
    fail("this CPU cannot run the {} kernels; use a lower HEARTH_ISA level", isa_name(isa));
  switch (isa) {
    case Isa::Avx512:
      return kAvx512Kernels;
    case Isa::Avx2:
      return kAvx2Kernels;
    case Isa::Generic:
      break;
  }
  return kGenericKernels;
}

Isa choose_isa(const char* requested) {
  Isa best = Isa::Generic;
  for (Isa isa : {Isa::Avx2, Isa::Avx512})
    if (isa_supported(isa)) best = isa;
  if (requested == nullptr || *requested == '\0') return best;
  const std::string_view want(requested);
  for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
    if (want == isa_name(isa)) return static_cast<int>(isa) < static_cast<int>(best) ? isa : best;
  }
  fail("HEARTH_ISA='{}' is not a kernel level; use generic, avx2 or avx512 (or unset it)", want);
}

const KernelTable& active_kernels() {
  static const KernelTable& table = kernels_for(choose_isa(std::getenv("HEARTH_ISA")));
  return table;
}

const MatmulKernel& matmul_kernel(const KernelTable& table, DType weight_type) {
  switch (weight_type) {
    case DType::F32:
      return table.f32;
    case DType::F16:
      return table.f16;
    case DType::BF16:
      return table.bf16;
    case DType::Q8_0:
      return table.q8_0;
    case DType::Q4_0:
      return table.q4_0;
    case DType::Q4_K:
      return table.q4_k;
    case DType::Q6_K:
      return table.q6_k;
    case DType::I32:
      break;
  }
  fail("matmul weights cannot be {}; supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K",
       dtype_name(weight_type));
}

std::string kernel_report(const KernelTable& table) {
  std::string s = std::string("matmul: ") + table.name + " (";
  const std::pair<const char*, const MatmulKernel*> kinds[] = {
      {"F32", &table.f32},   {"F16", &table.f16},   {"BF16", &table.bf16}, {"Q8_0", &table.q8_0},
      {"Q4_0", &table.q4_0}, {"Q4_K", &table.q4_k}, {"Q6_K", &table.q6_k}};
  bool first = true;
  for (const auto& [name, kernel] : kinds) {
    s += fmt::format("{}{}: {}", first ? "" : ", ", name, kernel->method);
    first = false;
  }
  return s + "); rmsnorm/silu/softmax/add: " + table.name;
}

}  // namespace hearth::cpu
