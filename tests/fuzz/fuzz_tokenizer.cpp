// Fuzzes the SentencePiece tokenizer and the StreamDecoder with arbitrary bytes as text and
// as token ids. Checks: nothing crashes; decode(encode(text)) gives back the text (as valid
// UTF-8, and with any U+2581 '▁' of its own turned into a space, as SentencePiece does) when
// special tokens are not parsed; streaming decode equals whole decode.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

using namespace hearth::tok;

namespace {

const Tokenizer& tokenizer() {
  static const std::unique_ptr<Tokenizer> t = [] {
    Vocab v;
    auto add = [&](std::string text, float score, TokenType type) {
      v.tokens.push_back(std::move(text));
      v.scores.push_back(score);
      v.types.push_back(type);
    };
    add("<unk>", 0, TokenType::Unknown);
    add("<s>", 0, TokenType::Control);
    add("</s>", 0, TokenType::Control);
    const char* hex = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) add(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">", 0, TokenType::Byte);
    const char* pieces[] = {"\xE2\x96\x81", "a", "b", "ab", "ba", "\xE2\x96\x81" "a", "aa", "aab",
                            "\xC3\xA9", "\xE2\x96\x81\xE2\x96\x81", "<", "s", ">", "<s"};
    float score = -1.0f;
    for (const char* p : pieces) add(p, score -= 0.25f, TokenType::Normal);
    add("<|end|>", 0, TokenType::Control);
    add("ab", -0.1f, TokenType::Normal);  // a duplicate text must not confuse anything
    v.bos = 1;
    v.eos = 2;
    v.unk = 0;
    return Tokenizer::from_vocab(std::move(v));
  }();
  return *t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Tokenizer& t = tokenizer();
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const std::vector<int32_t> plain = t.encode(text, false, false);
  std::string valid;
  utf8::append_valid(text, valid, true);
  std::string expected;
  for (size_t i = 0; i < valid.size();) {
    if (valid.compare(i, 3, "\xE2\x96\x81") == 0) {
      expected += ' ';
      i += 3;
    } else {
      expected += valid[i++];
    }
  }
  if (t.decode(plain) != expected) __builtin_trap();
  (void)t.encode(text, true, true);

  // The same bytes read as token ids.
  std::vector<int32_t> ids;
  for (size_t i = 0; i + 1 < size; i += 2) ids.push_back((data[i] | data[i + 1] << 8) % t.n_vocab());
  for (bool skip : {true, false}) {
    StreamDecoder stream(t, skip);
    std::string streamed;
    for (int32_t id : ids) streamed += stream.push(id);
    streamed += stream.flush();
    if (streamed != t.decode(ids, skip)) __builtin_trap();
  }
  return 0;
}
