// Model files that are well-formed containers but wrong as models: each ends in one clear
// error line (and `hearth run` exits 1 with it), never a crash.
#include <gtest/gtest.h>

#include <functional>

#include "io/gguf.h"
#include "models/model.h"
#include "support/run_command.h"

using namespace hearth;
using io::GGUFValue;

namespace {

// A tiny valid Llama: dim 8, 2 heads, 1 KV head, 1 layer, ffn 16, vocab 10.
struct TinyLlama {
  std::map<std::string, GGUFValue> meta;
  std::map<std::string, std::vector<int64_t>> shapes;
  std::vector<std::vector<float>> storage;

  TinyLlama() {
    meta["general.architecture"] = GGUFValue::of_string("llama");
    meta["llama.context_length"] = GGUFValue::of_u32(64);
    meta["llama.embedding_length"] = GGUFValue::of_u32(8);
    meta["llama.block_count"] = GGUFValue::of_u32(1);
    meta["llama.feed_forward_length"] = GGUFValue::of_u32(16);
    meta["llama.attention.head_count"] = GGUFValue::of_u32(2);
    meta["llama.attention.head_count_kv"] = GGUFValue::of_u32(1);
    meta["llama.attention.layer_norm_rms_epsilon"] = GGUFValue::of_f32(1e-5f);
    shapes = {{"token_embd.weight", {10, 8}},       {"output_norm.weight", {8}},
              {"blk.0.attn_norm.weight", {8}},      {"blk.0.attn_q.weight", {8, 8}},
              {"blk.0.attn_k.weight", {4, 8}},      {"blk.0.attn_v.weight", {4, 8}},
              {"blk.0.attn_output.weight", {8, 8}}, {"blk.0.ffn_norm.weight", {8}},
              {"blk.0.ffn_gate.weight", {16, 8}},   {"blk.0.ffn_up.weight", {16, 8}},
              {"blk.0.ffn_down.weight", {8, 16}}};
  }

  std::string write(const std::string& path) {
    io::GGUFWriter w;
    for (auto& [k, v] : meta) w.set(k, v);
    for (auto& [name, shape] : shapes) {
      int64_t n = 1;
      for (auto d : shape) n *= d;
      auto& data = storage.emplace_back(static_cast<size_t>(n), 0.01f);
      w.add_tensor(name, DType::F32, shape, data.data(), data.size() * 4);
    }
    w.write(path);
    return path;
  }
};

std::string load_error(const std::string& path) {
  try {
    load_model(path);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(BadModels, ValidTinyModelLoads) {
  test::TempDir dir;
  TinyLlama m;
  EXPECT_NO_THROW(load_model(m.write(dir / "ok.gguf")));
}

TEST(BadModels, UnknownArchitecture) {
  test::TempDir dir;
  TinyLlama m;
  m.meta["general.architecture"] = GGUFValue::of_string("mamba");
  const std::string path = m.write(dir / "m.gguf");
  EXPECT_EQ(load_error(path), path + ": architecture 'mamba' is not supported (supported: llama — "
                                     "Llama 1/2/3, Mistral, TinyLlama)");
}

TEST(BadModels, MissingConfigKey) {
  test::TempDir dir;
  TinyLlama m;
  m.meta.erase("llama.block_count");
  const std::string path = m.write(dir / "m.gguf");
  EXPECT_EQ(load_error(path), path + ": metadata key 'llama.block_count' is missing");
}

TEST(BadModels, TensorShapeMismatch) {
  test::TempDir dir;
  TinyLlama m;
  m.shapes["blk.0.attn_k.weight"] = {8, 8};  // config says 1 KV head of 4
  const std::string path = m.write(dir / "m.gguf");
  EXPECT_EQ(load_error(path), path + ": tensor 'blk.0.attn_k.weight' has shape [8, 8], expected "
                                     "[4, 8] from the model's config");
}

TEST(BadModels, MissingTensor) {
  test::TempDir dir;
  TinyLlama m;
  m.shapes.erase("blk.0.ffn_up.weight");
  const std::string path = m.write(dir / "m.gguf");
  EXPECT_EQ(load_error(path), path + ": tensor 'blk.0.ffn_up.weight' is missing");
}

TEST(BadModels, InconsistentHeads) {
  test::TempDir dir;
  TinyLlama m;
  m.meta["llama.attention.head_count_kv"] = GGUFValue::of_u32(3);
  const std::string path = m.write(dir / "m.gguf");
  EXPECT_EQ(load_error(path),
            path + ": invalid model config: the KV head count must divide the head count");
}

TEST(BadModels, HfFolderMissingConfigKey) {
  test::TempDir dir;
  {
    std::ofstream(dir / "config.json") << R"({"model_type": "llama", "hidden_size": 8})";
  }
  EXPECT_EQ(load_error(dir.path.string()),
            dir / "config.json" +
                ": config.json has no 'num_hidden_layers' (is this a complete Hugging Face model "
                "folder?)");
}

TEST(BadModels, CliPrintsOneErrorLineAndExitsOne) {
  test::TempDir dir;
  TinyLlama m;
  m.meta["general.architecture"] = GGUFValue::of_string("mamba");
  const std::string path = m.write(dir / "m.gguf");
  const auto r = test::run_command(std::string(HEARTH_BINARY) + " run -m " + path + " -p hi");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: " + path + ": architecture 'mamba' is not supported (supported: llama — "
                   "Llama 1/2/3, Mistral, TinyLlama)\n");
  EXPECT_EQ(r.out, "");
}

TEST(BadModels, CliTruncatedFileExitsOneWithoutCrashing) {
  test::TempDir dir;
  TinyLlama m;
  const std::string path = m.write(dir / "m.gguf");
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 100);
  const auto r = test::run_command(std::string(HEARTH_BINARY) + " run -m " + path + " -p hi");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("extends past the end of the file"), std::string::npos) << r.err;
}
