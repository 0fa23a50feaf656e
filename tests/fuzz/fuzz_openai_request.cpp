// Arbitrary bytes as a request body of /v1/chat/completions and /v1/completions (also what a
// WebSocket client sends): parsing either succeeds or throws ApiError; nothing else may happen.
// A parsed request then goes through the response builder with the bytes as generated text
// (reasoning split on), and every chunk must serialize.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/api_error.h"
#include "server/openai_request.h"
#include "server/openai_response.h"
#include "server/sse.h"

using namespace hearth::server;

namespace {

void respond(Endpoint endpoint, std::string_view text) {
  ResponseContext c;
  c.endpoint = endpoint;
  c.id = "x";
  c.reasoning = ReasoningMarkers{};
  c.include_usage = true;
  ResponseBuilder stream(c), whole(c);
  size_t at = 0;
  for (size_t piece = 1; at < text.size(); piece = piece % 7 + 1) {  // uneven pieces
    hearth::engine::Event e{};
    e.kind = hearth::engine::Event::Kind::Delta;
    e.text = std::string(text.substr(at, piece));
    at += piece;
    for (const auto& chunk : stream.chunks(e)) (void)sse_event(chunk);
    whole.add(e);
  }
  hearth::engine::Event done{};
  done.kind = hearth::engine::Event::Kind::Finished;
  done.finish_reason = "stop";
  for (const auto& chunk : stream.chunks(done)) (void)sse_event(chunk);
  whole.add(done);
  (void)dump_json(whole.body());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (Endpoint endpoint : {Endpoint::ChatCompletions, Endpoint::Completions}) {
    try {
      const CompletionRequest r = parse_completion_request(endpoint, parse_json_body(text), 512);
      (void)r;
    } catch (const ApiError& e) {
      (void)e.body();
    }
    respond(endpoint, text);
  }
  return 0;
}
