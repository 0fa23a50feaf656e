// libFuzzer target: parse arbitrary bytes as a GGUF file. A hearth::Error is the expected
// outcome for malformed input; a crash, sanitizer report, leak, hang or huge allocation
// is a bug in the reader.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "io/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto f = hearth::io::GGUFFile::open_memory({data, size}, "fuzz.gguf");
    // Use the result the way a loader would, so out-of-range views show up under ASan.
    volatile size_t sink = 0;
    for (const auto& [key, value] : f.metadata()) {
      sink = sink + value.to_display_string(4).size();
      if (value.is_integer()) (void)f.find_float(key);
    }
    for (const auto& t : f.tensors()) {
      const auto* bytes = static_cast<const uint8_t*>(t.data);
      sink = sink + bytes[0] + bytes[t.nbytes - 1] + static_cast<size_t>(t.rows() * t.row_bytes());
    }
    (void)f.find_string("general.architecture");
  } catch (const hearth::Error&) {
  }
  return 0;
}
