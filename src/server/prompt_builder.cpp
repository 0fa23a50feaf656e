#include "server/prompt_builder.h"

#include "server/api_error.h"
#include "tokenizer/tokenizer.h"

namespace hearth::server {

ChatPrompt CompletionOnlyPromptBuilder::chat(const nlohmann::ordered_json&, const nlohmann::ordered_json&,
                                             const nlohmann::ordered_json&) const {
  throw ApiError(400, "this server has no chat template for its model (" + why_no_chat_ +
                          "); use /v1/completions, or restart it with --template FILE",
                 "invalid_request_error", "messages", "chat_template_missing");
}

std::vector<int32_t> CompletionOnlyPromptBuilder::completion(const std::string& prompt) const {
  return tokenizer_.encode(prompt, /*add_special=*/true, /*parse_special=*/true);
}

std::optional<std::string> CompletionOnlyPromptBuilder::prompt_text(std::span<const int32_t> ids) const {
  return tokenizer_.decode(ids, /*skip_special=*/true);
}

TemplatePromptBuilder::TemplatePromptBuilder(tmpl::ChatTemplate chat_template,
                                             const tok::Tokenizer& tokenizer)
    : template_(std::move(chat_template)),
      tokenizer_(tokenizer),
      reasoning_(ReasoningMarkers::detect(template_.source())) {}

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
  if (reasoning_.enabled()) {
    const size_t end = text.find_last_not_of(" \t\r\n");
    const std::string_view trimmed = std::string_view(text).substr(0, end == std::string::npos ? 0 : end + 1);
    p.reasoning_open = trimmed.ends_with(reasoning_.open);
  }
  return p;
}

std::vector<int32_t> TemplatePromptBuilder::completion(const std::string& prompt) const {
  return tokenizer_.encode(prompt, /*add_special=*/true, /*parse_special=*/true);
}

std::optional<std::string> TemplatePromptBuilder::prompt_text(std::span<const int32_t> ids) const {
  return tokenizer_.decode(ids, /*skip_special=*/true);
}

}  // namespace hearth::server
