#include "tokenizer/pre_tokenizers.h"

#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace hearth::tok {

namespace {

// Replaces each piece by its splits; a split keeps at_start when it begins its piece.
void split_each(std::vector<Piece>& pieces, const Pattern& pattern, SplitBehavior behavior) {
  std::vector<Piece> out;
  out.reserve(pieces.size() * 2);
  std::vector<Span> spans;
  std::vector<std::pair<size_t, size_t>> ranges;
  for (Piece& piece : pieces) {
    pattern.find(piece.text, spans);
    split_ranges(spans, behavior, ranges);
    if (ranges.size() == 1 && ranges[0].first == 0 && ranges[0].second == piece.text.size()) {
      out.push_back(std::move(piece));
      continue;
    }
    for (const auto& [begin, end] : ranges) {
      out.push_back({piece.text.substr(begin, end - begin), piece.at_start && begin == 0});
    }
  }
  pieces.swap(out);
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

void SplitPreTokenizer::pre_tokenize(std::vector<Piece>& pieces) const {
  split_each(pieces, pattern_, behavior_);
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

void ByteLevelPreTokenizer::pre_tokenize(std::vector<Piece>& pieces) const {
  if (add_prefix_space_) {
    for (Piece& p : pieces) {
      if (p.text.empty() || p.text.front() != ' ') p.text.insert(p.text.begin(), ' ');
    }
  }
  if (split_) split_->pre_tokenize(pieces);
  const auto& chars = byte_level_chars();
  std::string mapped;
  for (Piece& p : pieces) {
    mapped.clear();
    for (char c : p.text) mapped.append(chars[static_cast<uint8_t>(c)]);
    p.text.swap(mapped);
  }
}

// ---- Metaspace ----

MetaspacePreTokenizer::MetaspacePreTokenizer(std::string replacement, PrependScheme scheme,
                                             bool split)
    : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}

void MetaspacePreTokenizer::pre_tokenize(std::vector<Piece>& pieces) const {
  std::string replaced;
  for (Piece& p : pieces) {
    replaced.clear();
    replace_all(p.text, Pattern::literal(" "), replacement_, replaced);
    const bool has_prefix = replaced.compare(0, replacement_.size(), replacement_) == 0;
    const bool prepend = !has_prefix && !replaced.empty() &&
                         (scheme_ == PrependScheme::Always ||
                          (scheme_ == PrependScheme::First && p.at_start));
    p.text = prepend ? replacement_ + replaced : replaced;
  }
  if (!split_) {
    std::erase_if(pieces, [](const Piece& p) { return p.text.empty(); });
    return;
  }
  // Split before every replacement character.
  split_each(pieces, Pattern::literal(replacement_), SplitBehavior::MergedWithNext);
}

// ---- character-class pre-tokenizers ----

DigitsPreTokenizer::DigitsPreTokenizer(bool individual_digits)
    : split_(Pattern::chars(unicode::is_numeric),
             individual_digits ? SplitBehavior::Isolated : SplitBehavior::Contiguous) {}

void DigitsPreTokenizer::pre_tokenize(std::vector<Piece>& pieces) const {
  split_.pre_tokenize(pieces);
}

PunctuationPreTokenizer::PunctuationPreTokenizer(SplitBehavior behavior)
    : split_(Pattern::chars(is_bert_punctuation), behavior) {}

void PunctuationPreTokenizer::pre_tokenize(std::vector<Piece>& pieces) const {
  split_.pre_tokenize(pieces);
}

WhitespacePreTokenizer::WhitespacePreTokenizer()
    : split_(Pattern::regex(compiled("\\w+|[^\\w\\s]+")).inverted(), SplitBehavior::Removed) {}

void WhitespacePreTokenizer::pre_tokenize(std::vector<Piece>& pieces) const {
  split_.pre_tokenize(pieces);
}

WhitespaceSplitPreTokenizer::WhitespaceSplitPreTokenizer()
    : split_(Pattern::chars(unicode::is_whitespace), SplitBehavior::Removed) {}

void WhitespaceSplitPreTokenizer::pre_tokenize(std::vector<Piece>& pieces) const {
  split_.pre_tokenize(pieces);
}

BertPreTokenizer::BertPreTokenizer() : punctuation_(SplitBehavior::Isolated) {}

void BertPreTokenizer::pre_tokenize(std::vector<Piece>& pieces) const {
  whitespace_.pre_tokenize(pieces);
  punctuation_.pre_tokenize(pieces);
}

void SequencePreTokenizer::pre_tokenize(std::vector<Piece>& pieces) const {
  for (const auto& step : steps_) step->pre_tokenize(pieces);
}

}  // namespace hearth::tok
