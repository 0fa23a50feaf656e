#include "template/chat_template.h"

#include <fmt/format.h>

#include <algorithm>

namespace hearth::tmpl {

namespace {

// A special token in tokenizer_config.json: "<s>" or {"content": "<s>", ...}.
std::optional<std::string> token_text(const nlohmann::ordered_json& config, const char* key, const std::string& path) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) {
    auto content = it->find("content");
    if (content != it->end() && content->is_string()) return content->get<std::string>();
  }
  fail("{}: \"{}\" must be a string or an object with a string \"content\"", path, key);
}

}  // namespace

ChatTemplate::ChatTemplate(std::vector<Variant> variants, std::optional<std::string> bos,
                           std::optional<std::string> eos)
    : variants_(std::move(variants)), bos_token_(std::move(bos)), eos_token_(std::move(eos)) {}

ChatTemplate ChatTemplate::from_tokenizer_config(const nlohmann::ordered_json& config, const std::string& source_path,
                                                 std::string name, Options options) {
  if (!config.is_object()) fail("{}: expected a JSON object", source_path);
  auto it = config.find("chat_template");
  if (it == config.end() || it->is_null())
    fail("{}: no \"chat_template\"; this model does not define how to format a conversation", source_path);
  std::vector<Variant> variants;
  auto add = [&](std::string variant_name, std::string source, std::string label) {
    Template compiled = Template::parse(source, std::move(label), options);
    variants.push_back({std::move(variant_name), std::move(source), std::move(compiled)});
  };
  if (it->is_string()) {
    if (!name.empty() && name != "default")
      fail("{}: the chat template has no variant named '{}' (it has a single template)", source_path, name);
    add("default", it->get<std::string>(), source_path);
  } else if (it->is_array()) {
    std::vector<std::string> names;
    for (const auto& entry : *it) {
      if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() || !entry.contains("template") ||
          !entry["template"].is_string())
        fail("{}: \"chat_template\" list entries must be {{\"name\": ..., \"template\": ...}}", source_path);
      names.push_back(entry["name"].get<std::string>());
      if (name.empty() || names.back() == name)
        add(names.back(), entry["template"].get<std::string>(), fmt::format("{} ({})", source_path, names.back()));
    }
    if (!name.empty() && variants.empty())
      fail("{}: no chat template named '{}'; available: {}", source_path, name, fmt::join(names, ", "));
    if (name.empty() && std::none_of(variants.begin(), variants.end(), [](const Variant& v) { return v.name == "default"; }))
      fail("{}: the model has several chat templates ({}) and none is named \"default\"; pick one by name",
           source_path, fmt::join(names, ", "));
  } else {
    fail("{}: \"chat_template\" must be a string or a list of named templates", source_path);
  }
  if (!name.empty()) variants.front().name = "default";  // the one asked for is used for every call
  return ChatTemplate(std::move(variants), token_text(config, "bos_token", source_path),
                      token_text(config, "eos_token", source_path));
}

ChatTemplate ChatTemplate::from_source(std::string source, std::string bos_token, std::string eos_token,
                                       Options options) {
  auto optional = [](std::string s) { return s.empty() ? std::nullopt : std::optional<std::string>(std::move(s)); };
  std::vector<Variant> variants;
  Template compiled = Template::parse(source, "chat_template", std::move(options));
  variants.push_back({"default", std::move(source), std::move(compiled)});
  return ChatTemplate(std::move(variants), optional(std::move(bos_token)), optional(std::move(eos_token)));
}

const ChatTemplate::Variant& ChatTemplate::pick(bool with_tools) const {
  if (with_tools)
    for (const Variant& v : variants_)
      if (v.name == "tool_use") return v;
  for (const Variant& v : variants_)
    if (v.name == "default") return v;
  return variants_.front();
}

const std::string& ChatTemplate::source() const { return pick(false).source; }

std::string ChatTemplate::apply(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                const nlohmann::ordered_json& tools, const nlohmann::ordered_json& extra) const {
  if (!messages.is_array()) fail("chat messages must be a JSON array of {{\"role\": ..., \"content\": ...}} objects");
  if (!extra.is_object() && !extra.is_null()) fail("extra chat template variables must be a JSON object");
  nlohmann::ordered_json variables = nlohmann::ordered_json::object();
  variables["messages"] = messages;
  variables["tools"] = tools;
  variables["documents"] = nullptr;
  variables["add_generation_prompt"] = add_generation_prompt;
  if (bos_token_) variables["bos_token"] = *bos_token_;
  if (eos_token_) variables["eos_token"] = *eos_token_;
  if (extra.is_object())
    for (const auto& [key, value] : extra.items()) variables[key] = value;
  return pick(!tools.is_null()).compiled.render(variables);
}

}  // namespace hearth::tmpl
