// The standard sampler stages, with llama.cpp's common-sampler semantics. Each is usable on
// its own (tests, custom chains); Sampler builds the usual chain from Params.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sampling/stage.h"

namespace hearth::sampling {

// Penalises tokens that occur in the last `last_n` tokens of history (last_n < 0: all of it):
//   repetition (CTRL paper, as llama.cpp): logit / repeat if logit > 0, logit * repeat if not;
//   presence and frequency (OpenAI):       logit -= presence * (count > 0) + frequency * count.
class PenaltiesStage : public Stage {
 public:
  PenaltiesStage(int32_t n_vocab, float repeat, int32_t last_n, float presence, float frequency);
  const char* name() const override { return label_.c_str(); }
  void apply(std::vector<Candidate>& cands, std::span<const int32_t> history) override;

 private:
  float repeat_;
  int32_t last_n_;
  float presence_;
  float frequency_;
  std::vector<int32_t> counts_;  // occurrences per token id; all zero between calls
  std::string label_;
};

// Keeps the k highest logits (ties: lower id), leaving them sorted highest first.
class TopKStage : public Stage {
 public:
  explicit TopKStage(int32_t k);
  const char* name() const override { return label_.c_str(); }
  void apply(std::vector<Candidate>& cands, std::span<const int32_t> history) override;

 private:
  int32_t k_;
  std::string label_;
};

// Nucleus sampling: keeps the smallest prefix of the sorted candidates whose probability
// mass reaches p (always at least one). Leaves candidates sorted with p filled in.
class TopPStage : public Stage {
 public:
  explicit TopPStage(float p);
  const char* name() const override { return label_.c_str(); }
  void apply(std::vector<Candidate>& cands, std::span<const int32_t> history) override;

 private:
  float p_;
  std::string label_;
};

// Keeps candidates whose probability is at least p times the most likely one's, i.e.
// logit >= max_logit + ln(p). Keeps the relative order of the survivors.
class MinPStage : public Stage {
 public:
  explicit MinPStage(float p);
  const char* name() const override { return label_.c_str(); }
  void apply(std::vector<Candidate>& cands, std::span<const int32_t> history) override;

 private:
  float p_;
  std::string label_;
};

// Divides every logit by t (> 0): t < 1 sharpens the distribution, t > 1 flattens it.
class TemperatureStage : public Stage {
 public:
  explicit TemperatureStage(float t);
  const char* name() const override { return label_.c_str(); }
  void apply(std::vector<Candidate>& cands, std::span<const int32_t> history) override;

 private:
  float t_;
  std::string label_;
};

}  // namespace hearth::sampling
