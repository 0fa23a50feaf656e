// The tokenizer on real vocabularies read from GGUF files in the shared test data:
// llama.cpp's tokenizer test vectors (expected ids from HF transformers, cross-checked with
// the SentencePiece library) and the stories260K model's reference generation.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/gguf.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"

using namespace hearth;
using namespace hearth::tok;

namespace {

std::string testdata(const std::string& rel) { return std::string(HEARTH_TESTDATA) + "/" + rel; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::unique_ptr<Tokenizer> load(const std::string& rel) {
  return Tokenizer::from_vocab(vocab_from_gguf(io::GGUFFile::open(testdata(rel))));
}

struct VocabCase {
  std::string text;
  std::vector<int32_t> ids;
};

// .inp: strings, each followed by "\n__ggml_vocab_test__\n" (so the split leaves one empty
// piece after the last separator). .out: one line of space-separated ids per string.
std::vector<VocabCase> read_vocab_cases(const std::string& gguf_rel) {
  const std::string inp = read_file(testdata(gguf_rel + ".inp"));
  const std::string out = read_file(testdata(gguf_rel + ".out"));
  const std::string sep = "\n__ggml_vocab_test__\n";

  std::vector<std::string> texts;
  size_t pos = 0;
  for (size_t next; (next = inp.find(sep, pos)) != std::string::npos; pos = next + sep.size()) {
    texts.push_back(inp.substr(pos, next - pos));
  }
  if (pos < inp.size()) texts.push_back(inp.substr(pos));  // no separator after the last one

  std::vector<std::vector<int32_t>> lines;
  std::istringstream out_lines(out);
  for (std::string line; std::getline(out_lines, line);) {
    std::istringstream fields(line);
    std::vector<int32_t> ids;
    for (int32_t id; fields >> id;) ids.push_back(id);
    lines.push_back(std::move(ids));
  }
  EXPECT_EQ(texts.size(), lines.size()) << gguf_rel << ": .inp and .out disagree on the count";
  std::vector<VocabCase> cases;
  for (size_t i = 0; i < std::min(texts.size(), lines.size()); ++i) {
    cases.push_back({texts[i], lines[i]});
  }
  return cases;
}

std::string escaped(const std::string& s) {
  std::string r;
  for (unsigned char c : s) {
    if (c == '\n') {
      r += "\\n";
    } else if (c == '\t') {
      r += "\\t";
    } else {
      r += static_cast<char>(c);
    }
  }
  return r;
}

void check_vocab_vectors(const std::string& gguf_rel) {
  auto t = load(gguf_rel);
  const auto cases = read_vocab_cases(gguf_rel);
  ASSERT_GE(cases.size(), 40u);
  for (const auto& c : cases) {
    // The vectors come from HF encode(add_special_tokens=False); no test string contains a
    // special token, so parse_special must not matter.
    EXPECT_EQ(t->encode(c.text, false, false), c.ids) << "text: '" << escaped(c.text) << "'";
    EXPECT_EQ(t->encode(c.text, false, true), c.ids) << "text: '" << escaped(c.text) << "'";
    // SentencePiece with byte fallback is lossless for these (valid UTF-8) strings.
    EXPECT_EQ(t->decode(c.ids), c.text) << "text: '" << escaped(c.text) << "'";
  }
}

}  // namespace

TEST(TokenizerGguf, LlamaSpmVectors) { check_vocab_vectors("vocab/ggml-vocab-llama-spm.gguf"); }

TEST(TokenizerGguf, Phi3Vectors) { check_vocab_vectors("vocab/ggml-vocab-phi-3.gguf"); }

TEST(TokenizerGguf, LlamaSpmVocabFields) {
  const Vocab v = vocab_from_gguf(io::GGUFFile::open(testdata("vocab/ggml-vocab-llama-spm.gguf")));
  EXPECT_EQ(v.model, "llama");
  EXPECT_EQ(v.tokens.size(), 32000u);
  EXPECT_EQ(v.scores.size(), 32000u);
  EXPECT_EQ(v.types.size(), 32000u);
  EXPECT_EQ(v.bos, 1);
  EXPECT_EQ(v.eos, 2);
  EXPECT_EQ(v.unk, 0);
  EXPECT_EQ(v.pad, -1);
  EXPECT_TRUE(v.add_bos);
  EXPECT_FALSE(v.add_eos);
  EXPECT_TRUE(v.add_space_prefix);
  EXPECT_EQ(v.types[1], TokenType::Control);
  EXPECT_EQ(v.types[3], TokenType::Byte);
  EXPECT_EQ(v.tokens[13], "<0x0A>");
}

TEST(TokenizerGguf, Phi3ChatMarkers) {
  auto t = load("vocab/ggml-vocab-phi-3.gguf");
  EXPECT_EQ(t->eos(), 32000);
  EXPECT_EQ(t->token_piece(32007), "<|end|>");
  EXPECT_TRUE(t->is_end_of_generation(32000));
  EXPECT_TRUE(t->is_end_of_generation(32007));
  EXPECT_FALSE(t->is_end_of_generation(32010));

  const auto ids = t->encode("<|user|>\nHi<|end|>", true, true);
  ASSERT_GE(ids.size(), 4u);
  EXPECT_EQ(ids.front(), 1);       // BOS
  EXPECT_EQ(ids[1], 32010);        // <|user|>
  EXPECT_EQ(ids.back(), 32007);    // <|end|>
  // The text fragment after <|user|> got its own "▁" prefix; BOS took the first-token
  // strip, so the space stays (llama.cpp's detokenize does the same).
  EXPECT_EQ(t->decode(ids), " \nHi");
  EXPECT_EQ(t->decode(ids, false), "<s><|user|> \nHi<|end|>");

  // Untrusted text cannot produce control tokens.
  for (int32_t id : t->encode("<|user|>\nHi<|end|>", true, false)) {
    EXPECT_FALSE(id == 32010 || id == 32007) << id;
  }
}

TEST(TokenizerGguf, Stories260KVocab) {
  auto t = load("models/stories260K.gguf");
  EXPECT_EQ(t->n_vocab(), 512);
  EXPECT_EQ(t->bos(), 1);
  EXPECT_EQ(t->eos(), 2);
  EXPECT_EQ(t->vocab().pad, -1);  // stored as 0xFFFFFFFF
  EXPECT_TRUE(t->vocab().add_bos);
  EXPECT_EQ(t->encode("").size(), 1u);
}

TEST(TokenizerGguf, Stories260KGreedyTextDecodes) {
  auto t = load("models/stories260K.gguf");
  const auto ref = nlohmann::json::parse(read_file(testdata("models/stories260K.greedy_bos.json")));
  const auto prompt = ref.at("prompt_ids").get<std::vector<int32_t>>();
  const auto generated = ref.at("generated_ids").get<std::vector<int32_t>>();
  const auto text = ref.at("generated_text").get<std::string>();
  ASSERT_EQ(prompt, std::vector<int32_t>{1});
  ASSERT_EQ(generated.size(), 256u);

  // The reference text is what the generated tokens add after the BOS-only prompt: decoding
  // the whole sequence drops the BOS and keeps the first word's space (llama.cpp rule).
  std::vector<int32_t> all = prompt;
  all.insert(all.end(), generated.begin(), generated.end());
  EXPECT_EQ(t->decode(all), text);

  // Streamed one id at a time: identical.
  StreamDecoder stream(*t);
  std::string streamed;
  for (int32_t id : all) streamed += stream.push(id);
  streamed += stream.flush();
  EXPECT_EQ(streamed, text);

  // Decoded on their own, the generated ids start the text, so the added space goes.
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.front(), ' ');
  EXPECT_EQ(t->decode(generated), text.substr(1));
}

