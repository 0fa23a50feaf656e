#include "tokenizer/tokenizer.h"

#include <array>
#include <cmath>
#include <limits>
#include <string_view>

#include "core/error.h"
#include "tokenizer/spm.h"
#include "tokenizer/utf8.h"

namespace hearth::tok {

namespace {

// Texts of tokens that end a turn in chat formats. llama.cpp treats them as end of
// generation and, when a file marks them user-defined, retypes them as control tokens.
constexpr std::array<std::string_view, 10> kEndOfTurnTexts = {
    "<|eot_id|>",    "<|im_end|>", "<|end|>", "<end_of_turn>",   "<|endoftext|>",
    "<|eom_id|>",    "<EOT>",      "_<EOT>",  "<end_of_utterance>",
    "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",  // DeepSeek <｜end▁of▁sentence｜>
};

void check_special_id(const char* what, int32_t id, size_t n_tokens) {
  if (id < -1 || (id >= 0 && static_cast<size_t>(id) >= n_tokens)) {
    fail("vocabulary {} token id {} is outside the vocabulary of {} tokens", what, id, n_tokens);
  }
}

// Checks sizes and ids, fills in defaults, and settles token types.
void validate(Vocab& v) {
  const size_t n = v.tokens.size();
  if (n == 0) fail("vocabulary has no tokens");
  if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    fail("vocabulary has {} tokens, more than token ids can address", n);
  }
  if (!v.scores.empty() && v.scores.size() != n) {
    fail("vocabulary has {} tokens but {} scores; the model file is inconsistent", n,
         v.scores.size());
  }
  if (!v.types.empty() && v.types.size() != n) {
    fail("vocabulary has {} tokens but {} token types; the model file is inconsistent", n,
         v.types.size());
  }
  check_special_id("bos", v.bos, n);
  check_special_id("eos", v.eos, n);
  check_special_id("unk", v.unk, n);
  check_special_id("pad", v.pad, n);
  if (v.add_bos && v.bos < 0) fail("vocabulary asks for a BOS token (add_bos) but has no bos token id");
  if (v.add_eos && v.eos < 0) fail("vocabulary asks for an EOS token (add_eos) but has no eos token id");

  v.scores.resize(n, 0.0f);
  for (float& s : v.scores) {
    if (std::isnan(s)) s = -std::numeric_limits<float>::infinity();  // keeps score order total
  }
  v.types.resize(n, TokenType::Normal);
  for (size_t i = 0; i < n; ++i) {
    TokenType& t = v.types[i];
    const auto raw = static_cast<int32_t>(t);
    if (raw < 0 || raw > static_cast<int32_t>(TokenType::Byte)) t = TokenType::Undefined;
    if (t == TokenType::Byte && parse_byte_token(v.tokens[i]) < 0) {
      fail("token {} is marked as a byte token but its text '{}' is not of the form <0xXX>", i,
           v.tokens[i]);
    }
  }
}

}  // namespace

Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::from_vocab(Vocab v) {
  if (v.model != "llama") {
    fail("tokenizer model '{}' is not supported yet (supported: 'llama', SentencePiece BPE)",
         v.model);
  }
  validate(v);

  std::unique_ptr<Tokenizer> t(new Tokenizer());
  t->end_of_generation_.assign(v.tokens.size(), 0);
  if (v.eos >= 0) t->end_of_generation_[v.eos] = 1;
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    TokenType& type = v.types[i];
    if (type != TokenType::Control && type != TokenType::UserDefined) continue;
    for (std::string_view marker : kEndOfTurnTexts) {
      if (v.tokens[i] == marker) {
        type = TokenType::Control;
        t->end_of_generation_[i] = 1;
      }
    }
  }

  t->specials_ = std::make_unique<SpecialTokenSplitter>(v);
  t->normalizer_ = std::make_unique<SpmNormalizer>(v.add_space_prefix);
  t->model_ = std::make_unique<SpmBpeModel>(v);
  t->decoder_ = std::make_unique<SpmDecoder>(v);
  if (v.add_bos) t->post_.prefix.push_back(v.bos);
  if (v.add_eos) t->post_.suffix.push_back(v.eos);
  t->vocab_ = std::move(v);
  return t;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  std::vector<int32_t> ids;
  if (add_special) ids.insert(ids.end(), post_.prefix.begin(), post_.prefix.end());

  std::vector<Fragment> fragments;
  specials_->split(text, parse_special, fragments);
  std::string normalized;
  for (const Fragment& f : fragments) {
    if (f.token >= 0) {
      ids.push_back(f.token);
    } else {
      normalizer_->normalize(f.text, normalized);
      model_->encode(normalized, ids);
    }
  }

  if (add_special) ids.insert(ids.end(), post_.suffix.begin(), post_.suffix.end());
  return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string bytes;
  for (size_t i = 0; i < ids.size(); ++i) {
    check_id(ids[i]);
    decoder_->append_piece(ids[i], i == 0, skip_special, bytes);
  }
  std::string text;
  text.reserve(bytes.size());
  utf8::append_valid(bytes, text, /*final=*/true);
  return text;
}

std::string Tokenizer::token_piece(int32_t id) const {
  check_id(id);
  return vocab_.tokens[id];
}

bool Tokenizer::is_end_of_generation(int32_t id) const {
  return id >= 0 && id < n_vocab() && end_of_generation_[id] != 0;
}

bool Tokenizer::is_special(int32_t id) const {
  if (id < 0 || id >= n_vocab()) return false;
  const TokenType t = vocab_.types[id];
  return t == TokenType::Control || t == TokenType::Unknown;
}

void Tokenizer::check_id(int32_t id) const {
  if (id < 0 || id >= n_vocab()) {
    fail("token id {} is outside the vocabulary ({} tokens)", id, n_vocab());
  }
}

void Tokenizer::append_piece(int32_t id, bool first, bool skip_special, std::string& out) const {
  decoder_->append_piece(id, first, skip_special, out);
}

}  // namespace hearth::tok
