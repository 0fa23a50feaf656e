// GGUF model files (versions 2 and 3, little-endian): reader and writer.
//
// Layout (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md):
//   "GGUF" u32 version, u64 tensor_count, u64 kv_count,
//   kv_count x (string key, u32 value type, value),
//   tensor_count x (string name, u32 n_dims, u64 dims[n_dims] innermost first,
//                   u32 ggml type, u64 offset relative to the data section),
//   padding to `general.alignment` (default 32), then the data section.
// A string is a u64 byte length followed by the bytes (no terminator). An array value is
// u32 element type, u64 count, then the elements (arrays may nest).
//
// GGUFFile::open validates the whole header and every tensor's extent up front, so code
// that reads tensors afterwards can trust their shapes and sizes. Each error is one line
// that starts with the file path.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"
#include "io/gguf_value.h"
#include "io/mapped_file.h"

namespace hearth::io {

inline constexpr uint32_t kGGUFDefaultAlignment = 32;

// The tensor types hearth loads from GGUF (it has kernels for them): F32, F16, BF16, Q8_0,
// Q4_0, Q4_K, Q6_K. Files with other types are rejected when opened.
bool is_supported_weight_type(DType t);

class GGUFFile {
 public:
  // Maps the file and validates it; throws hearth::Error (cannot open) or
  // hearth::FormatError (malformed file).
  static GGUFFile open(const std::string& path);
  // Parses bytes that are already in memory (tests, fuzzing). The bytes are not copied:
  // they must outlive the returned object. `name` stands in for the path in messages.
  static GGUFFile open_memory(std::span<const uint8_t> bytes, std::string name = "<memory>");

  uint32_t version() const { return version_; }
  const std::string& path() const { return path_; }
  uint32_t alignment() const { return alignment_; }
  // Absolute file offset of the data section (tensor offsets are relative to it).
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return bytes_.size(); }
  std::span<const uint8_t> bytes() const { return bytes_; }  // the whole file
  // True when the bytes are a private read-only map of a file (open), false for open_memory.
  bool is_file_mapping() const { return file_.size() > 0; }

  const std::vector<std::pair<std::string, GGUFValue>>& metadata() const { return metadata_; }
  const GGUFValue* find(std::string_view key) const;

  // Typed getters. get_*: a missing key throws FormatError
  // "PATH: metadata key 'K' is missing"; find_*: a missing key gives nullopt. Both throw
  // "PATH: metadata key 'K' has type T, expected ..." for a value of the wrong type.
  int64_t get_int(std::string_view key) const;
  std::optional<int64_t> find_int(std::string_view key) const;
  double get_float(std::string_view key) const;  // integers convert
  std::optional<double> find_float(std::string_view key) const;
  std::string get_string(std::string_view key) const;
  std::optional<std::string> find_string(std::string_view key) const;
  std::optional<bool> find_bool(std::string_view key) const;
  std::vector<std::string> get_string_array(std::string_view key) const;
  std::vector<float> get_float_array(std::string_view key) const;    // any numeric elements
  std::vector<int32_t> get_int_array(std::string_view key) const;    // integers within int32

  // Shapes are outermost first (the reverse of GGUF's dims); data points into the file.
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* find_tensor(std::string_view name) const;
  // A missing tensor throws FormatError "PATH: tensor 'N' is missing".
  const TensorView& tensor(std::string_view name) const;

 private:
  friend class GGUFParser;
  GGUFFile() = default;

  const GGUFValue& require(std::string_view key) const;
  [[noreturn]] void wrong_type(std::string_view key, const GGUFValue& v,
                               const char* expected) const;

  MappedFile file_;                 // empty for open_memory
  std::span<const uint8_t> bytes_;  // the whole file
  std::string path_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kGGUFDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GGUFValue>> metadata_;
  std::map<std::string, size_t, std::less<>> metadata_index_;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

// Writes GGUF v3 files: metadata in insertion order (plus `general.alignment`), tensor
// infos, then each tensor's data padded with zeros to the alignment.
class GGUFWriter {
 public:
  // `alignment` must be a power of two (and a multiple of 8 is wise for the F32 data that
  // follows); throws hearth::Error otherwise.
  explicit GGUFWriter(uint32_t alignment = kGGUFDefaultAlignment);

  // Adds a metadata entry; an existing key keeps its position and gets the new value.
  // `general.alignment` is always written with the writer's alignment.
  void set(std::string key, GGUFValue v);
  // Registers a tensor; `data` (nbytes bytes, which must equal the size implied by type
  // and shape) must stay alive until write(). Throws hearth::Error on an invalid shape,
  // a size mismatch, an unsupported type or a duplicate name.
  void add_tensor(std::string name, DType type, std::vector<int64_t> shape_outermost_first,
                  const void* data, uint64_t nbytes);

  // Writes PATH.tmp and renames it to PATH, so readers never see a half-written file.
  // `progress` (optional) gets bytes written so far and the file's total size.
  void write(const std::string& path,
             const std::function<void(uint64_t done, uint64_t total)>& progress = {}) const;
  // The complete file as bytes (tests, fuzz seeds, small files).
  std::vector<uint8_t> to_bytes() const;

  uint32_t alignment() const { return alignment_; }

 private:
  struct PendingTensor {
    std::string name;
    DType type;
    std::vector<int64_t> shape;  // outermost first
    const void* data;
    uint64_t nbytes;
  };
  using Sink = std::function<void(const void* bytes, size_t n)>;

  std::vector<uint8_t> header_bytes() const;  // everything before the data section
  uint64_t total_size() const;
  void emit(const Sink& sink, const std::function<void(uint64_t)>& on_progress) const;

  uint32_t alignment_;
  std::vector<std::pair<std::string, GGUFValue>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace hearth::io
