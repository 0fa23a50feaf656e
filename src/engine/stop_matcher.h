// Stop strings for streamed text: finds them across token boundaries and holds back text
// that might be the start of one, so a consumer never sees any part of a matched stop string.
//
// Each stop string has a Knuth-Morris-Pratt automaton whose state is the length of the
// longest prefix of the stop string that ends the text seen so far. The text that has to be
// held back is exactly the longest such prefix over all stop strings; everything before it
// is final. Each byte costs O(number of stop strings), whatever their lengths.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::engine {

class StopMatcher {
 public:
  // Empty stop strings are ignored (they would match everywhere).
  explicit StopMatcher(const std::vector<std::string>& stops);

  // Feeds newly generated text (whole UTF-8 characters). Returns the text that became final.
  // When a stop string completes, returns the text before it and matched() becomes true;
  // the stop string and anything after it are dropped, and later pushes return nothing.
  // The first stop string to complete wins; of several completing at the same byte, the
  // longest (it starts earliest).
  std::string push(std::string_view text);
  // At the end of generation: the held-back text, which can no longer become a stop string.
  std::string flush();

  bool matched() const { return matched_ >= 0; }
  // The stop string that matched ("" when none did).
  const std::string& matched_stop() const;
  // Bytes held back right now.
  size_t held_back() const { return pending_.size(); }

 private:
  struct Pattern {
    std::string text;
    std::vector<uint32_t> fail;  // KMP failure function: fail[i] for prefix length i + 1
    uint32_t state = 0;          // length of the longest prefix that ends the text so far
  };
  uint32_t advance(Pattern& p, unsigned char c) const;

  std::vector<Pattern> patterns_;
  std::string pending_;  // not yet released
  int matched_ = -1;     // index into patterns_
};

}  // namespace hearth::engine
