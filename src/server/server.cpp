#include "server/server.h"

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <future>
#include <thread>
#include <vector>

#include "server/http_session.h"

namespace hearth::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;

struct Server::Impl {
  explicit Impl(ServerConfig config) : ctx(std::move(config)), acceptor(ioc), retry_timer(ioc) {}

  void accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      if (ec) {
        // Out of file descriptors and the like: wait a little instead of spinning.
        fmt::print(stderr, "hearth serve: accept failed: {}\n", ec.message());
        retry_timer.expires_after(std::chrono::milliseconds(100));
        retry_timer.async_wait([this](boost::system::error_code) { accept(); });
        return;
      }
      serve_http_connection(std::move(socket), ctx);
      accept();
    });
  }

  // An exception escaping a handler ends only that connection (its handlers are gone, so it
  // closes); the thread goes back to serving the others.
  void run_io() {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        fmt::print(stderr, "hearth serve: a connection failed: {}\n", e.what());
      }
    }
  }

  ServerContext ctx;
  net::io_context ioc;
  tcp::acceptor acceptor;
  net::steady_timer retry_timer;
  std::vector<std::thread> threads;
  bool started = false, stopped = false;
};

Server::Server(ServerConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Server::~Server() { shutdown(); }

ServerContext& Server::context() { return impl_->ctx; }

void Server::start() {
  const ServerConfig& c = impl_->ctx.config();
  boost::system::error_code ec;
  const net::ip::address address = net::ip::make_address(c.host, ec);
  if (ec) fail("--host '{}' is not an IP address (use e.g. 127.0.0.1 or 0.0.0.0)", c.host);
  const tcp::endpoint endpoint(address, c.port);
  tcp::acceptor& a = impl_->acceptor;
  if (a.open(endpoint.protocol(), ec); !ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    fail("cannot listen on {}:{}: {} (pick another --port, or stop what uses it)", c.host, c.port,
         ec.message());
  impl_->accept();
  const int n = std::max(1, c.http_threads);
  for (int i = 0; i < n; ++i) impl_->threads.emplace_back([this] { impl_->run_io(); });
  impl_->started = true;
}

uint16_t Server::port() const {
  boost::system::error_code ec;
  const tcp::endpoint e = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : e.port();
}

void Server::set_ready(Backend& backend, const PromptBuilder& builder, ModelInfo model) {
  impl_->ctx.set_ready(backend, builder, std::move(model));
}

void Server::shutdown() {
  Impl& s = *impl_;
  if (s.stopped) return;
  s.stopped = true;
  if (s.started) {
    std::promise<void> closed;
    net::post(s.ioc, [&] {
      boost::system::error_code ignored;
      s.acceptor.close(ignored);
      s.retry_timer.cancel();
      closed.set_value();
    });
    closed.get_future().wait();
  }
  s.ctx.set_draining();
  if (!s.ctx.wait_for_no_generations(s.ctx.config().drain_timeout)) {
    fmt::print(stderr, "hearth serve: {} requests still running after the drain timeout; cancelling them\n",
               s.ctx.generations_in_flight());
    s.ctx.cancel_all_generations();
    s.ctx.wait_for_no_generations(std::chrono::seconds(5));
  }
  s.ctx.close_all_connections();
  // Give close frames and lingering closes a moment, then stop whatever is left.
  for (int i = 0; i < 20 && s.ctx.open_connections() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  s.ioc.stop();
  for (std::thread& t : s.threads) t.join();
  s.threads.clear();
  s.ctx.pump().stop_and_join();
}

}  // namespace hearth::server
