// Matmul weights rearranged once, at model load, into the layout the fastest kernels of this
// CPU read (backends/cpu/packed.h: 16 interleaved rows, for Q8_0 and Q4_0 on AVX-512 VNNI).
// The model asks for every matmul weight through prepare(); where no faster layout exists it
// gets its own view back, so one forward pass serves every CPU.
#pragma once
#include <deque>
#include <memory>

#include "core/tensor.h"

namespace hearth::ops {

class PackedWeights {
 public:
  PackedWeights() = default;
  PackedWeights(const PackedWeights&) = delete;
  PackedWeights& operator=(const PackedWeights&) = delete;
  ~PackedWeights();

  // W itself, or a view of an interleaved copy that lives as long as this object.
  // source_is_file_mapping: W's bytes are a read-only map of a model file that nothing else
  // reads once the copy exists; their pages are then handed back to the OS (they reload from
  // the file if ever touched), so resident memory holds one copy of the weights, not two.
  const TensorView& prepare(const TensorView& W, bool source_is_file_mapping);

  // Bytes held in packed copies.
  uint64_t bytes() const { return bytes_; }

 private:
  struct Copy {
    void* data = nullptr;
    size_t size = 0;
    TensorView view;
  };
  std::deque<Copy> copies_;  // deque: views stay put as it grows
  uint64_t bytes_ = 0;
};

}  // namespace hearth::ops
