// The planner as the engine's gate: before `hearth run` loads a model it asks for the plan
// on this machine (CPU only: hearth has no GPU backend yet) and refuses a request that
// cannot fit, with the plan's numbers, instead of running out of memory halfway.
#pragma once
#include <cstdint>
#include <optional>
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
// kv_type: the CPU KV cache's element type (--kv-type); nullopt: the engine's default for
// the model's weights (models/model.h default_kv_type).
RunDecision plan_local_run(const std::string& model, int64_t requested_context, int64_t batch,
                           const Machine& machine, std::optional<kv::KVType> kv_type = std::nullopt);

// The server's KV cache is one pool of positions shared by all sequences.
struct ServeDecision {
  int64_t context_per_sequence = 0;  // most positions one sequence may use
  int64_t kv_tokens = 0;             // positions in the shared pool
  Plan plan;                         // the plan for the pool (context = kv_tokens)
};

// The serve default pool: max(kDefaultServeKvTokens, context per sequence).
inline constexpr int64_t kDefaultServeKvTokens = 16384;

// `hearth serve`'s gate, the same planner as plan_local_run. requested_context 0: the model's,
// at most kDefaultRunContext. requested_kv_tokens 0: the default pool, shrunk to what fits but
// never below one full context. Throws hearth::Error with the plan's numbers when even that
// does not fit, or when an explicit --kv-tokens / -c does not.
ServeDecision plan_local_serve(const std::string& model, int64_t requested_context,
                               int64_t requested_kv_tokens, int64_t batch, const Machine& machine,
                               std::optional<kv::KVType> kv_type = std::nullopt);

// "15.2 GiB" / "812 MiB": sizes for people.
std::string format_bytes(uint64_t bytes);

}  // namespace hearth::fit
