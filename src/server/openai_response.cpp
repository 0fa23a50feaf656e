#include "server/openai_response.h"

#include <random>

namespace hearth::server {
namespace {

using Json = nlohmann::ordered_json;

Json utf8_bytes(const std::string& s) {
  Json bytes = Json::array();
  for (unsigned char c : s) bytes.push_back(static_cast<int>(c));
  return bytes;
}

Json chat_token_entry(const engine::TokenLogprob& t) {
  Json e;
  e["token"] = t.text;
  e["logprob"] = t.logprob;
  e["bytes"] = utf8_bytes(t.text);
  return e;
}

Json empty_completion_logprobs() {
  Json lp;
  lp["tokens"] = Json::array();
  lp["token_logprobs"] = Json::array();
  lp["top_logprobs"] = Json::array();
  lp["text_offset"] = Json::array();
  return lp;
}

}  // namespace

std::string new_response_id(Endpoint endpoint) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t a = rng(), b = rng();
  return fmt::format("{}{:016x}{:08x}", endpoint == Endpoint::ChatCompletions ? "chatcmpl-" : "cmpl-",
                     a, static_cast<uint32_t>(b));
}

Json usage_json(const engine::Usage& usage) {
  Json u;
  u["prompt_tokens"] = usage.prompt_tokens;
  u["completion_tokens"] = usage.completion_tokens;
  u["total_tokens"] = usage.prompt_tokens + usage.completion_tokens;
  u["prompt_tokens_details"] = {{"cached_tokens", usage.cached_prompt_tokens}};
  return u;
}

ApiError error_from_event(const engine::Event& event) {
  if (event.error_code == "context_length_exceeded")
    return ApiError(400, event.error, "invalid_request_error", "messages", event.error_code);
  if (event.error_code == "invalid_request_error")
    return ApiError(400, event.error, "invalid_request_error");
  if (event.error_code == "engine_stopped")
    return ApiError(503, "generation stopped: " + event.error, "server_error", {}, event.error_code);
  return ApiError(500, "generation failed: " + event.error, "server_error", {}, event.error_code);
}

ResponseBuilder::ResponseBuilder(ResponseContext context) : ctx_(std::move(context)) {
  if (ctx_.reasoning.enabled()) splitter_.emplace(ctx_.reasoning, ctx_.reasoning_open);
  logprobs_ = ctx_.endpoint == Endpoint::ChatCompletions ? Json::array() : empty_completion_logprobs();
}

ReasoningSplitter::Piece ResponseBuilder::split(const std::string& text) {
  if (!splitter_) return {.reasoning = {}, .content = text};
  return splitter_->push(text);
}

ReasoningSplitter::Piece ResponseBuilder::split_flush() {
  if (!splitter_) return {};
  return splitter_->flush();
}

void ResponseBuilder::append_logprobs(const engine::Event& event, Json& into) {
  for (size_t i = 0; i < event.logprobs.size(); ++i) {
    const engine::TokenLogprob& chosen = event.logprobs[i];
    const std::vector<engine::TokenLogprob>* alts =
        i < event.top_logprobs.size() ? &event.top_logprobs[i] : nullptr;
    if (ctx_.endpoint == Endpoint::ChatCompletions) {
      Json entry = chat_token_entry(chosen);
      entry["top_logprobs"] = Json::array();
      if (alts)
        for (const auto& a : *alts) entry["top_logprobs"].push_back(chat_token_entry(a));
      into.push_back(std::move(entry));
    } else {
      into["tokens"].push_back(chosen.text);
      into["token_logprobs"].push_back(chosen.logprob);
      Json top = Json::object();
      if (alts)
        for (const auto& a : *alts) top[a.text] = a.logprob;
      into["top_logprobs"].push_back(std::move(top));
      into["text_offset"].push_back(text_offset_);
      text_offset_ += static_cast<int64_t>(chosen.text.size());
    }
  }
}

Json ResponseBuilder::chunk_base() const {
  Json c;
  c["id"] = ctx_.id;
  c["object"] = ctx_.endpoint == Endpoint::ChatCompletions ? "chat.completion.chunk" : "text_completion";
  c["created"] = ctx_.created;
  c["model"] = ctx_.model;
  c["choices"] = Json::array();
  if (ctx_.include_usage) c["usage"] = nullptr;
  return c;
}

