// /metrics: Prometheus text exposition (cumulative le buckets, _sum, _count) and what is in it.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "server/metrics.h"

using hearth::server::Histogram;
using hearth::server::Metrics;

namespace {

// The value of the first sample line that starts with `series ` (e.g. `a_bucket{le="1"}`).
double value_of(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  ADD_FAILURE() << "no series " << series << " in\n" << text;
  return -1;
}

}  // namespace

TEST(ServerMetrics, HistogramBucketsAreCumulativeAndInclusive) {
  Histogram h({0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 1.0, 5.0, 50.0}) h.observe(v);
  std::string out;
  h.write(out, "lat", "Latency.");
  EXPECT_NE(out.find("# HELP lat Latency.\n# TYPE lat histogram\n"), std::string::npos) << out;
  EXPECT_EQ(value_of(out, "lat_bucket{le=\"0.1\"}"), 2);  // le: less than or equal
  EXPECT_EQ(value_of(out, "lat_bucket{le=\"1\"}"), 4);
  EXPECT_EQ(value_of(out, "lat_bucket{le=\"10\"}"), 5);
  EXPECT_EQ(value_of(out, "lat_bucket{le=\"+Inf\"}"), 6);
  EXPECT_EQ(value_of(out, "lat_count"), 6);
  EXPECT_DOUBLE_EQ(value_of(out, "lat_sum"), 0.05 + 0.1 + 0.5 + 1.0 + 5.0 + 50.0);
}

TEST(ServerMetrics, EngineSnapshotsAndResponses) {
  Metrics m;
  hearth::engine::EngineStats s;
  s.queued = 3;
  s.running = 2;
  s.kv_blocks_total = 100;
  s.kv_blocks_used = 25;
  s.kv_blocks_cached = 10;
  s.prompt_tokens_total = 500;
  s.prompt_tokens_cached_total = 120;
  s.generated_tokens_total = 70;
  s.requests_cancelled = 1;
  s.ttft_samples_s = {0.02, 0.3};
  s.itl_samples_s = {0.004, 0.004, 0.2};
  m.fold(s);
  s.ttft_samples_s = {0.07};  // the next snapshot brings only new samples
  s.itl_samples_s = {};
  m.fold(s);
  m.count_response("/v1/chat/completions", 200);
  m.count_response("/v1/chat/completions", 200);
  m.count_response("/v1/chat/completions", 429);
  m.count_finish("cancelled");

  const std::string t = m.prometheus_text(true, false);
  EXPECT_EQ(value_of(t, "hearth_ready"), 1);
  EXPECT_EQ(value_of(t, "hearth_queue_length"), 3);
  EXPECT_EQ(value_of(t, "hearth_running_sequences"), 2);
  EXPECT_EQ(value_of(t, "hearth_kv_blocks_capacity"), 100);
  EXPECT_EQ(value_of(t, "hearth_kv_blocks_used"), 25);
  EXPECT_EQ(value_of(t, "hearth_kv_blocks_cached"), 10);
  EXPECT_DOUBLE_EQ(value_of(t, "hearth_kv_cache_usage_ratio"), 0.25);
  EXPECT_EQ(value_of(t, "hearth_prompt_tokens_total"), 500);
  EXPECT_EQ(value_of(t, "hearth_prompt_tokens_cached_total"), 120);
  EXPECT_EQ(value_of(t, "hearth_generated_tokens_total"), 70);
  EXPECT_EQ(value_of(t, "hearth_engine_requests_cancelled_total"), 1);
  EXPECT_EQ(value_of(t, "hearth_http_responses_total{endpoint=\"/v1/chat/completions\",status=\"200\"}"), 2);
  EXPECT_EQ(value_of(t, "hearth_http_responses_total{endpoint=\"/v1/chat/completions\",status=\"429\"}"), 1);
  EXPECT_EQ(value_of(t, "hearth_generations_total{finish_reason=\"cancelled\"}"), 1);
  EXPECT_EQ(value_of(t, "hearth_time_to_first_token_seconds_count"), 3);
  EXPECT_EQ(value_of(t, "hearth_time_to_first_token_seconds_bucket{le=\"0.05\"}"), 1);
  EXPECT_EQ(value_of(t, "hearth_time_to_first_token_seconds_bucket{le=\"0.1\"}"), 2);
  EXPECT_EQ(value_of(t, "hearth_inter_token_latency_seconds_count"), 3);
  EXPECT_EQ(value_of(t, "hearth_inter_token_latency_seconds_bucket{le=\"0.005\"}"), 2);

  // Every line is a comment or `name{labels} value` with a number (what scrapers parse).
  std::istringstream in(t);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) continue;
    const size_t sp = line.rfind(' ');
    ASSERT_NE(sp, std::string::npos) << line;
    size_t used = 0;
    std::stod(line.substr(sp + 1), &used);
    EXPECT_EQ(used, line.size() - sp - 1) << line;
  }
  EXPECT_EQ(value_of(m.prometheus_text(true, true), "hearth_draining"), 1);
  EXPECT_EQ(value_of(m.prometheus_text(true, true), "hearth_ready"), 0);
}
