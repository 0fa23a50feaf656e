// Safetensors reader: the real stories260K-hf conversion, sharded folders written here,
// and read_json_file.
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/gguf.h"
#include "io/json_file.h"
#include "io/safetensors.h"
#include "unit/io_test_helpers.h"
#include "unit/safetensors_test_writer.h"

using namespace hearth;
using namespace hearth::io;
using namespace hearth::test;

namespace {

std::vector<int64_t> shape(std::initializer_list<int64_t> dims) { return dims; }

TEST(Safetensors, Stories260KHF) {
  const auto f = SafetensorsFile::open(testdata("models/stories260K-hf/model.safetensors"));
  // embed + final norm + 5 layers x (2 norms, q, k, v, o, gate, up, down); tied lm_head.
  EXPECT_EQ(f.tensors().size(), 47u);
  for (const auto& t : f.tensors()) EXPECT_EQ(t.dtype, DType::F32) << t.name;
  EXPECT_EQ(f.tensor("model.embed_tokens.weight").shape, shape({512, 64}));
  EXPECT_EQ(f.tensor("model.embed_tokens.weight").nbytes, 512u * 64 * 4);
  EXPECT_EQ(f.tensor("model.layers.0.self_attn.q_proj.weight").shape, shape({64, 64}));
  EXPECT_EQ(f.tensor("model.layers.0.self_attn.k_proj.weight").shape, shape({32, 64}));
  EXPECT_EQ(f.tensor("model.layers.4.mlp.down_proj.weight").shape, shape({64, 172}));
  EXPECT_EQ(f.find_tensor("lm_head.weight"), nullptr);
  EXPECT_EQ(f.metadata().value("format", ""), "pt");

  // Tensors come in file order: each starts at or after the end of the previous one.
  for (size_t i = 1; i < f.tensors().size(); ++i)
    EXPECT_GE(static_cast<const uint8_t*>(f.tensors()[i].data),
              static_cast<const uint8_t*>(f.tensors()[i - 1].data) + f.tensors()[i - 1].nbytes);
}

TEST(Safetensors, Stories260KHFMatchesTheGGUFItWasConvertedFrom) {
  // SOURCES.md: converted from stories260K.gguf; only q/k rows were permuted, so the
  // embedding and norms are byte-identical.
  const auto st = SafetensorsFile::open(testdata("models/stories260K-hf/model.safetensors"));
  const auto gg = GGUFFile::open(testdata("models/stories260K.gguf"));
  const std::pair<const char*, const char*> same[] = {
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"model.layers.3.input_layernorm.weight", "blk.3.attn_norm.weight"},
      {"model.layers.2.mlp.down_proj.weight", "blk.2.ffn_down.weight"}};
  for (const auto& [hf, gguf] : same) {
    SCOPED_TRACE(hf);
    const auto& a = st.tensor(hf);
    const auto& b = gg.tensor(gguf);
    ASSERT_EQ(a.shape, b.shape);
    ASSERT_EQ(a.nbytes, b.nbytes);
    EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes), 0);
  }
}

TEST(Safetensors, ModelFolderWithOneFile) {
  const auto m = SafetensorsModel::open_folder(testdata("models/stories260K-hf"));
  EXPECT_EQ(m.tensors().size(), 47u);
  EXPECT_EQ(m.tensor("model.norm.weight").shape, shape({64}));
  expect_error<FormatError>([&] { m.tensor("lm_head.weight"); },
                            testdata("models/stories260K-hf") + ": tensor 'lm_head.weight' is missing");
}

