#include "tokenizer/special_tokens.h"

#include <algorithm>

namespace hearth::tok {

SpecialTokenSplitter::SpecialTokenSplitter(const Vocab& vocab) {
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    const TokenType t = vocab.types.empty() ? TokenType::Normal : vocab.types[i];
    if (vocab.tokens[i].empty()) continue;
    if (t == TokenType::Control || t == TokenType::Unknown || t == TokenType::UserDefined) {
      entries_.push_back({static_cast<int32_t>(i), vocab.tokens[i], t == TokenType::UserDefined});
    }
  }
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return a.text.size() > b.text.size();
  });
}

void SpecialTokenSplitter::split(std::string_view text, bool parse_special,
                                 std::vector<Fragment>& out) const {
  out.clear();
  if (text.empty()) return;
  out.push_back({text, -1});
  std::vector<Fragment> next;
  for (const Entry& e : entries_) {
    if (!e.always && !parse_special) continue;
    bool found = false;
    next.clear();
    for (const Fragment& f : out) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      std::string_view rest = f.text;
      for (size_t pos; (pos = rest.find(e.text)) != std::string_view::npos;) {
        found = true;
        if (pos > 0) next.push_back({rest.substr(0, pos), -1});
        next.push_back({{}, e.id});
        rest.remove_prefix(pos + e.text.size());
      }
      if (!rest.empty()) next.push_back({rest, -1});
    }
    if (found) out.swap(next);
  }
}

}  // namespace hearth::tok
