// The operator's [[rule]]s: phrases matched on the normalized skeleton (letters and digits
// only, so case, width, accents, look-alikes, invisible characters and spacing do not
// matter), at word edges so "cat" does not fire inside "concatenate"; and regular
// expressions (PCRE2) over the normalized text.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "guard/policy.h"
#include "guard/scanner.h"
#include "tokenizer/regex.h"

namespace hearth::guard {

class RuleScanner final : public Scanner {
 public:
  // Throws hearth::Error naming the rule for a regex that does not compile.
  explicit RuleScanner(const std::vector<Rule>& rules);
  const char* stage() const override { return "rules"; }
  void scan(const NormalizedText& text, Findings& out) const override;
  bool empty() const { return phrases_.empty() && regexes_.empty(); }
  // The longest phrase's skeleton in bytes (the streaming window must cover it).
  size_t longest_phrase() const { return longest_; }

 private:
  struct Phrase {
    std::string skeleton;
    bool edge_start, edge_end;  // the phrase starts / ends with an ASCII letter or digit
    size_t rule;
  };
  struct CompiledRegex {
    std::unique_ptr<tok::Regex> regex;
    size_t rule;
  };
  Finding finding(size_t rule, size_t begin, size_t end) const;

  std::vector<Rule> rules_;
  std::vector<Phrase> phrases_;
  std::vector<CompiledRegex> regexes_;
  size_t longest_ = 0;
};

// "[CONFIDENTIAL]" for "confidential"; "[PII_EMAIL]" for "pii.email".
std::string default_placeholder(const std::string& category);

}  // namespace hearth::guard
