#include "server/prompt_builder.h"

#include "server/api_error.h"
#include "tokenizer/tokenizer.h"

namespace hearth::server {

std::string ChatMlPromptBuilder::render(const nlohmann::ordered_json& messages) {
  std::string text;
  for (const auto& m : messages) {
    text += "<|im_start|>";
    text += m["role"].get<std::string>();
    text += '\n';
    if (m.contains("content") && m["content"].is_string()) text += m["content"].get<std::string>();
    text += "<|im_end|>\n";
  }
  text += "<|im_start|>assistant\n";
  return text;
}

ChatPrompt ChatMlPromptBuilder::chat(const nlohmann::ordered_json& messages,
                                     const nlohmann::ordered_json& tools,
                                     const nlohmann::ordered_json&) const {
  if (tools.is_array() && !tools.empty())
    bad_param("tools",
              "this model has no chat template that supports tools; start the server with "
              "--template FILE");
  ChatPrompt p;
  p.tokens = tokenizer_.encode(render(messages), /*add_special=*/true, /*parse_special=*/true);
  return p;
}

std::vector<int32_t> ChatMlPromptBuilder::completion(const std::string& prompt) const {
  return tokenizer_.encode(prompt, /*add_special=*/true, /*parse_special=*/true);
}

}  // namespace hearth::server
