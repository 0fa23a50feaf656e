#include "server/server_context.h"

#include <algorithm>

namespace hearth::server {

void ServerContext::set_ready(Backend& backend, const PromptBuilder& builder, ModelInfo model) {
  model_ = std::move(model);
  backend_.store(&backend);
  builder_.store(&builder);
  State loading = State::Loading;
  state_.compare_exchange_strong(loading, State::Ready);  // not if shutdown already began
}

void ServerContext::set_draining() {
  state_.store(State::Draining);
  if (Backend* b = backend()) b->drain();
}

void ServerContext::refresh_metrics() {
  if (Backend* b = backend()) metrics_.fold(b->stats());
}

bool ServerContext::authorized(std::string_view authorization) const {
  if (config_.api_keys.empty()) return true;
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.substr(0, kBearer.size()) != kBearer) return false;
  const std::string_view given = authorization.substr(kBearer.size());
  bool match = false;
  for (const std::string& key : config_.api_keys) {
    // Compare every byte whatever the first difference, so timing does not reveal prefixes.
    unsigned diff = given.size() != key.size();
    for (size_t i = 0; i < key.size(); ++i)
      diff |= static_cast<unsigned char>(key[i]) ^
              static_cast<unsigned char>(i < given.size() ? given[i] : 0);
    match |= diff == 0;
  }
  return match;
}

void ServerContext::generation_started(const std::shared_ptr<engine::RequestHandle>& handle) {
  std::lock_guard lock(mu_);
  generations_.insert(handle);
}

void ServerContext::generation_ended(const std::shared_ptr<engine::RequestHandle>& handle) {
  std::lock_guard lock(mu_);
  generations_.erase(handle);
  if (generations_.empty()) no_generations_.notify_all();
}

size_t ServerContext::generations_in_flight() const {
  std::lock_guard lock(mu_);
  return generations_.size();
}

bool ServerContext::wait_for_no_generations(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return no_generations_.wait_for(lock, timeout, [&] { return generations_.empty(); });
}

void ServerContext::cancel_all_generations() {
  std::vector<std::shared_ptr<engine::RequestHandle>> all;
  {
    std::lock_guard lock(mu_);
    all.assign(generations_.begin(), generations_.end());
  }
  for (auto& h : all) h->cancel();
}

void ServerContext::add_connection(const std::weak_ptr<Connection>& c) {
  std::lock_guard lock(mu_);
  std::erase_if(connections_, [](const auto& w) { return w.expired(); });
  connections_.push_back(c);
}

void ServerContext::close_all_connections() {
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mu_);
    for (auto& w : connections_)
      if (auto c = w.lock()) open.push_back(std::move(c));
  }
  for (auto& c : open) c->close();
}

size_t ServerContext::open_connections() {
  std::lock_guard lock(mu_);
  std::erase_if(connections_, [](const auto& w) { return w.expired(); });
  return connections_.size();
}

}  // namespace hearth::server
