// Reading JSON files (config.json, tokenizer.json, safetensors index files) with errors
// that name the file and the position of the problem.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace hearth::io {

// Throws hearth::Error "cannot open PATH: <strerror>" when the file cannot be read, and
// hearth::FormatError "PATH: invalid JSON: parse error at line L, column C: ..." when it
// is not valid JSON.
nlohmann::json read_json_file(const std::string& path);

// Parses JSON text; `source` names it in errors (a path, or "PATH (header)").
nlohmann::json parse_json(std::string_view text, const std::string& source);

}  // namespace hearth::io
