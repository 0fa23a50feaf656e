#include "fit/gpu_table.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "fit/embedded_data.h"
#include "fit/names.h"

namespace hearth::fit {
namespace {

using nlohmann::json;

// Vendor and brand words a person or a driver may put in front of a model name.
constexpr const char* kBrandWords[] = {"nvidia", "geforce", "tesla", "quadro", "amd", "radeon"};

std::string strip_brands(std::string name) {
  for (bool changed = true; changed;) {
    changed = false;
    for (const char* w : kBrandWords)
      if (name.starts_with(w) && name.size() > std::char_traits<char>::length(w)) {
        name.erase(0, std::char_traits<char>::length(w));
        changed = true;
      }
  }
  return name;
}

std::vector<std::string> keys_of(const GpuSpec& g) {
  std::vector<std::string> keys{strip_brands(normalize_name(g.name))};
  for (const auto& a : g.aliases) keys.push_back(strip_brands(normalize_name(a)));
  return keys;
}

GpuSpec parse_gpu(const json& j, const std::string& origin, size_t index) {
  const std::string where = origin + ": entry " + std::to_string(index + 1) + " of \"gpus\"";
  if (!j.is_object()) fail_format("{} is not an object", where);
  auto text = [&](const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string() || it->get<std::string>().empty())
      fail_format("{}: \"{}\" must be a non-empty string", where, key);
    return it->get<std::string>();
  };
  auto positive = [&](const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number() || it->get<double>() <= 0)
      fail_format("{}: \"{}\" must be a positive number", where, key);
    return it->get<double>();
  };
  GpuSpec g;
  g.name = text("name");
  g.vendor = text("vendor");
  g.kind = text("kind");
  g.source = text("source");
  g.memory_gib = positive("memory_gib");
  g.bandwidth_gbs = positive("bandwidth_gbs");
  if (auto a = j.find("aliases"); a != j.end()) {
    if (!a->is_array()) fail_format("{}: \"aliases\" must be an array of names", where);
    for (const auto& name : *a) {
      if (!name.is_string()) fail_format("{}: \"aliases\" must be an array of names", where);
      g.aliases.push_back(name.get<std::string>());
    }
  }
  return g;
}

}  // namespace

std::vector<GpuSpec> parse_gpu_table(std::string_view json_text, const std::string& origin) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& err) {
    fail_format("{}: not valid JSON ({})", origin, err.what());
  }
  auto gpus = doc.find("gpus");
  if (!doc.is_object() || gpus == doc.end() || !gpus->is_array())
    fail_format("{}: expected an object with a \"gpus\" array", origin);
  std::vector<GpuSpec> out;
  for (size_t i = 0; i < gpus->size(); ++i) {
    GpuSpec g = parse_gpu((*gpus)[i], origin, i);
    for (const auto& key : keys_of(g))
      for (const auto& other : out)
        for (const auto& other_key : keys_of(other))
          if (key == other_key)
            fail_format("{}: '{}' names both {} and {}", origin, key, other.name, g.name);
    out.push_back(std::move(g));
  }
  return out;
}

const std::vector<GpuSpec>& gpu_table() {
  static const std::vector<GpuSpec> table = parse_gpu_table(embedded_gpus_json(), "data/gpus.json");
  return table;
}

const GpuSpec& find_gpu(std::string_view name) {
  const std::string want = strip_brands(normalize_name(name));
  std::vector<std::string> names;
  for (const auto& g : gpu_table()) {
    for (const auto& key : keys_of(g))
      if (key == want) return g;
    names.push_back(g.name);
  }
  const auto close = closest_names(want, names);
  if (close.empty())
    fail("unknown GPU '{}'; `hearth fit --list-gpus` shows the {} cards hearth knows", name,
         names.size());
  fail("unknown GPU '{}'; did you mean {}? (`hearth fit --list-gpus` shows all)", name,
       join_or(close));
}

const GpuSpec* match_device_name(std::string_view device_name) {
  // The longest table name the device name contains wins: "RTX 4080 SUPER" before "RTX 4080".
  const std::string device = strip_brands(normalize_name(device_name));
  const GpuSpec* best = nullptr;
  size_t best_len = 0;
  for (const auto& g : gpu_table())
    for (const auto& key : keys_of(g))
      if (!key.empty() && device.find(key) != std::string::npos && key.size() > best_len)
        best = &g, best_len = key.size();
  return best;
}

}  // namespace hearth::fit
