// libFuzzer target: parse arbitrary bytes as a safetensors file. A hearth::Error is the
// expected outcome for malformed input; anything else (crash, sanitizer report, leak,
// hang, huge allocation, other exception) is a bug in the reader.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto f = hearth::io::SafetensorsFile::parse({data, size}, "fuzz.safetensors");
    volatile size_t sink = f.metadata().size();
    for (const auto& t : f.tensors()) {
      if (t.nbytes == 0) continue;
      const auto* bytes = static_cast<const uint8_t*>(t.data);
      sink = sink + bytes[0] + bytes[t.nbytes - 1] + static_cast<size_t>(t.numel());
    }
  } catch (const hearth::Error&) {
  }
  return 0;
}
