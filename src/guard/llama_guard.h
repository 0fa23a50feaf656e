// A chat model as a classifier in the Llama Guard 3 format: the conversation goes into
// Llama Guard 3's task prompt with its hazard categories S1..S14, the model answers "safe"
// or "unsafe" with a second line of violated categories ("unsafe\nS1,S10"), and the score
// is the probability the model gave the token that starts "unsafe" where its verdict begins.
// The request runs through the serving engine like any other (same scheduler and batch).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"

namespace hearth::guard {

struct HazardCategory {
  const char* code;  // "S1"
  const char* name;  // "Violent Crimes"
};
const std::vector<HazardCategory>& llama_guard3_categories();

// The prompt text (with Llama 3's special tokens written out: a Llama Guard 3 tokenizer
// reads them as specials) asking about the last `role` message ("User" or "Agent").
std::string llama_guard3_prompt(std::string_view message, std::string_view role = "User");

struct GuardVerdict {
  bool parsed = false;              // the answer started with safe or unsafe
  bool unsafe = false;
  std::vector<std::string> categories;  // "S1", "S10" (only known codes)
  double score = 0;                 // probability of the first "unsafe" token
};

// "safe", "unsafe\nS1,S10" (whitespace around lines and items is ignored). Anything else is
// not parsed.
GuardVerdict parse_llama_guard_answer(std::string_view answer);

// The score from the answer's logprobs: at the first token with visible text, the summed
// probability of the alternatives (top_logprobs, or the chosen token when none were asked)
// whose text, leading whitespace removed, starts "unsafe" or is a prefix of it ("un").
double unsafe_token_probability(const std::vector<engine::TokenLogprob>& chosen,
                                const std::vector<std::vector<engine::TokenLogprob>>& alternatives);

// The engine request for a verdict: greedy, a few tokens, logprobs with `top_logprobs`.
engine::RequestParams llama_guard_request(std::vector<int32_t> prompt, int max_tokens, int top_logprobs);

}  // namespace hearth::guard
