#include "server/websocket_session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <optional>

#include "server/generation.h"
#include "server/router.h"
#include "server/sse.h"

namespace hearth::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using Json = nlohmann::ordered_json;

const std::string kLabel = route_label(Route::WebSocket);

class WebSocketSession : public std::enable_shared_from_this<WebSocketSession>, public Connection {
 public:
  WebSocketSession(beast::tcp_stream&& stream, ServerContext& ctx)
      : ws_(std::move(stream)), executor_(ws_.get_executor()), ctx_(ctx) {}

  void start(http::request<http::string_body> upgrade) {
    upgrade_ = std::move(upgrade);
    beast::get_lowest_layer(ws_).expires_never();  // the websocket's own timeouts take over
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [version = ctx_.config().version](websocket::response_type& res) {
          res.set(http::field::server, "hearth/" + version);
        }));
    ws_.read_message_max(ctx_.config().max_body_bytes);
    net::dispatch(executor_, [self = shared_from_this()] {
      self->ws_.async_accept(self->upgrade_,
                             beast::bind_front_handler(&WebSocketSession::on_accept, self));
    });
  }

  void close() override {
    net::post(executor_, [self = shared_from_this()] { self->close_going_away(); });
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) return gone();
    read_next();
  }

  void read_next() {
    ws_.async_read(buffer_, beast::bind_front_handler(&WebSocketSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec) return gone();  // closed by the client, too large a message, or a broken socket
    const bool text = ws_.got_text();
    const std::string message = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (!text)
      send_error(ApiError(400, "send requests as text frames holding JSON", "invalid_request_error"));
    else
      handle_message(message);
    read_next();
  }

  void handle_message(const std::string& text) {
    Json msg;
    std::string type;
    Endpoint endpoint = Endpoint::ChatCompletions;
    try {
      msg = parse_json_body(text);
      type = message_type(msg);
      if (type == "cancel") {
        if (gen_ && !gen_ended_) gen_->handle->cancel();
        return;
      }
      endpoint = endpoint_of(msg);
    } catch (const ApiError& e) {
      return send_error(e);
    }
    if (gen_)
      return send_error(ApiError(409,
                                 "a request is already running on this connection; wait for its "
                                 "{\"type\":\"done\"} or send {\"type\":\"cancel\"}",
                                 "invalid_request_error", {}, "request_in_progress"));
    msg["stream"] = true;  // answers over a WebSocket are always streamed
    try {
      gen_.emplace(start_generation(ctx_, endpoint, msg));
    } catch (const ApiError& e) {
      return send_error(e);
    } catch (const std::exception& e) {
      return send_error(ApiError(500, fmt::format("internal error: {}", e.what()), "server_error"));
    }
    gen_ended_ = false;
    ctx_.metrics().count_response(kLabel, 200);
    ctx_.generation_started(gen_->handle);
    for (const auto& chunk : gen_->response.opening_chunks()) send(dump_json(chunk));
    auto self = shared_from_this();
    pump_generation(ctx_, *gen_, [self](engine::Event event) {
      net::post(self->executor_,
                [self, event = std::move(event)]() mutable { self->on_event(std::move(event)); });
    });
  }

  static std::string message_type(const Json& msg) {
    auto it = msg.find("type");
    if (it == msg.end() || it->is_null()) return "request";
    if (!it->is_string() || (*it != "request" && *it != "cancel"))
      throw ApiError(400, "'type' must be \"request\" (the default) or \"cancel\"",
                     "invalid_request_error", "type");
    return it->get<std::string>();
  }

  static Endpoint endpoint_of(const Json& msg) {
    auto it = msg.find("endpoint");
    if (it == msg.end() || it->is_null() || *it == "/v1/chat/completions" || *it == "chat.completions")
      return Endpoint::ChatCompletions;
    if (*it == "/v1/completions" || *it == "completions") return Endpoint::Completions;
    throw ApiError(400, "'endpoint' must be \"/v1/chat/completions\" (the default) or \"/v1/completions\"",
                   "invalid_request_error", "endpoint");
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
    if (event.kind == engine::Event::Kind::Error) {
      send_error(error_from_event(event));
    } else {
      for (const auto& chunk : gen_->response.chunks(event)) send(dump_json(chunk));
    }
    if (terminal) {
      Json done;
      done["type"] = "done";
      done["id"] = gen_->response.context().id;
      send(dump_json(done));
      end_after_flush_ = true;
      if (!writing_) end_generation();
    }
  }

  void end_generation() {
    end_after_flush_ = false;
    if (!gen_ || !gen_ended_) return;
    ctx_.generation_ended(gen_->handle);
    gen_.reset();
  }

  void send_error(const ApiError& e) {
    ctx_.metrics().count_response(kLabel, e.status());
    Json frame;
    frame["type"] = "error";
    frame["status"] = e.status();
    frame["error"] = e.to_json()["error"];
    send(dump_json(frame));
  }

  void send(std::string text) {
    if (closed_) return;
    out_.push_back(std::move(text));
    write_next();
  }

  void write_next() {
    if (writing_ || closed_ || out_.empty()) return;
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(out_.front()),
                    beast::bind_front_handler(&WebSocketSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, size_t) {
    writing_ = false;
    if (ec) {
      out_.clear();
      return gone();
    }
    out_.pop_front();
    if (!out_.empty()) return write_next();
    if (end_after_flush_) end_generation();
    if (close_when_flushed_) close_going_away();
  }

  void gone() {
    if (closed_ && !gen_) return;
    closed_ = true;
    if (gen_ && !gen_ended_) gen_->handle->cancel();  // its Finished event ends the generation
    if (!writing_) out_.clear();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    end_generation();
  }

  // Server shutdown: send a close frame (1001, going away) once queued frames are out.
  void close_going_away() {
    if (closed_) return;
    if (writing_) {
      close_when_flushed_ = true;
      return;
    }
    closed_ = true;
    if (gen_ && !gen_ended_) gen_->handle->cancel();
    ws_.async_close(websocket::close_code::going_away,
                    [self = shared_from_this()](beast::error_code) {
                      beast::error_code ignored;
                      beast::get_lowest_layer(self->ws_).socket().close(ignored);
                    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  net::any_io_executor executor_;
  ServerContext& ctx_;
  http::request<http::string_body> upgrade_;
  beast::flat_buffer buffer_;

  std::deque<std::string> out_;
  bool writing_ = false;
  bool closed_ = false;
  bool close_when_flushed_ = false;

  std::optional<Generation> gen_;
  bool gen_ended_ = false;
  bool end_after_flush_ = false;
};

}  // namespace

void serve_websocket(beast::tcp_stream stream, http::request<http::string_body> upgrade,
                     ServerContext& ctx) {
  auto session = std::make_shared<WebSocketSession>(std::move(stream), ctx);
  ctx.add_connection(session);
  session->start(std::move(upgrade));
}

}  // namespace hearth::server
