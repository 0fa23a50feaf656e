// The guard model on the serving engine: each text goes into Llama Guard 3's prompt
// (guard/llama_guard.h), is submitted like any request (same scheduler and batch as
// generation) and the answers are parsed into verdicts. Used by /v1/moderations and, when
// the policy's [model] acts on input, to screen completion requests before they start.
#pragma once
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "guard/llama_guard.h"
#include "guard/pipeline.h"
#include "server/api_error.h"
#include "server/openai_request.h"
#include "server/server_context.h"

namespace hearth::server {

struct GuardModelOutcome {
  std::string answer;        // the model's text
  std::string error;         // the engine's error, if the request failed
  guard::GuardVerdict verdict;
  double score = 0;          // probability of the first "unsafe" token
  bool unsafe = false;       // by the policy: verdict, threshold and fail_open
  nlohmann::ordered_json json() const;  // {"answer", "parsed", "unsafe", "categories", "score"} or {"error"}
};

// Submits one classification per text; `done` gets the outcomes in order, on a pump thread,
// once all have finished. Throws ApiError (400 too long, 429 queue full, 503) when they
// cannot be submitted; nothing is left running then.
void run_guard_model(ServerContext& ctx, std::shared_ptr<const guard::Guard> guard,
                     const std::vector<std::string>& texts,
                     std::function<void(std::vector<GuardModelOutcome>)> done);

// Screens a completion request with the guard model when the policy's [model] acts on input
// (the last user message of a chat, or the prompt text). `then` gets nullopt to go on, or
// the 400 content_filter error; it is called at once when there is nothing to screen, else
// from a pump thread. Throws ApiError when the classification cannot be submitted.
void screen_with_guard_model(ServerContext& ctx, Endpoint endpoint, const nlohmann::ordered_json& body,
                             std::function<void(std::optional<ApiError>)> then);

}  // namespace hearth::server
