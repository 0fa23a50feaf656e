// Tokenizers built from small hand-written tokenizer.json documents: the models (BPE,
// Unigram, WordPiece) and their options, added tokens, post-processors, tokenizer_config
// overrides, loading from files (plain and gzipped), and errors for what is not supported.
// Expected ids are worked out by hand from each model's rule (stated next to each case).
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

using namespace hearth::tok;
using nlohmann::json;
using Ids = std::vector<int32_t>;

namespace {

const std::string kG = "\xC4\xA0";  // Ġ, the byte-level space

// Byte-level BPE over a, b, c and Ġ. Merge ranks: a+b 0, Ġ+a 1, b+c 2, ab+c 3, Ġa+b 4, a+a 5.
json byte_level_bpe(json merges = json()) {
  if (merges.is_null()) {
    merges = json::array({"a b", kG + " a", "b c", "ab c", kG + "a b", "a a"});
  }
  return {{"model",
           {{"type", "BPE"},
            {"vocab",
             {{"a", 0}, {"b", 1}, {"c", 2}, {kG, 3}, {"ab", 4}, {"bc", 5}, {kG + "a", 6},
              {"abc", 7}, {kG + "ab", 8}, {"aa", 9}, {"cab", 10}}},
            {"merges", merges}}},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
          {"decoder", {{"type", "ByteLevel"}}}};
}

std::unique_ptr<Tokenizer> make(const json& j, const json* config = nullptr) {
  return Tokenizer::from_hf_json(j, config);
}

// The error message of building `j`, or "" if it builds.
std::string build_error(const json& j) {
  try {
    make(j);
  } catch (const hearth::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(HfBpe, LowestRankMergesFirst) {
  auto t = make(byte_level_bpe());
  // a+b (0) before b+c (2), then ab+c (3).
  EXPECT_EQ(t->encode("abc", false), (Ids{7}));
  EXPECT_EQ(t->encode("bc", false), (Ids{5}));
  // "Ġab": a+b (rank 0) beats Ġ+a (rank 1) although Ġa+b would give the token Ġab;
  // Ġ+ab is no merge.
  EXPECT_EQ(t->encode(" ab", false), (Ids{3, 4}));
  // Equal ranks: the leftmost pair merges first, "aaa" -> aa + a.
  EXPECT_EQ(t->encode("aaa", false), (Ids{9, 0}));
  EXPECT_EQ(t->decode(Ids{7, 3, 4}), "abc ab");
}

TEST(HfBpe, MergesAsPairsEqualMergesAsStrings) {
  json merges = json::array();
  for (const auto& [a, b] : std::vector<std::pair<std::string, std::string>>{
           {"a", "b"}, {kG, "a"}, {"b", "c"}, {"ab", "c"}, {kG + "a", "b"}, {"a", "a"}}) {
    merges.push_back(json::array({a, b}));
  }
  auto pairs = make(byte_level_bpe(merges));
  for (const char* text : {"abc", " ab", "aaa", "cab bca"}) {
    EXPECT_EQ(pairs->encode(text, false), make(byte_level_bpe())->encode(text, false)) << text;
  }
}

TEST(HfBpe, IgnoreMerges) {
  json j = byte_level_bpe();
  EXPECT_EQ(make(j)->encode("cab", false), (Ids{2, 4}));  // c + ab
  j["model"]["ignore_merges"] = true;
  EXPECT_EQ(make(j)->encode("cab", false), (Ids{10}));  // the piece is a token
}

TEST(HfBpe, SubwordPrefixAndWordSuffix) {
  const json prefix = {{"model",
                        {{"type", "BPE"},
                         {"vocab", {{"a", 0}, {"##b", 1}, {"##c", 2}, {"ab", 3}, {"abc", 4}, {"b", 5}}},
                         {"merges", json::array({json::array({"a", "##b"}), json::array({"ab", "##c"})})},
                         {"continuing_subword_prefix", "##"}}},
                       {"pre_tokenizer", {{"type", "WhitespaceSplit"}}}};
  auto t = make(prefix);
  EXPECT_EQ(t->encode("abc ab b", false), (Ids{4, 3, 5}));
  EXPECT_EQ(t->encode("ba", false), (Ids{5}));  // "##a" is no token and there is no unk: dropped

  const json suffix = {{"model",
                        {{"type", "BPE"},
                         {"vocab", {{"a", 0}, {"b</w>", 1}, {"ab</w>", 2}, {"b", 3}}},
                         {"merges", json::array({"a b</w>"})},
                         {"end_of_word_suffix", "</w>"}}},
                       {"pre_tokenizer", {{"type", "WhitespaceSplit"}}},
                       {"decoder", {{"type", "BPEDecoder"}, {"suffix", "</w>"}}}};
  auto s = make(suffix);
  EXPECT_EQ(s->encode("ab b", false), (Ids{2, 1}));
  EXPECT_EQ(s->decode(Ids{2, 1}), "ab b");
}

TEST(HfBpe, ByteFallbackUnknownAndFusedUnknown) {
  json j = {{"model",
             {{"type", "BPE"},
              {"vocab", {{"<unk>", 0}, {"<0xC3>", 1}, {"<0xA9>", 2}, {"a", 3}}},
              {"merges", json::array()},
              {"unk_token", "<unk>"},
              {"byte_fallback", true}}},
            {"decoder", {{"type", "ByteFallback"}}}};
  auto t = make(j);
  EXPECT_EQ(t->encode("a\xC3\xA9", false), (Ids{3, 1, 2}));  // é has no token: its bytes
  EXPECT_EQ(t->encode("xy", false), (Ids{0, 0}));             // no <0x78>: unk per character
  EXPECT_EQ(t->decode(Ids{3, 1, 2}), "a\xC3\xA9");
  j["model"]["fuse_unk"] = true;
  EXPECT_EQ(make(j)->encode("xya", false), (Ids{0, 3}));      // unknowns fused into one
  j["model"].erase("unk_token");
  EXPECT_EQ(make(j)->encode("xay", false), (Ids{3}));         // nothing to stand for them: dropped
}

TEST(HfUnigram, ViterbiPicksTheBestSegmentation) {
  // The example of the HF library's documentation.
  json j = {{"model",
             {{"type", "Unigram"},
              {"unk_id", 0},
              {"vocab", json::array()}}}};
  for (const auto& [piece, score] : std::vector<std::pair<std::string, double>>{
           {"<unk>", 0}, {"a", 0}, {"b", 0}, {"c", 0}, {"d", 0}, {"cd", 1}, {"ab", 2}, {"abc", 5}, {"abcd", 10}}) {
    j["model"]["vocab"].push_back(json::array({piece, score}));
  }
  auto t = make(j);
  // abcd (10) + a (0) + cd (1) + the unknown "xx" fused into one unk.
  EXPECT_EQ(t->encode("abcdacdxx", false), (Ids{8, 1, 5, 0}));
  // "abc"+"d" scores 5, "ab"+"cd" 3, "abcd" 10.
  EXPECT_EQ(t->encode("abcd", false), (Ids{8}));
  EXPECT_EQ(t->encode("cdab", false), (Ids{5, 6}));

  j["model"]["byte_fallback"] = true;
  j["model"]["vocab"].push_back(json::array({"<0x78>", 0.0}));
  EXPECT_EQ(make(j)->encode("axx", false), (Ids{1, 9, 9}));  // the unknown stretch as bytes

  j["model"]["unk_id"] = nullptr;
  j["model"]["byte_fallback"] = false;
  EXPECT_THROW(make(j)->encode("q", false), hearth::Error);
}

TEST(HfWordPiece, GreedyLongestPieces) {
  json j = {{"model",
             {{"type", "WordPiece"},
              {"unk_token", "[UNK]"},
              {"continuing_subword_prefix", "##"},
              {"max_input_chars_per_word", 100},
              {"vocab", {{"[UNK]", 0}, {"un", 1}, {"##aff", 2}, {"##able", 3}, {"a", 4}, {"##b", 5}, {"aff", 6}}}}},
            {"pre_tokenizer", {{"type", "WhitespaceSplit"}}},
            {"decoder", {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}}};
  auto t = make(j);
  EXPECT_EQ(t->encode("unaffable xyz ab", false), (Ids{1, 2, 3, 0, 4, 5}));
  EXPECT_EQ(t->encode("abx", false), (Ids{0}));  // "##x" missing: the whole word is unknown
  EXPECT_EQ(t->decode(Ids{1, 2, 3, 4, 5}), "unaffable ab");
  j["model"]["max_input_chars_per_word"] = 5;
  EXPECT_EQ(make(j)->encode("unaffable ab", false), (Ids{0, 4, 5}));
}

namespace {

// Characters a, b and space as tokens 0-2, and added tokens from 20 up.
json with_added(json added, json normalizer = json()) {
  return {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {" ", 2}}}, {"merges", json::array()}}},
          {"normalizer", normalizer},
          {"added_tokens", added}};
}

