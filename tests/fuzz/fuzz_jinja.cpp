// libFuzzer target: arbitrary bytes as a Jinja template, parsed and rendered with chat-like
// inputs and small limits. A TemplateError is the expected outcome for bad templates; a crash,
// sanitizer report, leak or hang is a bug in the engine. The first byte picks the sandbox
// (mutable lists make reference cycles possible, which must not leak).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "template/template.h"

namespace {

const nlohmann::ordered_json& inputs() {
  static const nlohmann::ordered_json vars = nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Hi \u00e9\ud83e\udd17 <b>&"},
      {"role": "assistant", "content": null, "tool_calls": [
        {"id": "call1", "type": "function", "function": {"name": "f", "arguments": {"a": [1, 2.5, true]}}}]},
      {"role": "tool", "content": "42"}
    ],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "documents": null,
    "add_generation_prompt": true,
    "bos_token": "<s>",
    "eos_token": "</s>"
  })");
  return vars;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  hearth::tmpl::Options options;
  options.allow_mutation = (data[0] & 1) != 0;
  options.max_recursion = 16;
  options.max_loop_iterations = 5000;
  options.max_output_bytes = 1 << 16;
  options.now = [] { return std::tm{}; };
  const std::string_view source(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    const auto t = hearth::tmpl::Template::parse(source, "fuzz.jinja", options);
    volatile size_t sink = t.render(inputs()).size();
    (void)sink;
  } catch (const hearth::tmpl::TemplateError&) {
  }
  return 0;
}
