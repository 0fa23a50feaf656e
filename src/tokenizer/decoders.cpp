#include "tokenizer/decoders.h"

#include "tokenizer/spm.h"
#include "tokenizer/utf8.h"

namespace hearth::tok {

namespace {

void fuse(std::vector<std::string>& tokens) {
  if (tokens.size() <= 1) return;
  std::string all;
  for (const std::string& t : tokens) all.append(t);
  tokens.assign(1, std::move(all));
}

// Replaces every occurrence of `from` with `to`.
std::string replaced(const std::string& text, const std::string& from, std::string_view to) {
  std::string out;
  replace_all(text, Pattern::literal(from), to, out);
  return out;
}

}  // namespace

void ByteLevelDecoder::decode_chain(std::vector<std::string>& tokens, bool) const {
  std::string bytes;
  for (const std::string& token : tokens) {
    const size_t mark = bytes.size();
    bool all_mapped = true;
    for (size_t i = 0; i < token.size();) {
      size_t n = 0;
      const int b = byte_level_byte(utf8::decode_at(token, i, n));
      if (b < 0) {
        all_mapped = false;
        break;
      }
      bytes += static_cast<char>(b);
      i += n;
    }
    if (!all_mapped) {
      bytes.resize(mark);
      bytes.append(token);
    }
  }
  tokens.assign(1, std::move(bytes));
}

void MetaspaceDecoder::decode_chain(std::vector<std::string>& tokens, bool text_start) const {
  for (size_t i = 0; i < tokens.size(); ++i) {
    const bool drop = i == 0 && text_start && scheme_ != PrependScheme::Never;
    tokens[i] = replaced(tokens[i], replacement_, drop ? "" : " ");
  }
}

void ByteFallbackDecoder::decode_chain(std::vector<std::string>& tokens, bool) const {
  for (std::string& token : tokens) {
    const int b = parse_byte_token(token);
    if (b >= 0) token.assign(1, static_cast<char>(b));
  }
}

void FuseDecoder::decode_chain(std::vector<std::string>& tokens, bool) const { fuse(tokens); }

void StripDecoder::decode_chain(std::vector<std::string>& tokens, bool text_start) const {
  if (content_.empty()) return;
  const size_t n = content_.size();
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string& token = tokens[i];
    size_t begin = 0, end = token.size();
    if (i > 0 || text_start) {
      for (size_t k = 0; k < start_ && token.compare(begin, n, content_) == 0; ++k) begin += n;
    }
    for (size_t k = 0; k < stop_ && end >= begin + n && token.compare(end - n, n, content_) == 0;
         ++k) {
      end -= n;
    }
    token = token.substr(begin, end - begin);
  }
}

void ReplaceDecoder::decode_chain(std::vector<std::string>& tokens, bool) const {
  std::string out;
  for (std::string& token : tokens) {
    out.clear();
    replace_all(token, pattern_, content_, out);
    token.swap(out);
  }
}

void WordPieceDecoder::decode_chain(std::vector<std::string>& tokens, bool text_start) const {
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string& token = tokens[i];
    if (i > 0 || !text_start) {
      if (!prefix_.empty() && token.compare(0, prefix_.size(), prefix_) == 0) {
        token.erase(0, prefix_.size());
      } else {
        token.insert(token.begin(), ' ');
      }
    }
    if (cleanup_) {
      static const std::pair<const char*, const char*> kRules[] = {
          {" .", "."},   {" ?", "?"},     {" !", "!"},   {" ,", ","},
          {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"}, {" do not", " don't"},
          {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
      for (const auto& [from, to] : kRules) token = replaced(token, from, to);
    }
  }
}

void BpeSuffixDecoder::decode_chain(std::vector<std::string>& tokens, bool) const {
  for (size_t i = 0; i < tokens.size(); ++i) {
    tokens[i] = replaced(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
  }
}

void SequenceDecoder::decode_chain(std::vector<std::string>& tokens, bool text_start) const {
  for (const auto& step : steps_) step->decode_chain(tokens, text_start);
}

}  // namespace hearth::tok
