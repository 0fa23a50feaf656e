#include "server/metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace hearth::server {
namespace {

void header(std::string& out, const std::string& name, const char* type, const std::string& help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void single(std::string& out, const std::string& name, const char* type, const std::string& help,
            double value) {
  header(out, name, type, help);
  out += fmt::format("{} {}\n", name, value);
}

// Label values are ours (paths, reasons), but escape as the format asks anyway.
std::string label(const std::string& v) {
  std::string s;
  for (char c : v) {
    if (c == '\\' || c == '"') s += '\\';
    if (c == '\n') {
      s += "\\n";
      continue;
    }
    s += c;
  }
  return s;
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {
  std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::observe(double value) {
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  ++counts_[i];  // i == bounds_.size(): only in +Inf
  ++count_;
  sum_ += value;
}

void Histogram::write(std::string& out, const std::string& name, const std::string& help) const {
  header(out, name, "histogram", help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], cumulative);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, count_);
  out += fmt::format("{}_sum {}\n{}_count {}\n", name, sum_, name, count_);
}

Metrics::Metrics()
    : ttft_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
      itl_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}) {}

void Metrics::count_response(const std::string& endpoint, int status) {
  std::lock_guard lock(mu_);
  ++responses_[{endpoint, status}];
}

void Metrics::count_finish(const std::string& reason) {
  std::lock_guard lock(mu_);
  ++finishes_[reason];
}

void Metrics::count_guard(const std::string& stage, const std::string& category,
                          const std::string& direction, const std::string& action) {
  std::lock_guard lock(mu_);
  ++guard_decisions_[{stage, category, direction, action}];
}

void Metrics::add_guard_seconds(double s) {
  std::lock_guard lock(mu_);
  guard_seconds_ += s;
}

void Metrics::fold(engine::EngineStats stats) {
  std::lock_guard lock(mu_);
  for (double s : stats.ttft_samples_s) ttft_.observe(s);
  for (double s : stats.itl_samples_s) itl_.observe(s);
  stats.ttft_samples_s.clear();
  stats.itl_samples_s.clear();
  latest_ = std::move(stats);
}

engine::EngineStats Metrics::latest() const {
  std::lock_guard lock(mu_);
  return latest_;
}

std::string Metrics::prometheus_text(bool ready, bool draining) const {
  std::lock_guard lock(mu_);
  std::string out;
  single(out, "hearth_ready", "gauge", "1 when the model is loaded and requests are taken.",
         ready && !draining ? 1 : 0);
  single(out, "hearth_draining", "gauge", "1 while shutting down (no new requests).", draining ? 1 : 0);

  header(out, "hearth_http_responses_total", "counter", "HTTP responses by endpoint and status code.");
  for (const auto& [key, n] : responses_)
    out += fmt::format("hearth_http_responses_total{{endpoint=\"{}\",status=\"{}\"}} {}\n",
                       label(key.first), key.second, n);
  header(out, "hearth_generations_total", "counter", "Finished generations by finish reason.");
  for (const auto& [reason, n] : finishes_)
    out += fmt::format("hearth_generations_total{{finish_reason=\"{}\"}} {}\n", label(reason), n);

  header(out, "hearth_guard_decisions_total", "counter",
         "Content-policy decisions by stage, category, direction and action.");
  for (const auto& [k, n] : guard_decisions_)
    out += fmt::format(
        "hearth_guard_decisions_total{{stage=\"{}\",category=\"{}\",direction=\"{}\",action=\"{}\"}} {}\n",
        label(k[0]), label(k[1]), label(k[2]), label(k[3]), n);
  single(out, "hearth_guard_scan_seconds_total", "counter",
         "Time spent in the content-policy scanners (input, streamed output, moderations).", guard_seconds_);

  const engine::EngineStats& s = latest_;
  single(out, "hearth_queue_length", "gauge", "Requests waiting for a place in the running batch.",
         static_cast<double>(s.queued));
  single(out, "hearth_running_sequences", "gauge", "Sequences in the running batch.",
         static_cast<double>(s.running));
  single(out, "hearth_kv_blocks_capacity", "gauge", "KV-cache blocks in the pool.",
         static_cast<double>(s.kv_blocks_total));
  single(out, "hearth_kv_blocks_used", "gauge", "KV-cache blocks held by sequences.",
         static_cast<double>(s.kv_blocks_used));
  single(out, "hearth_kv_blocks_cached", "gauge",
         "Free KV-cache blocks that still hold a reusable prompt prefix.",
         static_cast<double>(s.kv_blocks_cached));
  single(out, "hearth_kv_cache_usage_ratio", "gauge", "Fraction of KV-cache blocks in use (0..1).",
         s.kv_blocks_total > 0 ? static_cast<double>(s.kv_blocks_used) / s.kv_blocks_total : 0.0);
  single(out, "hearth_prompt_tokens_total", "counter", "Prompt tokens of admitted requests.",
         static_cast<double>(s.prompt_tokens_total));
  single(out, "hearth_prompt_tokens_cached_total", "counter",
         "Prompt tokens whose KV came from the prefix cache instead of being computed.",
         static_cast<double>(s.prompt_tokens_cached_total));
  single(out, "hearth_generated_tokens_total", "counter", "Tokens generated.",
         static_cast<double>(s.generated_tokens_total));
  single(out, "hearth_engine_requests_finished_total", "counter", "Requests the engine finished.",
         static_cast<double>(s.requests_finished));
  single(out, "hearth_engine_requests_cancelled_total", "counter",
         "Requests cancelled (client gone or asked).", static_cast<double>(s.requests_cancelled));
  single(out, "hearth_engine_requests_rejected_total", "counter",
         "Requests refused by the engine (queue full, invalid, draining).",
         static_cast<double>(s.requests_rejected));
  single(out, "hearth_engine_requests_failed_total", "counter", "Requests that ended in an error.",
         static_cast<double>(s.requests_failed));
  single(out, "hearth_engine_preemptions_total", "counter",
         "Sequences preempted for lack of KV blocks (recomputed later).",
         static_cast<double>(s.preemptions));
  single(out, "hearth_engine_steps_total", "counter", "Forward passes run.", static_cast<double>(s.steps));
  ttft_.write(out, "hearth_time_to_first_token_seconds", "Time from submission to the first token.");
  itl_.write(out, "hearth_inter_token_latency_seconds", "Time between consecutive tokens of a sequence.");
  return out;
}

}  // namespace hearth::server
