#include "sampling/stages.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace hearth::sampling {

void sort_by_logit(std::vector<Candidate>& cands) {
  if (!std::is_sorted(cands.begin(), cands.end(), higher_logit_first)) {
    std::sort(cands.begin(), cands.end(), higher_logit_first);
  }
}

void softmax(std::vector<Candidate>& cands) {
  if (cands.empty()) return;
  float max_logit = -std::numeric_limits<float>::infinity();
  for (const auto& c : cands) max_logit = std::max(max_logit, c.logit);

  if (std::isinf(max_logit)) {
    // Either some logits are +inf (they share the mass) or all are -inf (spread evenly);
    // exp(l - max) would be NaN in both cases.
    size_t n_max = 0;
    for (const auto& c : cands) n_max += (c.logit == max_logit);
    const float share = 1.0f / static_cast<float>(n_max);
    for (auto& c : cands) c.p = (c.logit == max_logit) ? share : 0.0f;
    return;
  }
  double sum = 0.0;
  for (auto& c : cands) {
    c.p = std::exp(c.logit - max_logit);
    sum += c.p;
  }
  const float inv = static_cast<float>(1.0 / sum);  // sum >= 1: the max contributes exp(0)
  for (auto& c : cands) c.p *= inv;
}

// ---- penalties ----

PenaltiesStage::PenaltiesStage(int32_t n_vocab, float repeat, int32_t last_n, float presence,
                               float frequency)
    : repeat_(repeat),
      last_n_(last_n),
      presence_(presence),
      frequency_(frequency),
      counts_(static_cast<size_t>(std::max(n_vocab, 0)), 0) {
  const std::string window = last_n < 0 ? std::string("all") : fmt::format("last {}", last_n);
  label_ = fmt::format("penalties({:.2f},{}", repeat, window);
  if (presence != 0.0f) label_ += fmt::format(",presence {:.2f}", presence);
  if (frequency != 0.0f) label_ += fmt::format(",frequency {:.2f}", frequency);
  label_ += ")";
}

void PenaltiesStage::apply(std::vector<Candidate>& cands, std::span<const int32_t> history) {
  if (last_n_ == 0 || history.empty()) return;
  const size_t window = last_n_ < 0 ? history.size()
                                    : std::min(history.size(), static_cast<size_t>(last_n_));
  const auto recent = history.subspan(history.size() - window);
  const auto n_vocab = static_cast<int32_t>(counts_.size());
  bool any = false;
  for (int32_t id : recent) {
    if (id >= 0 && id < n_vocab) {  // ids from outside the vocabulary cannot be penalised
      ++counts_[id];
      any = true;
    }
  }
  if (!any) return;

  for (auto& c : cands) {
    if (c.id < 0 || c.id >= n_vocab) continue;
    const int32_t count = counts_[c.id];
    if (count == 0) continue;
    c.logit = c.logit > 0.0f ? c.logit / repeat_ : c.logit * repeat_;
    c.logit -= static_cast<float>(count) * frequency_ + presence_;
  }
  for (int32_t id : recent) {
    if (id >= 0 && id < n_vocab) counts_[id] = 0;
  }
}

// ---- top-k ----

TopKStage::TopKStage(int32_t k) : k_(k), label_(fmt::format("top-k {}", k)) {
  if (k <= 0) fail("top-k must be positive, got {}", k);
}

void TopKStage::apply(std::vector<Candidate>& cands, std::span<const int32_t>) {
  if (static_cast<size_t>(k_) >= cands.size()) {
    sort_by_logit(cands);
    return;
  }
  std::partial_sort(cands.begin(), cands.begin() + k_, cands.end(), higher_logit_first);
  cands.resize(static_cast<size_t>(k_));
}

// ---- top-p ----

TopPStage::TopPStage(float p) : p_(p), label_(fmt::format("top-p {:.2f}", p)) {
  if (!(p >= 0.0f && p <= 1.0f)) fail("top-p must be in [0, 1], got {}", p);
}

void TopPStage::apply(std::vector<Candidate>& cands, std::span<const int32_t>) {
  if (cands.empty()) return;
  sort_by_logit(cands);
  softmax(cands);
  double mass = 0.0;
  size_t keep = cands.size();
  for (size_t i = 0; i < cands.size(); ++i) {
    mass += cands[i].p;
    if (mass >= p_) {
      keep = i + 1;
      break;
    }
  }
  cands.resize(keep);
}

// ---- min-p ----

MinPStage::MinPStage(float p) : p_(p), label_(fmt::format("min-p {:.2f}", p)) {
  if (!(p >= 0.0f && p <= 1.0f)) fail("min-p must be in [0, 1], got {}", p);
}

void MinPStage::apply(std::vector<Candidate>& cands, std::span<const int32_t>) {
  if (cands.empty() || p_ <= 0.0f) return;
  float max_logit = -std::numeric_limits<float>::infinity();
  for (const auto& c : cands) max_logit = std::max(max_logit, c.logit);
  if (std::isinf(max_logit)) {
    // +inf: only the infinite ones are likely at all; -inf: nothing to compare against.
    if (max_logit > 0) {
      std::erase_if(cands, [&](const Candidate& c) { return c.logit != max_logit; });
    }
    return;
  }
  const float threshold = max_logit + std::log(p_);
  // The max itself always survives (ln p <= 0), so the list never becomes empty.
  std::erase_if(cands, [&](const Candidate& c) { return c.logit < threshold; });
}

// ---- temperature ----

TemperatureStage::TemperatureStage(float t) : t_(t), label_(fmt::format("temp {:.2f}", t)) {
  if (!(t > 0.0f) || std::isinf(t)) fail("temperature stage needs a finite t > 0, got {}", t);
}

void TemperatureStage::apply(std::vector<Candidate>& cands, std::span<const int32_t>) {
  for (auto& c : cands) c.logit /= t_;
}

}  // namespace hearth::sampling
