#include "server/http_session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <deque>
#include <optional>
#include <sstream>

#include "server/generation.h"
#include "server/guard_model.h"
#include "server/moderation.h"
#include "server/router.h"
#include "server/sse.h"
#include "server/websocket_session.h"

namespace hearth::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr size_t kHeaderLimit = 32 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::chrono::seconds kLingerTime{2};

bool is_http_parse_error(const beast::error_code& ec) {
  return ec.category() == make_error_code(http::error::bad_target).category();
}

class HttpSession : public std::enable_shared_from_this<HttpSession>, public Connection {
 public:
  HttpSession(tcp::socket&& socket, ServerContext& ctx)
      : stream_(std::move(socket)), executor_(stream_.get_executor()), ctx_(ctx) {}

  void start() {
    net::dispatch(executor_,
                  beast::bind_front_handler(&HttpSession::read_request, shared_from_this()));
  }

  void close() override {
    net::post(executor_, [self = shared_from_this()] { self->client_gone(); });
  }

 private:
  // ---- reading a request: header first (to refuse a too large body or answer
  // "Expect: 100-continue" before the client sends it), then the body ----
  void read_request() {
    if (closed_) return;
    parser_.emplace();
    parser_->body_limit(ctx_.config().max_body_bytes);
    parser_->header_limit(kHeaderLimit);
    stream_.expires_after(ctx_.config().read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&HttpSession::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, size_t) {
    if (ec) return on_read_error(ec);
    const auto& req = parser_->get();
    route_ = route_of(req.target());
    keep_alive_ = req.keep_alive();
    chunked_ = req.version() >= 11;  // HTTP/1.0 has no chunked encoding: end by closing
    if (auto length = parser_->content_length(); length && *length > ctx_.config().max_body_bytes)
      return refuse_body_too_large();
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         if (ec) return self->client_gone();
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::on_request, shared_from_this()));
  }

  void on_request(beast::error_code ec, size_t) {
    if (ec) return on_read_error(ec);
    handle_request();
  }

  void on_read_error(const beast::error_code& ec) {
    // The header may be complete (a too large Content-Length is refused while parsing it).
    if (parser_->is_header_done()) route_ = route_of(parser_->get().target());
    if (ec == http::error::body_limit) return refuse_body_too_large();
    if (ec == http::error::header_limit) {
      close_after_ = true;
      return send_reply(error_reply(ApiError(431, "the request headers are larger than 32 KiB",
                                             "invalid_request_error")));
    }
    if (is_http_parse_error(ec) && ec != http::error::end_of_stream &&
        ec != http::error::partial_message) {
      close_after_ = true;
      return send_reply(error_reply(ApiError(
          400, "malformed HTTP request: " + ec.message(), "invalid_request_error")));
    }
    client_gone();  // closed, reset, timed out
  }

  void refuse_body_too_large() {
    close_after_ = true;
    send_reply(error_reply(ApiError(
        413,
        fmt::format("the request body is larger than this server's limit of {} bytes",
                    ctx_.config().max_body_bytes),
        "invalid_request_error", {}, "request_too_large")));
  }

  void handle_request() {
    const auto& req = parser_->get();
    if (req.method() == http::verb::options) return send_preflight();
    if (route_ == Route::NotFound) return send_reply(error_reply(not_found_error(req.target())));
    if (std::string_view(req.method_string()) != allowed_method(route_)) {
      Reply r = error_reply(method_not_allowed_error(route_, req.method_string()));
      r.headers.emplace_back("Allow", std::string(allowed_method(route_)) + ", OPTIONS");
      return send_reply(r);
    }
    if (needs_api_key(route_) && !ctx_.authorized(req[http::field::authorization]))
      return send_reply(error_reply(unauthorized_error(!req[http::field::authorization].empty())));
    switch (route_) {
      case Route::Health: return send_reply(health_reply(ctx_));
      case Route::Metrics: return send_reply(metrics_reply(ctx_));
      case Route::Models: return send_reply(models_reply(ctx_));
      case Route::ChatCompletions: return start_completion(Endpoint::ChatCompletions);
      case Route::Completions: return start_completion(Endpoint::Completions);
      case Route::Moderations: return start_moderation_request();
      case Route::WebSocket: return upgrade_to_websocket();
      case Route::NotFound: break;
    }
  }

  void upgrade_to_websocket() {
    if (!beast::websocket::is_upgrade(parser_->get())) {
      return send_reply(error_reply(ApiError(
          400, "/v1/ws is a WebSocket endpoint; connect with a WebSocket client (Upgrade: websocket)",
          "invalid_request_error")));
    }
    ctx_.metrics().count_response(route_label(route_), 101);
    closed_ = true;  // the connection is the WebSocket session's from now on
    serve_websocket(std::move(stream_), parser_->release(), ctx_);
  }

  // ---- moderations: answered at once, or once the guard model has run ----
  void start_moderation_request() {
    auto self = shared_from_this();
    try {
      const nlohmann::ordered_json body = parse_json_body(parser_->get().body());
      start_moderation(ctx_, body, [self](Reply reply) {
        net::post(self->executor_, [self, reply = std::move(reply)] {
          if (!self->closed_) self->send_reply(reply);
        });
      });
    } catch (const ApiError& e) {
      return send_reply(error_reply(e));
    } catch (const std::exception& e) {
      return send_reply(error_reply(ApiError(500, fmt::format("internal error: {}", e.what()), "server_error")));
    }
  }

  // ---- completions ----
  // The policy's guard model (if it screens input) runs first, through the engine like any
  // request; the completion starts once it has allowed the prompt.
  void start_completion(Endpoint endpoint) {
    auto self = shared_from_this();
    try {
      auto body = std::make_shared<const nlohmann::ordered_json>(parse_json_body(parser_->get().body()));
      screen_with_guard_model(ctx_, endpoint, *body, [self, endpoint, body](std::optional<ApiError> refused) {
        net::dispatch(self->executor_, [self, endpoint, body, refused = std::move(refused)] {
          if (self->closed_) return;
          if (refused) return self->send_reply(error_reply(*refused));
          self->begin_generation(endpoint, *body);
        });
      });
    } catch (const ApiError& e) {
      return send_reply(error_reply(e));
    } catch (const std::exception& e) {
      return send_reply(error_reply(ApiError(500, fmt::format("internal error: {}", e.what()), "server_error")));
    }
  }

  void begin_generation(Endpoint endpoint, const nlohmann::ordered_json& body) {
    try {
      gen_.emplace(start_generation(ctx_, endpoint, body));
    } catch (const ApiError& e) {
      return send_reply(error_reply(e));
    } catch (const std::exception& e) {
      return send_reply(error_reply(ApiError(500, fmt::format("internal error: {}", e.what()), "server_error")));
    }
    gen_ended_ = false;
    ctx_.generation_started(gen_->handle);
    watch_for_disconnect();
    if (gen_->stream) {
      ctx_.metrics().count_response(route_label(route_), 200);
      enqueue(sse_header());
      for (const auto& chunk : gen_->response.opening_chunks()) enqueue(body_piece(sse_event(chunk)));
    }
    auto self = shared_from_this();
    pump_generation(ctx_, *gen_, [self](engine::Event event) {
      net::post(self->executor_,
                [self, event = std::move(event)]() mutable { self->on_event(std::move(event)); });
    });
  }

  void on_event(engine::Event event) {
    const bool terminal = event.kind != engine::Event::Kind::Delta;
    if (terminal) {
      gen_ended_ = true;
      ctx_.metrics().count_finish(event.kind == engine::Event::Kind::Error ? "error" : event.finish_reason);
    }
    if (closed_) {
      if (terminal) end_generation();
      return;
    }
    if (!gen_->stream) {
      if (event.kind == engine::Event::Kind::Error) return send_reply(error_reply(error_from_event(event)));
      gen_->response.add(event);
      if (terminal) {
        Reply r;
        r.body = dump_json(gen_->response.body());
        send_reply(r);
      }
      return;
    }
    if (event.kind == engine::Event::Kind::Error) {
      enqueue(body_piece(sse_event(error_from_event(event).to_json())));
    } else {
      for (const auto& chunk : gen_->response.chunks(event)) enqueue(body_piece(sse_event(chunk)));
    }
    if (terminal) {
      response_complete_ = true;
      enqueue(body_piece(kSseDone));
      if (chunked_) enqueue(std::string(kLastHttpChunk));
    }
  }

  void end_generation() {
    if (!gen_ || !gen_ended_) return;
    ctx_.generation_ended(gen_->handle);
    gen_.reset();
  }

  // While a completion runs, a read stays pending so that a client that goes away is noticed
  // at once (and its request cancelled), not only at the next write.
  void watch_for_disconnect() {
    watching_ = true;
    stream_.expires_never();
    stream_.async_read_some(buffer_.prepare(4096),
                            beast::bind_front_handler(&HttpSession::on_watch, shared_from_this()));
  }

  void on_watch(beast::error_code ec, size_t n) {
    watching_ = false;
    if (!ec) buffer_.commit(n);  // the client's next request, sent early: kept for later
    if (resume_after_watch_) {
      resume_after_watch_ = false;
      return read_request();
    }
    if (!ec || closed_) return;
    client_gone();
  }

  // ---- writing: one queue of bytes, one write at a time ----
  void send_reply(const Reply& reply) {
    http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
    res.set(http::field::server, "hearth/" + ctx_.config().version);
    if (reply.status != 204) res.set(http::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) res.set(name, value);
    add_cors(res.base());
    res.keep_alive(keep_alive_ && !close_after_);
    res.body() = reply.body;
    res.prepare_payload();
    ctx_.metrics().count_response(route_label(route_), reply.status);
    std::ostringstream os;
    os << res;
    response_complete_ = true;
    enqueue(os.str());
  }

  void send_preflight() {
    Reply r;
    r.status = 204;
    r.headers.emplace_back("Allow", "GET, POST, OPTIONS");
    if (!ctx_.config().cors_origin.empty()) {
      r.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      r.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type");
      r.headers.emplace_back("Access-Control-Max-Age", "86400");
    }
    send_reply(r);
  }

  std::string sse_header() {
    http::response<http::empty_body> res{http::status::ok, 11};
    res.set(http::field::server, "hearth/" + ctx_.config().version);
    res.set(http::field::content_type, "text/event-stream; charset=utf-8");
    res.set(http::field::cache_control, "no-cache");
    res.set("X-Accel-Buffering", "no");  // tell proxies not to hold events back
    add_cors(res.base());
    if (chunked_) {
      res.keep_alive(keep_alive_);
      res.chunked(true);
    } else {
      close_after_ = true;
      res.keep_alive(false);
    }
    std::ostringstream os;
    os << res.base();
    return os.str();
  }

  // A piece of a streamed body: an HTTP/1.1 chunk, or the bytes as they are for HTTP/1.0.
  std::string body_piece(std::string_view bytes) const {
    return chunked_ ? http_chunk(bytes) : std::string(bytes);
  }

  template <class Header>
  void add_cors(Header& h) const {
    if (ctx_.config().cors_origin.empty()) return;
    h.set(http::field::access_control_allow_origin, ctx_.config().cors_origin);
    h.set(http::field::vary, "Origin");
  }

  void enqueue(std::string bytes) {
    if (closed_) return;
    out_.push_back(std::move(bytes));
    write_next();
  }

  void write_next() {
    if (writing_ || closed_ || out_.empty()) return;
    writing_ = true;
    stream_.expires_after(ctx_.config().write_timeout);
    net::async_write(stream_, net::buffer(out_.front()),
                     beast::bind_front_handler(&HttpSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, size_t) {
    writing_ = false;
    if (ec) {
      out_.clear();
      return client_gone();
    }
    out_.pop_front();
    if (!out_.empty()) return write_next();
    if (response_complete_) response_written();
  }

  void response_written() {
    response_complete_ = false;
    end_generation();
    if (close_after_ || !keep_alive_) return close_gracefully();
    if (watching_) {
      resume_after_watch_ = true;  // on_watch reads the next request once the watch ends
      stream_.cancel();
      return;
    }
    read_request();
  }

  // ---- closing ----
  void client_gone() {
    if (closed_ && !gen_) return;
    closed_ = true;
    if (gen_ && !gen_ended_) gen_->handle->cancel();  // its Finished event ends the generation
    if (!writing_) out_.clear();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    end_generation();
  }

  // After a response that ends the connection: stop sending, then read (and drop) what the
  // client still sends for a moment. Closing with unread data would make the kernel reset
  // the connection, and the client might never see the response (e.g. a 413).
  void close_gracefully() {
    closed_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    linger();
  }

  void linger() {
    stream_.async_read_some(net::buffer(discard_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (!ec) return self->linger();
      self->stream_.close();
    });
  }

  beast::tcp_stream stream_;
  net::any_io_executor executor_;  // the connection's strand (stream_ moves away on upgrade)
  beast::flat_buffer buffer_;
  ServerContext& ctx_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Route route_ = Route::NotFound;
  bool keep_alive_ = true;
  bool chunked_ = true;       // the client speaks HTTP/1.1
  bool close_after_ = false;  // the current response ends the connection

  std::deque<std::string> out_;
  bool writing_ = false;
  bool response_complete_ = false;  // the last bytes of the response are queued
  bool closed_ = false;

  std::optional<Generation> gen_;
  bool gen_ended_ = false;  // its Finished or Error event has arrived
  bool watching_ = false;
  bool resume_after_watch_ = false;
  std::array<char, 4096> discard_{};
};

}  // namespace

void serve_http_connection(boost::asio::ip::tcp::socket socket, ServerContext& ctx) {
  auto session = std::make_shared<HttpSession>(std::move(socket), ctx);
  ctx.add_connection(session);
  session->start();
}

}  // namespace hearth::server
