// The planner's byte formulas against cases computed by hand from the models' published
// shapes (config.json) and the GGML block sizes: Q8_0 = 34 bytes per 32 weights, Q4_0 = 18
// per 32, Q4_K = 144 per 256, BF16/F16 = 2 bytes; norms stay F32 (4 bytes).
#include <gtest/gtest.h>

#include "core/error.h"
#include "fit/catalog.h"
#include "fit/memory.h"
#include "fit/model_shape.h"
#include "kv/kv_cache.h"
#include "models/model.h"

namespace {

using namespace hearth;
using fit::RunShape;

namespace {
const std::string kData = HEARTH_TESTDATA;
}  // namespace

fit::ModelShape catalog_shape(const char* id) {
  const fit::CatalogModel* m = fit::find_catalog_model(id);
  EXPECT_NE(m, nullptr) << id;
  return fit::shape_from_catalog(*m);
}

uint64_t sum(const std::vector<uint64_t>& v) {
  uint64_t s = 0;
  for (uint64_t x : v) s += x;
  return s;
}

// Mistral 7B: hidden 4096, 32 layers, 32 heads, 8 KV heads of 128, FFN 14336, vocab 32000.
//   embeddings + output head: 2 x 32000 x 4096                    =   262,144,000
//   per layer: q 4096x4096 + k,v 1024x4096 + o 4096x4096 = 41,943,040
//              gate, up, down 3 x 14336 x 4096           = 176,160,768 -> 218,103,808
//   32 layers                                                        = 6,979,321,856
//   matrices                                                         = 7,241,465,856
//   norms: (2 x 32 + 1) x 4096                                       =       266,240
constexpr uint64_t kMistralMatrices = 7'241'465'856;
constexpr uint64_t kMistralNorms = 266'240;

TEST(FitFormula, MistralBf16WeightsAreAbout14_5GB) {
  const auto w = fit::weight_bytes(catalog_shape("mistral-7b-v0.1"), DType::BF16);
  EXPECT_EQ(w.total(), kMistralMatrices * 2 + kMistralNorms * 4);  // 14,483,996,672
  EXPECT_NEAR(static_cast<double>(w.total()) / 1e9, 14.5, 0.05);
  EXPECT_EQ(fit::parameter_count(catalog_shape("mistral-7b-v0.1")),
            static_cast<int64_t>(kMistralMatrices + kMistralNorms));
}

TEST(FitFormula, MistralKvCacheIs128KiBPerTokenInF16) {
  // 2 (keys, values) x 32 layers x 8 KV heads x 128 x 2 bytes = 131,072 bytes per token.
  const auto shape = catalog_shape("mistral-7b-v0.1");
  RunShape run;
  run.context = 4096;
  run.kv_type = kv::KVType::F16;
  const auto r = fit::run_bytes(shape, DType::BF16, run);
  EXPECT_EQ(r.kv_per_layer * 32, uint64_t{131072} * 4096);
  EXPECT_EQ(r.kv_per_layer * 32, uint64_t{512} << 20);  // 0.5 GiB at 4K context
  // A GPU layer keeps its cache in F32: twice that.
  EXPECT_EQ(r.kv_per_gpu_layer * 32, uint64_t{1} << 30);
  // Not asked for: what the engine picks for BF16 weights (F16), the same bytes.
  run.kv_type.reset();
  const auto by_default = fit::run_bytes(shape, DType::BF16, run);
  EXPECT_EQ(by_default.kv_type, kv::KVType::F16);
  EXPECT_EQ(by_default.kv_per_layer, r.kv_per_layer);
  EXPECT_EQ(by_default.kv_type, default_kv_type(false));
  // An F32 cache asked for: twice.
  run.kv_type = kv::KVType::F32;
  EXPECT_EQ(fit::run_bytes(shape, DType::BF16, run).kv_per_layer * 32, uint64_t{1} << 30);
}

TEST(FitFormula, KvCacheTypeFollowsTheEngineForALocalFile) {
  // stories260K is all F32: the engine keeps an F32 cache for it, and so does the plan; the
  // same model planned at Q8_0 gets F16, as the engine would give it.
  const fit::ModelShape stories = fit::shape_from_local(kData + "/models/stories260K.gguf");
  RunShape run;
  run.context = 512;
  EXPECT_EQ(fit::run_bytes(stories, std::nullopt, run).kv_type, kv::KVType::F32);
  EXPECT_EQ(fit::run_bytes(stories, DType::Q8_0, run).kv_type, kv::KVType::F16);
  EXPECT_EQ(fit::run_bytes(stories, std::nullopt, run).kv_per_layer,
            2 * fit::run_bytes(stories, DType::Q8_0, run).kv_per_layer);
}

TEST(FitFormula, Llama3_8B) {
  // As Mistral but vocabulary 128256: embeddings + head 2 x 128256 x 4096 = 1,050,673,152.
  const uint64_t matrices = 1'050'673'152 + 6'979'321'856;  // 8,029,995,008
  const auto shape = catalog_shape("llama-3-8b-instruct");
  EXPECT_EQ(fit::parameter_count(shape), static_cast<int64_t>(matrices + kMistralNorms));
  // Every matrix row (4096 or 14336 wide) is whole 256-blocks, so no F16 fallback.
  EXPECT_EQ(fit::weight_bytes(shape, DType::Q4_K).total(),
            matrices / 256 * 144 + kMistralNorms * 4);  // 4,517,937,152
  EXPECT_EQ(fit::weight_bytes(shape, DType::Q8_0).total(),
            matrices / 32 * 34 + kMistralNorms * 4);  // 8,532,934,656
  EXPECT_EQ(fit::weight_bytes(shape, DType::F16).total(), matrices * 2 + kMistralNorms * 4);
  // Generating a token gathers one embedding row but reads the whole head.
  const auto w = fit::weight_bytes(shape, DType::Q8_0);
  EXPECT_EQ(w.read_global, uint64_t{128256} * 4096 / 32 * 34 + 4096 / 32 * 34 + 4096 * 4);
}

TEST(FitFormula, MixtralKeepsEveryExpertResidentButReadsTheActiveOnes) {
  // Mixtral 8x7B: Mistral's attention, 8 experts of FFN 14336, 2 active, router 8 x 4096.
  //   per layer: attention 41,943,040 + router 32,768 + experts 8 x 3 x 14336 x 4096
  //              (1,409,286,144)                                   = 1,451,261,952
  //   32 layers 46,440,382,464 + embeddings/head 262,144,000         = 46,702,526,464
  const uint64_t matrices = 46'702'526'464;
  const auto shape = catalog_shape("mixtral-8x7b-instruct");
  const auto w = fit::weight_bytes(shape, DType::Q4_0);
  EXPECT_EQ(w.total(), matrices / 32 * 18 + kMistralNorms * 4);  // 26,271,236,096
  // Per token a layer reads attention, router, norms and 2 of the 8 experts.
  const uint64_t per_layer_read = (41'943'040 + 32'768 + 1'409'286'144 / 8 * 2) / 32 * 18 + 2 * 4096 * 4;
  EXPECT_EQ(sum(w.read_layers), per_layer_read * 32);
  EXPECT_LT(sum(w.read_layers) * 3, sum(w.layers));
}

TEST(FitFormula, TiedEmbeddingsAreStoredOnceAndReadAsTheHead) {
  // Llama 3.2 1B: hidden 2048, 16 layers, 32 heads of 64, 8 KV heads, FFN 8192, vocab
  // 128256, tied. Per layer 4,194,304 x 2 + 1,048,576 x 2 + 3 x 8192 x 2048 = 60,817,408.
  const uint64_t embedding = uint64_t{128256} * 2048;  // 262,668,288
  const uint64_t matrices = embedding + 16 * uint64_t{60'817'408};
  const uint64_t norms = (2 * 16 + 1) * 2048;
  const auto shape = catalog_shape("llama-3.2-1b-instruct");
  EXPECT_EQ(fit::parameter_count(shape), static_cast<int64_t>(matrices + norms));  // 1.236B
  for (const auto& t : shape.tensors) EXPECT_NE(t.name, "output.weight");
  const auto w = fit::weight_bytes(shape, DType::BF16);
  EXPECT_EQ(w.total(), matrices * 2 + norms * 4);
  EXPECT_EQ(w.read_global, embedding * 2 + 2048 * 4);  // the whole table, as the head
}

TEST(FitFormula, RowsThatAreNotWholeBlocksFallBackToF16AsQuantizeDoes) {
  // Qwen2.5 0.5B: hidden 896 is not a multiple of 256, so at Q4_K every matrix whose rows are
  // 896 wide is stored F16; only ffn_down (rows of 4864 = 19 x 256) is Q4_K. Biases and norms
  // stay F32. 24 layers, 14 heads of 64, 2 KV heads, FFN 4864, vocab 151936, tied.
  const uint64_t f16_per_layer = 896 * 896 * 2 + 128 * 896 * 2 + 4864 * 896 * 2;  // q,o k,v gate,up
  const uint64_t q4k_per_layer = 896 * 4864;
  const uint64_t f32_per_layer = 2 * 896 + 896 + 2 * 128;  // norms, q/k/v biases
  const uint64_t expected = (uint64_t{151936} * 896 + 24 * f16_per_layer) * 2 +
                            24 * q4k_per_layer / 256 * 144 + (24 * f32_per_layer + 896) * 4;
  EXPECT_EQ(fit::weight_bytes(catalog_shape("qwen2.5-0.5b-instruct"), DType::Q4_K).total(),
            expected);
}

TEST(FitFormula, ContextAndParallelScaleOnlyTheKvCacheAndTokenBuffers) {
  const auto shape = catalog_shape("llama-3.1-8b-instruct");
  RunShape one;
  one.context = 8192;
  one.threads = 4;
  RunShape four = one;
  four.parallel = 4;
  const auto a = fit::run_bytes(shape, DType::Q4_K, one);
  const auto b = fit::run_bytes(shape, DType::Q4_K, four);
  EXPECT_EQ(b.kv_per_layer, 4 * a.kv_per_layer);
  EXPECT_EQ(a.kv_per_layer, uint64_t{8192} * 2 * 1024 * 2);  // F16 keys and values (Q4_K)
  EXPECT_EQ(a.kv_per_gpu_layer, 2 * a.kv_per_layer);         // F32 on a GPU
  EXPECT_GT(b.compute, a.compute);
  EXPECT_EQ(a.resident, b.resident);
}

TEST(FitFormula, RunShapesOutsideTheirLimitsAreRefused) {
  const auto shape = catalog_shape("tinyllama-1.1b-chat");
  RunShape run;
  run.context = fit::kMaxPlanContext + 1;
  EXPECT_THROW(fit::run_bytes(shape, DType::Q8_0, run), Error);
  run.context = 0;
  EXPECT_THROW(fit::run_bytes(shape, DType::Q8_0, run), Error);
}

}  // namespace
