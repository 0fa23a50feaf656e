// StreamDecoder: incremental text for streamed tokens, on a small hand-built vocabulary.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"

using namespace hearth::tok;

namespace {

constexpr int32_t kBos = 1, kEos = 2;
constexpr int32_t byte_id(unsigned char b) { return 3 + b; }
constexpr int32_t kSpaceHi = 259, kYes = 260, kSpace = 261;

// <unk> <s> </s>, the 256 byte tokens, "▁hi", "yes", "▁".
std::unique_ptr<Tokenizer> byte_tokenizer() {
  Vocab v;
  v.tokens = {"<unk>", "<s>", "</s>"};
  v.types = {TokenType::Unknown, TokenType::Control, TokenType::Control};
  const char* hex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    v.tokens.push_back(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">");
    v.types.push_back(TokenType::Byte);
  }
  v.tokens.insert(v.tokens.end(), {"\xE2\x96\x81hi", "yes", "\xE2\x96\x81"});
  v.types.insert(v.types.end(), 3, TokenType::Normal);
  v.bos = kBos;
  v.eos = kEos;
  v.unk = 0;
  return Tokenizer::from_vocab(std::move(v));
}

const std::string kLlama = "\xF0\x9F\xA6\x99";  // 🦙 U+1F999
const std::string kReplacement = "\xEF\xBF\xBD";

}  // namespace

TEST(StreamDecoder, HoldsBackAFourByteEmojiUntilComplete) {
  auto t = byte_tokenizer();
  StreamDecoder s(*t);
  EXPECT_EQ(s.push(kSpaceHi), "hi");  // first token: the added space goes
  EXPECT_EQ(s.push(kSpace), " ");
  EXPECT_EQ(s.push(byte_id(0xF0)), "");
  EXPECT_EQ(s.push(byte_id(0x9F)), "");
  EXPECT_EQ(s.push(byte_id(0xA6)), "");
  EXPECT_EQ(s.push(byte_id(0x99)), kLlama);
  EXPECT_EQ(s.push(kSpaceHi), " hi");
  EXPECT_EQ(s.flush(), "");
}

TEST(StreamDecoder, EmojiRightAfterTextAndBeforeSpecialTokens) {
  auto t = byte_tokenizer();
  StreamDecoder s(*t);
  EXPECT_EQ(s.push(kYes), "yes");
  EXPECT_EQ(s.push(byte_id(0xF0)), "");
  EXPECT_EQ(s.push(byte_id(0x9F)), "");
  EXPECT_EQ(s.push(kEos), "");  // skipped special token: the emoji is still unfinished
  EXPECT_EQ(s.push(byte_id(0xA6)), "");
  EXPECT_EQ(s.push(byte_id(0x99)), kLlama);
}

TEST(StreamDecoder, BrokenSequencesBecomeReplacementCharacters) {
  auto t = byte_tokenizer();
  StreamDecoder s(*t);
  EXPECT_EQ(s.push(byte_id(0xF0)), "");
  EXPECT_EQ(s.push(byte_id(0x9F)), "");
  EXPECT_EQ(s.push(kYes), kReplacement + "yes");  // cannot be completed any more
  EXPECT_EQ(s.push(byte_id(0xFF)), kReplacement);  // never valid: emitted at once
  EXPECT_EQ(s.push(byte_id(0xE2)), "");
  EXPECT_EQ(s.flush(), kReplacement);  // end of stream inside a character
  EXPECT_EQ(s.push(kYes), "yes");      // and the stream goes on
}

TEST(StreamDecoder, FirstTokenSpaceRuleMatchesDecode) {
  auto t = byte_tokenizer();
  StreamDecoder after_bos(*t);
  EXPECT_EQ(after_bos.push(kBos), "");
  EXPECT_EQ(after_bos.push(kSpaceHi), " hi");  // as decode({bos, ▁hi}) in llama.cpp

  StreamDecoder visible(*t, /*skip_special=*/false);
  EXPECT_EQ(visible.push(kBos), "<s>");
  EXPECT_EQ(visible.push(kSpaceHi), " hi");
}

TEST(StreamDecoder, RejectsIdsOutsideTheVocabulary) {
  auto t = byte_tokenizer();
  StreamDecoder s(*t);
  EXPECT_THROW(s.push(262), hearth::Error);
  EXPECT_THROW(s.push(-1), hearth::Error);
  EXPECT_EQ(s.push(kSpaceHi), "hi");  // the failed pushes changed nothing
}

// Property: for any id sequence, streamed output == decode(all ids). Random sequences mostly
// of byte tokens exercise every way a UTF-8 character can be split, completed or broken.
TEST(StreamDecoder, StreamedTextEqualsDecodeForRandomSequences) {
  auto t = byte_tokenizer();
  std::mt19937 gen(2024);
  // Bytes that start, continue or end multi-byte characters, plus ASCII and normal tokens.
  const std::vector<int32_t> pool = {
      byte_id(0xF0), byte_id(0x9F), byte_id(0xA6), byte_id(0x99), byte_id(0xC3),
      byte_id(0xA9), byte_id(0xE2), byte_id(0x82), byte_id(0xAC), byte_id(0xED),
      byte_id(0xA0), byte_id(0xFF), byte_id(0x41), kSpaceHi, kYes, kSpace, kBos, kEos, 0};
  std::uniform_int_distribution<size_t> pick(0, pool.size() - 1);
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<int32_t> ids(1 + trial % 12);
    for (auto& id : ids) id = pool[pick(gen)];
    for (bool skip : {true, false}) {
      StreamDecoder s(*t, skip);
      std::string streamed;
      for (int32_t id : ids) streamed += s.push(id);
      streamed += s.flush();
      ASSERT_EQ(streamed, t->decode(ids, skip)) << "trial " << trial;
    }
  }
}
