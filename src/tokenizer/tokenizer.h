// Text <-> token ids for a model's vocabulary.
//
// A Tokenizer is a pipeline of steps (see pipeline.h): special tokens are split out of the
// text, each remaining fragment is normalized and run through the model (e.g. SentencePiece
// BPE), BOS/EOS are added around the result; decoding maps each id back to bytes.
// from_vocab() picks the steps from the vocabulary's model name. Thread-safe for concurrent
// encode/decode calls (all methods are const).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/pipeline.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/vocab.h"

namespace hearth::tok {

class Tokenizer {
 public:
  // Validates the vocabulary and builds the pipeline for its model. Throws hearth::Error for
  // an unsupported model (naming it) or an inconsistent vocabulary (sizes, ids, byte tokens).
  static std::unique_ptr<Tokenizer> from_vocab(Vocab v);

  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // add_special: add BOS/EOS as the vocabulary asks (add_bos / add_eos).
  // parse_special: control tokens written in the text ("<s>", "<|end|>") become those
  // tokens; off for untrusted text. User-defined tokens are matched either way.
  std::vector<int32_t> encode(std::string_view text, bool add_special = true,
                              bool parse_special = true) const;

  // Always returns valid UTF-8: byte sequences that do not form characters become U+FFFD.
  // skip_special: control and unknown tokens decode to nothing.
  // Throws hearth::Error for an id outside the vocabulary.
  std::string decode(std::span<const int32_t> ids, bool skip_special = true) const;

  // The token's text as stored in the vocabulary ("▁Hello", "<0x0A>", "<s>").
  std::string token_piece(int32_t id) const;

  int32_t n_vocab() const { return static_cast<int32_t>(vocab_.tokens.size()); }
  int32_t bos() const { return vocab_.bos; }
  int32_t eos() const { return vocab_.eos; }
  // EOS, plus control tokens that end a turn in chat formats ("<|end|>", "<|eot_id|>",
  // "<|im_end|>", "<end_of_turn>" ...), as llama.cpp recognises them.
  bool is_end_of_generation(int32_t id) const;
  // Control and unknown tokens: those decode(skip_special = true) leaves out.
  bool is_special(int32_t id) const;

  // The vocabulary after validation (end-of-turn markers retyped as Control).
  const Vocab& vocab() const { return vocab_; }

 private:
  friend class StreamDecoder;
  Tokenizer() = default;
  void check_id(int32_t id) const;
  void append_piece(int32_t id, bool first, bool skip_special, std::string& out) const;

  Vocab vocab_;
  std::vector<uint8_t> end_of_generation_;  // per id
  std::unique_ptr<SpecialTokenSplitter> specials_;
  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<Model> model_;
  PostProcessor post_;
  std::unique_ptr<Decoder> decoder_;
};

}  // namespace hearth::tok
