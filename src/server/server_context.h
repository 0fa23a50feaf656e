// State every connection of one server shares: its configuration, whether the model is
// loaded, the engine and prompt builder, metrics, the requests in flight and the open
// connections (so that shutdown can drain the first and close the second).
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "guard/pipeline.h"
#include "server/backend.h"
#include "server/event_pump.h"
#include "server/metrics.h"
#include "server/prompt_builder.h"

namespace hearth::server {

struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;                 // 0: any free port (Server::port() tells which)
  std::vector<std::string> api_keys;    // empty: no key needed
  std::string cors_origin;              // "": no CORS headers
  size_t max_body_bytes = 8u << 20;     // larger request bodies get 413
  int http_threads = 2;                 // threads running the connections (I/O only)
  std::chrono::milliseconds drain_timeout{30000};   // SIGTERM: how long streams may finish
  std::chrono::milliseconds read_timeout{60000};    // a request (or an idle keep-alive) must arrive within
  std::chrono::milliseconds write_timeout{60000};   // a client must take each write within
  std::string version = "dev";          // for the Server header
  bool log_content = false;             // guard decision logs may quote the user's text
};

struct ModelInfo {
  std::string id;         // what GET /v1/models lists and requests name in "model"
  std::string path;       // what -m resolved to (also accepted as "model")
  int32_t n_vocab = 0;
  int64_t n_ctx = 0;      // most positions one sequence may use (prompt + answer)
  int64_t created = 0;    // unix seconds of loading
};

// A connection the server can close at shutdown (posts the close to its own strand).
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void close() = 0;
};

class ServerContext {
 public:
  enum class State { Loading, Ready, Draining };

  explicit ServerContext(ServerConfig config) : config_(std::move(config)) {}

  const ServerConfig& config() const { return config_; }
  State state() const { return state_.load(); }
  bool ready() const { return state() == State::Ready; }

  // The model is loaded: requests are taken from now on. Both objects outlive the server.
  void set_ready(Backend& backend, const PromptBuilder& builder, ModelInfo model);
  // Shutting down: new requests get 503 and the engine stops taking them.
  void set_draining();

  // Valid once ready (null before).
  Backend* backend() const { return backend_.load(); }
  const PromptBuilder* builder() const { return builder_.load(); }
  const ModelInfo& model() const { return model_; }

  // The content policy (null: no --policy). Swapped whole on SIGHUP; a request keeps the
  // Guard it started with.
  std::shared_ptr<const guard::Guard> guard() const {
    std::lock_guard lock(guard_mu_);
    return guard_;
  }
  void set_guard(std::shared_ptr<const guard::Guard> g) {
    std::lock_guard lock(guard_mu_);
    guard_ = std::move(g);
  }

  Metrics& metrics() { return metrics_; }
  // Folds a fresh engine snapshot into the metrics (no-op while loading).
  void refresh_metrics();
  EventPump& pump() { return pump_; }

  // True when no keys are configured or `authorization` is "Bearer <one of the keys>".
  bool authorized(std::string_view authorization) const;

  // ---- requests in flight: from submit until their last byte is written ----
  void generation_started(const std::shared_ptr<engine::RequestHandle>& handle);
  void generation_ended(const std::shared_ptr<engine::RequestHandle>& handle);
  size_t generations_in_flight() const;
  // Waits until none is in flight; false on timeout.
  bool wait_for_no_generations(std::chrono::milliseconds timeout);
  void cancel_all_generations();

  // ---- open connections ----
  void add_connection(const std::weak_ptr<Connection>& c);
  void close_all_connections();
  size_t open_connections();

 private:
  ServerConfig config_;
  std::atomic<State> state_{State::Loading};
  std::atomic<Backend*> backend_{nullptr};
  std::atomic<const PromptBuilder*> builder_{nullptr};
  ModelInfo model_;  // written once, before state_ becomes Ready
  Metrics metrics_;
  EventPump pump_;
  mutable std::mutex guard_mu_;
  std::shared_ptr<const guard::Guard> guard_;

  mutable std::mutex mu_;
  std::condition_variable no_generations_;
  std::set<std::shared_ptr<engine::RequestHandle>> generations_;
  std::vector<std::weak_ptr<Connection>> connections_;
};

}  // namespace hearth::server
