// The serving engine: many requests at once over one model (continuous batching).
//
// One engine thread runs the step loop; callers (HTTP handlers) only submit requests and read
// their events through a RequestHandle. Each step the scheduler (scheduler.h, pure policy)
// picks which sequences run and how many tokens each computes, all of them go through ONE
// Model::forward, every sequence that produced logits samples its next token with its own
// Sampler, and the text that became final is pushed to its handle. KV memory is a shared pool
// of fixed-size blocks with prefix caching (kv/block_pool.h): full blocks are content-
// addressed, so a prompt that starts like an earlier one (the next turn of a conversation, a
// shared system prompt) reuses their keys and values instead of recomputing them.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "sampling/sampler.h"

namespace hearth {
class Model;
namespace tok {
class Tokenizer;
}
}  // namespace hearth

namespace hearth::engine {

struct RequestParams {
  std::vector<int32_t> prompt;            // already templated + tokenized by the caller
  sampling::Params sampling;              // temperature, top_k, top_p, min_p, penalties, seed
  int64_t max_tokens = -1;                // -1: until end of generation or the context is full
  std::vector<std::string> stop;          // stop strings, matched on the generated TEXT across
                                          // token boundaries; the matched text is not emitted
  std::map<int32_t, float> logit_bias;    // added to logits before sampling (a Stage at the
                                          // front of the chain)
  int32_t top_logprobs = 0;               // 0: none; >0: also return that many alternatives
  bool logprobs = false;
  bool ignore_eos = false;
};

struct TokenLogprob {
  int32_t id;
  std::string text;
  float logprob;
};

struct Usage {
  int64_t prompt_tokens = 0, completion_tokens = 0, cached_prompt_tokens = 0;
};

// What a request's consumer reads, in order: zero or more Delta events, then exactly one
// Finished or Error.
struct Event {
  enum class Kind { Delta, Finished, Error } kind;
  std::string text;                       // Delta: newly final text (never a partial UTF-8
                                          // sequence; held back while it could be the start
                                          // of a stop string)
  std::vector<int32_t> token_ids;         // Delta: the ids this text came from
  std::vector<TokenLogprob> logprobs;     // Delta: one per token when requested (chosen token)
  std::vector<std::vector<TokenLogprob>> top_logprobs;  // ... and its alternatives
  std::string finish_reason;              // Finished: "stop" (EOS or stop string), "length",
                                          // "cancelled"
  Usage usage;                            // Finished
  std::string error;                      // Error: message (e.g. prompt longer than the context)
  std::string error_code;                 // Error: e.g. "context_length_exceeded"
  double time_to_first_token_s = 0;       // Finished
};

// A submitted request as its consumer sees it. Thread-safe.
class RequestHandle {
 public:
  uint64_t id() const { return id_; }
  // Blocks up to `timeout` for the next event; nullopt on timeout. After Finished/Error,
  // returns nullopt forever.
  std::optional<Event> next(std::chrono::milliseconds timeout);
  // Asks the engine to stop this request; it frees the sequence and its KV blocks at the next
  // step and then delivers Finished("cancelled"). No effect once the request has ended.
  void cancel();
  // True once next() has returned the Finished or Error event: nothing more will come.
  bool done() const;

  // ---- the producer side (the engine; tests may drive a handle by hand) ----
  // `on_cancel` runs (at most once, on the cancelling thread) when cancel() is first called;
  // the engine uses it to wake its step thread.
  RequestHandle(uint64_t id, std::function<void()> on_cancel);
  // Queues an event for the consumer. Events after the Finished or Error one are dropped.
  void deliver(Event event);
  bool cancel_requested() const;
  // True once the Finished or Error event has been delivered (maybe not read yet).
  bool ended() const;

 private:
  const uint64_t id_;
  std::function<void()> on_cancel_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
  bool cancel_requested_ = false;
  bool ended_ = false;     // terminal event delivered
  bool consumed_ = false;  // terminal event read
};

struct EngineConfig {
  int64_t n_ctx_per_sequence = 4096;   // most positions one sequence may use
  int64_t kv_cache_tokens = 16384;     // total KV positions in the shared block pool
  int64_t kv_block_size = 16;
  int32_t max_running = 16;            // sequences in the running batch at once
  int32_t max_queue = 64;              // waiting requests beyond which submit() refuses (429)
  int64_t max_batch_tokens = 512;      // tokens per forward step (chunked prefill shares it
                                       // with decode tokens)
  bool prefix_cache = true;
  int threads = 0;                     // compute threads; <= 0: one per physical core
};

struct EngineStats {  // a snapshot for /metrics and /health
  int64_t queued = 0, running = 0;
  int64_t kv_blocks_total = 0, kv_blocks_used = 0,
          kv_blocks_cached = 0;  // cached: free but holding a reusable prefix
  int64_t prompt_tokens_total = 0, prompt_tokens_cached_total = 0, generated_tokens_total = 0;
  int64_t requests_finished = 0, requests_cancelled = 0, requests_rejected = 0;
  // Added to the contract: requests that ended with an Error event (not counted above),
  // forward passes run, and sequences preempted for lack of KV blocks (recomputed later).
  int64_t requests_failed = 0, steps = 0, preemptions = 0;
  // Since the last snapshot (the server folds them into histograms). If snapshots are rare,
  // only the newest ones are kept (at least 16384 of each).
  std::vector<double> ttft_samples_s, itl_samples_s;
};

class QueueFullError : public hearth::Error {
 public:
  using hearth::Error::Error;
};

// What submit() throws after drain() (a hearth::Error whose message starts with "draining").
class DrainingError : public hearth::Error {
 public:
  using hearth::Error::Error;
};

// hearth::Error carrying an OpenAI-style error code ("context_length_exceeded") for the
// server to put in its JSON error body.
class RequestError : public hearth::Error {
 public:
  RequestError(const std::string& message, std::string code)
      : hearth::Error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

class Engine {
 public:
  // Throws hearth::Error for an unusable config (non-positive sizes, a KV pool that cannot
  // hold one whole sequence, a context longer than the model's).
  Engine(Model& model, const tok::Tokenizer& tokenizer, EngineConfig config);
  ~Engine();  // stops the step thread; pending requests get Error("engine stopped")
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Thread-safe. Throws QueueFullError when max_queue requests are already waiting,
  // hearth::Error for invalid params (a RequestError with code "context_length_exceeded" for
  // a prompt >= n_ctx_per_sequence; "invalid_request_error" for an empty prompt, an id
  // outside the vocabulary or bad sampling values).
  std::shared_ptr<RequestHandle> submit(RequestParams params);
  EngineStats stats();  // thread-safe
  // Stop taking new requests (submit throws DrainingError, a hearth::Error "draining ...");
  // running and queued ones continue.
  void drain();
  bool idle();  // nothing queued or running

  const EngineConfig& config() const { return config_; }

 private:
  struct Impl;
  EngineConfig config_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::engine
