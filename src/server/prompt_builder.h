// The step from a request to prompt token ids: chat messages through the model's chat
// template, then the tokenizer. Behind an interface so the server does not depend on how
// templates are implemented (and tests can use a plain one).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "server/reasoning.h"
#include "template/chat_template.h"

namespace hearth::tok {
class Tokenizer;
}

namespace hearth::server {

struct ChatPrompt {
  std::vector<int32_t> tokens;
  // enabled() when the template has a reasoning section: the answer is split into
  // reasoning_content and content at these markers.
  ReasoningMarkers reasoning;
  bool reasoning_open = false;  // the prompt ends inside the reasoning section
};

class PromptBuilder {
 public:
  virtual ~PromptBuilder() = default;
  // messages: OpenAI chat messages, content already joined into strings (or null);
  // tools: array or null; template_kwargs: object or null (chat_template_kwargs).
  // Throws ApiError (400) for a conversation the template cannot render.
  virtual ChatPrompt chat(const nlohmann::ordered_json& messages,
                          const nlohmann::ordered_json& tools,
                          const nlohmann::ordered_json& template_kwargs) const = 0;
  // /v1/completions: raw text, BOS added as the vocabulary asks.
  virtual std::vector<int32_t> completion(const std::string& prompt) const = 0;
  // The text of a prompt given as token ids (special tokens left out), so the content policy
  // reads it like a text prompt; nullopt for a builder without a tokenizer.
  virtual std::optional<std::string> prompt_text(std::span<const int32_t> ids) const {
    (void)ids;
    return std::nullopt;
  }
};

// For a model without a chat template (and no --template): completions work, chat is refused
// with a 400 that says why and what to do (the project never guesses a chat format).
class CompletionOnlyPromptBuilder : public PromptBuilder {
 public:
  CompletionOnlyPromptBuilder(const tok::Tokenizer& tokenizer, std::string why_no_chat)
      : tokenizer_(tokenizer), why_no_chat_(std::move(why_no_chat)) {}
  ChatPrompt chat(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                  const nlohmann::ordered_json& template_kwargs) const override;
  std::vector<int32_t> completion(const std::string& prompt) const override;
  std::optional<std::string> prompt_text(std::span<const int32_t> ids) const override;

 private:
  const tok::Tokenizer& tokenizer_;
  std::string why_no_chat_;
};

// A Hugging Face chat template (Jinja, e.g. from --template FILE) rendered with
// add_generation_prompt, tools and chat_template_kwargs, then tokenized without adding BOS
// (the template writes it) and with special tokens parsed. The reasoning section's markers
// are ReasoningMarkers::detect(template source); the prompt is "open" when the rendered
// generation prompt ends in the opening marker.
class TemplatePromptBuilder : public PromptBuilder {
 public:
  TemplatePromptBuilder(tmpl::ChatTemplate chat_template, const tok::Tokenizer& tokenizer);
  ChatPrompt chat(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                  const nlohmann::ordered_json& template_kwargs) const override;
  std::vector<int32_t> completion(const std::string& prompt) const override;
  std::optional<std::string> prompt_text(std::span<const int32_t> ids) const override;

  // The text chat() tokenizes.
  std::string render(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                     const nlohmann::ordered_json& template_kwargs) const;

 private:
  tmpl::ChatTemplate template_;
  const tok::Tokenizer& tokenizer_;
  ReasoningMarkers reasoning_;
};

}  // namespace hearth::server
