// The pipeline steps of tokenizer.json one by one: normalizers, pre-tokenizers and decoders.
// Expected values are the examples of the Hugging Face tokenizers library's documentation
// and tests, or worked out by hand from the rule each step implements.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "tokenizer/decoders.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/utf8.h"

using namespace hearth::tok;
using Strings = std::vector<std::string>;

namespace {

const std::string kMeta = "\xE2\x96\x81";  // ▁

Strings pieces(const PreTokenizer& p, std::string_view text, bool at_start = true) {
  Strings out;
  p.pre_tokenize(text, at_start, [&](std::string_view piece, bool) { out.emplace_back(piece); });
  return out;
}

std::string normalized(const Normalizer& n, std::string_view text) {
  std::string out;
  n.normalize(text, out);
  return out;
}

Strings decoded(const Decoder& d, Strings tokens, bool text_start = true) {
  d.decode_chain(tokens, text_start);
  return tokens;
}

std::shared_ptr<const Regex> re(const char* pattern) { return std::make_shared<const Regex>(pattern); }

}  // namespace

// ---- normalizers ----

TEST(HfNormalizers, UnicodeForms) {
  const std::string composed = "caf\xC3\xA9";      // café, é = U+00E9
  const std::string decomposed = "cafe\xCC\x81";   // e + U+0301
  EXPECT_EQ(normalized(UnicodeNormalizer(unicode::Form::NFC), decomposed), composed);
  EXPECT_EQ(normalized(UnicodeNormalizer(unicode::Form::NFD), composed), decomposed);
  // Compatibility forms: the ligature ﬁ (U+FB01) becomes "fi", ① (U+2460) becomes "1".
  EXPECT_EQ(normalized(UnicodeNormalizer(unicode::Form::NFKC), "\xEF\xAC\x81 \xE2\x91\xA0"), "fi 1");
  EXPECT_EQ(normalized(UnicodeNormalizer(unicode::Form::NFC), "\xEF\xAC\x81"), "\xEF\xAC\x81");
  EXPECT_EQ(normalized(UnicodeNormalizer(unicode::Form::NFKD), "\xC3\xA9"), "e\xCC\x81");
  // A combining mark after an ideograph and after ASCII: composed only where a composite exists.
  EXPECT_EQ(normalized(UnicodeNormalizer(unicode::Form::NFC), "\xE4\xBD\xA0" "a\xCC\x8A"),
            "\xE4\xBD\xA0\xC3\xA5");  // 你 + å
  // Malformed bytes pass through untouched.
  EXPECT_EQ(normalized(UnicodeNormalizer(unicode::Form::NFC), "e\xCC\x81\xFF"), "\xC3\xA9\xFF");
}

TEST(HfNormalizers, LowercasePrependReplaceStrip) {
  // İ (U+0130) lowercases to i + U+0307, the one multi-character mapping.
  EXPECT_EQ(normalized(LowercaseNormalizer(), "HeLLo \xC3\x89T\xC3\x89 \xC4\xB0"),
            "hello \xC3\xA9t\xC3\xA9 i\xCC\x87");
  EXPECT_EQ(normalized(PrependNormalizer(kMeta), "hi"), kMeta + "hi");
  EXPECT_EQ(normalized(PrependNormalizer(kMeta), ""), "");  // nothing to prepend to
  EXPECT_EQ(normalized(ReplaceNormalizer(Pattern::literal(" "), kMeta), "a b  c"),
            "a" + kMeta + "b" + kMeta + kMeta + "c");
  EXPECT_EQ(normalized(ReplaceNormalizer(Pattern::regex(re(" {2,}")), " "), "a   b  c d"), "a b c d");
  EXPECT_EQ(normalized(ReplaceNormalizer(Pattern::literal(""), "x"), "abc"), "abc");
  // U+3000 (ideographic space) is whitespace; U+200B (zero width space) is not.
  EXPECT_EQ(normalized(StripNormalizer(true, true), " \t\xE3\x80\x80 hi there \n"), "hi there");
  EXPECT_EQ(normalized(StripNormalizer(true, false), "  hi  "), "hi  ");
  EXPECT_EQ(normalized(StripNormalizer(false, true), "  hi  "), "  hi");
  EXPECT_EQ(normalized(StripNormalizer(true, true), "\xE2\x80\x8Bhi"), "\xE2\x80\x8Bhi");
}

