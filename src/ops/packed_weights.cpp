#include "ops/packed_weights.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include "backends/cpu/dispatch.h"
#include "backends/cpu/packed.h"
#include "core/error.h"

namespace hearth::ops {
namespace {

// Returns whole pages inside [p, p + n) to the OS. Only for private read-only file maps:
// there, a dropped page is read back from the file on the next touch.
void release_file_pages(const void* p, uint64_t n) {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const auto end = (reinterpret_cast<uintptr_t>(p) + n) / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace

PackedWeights::~PackedWeights() {
  for (Copy& c : copies_) ::munmap(c.data, c.size);
}

const TensorView& PackedWeights::prepare(const TensorView& W, bool source_is_file_mapping) {
  const cpu::MatmulKernel* kernel = nullptr;
  if (W.layout == RowLayout::Rows && W.shape.size() == 2 && W.data != nullptr &&
      cpu::packable(W.dtype, W.rows(), W.cols()) &&
      W.nbytes >= static_cast<uint64_t>(W.rows() * W.row_bytes()))
    kernel = &cpu::matmul_kernel(cpu::active_kernels(), W.dtype);
  if (kernel == nullptr || kernel->packed == nullptr) return W;

  const size_t size = static_cast<size_t>(W.rows() * W.row_bytes());
  // Anonymous pages, not the heap: a large block the OS can give back whole on unload.
  void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (data == MAP_FAILED)
    fail("out of memory rearranging {} ({} bytes) for the CPU kernels; free some RAM or use a "
         "smaller model", W.name, size);
  cpu::pack_rows16(W.dtype, static_cast<const uint8_t*>(W.data), W.rows(), W.cols(),
                   static_cast<uint8_t*>(data));
  if (source_is_file_mapping) release_file_pages(W.data, size);
  Copy& c = copies_.emplace_back();
  c.data = data;
  c.size = size;
  c.view = W;
  c.view.data = data;
  c.view.nbytes = size;
  c.view.layout = RowLayout::Interleaved16;
  bytes_ += size;
  return c.view;
}

}  // namespace hearth::ops
