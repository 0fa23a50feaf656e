// Parsing and validation of one safetensors file.
#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/one_line.h"
#include "io/json_file.h"

namespace hearth::io {
namespace {

struct DTypeName {
  const char* name;
  DType dtype;
};
constexpr DTypeName kSupported[] = {{"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}};

}  // namespace

class SafetensorsParser {
 public:
  explicit SafetensorsParser(SafetensorsFile& f, std::span<const uint8_t> bytes)
      : f_(f), bytes_(bytes) {}

  void parse() {
    const uint64_t size = bytes_.size();
    if (size < 8) error("too small to be a safetensors file ({} bytes)", size);
    uint64_t header_len = 0;
    std::memcpy(&header_len, bytes_.data(), 8);
    if (header_len > kSafetensorsMaxHeaderBytes)
      error("header length {} exceeds the {} MB limit (not a safetensors file?)", header_len,
            kSafetensorsMaxHeaderBytes / 1'000'000);
    if (header_len > size - 8)
      error("header length {} extends past the end of the file (size {})", header_len, size);
    data_ = bytes_.data() + 8 + header_len;
    data_size_ = size - 8 - header_len;

    const std::string_view text(reinterpret_cast<const char*>(bytes_.data()) + 8, header_len);
    const nlohmann::json header = parse_json(text, f_.path_ + " (header)");
    if (!header.is_object()) error("the header is not a JSON object");
    for (const auto& [name, entry] : header.items()) {
      if (name == "__metadata__") {
        if (!entry.is_object()) error("\"__metadata__\" is not a JSON object");
        *f_.metadata_ = entry;
      } else {
        f_.tensors_.push_back(make_view(name, entry));
      }
    }
    // JSON objects have no order; file order (by offset) is what people expect to see.
    std::sort(f_.tensors_.begin(), f_.tensors_.end(), [](const TensorView& a, const TensorView& b) {
      return a.data != b.data ? a.data < b.data : a.name < b.name;
    });
    for (size_t i = 0; i < f_.tensors_.size(); ++i) f_.index_.emplace(f_.tensors_[i].name, i);
  }

 private:
  template <typename... Args>
  [[noreturn]] void error(fmt::format_string<Args...> format, Args&&... args) const {
    throw FormatError(
        one_line(fmt::format("{}: {}", f_.path_, fmt::format(format, std::forward<Args>(args)...))));
  }

  TensorView make_view(const std::string& name, const nlohmann::json& entry) const {
    if (!entry.is_object()) error("tensor '{}' is not described by a JSON object", name);
    TensorView view;
    view.name = name;

    const auto dtype_it = entry.find("dtype");
    if (dtype_it == entry.end() || !dtype_it->is_string())
      error("tensor '{}' has no \"dtype\" string", name);
    const auto& dtype = dtype_it->get_ref<const std::string&>();
    const auto* known = std::find_if(std::begin(kSupported), std::end(kSupported),
                                     [&](const DTypeName& d) { return dtype == d.name; });
    if (known == std::end(kSupported))
      error("tensor '{}' has dtype {}, which hearth does not support (supported: F32, F16, BF16)",
            name, dtype);
    view.dtype = known->dtype;

    const auto shape_it = entry.find("shape");
    if (shape_it == entry.end() || !shape_it->is_array())
      error("tensor '{}' has no \"shape\" list", name);
    for (const auto& d : *shape_it) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > uint64_t{INT64_MAX})
        error("tensor '{}' has an invalid \"shape\" (dimensions must be non-negative integers)",
              name);
      view.shape.push_back(d.get<int64_t>());
    }
    // TensorView counts elements in int64_t, so the product must stay below 2^63.
    uint64_t numel = 1;
    for (int64_t d : view.shape)
      if (__builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel) ||
          numel > uint64_t{INT64_MAX})
        error("tensor '{}' has shape {}, whose element count overflows 64 bits", name,
              view.shape_string());

    const auto offsets_it = entry.find("data_offsets");
    if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
        !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned())
      error("tensor '{}' has no valid \"data_offsets\" (expected [begin, end])", name);
    const auto begin = (*offsets_it)[0].get<uint64_t>();
    const auto end = (*offsets_it)[1].get<uint64_t>();
    if (begin > end)
      error("tensor '{}' has data_offsets [{}, {}] with begin after end", name, begin, end);
    if (end > data_size_)
      error("tensor '{}' (data_offsets [{}, {}]) extends past the end of the file (the data "
            "section has {} bytes)",
            name, begin, end, data_size_);
    const auto elem_bytes = static_cast<uint64_t>(dtype_info(view.dtype).block_bytes);
    uint64_t expected = 0;
    if (__builtin_mul_overflow(numel, elem_bytes, &expected) || expected != end - begin)
      error("tensor '{}' has {} bytes of data, but {} with shape {} needs {} elements x {} bytes",
            name, end - begin, dtype, view.shape_string(), numel, elem_bytes);
    view.data = data_ + begin;
    view.nbytes = end - begin;
    return view;
  }

  SafetensorsFile& f_;
  std::span<const uint8_t> bytes_;
  const uint8_t* data_ = nullptr;
  uint64_t data_size_ = 0;
};

SafetensorsFile::SafetensorsFile() : metadata_(std::make_unique<nlohmann::json>(nlohmann::json::object())) {}
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  SafetensorsFile f;
  f.file_ = MappedFile::open(path);
  f.path_ = path;
  SafetensorsParser(f, f.file_.bytes()).parse();
  return f;
}

SafetensorsFile SafetensorsFile::parse(std::span<const uint8_t> bytes, std::string name) {
  SafetensorsFile f;
  f.path_ = std::move(name);
  SafetensorsParser(f, bytes).parse();
  return f;
}

const TensorView* SafetensorsFile::find_tensor(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const TensorView& SafetensorsFile::tensor(std::string_view name) const {
  const TensorView* t = find_tensor(name);
  if (t == nullptr) fail_format("{}: tensor '{}' is missing", path_, name);
  return *t;
}

}  // namespace hearth::io
