// The content policy on hostile bytes: policy files (TOML) must fail with hearth::Error or
// load; any text must go through normalization, every scanner, redaction and the streaming
// filter without a crash, and a stream the policy leaves alone must come out unchanged.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "guard/output_filter.h"

namespace {

using namespace hearth;

const guard::Guard& fixed_guard() {
  static const guard::Guard g(guard::parse_policy(R"(
[[rule]]
name = "p"
category = "confidential"
phrases = ["project nightingale", "x"]
regex = ['\bticket-\d+\b']
output = "block"
[pii]
output = "redact"
[injection]
output = "flag"
)", "fuzz.toml"));
  return g;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 4 == 0) {
    try {
      guard::Guard g(guard::parse_policy(text, "fuzz.toml"));
      (void)g.check("some text with project nightingale and a@b.io", guard::Direction::Input);
    } catch (const hearth::Error&) {
    }
    return 0;
  }
  const guard::Guard& g = fixed_guard();
  const guard::Decision d = g.check(text, guard::Direction::Input);
  (void)d;
  // Stream it in pieces of 1..8 bytes (from the first byte).
  auto shared = std::shared_ptr<const guard::Guard>(&g, [](const guard::Guard*) {});
  guard::OutputFilter filter(shared);
  const size_t step = 1 + data[0] % 8;
  std::string released;
  bool touched = false;
  auto take = [&](guard::OutputFilter::Result r) {
    for (const auto& item : r.new_items) touched |= item.action >= guard::Action::Redact;
    for (auto& e : r.events)
      if (e.kind == engine::Event::Kind::Delta) released += e.text;
  };
  for (size_t i = 0; i < text.size(); i += step) {
    engine::Event e;
    e.kind = engine::Event::Kind::Delta;
    e.text = text.substr(i, step);
    take(filter.on_event(std::move(e)));
  }
  engine::Event fin;
  fin.kind = engine::Event::Kind::Finished;
  take(filter.on_event(std::move(fin)));
  if (!touched && !filter.blocked() && released != text) __builtin_trap();
  return 0;
}
