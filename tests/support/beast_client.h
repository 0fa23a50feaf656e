// A small synchronous HTTP/WebSocket client (Boost.Beast) for tests that talk to a server on
// a loopback port: whole requests, streamed responses read piece by piece, raw sockets that
// can be dropped mid-answer.
#pragma once
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <map>
#include <optional>
#include <string>

namespace hearth::test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;                            // de-chunked
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

inline std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One keep-alive HTTP/1.1 connection.
class HttpConnection {
 public:
  explicit HttpConnection(uint16_t port) : stream_(ioc_) {
    stream_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }

  HttpResult request(http::verb method, const std::string& target, const std::string& body = "",
                     const std::map<std::string, std::string>& headers = {}) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == http::verb::post) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
      req.prepare_payload();
    }
    http::write(stream_, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    http::read(stream_, buffer_, parser);
    HttpResult r;
    r.status = parser.get().result_int();
    for (const auto& f : parser.get()) r.headers[lower(std::string(f.name_string()))] = std::string(f.value());
    r.body = parser.get().body();
    return r;
  }

  HttpResult get(const std::string& target, const std::map<std::string, std::string>& headers = {}) {
    return request(http::verb::get, target, "", headers);
  }
  HttpResult post(const std::string& target, const std::string& body,
                  const std::map<std::string, std::string>& headers = {}) {
    return request(http::verb::post, target, body, headers);
  }

  // Sends a request and returns once the response header has arrived; then read_some()
  // gives body bytes as they come (de-chunked) and drop() closes the socket.
  int start(const std::string& target, const std::string& body) {
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(stream_, req);
    streaming_.emplace();
    streaming_->body_limit(64u << 20);
    http::read_header(stream_, buffer_, *streaming_);
    return streaming_->get().result_int();
  }
  // More body bytes (at least one), or "" once the response is complete.
  std::string read_some() {
    if (streaming_->is_done()) return "";
    std::string chunk;
    while (chunk.empty() && !streaming_->is_done()) {
      const size_t before = streaming_->get().body().size();
      http::read_some(stream_, buffer_, *streaming_);
      chunk = streaming_->get().body().substr(before);
    }
    return chunk;
  }
  void drop() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream& stream() { return stream_; }

 private:
  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> streaming_;
};

class WsConnection {
 public:
  WsConnection(uint16_t port, const std::map<std::string, std::string>& headers = {}) : ws_(ioc_) {
    beast::get_lowest_layer(ws_).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (const auto& [k, v] : headers) req.set(k, v);
    }));
    ws_.handshake("127.0.0.1", "/v1/ws");
  }
  void send(const std::string& text) {
    ws_.text(true);
    ws_.write(net::buffer(text));
  }
  std::string receive() {
    beast::flat_buffer b;
    ws_.read(b);
    return beast::buffers_to_string(b.data());
  }
  void close() { ws_.close(websocket::close_code::normal); }
  void drop() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

 private:
  net::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_;
};

}  // namespace hearth::test
