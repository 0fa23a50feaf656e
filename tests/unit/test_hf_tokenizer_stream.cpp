// StreamDecoder on byte-level BPE, byte-fallback BPE and WordPiece tokenizers: text comes out
// as soon as it is final, never part of a UTF-8 character, and all of it together equals
// decode() of the same ids.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

using namespace hearth::tok;
using nlohmann::json;
using Ids = std::vector<int32_t>;

namespace {

// Byte-level tokens for the four bytes of 🦙 (F0 9F A6 99 -> ð Ł ¦ Ļ), "Ġ" and "a", and an
// added special token.
std::unique_ptr<Tokenizer> byte_level() {
  const json j = {{"model",
                   {{"type", "BPE"},
                    {"vocab",
                     {{"\xC3\xB0", 0}, {"\xC5\x81", 1}, {"\xC2\xA6", 2}, {"\xC4\xBB", 3},
                      {"\xC4\xA0", 4}, {"a", 5}, {"\xC4\xA0" "a", 6}}},
                    {"merges", json::array({"\xC4\xA0 a"})}}},
                  {"added_tokens", {{{"id", 7}, {"content", "<|end|>"}, {"special", true}}}},
                  {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
                  {"decoder", {{"type", "ByteLevel"}}}};
  return Tokenizer::from_hf_json(j, nullptr);
}

const std::string kLlama = "\xF0\x9F\xA6\x99";  // 🦙

std::string streamed(const Tokenizer& t, const Ids& ids, bool skip_special) {
  StreamDecoder s(t, skip_special);
  std::string out;
  for (int32_t id : ids) out += s.push(id);
  return out + s.flush();
}

const Tokenizer& real(const std::string& rel) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<Tokenizer>> loaded;
  std::lock_guard lock(mutex);
  auto& t = loaded[rel];
  if (!t) t = load_tokenizer(std::string(HEARTH_TESTDATA) + "/" + rel);
  return *t;
}

}  // namespace

TEST(HfStream, ByteLevelEmojiIsHeldBackUntilComplete) {
  auto t = byte_level();
  EXPECT_EQ(t->encode("a " + kLlama, false), (Ids{5, 4, 0, 1, 2, 3}));
  StreamDecoder s(*t);
  EXPECT_EQ(s.push(5), "a");
  EXPECT_EQ(s.push(4), " ");
  EXPECT_EQ(s.push(0), "");
  EXPECT_EQ(s.push(1), "");
  EXPECT_EQ(s.push(7), "");  // a skipped special token in the middle of the character
  EXPECT_EQ(s.push(2), "");
  EXPECT_EQ(s.push(3), kLlama);
  EXPECT_EQ(s.push(6), " a");
  EXPECT_EQ(s.flush(), "");
}

TEST(HfStream, ByteLevelBrokenCharacters) {
  auto t = byte_level();
  StreamDecoder s(*t);
  EXPECT_EQ(s.push(0), "");
  EXPECT_EQ(s.push(5), "\xEF\xBF\xBD" "a");  // F0 then 'a': cannot be completed any more
  EXPECT_EQ(s.push(1), "\xEF\xBF\xBD");      // a lone continuation byte: at once
  EXPECT_EQ(s.push(0), "");
  EXPECT_EQ(s.flush(), "\xEF\xBF\xBD");     // the stream ends inside a character
  EXPECT_EQ(s.push(6), " a");
}

TEST(HfStream, RandomByteLevelSequencesMatchDecode) {
  auto t = byte_level();
  std::mt19937 gen(7);
  std::uniform_int_distribution<int32_t> pick(0, 7);
  for (int trial = 0; trial < 400; ++trial) {
    Ids ids(1 + trial % 10);
    for (auto& id : ids) id = pick(gen);
    for (bool skip : {true, false}) {
      ASSERT_EQ(streamed(*t, ids, skip), t->decode(ids, skip)) << "trial " << trial;
    }
  }
}

// The tokenizer_expected texts (emoji with ZWJ, CJK, accents, special tokens ...) streamed
// through each real tokenizer, one id at a time.
class HfStreamReal : public ::testing::TestWithParam<std::string> {};

TEST_P(HfStreamReal, StreamedEqualsDecodeAndText) {
  const auto ref = json::parse(std::ifstream(std::string(HEARTH_TESTDATA) + "/tokenizer_expected/" +
                                             GetParam() + ".json"));
  const Tokenizer& t = real("tokenizers/" + GetParam());
  for (const auto& c : ref.at("cases")) {
    const auto ids = c.at("ids_with_special").get<Ids>();
    for (bool skip : {true, false}) {
      EXPECT_EQ(streamed(t, ids, skip), t.decode(ids, skip)) << c.at("id") << " skip=" << skip;
    }
    // Whatever is returned is whole characters: every chunk is valid UTF-8 by itself.
    StreamDecoder s(t);
    for (int32_t id : ids) {
      const std::string chunk = s.push(id);
      std::string valid;
      utf8::append_valid(chunk, valid, /*final=*/true);
      EXPECT_EQ(valid, chunk) << c.at("id");
      EXPECT_TRUE(chunk.find("\xEF\xBF\xBD") == std::string::npos) << c.at("id");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(TokenizerJson, HfStreamReal,
                         ::testing::Values("llama3", "qwen3", "mistral-7b-v0.1", "gemma3"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

// Random ids from the whole vocabulary (byte-level pieces of many characters, specials).
TEST(HfStream, RandomIdsOfRealTokenizersMatchDecode) {
  for (const char* rel : {"tokenizers/llama3", "tokenizers/mistral-7b-v0.1",
                          "vocab/ggml-vocab-bert-bge.gguf", "vocab/ggml-vocab-phi-3.gguf"}) {
    const Tokenizer& t = real(rel);
    std::mt19937 gen(11);
    std::uniform_int_distribution<int32_t> pick(0, t.n_vocab() - 1);
    for (int trial = 0; trial < 100; ++trial) {
      Ids ids(1 + trial % 16);
      for (auto& id : ids) id = pick(gen);
      for (bool skip : {true, false}) {
        ASSERT_EQ(streamed(t, ids, skip), t.decode(ids, skip)) << rel << " trial " << trial;
      }
    }
  }
}