json added(int id, const std::string& content, bool special, json extra = json::object()) {
  json a = {{"id", id}, {"content", content}, {"special", special}, {"normalized", false}};
  for (auto& [k, v] : extra.items()) a[k] = v;
  return a;
}

}  // namespace

TEST(HfAddedTokens, SpecialTokensOnlyWhenParsed) {
  auto t = make(with_added({added(20, "<|end|>", true)}));
  EXPECT_EQ(t->encode("a<|end|>b", false, true), (Ids{0, 20, 1}));
  EXPECT_EQ(t->encode("a<|end|>b", false, false), (Ids{0, 1}));  // '<', '|' ... have no tokens
  EXPECT_TRUE(t->is_special(20));
  EXPECT_TRUE(t->is_end_of_generation(20));
  EXPECT_EQ(t->decode(Ids{0, 20, 1}), "a b");   // no decoder: tokens joined with spaces
  EXPECT_EQ(t->decode(Ids{0, 20, 1}, false), "a <|end|> b");
}

TEST(HfAddedTokens, LeftmostLongestMatch) {
  auto t = make(with_added({added(20, "<x>", false), added(21, "<x><y>", false), added(22, "b<x", false)}));
  EXPECT_EQ(t->encode("<x><x><y>", false), (Ids{20, 21}));
  // At "b<x><y>" the match starting first wins even though a longer one starts later.
  EXPECT_EQ(t->encode("ab<x><y>", false), (Ids{0, 22}));
}

