#include "tokenizer/tokenizer.h"

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace hearth::tok {

Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::assemble(Parts parts) {
  Vocab& v = parts.vocab;
  if (v.tokens.empty()) fail("vocabulary has no tokens");
  if (!parts.model) fail("tokenizer has no model");
  v.types.resize(v.tokens.size(), TokenType::Normal);
  for (const auto* ids : {&parts.post.prefix, &parts.post.suffix}) {
    for (int32_t id : *ids) {
      if (id < 0 || static_cast<size_t>(id) >= v.tokens.size()) {
        fail("the post-processor adds token id {}, outside the vocabulary of {} tokens", id,
             v.tokens.size());
      }
    }
  }

  std::unique_ptr<Tokenizer> t(new Tokenizer());
  t->end_of_generation_.assign(v.tokens.size(), 0);
  if (v.eos >= 0) t->end_of_generation_[v.eos] = 1;
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    TokenType& type = v.types[i];
    if ((type == TokenType::Control || type == TokenType::UserDefined) &&
        is_end_of_turn_text(v.tokens[i])) {
      type = TokenType::Control;
      t->end_of_generation_[i] = 1;
    }
  }
  // Added tokens follow their (possibly retyped) token type: control tokens are special.
  for (AddedToken& a : parts.added) {
    if (a.id >= 0 && static_cast<size_t>(a.id) < v.tokens.size()) {
      a.special = a.special || v.types[a.id] == TokenType::Control;
    }
  }

  t->added_ = AddedTokens(parts.added, parts.normalizer.get());
  t->normalizer_ = std::move(parts.normalizer);
  t->pre_tokenizer_ = std::move(parts.pre_tokenizer);
  t->model_ = std::move(parts.model);
  t->post_ = std::move(parts.post);
  t->decoder_ = std::move(parts.decoder);
  t->first_token_even_if_skipped_ = parts.first_token_even_if_skipped;
  t->vocab_ = std::move(v);
  return t;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  if (add_special) ids.insert(ids.end(), post_.prefix.begin(), post_.prefix.end());

  std::vector<Fragment> fragments, parts;
  std::string normalized;
  auto encode_piece = [&](std::string_view piece, bool) { model_->encode(piece, ids); };
  added_.split(text, parse_special, fragments);
  for (const Fragment& f : fragments) {
    if (f.token >= 0) {
      ids.push_back(f.token);
      continue;
    }
    normalized.clear();
    if (normalizer_) {
      normalizer_->normalize(f.text, normalized);
    } else {
      normalized.assign(f.text);
    }
    added_.split_normalized(normalized, parse_special, parts);
    for (const Fragment& p : parts) {
      if (p.token >= 0) {
        ids.push_back(p.token);
        continue;
      }
      if (pre_tokenizer_) {
        pre_tokenizer_->pre_tokenize(p.text, f.offset == 0 && p.offset == 0, encode_piece);
      } else {
        model_->encode(p.text, ids);
      }
    }
  }

  if (add_special) ids.insert(ids.end(), post_.suffix.begin(), post_.suffix.end());
  return ids;
}

std::string Tokenizer::decode_raw(std::span<const int32_t> ids, bool skip_special) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  bool text_start = true;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    check_id(id);
    const TokenType type = vocab_.types[id];
    const bool skipped = skip_special && is_special(id);
    // Unused tokens decode to nothing (llama.cpp); gaps in a tokenizer.json's ids are Unused.
    const bool empty = skipped || type == TokenType::Unused;
    if (i == 0 && empty && first_token_even_if_skipped_) text_start = false;
    if (skipped) continue;
    tokens.push_back(type == TokenType::Unused ? std::string() : vocab_.tokens[id]);
  }
  std::string text;
  if (decoder_) {
    decoder_->decode_chain(tokens, text_start);
    for (const std::string& t : tokens) text.append(t);
  } else {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) text += ' ';
      text.append(tokens[i]);
    }
  }
  return text;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  const std::string bytes = decode_raw(ids, skip_special);
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

}  // namespace hearth::tok
