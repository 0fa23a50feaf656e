// Fuzzes tokenizer.json loading and the pipelines it builds. Input: a tokenizer.json
// document, a NUL byte, then text. Checks: a document the loader does not accept fails with
// hearth::Error (never a crash, hang or other exception); an accepted one encodes the text
// (with and without special tokens), decodes the ids to valid UTF-8, and streams them.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

using namespace hearth::tok;

namespace {

bool valid_utf8(const std::string& s) {
  std::string out;
  hearth::tok::utf8::append_valid(s, out, /*final=*/true);
  return out == s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string_view document = input.substr(0, nul);
  const std::string_view text = nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);

  const nlohmann::json j = nlohmann::json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  std::unique_ptr<Tokenizer> t;
  try {
    t = Tokenizer::from_hf_json(j, nullptr);
  } catch (const hearth::Error&) {
    return 0;  // rejected with a message: fine
  }

  try {
    for (bool special : {true, false}) {
      const std::vector<int32_t> ids = t->encode(text, special, special);
      for (int32_t id : ids) {
        if (id < 0 || id >= t->n_vocab()) __builtin_trap();
      }
      for (bool skip : {true, false}) {
        const std::string decoded = t->decode(ids, skip);
        if (!valid_utf8(decoded)) __builtin_trap();
        StreamDecoder stream(*t, skip);
        std::string streamed;
        for (int32_t id : ids) streamed += stream.push(id);
        streamed += stream.flush();
        if (!valid_utf8(streamed)) __builtin_trap();
      }
    }
  } catch (const hearth::Error&) {
    // Encoding can refuse input (an unk_token missing from the vocabulary, a regex that
    // exceeds PCRE2's match limit); it must say so, not crash.
  }
  return 0;
}
