// A model as the memory planner sees it: its config and the list of its weight tensors, from
// the catalog (tensors derived from the config) or from a local GGUF file or Hugging Face
// folder (tensors as the file lists them, read with hearth's own readers).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "fit/catalog.h"
#include "models/model_config.h"

namespace hearth::fit {

// More blocks than any real model has (the largest have about 130); a file claiming more is
// refused rather than planned.
inline constexpr int64_t kMaxPlanLayers = 4096;
// Likewise for hidden, FFN, vocabulary and attention widths (the largest are about 2^18).
inline constexpr int64_t kMaxPlanWidth = int64_t{1} << 24;

struct WeightTensor {
  std::string name;             // GGUF name: "blk.3.attn_q.weight"
  std::vector<int64_t> shape;   // outermost first
  int64_t layer = -1;           // block index; -1 for embeddings, output head, final norm
  bool expert = false;          // one expert's share of an MoE layer is read per token
  DType stored = DType::F32;    // local files: the type in the file
  uint64_t stored_bytes = 0;    // local files: the bytes in the file
};

struct ModelShape {
  std::string id;    // catalog id, or the resolved path of a local model
  std::string name;  // for display
  ModelConfig config;
  ArchExtras extras;
  std::vector<WeightTensor> tensors;
  // Local files only: the model can be planned "as is", in the type its matrices are stored
  // in, with the bytes the engine maps (whole files, metadata included).
  bool local = false;
  DType file_type = DType::F32;
  uint64_t mapped_bytes = 0;  // the files as mapped: weights and metadata
  uint64_t parsed_bytes = 0;  // heap the parsed metadata and tensor tables keep
};

// The tensors of a Llama-family decoder with this config, as hearth's loader (and llama.cpp)
// names them; MoE layers hold each expert projection as one 3-D tensor.
std::vector<WeightTensor> decoder_tensors(const ModelConfig& config, const ArchExtras& extras);

ModelShape shape_from_catalog(const CatalogModel& model);
// `spec`: a .gguf file, an HF folder or a model id hearth can find (io::locate_model). Reads
// the config and the tensor list, not the weights. Throws hearth::Error with one line saying
// why when `spec` is not a model hearth can read.
ModelShape shape_from_local(const std::string& spec);

int64_t parameter_count(const ModelShape& model);

}  // namespace hearth::fit