TEST(HfAddedTokens, StripAndSingleWord) {
  const json mask = added(20, "<mask>", false, {{"lstrip", true}, {"rstrip", true}});
  auto t = make(with_added({mask}));
  EXPECT_EQ(t->encode("a  <mask> b", false), (Ids{0, 20, 1}));  // the spaces around go with it
  auto plain = make(with_added({added(20, "<mask>", false)}));
  EXPECT_EQ(plain->encode("a <mask> b", false), (Ids{0, 2, 20, 2, 1}));

  auto word = make(with_added({added(20, "ab", false, {{"single_word", true}})}));
  EXPECT_EQ(word->encode("ab ab", false), (Ids{20, 2, 20}));
  EXPECT_EQ(word->encode("aab", false), (Ids{0, 0, 1}));  // inside a word: not the token
}

TEST(HfAddedTokens, NormalizedTokensMatchTheNormalizedText) {
  json tok = added(20, "ab", false);
  tok["normalized"] = true;
  auto t = make(with_added({tok}, {{"type", "Lowercase"}}));
  EXPECT_EQ(t->encode("AB ab", false), (Ids{20, 2, 20}));
}

TEST(HfPostProcessors, TemplateBertRobertaSequence) {
  json j = byte_level_bpe();
  j["post_processor"] = {{"type", "TemplateProcessing"},
                         {"single",
                          {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                           {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                           {{"SpecialToken", {{"id", "</s>"}, {"type_id", 0}}}}}},
                         {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {9, 10}}}}, {"</s>", {{"id", "</s>"}, {"ids", {3}}}}}}};
  EXPECT_EQ(make(j)->encode("bc"), (Ids{9, 10, 5, 3}));
  EXPECT_EQ(make(j)->encode("bc", false), (Ids{5}));

  j["post_processor"] = {{"type", "BertProcessing"}, {"sep", {"[SEP]", 1}}, {"cls", {"[CLS]", 0}}};
  EXPECT_EQ(make(j)->encode("bc"), (Ids{0, 5, 1}));
  j["post_processor"] = {{"type", "RobertaProcessing"}, {"sep", {"</s>", 2}}, {"cls", {"<s>", 4}}};
  EXPECT_EQ(make(j)->encode("bc"), (Ids{4, 5, 2}));
  j["post_processor"] = {{"type", "Sequence"},
                         {"processors",
                          {{{"type", "ByteLevel"}},
                           {{"type", "BertProcessing"}, {"sep", {"[SEP]", 1}}, {"cls", {"[CLS]", 0}}}}}};
  EXPECT_EQ(make(j)->encode("bc"), (Ids{0, 5, 1}));

  j["post_processor"] = {{"type", "BertProcessing"}, {"sep", {"[SEP]", 99}}, {"cls", {"[CLS]", 0}}};
  EXPECT_NE(build_error(j).find("99"), std::string::npos);  // an id outside the vocabulary
}

