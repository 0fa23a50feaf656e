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

ChatTemplate::ChatTemplate(std::string source, std::string name, std::optional<std::string> bos,
                           std::optional<std::string> eos, Options options)
    : source_(std::move(source)),
      template_(Template::parse(source_, std::move(name), std::move(options))),
      bos_token_(std::move(bos)),
      eos_token_(std::move(eos)) {}

ChatTemplate ChatTemplate::from_tokenizer_config(const nlohmann::ordered_json& config, const std::string& source_path,
                                                 std::string name, Options options) {
  if (!config.is_object()) fail("{}: expected a JSON object", source_path);
  auto it = config.find("chat_template");
  if (it == config.end() || it->is_null())
    fail("{}: no \"chat_template\"; this model does not define how to format a conversation", source_path);
  std::string source;
  std::string label = source_path;
  if (it->is_string()) {
    if (!name.empty() && name != "default")
      fail("{}: the chat template has no variant named '{}' (it has a single template)", source_path, name);
    source = it->get<std::string>();
  } else if (it->is_array()) {
    const std::string wanted = name.empty() ? "default" : name;
    std::vector<std::string> names;
    for (const auto& entry : *it) {
      if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() || !entry.contains("template") ||
          !entry["template"].is_string())
        fail("{}: \"chat_template\" list entries must be {{\"name\": ..., \"template\": ...}}", source_path);
      names.push_back(entry["name"].get<std::string>());
      if (names.back() == wanted) source = entry["template"].get<std::string>();
    }
    if (source.empty() && std::find(names.begin(), names.end(), wanted) == names.end())
      fail("{}: no chat template named '{}'; available: {}", source_path, wanted, fmt::join(names, ", "));
    label = fmt::format("{} ({})", source_path, wanted);
  } else {
    fail("{}: \"chat_template\" must be a string or a list of named templates", source_path);
  }
  return ChatTemplate(std::move(source), std::move(label), token_text(config, "bos_token", source_path),
                      token_text(config, "eos_token", source_path), std::move(options));
}

ChatTemplate ChatTemplate::from_source(std::string source, std::string bos_token, std::string eos_token,
                                       Options options) {
  auto optional = [](std::string s) { return s.empty() ? std::nullopt : std::optional<std::string>(std::move(s)); };
  return ChatTemplate(std::move(source), "chat_template", optional(std::move(bos_token)),
                      optional(std::move(eos_token)), std::move(options));
}

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
  return template_.render(variables);
}

}  // namespace hearth::tmpl
