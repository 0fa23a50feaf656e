#include "backends/cpu/dispatch.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <cstdlib>
#include <string_view>

#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__))
#include <sys/syscall.h>
#include <unistd.h>
#endif

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
    case Isa::Amx:
      return "amx";
  }
  return "unknown";
}

namespace {

#if defined(__x86_64__) || defined(__i386__)
// What CPUID and the OS report. Read directly rather than through __builtin_cpu_supports,
// whose feature names differ between compilers (clang 14 lacks "avx512vnni").
struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false, avx512vnni = false;
  bool avx512bf16 = false, amx_tile = false, amx_int8 = false, amx_bf16 = false;
  bool os_amx = false;  // XCR0 enables the tile state (XTILECFG, XTILEDATA)
};

CpuFeatures detect_cpu() {
  CpuFeatures f;
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool osxsave = ecx & (1u << 27), avx = ecx & (1u << 28);
  f.fma = ecx & (1u << 12);
  f.f16c = ecx & (1u << 29);
  if (!osxsave || !avx) return {};
  // The OS must save the vector registers on context switch: XCR0 bits 1-2 (SSE and AVX
  // state) for 256-bit code, plus bits 5-7 (opmask and the upper ZMM state) for AVX-512.
  unsigned xcr0_lo, xcr0_hi;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  const bool os_avx = (xcr0_lo & 0x6u) == 0x6u;
  const bool os_avx512 = os_avx && (xcr0_lo & 0xE0u) == 0xE0u;
  if (!os_avx || !__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return {};
  f.avx2 = ebx & (1u << 5);
  if (os_avx512) {
    f.avx512f = ebx & (1u << 16);
    f.avx512dq = ebx & (1u << 17);
    f.avx512bw = ebx & (1u << 30);
    f.avx512vl = ebx & (1u << 31);
    f.avx512vnni = ecx & (1u << 11);
  }
  f.amx_bf16 = edx & (1u << 22);
  f.amx_tile = edx & (1u << 24);
  f.amx_int8 = edx & (1u << 25);
  f.os_amx = (xcr0_lo & 0x60000u) == 0x60000u;
  if (os_avx512 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) f.avx512bf16 = eax & (1u << 5);
  return f;
}

// CPUID read once per process.
const CpuFeatures& cpu_features() {
  static const CpuFeatures cpu = detect_cpu();
  return cpu;
}

// Linux hands out the 8 KiB tile state per process on request (arch_prctl
// ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA); without the grant the first tile instruction
// kills the process with SIGILL. Asked once; a refusal leaves the AMX level unsupported.
bool request_tile_state() {
#if defined(__linux__)
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  return ::syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}
#endif

}  // namespace

// AVX512-BF16 on top of the AVX-512 level (not required by it: Ice Lake lacks it).
bool has_avx512_bf16() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = isa_supported(Isa::Avx512) && cpu_features().avx512bf16;
  return has;
#else
  return false;
#endif
}

bool isa_supported(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  const CpuFeatures& cpu = cpu_features();
  switch (isa) {
    case Isa::Generic:
      return true;
    case Isa::Avx2:
      return cpu.avx2 && cpu.fma && cpu.f16c;
    case Isa::Avx512:
      return cpu.avx2 && cpu.fma && cpu.f16c && cpu.avx512f && cpu.avx512bw && cpu.avx512vl &&
             cpu.avx512dq && cpu.avx512vnni;
    case Isa::Amx: {
      if (!isa_supported(Isa::Avx512) || !cpu.avx512bf16 || !cpu.amx_tile || !cpu.amx_int8 ||
          !cpu.amx_bf16 || !cpu.os_amx)
        return false;
      static const bool granted = request_tile_state();
      return granted;
    }
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
    case Isa::Amx:
      return kAmxKernels;
    case Isa::Avx512:
      return has_avx512_bf16() ? kAvx512Bf16Kernels : kAvx512Kernels;
    case Isa::Avx2:
      return kAvx2Kernels;
    case Isa::Generic:
      break;
  }
  return kGenericKernels;
}

Isa choose_isa(const char* requested) {
  Isa best = Isa::Generic;
  for (Isa isa : {Isa::Avx2, Isa::Avx512, Isa::Amx})
    if (isa_supported(isa)) best = isa;
  if (requested == nullptr || *requested == '\0') return best;
  const std::string_view want(requested);
  for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512, Isa::Amx}) {
    if (want == isa_name(isa)) return static_cast<int>(isa) < static_cast<int>(best) ? isa : best;
  }
  fail("HEARTH_ISA='{}' is not a kernel level; use generic, avx2, avx512 or amx (or unset it)",
       want);
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
    for (const GemmKernel* g : {&kernel->batch, &kernel->prompt})
      if (g->fn != nullptr) s += fmt::format(" / {}+ tokens: {}", g->min_tokens, g->method);
    first = false;
  }
  return s + "); rmsnorm/silu/softmax/add: " + table.name;
}

}  // namespace hearth::cpu