TEST(HfConfig, SpecialTokensTemplateAndAddFlags) {
  json j = byte_level_bpe();
  j["added_tokens"] = {added(11, "<s>", true), added(12, "</s>", true)};
  const json config = {{"bos_token", {{"content", "<s>"}, {"lstrip", false}}},
                       {"eos_token", "</s>"},
                       {"add_bos_token", true},
                       {"add_eos_token", true},
                       {"chat_template", {{{"name", "tool_use"}, {"template", "T"}}, {{"name", "default"}, {"template", "D"}}}}};
  auto t = make(j, &config);
  EXPECT_EQ(t->bos(), 11);
  EXPECT_EQ(t->eos(), 12);
  EXPECT_EQ(t->encode("bc"), (Ids{11, 5, 12}));
  EXPECT_EQ(t->chat_template(), "D");
  EXPECT_TRUE(t->is_end_of_generation(12));

  // add_bos_token: false replaces a post-processor that added BOS.
  j["post_processor"] = {{"type", "BertProcessing"}, {"sep", {"</s>", 12}}, {"cls", {"<s>", 11}}};
  const json no_bos = {{"bos_token", "<s>"}, {"add_bos_token", false}, {"chat_template", "{{ x }}"}};
  auto u = make(j, &no_bos);
  EXPECT_EQ(u->encode("bc"), (Ids{5}));
  EXPECT_EQ(u->chat_template(), "{{ x }}");
  // Without the flags the post-processor stays.
  const json quiet = {{"bos_token", "<s>"}};
  EXPECT_EQ(make(j, &quiet)->encode("bc"), (Ids{11, 5, 12}));
}

