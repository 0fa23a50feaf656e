// What GET /metrics reports, in Prometheus' text exposition format (version 0.0.4):
// HTTP responses by endpoint and status, the engine's queue and running batch, KV-cache
// blocks, prompt/cached/generated token counters, and histograms of time to first token and
// inter-token latency. Thread-safe.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"

namespace hearth::server {

// A cumulative Prometheus histogram (le buckets, +Inf, _sum, _count).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // Appends the # HELP/# TYPE lines and the series.
  void write(std::string& out, const std::string& name, const std::string& help) const;
  uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative (cumulated when written)
  uint64_t count_ = 0;
  double sum_ = 0;
};

class Metrics {
 public:
  Metrics();

  // One HTTP response (for streams: when its status line was sent).
  void count_response(const std::string& endpoint, int status);
  // One finished generation by finish reason ("stop", "length", "cancelled", "error").
  void count_finish(const std::string& reason);
  // One guard decision (stage "rules", "pii", "injection", "model"; direction "input" or
  // "output"; action "flag", "redact", "block").
  void count_guard(const std::string& stage, const std::string& category, const std::string& direction,
                   const std::string& action);
  // Time the guard's scanners took (seconds), for the overhead they add.
  void add_guard_seconds(double s);

  // Takes an engine snapshot: its gauges and counters become the current values and its
  // latency samples go into the histograms (each sample arrives in exactly one snapshot).
  void fold(engine::EngineStats stats);

  // ready: the model is loaded; draining: shutting down.
  std::string prometheus_text(bool ready, bool draining) const;

  // The latest folded snapshot (without samples).
  engine::EngineStats latest() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> responses_;
  std::map<std::string, uint64_t> finishes_;
  std::map<std::vector<std::string>, uint64_t> guard_decisions_;
  double guard_seconds_ = 0;
  engine::EngineStats latest_;
  Histogram ttft_, itl_;
};

}  // namespace hearth::server
