// What transformers' apply_chat_template does around the Jinja renderer: picks the chat
// template out of tokenizer_config.json, passes the special tokens, and renders a
// conversation with add_generation_prompt, tools and extra variables (e.g. enable_thinking).
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "template/template.h"

namespace hearth::tmpl {

class ChatTemplate {
 public:
  // From a parsed tokenizer_config.json: "chat_template" is a string, or a list of
  // {"name", "template"}; "bos_token" and "eos_token" are strings or {"content": ...}
  // AddedToken objects, or absent. For a list, a non-empty `name` picks that template; an
  // empty one does what transformers does per call: "tool_use" when tools are given and the
  // model has it, else "default". `source_path` names the file in error messages.
  // Throws hearth::Error (bad config) or TemplateError (a template that does not parse).
  static ChatTemplate from_tokenizer_config(const nlohmann::ordered_json& config, const std::string& source_path,
                                            std::string name = "", Options options = {});
  // An empty bos/eos token means the model has none: the variable is then not defined.
  static ChatTemplate from_source(std::string source, std::string bos_token, std::string eos_token,
                                  Options options = {});

  // Renders messages (an array of {role, content, ...}). The template sees messages, tools
  // (null when absent), documents (null), add_generation_prompt, bos_token and eos_token
  // (where defined), and every entry of `extra` (which may override them).
  std::string apply(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                    const nlohmann::ordered_json& tools = nullptr,
                    const nlohmann::ordered_json& extra = nlohmann::ordered_json::object()) const;

  // The template used without tools (the "default" one of a list).
  const std::string& source() const;
  const std::optional<std::string>& bos_token() const { return bos_token_; }
  const std::optional<std::string>& eos_token() const { return eos_token_; }

 private:
  struct Variant {
    std::string name;
    std::string source;
    Template compiled;
  };

  ChatTemplate(std::vector<Variant> variants, std::optional<std::string> bos, std::optional<std::string> eos);
  const Variant& pick(bool with_tools) const;

  std::vector<Variant> variants_;  // one, or the named list ("default", "tool_use", ...)
  std::optional<std::string> bos_token_;
  std::optional<std::string> eos_token_;
};

}  // namespace hearth::tmpl
