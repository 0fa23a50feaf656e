// Parsing and validation of GGUF files. Every read is bounds-checked against the file, no
// allocation is sized by an unchecked count, and the loops consume at least one byte per
// step, so a corrupt or hostile file ends in a FormatError, never a crash, hang or huge
// allocation.
#include <algorithm>
#include <bit>
#include <cstring>

#include "core/error.h"
#include "io/one_line.h"
#include "io/gguf.h"

namespace hearth::io {

static_assert(std::endian::native == std::endian::little,
              "the GGUF reader maps little-endian data directly; big-endian hosts need a port");

// The weight types hearth has kernels for, in the order the error message lists them.
constexpr DType kSupportedTensorTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0,
                                           DType::Q4_0, DType::Q4_K, DType::Q6_K};

bool is_supported_weight_type(DType t) {
  for (DType s : kSupportedTensorTypes)
    if (s == t) return true;
  return false;
}

namespace {

constexpr uint32_t kMaxDims = 4;
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // name length, n_dims, type, offset
// Nested arrays are legal but real files use at most one level; the cap bounds recursion.
constexpr int kMaxArrayDepth = 16;
// Largest metadata array we accept. The biggest real ones are vocabularies and merge lists
// (well under a million entries); the cap bounds memory for corrupt counts (each element
// costs ~48 bytes in memory even when it is 1 byte in the file).
constexpr uint64_t kMaxArrayElements = uint64_t{1} << 24;

std::string supported_types_list() {
  std::string s;
  for (DType t : kSupportedTensorTypes) {
    if (!s.empty()) s += ", ";
    s += dtype_name(t);
  }
  return s;
}

std::string quoted_bytes(const uint8_t* p, size_t n) {
  std::string s = "\"";
  for (size_t i = 0; i < n; ++i) {
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
      s += static_cast<char>(p[i]);
    else
      s += fmt::format("\\x{:02x}", p[i]);
  }
  return s + "\"";
}

// Smallest number of bytes one element of `t` takes in the file.
uint64_t min_encoded_size(GGUFType t) {
  switch (t) {
    case GGUFType::UINT8:
    case GGUFType::INT8:
    case GGUFType::BOOL:
      return 1;
    case GGUFType::UINT16:
    case GGUFType::INT16:
      return 2;
    case GGUFType::UINT32:
    case GGUFType::INT32:
    case GGUFType::FLOAT32:
      return 4;
    case GGUFType::STRING:
    case GGUFType::UINT64:
    case GGUFType::INT64:
    case GGUFType::FLOAT64:
      return 8;
    case GGUFType::ARRAY:
      return 12;  // element type + count
  }
  return 1;
}

}  // namespace

// Reads one file front to back. `context_` names what is being read, for error messages.
class GGUFParser {
 public:
  explicit GGUFParser(GGUFFile& file)
      : f_(file), data_(file.bytes_.data()), size_(file.bytes_.size()) {}

  void parse() {
    read_header();
    read_metadata();
    read_alignment();
    read_tensor_infos();
    place_tensors();
  }

 private:
  struct TensorInfo {
    std::string name;
    std::vector<uint64_t> dims;  // as in the file: innermost first
    uint32_t ggml_type = 0;
    uint64_t offset = 0;
  };

  template <typename... Args>
  [[noreturn]] void error(fmt::format_string<Args...> format, Args&&... args) const {
    throw FormatError(
        one_line(fmt::format("{}: {}", f_.path_, fmt::format(format, std::forward<Args>(args)...))));
  }
  [[noreturn]] void truncated() const {
    error("truncated at byte {} while reading {}", size_, context_);
  }
  uint64_t remaining() const { return size_ - pos_; }

