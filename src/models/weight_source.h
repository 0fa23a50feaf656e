// Where a model's tensors come from. Architectures ask for tensors by their GGUF name
// ("blk.3.attn_q.weight"); an HF folder answers through a name map, so one forward pass serves
// both formats. The source owns the memory maps the TensorViews point into.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"

namespace hearth {
namespace io {
class GGUFFile;
class SafetensorsModel;
}  // namespace io

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  // nullptr when absent.
  virtual const TensorView* find(std::string_view gguf_name) const = 0;
  // Where the weights came from, for messages: a file or folder path.
  virtual const std::string& path() const = 0;
  // Every tensor, under its GGUF name (what quantize writes).
  virtual std::vector<std::pair<std::string, const TensorView*>> all() const = 0;

  // Missing -> FormatError naming the tensor (and its name in the file when it differs).
  const TensorView& get(std::string_view gguf_name) const;
  // Missing, wrong shape or an unusable dtype -> FormatError with what was expected.
  const TensorView& get(std::string_view gguf_name, const std::vector<int64_t>& shape) const;
  // Whether the tensors are read-only maps of the model file that the process may drop pages
  // of (they reload from the file): then a rearranged copy need not keep the original resident.
  virtual bool mapped_from_file() const { return false; }
  // The name the file itself uses for a tensor (identity for GGUF).
  virtual std::string file_name(std::string_view gguf_name) const { return std::string(gguf_name); }
};

std::unique_ptr<WeightSource> gguf_weights(std::shared_ptr<const io::GGUFFile> file);
std::unique_ptr<WeightSource> hf_weights(std::shared_ptr<const io::SafetensorsModel> model,
                                         std::string folder);

// "blk.3.attn_q.weight" -> "model.layers.3.self_attn.q_proj.weight" (Llama family), or "" when
// the name has no HF counterpart.
std::string hf_name_for(std::string_view gguf_name);

}  // namespace hearth
