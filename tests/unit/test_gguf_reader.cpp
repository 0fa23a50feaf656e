// GGUF reader against real files from the shared test data. Expected values come from
// testdata/SOURCES.md (model cards), from the models' architecture (shapes follow from
// dim/heads/ffn sizes), and from well-known vocabulary sizes.
#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "io/gguf.h"
#include "unit/io_test_helpers.h"

using namespace hearth;
using namespace hearth::io;
using hearth::test::testdata;

namespace {

std::vector<int64_t> shape(std::initializer_list<int64_t> dims) { return dims; }

TEST(GGUFReader, Stories260KMetadata) {
  const auto f = GGUFFile::open(testdata("models/stories260K.gguf"));
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.path(), testdata("models/stories260K.gguf"));
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_int("llama.block_count"), 5);
  EXPECT_EQ(f.get_int("llama.embedding_length"), 64);
  EXPECT_EQ(f.get_int("llama.feed_forward_length"), 172);
  EXPECT_EQ(f.get_int("llama.attention.head_count"), 8);
  EXPECT_EQ(f.get_int("llama.attention.head_count_kv"), 4);
  EXPECT_EQ(f.get_int("llama.context_length"), 2048);
  EXPECT_NEAR(f.get_float("llama.attention.layer_norm_rms_epsilon"), 1e-5, 1e-9);
  EXPECT_EQ(f.get_float("llama.block_count"), 5.0);  // integers convert to float
  EXPECT_EQ(f.find_int("llama.no_such_key"), std::nullopt);

  const auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 512u);
  EXPECT_EQ(tokens[0], "<unk>");
  EXPECT_EQ(tokens[1], "<s>");
  EXPECT_EQ(tokens[2], "</s>");
  EXPECT_EQ(f.get_float_array("tokenizer.ggml.scores").size(), 512u);
  EXPECT_EQ(f.get_int_array("tokenizer.ggml.token_type").size(), 512u);
  EXPECT_EQ(f.get_int("tokenizer.ggml.bos_token_id"), 1);
  EXPECT_EQ(f.get_int("tokenizer.ggml.eos_token_id"), 2);

  // Metadata keeps file order: the first key is the one the converter wrote first.
  ASSERT_FALSE(f.metadata().empty());
  EXPECT_EQ(f.find(f.metadata().front().first), &f.metadata().front().second);
}

TEST(GGUFReader, Stories260KTensors) {
  const auto f = GGUFFile::open(testdata("models/stories260K.gguf"));
  // 5 layers x 9 tensors + token_embd + output_norm + output.
  ASSERT_EQ(f.tensors().size(), 48u);
  for (const auto& t : f.tensors()) EXPECT_EQ(t.dtype, DType::F32) << t.name;

  const auto& embd = f.tensor("token_embd.weight");
  EXPECT_EQ(embd.shape, shape({512, 64}));
  EXPECT_EQ(embd.nbytes, 512u * 64 * 4);
  EXPECT_EQ(f.tensor("output_norm.weight").shape, shape({64}));
  EXPECT_EQ(f.tensor("blk.0.attn_q.weight").shape, shape({64, 64}));
  EXPECT_EQ(f.tensor("blk.0.attn_k.weight").shape, shape({32, 64}));  // 4 KV heads x 8
  EXPECT_EQ(f.tensor("blk.4.ffn_gate.weight").shape, shape({172, 64}));
  EXPECT_EQ(f.tensor("blk.4.ffn_down.weight").shape, shape({64, 172}));
  EXPECT_EQ(f.find_tensor("blk.5.ffn_down.weight"), nullptr);

  // The model card says output.weight is identical to token_embd.weight.
  const auto& out = f.tensor("output.weight");
  ASSERT_EQ(out.nbytes, embd.nbytes);
  EXPECT_EQ(std::memcmp(out.data, embd.data, embd.nbytes), 0);
}

TEST(GGUFReader, Stories260KEmbeddingMatchesLlama2cCheckpoint) {
  // SOURCES.md: the embedding table is byte-identical to the llama2.c checkpoint, whose
  // header is 7 int32 values followed by the F32 token embedding table.
  const auto f = GGUFFile::open(testdata("models/stories260K.gguf"));
  const auto bin = hearth::test::read_bytes(testdata("models/llama2c/stories260K.bin"));
  const auto& embd = f.tensor("token_embd.weight");
  ASSERT_GE(bin.size(), 28 + embd.nbytes);
  EXPECT_EQ(std::memcmp(embd.data, bin.data() + 28, embd.nbytes), 0);
}

