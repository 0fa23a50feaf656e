#include "guard/rule_scanner.h"

#include "core/error.h"

namespace hearth::guard {
namespace {

bool ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

}  // namespace

std::string default_placeholder(const std::string& category) {
  std::string s = "[";
  for (char c : category) {
    if (c >= 'a' && c <= 'z') s += static_cast<char>(c - 32);
    else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) s += c;
    else s += '_';
  }
  return s + "]";
}

RuleScanner::RuleScanner(const std::vector<Rule>& rules) : rules_(rules) {
  for (size_t r = 0; r < rules_.size(); ++r) {
    for (const auto& p : rules_[r].phrases) {
      std::string sk = phrase_skeleton(p);
      if (sk.empty()) continue;  // parse_policy refuses these; a hand-made Rule is ignored
      longest_ = std::max(longest_, sk.size());
      const bool start = ascii_alnum(sk.front()), end = ascii_alnum(sk.back());
      phrases_.push_back({std::move(sk), start, end, r});
    }
    for (const auto& re : rules_[r].regexes) {
      try {
        regexes_.push_back({std::make_unique<tok::Regex>(re), r});
      } catch (const hearth::Error& e) {
        fail("policy rule '{}': {}", rules_[r].name, e.what());
      }
    }
  }
}

Finding RuleScanner::finding(size_t rule, size_t begin, size_t end) const {
  const Rule& r = rules_[rule];
  Finding f;
  f.stage = "rules";
  f.category = r.category;
  f.rule = r.name;
  f.placeholder = r.placeholder.empty() ? default_placeholder(r.category) : r.placeholder;
  f.begin = begin;
  f.end = end;
  return f;
}

void RuleScanner::scan(const NormalizedText& text, Findings& out) const {
  const std::string& sk = text.skeleton;
  for (const Phrase& p : phrases_) {
    for (size_t at = sk.find(p.skeleton); at != std::string::npos; at = sk.find(p.skeleton, at + 1)) {
      const size_t last = at + p.skeleton.size() - 1;
      if (p.edge_start && !(text.skeleton_flags[at] & NormalizedText::kWordStart)) continue;
      if (p.edge_end && !(text.skeleton_flags[last] & NormalizedText::kWordEnd)) continue;
      auto [b, e] = text.original_range_of_skeleton(at, last + 1);
      out.push_back(finding(p.rule, b, e));
    }
  }
  for (const CompiledRegex& cr : regexes_) {
    cr.regex->for_each_match(text.text, [&](size_t b, size_t e) {
      auto [ob, oe] = text.original_range(b, e);
      out.push_back(finding(cr.rule, ob, oe));
    });
  }
}

}  // namespace hearth::guard