  template <typename T>
  T read() {
    if (remaining() < sizeof(T)) truncated();
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string() {
    const uint64_t at = pos_;
    const auto len = read<uint64_t>();
    if (len > remaining()) {
      if (len > size_)
        error("corrupt string length {} at byte {} while reading {} (the file has only {} bytes)",
              len, at, context_, size_);
      truncated();
    }
    std::string s(reinterpret_cast<const char*>(data_ + pos_), len);
    pos_ += len;
    return s;
  }

  // Rejects a count (read at `at`) that even the whole file could not hold. A count that
  // merely exceeds the rest of a cut-off file passes: reading the items then reports the
  // truncation with its exact place.
  void check_count(uint64_t count, uint64_t min_item_bytes, uint64_t at, const char* what) const {
    if (count > size_ / min_item_bytes)
      error("corrupt {} {} at byte {} while reading {} (the file has only {} bytes)", what, count,
            at, context_, size_);
  }
  // How many items to reserve room for: never more than the rest of the file can hold.
  uint64_t reservable(uint64_t count, uint64_t min_item_bytes) const {
    return std::min(count, remaining() / min_item_bytes);
  }

  void read_header() {
    context_ = "the header";
    if (size_ == 0) error("not a GGUF file (the file is empty)");
    const size_t magic_len = size_ < 4 ? size_ : 4;
    if (std::memcmp(data_, "GGUF", magic_len) != 0)
      error("not a GGUF file (magic {}, expected \"GGUF\")", quoted_bytes(data_, magic_len));
    if (size_ < 4) truncated();
    pos_ = 4;
    const auto version = read<uint32_t>();
    if (version == 1)
      error("GGUF v1 is not supported; re-convert the model with a current converter");
    if (version != 2 && version != 3) {
      const uint32_t swapped = __builtin_bswap32(version);
      if (swapped >= 1 && swapped <= 3)
        error("big-endian GGUF files are not supported; use a little-endian conversion");
      error("unsupported GGUF version {} (hearth reads versions 2 and 3)", version);
    }
    f_.version_ = version;
    uint64_t at = pos_;
    tensor_count_ = read<uint64_t>();
    check_count(tensor_count_, kMinTensorInfoBytes, at, "tensor count");
    at = pos_;
    kv_count_ = read<uint64_t>();
    check_count(kv_count_, 8 + 4 + 1, at, "metadata count");  // key length + type + 1 byte
  }

  void read_metadata() {
    for (uint64_t i = 0; i < kv_count_; ++i) {
      context_ = fmt::format("the key of metadata entry {}", i);
      std::string key = read_string();
      context_ = fmt::format("the value of metadata key '{}'", key);
      const auto raw_type = read<uint32_t>();
      if (!gguf_type_is_valid(raw_type))
        error("metadata key '{}' has unknown value type {}", key, raw_type);
      GGUFValue value = read_value(static_cast<GGUFType>(raw_type), 0);
      if (!f_.metadata_index_.emplace(key, f_.metadata_.size()).second)
        error("metadata key '{}' appears twice", key);
      f_.metadata_.emplace_back(std::move(key), std::move(value));
    }
  }

  GGUFValue read_value(GGUFType type, int depth) {
    switch (type) {
      case GGUFType::UINT8: return GGUFValue::of_u8(read<uint8_t>());
      case GGUFType::INT8: return GGUFValue::of_i8(read<int8_t>());
      case GGUFType::UINT16: return GGUFValue::of_u16(read<uint16_t>());
      case GGUFType::INT16: return GGUFValue::of_i16(read<int16_t>());
      case GGUFType::UINT32: return GGUFValue::of_u32(read<uint32_t>());
      case GGUFType::INT32: return GGUFValue::of_i32(read<int32_t>());
      case GGUFType::FLOAT32: return GGUFValue::of_f32(read<float>());
      case GGUFType::BOOL: return GGUFValue::of_bool(read<uint8_t>() != 0);
      case GGUFType::STRING: return GGUFValue::of_string(read_string());
      case GGUFType::UINT64: return GGUFValue::of_u64(read<uint64_t>());
      case GGUFType::INT64: return GGUFValue::of_i64(read<int64_t>());
      case GGUFType::FLOAT64: return GGUFValue::of_f64(read<double>());
      case GGUFType::ARRAY: return read_array(depth);
    }
    error("internal error: unhandled GGUF type {}", static_cast<uint32_t>(type));
  }

  GGUFValue read_array(int depth) {
    if (depth >= kMaxArrayDepth)
      error("arrays nested more than {} levels deep while reading {}", kMaxArrayDepth, context_);
    const auto raw_elem = read<uint32_t>();
    if (!gguf_type_is_valid(raw_elem))
      error("unknown array element type {} while reading {}", raw_elem, context_);
    const auto elem = static_cast<GGUFType>(raw_elem);
    const uint64_t at = pos_;
    const auto count = read<uint64_t>();
    check_count(count, min_encoded_size(elem), at, "array count");
    if (count > kMaxArrayElements)
      error("array of {} elements at byte {} while reading {} exceeds the limit of {} elements",
            count, at, context_, kMaxArrayElements);
    std::vector<GGUFValue> elems;
    elems.reserve(reservable(count, min_encoded_size(elem)));
    for (uint64_t i = 0; i < count; ++i) elems.push_back(read_value(elem, depth + 1));
    return GGUFValue::of_array(elem, std::move(elems));
  }

  void read_alignment() {
    const GGUFValue* v = f_.find("general.alignment");
    if (v == nullptr) return;
    if (v->type != GGUFType::UINT32)
      error("metadata key 'general.alignment' has type {}, expected UINT32", v->type_name());
    const uint64_t a = v->as_uint();
    if (a == 0 || (a & (a - 1)) != 0)
      error("general.alignment is {}; it must be a power of two", a);
    f_.alignment_ = static_cast<uint32_t>(a);
  }

  void read_tensor_infos() {
    infos_.reserve(reservable(tensor_count_, kMinTensorInfoBytes));
    for (uint64_t i = 0; i < tensor_count_; ++i) {
      context_ = fmt::format("the info of tensor {}", i);
      TensorInfo info;
      info.name = read_string();
      context_ = fmt::format("the info of tensor '{}'", info.name);
      const auto n_dims = read<uint32_t>();
      if (n_dims > kMaxDims)
        error("tensor '{}' has {} dimensions (at most {} are supported)", info.name, n_dims,
              kMaxDims);
      for (uint32_t d = 0; d < n_dims; ++d) info.dims.push_back(read<uint64_t>());
      info.ggml_type = read<uint32_t>();
      info.offset = read<uint64_t>();
      if (!f_.tensor_index_.emplace(info.name, i).second)
        error("tensor '{}' appears twice", info.name);
      infos_.push_back(std::move(info));
    }
  }

  // Turns the infos into views, checking shape, type, alignment and extent of each.
  void place_tensors() {
    const uint64_t a = f_.alignment_;
    f_.data_offset_ = (pos_ + a - 1) / a * a;  // pos_ <= size_, so this cannot overflow
    f_.tensors_.reserve(infos_.size());
    for (const auto& info : infos_) f_.tensors_.push_back(make_view(info));
  }

  TensorView make_view(const TensorInfo& info) const {
    TensorView view;
    view.name = info.name;
    view.shape.assign(info.dims.rbegin(), info.dims.rend());
    int64_t numel = 1;
    for (uint64_t d : info.dims) {
      if (d == 0 || d > static_cast<uint64_t>(INT64_MAX))
        error("tensor '{}' has invalid shape {} (every dimension must be at least 1)", info.name,
              view.shape_string());
      if (__builtin_mul_overflow(numel, static_cast<int64_t>(d), &numel))
        error("tensor '{}' has shape {}, whose element count overflows 64 bits", info.name,
              view.shape_string());
    }

    const auto dtype = dtype_from_ggml(info.ggml_type);
    if (!dtype || !is_supported_weight_type(*dtype)) {
      // ggml_type_name gives "type N" for ids GGML itself does not define.
      const std::string name = ggml_type_name(info.ggml_type);
      error("tensor '{}' has {}, which hearth does not support (supported: {})", info.name,
            name.starts_with("type ") ? "unknown " + name : "type " + name,
            supported_types_list());
    }
    view.dtype = *dtype;

    const int64_t row_len = view.cols();
    const auto& dinfo = dtype_info(view.dtype);
    if (row_len % dinfo.block_size != 0)
      error("tensor '{}' has rows of {} elements, not a multiple of the {} block size {}",
            info.name, row_len, dinfo.name, dinfo.block_size);
    const auto row_bytes = static_cast<uint64_t>(dtype_row_bytes(view.dtype, row_len));
    if (__builtin_mul_overflow(static_cast<uint64_t>(view.rows()), row_bytes, &view.nbytes))
      error("tensor '{}' with shape {} and type {} is larger than 2^64 bytes", info.name,
            view.shape_string(), dinfo.name);

    if (info.offset % f_.alignment_ != 0)
      error("tensor '{}' offset {} is not a multiple of the alignment {}", info.name, info.offset,
            f_.alignment_);
    uint64_t start = 0;
    if (__builtin_add_overflow(f_.data_offset_, info.offset, &start)) start = UINT64_MAX;
    if (start > size_ || view.nbytes > size_ - start)
      error("tensor '{}' ({}+{}) extends past the end of the file (size {})", info.name, start,
            view.nbytes, size_);
    view.data = data_ + start;
    return view;
  }

  GGUFFile& f_;
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  std::string context_;
  uint64_t tensor_count_ = 0;
  uint64_t kv_count_ = 0;
  std::vector<TensorInfo> infos_;
};

GGUFFile GGUFFile::open(const std::string& path) {
  GGUFFile f;
  f.file_ = MappedFile::open(path);
  f.bytes_ = f.file_.bytes();
  f.path_ = path;
  GGUFParser(f).parse();
  return f;
}

GGUFFile GGUFFile::open_memory(std::span<const uint8_t> bytes, std::string name) {
  static const uint8_t kEmpty = 0;
  GGUFFile f;
  f.bytes_ = bytes.data() != nullptr ? bytes : std::span<const uint8_t>(&kEmpty, 0);
  f.path_ = std::move(name);
  GGUFParser(f).parse();
  return f;
}

}  // namespace hearth::io
