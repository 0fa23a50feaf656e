// A Hugging Face folder's weights: one model.safetensors or an index plus shards.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "io/json_file.h"
#include "io/one_line.h"
#include "io/safetensors.h"

namespace hearth::io {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";

// A shard must be a file directly in the model folder: no paths, no "..".
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos;
}

// Reads the index's weight_map: tensor name -> shard file name.
std::map<std::string, std::string> read_weight_map(const std::string& index_path) {
  const nlohmann::json index = read_json_file(index_path);
  const auto it = index.is_object() ? index.find("weight_map") : index.end();
  if (it == index.end() || !it->is_object())
    fail_format("{}: no \"weight_map\" object (expected {{\"weight_map\": {{tensor: file}}}})",
                index_path);
  std::map<std::string, std::string> map;
  for (const auto& [tensor, file] : it->items()) {
    if (!file.is_string() || !is_plain_file_name(file.get<std::string>()))
      fail_format("{}: the shard for tensor '{}' is {}, not a file name in the model folder",
                  index_path, one_line(tensor), file.dump());
    map.emplace(tensor, file.get<std::string>());
  }
  if (map.empty()) fail_format("{}: the \"weight_map\" lists no tensors", index_path);
  return map;
}

}  // namespace

SafetensorsModel SafetensorsModel::open_folder(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) fail("cannot open {}: No such file or directory", dir);
  if (!fs::is_directory(dir, ec)) fail("{} is not a folder", dir);

  SafetensorsModel model;
  model.dir_ = dir;
  const std::string index_path = (fs::path(dir) / kIndexFile).string();
  const std::string single_path = (fs::path(dir) / kSingleFile).string();

  if (fs::exists(index_path, ec)) {
    const auto weight_map = read_weight_map(index_path);
    std::set<std::string> shards;  // sorted: model-00001-of-0000N first
    for (const auto& [tensor, file] : weight_map) shards.insert(file);
    for (const auto& shard : shards)
      if (!fs::exists(fs::path(dir) / shard, ec))
        fail("{} lists the shard {}, which is missing from {}; download the model again", index_path,
             shard, dir);
    model.files_.reserve(shards.size());
    for (const auto& shard : shards)
      model.files_.push_back(SafetensorsFile::open((fs::path(dir) / shard).string()));

    // The weight map decides where each listed tensor lives.
    for (const auto& [tensor, shard] : weight_map) {
      const auto& file = model.files_[std::distance(shards.begin(), shards.find(shard))];
      const TensorView* t = file.find_tensor(tensor);
      if (t == nullptr)
        fail_format("{}: tensor '{}' should be in {}, but that file does not have it", index_path,
                    one_line(tensor), shard);
      model.index_.emplace(tensor, t);
      model.source_file_.emplace(tensor, file.path());
    }
    // Tensors a shard holds beyond the weight map are kept, in file order.
    for (const auto& file : model.files_)
      for (const auto& t : file.tensors()) {
        if (!weight_map.contains(t.name)) model.add_tensor(t, file.path());
        if (model.index_.at(t.name) == &t) model.order_.push_back(&t);
      }
  } else if (fs::exists(single_path, ec)) {
    model.files_.push_back(SafetensorsFile::open(single_path));
    for (const auto& t : model.files_.front().tensors()) {
      model.add_tensor(t, single_path);
      model.order_.push_back(&t);
    }
  } else {
    const bool has_bin = fs::exists(fs::path(dir) / "pytorch_model.bin", ec) ||
                         fs::exists(fs::path(dir) / "pytorch_model.bin.index.json", ec);
    fail("{}: no {} or {} found{}", dir, kSingleFile, kIndexFile,
         has_bin ? "; the folder has only PyTorch .bin weights, which hearth cannot read "
                   "(convert them to safetensors)"
                 : "");
  }
  return model;
}

void SafetensorsModel::add_tensor(const TensorView& t, const std::string& file) {
  if (!index_.emplace(t.name, &t).second)
    fail_format("{}: tensor '{}' is in both {} and {}", dir_, one_line(t.name),
                source_file_.at(t.name), file);
  source_file_.emplace(t.name, file);
}

const TensorView* SafetensorsModel::find_tensor(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

const TensorView& SafetensorsModel::tensor(std::string_view name) const {
  const TensorView* t = find_tensor(name);
  if (t == nullptr) fail_format("{}: tensor '{}' is missing", dir_, name);
  return *t;
}

}  // namespace hearth::io
