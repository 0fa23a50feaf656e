#include "engine/stop_matcher.h"

#include <algorithm>

namespace hearth::engine {

namespace {
bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }
}  // namespace

StopMatcher::StopMatcher(const std::vector<std::string>& stops) {
  for (const std::string& s : stops) {
    if (s.empty()) continue;
    Pattern p;
    p.text = s;
    p.fail.assign(s.size(), 0);
    for (size_t i = 1, k = 0; i < s.size(); ++i) {
      while (k > 0 && s[i] != s[k]) k = p.fail[k - 1];
      if (s[i] == s[k]) ++k;
      p.fail[i] = static_cast<uint32_t>(k);
    }
    patterns_.push_back(std::move(p));
  }
}

uint32_t StopMatcher::advance(Pattern& p, unsigned char c) const {
  uint32_t k = p.state;  // < p.text.size(): a complete match ends the matching
  while (k > 0 && static_cast<unsigned char>(p.text[k]) != c) k = p.fail[k - 1];
  if (static_cast<unsigned char>(p.text[k]) == c) ++k;
  p.state = k;
  return k;
}

std::string StopMatcher::push(std::string_view text) {
  if (matched()) return {};
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    int best = -1;
    for (size_t j = 0; j < patterns_.size(); ++j) {
      Pattern& p = patterns_[j];
      if (advance(p, c) == p.text.size() &&
          (best < 0 || p.text.size() > patterns_[best].text.size()))
        best = static_cast<int>(j);
    }
    if (best >= 0) {
      matched_ = best;
      // The stop string ends with this byte; it started text.size() - 1 bytes before it.
      const size_t total = pending_.size() + i + 1;
      std::string out = pending_;
      out.append(text.substr(0, i + 1));
      out.resize(total - patterns_[best].text.size());
      pending_.clear();
      return out;
    }
  }
  pending_.append(text);
  size_t hold = 0;
  for (const Pattern& p : patterns_) hold = std::max<size_t>(hold, p.state);
  size_t cut = pending_.size() - std::min(hold, pending_.size());
  // Stop strings are whole characters, so the cut falls between characters already; this
  // keeps released text whole even for stop strings that are not valid UTF-8.
  while (cut > 0 && cut < pending_.size() && is_continuation_byte(pending_[cut])) --cut;
  std::string out = pending_.substr(0, cut);
  pending_.erase(0, cut);
  return out;
}

std::string StopMatcher::flush() {
  std::string out;
  out.swap(pending_);
  for (Pattern& p : patterns_) p.state = 0;
  return out;
}

const std::string& StopMatcher::matched_stop() const {
  static const std::string kNone;
  return matched() ? patterns_[matched_].text : kNone;
}

}  // namespace hearth::engine
