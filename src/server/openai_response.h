// Engine events -> OpenAI response objects, shaped exactly as OpenAI's API returns them:
//   chat, streaming:      "chat.completion.chunk" objects (delta: role, content, reasoning_content)
//   chat, not streaming:  one "chat.completion" (message: role, content, reasoning_content)
//   completions:          "text_completion" objects (choices[].text), streamed or whole
// Transport-free: the SSE and WebSocket sessions both send what this builds.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "server/api_error.h"
#include "server/openai_request.h"
#include "server/reasoning.h"

namespace hearth::server {

struct ResponseContext {
  Endpoint endpoint = Endpoint::ChatCompletions;
  std::string id;       // new_response_id()
  int64_t created = 0;  // unix seconds
  std::string model;
  bool include_usage = false;  // streaming: every chunk has "usage": null, then a usage chunk
  bool logprobs = false;       // the request asked for logprobs
  ReasoningMarkers reasoning;  // enabled(): a chat template with a reasoning section
  bool reasoning_open = false;                // the prompt ended inside it
  // The guard's debug echo (policy debug_echo = true): what the model was given after
  // input moderation and the decisions; added as "guard" to the answer and to chat's first
  // streamed chunk. Null: not added.
  nlohmann::ordered_json guard_echo;
};

// "chatcmpl-<24 random hex>" or "cmpl-<24 random hex>".
std::string new_response_id(Endpoint endpoint);

// usage{prompt_tokens, completion_tokens, total_tokens, prompt_tokens_details{cached_tokens}}
nlohmann::ordered_json usage_json(const engine::Usage& usage);

// The HTTP status and error object for an engine Error event.
ApiError error_from_event(const engine::Event& event);

class ResponseBuilder {
 public:
  explicit ResponseBuilder(ResponseContext context);

  const ResponseContext& context() const { return ctx_; }

  // ---- streaming ----
  // Sent as soon as the request is accepted: chat's first chunk carries the assistant role.
  std::vector<nlohmann::ordered_json> opening_chunks();
  // The chunks a Delta or Finished event becomes (maybe none: text held back at a reasoning
  // marker). Finished also yields the chunk with finish_reason and, with include_usage, the
  // usage chunk (empty choices). Not for Error events (see error_from_event).
  std::vector<nlohmann::ordered_json> chunks(const engine::Event& event);

  // ---- not streaming ----
  void add(const engine::Event& event);  // Delta and Finished events, in order
  // The whole answer; call after the Finished event was added.
  nlohmann::ordered_json body() const;

 private:
  nlohmann::ordered_json chunk_base() const;
  nlohmann::ordered_json text_chunk(const ReasoningSplitter::Piece& piece,
                                    const nlohmann::ordered_json& logprobs) const;
  ReasoningSplitter::Piece split(const std::string& text);
  ReasoningSplitter::Piece split_flush();
  void append_logprobs(const engine::Event& event, nlohmann::ordered_json& into);

  ResponseContext ctx_;
  std::optional<ReasoningSplitter> splitter_;
  int64_t text_offset_ = 0;  // completions logprobs: byte offset of the next token

  // Accumulated for body().
  std::string content_, reasoning_;
  nlohmann::ordered_json logprobs_;  // chat: array of token entries; completions: the object
  std::string finish_reason_;
  engine::Usage usage_;
};

}  // namespace hearth::server
