// What the server needs from the engine. In `hearth serve` it is engine::Engine itself
// (EngineBackend); tests of the HTTP layer put a scripted one in its place, so the protocol
// can be checked event by event without a model.
#pragma once
#include <memory>

#include "engine/engine.h"

namespace hearth::server {

class Backend {
 public:
  virtual ~Backend() = default;
  // Same contract as engine::Engine::submit: throws QueueFullError, RequestError, Error.
  virtual std::shared_ptr<engine::RequestHandle> submit(engine::RequestParams params) = 0;
  virtual engine::EngineStats stats() = 0;
  virtual void drain() = 0;
  virtual bool idle() = 0;
};

class EngineBackend final : public Backend {
 public:
  explicit EngineBackend(engine::Engine& engine) : engine_(engine) {}
  std::shared_ptr<engine::RequestHandle> submit(engine::RequestParams params) override {
    return engine_.submit(std::move(params));
  }
  engine::EngineStats stats() override { return engine_.stats(); }
  void drain() override { engine_.drain(); }
  bool idle() override { return engine_.idle(); }

 private:
  engine::Engine& engine_;
};

}  // namespace hearth::server
