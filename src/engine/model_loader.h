// From what a person types after -m to a runnable model and its tokenizer.
#pragma once
#include <memory>
#include <string>

#include "models/model.h"
#include "tokenizer/tokenizer.h"

namespace hearth {

struct LoadedModel {
  std::string path;                          // the resolved file or folder
  std::unique_ptr<Model> model;
  std::unique_ptr<tok::Tokenizer> tokenizer; // null when none could be found (ids only)
  std::string tokenizer_note;                // why there is no tokenizer, for the error message
  double load_seconds = 0;
};

// spec: a path or a model id (see io::locate_model). tokenizer_path: "" = the model's own;
// else a GGUF file whose vocabulary to use.
LoadedModel load_model_and_tokenizer(const std::string& spec, const std::string& tokenizer_path);

// A tokenizer from a GGUF file's tokenizer.ggml.* metadata.
std::unique_ptr<tok::Tokenizer> load_gguf_tokenizer(const std::string& gguf_path);

}  // namespace hearth
