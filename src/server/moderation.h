// POST /v1/moderations in OpenAI's shape: {"input": string | [string, ...], "model"?} ->
// {"id": "modr-...", "model", "results": [{"flagged", "categories", "category_scores",
// "category_applied_input_types"}, ...]}. Our policy categories are reported under the
// OpenAI names they map to (docs/guard.md); categories with no OpenAI counterpart (PII,
// injection, the operator's own) are added under their own names. With the policy's
// [model] on, every input also goes to the served model as a Llama Guard 3 classifier,
// through the engine like any request; its verdict and score join the result.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>

#include "server/router.h"
#include "server/server_context.h"

namespace hearth::server {

// Answers through `done` (at once, or from a pump thread once the guard model has spoken).
// Throws ApiError for a bad body, a server without --policy (404), or when the guard model's
// requests cannot be submitted (429/503).
void start_moderation(ServerContext& ctx, const nlohmann::ordered_json& body, std::function<void(Reply)> done);

}  // namespace hearth::server