TEST(Safetensors, AllDTypesAndMetadataRoundTrip) {
  TempDir dir;
  const std::vector<uint8_t> half_bytes = {0x00, 0x3c, 0x00, 0xc0};  // fp16 1.0, -2.0
  const std::vector<uint8_t> bf16_bytes = {0x80, 0x3f};              // bf16 1.0
  write_bytes(dir.file("m.safetensors"),
              make_safetensors({{"a", "F32", {2, 3}, f32_bytes({1, 2, 3, 4, 5, 6})},
                                {"b", "F16", {2}, half_bytes},
                                {"c", "BF16", {1, 1, 1}, bf16_bytes},
                                {"empty", "F32", {0, 4}, {}}},
                               {{"format", "pt"}, {"note", "hi"}}));
  const auto f = SafetensorsFile::open(dir.file("m.safetensors"));
  ASSERT_EQ(f.tensors().size(), 4u);
  const auto& a = f.tensor("a");
  EXPECT_EQ(a.dtype, DType::F32);
  EXPECT_EQ(a.shape, shape({2, 3}));
  EXPECT_EQ(a.rows(), 2);
  EXPECT_EQ(a.cols(), 3);
  float row1[3];
  std::memcpy(row1, a.row(1), sizeof(row1));
  EXPECT_EQ(row1[0], 4.0f);
  EXPECT_EQ(row1[2], 6.0f);
  EXPECT_EQ(f.tensor("b").dtype, DType::F16);
  uint16_t h;
  std::memcpy(&h, f.tensor("b").data, 2);
  EXPECT_EQ(fp16_to_fp32(h), 1.0f);
  EXPECT_EQ(f.tensor("c").dtype, DType::BF16);
  EXPECT_EQ(f.tensor("empty").nbytes, 0u);
  EXPECT_EQ(f.metadata()["note"], "hi");
}

TEST(Safetensors, FileWithoutMetadataHasEmptyObject) {
  TempDir dir;
  write_bytes(dir.file("m.safetensors"), make_safetensors({{"x", "F32", {1}, f32_bytes({7})}}));
  const auto f = SafetensorsFile::open(dir.file("m.safetensors"));
  EXPECT_TRUE(f.metadata().is_object());
  EXPECT_TRUE(f.metadata().empty());
}

// Two shards plus an index, as transformers' save_pretrained writes them.
void write_sharded_model(const TempDir& dir) {
  write_bytes(dir.file("model-00001-of-00002.safetensors"),
              make_safetensors({{"model.embed_tokens.weight", "F32", {4, 2},
                                 f32_bytes({0, 1, 2, 3, 4, 5, 6, 7})},
                                {"model.norm.weight", "F32", {2}, f32_bytes({1, 1})}}));
  write_bytes(dir.file("model-00002-of-00002.safetensors"),
              make_safetensors({{"lm_head.weight", "F32", {4, 2}, f32_bytes({9, 9, 9, 9, 9, 9, 9, 9})}}));
  write_text(dir.file("model.safetensors.index.json"), R"({
    "metadata": {"total_size": 72},
    "weight_map": {
      "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
      "model.norm.weight": "model-00001-of-00002.safetensors",
      "lm_head.weight": "model-00002-of-00002.safetensors"
    }})");
}

TEST(Safetensors, ShardedModelFolder) {
  TempDir dir;
  write_sharded_model(dir);
  auto m = SafetensorsModel::open_folder(dir.path().string());
  EXPECT_EQ(m.files().size(), 2u);
  const auto all = m.tensors();
  ASSERT_EQ(all.size(), 3u);
  // Shards in name order, each in file order.
  EXPECT_EQ(all[0]->name, "model.embed_tokens.weight");
  EXPECT_EQ(all[1]->name, "model.norm.weight");
  EXPECT_EQ(all[2]->name, "lm_head.weight");
  float v;
  std::memcpy(&v, m.tensor("lm_head.weight").data, 4);
  EXPECT_EQ(v, 9.0f);
  std::memcpy(&v, m.tensor("model.embed_tokens.weight").row(3), 4);
  EXPECT_EQ(v, 6.0f);

  // Moving the model keeps every pointer valid.
  const auto moved = std::move(m);
  EXPECT_EQ(moved.find_tensor("model.norm.weight"), all[1]);
}

TEST(Safetensors, ShardedModelMissingShardIsNamed) {
  TempDir dir;
  write_sharded_model(dir);
  std::filesystem::remove(dir.file("model-00002-of-00002.safetensors"));
  expect_error<Error>([&] { SafetensorsModel::open_folder(dir.path().string()); },
                      dir.file("model.safetensors.index.json") +
                          " lists the shard model-00002-of-00002.safetensors, which is missing "
                          "from " + dir.path().string() + "; download the model again");
}

