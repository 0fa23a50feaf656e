#include "io/json_file.h"

#include <string>

#include "core/error.h"
#include "io/mapped_file.h"

namespace hearth::io {

nlohmann::json parse_json(std::string_view text, const std::string& source) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    // Syntax errors (parse_error: "[json.exception.parse_error.101] parse error at line 1,
    // column 2: ...") and numbers out of range (out_of_range.406: "number overflow parsing
    // '1e999'"). The bracketed id means nothing to a person; the rest says where and what.
    std::string what = e.what();
    if (const auto close = what.find("] "); what.starts_with("[json.") && close != std::string::npos)
      what.erase(0, close + 2);
    fail_format("{}: invalid JSON: {}", source, what);
  }
}

nlohmann::json read_json_file(const std::string& path) {
  const auto file = MappedFile::open(path);
  const auto bytes = file.bytes();
  return parse_json(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                    path);
}

}  // namespace hearth::io
