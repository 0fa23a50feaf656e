// Tokenizer behaviour on a small hand-built SentencePiece vocabulary. Expected ids are worked
// out by hand from the BPE rule (merge the adjacent pair whose merged text is the token with
// the highest score; ties to the leftmost pair).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

using namespace hearth::tok;

namespace {

using Ids = std::vector<int32_t>;

// Ids of the hand-built vocabulary.
constexpr int32_t kUnk = 0, kBos = 1, kEos = 2;
constexpr int32_t byte_id(unsigned char b) { return 3 + b; }  // <0x00> .. <0xFF> at 3 .. 258
constexpr int32_t kSpace = 259, kA = 260, kB = 261, kC = 262, kAB = 263, kBC = 264,
                  kSpaceA = 265, kABC = 266, kSpaceB = 267, kUser = 268, kEnd = 269, kX = 270,
                  kXY = 271, kCA = 272;

Vocab hand_vocab(bool with_bytes = true) {
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
  for (int b = 0; b < 256; ++b) {
    add(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">", 0,
        with_bytes ? TokenType::Byte : TokenType::Unused);
  }
  add("\xE2\x96\x81", -1.0f, TokenType::Normal);  // ▁
  add("a", -2.0f, TokenType::Normal);
  add("b", -3.0f, TokenType::Normal);
  add("c", -4.0f, TokenType::Normal);
  add("ab", -0.5f, TokenType::Normal);
  add("bc", -0.2f, TokenType::Normal);
  add("\xE2\x96\x81" "a", -0.8f, TokenType::Normal);
  add("abc", -0.1f, TokenType::Normal);
  add("\xE2\x96\x81" "b", -0.9f, TokenType::Normal);
  add("<|user|>", 0, TokenType::UserDefined);
  add("<|end|>", 0, TokenType::Control);
  add("<x>", 0, TokenType::Control);
  add("<x><y>", 0, TokenType::Control);
  add("ca", -0.5f, TokenType::Normal);  // same score as "ab"
  v.bos = kBos;
  v.eos = kEos;
  v.unk = kUnk;
  return v;
}

std::unique_ptr<Tokenizer> hand_tokenizer() { return Tokenizer::from_vocab(hand_vocab()); }

}  // namespace

TEST(Tokenizer, HigherScoreMergesFirst) {
  auto t = hand_tokenizer();
  // "▁abc": bc (-0.2) beats ab (-0.5) and ▁a (-0.8); then a+bc = abc (-0.1); "▁abc" is no token.
  EXPECT_EQ(t->encode("abc", false), (Ids{kSpace, kABC}));
  EXPECT_EQ(t->encode("abc"), (Ids{kBos, kSpace, kABC}));
}

TEST(Tokenizer, EqualScoresMergeLeftmostPairFirst) {
  auto t = hand_tokenizer();
  // "▁cab": ca and ab both score -0.5; the leftmost (ca) wins, leaving b alone.
  EXPECT_EQ(t->encode("cab", false), (Ids{kSpace, kCA, kB}));
}

TEST(Tokenizer, SpacesBecomeSentencePieceSpaces) {
  auto t = hand_tokenizer();
  EXPECT_EQ(t->encode("a b", false), (Ids{kSpaceA, kSpaceB}));
  EXPECT_EQ(t->encode(" a", false), (Ids{kSpace, kSpaceA}));  // "▁▁a": ▁▁ is no token
  EXPECT_EQ(t->encode("c", false), (Ids{kSpace, kC}));
}

TEST(Tokenizer, EmptyTextHasNoTokens) {
  auto t = hand_tokenizer();
  EXPECT_TRUE(t->encode("", false).empty());
  EXPECT_EQ(t->encode(""), (Ids{kBos}));
}

TEST(Tokenizer, WithoutSpacePrefix) {
  Vocab v = hand_vocab();
  v.add_space_prefix = false;
  auto t = Tokenizer::from_vocab(std::move(v));
  EXPECT_EQ(t->encode("abc", false), (Ids{kABC}));
  EXPECT_EQ(t->decode(Ids{kSpaceA}), " a");  // nothing to strip when no space was added
}

