#include "server/event_pump.h"

namespace hearth::server {

EventPump::~EventPump() { stop_and_join(); }

void EventPump::start(std::shared_ptr<engine::RequestHandle> handle, Callback on_event) {
  auto finished = std::make_shared<std::atomic<bool>>(false);
  std::thread t([handle = std::move(handle), on_event = std::move(on_event), finished,
                 stopping = stopping_] {
    // The timeout only bounds how long a stop request waits; events wake next() at once.
    while (!stopping->load()) {
      std::optional<engine::Event> event = handle->next(std::chrono::milliseconds(200));
      if (!event) {
        if (handle->done()) break;
        continue;
      }
      const bool last = event->kind != engine::Event::Kind::Delta;
      on_event(std::move(*event));
      if (last) break;
    }
    finished->store(true);
  });
  std::lock_guard lock(mu_);
  reap_finished();
  workers_.push_back({std::move(t), std::move(finished)});
}

void EventPump::reap_finished() {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->finished->load()) {
      it->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

void EventPump::stop_and_join() {
  stopping_->store(true);
  std::list<Worker> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (Worker& w : workers) w.thread.join();
}

}  // namespace hearth::server
