// Random inputs for the op tests: a fresh seed every run (so repeated runs cover more cases),
// printed by a SCOPED_TRACE so any failure can be replayed with HEARTH_TEST_SEED=<seed>.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace hearth::testing {

inline uint64_t test_seed() {
  static const uint64_t seed = [] {
    if (const char* s = std::getenv("HEARTH_TEST_SEED"))
      return static_cast<uint64_t>(std::strtoull(s, nullptr, 10));
    return static_cast<uint64_t>(std::random_device{}()) << 32 | std::random_device{}();
  }();
  return seed;
}

// Per-test generator: the run seed mixed with a label, so tests do not share streams.
inline std::mt19937_64 make_rng(const std::string& label) {
  std::seed_seq seq{static_cast<uint32_t>(test_seed()), static_cast<uint32_t>(test_seed() >> 32),
                    static_cast<uint32_t>(std::hash<std::string>{}(label))};
  return std::mt19937_64(seq);
}

inline std::string seed_note() {
  return "replay with HEARTH_TEST_SEED=" + std::to_string(test_seed());
}

inline std::vector<float> uniform(std::mt19937_64& rng, size_t n, float lo = -1.0f,
                                  float hi = 1.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

}  // namespace hearth::testing
