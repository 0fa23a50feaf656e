#include "engine/logprobs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace hearth::engine {

LogitBiasStage::LogitBiasStage(const std::map<int32_t, float>& bias)
    : bias_(bias.begin(), bias.end()), label_(fmt::format("logit-bias({} tokens)", bias.size())) {}

void LogitBiasStage::apply(std::vector<sampling::Candidate>& cands, std::span<const int32_t>) {
  for (const auto& [id, b] : bias_) {
    // At the front of the chain the list is every token in id order: index == id.
    const size_t i = static_cast<size_t>(id);
    if (i < cands.size() && cands[i].id == id) {
      cands[i].logit += b;
      continue;
    }
    for (auto& c : cands)
      if (c.id == id) c.logit += b;
  }
}

TokenScores score_token(const float* logits, int32_t n_vocab,
                        const std::map<int32_t, float>& bias, int32_t chosen, int32_t n_top,
                        std::vector<float>& x) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  if (n_vocab <= 0) return {kNegInf, {}};
  x.assign(logits, logits + n_vocab);
  for (float& v : x)
    if (std::isnan(v)) v = kNegInf;
  for (const auto& [id, b] : bias)
    if (id >= 0 && id < n_vocab) x[id] += b;

  const float max = *std::max_element(x.begin(), x.end());
  if (std::isinf(max)) {
    // All -inf (spread evenly) or some +inf (they share all the mass), as sampling::softmax.
    const auto n_max = std::count(x.begin(), x.end(), max);
    const float share = -std::log(static_cast<float>(n_max));
    for (float& v : x) v = (v == max) ? share : kNegInf;
  } else {
    double sum = 0;
    for (float v : x) sum += std::exp(static_cast<double>(v - max));
    const float log_z = max + static_cast<float>(std::log(sum));
    for (float& v : x) v -= log_z;
  }

  TokenScores s;
  s.chosen = (chosen >= 0 && chosen < n_vocab) ? x[chosen] : kNegInf;
  const int32_t k = std::clamp(n_top, 0, n_vocab);
  if (k > 0) {
    std::vector<int32_t> ids(static_cast<size_t>(n_vocab));
    std::iota(ids.begin(), ids.end(), 0);
    std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), [&](int32_t a, int32_t b) {
      return x[a] > x[b] || (x[a] == x[b] && a < b);
    });
    s.top.reserve(static_cast<size_t>(k));
    for (int32_t i = 0; i < k; ++i) s.top.emplace_back(ids[i], x[ids[i]]);
  }
  return s;
}

}  // namespace hearth::engine