TEST(Tokenizer, UnknownCharactersFallBackToBytes) {
  auto t = hand_tokenizer();
  // é = C3 A9; "▁é" is no token.
  EXPECT_EQ(t->encode("\xC3\xA9", false), (Ids{kSpace, byte_id(0xC3), byte_id(0xA9)}));
  // Malformed UTF-8: each stray byte on its own.
  EXPECT_EQ(t->encode("a\xFF", false), (Ids{kSpaceA, byte_id(0xFF)}));
}

TEST(Tokenizer, UnknownCharactersWithoutByteTokensBecomeUnk) {
  auto t = Tokenizer::from_vocab(hand_vocab(/*with_bytes=*/false));
  EXPECT_EQ(t->encode("a\xC3\xA9" "b", false), (Ids{kSpaceA, kUnk, kB}));

  Vocab no_unk = hand_vocab(false);
  no_unk.unk = -1;
  auto strict = Tokenizer::from_vocab(std::move(no_unk));
  EXPECT_THROW(strict->encode("\xC3\xA9", false), hearth::Error);
}

TEST(Tokenizer, ControlTokensOnlyWithParseSpecial) {
  auto t = hand_tokenizer();
  // Each text fragment after a special token gets its own space prefix (as llama.cpp).
  EXPECT_EQ(t->encode("a<|end|>b", false, true), (Ids{kSpaceA, kEnd, kSpaceB}));
  EXPECT_EQ(t->encode("<s>a", false, true), (Ids{kBos, kSpaceA}));
  EXPECT_EQ(t->encode("a<|end|>b", false, false),
            (Ids{kSpaceA, byte_id('<'), byte_id('|'), byte_id('e'), byte_id('n'), byte_id('d'),
                 byte_id('|'), byte_id('>'), kB}));
}

TEST(Tokenizer, UserDefinedTokensAlwaysMatch) {
  auto t = hand_tokenizer();
  EXPECT_EQ(t->encode("a<|user|>", false, false), (Ids{kSpaceA, kUser}));
  EXPECT_EQ(t->encode("<|user|><|user|>", false, true), (Ids{kUser, kUser}));
}

TEST(Tokenizer, LongestSpecialTokenWins) {
  auto t = hand_tokenizer();
  EXPECT_EQ(t->encode("<x><y>", false), (Ids{kXY}));
  EXPECT_EQ(t->encode("<x>", false), (Ids{kX}));
  EXPECT_EQ(t->encode("<x><x><y>", false), (Ids{kX, kXY}));
}

TEST(Tokenizer, AddsEosWhenAsked) {
  Vocab v = hand_vocab();
  v.add_bos = false;
  v.add_eos = true;
  auto t = Tokenizer::from_vocab(std::move(v));
  EXPECT_EQ(t->encode("abc"), (Ids{kSpace, kABC, kEos}));
}

TEST(Tokenizer, DecodeStripsTheAddedSpaceOfTheFirstToken) {
  auto t = hand_tokenizer();
  EXPECT_EQ(t->decode(Ids{kSpace, kABC}), "abc");
  EXPECT_EQ(t->decode(Ids{kSpaceA, kSpaceB}), "a b");
  // llama.cpp: a leading BOS is the first token, so the text after it keeps its space.
  EXPECT_EQ(t->decode(Ids{kBos, kSpaceA}), " a");
  EXPECT_EQ(t->decode(Ids{kBos, kSpaceA}, false), "<s> a");
  EXPECT_EQ(t->decode(Ids{}), "");
}

TEST(Tokenizer, DecodeSpecialAndByteTokens) {
  auto t = hand_tokenizer();
  EXPECT_EQ(t->decode(Ids{kSpaceA, kEnd, kEos}), "a");
  EXPECT_EQ(t->decode(Ids{kSpaceA, kEnd, kEos}, false), "a<|end|></s>");
  EXPECT_EQ(t->decode(Ids{kSpaceA, kUser}), "a<|user|>");  // user-defined: always verbatim
  EXPECT_EQ(t->decode(Ids{kUnk}), "");
  EXPECT_EQ(t->decode(Ids{kUnk}, false), "<unk>");
  EXPECT_EQ(t->decode(Ids{byte_id(0xC3), byte_id(0xA9)}), "\xC3\xA9");
  // A character cut short or a stray byte becomes U+FFFD: decode always returns valid UTF-8.
  EXPECT_EQ(t->decode(Ids{byte_id(0xC3), kA}), "\xEF\xBF\xBD" "a");
  EXPECT_EQ(t->decode(Ids{kA, byte_id(0xF0), byte_id(0x9F)}), "a\xEF\xBF\xBD");
}

