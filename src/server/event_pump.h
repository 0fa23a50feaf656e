// Moves a request's events from the engine to its connection. RequestHandle::next() blocks,
// and the HTTP threads must never block, so every running request gets a thread of its own
// that waits on next() and hands each event to a callback (which posts it to the
// connection's strand). There are at most max_running + max_queue such threads: the engine
// refuses requests beyond that.
#pragma once
#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "engine/engine.h"

namespace hearth::server {

class EventPump {
 public:
  using Callback = std::function<void(engine::Event)>;

  EventPump() = default;
  ~EventPump();
  EventPump(const EventPump&) = delete;
  EventPump& operator=(const EventPump&) = delete;

  // Calls on_event with every event of `handle`, in order, on a new thread; the last call
  // carries the Finished or Error event. Finished threads are joined here, lazily.
  void start(std::shared_ptr<engine::RequestHandle> handle, Callback on_event);

  // Joins every thread. Pumps still waiting give up within a fraction of a second
  // (their connections are gone by then).
  void stop_and_join();

 private:
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> finished;
  };
  void reap_finished();  // mu_ held

  std::mutex mu_;
  std::list<Worker> workers_;
  std::shared_ptr<std::atomic<bool>> stopping_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace hearth::server
