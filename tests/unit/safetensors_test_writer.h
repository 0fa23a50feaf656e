// A minimal safetensors writer for tests: builds files from named tensors, or from a raw
// header string for malformed-file cases.
#pragma once
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hearth::test {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // "F32", "F16", ...
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

// u64 header length, header, data. The header is padded with spaces to a multiple of 8
// bytes as the reference writer does (so F32 data stays aligned).
inline std::vector<uint8_t> raw_safetensors(std::string header, const std::vector<uint8_t>& data) {
  while (header.size() % 8 != 0) header += ' ';
  const uint64_t len = header.size();
  std::vector<uint8_t> out(8 + header.size() + data.size());
  std::memcpy(out.data(), &len, 8);
  std::memcpy(out.data() + 8, header.data(), header.size());
  if (!data.empty()) std::memcpy(out.data() + 8 + header.size(), data.data(), data.size());
  return out;
}

inline std::vector<uint8_t> make_safetensors(const std::vector<SafetensorsEntry>& tensors,
                                             const nlohmann::json& metadata = nullptr) {
  nlohmann::json header = nlohmann::json::object();
  std::vector<uint8_t> data;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", t.dtype},
                      {"shape", t.shape},
                      {"data_offsets", {data.size(), data.size() + t.data.size()}}};
    data.insert(data.end(), t.data.begin(), t.data.end());
  }
  if (!metadata.is_null()) header["__metadata__"] = metadata;
  return raw_safetensors(header.dump(), data);
}

inline std::vector<uint8_t> f32_bytes(const std::vector<float>& values) {
  std::vector<uint8_t> out(values.size() * 4);
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

}  // namespace hearth::test