TEST(HfNormalizers, StripAccentsAndSequence) {
  std::vector<std::unique_ptr<Normalizer>> steps;
  steps.push_back(std::make_unique<UnicodeNormalizer>(unicode::Form::NFD));
  steps.push_back(std::make_unique<StripAccentsNormalizer>());
  steps.push_back(std::make_unique<LowercaseNormalizer>());
  const SequenceNormalizer seq(std::move(steps));
  EXPECT_EQ(normalized(seq, "\xC3\x89l\xC3\xA8ve na\xC3\xAFve"), "eleve naive");  // Élève naïve
  EXPECT_EQ(normalized(SequenceNormalizer({}), "Same"), "Same");
}

TEST(HfNormalizers, BertNormalizer) {
  const BertNormalizer bert(/*clean_text=*/true, /*handle_chinese_chars=*/true,
                            /*strip_accents=*/true, /*lowercase=*/true);
  // Control characters go, tabs and newlines become spaces, ideographs get spaces around.
  EXPECT_EQ(normalized(bert, "H\xC3\xA9llo\tW\x01orld\n\xE4\xBD\xA0\xE5\xA5\xBD!"),
            "hello world  \xE4\xBD\xA0  \xE5\xA5\xBD !");
  EXPECT_EQ(normalized(bert, std::string("a\0b\xEF\xBF\xBD" "c", 7)), "abc");
  const BertNormalizer cased(true, false, false, false);
  EXPECT_EQ(normalized(cased, "H\xC3\xA9llo \xE4\xBD\xA0"), "H\xC3\xA9llo \xE4\xBD\xA0");
}

// ---- pre-tokenizers ----