TEST(Tokenizer, RoundTrips) {
  auto t = hand_tokenizer();
  for (std::string text : {"abc", "a bc  cab", "x\xC3\xA9y z", "\xF0\x9F\xA6\x99 ab"}) {
    EXPECT_EQ(t->decode(t->encode(text, false)), text);
    EXPECT_EQ(t->decode(t->encode(text, true)), " " + text);  // BOS first: space kept
  }
}

TEST(Tokenizer, RejectsBadIds) {
  auto t = hand_tokenizer();
  EXPECT_THROW(t->decode(Ids{kA, 5000}), hearth::Error);
  EXPECT_THROW(t->decode(Ids{-1}), hearth::Error);
  EXPECT_THROW(t->token_piece(273), hearth::Error);
  EXPECT_FALSE(t->is_special(-3));
  EXPECT_FALSE(t->is_end_of_generation(99999));
}

TEST(Tokenizer, Accessors) {
  auto t = hand_tokenizer();
  EXPECT_EQ(t->n_vocab(), 273);
  EXPECT_EQ(t->bos(), kBos);
  EXPECT_EQ(t->eos(), kEos);
  EXPECT_EQ(t->token_piece(kSpaceA), "\xE2\x96\x81" "a");
  EXPECT_EQ(t->token_piece(byte_id(0x0A)), "<0x0A>");
  EXPECT_TRUE(t->is_special(kBos));
  EXPECT_TRUE(t->is_special(kUnk));
  EXPECT_FALSE(t->is_special(kUser));
  EXPECT_FALSE(t->is_special(kSpaceA));
  EXPECT_TRUE(t->is_end_of_generation(kEos));
  EXPECT_TRUE(t->is_end_of_generation(kEnd));  // chat end-of-turn marker
  EXPECT_FALSE(t->is_end_of_generation(kBos));
}

TEST(Tokenizer, UserDefinedEndOfTurnMarkerBecomesControl) {
  Vocab v = hand_vocab();
  v.tokens.push_back("<|im_end|>");
  v.scores.push_back(0);
  v.types.push_back(TokenType::UserDefined);
  auto t = Tokenizer::from_vocab(std::move(v));
  EXPECT_TRUE(t->is_end_of_generation(273));
  EXPECT_TRUE(t->is_special(273));
  EXPECT_EQ(t->decode(Ids{kSpaceA, 273}), "a");
}

TEST(Tokenizer, RejectsBadVocabularies) {
  Vocab gpt2 = hand_vocab();
  gpt2.model = "gpt2";
  try {
    Tokenizer::from_vocab(gpt2);
    FAIL() << "expected an error";
  } catch (const hearth::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'gpt2'"), std::string::npos) << e.what();
  }

  Vocab empty;
  EXPECT_THROW(Tokenizer::from_vocab(empty), hearth::Error);

  Vocab short_scores = hand_vocab();
  short_scores.scores.pop_back();
  EXPECT_THROW(Tokenizer::from_vocab(short_scores), hearth::Error);

  Vocab bad_eos = hand_vocab();
  bad_eos.eos = 273;
  EXPECT_THROW(Tokenizer::from_vocab(bad_eos), hearth::Error);

  Vocab no_bos = hand_vocab();
  no_bos.bos = -1;
  EXPECT_THROW(Tokenizer::from_vocab(no_bos), hearth::Error);  // add_bos is set

  Vocab bad_byte = hand_vocab();
  bad_byte.tokens[byte_id(0x41)] = "<0xZZ>";
  EXPECT_THROW(Tokenizer::from_vocab(bad_byte), hearth::Error);
}

TEST(Tokenizer, DefaultsForMissingScoresAndTypes) {
  Vocab v;
  v.tokens = {"<s>", "\xE2\x96\x81", "x", "\xE2\x96\x81x"};
  v.bos = 0;
  auto t = Tokenizer::from_vocab(std::move(v));  // no scores, no types: all Normal, score 0
  EXPECT_EQ(t->encode("x x", false), (Ids{3, 3}));
}
