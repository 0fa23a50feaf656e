// Turns a row of logits into the next token id. The chain is built from Params like
// llama.cpp's common sampler:
//   [stages added with add_stage_front] -> penalties -> top-k -> top-p -> min-p
//     -> temperature -> random pick from the softmax        (temperature > 0)
//   [stages added with add_stage_front] -> penalties -> greedy argmax, ties to the lowest id
//                                                            (temperature <= 0)
// Stages that would not change anything (top_k <= 0, top_p >= 1, min_p <= 0, neutral
// penalties) are left out. The random pick uses std::mt19937_64 seeded from Params::seed, so
// the same seed and inputs give the same tokens.
#pragma once
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "sampling/stage.h"

namespace hearth::sampling {

struct Params {
  float temperature = 0.8f;
  int32_t top_k = 40;                 // <= 0: off
  float top_p = 0.95f;                // >= 1: off
  float min_p = 0.05f;                // <= 0: off
  float repeat_penalty = 1.0f;        // 1: off
  int32_t repeat_last_n = 64;         // window for all penalties; 0: off, -1: whole history
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  uint64_t seed = kRandomSeed;        // kRandomSeed: draw one from std::random_device

  static constexpr uint64_t kRandomSeed = 0xFFFFFFFFFFFFFFFFull;
};

class Sampler {
 public:
  // Throws hearth::Error for parameters out of range: non-finite values, top_p or min_p
  // outside [0, 1], repeat_penalty <= 0, repeat_last_n < -1, n_vocab <= 0.
  // (Any temperature <= 0, negative included, means greedy.)
  Sampler(const Params& params, int32_t n_vocab);

  // logits: n_vocab floats (NaN counts as -inf). history = prompt + generated ids so far.
  int32_t sample(const float* logits, std::span<const int32_t> history);

  // Inserts a stage before all others (logit bias, grammar, bans ...).
  void add_stage_front(std::unique_ptr<Stage> stage);

  // "penalties(1.10,last 64) -> top-k 40 -> top-p 0.95 -> min-p 0.05 -> temp 0.80 -> dist(seed 42)"
  std::string describe() const;

  // The seed actually used (the drawn one when Params::seed was kRandomSeed).
  uint64_t seed() const { return seed_; }

 private:
  int32_t pick_greedy() const;
  int32_t pick_random();

  int32_t n_vocab_;
  bool greedy_;
  uint64_t seed_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<Stage>> stages_;
  std::vector<Candidate> cands_;  // reused for every token
};

}  // namespace hearth::sampling
