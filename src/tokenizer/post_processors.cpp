#include "tokenizer/post_processors.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace hearth::tok {

namespace {

using nlohmann::json;

// BertProcessing/RobertaProcessing write a token as ["text", id].
int32_t pair_id(const json& j, const char* field, const std::string& source) {
  const json* p = j.contains(field) ? &j.at(field) : nullptr;
  if (p == nullptr || !p->is_array() || p->size() != 2 || !p->at(1).is_number_integer()) {
    fail("{}: post_processor {} needs \"{}\": [\"token\", id]", source,
         j.value("type", std::string("?")), field);
  }
  return p->at(1).get<int32_t>();
}

PostProcessor from_template(const json& j, const std::function<int32_t(const std::string&)>& token_id,
                            const std::string& source) {
  PostProcessor post;
  const json& single = j.at("single");
  if (!single.is_array()) fail("{}: TemplateProcessing \"single\" must be a list", source);
  const json empty = json::object();
  const json& specials = j.contains("special_tokens") ? j.at("special_tokens") : empty;
  bool seen_sequence = false;
  for (const json& item : single) {
    if (item.contains("Sequence")) {
      if (seen_sequence) fail("{}: TemplateProcessing \"single\" repeats the sequence", source);
      seen_sequence = true;
      continue;
    }
    if (!item.contains("SpecialToken")) {
      fail("{}: TemplateProcessing item {} is neither SpecialToken nor Sequence", source, item.dump());
    }
    const std::string name = item.at("SpecialToken").at("id").get<std::string>();
    std::vector<int32_t> ids;
    if (specials.contains(name)) {
      ids = specials.at(name).at("ids").get<std::vector<int32_t>>();
    } else if (const int32_t id = token_id(name); id >= 0) {
      ids = {id};
    } else {
      fail("{}: TemplateProcessing uses the special token '{}', which is not defined", source, name);
    }
    auto& target = seen_sequence ? post.suffix : post.prefix;
    target.insert(target.end(), ids.begin(), ids.end());
  }
  if (!seen_sequence) fail("{}: TemplateProcessing \"single\" has no $A sequence", source);
  return post;
}

}  // namespace

PostProcessor post_processor_from_json(const json& j,
                                       const std::function<int32_t(const std::string&)>& token_id,
                                       const std::string& source, int depth) {
  if (j.is_null()) return {};
  if (depth > 32) fail("{}: post_processor Sequences nest more than 32 levels deep", source);
  const std::string type = j.value("type", std::string());
  if (type == "TemplateProcessing") return from_template(j, token_id, source);
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    return {{pair_id(j, "cls", source)}, {pair_id(j, "sep", source)}};
  }
  if (type == "ByteLevel") return {};  // only trims offsets
  if (type == "Sequence") {
    PostProcessor all;
    for (const json& step : j.at("processors")) {
      const PostProcessor p = post_processor_from_json(step, token_id, source, depth + 1);
      all.prefix.insert(all.prefix.begin(), p.prefix.begin(), p.prefix.end());
      all.suffix.insert(all.suffix.end(), p.suffix.begin(), p.suffix.end());
    }
    return all;
  }
  fail("{}: post_processor type '{}' is not supported (supported: TemplateProcessing, "
       "BertProcessing, RobertaProcessing, ByteLevel, Sequence)",
       source, type);
}

}  // namespace hearth::tok
