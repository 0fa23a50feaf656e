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

TemplatePromptBuilder::TemplatePromptBuilder(tmpl::ChatTemplate chat_template,
                                             const tok::Tokenizer& tokenizer)
    : template_(std::move(chat_template)), tokenizer_(tokenizer) {
  const ReasoningMarkers markers;
  const std::string& source = template_.source();
  if (source.find(markers.start) != std::string::npos && source.find(markers.end) != std::string::npos)
    reasoning_ = markers;
}

std::string TemplatePromptBuilder::render(const nlohmann::ordered_json& messages,
                                          const nlohmann::ordered_json& tools,
                                          const nlohmann::ordered_json& template_kwargs) const {
  return template_.apply(messages, /*add_generation_prompt=*/true, tools,
                         template_kwargs.is_object() ? template_kwargs : nlohmann::ordered_json::object());
}

ChatPrompt TemplatePromptBuilder::chat(const nlohmann::ordered_json& messages,
                                       const nlohmann::ordered_json& tools,
                                       const nlohmann::ordered_json& template_kwargs) const {
  // A template that raises (roles out of order, an unsupported message) is the client's
  // 400: hearth::Error here becomes one in start_generation.
  const std::string text = render(messages, tools, template_kwargs);
  ChatPrompt p;
  p.tokens = tokenizer_.encode(text, /*add_special=*/false, /*parse_special=*/true);
  p.reasoning = reasoning_;
  if (reasoning_) {
    const size_t end = text.find_last_not_of(" \t\r\n");
    const std::string_view trimmed = std::string_view(text).substr(0, end == std::string::npos ? 0 : end + 1);
    p.reasoning_open = trimmed.size() >= reasoning_->start.size() &&
                       trimmed.substr(trimmed.size() - reasoning_->start.size()) == reasoning_->start;
  }
  return p;
}

std::vector<int32_t> TemplatePromptBuilder::completion(const std::string& prompt) const {
  return tokenizer_.encode(prompt, /*add_special=*/true, /*parse_special=*/true);
}

}  // namespace hearth::server
