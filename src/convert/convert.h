// Writing models: `hearth quantize` (any loadable model -> GGUF of another weight type) and
// `hearth synth` (a real architecture's shapes with random weights, for benchmarks).
// Both produce files llama.cpp can load: GGUF v3, llama.* metadata, GGUF tensor names, q/k rows
// in GGUF's interleaved-RoPE order.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace hearth {

// done/total in bytes written; also used for the quantization phase.
using ProgressFn = std::function<void(const char* phase, uint64_t done, uint64_t total)>;

struct QuantizeOptions {
  std::string input;      // .gguf file or HF folder
  std::string output;     // .gguf file
  DType type = DType::Q8_0;
  std::string tokenizer;  // GGUF whose vocabulary to embed (HF input); "" = input's own
  int threads = 0;
};

struct QuantizeReport {
  uint64_t bytes_in = 0, bytes_out = 0;
  int64_t n_tensors = 0;
  int64_t n_fallback = 0;  // matrices whose rows do not fit the block size, stored as F16
};

QuantizeReport quantize_model(const QuantizeOptions& options, const ProgressFn& progress = {});

struct SynthOptions {
  std::string shape;   // see synth_shape_names()
  DType type = DType::Q8_0;
  std::string vocab;   // GGUF to copy the vocabulary from
  std::string output;
  uint64_t seed = 42;
  float weight_std = 0.02f;  // spread of the random matrices (a trained layer's is about 0.02)
  int threads = 0;
};

// The shapes synth knows, for help texts and errors.
const char* synth_shape_names();
void synth_model(const SynthOptions& options, const ProgressFn& progress = {});

// The type a tensor of this shape (outermost first) is stored as when a model is converted to
// `target`: 1-D tensors (norms) stay F32; matrices whose rows are not whole blocks of `target`
// fall back to F16, as llama.cpp does. The memory planner (src/fit) applies the same rule.
DType quantized_tensor_type(const std::vector<int64_t>& shape, DType target);

// GGUF's general.file_type (llama_ftype) for a file whose matrices are mostly `t`.
uint32_t gguf_file_type(DType t);

}  // namespace hearth
