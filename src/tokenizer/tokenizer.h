// Text <-> token ids for a model's vocabulary.
//
// A Tokenizer is a pipeline of steps (see pipeline.h), the same for every source: added
// (special) tokens are split out of the text, each remaining fragment is normalized,
// pre-tokenized and run through the model (BPE, SentencePiece BPE, Unigram, WordPiece),
// and BOS/EOS are added around the result; decoding maps ids back to text through a chain
// of decoders. Built from a GGUF vocabulary (from_vocab), a Hugging Face tokenizer.json
// (from_hf_json), or a path (load_tokenizer). Thread-safe for concurrent encode/decode calls
// (all methods are const).
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/pipeline.h"
#include "tokenizer/vocab.h"

namespace hearth::tok {

class Tokenizer {
 public:
  // Validates a GGUF-style vocabulary and builds the pipeline llama.cpp uses for its model
  // ("llama": SentencePiece BPE; "gpt2": byte-level BPE with the pre-tokenizer named by
  // `pre`; "bert": WordPiece). Throws hearth::Error for an unsupported model (naming it) or
  // an inconsistent vocabulary (sizes, ids, byte tokens, missing merges).
  static std::unique_ptr<Tokenizer> from_vocab(Vocab v);

  // Builds the pipeline a Hugging Face tokenizer.json describes; `tokenizer_config` (the
  // tokenizer_config.json, may be null) supplies chat_template, bos_token, eos_token and
  // add_bos_token/add_eos_token (which, as in transformers, replace the post-processor).
  // Throws hearth::Error naming any unsupported component type.
  static std::unique_ptr<Tokenizer> from_hf_json(const nlohmann::json& tokenizer_json,
                                                 const nlohmann::json* tokenizer_config);

  // What a Tokenizer is assembled from; gguf_pipeline.cpp and hf_json_loader.cpp fill it.
  struct Parts {
    Vocab vocab;  // texts and types by id, special ids, chat template (types final)
    std::vector<AddedToken> added;
    std::unique_ptr<Normalizer> normalizer;      // may be null
    std::unique_ptr<PreTokenizer> pre_tokenizer;  // may be null
    std::unique_ptr<Model> model;
    PostProcessor post;
    std::unique_ptr<Decoder> decoder;  // null: token texts joined with spaces (as HF)
    // llama.cpp's detokenizer: a leading token that decodes to nothing (a skipped BOS) still
    // takes the first-token role, so the text after it keeps its leading space.
    bool first_token_even_if_skipped = false;
  };
  static std::unique_ptr<Tokenizer> assemble(Parts parts);

  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // add_special: add BOS/EOS (or CLS/SEP) as the post-processor says.
  // parse_special: special tokens written in the text ("<s>", "<|im_end|>") become those
  // tokens; off for untrusted text. Other added (user-defined) tokens are matched either way.
  std::vector<int32_t> encode(std::string_view text, bool add_special = true,
                              bool parse_special = true) const;

  // Always returns valid UTF-8: byte sequences that do not form characters become U+FFFD.
  // skip_special: special (control) and unknown tokens decode to nothing.
  // Throws hearth::Error for an id outside the vocabulary.
  std::string decode(std::span<const int32_t> ids, bool skip_special = true) const;

  // The token's text as stored in the vocabulary ("▁Hello", "ĠHello", "<0x0A>", "<s>").
  std::string token_piece(int32_t id) const;

  int32_t n_vocab() const { return static_cast<int32_t>(vocab_.tokens.size()); }
  int32_t bos() const { return vocab_.bos; }
  int32_t eos() const { return vocab_.eos; }
  // EOS, plus control tokens that end a turn in chat formats ("<|end|>", "<|eot_id|>",
  // "<|im_end|>", "<end_of_turn>" ...), as llama.cpp recognises them.
  bool is_end_of_generation(int32_t id) const;
  // Control and unknown tokens: those decode(skip_special = true) leaves out.
  bool is_special(int32_t id) const;
  // The Jinja chat template shipped with the tokenizer ("" when there is none).
  const std::string& chat_template() const { return vocab_.chat_template; }

  // The vocabulary after validation (end-of-turn markers retyped as Control).
  const Vocab& vocab() const { return vocab_; }

 private:
  friend class StreamDecoder;
  Tokenizer() = default;
  void check_id(int32_t id) const;
  // The decoders' output before UTF-8 validation (may end inside a character).
  std::string decode_raw(std::span<const int32_t> ids, bool skip_special) const;

  Vocab vocab_;
  std::vector<uint8_t> end_of_generation_;  // per id
  AddedTokens added_;
  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<Model> model_;
  PostProcessor post_;
  std::unique_ptr<Decoder> decoder_;
  bool first_token_even_if_skipped_ = false;
};

// Loads a Hugging Face tokenizer: `path` is a folder holding tokenizer.json (and optionally
// tokenizer_config.json), or a tokenizer.json file; "X.json.gz" files are read as well when
// X.json is absent. Throws hearth::Error naming the file for anything unreadable or invalid.
std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path);

// load_hf_tokenizer, or for a .gguf file the vocabulary in its metadata.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path);

}  // namespace hearth::tok
