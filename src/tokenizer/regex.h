// The regular expressions of tokenizer.json pre-tokenizers and normalizers (written for
// Oniguruma in the Hugging Face tokenizers library), run with PCRE2: UTF + UCP so \s \p{L}
// \w follow Unicode, MULTILINE so ^ and $ are line anchors as in Oniguruma's Ruby syntax,
// MATCH_INVALID_UTF so malformed input bytes simply never match, and JIT compilation.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace hearth::tok {

class Regex {
 public:
  // Throws hearth::Error naming the pattern and PCRE2's message when it does not compile.
  explicit Regex(std::string_view pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Finds the first non-empty match at or after byte `from`; sets [start, end) and returns
  // true, or returns false when there is none. Safe to call from several threads at once.
  bool find(std::string_view text, size_t from, size_t& start, size_t& end) const;

  // Calls fn(start, end) for every non-overlapping, non-empty match, left to right.
  template <typename Fn>
  void for_each_match(std::string_view text, Fn&& fn) const {
    size_t start = 0, end = 0;
    for (size_t from = 0; from < text.size() && find(text, from, start, end); from = end) {
      fn(start, end);
    }
  }

  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8 (kept out of the header)
};

}  // namespace hearth::tok
