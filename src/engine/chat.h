// A conversation with a model through its own chat template: the messages so far, rendered
// with the template on every turn (transformers' apply_chat_template), tokenized with special
// tokens recognised, and answered by the Generator (which reuses the cached prefix).
#pragma once
#include <atomic>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/generator.h"

namespace hearth {
namespace tmpl {
class ChatTemplate;
}

// The answer as a structured message. reasoning_content is filled for templates with a
// reasoning section (<think> … </think>), split from content.
struct ChatMessage {
  std::string role = "assistant";
  std::string content;
  std::string reasoning_content;
  std::string finish_reason;  // "stop", "length", "cancelled", ...
  nlohmann::ordered_json to_json() const;
};

// Where a template's reasoning section starts and ends; empty when it has none.
struct ReasoningMarkers {
  std::string open, close;
  bool enabled() const { return !close.empty(); }
  static ReasoningMarkers detect(const std::string& template_source);
};

// Splits raw answer text into reasoning and content.
ChatMessage split_reasoning(const std::string& text, const ReasoningMarkers& markers);

class ChatSession {
 public:
  ChatSession(Generator& generator, const tok::Tokenizer& tokenizer, const tmpl::ChatTemplate& tmpl,
              GenerateOptions options);

  void set_system(std::string text);  // "" removes it
  void reset();                       // forget every turn (the system prompt stays)

  // Adds the user's message, generates the answer (streaming its text through on_text), adds
  // the answer to the history and returns it. A set `cancel` stops the answer early; what was
  // generated so far is kept with finish_reason "cancelled".
  ChatMessage send(const std::string& user_text,
                   const std::function<void(const std::string&)>& on_text,
                   const std::atomic<bool>* cancel = nullptr);

  // The prompt the template renders for the conversation so far plus a generation prompt.
  std::string render_prompt() const;
  // The conversation as OpenAI-style messages (system first when set).
  nlohmann::ordered_json messages() const;
  void save(const std::string& path) const;

 private:
  Generator& generator_;
  const tok::Tokenizer& tokenizer_;
  const tmpl::ChatTemplate& template_;
  GenerateOptions options_;
  ReasoningMarkers markers_;
  std::string system_;
  nlohmann::ordered_json turns_ = nlohmann::ordered_json::array();
};

}  // namespace hearth
