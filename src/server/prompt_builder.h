// The step from a request to prompt token ids: chat messages through the model's chat
// template, then the tokenizer. Behind an interface so the server does not depend on how
// templates are implemented (and tests can use a plain one).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
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
  // Set when the template has a reasoning section: the answer is split into
  // reasoning_content and content at these markers.
  std::optional<ReasoningMarkers> reasoning;
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
};

// For models without a chat template: ChatML turns (llama.cpp's fallback too),
//   <|im_start|>{role}\n{content}<|im_end|>\n ... <|im_start|>assistant\n
// with BOS in front as the vocabulary asks. No tools, no reasoning section.
class ChatMlPromptBuilder : public PromptBuilder {
 public:
  explicit ChatMlPromptBuilder(const tok::Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  ChatPrompt chat(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                  const nlohmann::ordered_json& template_kwargs) const override;
  std::vector<int32_t> completion(const std::string& prompt) const override;

  static std::string render(const nlohmann::ordered_json& messages);

 private:
  const tok::Tokenizer& tokenizer_;
};

// A Hugging Face chat template (Jinja, e.g. from --template FILE) rendered with
// add_generation_prompt, tools and chat_template_kwargs, then tokenized without adding BOS
// (the template writes it) and with special tokens parsed. Templates that mention
// "<think>" and "</think>" have a reasoning section; the prompt is "open" when the rendered
// generation prompt ends in "<think>".
class TemplatePromptBuilder : public PromptBuilder {
 public:
  TemplatePromptBuilder(tmpl::ChatTemplate chat_template, const tok::Tokenizer& tokenizer);
  ChatPrompt chat(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                  const nlohmann::ordered_json& template_kwargs) const override;
  std::vector<int32_t> completion(const std::string& prompt) const override;

  // The text chat() tokenizes.
  std::string render(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                     const nlohmann::ordered_json& template_kwargs) const;

 private:
  tmpl::ChatTemplate template_;
  const tok::Tokenizer& tokenizer_;
  std::optional<ReasoningMarkers> reasoning_;
};

}  // namespace hearth::server
