#include "engine/generator.h"

#include <chrono>

#include "core/error.h"
#include "core/thread_pool.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"

namespace hearth {
namespace {
constexpr int32_t kSeq = 0;
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::EndOfGeneration: return "stop";
    case StopReason::Length: return "length";
    case StopReason::ContextFull: return "context_full";
    case StopReason::Cancelled: return "cancelled";
  }
  return "unknown";
}

Generator::Generator(Model& model, const tok::Tokenizer* tokenizer, ThreadPool& pool, int64_t n_ctx)
    : model_(model),
      tokenizer_(tokenizer),
      pool_(pool),
      n_ctx_(n_ctx),
      cache_(model.kv_config(n_ctx)),
      logits_(static_cast<size_t>(model.config().n_vocab)) {
  if (n_ctx <= 0) fail("context size must be positive (got {})", n_ctx);
}

GenerateResult Generator::generate(std::span<const int32_t> prompt, const GenerateOptions& opt,
                                   const TokenCallback& on_token) {
  GenerateResult r;
  r.prompt_ids.assign(prompt.begin(), prompt.end());
  const int64_t n_prompt = static_cast<int64_t>(prompt.size());
  if (n_prompt == 0) fail("the prompt is empty: give some text or --prompt-ids");
  if (n_prompt >= n_ctx_)
    fail("the prompt has {} tokens but the context holds {} (raise -c/--ctx-size, at most {} for "
         "this model)", n_prompt, n_ctx_, model_.config().max_context);

  // Keys and values of a prefix this sequence shares with the previous call are still in the
  // cache (multi-turn chat re-sends the whole conversation): compute only what is new, but
  // always at least the last prompt token, whose logits start generation.
  int64_t reuse = 0;
  while (reuse < static_cast<int64_t>(cached_.size()) && reuse < n_prompt - 1 &&
         cached_[reuse] == prompt[reuse])
    ++reuse;
  cached_.assign(prompt.begin(), prompt.begin() + reuse);
  r.reused_prompt_tokens = reuse;
  if (cache_.capacity(kSeq) < n_ctx_ && !cache_.reserve(kSeq, n_ctx_))
    fail("internal error: KV cache smaller than the context");
  const int64_t n_vocab = model_.config().n_vocab;

  // Prompt: chunks of n_batch; logits only for the very last prompt token.
  auto t0 = std::chrono::steady_clock::now();
  Batch batch;
  const int64_t n_batch = std::max<int64_t>(1, opt.n_batch);
  for (int64_t start = reuse; start < n_prompt; start += n_batch) {
    batch.clear();
    const int64_t end = std::min(n_prompt, start + n_batch);
    for (int64_t i = start; i < end; ++i)
      batch.add(prompt[i], static_cast<int32_t>(i), kSeq, i == n_prompt - 1);
    model_.forward(batch, cache_, logits_.data(), pool_);
  }
  cached_.assign(prompt.begin(), prompt.end());
  r.prompt_seconds = seconds_since(t0);
  prompt_logits_.assign(logits_.begin(), logits_.begin() + n_vocab);

  sampling::Sampler sampler(opt.sampling, static_cast<int32_t>(n_vocab));
  std::vector<int32_t> history(prompt.begin(), prompt.end());
  std::unique_ptr<tok::StreamDecoder> decoder;
  if (tokenizer_) {
    // The prompt goes through the decoder first (its text discarded) so the continuation
    // decodes as it would in the whole text: SentencePiece strips the space of the first
    // token only, and the prompt holds that one.
    decoder = std::make_unique<tok::StreamDecoder>(*tokenizer_);
    for (int32_t id : prompt) decoder->push(id);
  }

  auto t_gen = std::chrono::steady_clock::now();
  int64_t pos = n_prompt;
  for (int64_t i = 0; opt.n_predict < 0 || i < opt.n_predict; ++i) {
    if (i == 1) t_gen = std::chrono::steady_clock::now();  // exclude the first token's latency
    const int32_t id = sampler.sample(logits_.data(), history);
    if (opt.stop_at_end_of_generation && tokenizer_ && tokenizer_->is_end_of_generation(id)) {
      r.stop = StopReason::EndOfGeneration;
      break;
    }
    r.generated_ids.push_back(id);
    history.push_back(id);
    std::string piece = decoder ? decoder->push(id) : std::string();
    r.text += piece;
    if (on_token && !on_token(id, piece)) {
      r.stop = StopReason::Cancelled;
      break;
    }
    if (opt.n_predict >= 0 && i + 1 == opt.n_predict) {
      r.stop = StopReason::Length;
      break;
    }
    if (pos >= n_ctx_) {
      r.stop = StopReason::ContextFull;
      break;
    }
    batch.clear();
    batch.add(id, static_cast<int32_t>(pos++), kSeq, true);
    model_.forward(batch, cache_, logits_.data(), pool_);
    cached_.push_back(id);
  }
  if (r.generated_ids.size() > 1) r.generate_seconds = seconds_since(t_gen);
  if (decoder) {
    std::string tail = decoder->flush();
    r.text += tail;
    if (on_token && !tail.empty()) on_token(-1, tail);
  }
  return r;
}

}  // namespace hearth
