#include "engine/chat.h"

#include <fstream>

#include "core/error.h"
#include "template/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace hearth {

nlohmann::ordered_json ChatMessage::to_json() const {
  nlohmann::ordered_json j{{"role", role}, {"content", content}};
  if (!reasoning_content.empty()) j["reasoning_content"] = reasoning_content;
  return j;
}

ReasoningMarkers ReasoningMarkers::detect(const std::string& source) {
  // Templates of reasoning models mention their markers (to strip them from history, or to
  // open the section in the generation prompt).
  for (const auto& [open, close] : {std::pair{"<think>", "</think>"},
                                    std::pair{"<|begin_of_thought|>", "<|end_of_thought|>"},
                                    std::pair{"[THINK]", "[/THINK]"}})
    if (source.find(close) != std::string::npos) return {open, close};
  return {};
}

namespace {
std::string trim_leading_space(std::string s) {
  const size_t i = s.find_first_not_of(" \t\r\n");
  return i == std::string::npos ? std::string() : s.substr(i);
}
std::string trim(std::string s) {
  s = trim_leading_space(std::move(s));
  const size_t j = s.find_last_not_of(" \t\r\n");
  return j == std::string::npos ? std::string() : s.substr(0, j + 1);
}
}  // namespace

ChatMessage split_reasoning(const std::string& text, const ReasoningMarkers& m) {
  ChatMessage msg;
  if (!m.enabled()) {
    msg.content = text;
    return msg;
  }
  std::string body = trim_leading_space(text);
  const bool opened = body.starts_with(m.open);
  if (opened) body = body.substr(m.open.size());
  const size_t close = body.find(m.close);
  if (close != std::string::npos) {
    // The generation prompt may already have opened the section, so the answer can start
    // inside it: everything before the close marker is reasoning.
    msg.reasoning_content = trim(body.substr(0, close));
    msg.content = trim_leading_space(body.substr(close + m.close.size()));
  } else if (opened) {
    msg.reasoning_content = trim(body);  // cut off while still reasoning
  } else {
    msg.content = text;
  }
  return msg;
}

ChatSession::ChatSession(Generator& generator, const tok::Tokenizer& tokenizer,
                         const tmpl::ChatTemplate& tmpl, GenerateOptions options)
    : generator_(generator),
      tokenizer_(tokenizer),
      template_(tmpl),
      options_(std::move(options)),
      markers_(ReasoningMarkers::detect(tmpl.source())) {}

void ChatSession::set_system(std::string text) { system_ = std::move(text); }
void ChatSession::reset() { turns_ = nlohmann::ordered_json::array(); }

nlohmann::ordered_json ChatSession::messages() const {
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  if (!system_.empty()) all.push_back({{"role", "system"}, {"content", system_}});
  for (const auto& m : turns_) all.push_back(m);
  return all;
}

std::string ChatSession::render_prompt() const {
  return template_.apply(messages(), /*add_generation_prompt=*/true);
}

ChatMessage ChatSession::send(const std::string& user_text,
                              const std::function<void(const std::string&)>& on_text,
                              const std::atomic<bool>* cancel) {
  turns_.push_back({{"role", "user"}, {"content", user_text}});
  std::string prompt_text;
  try {
    prompt_text = render_prompt();
  } catch (...) {
    turns_.erase(turns_.end() - 1);  // a template that raises leaves the history as it was
    throw;
  }
  // The template writes BOS and other specials as text; they become their ids here, and
  // nothing is added (transformers tokenizes chat prompts with add_special_tokens=False).
  const auto ids = tokenizer_.encode(prompt_text, /*add_special=*/false, /*parse_special=*/true);
  const auto r = generator_.generate(ids, options_, [&](int32_t, const std::string& text) {
    if (on_text && !text.empty()) on_text(text);
    return !(cancel && cancel->load());
  });
  ChatMessage msg = split_reasoning(r.text, markers_);
  msg.finish_reason = stop_reason_name(r.stop);
  turns_.push_back(msg.to_json());
  return msg;
}

void ChatSession::save(const std::string& path) const {
  std::ofstream out(path);
  if (!out) fail("cannot write {}: check that the folder exists and is writable", path);
  out << messages().dump(2) << "\n";
  if (!out) fail("writing {} failed", path);
}

}  // namespace hearth
