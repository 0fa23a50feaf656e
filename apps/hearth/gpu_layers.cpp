#include "gpu_layers.h"

#include <cstdio>
#include <stdexcept>

#include "core/error.h"

namespace hearth::cli {

void check_gpu_layers(const std::string& value, bool given) {
  if (value == "auto") {
    if (given)
      std::fprintf(stderr, "note: --gpu-layers auto: hearth has no GPU backend yet, so the model "
                           "runs on the CPU\n");
    return;
  }
  size_t used = 0;
  long long n = -1;
  try {
    n = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || n < 0)
    fail("--gpu-layers {}: give auto or a number of layers (0 or more)", value);
  if (n > 0)
    std::fprintf(stderr, "note: --gpu-layers %lld: hearth has no GPU backend yet, so all layers "
                         "run on the CPU\n", n);
}

}  // namespace hearth::cli
