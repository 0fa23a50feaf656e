// A read-only view of a weight tensor as it lies in a (memory-mapped) model file.
// Shapes are in row-major order, outermost first, as PyTorch and safetensors write them:
// a linear layer's weight is {out_features, in_features} and each of its `out` rows is
// `in` contiguous elements (possibly quantized blocks). GGUF stores dimensions innermost
// first; the GGUF reader reverses them so every tensor here reads the same way.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace hearth {

// How a matrix's rows are laid out in memory. Files store plain rows; the CPU backend may
// rearrange a matmul weight once at load into groups of 16 interleaved rows, the layout its
// fastest kernels read (backends/cpu/packed.h). Only matmul reads an interleaved tensor.
enum class RowLayout : uint8_t {
  Rows,           // row r at data + r * row_bytes()
  Interleaved16,  // 16-row groups, block by block (backends/cpu/packed.h)
};

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // outermost first
  const void* data = nullptr;
  uint64_t nbytes = 0;
  RowLayout layout = RowLayout::Rows;

  int64_t numel() const {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
  // Innermost dimension: the contiguous row length.
  int64_t cols() const { return shape.empty() ? 1 : shape.back(); }
  // Product of all outer dimensions.
  int64_t rows() const { return cols() == 0 ? 0 : numel() / cols(); }
  int64_t row_bytes() const { return dtype_row_bytes(dtype, cols()); }
  const uint8_t* row(int64_t r) const {
    return static_cast<const uint8_t*>(data) + static_cast<uint64_t>(r) * row_bytes();
  }
  std::string shape_string() const;  // "[512, 64]"
};

// One product of several with the same input (ops::matmul_shared_input): y = x · wᵀ.
struct MatmulOutput {
  const TensorView* w;
  float* y;
};

}  // namespace hearth
