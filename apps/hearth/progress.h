// A one-line progress display on stderr for long jobs (quantize, synth).
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace hearth::cli {

class ProgressLine {
 public:
  void update(const char* phase, uint64_t done, uint64_t total) {
    const auto now = std::chrono::steady_clock::now();
    const bool finished = done >= total;
    if (!finished && phase == last_phase_ && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    last_phase_ = phase;
    const double pct = total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0;
    if (isatty(STDERR_FILENO))
      std::fprintf(stderr, "\r%-9s %5.1f%%%s", phase, pct, finished ? "\n" : "");
    else if (finished)
      std::fprintf(stderr, "%s done\n", phase);
    std::fflush(stderr);
  }

 private:
  std::chrono::steady_clock::time_point last_{};
  std::string last_phase_;
};

}  // namespace hearth::cli
