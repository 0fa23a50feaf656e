#include "fit/catalog.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "fit/embedded_data.h"
#include "fit/model_shape.h"
#include "fit/names.h"

namespace hearth::fit {
namespace {

using nlohmann::json;

// Reads one field of a catalog entry, with an error that names the entry and the field.
class Entry {
 public:
  Entry(const json& j, const std::string& origin, size_t index)
      : j_(j), origin_(origin), label_("entry " + std::to_string(index + 1)) {
    if (!j.is_object()) fail_format("{}: {} of \"models\" is not an object", origin_, label_);
    if (auto id = j.find("id"); id != j.end() && id->is_string())
      label_ = "model '" + id->get<std::string>() + "'";
  }

  std::string text(const char* key) const {
    const json& v = require(key);
    if (!v.is_string() || v.get<std::string>().empty())
      fail_format("{}: {}: \"{}\" must be a non-empty string", origin_, label_, key);
    return v.get<std::string>();
  }

  int64_t count(const char* key, int64_t fallback = -1) const {
    const json* v = find(key);
    if (v == nullptr) {
      if (fallback >= 0) return fallback;
      require(key);
    }
    if (!v->is_number_integer() || v->get<int64_t>() < 0 || v->get<int64_t>() > (int64_t{1} << 40))
      fail_format("{}: {}: \"{}\" must be a non-negative integer", origin_, label_, key);
    return v->get<int64_t>();
  }

  double number(const char* key, double fallback = -1) const {
    const json* v = find(key);
    if (v == nullptr) {
      if (fallback >= 0) return fallback;
      require(key);
    }
    if (!v->is_number() || v->get<double>() < 0)
      fail_format("{}: {}: \"{}\" must be a non-negative number", origin_, label_, key);
    return v->get<double>();
  }

  bool flag(const char* key) const {
    const json* v = find(key);
    if (v == nullptr) return false;
    if (!v->is_boolean()) fail_format("{}: {}: \"{}\" must be true or false", origin_, label_, key);
    return v->get<bool>();
  }

  [[noreturn]] void invalid(const std::string& what) const {
    fail_format("{}: {}: {}", origin_, label_, what);
  }

 private:
  const json* find(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  const json& require(const char* key) const {
    if (const json* v = find(key)) return *v;
    fail_format("{}: {} has no \"{}\"", origin_, label_, key);
  }

  const json& j_;
  const std::string& origin_;
  std::string label_;
};

CatalogModel parse_model(const Entry& e) {
  CatalogModel m;
  m.id = e.text("id");
  m.name = e.text("name");
  m.hf_repo = e.text("hf");
  m.family = e.text("family");
  m.source = e.text("source");
  m.params_b = e.number("params_b");
  m.vision_params_b = e.number("vision_params_b", 0);
  ModelConfig& c = m.config;
  c.arch = "llama";
  c.name = m.name;
  c.n_layers = e.count("layers");
  c.dim = e.count("hidden");
  c.n_heads = e.count("heads");
  c.n_kv_heads = e.count("kv_heads");
  c.head_dim = e.count("head_dim");
  c.rope_dim = c.head_dim;
  c.n_vocab = e.count("vocab");
  c.ffn_dim = e.count("ffn");
  c.max_context = e.count("max_context");
  c.tied_embeddings = e.flag("tied_embeddings");
  m.extras.n_experts = e.count("experts", 0);
  m.extras.n_active_experts = e.count("active_experts", 0);
  m.extras.qkv_bias = e.flag("qkv_bias");
  m.extras.qk_norm = e.flag("qk_norm");
  m.extras.norms_per_layer = e.count("norms_per_layer", 2);
  if (m.extras.norms_per_layer < 2) e.invalid("\"norms_per_layer\" must be at least 2");
  if (c.n_layers > kMaxPlanLayers) e.invalid("\"layers\" is implausibly large");
  if ((m.extras.n_experts == 0) != (m.extras.n_active_experts == 0) ||
      m.extras.n_active_experts > m.extras.n_experts)
    e.invalid("\"experts\" and \"active_experts\" go together, active <= experts");
  try {
    c.validate(m.id);
  } catch (const FormatError& err) {
    e.invalid(err.what());
  }
  return m;
}

}  // namespace

std::vector<CatalogModel> parse_catalog(std::string_view json_text, const std::string& origin) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& err) {
    fail_format("{}: not valid JSON ({})", origin, err.what());
  }
  auto models = doc.find("models");
  if (!doc.is_object() || models == doc.end() || !models->is_array())
    fail_format("{}: expected an object with a \"models\" array", origin);
  std::vector<CatalogModel> out;
  for (size_t i = 0; i < models->size(); ++i) {
    CatalogModel m = parse_model(Entry((*models)[i], origin, i));
    for (const auto& other : out)
      if (normalize_name(other.id) == normalize_name(m.id))
        fail_format("{}: model id '{}' appears twice", origin, m.id);
    out.push_back(std::move(m));
  }
  return out;
}

const std::vector<CatalogModel>& catalog() {
  static const std::vector<CatalogModel> models =
      parse_catalog(embedded_models_json(), "data/models.json");
  return models;
}

const CatalogModel* find_catalog_model(std::string_view id) {
  const std::string want = normalize_name(id);
  if (want.empty()) return nullptr;
  for (const auto& m : catalog())
    if (normalize_name(m.id) == want || normalize_name(m.hf_repo) == want) return &m;
  return nullptr;
}

std::vector<std::string> similar_catalog_ids(std::string_view query) {
  std::vector<std::string> ids;
  for (const auto& m : catalog()) ids.push_back(m.id);
  return closest_names(query, ids);
}

}  // namespace hearth::fit
