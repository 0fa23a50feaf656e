// Prompt-injection heuristics: instructions to ignore earlier instructions, role-play
// jailbreak patterns ("you are DAN", "developer mode", "no restrictions"), requests to
// reveal the system prompt, chat-template role markers typed into user text, and invisible
// text (format characters and Unicode tag characters used to hide instructions).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "guard/scanner.h"
#include "tokenizer/regex.h"

namespace hearth::guard {

class InjectionScanner final : public Scanner {
 public:
  InjectionScanner();
  const char* stage() const override { return "injection"; }
  void scan(const NormalizedText& text, Findings& out) const override;

 private:
  struct Pattern {
    std::string name;
    std::unique_ptr<tok::Regex> regex;
  };
  std::vector<Pattern> patterns_;
};

}  // namespace hearth::guard
