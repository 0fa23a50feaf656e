// WebSocket at /v1/ws (protocol in docs/api.md): the client sends a completion request as a
// JSON text frame, the server answers with the same chunk objects SSE carries, one per text
// frame, then {"type":"done"}. {"type":"cancel"} stops the running request; closing the
// socket cancels it too. One request at a time per connection, any number in sequence.
#pragma once
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "server/server_context.h"

namespace hearth::server {

// Takes over a connection whose HTTP request asked for the upgrade (already authorized).
void serve_websocket(boost::beast::tcp_stream stream,
                     boost::beast::http::request<boost::beast::http::string_body> upgrade,
                     ServerContext& ctx);

}  // namespace hearth::server
