// Error messages quote names and keys straight from model files, which may hold any bytes.
// one_line() keeps such a message on one printable line.
#pragma once
#include <fmt/format.h>

#include <string>
#include <string_view>

namespace hearth::io {

// Replaces control characters (newlines, tabs, ESC, DEL ...) with \xNN; other bytes,
// UTF-8 text included, pass through unchanged.
inline std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  return out;
}

}  // namespace hearth::io
