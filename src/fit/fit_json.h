// `hearth fit --json`: the machine and the plans as JSON, for programs (field list in
// docs/fit.md).
#pragma once
#include <nlohmann/json.hpp>

#include "fit/hardware.h"
#include "fit/planner.h"

namespace hearth::fit {

nlohmann::json to_json(const Machine& machine);
nlohmann::json to_json(const Plan& plan);

}  // namespace hearth::fit
