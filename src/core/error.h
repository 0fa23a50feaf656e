// Errors that reach a person: one line that says what is wrong and, where we can tell,
// what to do next. Every layer throws hearth::Error; the CLI prints what() and exits non-zero.
#pragma once
#include <fmt/format.h>
#include <stdexcept>
#include <string>

namespace hearth {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Thrown for malformed model files (GGUF, safetensors, config.json): the message names the
// file and the offending field, tensor or offset.
class FormatError : public Error {
 public:
  using Error::Error;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(fmt::format(f, std::forward<Args>(args)...));
}

template <typename... Args>
[[noreturn]] void fail_format(fmt::format_string<Args...> f, Args&&... args) {
  throw FormatError(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace hearth
