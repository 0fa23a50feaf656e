// Request bodies of POST /v1/chat/completions and POST /v1/completions (also what a WebSocket
// client sends), checked and turned into what the engine takes. Unknown parameters are
// ignored, as OpenAI's server does; a known parameter with a wrong type or value is a 400
// ApiError naming it. JSON null counts as "not given" for every optional parameter.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"

namespace hearth::server {

enum class Endpoint { ChatCompletions, Completions };

struct CompletionRequest {
  Endpoint endpoint = Endpoint::ChatCompletions;
  std::string model;  // "" when not given
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage

  // Chat: the conversation with every content part array joined into one string, so a
  // template sees plain strings; other message fields (name, tool_calls ...) pass through.
  nlohmann::ordered_json messages;
  nlohmann::ordered_json tools;            // array, or null
  nlohmann::ordered_json template_kwargs;  // chat_template_kwargs: object, or null

  // Completions: the prompt as text, or as token ids when the client sent ids.
  std::string prompt;
  std::vector<int32_t> prompt_ids;
  bool prompt_is_ids = false;

  // Chat: logprobs (bool) + top_logprobs (0..20). Completions: logprobs N (0..20) asks for the
  // chosen token's logprob and N alternatives. Both are mapped into params.
  engine::RequestParams params;  // everything but params.prompt
};

// The most nested arrays/objects a body may have; deeper bodies are refused before they are
// built (a recursion bomb must not exhaust the stack).
inline constexpr int kMaxJsonDepth = 64;

// Parses a request body. Throws ApiError 400 for anything but one well-formed JSON object
// (the message names line and column; invalid UTF-8 is refused here too).
nlohmann::ordered_json parse_json_body(std::string_view text);

// n_vocab: token ids (a prompt given as ids, logit_bias keys) must be below it.
CompletionRequest parse_completion_request(Endpoint endpoint, const nlohmann::ordered_json& body,
                                           int32_t n_vocab);

}  // namespace hearth::server
