#include "io/model_locator.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

#include "core/error.h"

namespace hearth::io {
namespace {

namespace fs = std::filesystem;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool ends_with_gguf(const std::string& name) { return lower(name).ends_with(".gguf"); }

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);  // follows symlinks (HF snapshots link into blobs/)
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

bool starts_with_gguf_magic(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

// The .gguf files directly inside `dir`, sorted by name.
std::vector<std::string> gguf_files_in(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (ends_with_gguf(name) && is_file(entry.path())) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

bool has_safetensors_weights(const fs::path& dir) {
  return is_file(dir / "model.safetensors") || is_file(dir / "model.safetensors.index.json");
}

// A model id: [ORG/]NAME[:FILE]. ORG and NAME use the characters Hugging Face allows.
struct ModelId {
  std::string org;   // may be empty
  std::string name;
  std::string file;  // may be empty
  std::string repo() const { return org.empty() ? name : org + "/" + name; }
};

bool valid_id_part(const std::string& s) {
  if (s.empty() || s == "." || s == ".." || s.find("..") != std::string::npos) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

std::optional<ModelId> parse_model_id(const std::string& spec) {
  ModelId id;
  std::string repo = spec;
  if (const auto colon = spec.find(':'); colon != std::string::npos) {
    repo = spec.substr(0, colon);
    id.file = spec.substr(colon + 1);
    const fs::path file(id.file);
    if (id.file.empty() || file.is_absolute() ||
        std::any_of(file.begin(), file.end(), [](const fs::path& part) { return part == ".."; }))
      return std::nullopt;
  }
  if (const auto slash = repo.find('/'); slash != std::string::npos) {
    id.org = repo.substr(0, slash);
    id.name = repo.substr(slash + 1);
    if (!valid_id_part(id.org)) return std::nullopt;
  } else {
    id.name = repo;
  }
  if (!valid_id_part(id.name)) return std::nullopt;
  return id;
}

// Looks for the model in candidate folders and files, remembering every place it tried.
class Locator {
 public:
  explicit Locator(ModelId id) : id_(std::move(id)) {}

  ModelLocation find() {
    if (auto found = search_hf_cache()) return *found;
    if (auto found = search_hearth_models()) return *found;
    fail("model '{}' not found; looked in: {}; download it with `huggingface-cli download {}{}` "
         "or pass a path to a .gguf file or a folder with config.json",
         id_.repo() + (id_.file.empty() ? "" : ":" + id_.file), join(looked_, ", "), id_.repo(),
         download_selector());
  }

  // What to add to `huggingface-cli download ORG/NAME` to fetch just the picked file.
  std::string download_selector() const {
    if (id_.file.empty()) return "";
    if (ends_with_gguf(id_.file)) return " " + id_.file;
    return " --include \"*" + id_.file + "*.gguf\"";
  }

 private:
  std::optional<ModelLocation> search_hf_cache() {
    const std::string cache = hf_hub_cache_dir();
    if (cache.empty()) return std::nullopt;
    const fs::path repo = fs::path(cache) / ("models--" + (id_.org.empty() ? "" : id_.org + "--") +
                                             id_.name);
    const auto snapshot = pick_snapshot(repo);
    if (!snapshot) {
      looked_.push_back(repo.string());
      return std::nullopt;
    }
    return search_folder(*snapshot);
  }

  // The snapshot refs/main names, if present; else the most recently written one.
  static std::optional<fs::path> pick_snapshot(const fs::path& repo) {
    const fs::path snapshots = repo / "snapshots";
    if (!is_dir(snapshots)) return std::nullopt;
    std::string rev;
    std::ifstream(repo / "refs" / "main") >> rev;
    if (!rev.empty() && rev.find('/') == std::string::npos && rev != ".." &&
        is_dir(snapshots / rev))
      return snapshots / rev;
    std::optional<fs::path> newest;
    fs::file_time_type newest_time{};
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(snapshots, ec)) {
      if (!is_dir(entry.path())) continue;
      const auto t = fs::last_write_time(entry.path(), ec);
      if (!newest || t > newest_time || (t == newest_time && entry.path() > *newest)) {
        newest = entry.path();
        newest_time = t;
      }
    }
    return newest;
  }

  std::optional<ModelLocation> search_hearth_models() {
    const std::string root_str = hearth_models_dir();
    if (root_str.empty()) return std::nullopt;
    const fs::path root(root_str);
    std::vector<fs::path> folders;
    std::vector<fs::path> files;
    if (!id_.org.empty()) {
      folders = {root / id_.org / id_.name, root / (id_.org + "--" + id_.name)};
      files = {root / id_.org / (id_.name + ".gguf"), root / (id_.name + ".gguf")};
    } else {
      folders = {root / id_.name};
      files = {root / (id_.name + ".gguf")};
    }
    for (const auto& folder : folders)
      if (auto found = search_folder(folder)) return found;
    if (!id_.file.empty()) return std::nullopt;  // FILE picks inside a folder only
    for (const auto& file : files) {
      if (is_file(file)) return ModelLocation{file.string(), ModelFormat::GGUF};
      looked_.push_back(file.string());
    }
    return std::nullopt;
  }

  std::optional<ModelLocation> search_folder(const fs::path& dir) {
    looked_.push_back(dir.string());
    if (!is_dir(dir)) return std::nullopt;
    if (!id_.file.empty()) return pick_file(dir);
    if (is_file(dir / "config.json") && has_safetensors_weights(dir))
      return ModelLocation{dir.string(), ModelFormat::HFFolder};
    const auto ggufs = gguf_files_in(dir);
    if (ggufs.size() == 1) return ModelLocation{(dir / ggufs[0]).string(), ModelFormat::GGUF};
    if (ggufs.size() > 1)
      fail("{} has several .gguf files ({}); pick one with {}:FILE", dir.string(),
           join(ggufs, ", "), id_.repo());
    if (is_file(dir / "config.json")) return ModelLocation{dir.string(), ModelFormat::HFFolder};
    return std::nullopt;
  }

  // ORG/NAME:FILE -- an exact file name, or a tag that one .gguf file name contains.
  std::optional<ModelLocation> pick_file(const fs::path& dir) {
    if (is_file(dir / id_.file)) return ModelLocation{(dir / id_.file).string(), ModelFormat::GGUF};
    if (ends_with_gguf(id_.file)) return std::nullopt;
    std::vector<std::string> matches;
    for (const auto& name : gguf_files_in(dir))
      if (lower(name).find(lower(id_.file)) != std::string::npos) matches.push_back(name);
    if (matches.size() == 1) return ModelLocation{(dir / matches[0]).string(), ModelFormat::GGUF};
    if (matches.size() > 1)
      fail("'{}' matches several files in {} ({}); give the full file name", id_.file,
           dir.string(), join(matches, ", "));
    return std::nullopt;
  }

  ModelId id_;
  std::vector<std::string> looked_;
};

ModelLocation locate_path(const fs::path& p, const std::string& spec) {
  if (is_file(p)) {
    if (ends_with_gguf(p.filename().string()) || starts_with_gguf_magic(p))
      return {p.string(), ModelFormat::GGUF};
    if (p.filename() == "config.json") return {p.parent_path().string(), ModelFormat::HFFolder};
    fail("{} is not a .gguf file or a folder with config.json", spec);
  }
  if (is_file(p / "config.json") && has_safetensors_weights(p))
    return {p.string(), ModelFormat::HFFolder};
  const auto ggufs = gguf_files_in(p);
  if (ggufs.size() == 1) return {(p / ggufs[0]).string(), ModelFormat::GGUF};
  if (ggufs.size() > 1)
    fail("{} has several .gguf files ({}); pass the path of the one to load", spec,
         join(ggufs, ", "));
  if (is_file(p / "config.json")) return {p.string(), ModelFormat::HFFolder};
  fail("{} is a folder without config.json or a .gguf file", spec);
}

}  // namespace

std::string hf_hub_cache_dir() {
  if (auto v = env("HF_HUB_CACHE"); !v.empty()) return v;
  if (auto v = env("HF_HOME"); !v.empty()) return (fs::path(v) / "hub").string();
  if (auto v = env("XDG_CACHE_HOME"); !v.empty())
    return (fs::path(v) / "huggingface" / "hub").string();
  if (auto v = env("HOME"); !v.empty())
    return (fs::path(v) / ".cache" / "huggingface" / "hub").string();
  return {};
}

std::string hearth_models_dir() {
  if (auto v = env("HEARTH_MODELS"); !v.empty()) return v;
  if (auto v = env("XDG_DATA_HOME"); !v.empty()) return (fs::path(v) / "hearth" / "models").string();
  if (auto v = env("HOME"); !v.empty())
    return (fs::path(v) / ".local" / "share" / "hearth" / "models").string();
  return {};
}

ModelLocation locate_model(const std::string& spec) {
  if (spec.empty())
    fail("no model given; pass a path to a .gguf file, a folder with config.json, or a model id "
         "such as ORG/NAME");
  std::string path = spec;
  if (path == "~" || path.starts_with("~/")) path = env("HOME") + path.substr(1);
  std::error_code ec;
  if (fs::exists(path, ec)) return locate_path(path, spec);

  // Anything that reads as a path (and not as an id) and does not exist is a typo'd path.
  const bool path_like = spec.starts_with("/") || spec.starts_with(".") || spec.starts_with("~") ||
                         (spec.find(':') == std::string::npos && ends_with_gguf(spec));
  const auto id = path_like ? std::nullopt : parse_model_id(spec);
  if (!id) fail("no such file or folder: {}", spec);
  return Locator(*id).find();
}

}  // namespace hearth::io
