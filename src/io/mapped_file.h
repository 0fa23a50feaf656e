// A whole file mapped read-only into memory. Model weights are used straight from the
// mapping (no copy), so a TensorView's data pointer stays valid as long as the MappedFile
// (or the GGUFFile / SafetensorsFile that owns it) is alive. Moving keeps the mapping.
#pragma once
#include <cstdint>
#include <span>
#include <string>

namespace hearth::io {

class MappedFile {
 public:
  // Throws hearth::Error "cannot open PATH: <strerror>" (also for folders and other
  // non-regular files). An empty file is fine: size() is 0 and nothing is mapped.
  static MappedFile open(const std::string& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  // Never null, even for an empty file, so callers may pass it to memcpy and friends.
  const uint8_t* data() const;
  uint64_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data(), static_cast<size_t>(size_)}; }
  const std::string& path() const { return path_; }

 private:
  void release() noexcept;

  std::string path_;
  void* mapping_ = nullptr;  // null when nothing is mapped (empty file or moved-from)
  uint64_t size_ = 0;
};

}  // namespace hearth::io
