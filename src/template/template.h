// A Jinja2 template engine for Hugging Face chat templates: parses a template once and
// renders it with JSON inputs, byte-for-byte as Python's jinja2 does inside transformers
// (ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks, loopcontrols; tojson as
// json.dumps; raise_exception and strftime_now globals).
//
// Sandboxed: templates cannot touch files or the system, and every render is bounded in
// macro recursion, loop iterations and output size (Options).
//
// A Template does not change once parsed: render() may run on several threads at once, and
// copies share the parsed form.
#pragma once
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "template/error.h"

namespace hearth::tmpl {

struct Options {
  bool trim_blocks = true;    // drop the first newline after a block tag
  bool lstrip_blocks = true;  // drop spaces and tabs before a block tag at the start of a line
  int max_recursion = 64;                    // nested macro calls (and recursive loop calls)
  int64_t max_loop_iterations = 1'000'000;   // loop iterations per render, all loops together
  int64_t max_output_bytes = 16 << 20;       // output and any single string built while rendering
  std::function<std::tm()> now;              // strftime_now's clock; default: local time
  // false: HF's ImmutableSandboxedEnvironment: list.append, dict.update ... raise SecurityError.
  // true: jinja2's SandboxedEnvironment, where they work (llama.cpp's choice).
  bool allow_mutation = false;
};

struct CompiledTemplate;

class Template {
 public:
  // Throws TemplateError (kind Syntax) with the position of the problem.
  static Template parse(std::string_view source, std::string name = "template", Options options = {});

  // Renders with the given variables (a JSON object: render(**variables) in Python). Throws
  // TemplateError, or RaisedError when the template calls raise_exception(msg).
  std::string render(const nlohmann::ordered_json& variables) const;

  const std::string& name() const;
  const Options& options() const;

 private:
  explicit Template(std::shared_ptr<const CompiledTemplate> compiled);
  std::shared_ptr<const CompiledTemplate> compiled_;
};

}  // namespace hearth::tmpl
