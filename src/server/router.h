// Which endpoint a request is for, who may call it, and the answers that need no engine
// work: /health, /metrics, /v1/models and errors. Transport-free (the HTTP session turns a
// Reply into bytes).
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/api_error.h"
#include "server/server_context.h"

namespace hearth::server {

enum class Route { Health, Metrics, Models, ChatCompletions, Completions, Moderations, WebSocket, NotFound };

// `target` is the request target; a query string is ignored.
Route route_of(std::string_view target);
// The label /metrics counts a route's responses under (unknown paths share one).
std::string route_label(Route route);
// "GET", "POST" ...: what the route answers (for 405 and the Allow header).
std::string_view allowed_method(Route route);
// /health and /metrics are open (probes and scrapers); everything under /v1 needs the key.
bool needs_api_key(Route route);

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones (Retry-After, Allow)
};

Reply error_reply(const ApiError& error);
Reply health_reply(ServerContext& ctx);
Reply metrics_reply(ServerContext& ctx);
Reply models_reply(ServerContext& ctx);

ApiError not_found_error(std::string_view target);
ApiError method_not_allowed_error(Route route, std::string_view method);
ApiError unauthorized_error(bool key_given);

}  // namespace hearth::server
