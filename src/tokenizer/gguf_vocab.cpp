#include "tokenizer/gguf_vocab.h"

#include <string>

#include "core/error.h"
#include "tokenizer/gguf_pipeline.h"

namespace hearth::tok {

namespace {

// Reads an optional special-token id; converters write UINT32 0xFFFFFFFF (or -1) for none.
int32_t read_token_id(const io::GGUFFile& file, const char* key, size_t n_tokens) {
  const auto v = file.find_int(key);
  if (!v || *v < 0 || *v == 0xFFFFFFFFll) return -1;
  if (static_cast<uint64_t>(*v) >= n_tokens) {
    fail_format("{}: {} = {} is outside the vocabulary of {} tokens", file.path(), key, *v,
                n_tokens);
  }
  return static_cast<int32_t>(*v);
}

}  // namespace

Vocab vocab_from_gguf(const io::GGUFFile& file) {
  Vocab v;
  v.model = file.get_string("tokenizer.ggml.model");
  v.tokens = file.get_string_array("tokenizer.ggml.tokens");
  const size_t n = v.tokens.size();
  if (n == 0) fail_format("{}: tokenizer.ggml.tokens is empty", file.path());

  if (file.find("tokenizer.ggml.scores") != nullptr) {
    v.scores = file.get_float_array("tokenizer.ggml.scores");
    if (v.scores.size() != n) {
      fail_format("{}: tokenizer.ggml.scores has {} entries but there are {} tokens",
                  file.path(), v.scores.size(), n);
    }
  }
  if (file.find("tokenizer.ggml.token_type") != nullptr) {
    const std::vector<int32_t> types = file.get_int_array("tokenizer.ggml.token_type");
    if (types.size() != n) {
      fail_format("{}: tokenizer.ggml.token_type has {} entries but there are {} tokens",
                  file.path(), types.size(), n);
    }
    v.types.reserve(n);
    for (int32_t t : types) v.types.push_back(static_cast<TokenType>(t));  // unknown values: Undefined later
  }

  if (file.find("tokenizer.ggml.merges") != nullptr) {
    v.merges = file.get_string_array("tokenizer.ggml.merges");
  }
  v.pre = file.find_string("tokenizer.ggml.pre").value_or("");
  v.chat_template = file.find_string("tokenizer.chat_template").value_or("");

  v.bos = read_token_id(file, "tokenizer.ggml.bos_token_id", n);
  v.eos = read_token_id(file, "tokenizer.ggml.eos_token_id", n);
  v.unk = read_token_id(file, "tokenizer.ggml.unknown_token_id", n);
  v.pad = read_token_id(file, "tokenizer.ggml.padding_token_id", n);

  // llama.cpp's defaults: SentencePiece vocabularies add BOS (when there is one) and the
  // dummy space prefix; byte-level BPE ones add nothing, except Llama 3 style ones BOS;
  // BERT ones wrap the text in CLS ... SEP (kept as BOS/EOS).
  bool default_bos = v.bos >= 0, default_eos = false;
  if (v.model == "gpt2") {
    default_bos = v.bos >= 0 && gguf_pre_adds_bos(v.pre);
  } else if (v.model == "bert") {
    if (v.bos < 0) v.bos = read_token_id(file, "tokenizer.ggml.cls_token_id", n);
    if (v.eos < 0) v.eos = read_token_id(file, "tokenizer.ggml.seperator_token_id", n);
    default_bos = v.bos >= 0;
    default_eos = v.eos >= 0;
  }
  v.add_bos = file.find_bool("tokenizer.ggml.add_bos_token").value_or(default_bos);
  v.add_eos = file.find_bool("tokenizer.ggml.add_eos_token").value_or(default_eos);
  v.add_space_prefix = file.find_bool("tokenizer.ggml.add_space_prefix").value_or(v.model == "llama");
  return v;
}

}  // namespace hearth::tok
