// The data files compiled into hearth (see cmake/HearthData.cmake): the model catalog
// (data/models.json) and the GPU table (data/gpus.json), as JSON text.
#pragma once
#include <string_view>

namespace hearth::fit {

std::string_view embedded_models_json();
std::string_view embedded_gpus_json();

}  // namespace hearth::fit
