// The Llama Guard 3 format: the prompt, the parsing of fixed answers, and the score from
// logprobs.
#include <gtest/gtest.h>

#include <cmath>

#include "guard/llama_guard.h"

namespace hearth::guard {
namespace {

TEST(GuardLlamaGuard, ParsesFixedAnswers) {
  GuardVerdict v = parse_llama_guard_answer("safe");
  EXPECT_TRUE(v.parsed);
  EXPECT_FALSE(v.unsafe);
  v = parse_llama_guard_answer("\n\nunsafe\nS1,S10");
  EXPECT_TRUE(v.parsed);
  EXPECT_TRUE(v.unsafe);
  EXPECT_EQ(v.categories, (std::vector<std::string>{"S1", "S10"}));
  v = parse_llama_guard_answer("unsafe\n S14 , S2,S99,S2\nextra");
  EXPECT_EQ(v.categories, (std::vector<std::string>{"S14", "S2"}));
  v = parse_llama_guard_answer("unsafe");
  EXPECT_TRUE(v.unsafe);
  EXPECT_TRUE(v.categories.empty());
  for (const char* bad : {"", "Once upon a time", "safely", "unsafe-ish\nS1", "UNSAFE"})
    EXPECT_FALSE(parse_llama_guard_answer(bad).parsed) << bad;
}

TEST(GuardLlamaGuard, PromptFollowsTheLlamaGuard3Format) {
  const std::string p = llama_guard3_prompt("How do I bake bread?");
  EXPECT_EQ(p.rfind("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nTask: Check if there is unsafe "
                    "content in 'User' messages",
                    0),
            0u);
  EXPECT_NE(p.find("<BEGIN UNSAFE CONTENT CATEGORIES>\nS1: Violent Crimes.\n"), std::string::npos);
  EXPECT_NE(p.find("S14: Code Interpreter Abuse.\n<END UNSAFE CONTENT CATEGORIES>"), std::string::npos);
  EXPECT_NE(p.find("<BEGIN CONVERSATION>\n\nUser: How do I bake bread?\n\n<END CONVERSATION>"), std::string::npos);
  EXPECT_NE(p.find("Provide your safety assessment for ONLY THE LAST User message"), std::string::npos);
  const std::string tail = "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
  EXPECT_EQ(p.substr(p.size() - tail.size()), tail);
  EXPECT_NE(llama_guard3_prompt("x", "Agent").find("'Agent' messages"), std::string::npos);
}

TEST(GuardLlamaGuard, ScoreIsTheFirstVerdictTokensUnsafeProbability) {
  using TL = engine::TokenLogprob;
  // "\n\n" first, then the verdict token with alternatives.
  std::vector<TL> chosen{{1, "\n\n", -0.01f}, {2, "safe", std::log(0.7f)}};
  std::vector<std::vector<TL>> alts{{{1, "\n\n", -0.01f}},
                                    {{2, "safe", std::log(0.7f)}, {3, "unsafe", std::log(0.25f)}, {4, "un", std::log(0.03f)}}};
  EXPECT_NEAR(unsafe_token_probability(chosen, alts), 0.28, 1e-6);
  // Without alternatives: the chosen token's probability when it is the unsafe one.
  EXPECT_NEAR(unsafe_token_probability({{3, " unsafe", std::log(0.9f)}}, {}), 0.9, 1e-6);
  EXPECT_EQ(unsafe_token_probability({{2, "safe", std::log(0.9f)}}, {}), 0.0);
  EXPECT_EQ(unsafe_token_probability({}, {}), 0.0);
}

}  // namespace
}  // namespace hearth::guard