TEST(Safetensors, ShardedModelTensorNotInItsShard) {
  TempDir dir;
  write_sharded_model(dir);
  write_bytes(dir.file("model-00002-of-00002.safetensors"),
              make_safetensors({{"other.weight", "F32", {1}, f32_bytes({1})}}));
  expect_error<FormatError>(
      [&] { SafetensorsModel::open_folder(dir.path().string()); },
      dir.file("model.safetensors.index.json") +
          ": tensor 'lm_head.weight' should be in model-00002-of-00002.safetensors, but that "
          "file does not have it");
}

TEST(Safetensors, ShardedModelRejectsPathsInTheIndex) {
  TempDir dir;
  write_sharded_model(dir);
  write_text(dir.file("model.safetensors.index.json"),
             R"({"weight_map": {"x": "../elsewhere.safetensors"}})");
  expect_error<FormatError>([&] { SafetensorsModel::open_folder(dir.path().string()); },
                            dir.file("model.safetensors.index.json") +
                                ": the shard for tensor 'x' is \"../elsewhere.safetensors\", not "
                                "a file name in the model folder");
}

TEST(Safetensors, ShardedModelDuplicateTensorAcrossShards) {
  TempDir dir;
  write_sharded_model(dir);
  // A tensor the weight map does not list, present in both shards.
  write_bytes(dir.file("model-00001-of-00002.safetensors"),
              make_safetensors({{"model.embed_tokens.weight", "F32", {4, 2},
                                 f32_bytes({0, 1, 2, 3, 4, 5, 6, 7})},
                                {"model.norm.weight", "F32", {2}, f32_bytes({1, 1})},
                                {"extra", "F32", {1}, f32_bytes({1})}}));
  write_bytes(dir.file("model-00002-of-00002.safetensors"),
              make_safetensors({{"lm_head.weight", "F32", {4, 2}, f32_bytes({9, 9, 9, 9, 9, 9, 9, 9})},
                                {"extra", "F32", {1}, f32_bytes({2})}}));
  expect_error<FormatError>([&] { SafetensorsModel::open_folder(dir.path().string()); },
                            dir.path().string() + ": tensor 'extra' is in both " +
                                dir.file("model-00001-of-00002.safetensors") + " and " +
                                dir.file("model-00002-of-00002.safetensors"));
}

TEST(Safetensors, FolderWithoutWeights) {
  TempDir dir;
  write_text(dir.file("config.json"), "{}");
  expect_error<Error>([&] { SafetensorsModel::open_folder(dir.path().string()); },
                      dir.path().string() +
                          ": no model.safetensors or model.safetensors.index.json found");
  write_text(dir.file("pytorch_model.bin"), "x");
  expect_error<Error>([&] { SafetensorsModel::open_folder(dir.path().string()); },
                      dir.path().string() +
                          ": no model.safetensors or model.safetensors.index.json found; the "
                          "folder has only PyTorch .bin weights, which hearth cannot read "
                          "(convert them to safetensors)");
  expect_error<Error>([&] { SafetensorsModel::open_folder(dir.file("nope")); },
                      "cannot open " + dir.file("nope") + ": No such file or directory");
}

TEST(JsonFile, ReadsAndReportsErrorsWithPosition) {
  TempDir dir;
  write_text(dir.file("ok.json"), R"({"a": [1, 2], "b": "x"})");
  const auto j = read_json_file(dir.file("ok.json"));
  EXPECT_EQ(j["a"][1], 2);
  EXPECT_EQ(j["b"], "x");

  write_text(dir.file("bad.json"), "{\n  \"a\": 1,\n  \"b\": }\n");
  try {
    read_json_file(dir.file("bad.json"));
    ADD_FAILURE() << "expected an error";
  } catch (const FormatError& e) {
    const std::string msg = e.what();
    EXPECT_TRUE(msg.starts_with(dir.file("bad.json") + ": invalid JSON: parse error at line 3, column 8"))
        << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  write_text(dir.file("huge.json"), R"({"x": 1e999})");
  expect_error<FormatError>([&] { read_json_file(dir.file("huge.json")); },
                            dir.file("huge.json") + ": invalid JSON: number overflow parsing '1e999'");
  expect_error<Error>([&] { read_json_file(dir.file("missing.json")); },
                      "cannot open " + dir.file("missing.json") + ": No such file or directory");
  EXPECT_EQ(read_json_file(testdata("models/stories260K-hf/config.json"))["num_hidden_layers"], 5);
}

}  // namespace
