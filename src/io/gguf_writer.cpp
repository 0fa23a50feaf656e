// GGUF v3 writer. Layout decisions match llama.cpp's writer: general.alignment is always
// present, the data section starts at the next multiple of the alignment, and every
// tensor (the last one included) is padded with zeros to the alignment.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "io/gguf.h"

namespace hearth::io {
namespace {

constexpr uint32_t kWriteVersion = 3;
constexpr const char* kAlignmentKey = "general.alignment";

uint64_t align_up(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

class ByteBuffer {
 public:
  void put_bytes(const void* p, size_t n) {
    const size_t at = bytes_.size();
    bytes_.resize(at + n);
    if (n > 0) std::memcpy(bytes_.data() + at, p, n);
  }
  template <typename T>
  void put(T v) {
    put_bytes(&v, sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    put_bytes(s.data(), s.size());
  }
  void put_value(const GGUFValue& v) {
    switch (v.type) {
      case GGUFType::UINT8: return put(static_cast<uint8_t>(v.as_uint()));
      case GGUFType::INT8: return put(static_cast<int8_t>(v.as_int()));
      case GGUFType::UINT16: return put(static_cast<uint16_t>(v.as_uint()));
      case GGUFType::INT16: return put(static_cast<int16_t>(v.as_int()));
      case GGUFType::UINT32: return put(static_cast<uint32_t>(v.as_uint()));
      case GGUFType::INT32: return put(static_cast<int32_t>(v.as_int()));
      case GGUFType::FLOAT32: return put(static_cast<float>(v.as_float()));
      case GGUFType::BOOL: return put(static_cast<uint8_t>(v.as_bool() ? 1 : 0));
      case GGUFType::STRING: return put_string(v.as_string());
      case GGUFType::UINT64: return put(v.as_uint());
      case GGUFType::INT64: return put(v.as_int());
      case GGUFType::FLOAT64: return put(v.as_float());
      case GGUFType::ARRAY:
        put(static_cast<uint32_t>(v.elem_type));
        put<uint64_t>(v.as_array().size());
        for (const auto& e : v.as_array()) put_value(e);
        return;
    }
    fail("GGUFWriter: cannot write a value of {}", gguf_type_name(v.type));
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace

GGUFWriter::GGUFWriter(uint32_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    fail("GGUFWriter: alignment {} is not a power of two", alignment);
}

void GGUFWriter::set(std::string key, GGUFValue v) {
  for (auto& [k, value] : metadata_) {
    if (k == key) {
      value = std::move(v);
      return;
    }
  }
  metadata_.emplace_back(std::move(key), std::move(v));
}

void GGUFWriter::add_tensor(std::string name, DType type, std::vector<int64_t> shape,
                            const void* data, uint64_t nbytes) {
  for (const auto& t : tensors_)
    if (t.name == name) fail("GGUFWriter: tensor '{}' is added twice", name);
  if (!is_supported_weight_type(type))
    fail("GGUFWriter: tensor '{}' has type {}, which GGUF files for hearth cannot hold", name,
         dtype_name(type));
  TensorView view;  // for shape arithmetic and messages
  view.dtype = type;
  view.shape = shape;
  if (shape.size() > 4)
    fail("GGUFWriter: tensor '{}' has {} dimensions (at most 4)", name, shape.size());
  int64_t numel = 1;
  for (int64_t d : shape)
    if (d < 1 || __builtin_mul_overflow(numel, d, &numel))
      fail("GGUFWriter: tensor '{}' has invalid shape {}", name, view.shape_string());
  const auto& info = dtype_info(type);
  if (view.cols() % info.block_size != 0)
    fail("GGUFWriter: tensor '{}' has rows of {} elements, not a multiple of the {} block size {}",
         name, view.cols(), info.name, info.block_size);
  const auto expected = static_cast<uint64_t>(view.rows()) * view.row_bytes();
  if (nbytes != expected)
    fail("GGUFWriter: tensor '{}' ({} {}) needs {} bytes, got {}", name, info.name,
         view.shape_string(), expected, nbytes);
  if (data == nullptr) fail("GGUFWriter: tensor '{}' has no data", name);
  tensors_.push_back({std::move(name), type, std::move(shape), data, nbytes});
}

std::vector<uint8_t> GGUFWriter::header_bytes() const {
  const bool has_alignment_key =
      std::any_of(metadata_.begin(), metadata_.end(),
                  [](const auto& kv) { return kv.first == kAlignmentKey; });
  const GGUFValue alignment_value = GGUFValue::of_u32(alignment_);

  ByteBuffer out;
  out.put_bytes("GGUF", 4);
  out.put<uint32_t>(kWriteVersion);
  out.put<uint64_t>(tensors_.size());
  out.put<uint64_t>(metadata_.size() + (has_alignment_key ? 0 : 1));
  for (const auto& [key, value] : metadata_) {
    const GGUFValue& v = key == kAlignmentKey ? alignment_value : value;
    out.put_string(key);
    out.put(static_cast<uint32_t>(v.type));
    out.put_value(v);
  }
  if (!has_alignment_key) {
    out.put_string(kAlignmentKey);
    out.put(static_cast<uint32_t>(GGUFType::UINT32));
    out.put_value(alignment_value);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    out.put_string(t.name);
    out.put(static_cast<uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it)  // GGUF: innermost first
      out.put(static_cast<uint64_t>(*it));
    out.put(static_cast<uint32_t>(t.type));
    out.put(offset);
    offset += align_up(t.nbytes, alignment_);
  }
  return std::move(out.bytes());
}

uint64_t GGUFWriter::total_size() const {
  uint64_t total = align_up(header_bytes().size(), alignment_);
  for (const auto& t : tensors_) total += align_up(t.nbytes, alignment_);
  return total;
}

void GGUFWriter::emit(const Sink& sink, const std::function<void(uint64_t)>& on_progress) const {
  static const uint8_t kZeros[4096] = {};
  uint64_t written = 0;
  auto put = [&](const void* p, uint64_t n) {
    sink(p, n);
    written += n;
  };
  auto pad = [&] {
    for (uint64_t n = align_up(written, alignment_) - written; n > 0;) {
      const uint64_t chunk = std::min<uint64_t>(n, sizeof(kZeros));
      put(kZeros, chunk);
      n -= chunk;
    }
  };
  const auto header = header_bytes();
  put(header.data(), header.size());
  pad();
  on_progress(written);
  for (const auto& t : tensors_) {
    put(t.data, t.nbytes);
    pad();
    on_progress(written);
  }
}

std::vector<uint8_t> GGUFWriter::to_bytes() const {
  std::vector<uint8_t> out;
  emit([&](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  }, [](uint64_t) {});
  return out;
}

void GGUFWriter::write(const std::string& path,
                       const std::function<void(uint64_t, uint64_t)>& progress) const {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) fail("cannot write {}: {}", tmp, std::strerror(errno));
  const uint64_t total = total_size();
  try {
    emit([&](const void* p, size_t n) {
      if (std::fwrite(p, 1, n, f) != n) fail("cannot write {}: {}", tmp, std::strerror(errno));
    }, [&](uint64_t done) {
      if (progress) progress(done, total);
    });
    // Flush to disk before the rename so a crash never leaves a truncated file at PATH.
    if (std::fflush(f) != 0 || ::fsync(::fileno(f)) != 0)
      fail("cannot write {}: {}", tmp, std::strerror(errno));
    const int rc = std::fclose(f);
    f = nullptr;
    if (rc != 0) fail("cannot write {}: {}", tmp, std::strerror(errno));
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      fail("cannot rename {} to {}: {}", tmp, path, std::strerror(errno));
  } catch (...) {
    if (f != nullptr) std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
}

}  // namespace hearth::io
