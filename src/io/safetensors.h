// Hugging Face safetensors weights: one file, or a folder with shards.
//
// Format (https://huggingface.co/docs/safetensors): u64 little-endian header length N, N
// bytes of JSON {"NAME": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
// ..., "__metadata__": {..}}, then the data buffer; offsets are relative to its start.
// Everything is validated when a file is opened; tensors point into the memory map.
#pragma once
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"
#include "io/mapped_file.h"

namespace hearth::io {

// Largest JSON header accepted (the reference implementation's limit).
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

class SafetensorsFile {
 public:
  // Throws hearth::Error (cannot open) or hearth::FormatError (malformed), each one line
  // starting with the path. Supported dtypes: F32, F16, BF16.
  static SafetensorsFile open(const std::string& path);
  // Parses bytes already in memory (tests, fuzzing); they are not copied and must outlive
  // the result. `name` stands in for the path in messages.
  static SafetensorsFile parse(std::span<const uint8_t> bytes, std::string name = "<memory>");

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  const std::string& path() const { return path_; }
  // In file order (by data offset).
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* find_tensor(std::string_view name) const;
  // A missing tensor throws FormatError "PATH: tensor 'N' is missing".
  const TensorView& tensor(std::string_view name) const;
  // The "__metadata__" object, or an empty object when the file has none.
  const nlohmann::json& metadata() const { return *metadata_; }

 private:
  friend class SafetensorsParser;
  SafetensorsFile();

  MappedFile file_;  // empty for parse()
  std::string path_;
  std::unique_ptr<nlohmann::json> metadata_;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
};

// A Hugging Face model folder's weights: model.safetensors, or the shards listed by
// model.safetensors.index.json ({"weight_map": {tensor name: shard file name}}).
class SafetensorsModel {
 public:
  // Throws hearth::Error / FormatError naming the folder or file that is wrong, e.g. a
  // shard the index lists but the folder lacks.
  static SafetensorsModel open_folder(const std::string& dir);

  const std::string& folder() const { return dir_; }
  const std::vector<SafetensorsFile>& files() const { return files_; }
  const TensorView* find_tensor(std::string_view name) const;
  // A missing tensor throws FormatError "DIR: tensor 'N' is missing".
  const TensorView& tensor(std::string_view name) const;
  // Every tensor once: shards in file-name order, each in file order. The pointers stay
  // valid as long as this object (moved or not) lives.
  std::vector<const TensorView*> tensors() const { return order_; }

 private:
  void add_tensor(const TensorView& t, const std::string& file);

  std::string dir_;
  std::vector<SafetensorsFile> files_;
  std::map<std::string, const TensorView*, std::less<>> index_;
  std::map<std::string, std::string, std::less<>> source_file_;  // tensor -> shard, for errors
  std::vector<const TensorView*> order_;
};

}  // namespace hearth::io