TEST(GGUFReader, TinyRandomLlamaHasF16Matrices) {
  const auto f = GGUFFile::open(testdata("models/ollama/llama-2-tiny-random.gguf"));
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.get_int("llama.embedding_length"), 8);
  EXPECT_EQ(f.get_int("llama.block_count"), 1);
  EXPECT_EQ(f.get_int("llama.attention.head_count"), 2);
  EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens").size(), 32000u);
  ASSERT_EQ(f.tensors().size(), 12u);  // embd, output, output_norm, 7 matrices, 2 norms

  const auto& embd = f.tensor("token_embd.weight");
  EXPECT_EQ(embd.dtype, DType::F16);
  EXPECT_EQ(embd.shape, shape({32000, 8}));
  EXPECT_EQ(embd.nbytes, 32000u * 8 * 2);
  EXPECT_EQ(f.tensor("blk.0.ffn_up.weight").dtype, DType::F16);
  EXPECT_EQ(f.tensor("blk.0.ffn_up.weight").shape, shape({32, 8}));
  EXPECT_EQ(f.tensor("blk.0.attn_norm.weight").dtype, DType::F32);
  EXPECT_EQ(f.tensor("blk.0.attn_norm.weight").shape, shape({8}));

  // Every tensor lies inside the file and starts on the alignment.
  const uint8_t* section = f.bytes().data() + f.data_offset();
  for (const auto& t : f.tensors()) {
    const auto* p = static_cast<const uint8_t*>(t.data);
    ASSERT_GE(p, section) << t.name;
    EXPECT_EQ(static_cast<uint64_t>(p - section) % f.alignment(), 0u) << t.name;
    EXPECT_LE(p + t.nbytes, f.bytes().data() + f.bytes().size()) << t.name;
  }
}

TEST(GGUFReader, VocabOnlyFiles) {
  struct Case {
    const char* file;
    size_t tokens;
  };
  // Well-known vocabulary sizes: Llama 2 SPM 32000, GPT-2 50257, BERT base 30522.
  for (const Case& c : {Case{"vocab/ggml-vocab-llama-spm.gguf", 32000},
                        Case{"vocab/ggml-vocab-gpt-2.gguf", 50257},
                        Case{"vocab/ggml-vocab-bert-bge.gguf", 30522}}) {
    SCOPED_TRACE(c.file);
    const auto f = GGUFFile::open(testdata(c.file));
    EXPECT_TRUE(f.tensors().empty());
    EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens").size(), c.tokens);
  }
  const auto spm = GGUFFile::open(testdata("vocab/ggml-vocab-llama-spm.gguf"));
  EXPECT_EQ(spm.get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(spm.find_bool("tokenizer.ggml.add_bos_token"), true);
  EXPECT_EQ(spm.find_bool("tokenizer.ggml.add_eos_token"), false);
  // GPT-2's merges.txt has 50000 merges.
  const auto gpt2 = GGUFFile::open(testdata("vocab/ggml-vocab-gpt-2.gguf"));
  EXPECT_EQ(gpt2.get_string_array("tokenizer.ggml.merges").size(), 50000u);
  EXPECT_EQ(gpt2.get_string("tokenizer.ggml.model"), "gpt2");
}

TEST(GGUFReader, TypedGetterErrorsNameFileKeyAndType) {
  const std::string path = testdata("models/stories260K.gguf");
  const auto f = GGUFFile::open(path);
  using hearth::test::expect_error;
  expect_error<FormatError>([&] { f.get_int("llama.missing"); },
                            path + ": metadata key 'llama.missing' is missing");
  expect_error<FormatError>([&] { f.get_int("general.architecture"); },
                            path + ": metadata key 'general.architecture' has type STRING, "
                                   "expected an integer");
  expect_error<FormatError>([&] { f.get_string("llama.block_count"); },
                            path + ": metadata key 'llama.block_count' has type UINT32, "
                                   "expected STRING");
  expect_error<FormatError>([&] { f.find_bool("llama.block_count"); },
                            path + ": metadata key 'llama.block_count' has type UINT32, "
                                   "expected BOOL");
  expect_error<FormatError>([&] { f.get_string_array("tokenizer.ggml.scores"); },
                            path + ": metadata key 'tokenizer.ggml.scores' has type ARRAY of "
                                   "FLOAT32, expected ARRAY of STRING");
  expect_error<FormatError>([&] { f.get_int_array("tokenizer.ggml.tokens"); },
                            path + ": metadata key 'tokenizer.ggml.tokens' has type ARRAY of "
                                   "STRING, expected an ARRAY of integers");
  expect_error<FormatError>([&] { f.tensor("blk.9.attn_q.weight"); },
                            path + ": tensor 'blk.9.attn_q.weight' is missing");
}

TEST(GGUFReader, MissingFileSaysCannotOpen) {
  hearth::test::expect_error<Error>([] { GGUFFile::open("/nonexistent/model.gguf"); },
                                    "cannot open /nonexistent/model.gguf: No such file or directory");
}

}  // namespace