TEST(HfErrors, UnsupportedTypesAreNamed) {
  auto error_with = [](const char* field, json value) {
    json j = byte_level_bpe();
    j[field] = value;
    return build_error(j);
  };
  for (const auto& [field, type] : std::vector<std::pair<const char*, const char*>>{
           {"normalizer", "Precompiled"},
           {"pre_tokenizer", "UnicodeScripts"},
           {"decoder", "CTC"},
           {"post_processor", "Mystery"}}) {
    const std::string msg = error_with(field, {{"type", type}});
    EXPECT_NE(msg.find(std::string("'") + type + "'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("tokenizer.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find(field), std::string::npos) << msg;
  }
  json j = byte_level_bpe();
  j["model"]["type"] = "WordLevel";
  EXPECT_NE(build_error(j).find("'WordLevel'"), std::string::npos);
}

TEST(HfErrors, MalformedFilesFailWithOneLine) {
  json j = byte_level_bpe(json::array({"a zz"}));
  EXPECT_NE(build_error(j).find("'zz'"), std::string::npos);  // merge of an unknown token
  j = byte_level_bpe(json::array({"ab"}));
  EXPECT_NE(build_error(j).find("'ab'"), std::string::npos);  // not two tokens
  j = byte_level_bpe();
  j["model"]["vocab"]["x"] = "seven";
  EXPECT_NE(build_error(j), "");
  j = byte_level_bpe();
  j["model"]["vocab"]["x"] = 2000000000;  // far beyond the tokens defined
  EXPECT_NE(build_error(j).find("2000000000"), std::string::npos);
  j = byte_level_bpe();
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  EXPECT_NE(build_error(j).find("(unclosed"), std::string::npos);
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", "Sideways"}};
  EXPECT_NE(build_error(j).find("Sideways"), std::string::npos);
  EXPECT_NE(build_error(json::array()), "");
  EXPECT_NE(build_error(json::object()), "");
  for (const std::string& msg : {build_error(json::object()), build_error(byte_level_bpe(json::array({"ab"})))}) {
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

namespace {

namespace fs = std::filesystem;

class HfFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hearth_hf_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  void write_gz(const std::string& name, const std::string& text) {
    gzFile f = gzopen((dir_ / name).c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
    gzclose(f);
  }
  json tokenizer_json() {
    json j = byte_level_bpe();
    j["added_tokens"] = {added(11, "<s>", true)};
    return j;
  }
  const json config_ = {{"bos_token", "<s>"}, {"add_bos_token", true}, {"chat_template", "T"}};
  fs::path dir_;
};

}  // namespace

TEST_F(HfFiles, FolderOrFileWithConfig) {
  write("tokenizer.json", tokenizer_json().dump());
  write("tokenizer_config.json", config_.dump());
  for (const fs::path& p : {dir_, dir_ / "tokenizer.json"}) {
    auto t = load_hf_tokenizer(p.string());
    EXPECT_EQ(t->encode("bc"), (Ids{11, 5})) << p;
    EXPECT_EQ(t->chat_template(), "T");
    EXPECT_EQ(load_tokenizer(p.string())->encode("abc", false), (Ids{7}));
  }
}

TEST_F(HfFiles, GzippedFiles) {
  write_gz("tokenizer.json.gz", tokenizer_json().dump());
  write_gz("tokenizer_config.json.gz", config_.dump());
  auto t = load_hf_tokenizer(dir_.string());
  EXPECT_EQ(t->encode("bc"), (Ids{11, 5}));
  EXPECT_EQ(load_hf_tokenizer((dir_ / "tokenizer.json.gz").string())->bos(), 11);
}

TEST_F(HfFiles, ErrorsNameTheFile) {
  auto error_of = [](const std::string& path) {
    try {
      load_tokenizer(path);
    } catch (const hearth::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of(dir_.string()).find("tokenizer.json"), std::string::npos);  // empty folder
  EXPECT_NE(error_of((dir_ / "missing.json").string()).find("missing.json"), std::string::npos);
  write("tokenizer.json", "{ not json");
  EXPECT_NE(error_of(dir_.string()).find((dir_ / "tokenizer.json").string()), std::string::npos);
  json j = tokenizer_json();
  j["decoder"] = {{"type", "CTC"}};
  write("tokenizer.json", j.dump());
  const std::string msg = error_of(dir_.string());
  EXPECT_NE(msg.find((dir_ / "tokenizer.json").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("'CTC'"), std::string::npos) << msg;
  write("broken.json.gz", "not gzip at all");
  EXPECT_NE(error_of((dir_ / "broken.json.gz").string()).find("gzip"), std::string::npos);
}

TEST(HfFilesGguf, LoadTokenizerReadsGgufVocabularies) {
  auto t = load_tokenizer(std::string(HEARTH_TESTDATA) + "/vocab/ggml-vocab-gpt-2.gguf");
  EXPECT_EQ(t->n_vocab(), 50257);
  EXPECT_EQ(t->token_piece(50256), "<|endoftext|>");
  EXPECT_EQ(t->decode(t->encode("Hello world", false)), "Hello world");
}
