// Scores of sampled tokens as the OpenAI API reports them (logprobs / top_logprobs), and
// logit_bias as a sampling stage.
//
// Choice: log-probabilities are the log-softmax of the model's logits AFTER logit_bias and
// BEFORE everything else in the chain (penalties, top-k/top-p/min-p truncation, temperature).
// They describe the model's distribution as the caller shaped it with logit_bias, and do
// not change with sampling settings — the same request at temperature 0.2 or 1.0 reports the
// same numbers, and a token banned by a bias of -100 shows as (nearly) impossible.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sampling/stage.h"

namespace hearth::engine {

// Adds a fixed amount to the logits of chosen token ids. Meant to run first in the chain
// (Sampler::add_stage_front), where every token is still a candidate.
class LogitBiasStage : public sampling::Stage {
 public:
  explicit LogitBiasStage(const std::map<int32_t, float>& bias);
  const char* name() const override { return label_.c_str(); }
  void apply(std::vector<sampling::Candidate>& cands, std::span<const int32_t> history) override;

 private:
  std::vector<std::pair<int32_t, float>> bias_;  // by id
  std::string label_;
};

struct TokenScores {
  float chosen = 0;                           // log-probability of the chosen token
  std::vector<std::pair<int32_t, float>> top;  // the n_top most likely (id, log-probability),
                                               // most likely first, equal ones by lower id
};

// Log-softmax of `logits` (n_vocab floats; NaN counts as -inf) plus `bias`, for `chosen` and
// the n_top best tokens. `scratch` is reused between calls.
TokenScores score_token(const float* logits, int32_t n_vocab,
                        const std::map<int32_t, float>& bias, int32_t chosen, int32_t n_top,
                        std::vector<float>& scratch);

}  // namespace hearth::engine
