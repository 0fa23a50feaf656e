#include "sampling/sampler.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "sampling/stages.h"

namespace hearth::sampling {

namespace {

void validate(const Params& p, int32_t n_vocab) {
  if (n_vocab <= 0) fail("sampler needs a vocabulary of at least one token, got n_vocab {}", n_vocab);
  if (std::isnan(p.temperature) || std::isinf(p.temperature)) {
    fail("sampling temperature must be a finite number, got {}", p.temperature);
  }
  if (!(p.top_p >= 0.0f && p.top_p <= 1.0f)) fail("top_p must be in [0, 1], got {}", p.top_p);
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) fail("min_p must be in [0, 1], got {}", p.min_p);
  if (!(p.repeat_penalty > 0.0f) || std::isinf(p.repeat_penalty)) {
    fail("repeat_penalty must be a finite number > 0 (1 = off), got {}", p.repeat_penalty);
  }
  if (p.repeat_last_n < -1) {
    fail("repeat_last_n must be >= -1 (-1 = whole history, 0 = off), got {}", p.repeat_last_n);
  }
  if (!std::isfinite(p.presence_penalty) || !std::isfinite(p.frequency_penalty)) {
    fail("presence and frequency penalties must be finite, got {} and {}", p.presence_penalty,
         p.frequency_penalty);
  }
}

}  // namespace

Sampler::Sampler(const Params& params, int32_t n_vocab)
    : n_vocab_(n_vocab), greedy_(params.temperature <= 0.0f) {
  validate(params, n_vocab);
  seed_ = params.seed;
  if (seed_ == Params::kRandomSeed) {
    std::random_device rd;
    seed_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  rng_.seed(seed_);

  const bool penalties_on =
      params.repeat_last_n != 0 && (params.repeat_penalty != 1.0f ||
                                    params.presence_penalty != 0.0f ||
                                    params.frequency_penalty != 0.0f);
  if (penalties_on) {
    stages_.push_back(std::make_unique<PenaltiesStage>(n_vocab, params.repeat_penalty,
                                                       params.repeat_last_n,
                                                       params.presence_penalty,
                                                       params.frequency_penalty));
  }
  // Truncation stages never change the most likely token, so greedy skips them.
  if (!greedy_) {
    if (params.top_k > 0) stages_.push_back(std::make_unique<TopKStage>(params.top_k));
    if (params.top_p < 1.0f) stages_.push_back(std::make_unique<TopPStage>(params.top_p));
    if (params.min_p > 0.0f) stages_.push_back(std::make_unique<MinPStage>(params.min_p));
    stages_.push_back(std::make_unique<TemperatureStage>(params.temperature));
  }
  cands_.reserve(static_cast<size_t>(n_vocab));
}

void Sampler::add_stage_front(std::unique_ptr<Stage> stage) {
  if (!stage) fail("add_stage_front: stage is null");
  stages_.insert(stages_.begin(), std::move(stage));
}

int32_t Sampler::sample(const float* logits, std::span<const int32_t> history) {
  if (logits == nullptr) fail("Sampler::sample: logits pointer is null");
  cands_.resize(static_cast<size_t>(n_vocab_));  // capacity was reserved: no allocation
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  for (int32_t i = 0; i < n_vocab_; ++i) {
    const float l = logits[i];
    cands_[i] = Candidate{i, std::isnan(l) ? kNegInf : l, 0.0f};
  }
  for (auto& stage : stages_) {
    stage->apply(cands_, history);
    if (cands_.empty()) {
      fail("sampler stage '{}' removed every candidate token; nothing can be sampled",
           stage->name());
    }
  }
  return greedy_ ? pick_greedy() : pick_random();
}

int32_t Sampler::pick_greedy() const {
  const Candidate* best = &cands_.front();
  for (const auto& c : cands_) {
    if (higher_logit_first(c, *best)) best = &c;
  }
  return best->id;
}

int32_t Sampler::pick_random() {
  softmax(cands_);
  // 53 random bits -> uniform double in [0, 1); identical on every platform, unlike
  // std::uniform_real_distribution whose algorithm is implementation-defined.
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  double mass = 0.0;
  for (const auto& c : cands_) {
    mass += c.p;
    if (u < mass) return c.id;
  }
  // Rounding left the total a hair below u: take the last candidate that had any mass.
  for (auto it = cands_.rbegin(); it != cands_.rend(); ++it) {
    if (it->p > 0.0f) return it->id;
  }
  return cands_.back().id;
}

std::string Sampler::describe() const {
  std::string out;
  for (const auto& stage : stages_) {
    out += stage->name();
    out += " -> ";
  }
  out += greedy_ ? std::string("greedy") : fmt::format("dist(seed {})", seed_);
  return out;
}

}  // namespace hearth::sampling
