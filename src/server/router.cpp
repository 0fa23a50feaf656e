#include "server/router.h"

#include "server/generation.h"
#include "server/sse.h"

namespace hearth::server {

using Json = nlohmann::ordered_json;

Route route_of(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/health") return Route::Health;
  if (path == "/metrics") return Route::Metrics;
  if (path == "/v1/models") return Route::Models;
  if (path == "/v1/chat/completions") return Route::ChatCompletions;
  if (path == "/v1/completions") return Route::Completions;
  if (path == "/v1/moderations") return Route::Moderations;
  if (path == "/v1/ws") return Route::WebSocket;
  return Route::NotFound;
}

std::string route_label(Route route) {
  switch (route) {
    case Route::Health: return "/health";
    case Route::Metrics: return "/metrics";
    case Route::Models: return "/v1/models";
    case Route::ChatCompletions: return "/v1/chat/completions";
    case Route::Completions: return "/v1/completions";
    case Route::Moderations: return "/v1/moderations";
    case Route::WebSocket: return "/v1/ws";
    case Route::NotFound: break;
  }
  return "other";
}

std::string_view allowed_method(Route route) {
  switch (route) {
    case Route::ChatCompletions:
    case Route::Completions:
    case Route::Moderations: return "POST";
    default: return "GET";
  }
}

bool needs_api_key(Route route) { return route != Route::Health && route != Route::Metrics; }

Reply error_reply(const ApiError& error) {
  Reply r;
  r.status = error.status();
  r.body = error.body();
  if (error.retry_after_s() > 0) r.headers.emplace_back("Retry-After", std::to_string(error.retry_after_s()));
  return r;
}

ApiError not_found_error(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return ApiError(404,
                  fmt::format("no endpoint {}; this server has /v1/chat/completions, /v1/completions, "
                              "/v1/models, /v1/moderations, /v1/ws, /health and /metrics",
                              std::string(path.substr(0, 200))),
                  "invalid_request_error", {}, "not_found");
}

ApiError method_not_allowed_error(Route route, std::string_view method) {
  return ApiError(405,
                  fmt::format("{} does not take {} requests; use {}", route_label(route),
                              std::string(method.substr(0, 20)), allowed_method(route)),
                  "invalid_request_error", {}, "method_not_allowed");
}

ApiError unauthorized_error(bool key_given) {
  return ApiError(401,
                  key_given ? "Incorrect API key provided; send one of the server's keys as "
                              "'Authorization: Bearer KEY'"
                            : "You didn't provide an API key; send it as 'Authorization: Bearer KEY'",
                  "invalid_request_error", {}, "invalid_api_key");
}

Reply health_reply(ServerContext& ctx) {
  Reply r;
  Json body;
  switch (ctx.state()) {
    case ServerContext::State::Loading:
      r.status = 503;
      body["status"] = "loading";
      break;
    case ServerContext::State::Draining:
      r.status = 503;
      body["status"] = "draining";
      break;
    case ServerContext::State::Ready: {
      ctx.refresh_metrics();
      const engine::EngineStats s = ctx.metrics().latest();
      body["status"] = "ok";
      body["model"] = ctx.model().id;
      body["queued"] = s.queued;
      body["running"] = s.running;
      break;
    }
  }
  r.body = dump_json(body);
  return r;
}

Reply metrics_reply(ServerContext& ctx) {
  ctx.refresh_metrics();
  Reply r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = ctx.metrics().prometheus_text(ctx.ready(), ctx.state() == ServerContext::State::Draining);
  return r;
}

Reply models_reply(ServerContext& ctx) {
  if (!ctx.ready()) return error_reply(unavailable_error(ctx.state()));
  Json model;
  model["id"] = ctx.model().id;
  model["object"] = "model";
  model["created"] = ctx.model().created;
  model["owned_by"] = "hearth";
  model["context_length"] = ctx.model().n_ctx;
  Json body;
  body["object"] = "list";
  body["data"] = Json::array({std::move(model)});
  Reply r;
  r.body = dump_json(body);
  return r;
}

}  // namespace hearth::server