// One chunk carrying text (and the logprobs of the tokens it came from).
Json ResponseBuilder::text_chunk(const ReasoningSplitter::Piece& piece, const Json& logprobs) const {
  Json c = chunk_base();
  Json choice;
  choice["index"] = 0;
  if (ctx_.endpoint == Endpoint::ChatCompletions) {
    Json delta = Json::object();
    if (!piece.reasoning.empty()) delta["reasoning_content"] = piece.reasoning;
    if (!piece.content.empty() || piece.reasoning.empty()) delta["content"] = piece.content;
    choice["delta"] = std::move(delta);
    choice["logprobs"] =
        logprobs.is_null() ? Json(nullptr) : Json{{"content", logprobs}, {"refusal", nullptr}};
  } else {
    choice["text"] = piece.content;
    choice["logprobs"] = logprobs;
  }
  choice["finish_reason"] = nullptr;
  c["choices"].push_back(std::move(choice));
  return c;
}

std::vector<Json> ResponseBuilder::opening_chunks() {
  if (ctx_.endpoint != Endpoint::ChatCompletions) return {};
  Json c = chunk_base();
  Json choice;
  choice["index"] = 0;
  choice["delta"] = {{"role", "assistant"}, {"content", ""}};
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = nullptr;
  c["choices"].push_back(std::move(choice));
  if (!ctx_.guard_echo.is_null()) c["guard"] = ctx_.guard_echo;
  return {std::move(c)};
}

std::vector<Json> ResponseBuilder::chunks(const engine::Event& event) {
  std::vector<Json> out;
  if (event.kind == engine::Event::Kind::Delta) {
    const ReasoningSplitter::Piece piece = split(event.text);
    Json logprobs = nullptr;
    if (ctx_.logprobs && !event.logprobs.empty()) {
      logprobs = ctx_.endpoint == Endpoint::ChatCompletions ? Json::array() : empty_completion_logprobs();
      append_logprobs(event, logprobs);
    }
    if (!piece.empty() || !logprobs.is_null()) out.push_back(text_chunk(piece, logprobs));
    return out;
  }
  if (event.kind != engine::Event::Kind::Finished) return out;
  const ReasoningSplitter::Piece rest = split_flush();
  if (!rest.empty()) out.push_back(text_chunk(rest, nullptr));

  Json last = chunk_base();
  Json choice;
  choice["index"] = 0;
  if (ctx_.endpoint == Endpoint::ChatCompletions)
    choice["delta"] = Json::object();
  else
    choice["text"] = "";
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = event.finish_reason;
  last["choices"].push_back(std::move(choice));
  out.push_back(std::move(last));
  if (ctx_.include_usage) {
    Json usage = chunk_base();
    usage["usage"] = usage_json(event.usage);
    out.push_back(std::move(usage));
  }
  return out;
}

void ResponseBuilder::add(const engine::Event& event) {
  ReasoningSplitter::Piece piece;
  if (event.kind == engine::Event::Kind::Delta) {
    piece = split(event.text);
    if (ctx_.logprobs) append_logprobs(event, logprobs_);
  } else if (event.kind == engine::Event::Kind::Finished) {
    piece = split_flush();
    finish_reason_ = event.finish_reason;
    usage_ = event.usage;
  }
  reasoning_ += piece.reasoning;
  content_ += piece.content;
}

Json ResponseBuilder::body() const {
  Json b;
  const bool chat = ctx_.endpoint == Endpoint::ChatCompletions;
  b["id"] = ctx_.id;
  b["object"] = chat ? "chat.completion" : "text_completion";
  b["created"] = ctx_.created;
  b["model"] = ctx_.model;
  Json choice;
  choice["index"] = 0;
  if (chat) {
    Json message;
    message["role"] = "assistant";
    message["content"] = content_;
    if (!reasoning_.empty()) message["reasoning_content"] = reasoning_;
    choice["message"] = std::move(message);
    choice["logprobs"] = ctx_.logprobs ? Json{{"content", logprobs_}, {"refusal", nullptr}} : Json(nullptr);
  } else {
    choice["text"] = content_;
    choice["logprobs"] = ctx_.logprobs ? logprobs_ : Json(nullptr);
  }
  choice["finish_reason"] = finish_reason_;
  b["choices"] = Json::array({std::move(choice)});
  b["usage"] = usage_json(usage_);
  if (!ctx_.guard_echo.is_null()) b["guard"] = ctx_.guard_echo;
  return b;
}

}  // namespace hearth::server
