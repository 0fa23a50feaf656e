// What `hearth chat` and `hearth run --chat` share: options, and loading a model with its
// tokenizer and chat template.
#pragma once
#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "engine/generator.h"
#include "engine/model_loader.h"
#include "template/chat_template.h"

namespace hearth::cli {

struct ChatOptions {
  std::string model, tokenizer, template_file, system;
  int threads = 0;
  int64_t ctx = 0;
  int64_t n_predict = -1;  // per answer; -1: until the end-of-turn token or the context is full
  sampling::Params sampling;
  int token_delay_ms = 0;
};

void add_chat_options(CLI::App* cmd, ChatOptions& o);

struct ChatModel {
  LoadedModel loaded;
  std::optional<tmpl::ChatTemplate> chat_template;
  GenerateOptions generate;
  int64_t context = 0;
};

ChatModel load_chat_model(const ChatOptions& o);

}  // namespace hearth::cli
