// From what a person types after -m to a runnable model, its tokenizer and its chat template.
#pragma once
#include <memory>
#include <string>

#include "models/model.h"
#include "template/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace hearth {

struct LoadedModel {
  std::string path;                          // the resolved file or folder
  std::unique_ptr<Model> model;
  std::unique_ptr<tok::Tokenizer> tokenizer; // null when none could be found (ids only)
  std::string tokenizer_note;                // why there is no tokenizer, for the error message
  std::string chat_template;                 // the model's own chat template ("" = none)
  std::string chat_template_origin;          // where it came from, for messages
  double load_seconds = 0;
};

// spec: a path or a model id (see io::locate_model). tokenizer_path: "" = the model's own;
// else a folder with tokenizer.json, a tokenizer.json file, or a .gguf.
LoadedModel load_model_and_tokenizer(const std::string& spec, const std::string& tokenizer_path);

// Just the tokenizer of a model (path or id), without loading its weights.
std::unique_ptr<tok::Tokenizer> load_model_tokenizer(const std::string& spec);

// The chat template to talk to `lm` with: the file `override_path` when given, else the
// model's own. A model that ships none is an error that says to pass --template — never a
// guessed format. bos_token/eos_token come from the tokenizer's special tokens.
tmpl::ChatTemplate load_chat_template(const LoadedModel& lm, const std::string& override_path);
// Only the template source: the override file or the model's own (for `hearth template`).
std::string chat_template_source(const std::string& model_spec, const std::string& override_path);

}  // namespace hearth
