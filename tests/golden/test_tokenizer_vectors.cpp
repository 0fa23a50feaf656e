// Tokenizers against ground truth produced by other implementations:
//  - llama.cpp's tokenizer test vectors (vocab/*.inp + .out, ids from HF transformers), one
//    parameterized test per vocabulary, run on the GGUF vocabulary or, where the GGUF is not
//    in the test data, on the same tokenizer's tokenizer.json (SOURCES.md lists which);
//  - tokenizer_expected/*.json: ids, ids with special tokens, token texts and decoded text
//    from transformers.js (and the SentencePiece library for llama2-sentencepiece.json);
//  - the project's founding example: the Zephyr prompt through the Mistral tokenizer.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

using namespace hearth::tok;
using Ids = std::vector<int32_t>;

namespace {

std::string testdata(const std::string& rel) { return std::string(HEARTH_TESTDATA) + "/" + rel; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Loading a 262k-token tokenizer takes a while: each one is loaded once per test binary.
const Tokenizer& tokenizer(const std::string& rel) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<Tokenizer>> loaded;
  std::lock_guard lock(mutex);
  auto& t = loaded[rel];
  if (!t) t = load_tokenizer(testdata(rel));
  return *t;
}

std::string escaped(const std::string& s) {
  std::string r;
  for (unsigned char c : s) {
    if (c == '\n') {
      r += "\\n";
    } else if (c == '\t') {
      r += "\\t";
    } else if (c == '\r') {
      r += "\\r";
    } else {
      r += static_cast<char>(c);
    }
  }
  return r;
}

// ---- llama.cpp vocab vectors ----

struct VocabCase {
  std::string text;
  Ids ids;
};

// .inp: strings, each followed by "\n__ggml_vocab_test__\n". .out: one line of
// space-separated ids per string (an empty line for the empty string).
std::vector<VocabCase> read_vocab_cases(const std::string& name) {
  const std::string inp = read_file(testdata("vocab/ggml-vocab-" + name + ".gguf.inp"));
  const std::string out = read_file(testdata("vocab/ggml-vocab-" + name + ".gguf.out"));
  const std::string sep = "\n__ggml_vocab_test__\n";

  std::vector<std::string> texts;
  size_t pos = 0;
  for (size_t next; (next = inp.find(sep, pos)) != std::string::npos; pos = next + sep.size()) {
    texts.push_back(inp.substr(pos, next - pos));
  }
  if (pos < inp.size()) texts.push_back(inp.substr(pos));

  std::vector<Ids> lines;
  std::istringstream out_lines(out);
  for (std::string line; std::getline(out_lines, line);) {
    std::istringstream fields(line);
    Ids ids;
    for (int32_t id; fields >> id;) ids.push_back(id);
    lines.push_back(std::move(ids));
  }
  EXPECT_EQ(texts.size(), lines.size()) << name << ": .inp and .out disagree on the count";
  std::vector<VocabCase> cases;
  for (size_t i = 0; i < std::min(texts.size(), lines.size()); ++i) cases.push_back({texts[i], lines[i]});
  return cases;
}

struct VocabSource {
  std::string name;       // ggml-vocab-NAME.gguf.inp/.out
  std::string tokenizer;  // what runs them
  bool lossless;          // decode(ids) gives the text back
};

void PrintTo(const VocabSource& s, std::ostream* os) { *os << s.name << " on " << s.tokenizer; }

class VocabVectors : public ::testing::TestWithParam<VocabSource> {};

TEST_P(VocabVectors, IdsMatch) {
  const VocabSource& source = GetParam();
  const Tokenizer& t = tokenizer(source.tokenizer);
  const auto cases = read_vocab_cases(source.name);
  ASSERT_GE(cases.size(), 40u);
  for (const VocabCase& c : cases) {
    // HF encode(add_special_tokens=False); no test string holds a special token, so whether
    // special tokens are parsed must not matter.
    EXPECT_EQ(t.encode(c.text, false, true), c.ids) << "text: '" << escaped(c.text) << "'";
    EXPECT_EQ(t.encode(c.text, false, false), c.ids) << "text: '" << escaped(c.text) << "'";
    if (source.lossless) {
      EXPECT_EQ(t.decode(c.ids), c.text) << "text: '" << escaped(c.text) << "'";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Gguf, VocabVectors,
    ::testing::Values(VocabSource{"gpt-2", "vocab/ggml-vocab-gpt-2.gguf", true},
                      VocabSource{"falcon", "vocab/ggml-vocab-falcon.gguf", true},
                      VocabSource{"deepseek-coder", "vocab/ggml-vocab-deepseek-coder.gguf", true},
                      VocabSource{"deepseek-llm", "vocab/ggml-vocab-deepseek-llm.gguf", true},
                      VocabSource{"mpt", "vocab/ggml-vocab-mpt.gguf", true},
                      VocabSource{"starcoder", "vocab/ggml-vocab-starcoder.gguf", true},
                      VocabSource{"refact", "vocab/ggml-vocab-refact.gguf", true},
                      // WordPiece lowercases and drops accents and whitespace: not lossless.
                      VocabSource{"bert-bge", "vocab/ggml-vocab-bert-bge.gguf", false},
                      VocabSource{"phi-3", "vocab/ggml-vocab-phi-3.gguf", true},
                      VocabSource{"llama-spm", "vocab/ggml-vocab-llama-spm.gguf", true}),
    [](const auto& info) {
      std::string n = info.param.name;
      for (char& c : n) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return n;
    });

INSTANTIATE_TEST_SUITE_P(
    TokenizerJson, VocabVectors,
    ::testing::Values(VocabSource{"llama-bpe", "tokenizers/llama3", true},
                      // Qwen normalizes to NFC, so NFD input comes back composed.
                      VocabSource{"qwen2", "tokenizers/qwen3", false},
                      VocabSource{"deepseek-r1-qwen", "tokenizers/qwen3", false},
                      VocabSource{"gemma-4", "tokenizers/gemma3", true}),
    [](const auto& info) {
      std::string n = info.param.name;
      for (char& c : n) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return n;
    });

// ---- tokenizer_expected ----

class ExpectedCases : public ::testing::TestWithParam<std::string> {};

TEST_P(ExpectedCases, IdsTokensAndDecodedText) {
  const std::string name = GetParam();
  const auto ref = nlohmann::json::parse(read_file(testdata("tokenizer_expected/" + name + ".json")));
  const Tokenizer& t = tokenizer("tokenizers/" + name);
  const auto& cases = ref.at("cases");
  ASSERT_GE(cases.size(), 30u);
  for (const auto& c : cases) {
    const auto text = c.at("text").get<std::string>();
    const auto ids = c.at("ids").get<Ids>();
    const std::string label = c.at("id").get<std::string>();
    EXPECT_EQ(t.encode(text, false, true), ids) << label;
    EXPECT_EQ(t.encode(text, true, true), c.at("ids_with_special").get<Ids>()) << label;
    std::vector<std::string> pieces;
    for (int32_t id : ids) pieces.push_back(t.token_piece(id));
    EXPECT_EQ(pieces, c.at("tokens").get<std::vector<std::string>>()) << label;
    EXPECT_EQ(t.decode(ids, false), c.at("decoded").get<std::string>()) << label;
    EXPECT_EQ(t.decode(ids, true), c.at("decoded_skip_special").get<std::string>()) << label;
  }
}

INSTANTIATE_TEST_SUITE_P(TokenizerJson, ExpectedCases,
                         ::testing::Values("llama3", "qwen3", "mistral-7b-v0.1", "gemma3"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

// The official SentencePiece library on the Llama 2 model, whose vocabulary the llama-spm
// GGUF carries. SentencePiece does not parse special tokens: "<s>" in text is plain text.
TEST(ExpectedCasesSentencePiece, Llama2) {
  const auto ref =
      nlohmann::json::parse(read_file(testdata("tokenizer_expected/llama2-sentencepiece.json")));
  const Tokenizer& t = tokenizer("vocab/ggml-vocab-llama-spm.gguf");
  const auto& cases = ref.at("cases");
  ASSERT_GE(cases.size(), 30u);
  for (const auto& c : cases) {
    const auto text = c.at("text").get<std::string>();
    const auto ids = c.at("ids").get<Ids>();
    const std::string label = c.at("id").get<std::string>();
    EXPECT_EQ(t.encode(text, false, false), ids) << label;
    EXPECT_EQ(t.encode(text, true, false), c.at("ids_with_bos").get<Ids>()) << label;
    std::vector<std::string> pieces;
    for (int32_t id : ids) pieces.push_back(t.token_piece(id));
    EXPECT_EQ(pieces, c.at("pieces").get<std::vector<std::string>>()) << label;
    EXPECT_EQ(t.decode(ids), c.at("decoded").get<std::string>()) << label;
  }
}

// ---- the founding example ----

// Zephyr's chat template renders a conversation with "</s>" after each turn; encoded with
// the Mistral-7B tokenizer each must be the single EOS token (id 2), not its characters.
TEST(FoundingExample, ZephyrPromptEndsTurnsWithEosId) {
  const auto ref = nlohmann::json::parse(
      read_file(testdata("chat_template_expected/HuggingFaceH4-zephyr-7b-beta.json")));
  const auto prompt = ref.at("cases").at(0).at("result").at("output").get<std::string>();
  ASSERT_EQ(prompt, "<|user|>\nHello, how are you?</s>\n<|assistant|>\n");

  const Tokenizer& t = tokenizer("tokenizers/mistral-7b-v0.1");
  ASSERT_EQ(t.token_piece(2), "</s>");
  EXPECT_EQ(t.eos(), 2);
  const Ids ids = t.encode(prompt, true, true);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), 1);  // BOS
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 2), 1);
  // "</s>" sits exactly where the text has it: the fragments around it encode on their own
  // (each getting the legacy Llama "▁" prefix, as in the llama2_special case of
  // tokenizer_expected/mistral-7b-v0.1.json).
  Ids expected = {1};
  const Ids before = t.encode("<|user|>\nHello, how are you?", false, true);
  const Ids after = t.encode("\n<|assistant|>\n", false, true);
  expected.insert(expected.end(), before.begin(), before.end());
  expected.push_back(2);
  expected.insert(expected.end(), after.begin(), after.end());
  EXPECT_EQ(ids, expected);
  // That prefix decodes as a space after "</s>"; Strip removes only the first one.
  EXPECT_EQ(t.decode(ids, false), "<s> <|user|>\nHello, how are you?</s> \n<|assistant|>\n");
  EXPECT_EQ(t.decode(ids, true), "<|user|>\nHello, how are you? \n<|assistant|>\n");

  // As untrusted text, "</s>" is spelled out.
  const Ids plain = t.encode(prompt, true, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 2), 0);
}

}  // namespace
