// Encode throughput (MB/s of UTF-8 input) of the Hugging Face tokenizers in the test data,
// on a few MB of mixed text generated here deterministically: English prose, source code,
// numbers, CJK and emoji. Run: build/bench/bench_tokenizer [--benchmark_filter=llama3]
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace {

using hearth::tok::Tokenizer;

constexpr size_t kTextBytes = 3 << 20;

const char* const kWords[] = {
    "the",     "of",       "and",      "to",      "in",        "a",        "is",      "that",
    "for",     "it",       "as",       "was",     "with",      "be",       "by",      "on",
    "not",     "he",       "this",     "are",     "or",        "his",      "from",    "at",
    "which",   "but",      "have",     "an",      "had",       "they",     "you",     "were",
    "their",   "one",      "all",      "we",      "can",       "her",      "has",     "there",
    "been",    "if",       "more",     "when",    "will",      "would",    "who",     "so",
    "tokenizer", "inference", "engine", "language", "model",   "weights",  "memory",  "thread",
    "quickly", "morning",  "river",    "mountain", "history",  "beautiful", "question", "answer",
    "don't",   "it's",     "we're",    "they've", "I'll",      "Hello",    "World",   "Paris",
};

const char* const kCode[] = {
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "for (size_t i = 0; i < items.size(); ++i) {\n  total += items[i].weight * 0.5f;\n}\n",
    "const result = await fetch(`/api/v1/users/${id}`, { method: 'GET' });\n",
    "#include <vector>\nstd::vector<int32_t> ids{1, 2, 3};\n",
    "SELECT name, COUNT(*) FROM orders WHERE total > 100 GROUP BY name;\n",
};

const char* const kCjk[] = {"你好，世界！", "这是一个测试。", "日本語のテキスト", "東京都", "한국어 문장입니다.",
                            "機械学習と自然言語処理"};
const char* const kEmoji[] = {"😀", "🎉", "👍🏽", "👨‍👩‍👧‍👦", "🦙", "🚀", "❤️", "✨"};

// Paragraphs of each kind in a fixed order from a fixed seed: the same text on every run.
std::string mixed_text() {
  std::mt19937 rng(20240607);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  std::string text;
  text.reserve(kTextBytes + 4096);
  while (text.size() < kTextBytes) {
    switch (pick(10)) {
      case 0:
        text += kCode[pick(std::size(kCode))];
        break;
      case 1:
        for (int i = 0; i < 8; ++i) {
          text += std::to_string(rng() % 100000);
          text += i % 3 == 2 ? ".5, " : " ";
        }
        text += "\n";
        break;
      case 2:
        for (int i = 0; i < 6; ++i) text += kCjk[pick(std::size(kCjk))];
        text += "\n";
        break;
      default: {  // prose, now and then an emoji
        const size_t words = 20 + pick(40);
        for (size_t i = 0; i < words; ++i) {
          text += kWords[pick(std::size(kWords))];
          text += pick(12) == 0 ? ", " : " ";
          if (pick(40) == 0) text += kEmoji[pick(std::size(kEmoji))];
        }
        text += ".\n\n";
      }
    }
  }
  return text;
}

const std::string& text() {
  static const std::string t = mixed_text();
  return t;
}

const Tokenizer& tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> loaded;
  auto& t = loaded[name];
  if (!t) t = hearth::tok::load_tokenizer(std::string(HEARTH_TESTDATA) + "/tokenizers/" + name);
  return *t;
}

// Encodes the whole text in one call; the BPE word cache starts warm after the first run,
// as it is in a server that has seen some text.
void encode(benchmark::State& state, const std::string& name) {
  const Tokenizer& t = tokenizer(name);
  const std::string& input = text();
  size_t tokens = 0;
  for (auto _ : state) {
    const auto ids = t.encode(input, false, false);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  state.counters["tokens"] = static_cast<double>(tokens);
  state.counters["MB"] = static_cast<double>(input.size()) / 1e6;
}

}  // namespace

BENCHMARK_CAPTURE(encode, llama3, std::string("llama3"))->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_CAPTURE(encode, qwen3, std::string("qwen3"))->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_CAPTURE(encode, mistral, std::string("mistral-7b-v0.1"))->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_CAPTURE(encode, gemma3, std::string("gemma3"))->Unit(benchmark::kMillisecond)->MinTime(2.0);

BENCHMARK_MAIN();
