#include "guard/injection_scanner.h"

namespace hearth::guard {
namespace {

// Hidden characters beyond which text counts as smuggling instructions. A few zero-width
// joiners occur in ordinary emoji sequences and some scripts; dozens do not.
constexpr size_t kInvisibleLimit = 8;

}  // namespace

InjectionScanner::InjectionScanner() {
  // Over normalized text: lower case, no accents, confusables folded.
  static const std::pair<const char*, const char*> kPatterns[] = {
      {"ignore-instructions",
       R"(\b(?:ignore|disregard|forget|override|bypass|skip)\W+(?:\w+\W+){0,3}?(?:previous|prior|above|earlier|preceding|all|any|your|system)\W+(?:\w+\W+){0,2}?(?:instructions?|prompts?|rules|directions|guidelines|directives|constraints|context)\b)"},
      {"new-instructions", R"(\b(?:new|updated|real|actual)\s+(?:system\s+)?instructions?\s*:)"},
      {"jailbreak-persona",
       R"(\b(?:you are|you're|act as|pretend (?:to be|you are)|roleplay as|from now on,? you are)\s+(?:now\s+)?(?:dan|an? (?:unfiltered|uncensored|unrestricted|jailbroken)\b|in (?:developer|god|jailbreak) mode)|\bdo anything now\b|\b(?:developer|jailbreak) mode (?:enabled|on|activated)\b)"},
      {"no-restrictions",
       R"(\b(?:without|no|free (?:of|from))\s+(?:any\s+)?(?:restrictions|filters|limitations|guidelines|censorship|rules)\b.{0,40}\b(?:answer|respond|reply|act|tell)\b|\b(?:answer|respond|reply|act)\b.{0,40}\bwithout\s+(?:any\s+)?(?:restrictions|filters|censorship)\b)"},
      {"reveal-system-prompt",
       R"(\b(?:reveal|print|show|repeat|output|leak|tell me)\s+(?:me\s+)?(?:(?:your|the)\s+(?:hidden|secret|initial|original|system)\s+(?:prompt|instructions|message)|your\s+(?:instructions|prompt)|the\s+system\s+prompt)\b)"},
      {"role-markers",
       R"(<\|(?:im_start|im_end|start_header_id|end_header_id|eot_id|system|endoftext)\|>|\[/?inst\]|<</?sys>>|^\s*###\s*(?:system|instruction)\s*:)"},
  };
  for (const auto& [name, pattern] : kPatterns)
    patterns_.push_back({name, std::make_unique<tok::Regex>(pattern)});
}

void InjectionScanner::scan(const NormalizedText& text, Findings& out) const {
  auto add = [&](const std::string& rule, size_t b, size_t e) {
    Finding f;
    f.stage = "injection";
    f.category = "injection";
    f.rule = rule;
    f.placeholder = "[REMOVED]";
    f.begin = b;
    f.end = e;
    out.push_back(std::move(f));
  };
  for (const Pattern& p : patterns_) {
    size_t b = 0, e = 0;
    if (p.regex->find(text.text, 0, b, e)) {  // one finding per heuristic is enough
      auto [ob, oe] = text.original_range(b, e);
      add(p.name, ob, oe);
    }
  }
  if (text.invisible_chars > kInvisibleLimit) add("invisible-text", 0, 0);
}

}  // namespace hearth::guard
