// The planner as the engine's gate: before `hearth run` loads a model it asks for the plan
// on this machine (CPU only: hearth has no GPU backend yet) and refuses a request that
// cannot fit, with the plan's numbers, instead of running out of memory halfway.
#pragma once
#include <cstdint>
#include <string>

#include "fit/hardware.h"
#include "fit/planner.h"

namespace hearth::fit {

// The context `hearth run` uses when none is asked for: the model's, at most this.
inline constexpr int64_t kDefaultRunContext = 4096;

struct RunDecision {
  int64_t context = 0;  // positions to allocate
  Plan plan;            // the plan at that context
};

// `model`: what `hearth run -m` got. requested_context 0: the largest context up to
// min(model max, kDefaultRunContext) that fits. Throws hearth::Error, one line with the
// plan's numbers and what to try instead, when the model does not fit at that context.
RunDecision plan_local_run(const std::string& model, int64_t requested_context, int64_t batch,
                           const Machine& machine);

// "15.2 GiB" / "812 MiB": sizes for people.
std::string format_bytes(uint64_t bytes);

}  // namespace hearth::fit
