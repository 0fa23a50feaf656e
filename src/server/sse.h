// Server-sent events over HTTP/1.1 chunked transfer encoding: each chunk object becomes one
// `data: {json}\n\n` event, the stream ends with `data: [DONE]\n\n` as OpenAI's does.
#pragma once
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace hearth::server {

// Compact JSON never contains a raw newline, so one event is one `data:` line. Bytes that
// are not UTF-8 (never expected from the engine) become U+FFFD instead of throwing.
inline std::string dump_json(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

inline std::string sse_event(const nlohmann::ordered_json& j) { return "data: " + dump_json(j) + "\n\n"; }

inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

// One HTTP/1.1 chunk: size in hex, CRLF, the bytes, CRLF (RFC 9112 section 7.1).
inline std::string http_chunk(std::string_view payload) {
  return fmt::format("{:x}\r\n{}\r\n", payload.size(), payload);
}

// The zero-length chunk that ends a chunked body (no trailers).
inline constexpr std::string_view kLastHttpChunk = "0\r\n\r\n";

}  // namespace hearth::server
