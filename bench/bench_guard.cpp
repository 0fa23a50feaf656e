// The content policy's cost (not a test): bench/guard_policy.toml's rules and PII scanners
// on a streamed answer (stories260K's reference story repeated, fed in 4-byte deltas as an
// average token is) and on a prompt. The per-token figure is compared with generation time
// per token in docs/guard.md; bench/guard_overhead.sh measures the same inside a server run.
#include <benchmark/benchmark.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "guard/output_filter.h"

namespace {

using namespace hearth;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::shared_ptr<const guard::Guard> bench_guard() {
  static const auto g = std::make_shared<const guard::Guard>(
      guard::load_policy_file(std::string(HEARTH_SOURCE_DIR) + "/bench/guard_policy.toml"));
  return g;
}

// About 8 KB of answer text: the reference story, with a few e-mail addresses and numbers
// mixed in so the PII patterns have candidates to validate.
const std::string& answer_text() {
  static const std::string text = [] {
    const auto ref = nlohmann::json::parse(slurp(std::string(HEARTH_TESTDATA) + "/models/stories260K.greedy_bos.json"));
    const std::string story = ref["generated_text"];
    std::string t;
    for (int i = 0; t.size() < 8192; ++i)
      t += story + " Write to lily" + std::to_string(i) + "@example.com or call 555-01" + std::to_string(10 + i) + ". ";
    return t;
  }();
  return text;
}

constexpr size_t kTokenBytes = 4;

void BM_StreamedAnswer(benchmark::State& state) {
  const auto g = bench_guard();
  const std::string& text = answer_text();
  size_t tokens = 0;
  for (auto _ : state) {
    guard::OutputFilter filter(g);
    for (size_t i = 0; i < text.size(); i += kTokenBytes) {
      engine::Event e;
      e.kind = engine::Event::Kind::Delta;
      e.text = text.substr(i, kTokenBytes);
      e.token_ids = {static_cast<int32_t>(i)};
      benchmark::DoNotOptimize(filter.on_event(std::move(e)));
      ++tokens;
    }
    engine::Event fin;
    fin.kind = engine::Event::Kind::Finished;
    fin.finish_reason = "length";
    benchmark::DoNotOptimize(filter.on_event(std::move(fin)));
  }
  state.SetItemsProcessed(static_cast<int64_t>(tokens));  // items = tokens
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_StreamedAnswer)->Unit(benchmark::kMillisecond);

void BM_InputPrompt(benchmark::State& state) {
  const auto g = bench_guard();
  const std::string prompt = answer_text().substr(0, static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(g->check(prompt, guard::Direction::Input));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * prompt.size()));
}
BENCHMARK(BM_InputPrompt)->Arg(256)->Arg(2048)->Arg(8192)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
