// `hearth serve`'s HTTP server: one port, OpenAI-compatible endpoints, SSE and WebSocket.
//
// Lifecycle: start() binds and answers at once (/health says 503 "loading"); set_ready() once
// the model is loaded; shutdown() stops accepting, lets running requests finish for up to
// ServerConfig::drain_timeout, cancels what is left, closes every connection and joins the
// threads. I/O threads only move bytes; the engine runs the model on its own threads.
#pragma once
#include <cstdint>
#include <memory>

#include "server/server_context.h"

namespace hearth::server {

class Server {
 public:
  explicit Server(ServerConfig config);
  ~Server();  // shutdown() if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Throws hearth::Error when host:port cannot be bound (in use, no permission, bad address).
  void start();
  // The bound port (useful with port 0).
  uint16_t port() const;

  void set_ready(Backend& backend, const PromptBuilder& builder, ModelInfo model);
  void shutdown();

  ServerContext& context();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::server
