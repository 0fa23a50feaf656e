// Byte-pair encoding with a merge list, as the Hugging Face tokenizers library's BPE model
// (GPT-2/Llama 3/Qwen byte-level vocabularies and SentencePiece-converted ones such as
// Mistral and Gemma): a piece starts as one symbol per character and the adjacent pair with
// the lowest merge rank is merged until no listed pair is left (ties: leftmost).
//
// Speed: merges live in an open-addressing table keyed by the pair of ids, a word is merged
// with a binary heap over a linked list of symbols, and results for words up to 256 bytes
// are cached (thread-safe) because running text repeats its words. A long piece (the whole
// text, for SentencePiece-style tokenizers without a pre-tokenizer) is first cut where no
// merge can ever join the characters on either side: no merge's left part ends with the
// one and its right part starts with the other. BPE never merges across such a cut, so the
// parts encode independently, through the cache, with identical results.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/pipeline.h"
#include "tokenizer/string_map.h"

namespace hearth::tok {

struct BpeOptions {
  std::string unk_token;                  // empty: characters no token covers are dropped
  std::string continuing_subword_prefix;  // put in front of every symbol but the first
  std::string end_of_word_suffix;         // appended to the last symbol
  bool fuse_unk = false;       // consecutive unknown characters become one unk token
  bool byte_fallback = false;  // unknown characters become <0xXX> byte tokens when present
  bool ignore_merges = false;  // a piece that is itself a token is emitted whole
};

class BpeModel : public Model {
 public:
  // `vocab`: token text -> id (a repeated text keeps its first id). `merges`: token pairs,
  // highest priority first. A merge naming a text the vocabulary lacks, or whose merged
  // text it lacks, throws hearth::Error naming it when `strict` (tokenizer.json, as the HF
  // library does), and is skipped otherwise (GGUF, as llama.cpp does).
  BpeModel(const std::vector<std::pair<std::string, int32_t>>& vocab,
           const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options,
           bool strict);
  ~BpeModel() override;

  void encode(std::string_view piece, std::vector<int32_t>& out) const override;

  // Splits a merges entry "a b" at its separating space (the first one after the first
  // character, so a token that is itself a space still parses). Throws hearth::Error.
  static std::pair<std::string, std::string> split_merge(std::string_view merge);

 private:
  class MergeTable;
  class WordCache;

  class PairSet;

  int32_t find(std::string_view text) const;
  int32_t find_char(std::string_view ch, uint32_t cp) const;
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;
  void encode_long(std::string_view piece, std::vector<int32_t>& out) const;
  void merge_word(std::string_view word, std::vector<int32_t>& out) const;

  StringIdMap vocab_;
  std::unique_ptr<MergeTable> merges_;
  std::unique_ptr<WordCache> cache_;
  std::unique_ptr<PairSet> junctions_;  // (last char of a, first char of b) of every merge
  std::vector<int32_t> char_ids_;         // ids of single characters below U+10000 (-1: none)
  std::array<int32_t, 256> byte_ids_{};   // <0xXX> tokens (-1: none)
  BpeOptions options_;
  int32_t unk_ = -1;
  bool plain_symbols_ = true;  // no subword prefix/suffix: symbols are just characters
};

}  // namespace hearth::tok
