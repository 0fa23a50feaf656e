#include "engine/model_loader.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "io/gguf.h"
#include "io/json_file.h"
#include "io/model_locator.h"
#include "tokenizer/gguf_vocab.h"

namespace hearth {
namespace fs = std::filesystem;

namespace {

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read {}: check the path", path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The template an HF folder ships: tokenizer_config.json's chat_template (a string, or a list
// of named templates: "default"), else a chat_template.jinja file beside it.
std::pair<std::string, std::string> hf_chat_template(const std::string& folder) {
  const fs::path config = fs::path(folder) / "tokenizer_config.json";
  if (fs::exists(config)) {
    const auto j = nlohmann::ordered_json::parse(read_text_file(config.string()), nullptr, false);
    if (j.is_object() && j.contains("chat_template")) {
      const auto& t = j["chat_template"];
      if (t.is_string()) return {t.get<std::string>(), config.string()};
      if (t.is_array())
        for (const auto& entry : t)
          if (entry.value("name", "") == "default" && entry.contains("template"))
            return {entry["template"].get<std::string>(), config.string() + " (default)"};
    }
  }
  const fs::path jinja = fs::path(folder) / "chat_template.jinja";
  if (fs::exists(jinja)) return {read_text_file(jinja.string()), jinja.string()};
  return {"", ""};
}

bool has_hf_tokenizer(const std::string& folder) {
  return fs::exists(fs::path(folder) / "tokenizer.json") ||
         fs::exists(fs::path(folder) / "tokenizer.json.gz");
}

}  // namespace

LoadedModel load_model_and_tokenizer(const std::string& spec, const std::string& tokenizer_path) {
  const auto t0 = std::chrono::steady_clock::now();
  LoadedModel lm;
  const io::ModelLocation loc = io::locate_model(spec);
  lm.path = loc.path;
  std::shared_ptr<const io::GGUFFile> gguf;
  if (loc.format == io::ModelFormat::GGUF) {
    gguf = std::make_shared<const io::GGUFFile>(io::GGUFFile::open(loc.path));
    lm.model = load_gguf_model(gguf);
    if (auto t = gguf->find_string("tokenizer.chat_template")) {
      lm.chat_template = *t;
      lm.chat_template_origin = loc.path + " (tokenizer.chat_template)";
    }
  } else {
    lm.model = load_model(loc.path);
    std::tie(lm.chat_template, lm.chat_template_origin) = hf_chat_template(loc.path);
  }
  if (!tokenizer_path.empty()) {
    lm.tokenizer = tok::load_tokenizer(tokenizer_path);
  } else if (gguf) {
    if (gguf->find("tokenizer.ggml.tokens"))
      lm.tokenizer = tok::Tokenizer::from_vocab(tok::vocab_from_gguf(*gguf));
    else
      lm.tokenizer_note = loc.path + " carries no vocabulary";
  } else if (has_hf_tokenizer(loc.path)) {
    lm.tokenizer = tok::load_hf_tokenizer(loc.path);
  } else {
    lm.tokenizer_note = loc.path + " has no tokenizer.json";
  }
  if (lm.tokenizer && lm.tokenizer->n_vocab() > lm.model->config().n_vocab)
    fail("the tokenizer has {} tokens but the model only {}: is --tokenizer the right vocabulary?",
         lm.tokenizer->n_vocab(), lm.model->config().n_vocab);
  lm.load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return lm;
}

std::unique_ptr<tok::Tokenizer> load_model_tokenizer(const std::string& spec) {
  const io::ModelLocation loc = io::locate_model(spec);
  if (loc.format == io::ModelFormat::HFFolder && !has_hf_tokenizer(loc.path))
    fail("{} has no tokenizer.json: pass --tokenizer PATH", loc.path);
  return tok::load_tokenizer(loc.path);
}

std::string chat_template_source(const std::string& model_spec, const std::string& override_path) {
  if (!override_path.empty()) return read_text_file(override_path);
  const io::ModelLocation loc = io::locate_model(model_spec);
  if (loc.format == io::ModelFormat::GGUF) {
    if (auto t = io::GGUFFile::open(loc.path).find_string("tokenizer.chat_template")) return *t;
  } else if (auto [source, origin] = hf_chat_template(loc.path); !source.empty()) {
    return source;
  }
  fail("{} ships no chat template: pass --template FILE with the model's template", loc.path);
}

tmpl::ChatTemplate load_chat_template(const LoadedModel& lm, const std::string& override_path) {
  std::string source = lm.chat_template;
  if (!override_path.empty()) source = read_text_file(override_path);
  if (source.empty())
    fail("{} ships no chat template: pass --template FILE with the model's template", lm.path);
  std::string bos, eos;
  if (lm.tokenizer) {
    if (lm.tokenizer->bos() >= 0) bos = lm.tokenizer->token_piece(lm.tokenizer->bos());
    if (lm.tokenizer->eos() >= 0) eos = lm.tokenizer->token_piece(lm.tokenizer->eos());
  }
  return tmpl::ChatTemplate::from_source(std::move(source), bos, eos);
}

}  // namespace hearth
