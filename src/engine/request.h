// One request inside the engine: a small state machine
//
//   Waiting --admitted--> Running (prompt chunks ... one token per step) --> Finished
//      ^                     |            stop (EOS or stop string), length, cancelled, error
//      +----preempted--------+            (cancellation and errors may end it in any state)
//
// It owns what makes its output its own: its Sampler (its own seed, so its tokens do not
// depend on what else is batched with it), its StreamDecoder (the prompt pushed first, so the
// continuation decodes like the whole text) and its StopMatcher, and it turns each sampled
// token into the events its RequestHandle delivers. The KV side (blocks, tokens computed) is
// plain state the engine manages.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/stop_matcher.h"
#include "kv/block_pool.h"
#include "sampling/sampler.h"
#include "tokenizer/stream_decoder.h"

namespace hearth::engine {

// The text of single tokens for logprobs (" the" for "▁the", "</s>" for a control token),
// computed once per id. Engine thread only.
class TokenTexts {
 public:
  explicit TokenTexts(const tok::Tokenizer& tokenizer);
  const std::string& get(int32_t id);

 private:
  const tok::Tokenizer& tokenizer_;
  std::vector<std::optional<std::string>> texts_;
};

enum class RequestState { Waiting, Running, Finished };

class Request {
 public:
  using Clock = std::chrono::steady_clock;

  // Checks `params` against the model (n_vocab ids, n_ctx positions per sequence) and
  // builds the sampler, detokenizer and stop matcher. Throws RequestError ("invalid_request_error"
  // or "context_length_exceeded").
  Request(uint64_t id, RequestParams params, const tok::Tokenizer& tokenizer, int32_t n_vocab,
          int64_t n_ctx, std::shared_ptr<RequestHandle> handle);

  uint64_t id() const { return id_; }
  RequestHandle& handle() { return *handle_; }
  std::span<const int32_t> tokens() const { return tokens_; }  // prompt, then generated
  int64_t n_known() const { return static_cast<int64_t>(tokens_.size()); }
  int64_t n_prompt() const { return n_prompt_; }
  int64_t n_generated() const { return n_known() - n_prompt_; }
  Clock::time_point arrival() const { return arrival_; }

  // ---- KV state, managed by the engine ----
  RequestState state = RequestState::Waiting;
  int32_t slot = -1;                 // sequence id in the KV cache while running
  int64_t n_computed = 0;            // tokens whose keys and values are in the cache
  std::vector<int32_t> blocks;       // KV blocks, in position order
  int64_t n_registered_blocks = 0;   // leading blocks already offered to the prefix cache
  bool admitted_before = false;      // false until first admitted (prompt usage counted then)
  int64_t cached_prompt_tokens = 0;  // prompt tokens taken from the prefix cache, first time

  // Chained hashes of every full block of tokens(), extended as tokens are added.
  std::span<const kv::BlockHash> block_hashes(int64_t block_size);

  // ---- generation ----
  // Samples the next token from this request's row of logits, delivers the text that became
  // final, and ends the request when the token ends it. True when it finished. Throws
  // hearth::Error when the token cannot be decoded (then the engine fails the request).
  bool on_logits(const float* logits, TokenTexts& texts, std::vector<float>& scratch);
  // End the request with Finished (with usage) or Error. The event is kept until
  // deliver_end(), which the engine calls once the request's KV blocks are back in the pool,
  // so a consumer that sees the end also sees the memory freed in the stats.
  void finish(const std::string& reason);
  void fail(const std::string& message, const std::string& code);
  bool finished() const { return state == RequestState::Finished; }
  // "stop", "length", "cancelled", or "error".
  const std::string& end_reason() const { return end_reason_; }
  void deliver_end();

  std::optional<Clock::time_point> first_token_time;  // when the first token was sampled
  Clock::time_point last_token_time;

 private:
  void emit_rest();  // held-back text at the end of generation
  void emit_pending();

  const uint64_t id_;
  RequestParams params_;
  const tok::Tokenizer& tokenizer_;
  const int32_t n_vocab_;
  const int64_t n_ctx_;
  std::shared_ptr<RequestHandle> handle_;
  Clock::time_point arrival_;
  std::vector<int32_t> tokens_;
  int64_t n_prompt_;
  std::vector<kv::BlockHash> hashes_;
  sampling::Sampler sampler_;
  tok::StreamDecoder decoder_;
  StopMatcher stop_;
  Event pending_;  // the Delta being assembled: text released, ids and scores not yet sent
  std::optional<Event> end_;
  std::string end_reason_;
};

}  // namespace hearth::engine