TEST(TokenizerGguf, UnsupportedModelIsNamed) {
  Vocab v = vocab_from_gguf(io::GGUFFile::open(testdata("vocab/ggml-vocab-gpt-2.gguf")));
  EXPECT_EQ(v.model, "gpt2");
  v.model = "rwkv";
  try {
    Tokenizer::from_vocab(v);
    FAIL() << "rwkv vocabularies are not supported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'rwkv'"), std::string::npos) << e.what();
  }
}

namespace {

io::GGUFFile open_bytes(const std::vector<uint8_t>& bytes) {
  return io::GGUFFile::open_memory(bytes, "test.gguf");
}

io::GGUFWriter minimal_writer() {
  io::GGUFWriter w;
  w.set("tokenizer.ggml.model", io::GGUFValue::of_string("llama"));
  w.set("tokenizer.ggml.tokens", io::GGUFValue::of_strings({"<s>", "</s>", "a"}));
  return w;
}

}  // namespace

TEST(TokenizerGguf, DefaultsWhenOptionalKeysAreMissing) {
  const auto bytes = minimal_writer().to_bytes();
  const Vocab v = vocab_from_gguf(open_bytes(bytes));
  EXPECT_TRUE(v.scores.empty());
  EXPECT_TRUE(v.types.empty());
  EXPECT_EQ(v.bos, -1);
  EXPECT_FALSE(v.add_bos);  // nothing to add
  EXPECT_TRUE(v.add_space_prefix);
  auto t = Tokenizer::from_vocab(v);
  EXPECT_EQ(t->n_vocab(), 3);
}

