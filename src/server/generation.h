// Starting a completion, whatever the transport: check the request, turn it into prompt
// tokens, submit it to the engine. HTTP (SSE or one body) and WebSocket sessions then read
// the handle's events (through the EventPump) and send what the ResponseBuilder makes.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "guard/output_filter.h"
#include "server/event_pump.h"
#include "server/openai_request.h"
#include "server/openai_response.h"
#include "server/server_context.h"

namespace hearth::server {

struct Generation {
  std::shared_ptr<engine::RequestHandle> handle;
  ResponseBuilder response;
  bool stream = false;
  // Set when the content policy moderates output: events go through it (pump_generation).
  std::shared_ptr<guard::OutputFilter> output_filter;
};

// Throws ApiError: 503 while loading or draining, 400 for a bad request or a prompt that does
// not fit the context (code context_length_exceeded), 404 for another model's name, 429 when
// the engine's queue is full (with Retry-After).
Generation start_generation(ServerContext& ctx, Endpoint endpoint, const nlohmann::ordered_json& body);

// Starts moving the generation's events to `on_event` (through its output filter, if any).
void pump_generation(ServerContext& ctx, const Generation& gen, EventPump::Callback on_event);

// The 503 for a server that is loading or shutting down.
ApiError unavailable_error(ServerContext::State state);

}  // namespace hearth::server