// The split behaviours on "the-final--countdown", from the HF library's documentation.
TEST(HfPreTokenizers, SplitBehaviors) {
  const char* text = "the-final--countdown";
  auto split = [&](SplitBehavior b) { return pieces(SplitPreTokenizer(Pattern::literal("-"), b), text); };
  EXPECT_EQ(split(SplitBehavior::Removed), (Strings{"the", "final", "countdown"}));
  EXPECT_EQ(split(SplitBehavior::Isolated), (Strings{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split(SplitBehavior::MergedWithPrevious), (Strings{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split(SplitBehavior::MergedWithNext), (Strings{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split(SplitBehavior::Contiguous), (Strings{"the", "-", "final", "--", "countdown"}));
  // Delimiters at both ends.
  EXPECT_EQ(pieces(SplitPreTokenizer(Pattern::literal("-"), SplitBehavior::MergedWithNext), "-a-"),
            (Strings{"-a", "-"}));
  EXPECT_EQ(pieces(SplitPreTokenizer(Pattern::literal("-"), SplitBehavior::MergedWithPrevious), "-a-"),
            (Strings{"-", "a-"}));
  // invert: the pattern matches what to keep; with Removed the rest goes.
  EXPECT_EQ(pieces(SplitPreTokenizer(Pattern::regex(re("\\d+")).inverted(), SplitBehavior::Removed),
                   "ab12cd345"),
            (Strings{"12", "345"}));
  EXPECT_TRUE(pieces(SplitPreTokenizer(Pattern::literal("-"), SplitBehavior::Removed), "").empty());
}

TEST(HfPreTokenizers, SplitKeepsStartOnlyOnTheFirstPiece) {
  std::vector<std::pair<std::string, bool>> out;
  SplitPreTokenizer(Pattern::literal(" "), SplitBehavior::Removed)
      .pre_tokenize(" a b", true, [&](std::string_view p, bool s) { out.emplace_back(p, s); });
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FALSE(out[0].second);  // "a" begins after the removed space
  EXPECT_FALSE(out[1].second);
}

TEST(HfPreTokenizers, ByteLevel) {
  // From the HF library's tests.
  EXPECT_EQ(pieces(ByteLevelPreTokenizer(false, true), "Hello my friend, how is your day going?"),
            (Strings{"Hello", "\xC4\xA0my", "\xC4\xA0" "friend", ",", "\xC4\xA0how", "\xC4\xA0is",
                     "\xC4\xA0your", "\xC4\xA0" "day", "\xC4\xA0going", "?"}));
  EXPECT_EQ(pieces(ByteLevelPreTokenizer(false, true), "Hello there\nHello there"),
            (Strings{"Hello", "\xC4\xA0there", "\xC4\x8A", "Hello", "\xC4\xA0there"}));
  // Seven spaces before a word: six stand alone, the last one goes with the word.
  const std::string g = "\xC4\xA0";  // Ġ
  EXPECT_EQ(pieces(ByteLevelPreTokenizer(false, true), "Hello there       dear"),
            (Strings{"Hello", g + "there", g + g + g + g + g + g, g + "dear"}));
  EXPECT_EQ(pieces(ByteLevelPreTokenizer(true, true), "Hello my")[0], "\xC4\xA0Hello");
  EXPECT_EQ(pieces(ByteLevelPreTokenizer(true, true), " Hello")[0], "\xC4\xA0Hello");  // no second space
  // Without the regex only the bytes are mapped: 🦙 = F0 9F A6 99 -> ð Ł ¦ Ļ.
  EXPECT_EQ(pieces(ByteLevelPreTokenizer(false, false), "a \xF0\x9F\xA6\x99"),
            (Strings{"a\xC4\xA0\xC3\xB0\xC5\x81\xC2\xA6\xC4\xBB"}));
}

TEST(HfPreTokenizers, ByteLevelTableIsGpt2s) {
  const auto& chars = byte_level_chars();
  EXPECT_EQ(chars['A'], "A");
  EXPECT_EQ(chars[' '], "\xC4\xA0");   // Ġ U+0120
  EXPECT_EQ(chars['\n'], "\xC4\x8A");  // Ċ U+010A
  EXPECT_EQ(chars[0], "\xC4\x80");     // U+0100
  EXPECT_EQ(chars[0xAD], "\xC5\x83");  // the last unprintable byte: U+0143
  for (int b = 0; b < 256; ++b) {
    size_t n = 0;
    EXPECT_EQ(byte_level_byte(utf8::decode_at(chars[b], 0, n)), b);
  }
  EXPECT_EQ(byte_level_byte(0x4E00), -1);
}

TEST(HfPreTokenizers, Metaspace) {
  const MetaspacePreTokenizer always(kMeta, PrependScheme::Always, true);
  EXPECT_EQ(pieces(always, "Hey friend!"), (Strings{kMeta + "Hey", kMeta + "friend!"}));
  EXPECT_EQ(pieces(always, "Hey   friend!"), (Strings{kMeta + "Hey", kMeta, kMeta, kMeta + "friend!"}));
  EXPECT_EQ(pieces(always, " Hey"), (Strings{kMeta + "Hey"}));  // already starts with ▁
  const MetaspacePreTokenizer first(kMeta, PrependScheme::First, false);
  EXPECT_EQ(pieces(first, "Hey friend", true), (Strings{kMeta + "Hey" + kMeta + "friend"}));
  EXPECT_EQ(pieces(first, "how are", false), (Strings{"how" + kMeta + "are"}));
  const MetaspacePreTokenizer never(kMeta, PrependScheme::Never, true);
  EXPECT_EQ(pieces(never, "Hey friend"), (Strings{"Hey", kMeta + "friend"}));
}

TEST(HfPreTokenizers, DigitsPunctuationWhitespaceBert) {
  EXPECT_EQ(pieces(DigitsPreTokenizer(true), "Hey 123 friend!"), (Strings{"Hey ", "1", "2", "3", " friend!"}));
  EXPECT_EQ(pieces(DigitsPreTokenizer(false), "Hey 123 friend!"), (Strings{"Hey ", "123", " friend!"}));
  EXPECT_EQ(pieces(PunctuationPreTokenizer(SplitBehavior::Isolated), "Hey friend!     How are you?!?"),
            (Strings{"Hey friend", "!", "     How are you", "?", "!", "?"}));
  EXPECT_EQ(pieces(WhitespacePreTokenizer(), "Hey man!"), (Strings{"Hey", "man", "!"}));
  EXPECT_EQ(pieces(WhitespacePreTokenizer(), "How are you doing?"), (Strings{"How", "are", "you", "doing", "?"}));
  EXPECT_TRUE(pieces(WhitespacePreTokenizer(), "\n").empty());
  EXPECT_EQ(pieces(WhitespaceSplitPreTokenizer(), "Hey man!\t ok"), (Strings{"Hey", "man!", "ok"}));
  EXPECT_EQ(pieces(BertPreTokenizer(), "Hey friend!     How are you?!?"),
            (Strings{"Hey", "friend", "!", "How", "are", "you", "?", "!", "?"}));
  // U+3002 (ideographic full stop) is punctuation.
  EXPECT_EQ(pieces(BertPreTokenizer(), "\xE4\xBD\xA0\xE3\x80\x82"), (Strings{"\xE4\xBD\xA0", "\xE3\x80\x82"}));
}

TEST(HfPreTokenizers, SequenceRunsEachStepOnEveryPiece) {
  std::vector<std::unique_ptr<PreTokenizer>> steps;
  steps.push_back(std::make_unique<WhitespaceSplitPreTokenizer>());
  steps.push_back(std::make_unique<DigitsPreTokenizer>(true));
  EXPECT_EQ(pieces(SequencePreTokenizer(std::move(steps)), "ab12 c3"), (Strings{"ab", "1", "2", "c", "3"}));
}

// ---- decoders ----

TEST(HfDecoders, ByteLevel) {
  EXPECT_EQ(decoded(ByteLevelDecoder(), {"Hello", "\xC4\xA0my", "\xC4\xA0" "friend", "\xC4\x8A"}),
            (Strings{"Hello my friend\n"}));
  // A token with characters outside the byte table (an added token) is kept as it is.
  EXPECT_EQ(decoded(ByteLevelDecoder(), {"Hello", "\xC4\xA0", "[PA D]", "\xE4\xBD\xA0"}),
            (Strings{"Hello [PA D]\xE4\xBD\xA0"}));
  // Bytes of one character spread over tokens come out raw, to be joined.
  EXPECT_EQ(decoded(ByteLevelDecoder(), {"\xC3\xB0\xC5\x81", "\xC2\xA6\xC4\xBB"}),
            (Strings{"\xF0\x9F\xA6\x99"}));
}

TEST(HfDecoders, MetaspaceByteFallbackFuseStrip) {
  const MetaspaceDecoder always(kMeta, PrependScheme::Always);
  EXPECT_EQ(decoded(always, {kMeta + "Hey", kMeta + "friend!"}), (Strings{"Hey", " friend!"}));
  EXPECT_EQ(decoded(always, {kMeta + kMeta + "a"}), (Strings{"a"}));  // every ▁ of the first token
  EXPECT_EQ(decoded(always, {kMeta + "Hey"}, /*text_start=*/false), (Strings{" Hey"}));
  EXPECT_EQ(decoded(MetaspaceDecoder(kMeta, PrependScheme::Never), {kMeta + "Hey", kMeta + "friend!"}),
            (Strings{" Hey", " friend!"}));

  EXPECT_EQ(decoded(ByteFallbackDecoder(), {"<0x41>", "<0x0A>", "<0xZZ>", "x", "<0xE4>"}),
            (Strings{"A", "\n", "<0xZZ>", "x", "\xE4"}));
  EXPECT_EQ(decoded(FuseDecoder(), {"a", " b", "c"}), (Strings{"a bc"}));
  EXPECT_EQ(decoded(StripDecoder(" ", 1, 0), {"  a ", " b"}), (Strings{" a ", "b"}));
  EXPECT_EQ(decoded(StripDecoder(" ", 1, 0), {" a"}, /*text_start=*/false), (Strings{" a"}));
  EXPECT_EQ(decoded(StripDecoder("x", 2, 3), {"xxxaxx", "x"}), (Strings{"xa", ""}));
  EXPECT_EQ(decoded(ReplaceDecoder(Pattern::literal(kMeta), " "), {kMeta + "a" + kMeta, "b"}),
            (Strings{" a ", "b"}));
}

TEST(HfDecoders, WordPieceAndBpeSuffix) {
  const WordPieceDecoder wp("##", true);
  EXPECT_EQ(decoded(wp, {"un", "##aff", "##able", ",", "it", "'", "s", "fine", "."}),
            (Strings{"un", "aff", "able", ",", " it", " '", " s", " fine", "."}));
  EXPECT_EQ(decoded(wp, {"do", "n't"}), (Strings{"do", "n't"}));
  EXPECT_EQ(decoded(wp, {"##ing"}), (Strings{"##ing"}));  // the first token keeps its prefix
  EXPECT_EQ(decoded(WordPieceDecoder("##", false), {"a", "."}), (Strings{"a", " ."}));
  EXPECT_EQ(decoded(BpeSuffixDecoder("</w>"), {"hel", "lo</w>", "there</w>"}),
            (Strings{"hel", "lo ", "there"}));
}

TEST(HfDecoders, Sequence) {
  std::vector<std::unique_ptr<Decoder>> steps;
  steps.push_back(std::make_unique<ReplaceDecoder>(Pattern::literal(kMeta), " "));
  steps.push_back(std::make_unique<ByteFallbackDecoder>());
  steps.push_back(std::make_unique<FuseDecoder>());
  steps.push_back(std::make_unique<StripDecoder>(" ", 1, 0));
  EXPECT_EQ(decoded(SequenceDecoder(std::move(steps)), {kMeta + "Hi", "<0x21>", kMeta + "x"}),
            (Strings{"Hi! x"}));
}
