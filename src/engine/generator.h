// Single-sequence generation for `hearth run` and the golden tests: prompt in chunks, then one
// token at a time, sampling through the chain, streaming text through the detokenizer.
// The server's scheduler (continuous batching) drives the same Model::forward with many
// sequences per batch; this is the one-sequence case of it.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "kv/kv_cache.h"
#include "models/model.h"
#include "sampling/sampler.h"

namespace hearth {
class ThreadPool;
namespace tok {
class Tokenizer;
}

struct GenerateOptions {
  int64_t n_predict = 128;      // < 0: until end of generation or context full
  int64_t n_batch = 512;        // prompt tokens per forward call
  sampling::Params sampling;
  bool stop_at_end_of_generation = true;
};

enum class StopReason { EndOfGeneration, Length, ContextFull, Cancelled };
const char* stop_reason_name(StopReason r);

struct GenerateResult {
  std::vector<int32_t> prompt_ids;
  std::vector<int32_t> generated_ids;
  std::string text;
  StopReason stop = StopReason::Length;
  int64_t reused_prompt_tokens = 0;  // prompt prefix whose KV was kept from the last call
  double prompt_seconds = 0;
  double generate_seconds = 0;  // time for the generated tokens after the first
};

class Generator {
 public:
  // n_ctx: total positions of the sequence (prompt + generated); <= the model's max context.
  Generator(Model& model, const tok::Tokenizer* tokenizer, ThreadPool& pool, int64_t n_ctx);

  // Called with each generated id and the text it completes (may be empty while a UTF-8
  // character is still incomplete); at the end, id -1 carries text held back until then.
  // Return false to stop.
  using TokenCallback = std::function<bool(int32_t id, const std::string& text)>;
  GenerateResult generate(std::span<const int32_t> prompt, const GenerateOptions& options,
                          const TokenCallback& on_token = {});

  // Logits after the last prompt token of the latest generate() call.
  const std::vector<float>& prompt_logits() const { return prompt_logits_; }
  int64_t context_size() const { return n_ctx_; }

 private:
  Model& model_;
  const tok::Tokenizer* tokenizer_;
  ThreadPool& pool_;
  int64_t n_ctx_;
  kv::KVCache cache_;
  std::vector<float> logits_;
  std::vector<float> prompt_logits_;
  std::vector<int32_t> cached_;  // tokens whose keys and values are in cache_, in order
};

}  // namespace hearth
