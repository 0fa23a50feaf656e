#include "fit/file_index.h"

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "io/gguf.h"
#include "io/safetensors.h"

namespace hearth::fit {
namespace {

// A string's own heap buffer: none while it fits in the object (the short-string buffer).
uint64_t heap_of(const std::string& s) {
  const auto* self = reinterpret_cast<const char*>(&s);
  const bool inline_buffer = s.data() >= self && s.data() < self + sizeof(std::string);
  return inline_buffer ? 0 : s.capacity() + 1;
}

// A copy of `s` (map keys are copies): exactly as long, so a heap buffer once it is longer
// than a string holds inline.
uint64_t heap_of_copy(const std::string& s) {
  static const size_t inline_capacity = std::string().capacity();
  return s.size() <= inline_capacity ? 0 : s.size() + 1;
}

// One entry of a std::map: the tree node (colour and three links) around the value.
template <typename Map>
uint64_t map_node_bytes() {
  return 4 * sizeof(void*) + sizeof(typename Map::value_type);
}

uint64_t heap_of(const io::GGUFValue& v) {
  if (v.type == io::GGUFType::STRING) return heap_of(v.as_string());
  if (v.type != io::GGUFType::ARRAY) return 0;
  const auto& elems = v.as_array();
  uint64_t n = elems.capacity() * sizeof(io::GGUFValue);
  for (const auto& e : elems) n += heap_of(e);
  return n;
}

uint64_t heap_of(const TensorView& t) { return heap_of(t.name) + t.shape.capacity() * sizeof(int64_t); }

// A vector of tensors plus a name -> entry index over them.
template <typename Index>
uint64_t tensor_table_bytes(const std::vector<TensorView>& tensors) {
  uint64_t n = tensors.capacity() * sizeof(TensorView);
  for (const auto& t : tensors) n += heap_of(t) + map_node_bytes<Index>() + heap_of_copy(t.name);
  return n;
}

}  // namespace

uint64_t parsed_bytes(const io::GGUFFile& f) {
  using Entry = std::pair<std::string, io::GGUFValue>;
  uint64_t n = f.metadata().capacity() * sizeof(Entry);
  for (const auto& [key, value] : f.metadata())
    n += heap_of(key) + heap_of(value) +
         map_node_bytes<std::map<std::string, size_t, std::less<>>>() + heap_of_copy(key);
  return n + tensor_table_bytes<std::map<std::string, size_t, std::less<>>>(f.tensors());
}

uint64_t parsed_bytes(const io::SafetensorsModel& m) {
  using ByName = std::map<std::string, const TensorView*, std::less<>>;
  using FileOf = std::map<std::string, std::string, std::less<>>;
  uint64_t n = m.files().capacity() * sizeof(io::SafetensorsFile);
  for (const auto& file : m.files()) {
    n += heap_of(file.path()) + sizeof(nlohmann::json) + file.metadata().dump().size();
    n += tensor_table_bytes<std::map<std::string, size_t, std::less<>>>(file.tensors());
    for (const auto& t : file.tensors())
      n += map_node_bytes<ByName>() + heap_of_copy(t.name) + map_node_bytes<FileOf>() +
           heap_of_copy(t.name) + heap_of_copy(file.path()) + sizeof(const TensorView*);
  }
  return n;
}

}  // namespace hearth::fit
