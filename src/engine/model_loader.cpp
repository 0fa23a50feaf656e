#include "engine/model_loader.h"

#include <chrono>
#include <filesystem>

#include "core/error.h"
#include "io/gguf.h"
#include "io/model_locator.h"
#include "tokenizer/gguf_vocab.h"

namespace hearth {

std::unique_ptr<tok::Tokenizer> load_gguf_tokenizer(const std::string& gguf_path) {
  const auto file = io::GGUFFile::open(gguf_path);
  if (!file.find("tokenizer.ggml.tokens"))
    fail("{} has no vocabulary (tokenizer.ggml.tokens); pass --tokenizer with a GGUF that has one",
         gguf_path);
  return tok::Tokenizer::from_vocab(tok::vocab_from_gguf(file));
}

LoadedModel load_model_and_tokenizer(const std::string& spec, const std::string& tokenizer_path) {
  const auto t0 = std::chrono::steady_clock::now();
  LoadedModel lm;
  const io::ModelLocation loc = io::locate_model(spec);
  lm.path = loc.path;
  std::shared_ptr<const io::GGUFFile> gguf;
  if (loc.format == io::ModelFormat::GGUF) {
    gguf = std::make_shared<const io::GGUFFile>(io::GGUFFile::open(loc.path));
    lm.model = load_gguf_model(gguf);
  } else {
    lm.model = load_model(loc.path);
  }
  if (!tokenizer_path.empty()) {
    lm.tokenizer = load_gguf_tokenizer(tokenizer_path);
  } else if (gguf) {
    if (gguf->find("tokenizer.ggml.tokens"))
      lm.tokenizer = tok::Tokenizer::from_vocab(tok::vocab_from_gguf(*gguf));
    else
      lm.tokenizer_note = loc.path + " carries no vocabulary";
  } else {
    lm.tokenizer_note =
        "reading tokenizer.json from Hugging Face folders is not supported yet (" + loc.path + ")";
  }
  if (lm.tokenizer && lm.tokenizer->n_vocab() > lm.model->config().n_vocab)
    fail("the tokenizer has {} tokens but the model only {}: is --tokenizer the right vocabulary?",
         lm.tokenizer->n_vocab(), lm.model->config().n_vocab);
  lm.load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return lm;
}

}  // namespace hearth
