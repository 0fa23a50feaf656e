// Where the content policy (src/guard/) meets the server: input moderation of a completion
// request before it is tokenized, moderation of its streamed answer between the engine and
// the connection, and the structured log line plus /metrics count of every decision.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "guard/output_filter.h"
#include "server/event_pump.h"
#include "server/openai_request.h"
#include "server/server_context.h"

namespace hearth::server {

// Logs one decision as a single line (request id, stage, category, direction, action,
// score, rule; the matched text only with --log-content) and counts it in /metrics.
void record_guard_decision(ServerContext& ctx, const std::string& request_id, guard::Direction direction,
                           const guard::Decision::Item& item, std::string_view text);

// Moderates the request's text in place (chat: every message's content; completions: the
// prompt text). Throws ApiError 400 with code "content_filter" when the policy blocks it;
// redacts what it redacts. Returns the debug echo for the response when the policy asks for
// one (null otherwise).
nlohmann::ordered_json moderate_input(ServerContext& ctx, const guard::Guard& guard, CompletionRequest& r,
                                      const std::string& request_id);

// Wraps a pump callback so the answer passes `filter` first (a block cancels the request in
// the engine; its final event then says finish_reason "content_filter").
EventPump::Callback moderate_output(ServerContext& ctx, std::shared_ptr<guard::OutputFilter> filter,
                                    std::shared_ptr<engine::RequestHandle> handle, std::string request_id,
                                    EventPump::Callback next);

}  // namespace hearth::server