TEST(TokenizerGguf, ReadsFlagsAndIds) {
  auto w = minimal_writer();
  w.set("tokenizer.ggml.bos_token_id", io::GGUFValue::of_u32(0));
  w.set("tokenizer.ggml.eos_token_id", io::GGUFValue::of_i32(1));
  w.set("tokenizer.ggml.padding_token_id", io::GGUFValue::of_i32(-1));
  w.set("tokenizer.ggml.add_bos_token", io::GGUFValue::of_bool(false));
  w.set("tokenizer.ggml.add_eos_token", io::GGUFValue::of_bool(true));
  w.set("tokenizer.ggml.add_space_prefix", io::GGUFValue::of_bool(false));
  w.set("tokenizer.ggml.token_type", io::GGUFValue::of_i32s({3, 3, 1}));
  w.set("tokenizer.ggml.scores", io::GGUFValue::of_f32s({0, 0, -1}));
  const auto bytes = w.to_bytes();
  const Vocab v = vocab_from_gguf(open_bytes(bytes));
  EXPECT_EQ(v.bos, 0);
  EXPECT_EQ(v.eos, 1);
  EXPECT_EQ(v.pad, -1);
  EXPECT_FALSE(v.add_bos);
  EXPECT_TRUE(v.add_eos);
  EXPECT_FALSE(v.add_space_prefix);
  auto t = Tokenizer::from_vocab(v);
  EXPECT_EQ(t->encode("aa"), (std::vector<int32_t>{2, 2, 1}));
}

TEST(TokenizerGguf, RejectsInconsistentFiles) {
  {
    auto w = minimal_writer();
    w.set("tokenizer.ggml.scores", io::GGUFValue::of_f32s({0, 0}));
    const auto bytes = w.to_bytes();
    EXPECT_THROW(vocab_from_gguf(open_bytes(bytes)), FormatError);
  }
  {
    auto w = minimal_writer();
    w.set("tokenizer.ggml.eos_token_id", io::GGUFValue::of_u32(7));
    const auto bytes = w.to_bytes();
    try {
      vocab_from_gguf(open_bytes(bytes));
      FAIL() << "expected an error";
    } catch (const FormatError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("test.gguf"), std::string::npos) << msg;
      EXPECT_NE(msg.find("eos_token_id"), std::string::npos) << msg;
    }
  }
  {
    io::GGUFWriter w;  // no tokenizer at all
    const auto bytes = w.to_bytes();
    EXPECT_THROW(vocab_from_gguf(open_bytes(bytes)), FormatError);
  }
  {
    auto w = minimal_writer();
    w.set("tokenizer.ggml.add_bos_token", io::GGUFValue::of_string("yes"));
    const auto bytes = w.to_bytes();
    EXPECT_THROW(vocab_from_gguf(open_bytes(bytes)), FormatError);
  }
}

// 32 tricky strings (spaces, tabs, CRLF, emoji with ZWJ, CJK, NFD accents, control
// characters, NBSP, special-token lookalikes ...) encoded and decoded by the official
// SentencePiece library on the Llama 2 model, whose vocabulary the llama-spm GGUF carries.
TEST(TokenizerGguf, LlamaSpmMatchesSentencePieceLibrary) {
  auto t = load("vocab/ggml-vocab-llama-spm.gguf");
  const auto ref =
      nlohmann::json::parse(read_file(testdata("tokenizer_expected/llama2-sentencepiece.json")));
  const auto& cases = ref.at("cases");
  ASSERT_GE(cases.size(), 20u);
  for (const auto& c : cases) {
    const auto text = c.at("text").get<std::string>();
    const auto ids = c.at("ids").get<std::vector<int32_t>>();
    const std::string label = c.at("id").get<std::string>();
    // SentencePiece does not parse special tokens: "<s>" in text is plain text.
    EXPECT_EQ(t->encode(text, false, false), ids) << label;
    EXPECT_EQ(t->encode(text, true, false), c.at("ids_with_bos").get<std::vector<int32_t>>())
        << label;
    EXPECT_EQ(t->decode(ids), c.at("decoded").get<std::string>()) << label;
  }
}
