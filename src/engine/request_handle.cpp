#include "engine/engine.h"

namespace hearth::engine {

RequestHandle::RequestHandle(uint64_t id, std::function<void()> on_cancel)
    : id_(id), on_cancel_(std::move(on_cancel)) {}

std::optional<Event> RequestHandle::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (consumed_) return std::nullopt;
  if (!cv_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  if (e.kind != Event::Kind::Delta) consumed_ = true;
  return e;
}

void RequestHandle::cancel() {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    if (cancel_requested_ || ended_) return;
    cancel_requested_ = true;
    wake = std::move(on_cancel_);
  }
  // Outside the lock: the engine may be delivering to this handle while it wakes up.
  if (wake) wake();
}

bool RequestHandle::done() const {
  std::lock_guard lock(mu_);
  return consumed_;
}

void RequestHandle::deliver(Event event) {
  {
    std::lock_guard lock(mu_);
    if (ended_) return;
    if (event.kind != Event::Kind::Delta) ended_ = true;
    events_.push_back(std::move(event));
  }
  cv_.notify_all();
}

bool RequestHandle::cancel_requested() const {
  std::lock_guard lock(mu_);
  return cancel_requested_;
}

bool RequestHandle::ended() const {
  std::lock_guard lock(mu_);
  return ended_;
}

}  // namespace hearth::engine
