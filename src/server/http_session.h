// One accepted TCP connection: HTTP/1.1 with keep-alive, requests answered one at a time.
// Completions are answered as one JSON body or as server-sent events; GET /v1/ws hands the
// connection over to a WebSocket session. Everything runs on the connection's strand; the
// engine's events arrive there through the EventPump, so no I/O thread ever waits for the model.
#pragma once
#include <boost/asio/ip/tcp.hpp>

#include "server/server_context.h"

namespace hearth::server {

void serve_http_connection(boost::asio::ip::tcp::socket socket, ServerContext& ctx);

}  // namespace hearth::server
