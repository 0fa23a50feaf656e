#include "tokenizer/pre_tokenizers.h"

#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace hearth::tok {

namespace {

// Emits the splits of `piece`; a split keeps at_start when it begins the piece.
void split_piece(std::string_view piece, bool at_start, const Pattern& pattern,
                 SplitBehavior behavior, PieceSink emit) {
  split_text(piece, pattern, behavior, [&](size_t begin, size_t end) {
    emit(piece.substr(begin, end - begin), at_start && begin == 0);
  });
}

std::shared_ptr<const Regex> compiled(std::string_view pattern) {
  return std::make_shared<const Regex>(pattern);
}

bool is_ascii_punctuation(uint32_t cp) {
  return (cp >= '!' && cp <= '/') || (cp >= ':' && cp <= '@') || (cp >= '[' && cp <= '`') ||
         (cp >= '{' && cp <= '~');
}

}  // namespace

bool is_bert_punctuation(uint32_t cp) {
  return is_ascii_punctuation(cp) || unicode::is_punctuation(cp);
}

void SplitPreTokenizer::pre_tokenize(std::string_view piece, bool at_start, PieceSink emit) const {
  split_piece(piece, at_start, pattern_, behavior_, emit);
}

// ---- ByteLevel ----

const std::array<std::string, 256>& byte_level_chars() {
  // GPT-2: printable Latin-1 bytes stand for themselves; the others, in byte order, take
  // the code points from U+0100 up.
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      utf8::append(t[b], printable ? b : next++);
    }
    return t;
  }();
  return table;
}

int byte_level_byte(uint32_t cp) {
  static const std::array<int16_t, 512> inverse = [] {
    std::array<int16_t, 512> inv;
    inv.fill(-1);
    const auto& chars = byte_level_chars();
    for (int b = 0; b < 256; ++b) {
      size_t n = 0;
      inv[utf8::decode_at(chars[b], 0, n)] = static_cast<int16_t>(b);
    }
    return inv;
  }();
  return cp < inverse.size() ? inverse[cp] : -1;
}

ByteLevelPreTokenizer::ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
    : add_prefix_space_(add_prefix_space) {
  if (use_regex) {
    static const std::shared_ptr<const Regex> gpt2 = compiled(kGpt2Regex);
    split_ = std::make_unique<SplitPreTokenizer>(Pattern::regex(gpt2), SplitBehavior::Isolated);
  }
}

void ByteLevelPreTokenizer::pre_tokenize(std::string_view piece, bool at_start,
                                         PieceSink emit) const {
  const auto& chars = byte_level_chars();
  auto map_bytes = [&](std::string_view text, bool start) {
    std::string mapped;
    mapped.reserve(text.size() + text.size() / 2);
    for (char c : text) mapped.append(chars[static_cast<uint8_t>(c)]);
    emit(mapped, start);
  };
  std::string prefixed;
  if (add_prefix_space_ && (piece.empty() || piece.front() != ' ')) {
    prefixed.reserve(piece.size() + 1);
    prefixed += ' ';
    prefixed.append(piece);
    piece = prefixed;
  }
  if (piece.empty()) return;
  if (split_) {
    split_->pre_tokenize(piece, at_start, map_bytes);
  } else {
    map_bytes(piece, at_start);
  }
}

// ---- Metaspace ----

MetaspacePreTokenizer::MetaspacePreTokenizer(std::string replacement, PrependScheme scheme,
                                             bool split)
    : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}

void MetaspacePreTokenizer::pre_tokenize(std::string_view piece, bool at_start,
                                         PieceSink emit) const {
  std::string text;
  const bool prepend = !piece.empty() && (scheme_ == PrependScheme::Always ||
                                          (scheme_ == PrependScheme::First && at_start));
  replace_all(piece, Pattern::literal(" "), replacement_, text);
  if (prepend && text.compare(0, replacement_.size(), replacement_) != 0) {
    text.insert(0, replacement_);
  }
  if (text.empty()) return;
  if (split_) {
    // Cut before every replacement character.
    split_piece(text, at_start, Pattern::literal(replacement_), SplitBehavior::MergedWithNext, emit);
  } else {
    emit(text, at_start);
  }
}

// ---- character-class pre-tokenizers ----

DigitsPreTokenizer::DigitsPreTokenizer(bool individual_digits)
    : split_(Pattern::chars(unicode::is_numeric),
             individual_digits ? SplitBehavior::Isolated : SplitBehavior::Contiguous) {}

void DigitsPreTokenizer::pre_tokenize(std::string_view piece, bool at_start, PieceSink emit) const {
  split_.pre_tokenize(piece, at_start, emit);
}

PunctuationPreTokenizer::PunctuationPreTokenizer(SplitBehavior behavior)
    : split_(Pattern::chars(is_bert_punctuation), behavior) {}

void PunctuationPreTokenizer::pre_tokenize(std::string_view piece, bool at_start,
                                           PieceSink emit) const {
  split_.pre_tokenize(piece, at_start, emit);
}

WhitespacePreTokenizer::WhitespacePreTokenizer()
    : split_(Pattern::regex(compiled("\\w+|[^\\w\\s]+")).inverted(), SplitBehavior::Removed) {}

void WhitespacePreTokenizer::pre_tokenize(std::string_view piece, bool at_start,
                                          PieceSink emit) const {
  split_.pre_tokenize(piece, at_start, emit);
}

WhitespaceSplitPreTokenizer::WhitespaceSplitPreTokenizer()
    : split_(Pattern::chars(unicode::is_whitespace), SplitBehavior::Removed) {}

void WhitespaceSplitPreTokenizer::pre_tokenize(std::string_view piece, bool at_start,
                                               PieceSink emit) const {
  split_.pre_tokenize(piece, at_start, emit);
}

BertPreTokenizer::BertPreTokenizer() : punctuation_(SplitBehavior::Isolated) {}

void BertPreTokenizer::pre_tokenize(std::string_view piece, bool at_start, PieceSink emit) const {
  whitespace_.pre_tokenize(piece, at_start, [&](std::string_view word, bool start) {
    punctuation_.pre_tokenize(word, start, emit);
  });
}

void SequencePreTokenizer::pre_tokenize(std::string_view piece, bool at_start,
                                        PieceSink emit) const {
  run(0, piece, at_start, emit);
}

void SequencePreTokenizer::run(size_t step, std::string_view piece, bool at_start,
                               PieceSink emit) const {
  if (step == steps_.size()) {
    if (!piece.empty()) emit(piece, at_start);
    return;
  }
  steps_[step]->pre_tokenize(piece, at_start, [&](std::string_view next, bool start) {
    run(step + 1, next, start, emit);
  });
}

}  // namespace hearth::tok
