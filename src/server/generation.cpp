#include "server/generation.h"

#include <ctime>

#include "server/guard_hooks.h"

namespace hearth::server {
namespace {

void check_model(const ServerContext& ctx, const std::string& requested) {
  const ModelInfo& m = ctx.model();
  if (requested.empty() || requested == m.id || requested == m.path) return;
  throw ApiError(404,
                 fmt::format("The model '{}' does not exist; this server serves '{}' (GET /v1/models)",
                             requested, m.id),
                 "invalid_request_error", "model", "model_not_found");
}

ChatPrompt build_prompt(const PromptBuilder& builder, const CompletionRequest& r) {
  try {
    if (r.endpoint == Endpoint::ChatCompletions)
      return builder.chat(r.messages, r.tools, r.template_kwargs);
    ChatPrompt p;
    p.tokens = r.prompt_is_ids ? r.prompt_ids : builder.completion(r.prompt);
    return p;
  } catch (const ApiError&) {
    throw;
  } catch (const hearth::Error& e) {  // the template or tokenizer refused the input
    throw ApiError(400, e.what(), "invalid_request_error",
                   r.endpoint == Endpoint::ChatCompletions ? "messages" : "prompt");
  }
}

std::shared_ptr<engine::RequestHandle> submit(ServerContext& ctx, engine::RequestParams params,
                                              const char* prompt_param) {
  try {
    return ctx.backend()->submit(std::move(params));
  } catch (const engine::QueueFullError& e) {
    throw ApiError(429, fmt::format("the server is busy ({}); retry in a moment", e.what()),
                   "rate_limit_error", {}, "rate_limit_exceeded")
        .with_retry_after(1);
  } catch (const engine::DrainingError&) {
    throw unavailable_error(ServerContext::State::Draining);
  } catch (const engine::RequestError& e) {
    throw ApiError(400, e.what(), "invalid_request_error", prompt_param,
                   e.code() == "invalid_request_error" ? "" : e.code());
  } catch (const hearth::Error& e) {
    if (ctx.state() == ServerContext::State::Draining) throw unavailable_error(ctx.state());
    throw ApiError(400, e.what(), "invalid_request_error");
  }
}

}  // namespace

ApiError unavailable_error(ServerContext::State state) {
  if (state == ServerContext::State::Loading)
    return ApiError(503, "the model is still loading; retry in a few seconds", "server_error", {},
                    "model_loading")
        .with_retry_after(5);
  return ApiError(503, "the server is shutting down and takes no new requests", "server_error", {},
                  "server_shutting_down");
}

Generation start_generation(ServerContext& ctx, Endpoint endpoint, const nlohmann::ordered_json& body) {
  if (!ctx.ready()) throw unavailable_error(ctx.state());
  const ModelInfo& model = ctx.model();
  CompletionRequest r = parse_completion_request(endpoint, body, model.n_vocab);
  check_model(ctx, r.model);
  const std::string id = new_response_id(endpoint);
  // One policy for the whole request, even if SIGHUP swaps it meanwhile.
  const std::shared_ptr<const guard::Guard> guard = ctx.guard();
  nlohmann::ordered_json guard_echo;
  if (guard) guard_echo = moderate_input(ctx, *guard, r, id);

  ChatPrompt prompt = build_prompt(*ctx.builder(), r);
  const char* prompt_param = endpoint == Endpoint::ChatCompletions ? "messages" : "prompt";
  if (prompt.tokens.empty())
    bad_param(prompt_param, "the prompt is empty (no tokens); send some text");
  if (static_cast<int64_t>(prompt.tokens.size()) >= model.n_ctx)
    throw ApiError(400,
                   fmt::format("This model's maximum context length is {} tokens, but the prompt has "
                               "{} tokens; shorten it to leave room for the answer",
                               model.n_ctx, prompt.tokens.size()),
                   "invalid_request_error", prompt_param, "context_length_exceeded");

  ResponseContext rc;
  rc.endpoint = endpoint;
  rc.id = id;
  rc.guard_echo = std::move(guard_echo);
  rc.created = static_cast<int64_t>(std::time(nullptr));
  rc.model = model.id;
  rc.include_usage = r.stream && r.include_usage;
  rc.logprobs = r.params.logprobs;
  rc.reasoning = prompt.reasoning;
  rc.reasoning_open = prompt.reasoning_open;

  engine::RequestParams params = std::move(r.params);
  params.prompt = std::move(prompt.tokens);
  auto handle = submit(ctx, std::move(params), prompt_param);
  Generation gen{std::move(handle), ResponseBuilder(std::move(rc)), r.stream, nullptr};
  if (guard && guard->scans_output()) gen.output_filter = std::make_shared<guard::OutputFilter>(guard);
  return gen;
}

void pump_generation(ServerContext& ctx, const Generation& gen, EventPump::Callback on_event) {
  if (gen.output_filter)
    on_event = moderate_output(ctx, gen.output_filter, gen.handle, gen.response.context().id, std::move(on_event));
  ctx.pump().start(gen.handle, std::move(on_event));
}

}  // namespace hearth::server
