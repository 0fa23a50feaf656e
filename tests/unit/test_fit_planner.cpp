// The planner's decisions on machines described by hand: where a model goes (GPU, split,
// CPU, nowhere), the largest context that fits, and the speed that placement allows.
#include <gtest/gtest.h>

#include "core/error.h"
#include "fit/catalog.h"
#include "fit/planner.h"
#include "fit/run_check.h"

namespace {

using namespace hearth;
using fit::Verdict;
constexpr uint64_t kGiB = uint64_t{1} << 30;

fit::ModelShape model(const char* id) { return fit::shape_from_catalog(*fit::find_catalog_model(id)); }

fit::Machine machine(uint64_t ram_usable, std::vector<fit::Gpu> gpus = {}, double cpu_gbs = 50) {
  fit::Machine m;
  m.ram_total_bytes = m.ram_usable_bytes = ram_usable;
  m.cpu_bandwidth_gbs = cpu_gbs;
  m.gpus = std::move(gpus);
  return m;
}

fit::Gpu card(double gib, double gbs) {
  const auto total = static_cast<uint64_t>(gib * static_cast<double>(kGiB));
  return {"test card", total, total - fit::kGpuReserveBytes, gbs, "table"};
}

fit::RunShape context(int64_t n) {
  fit::RunShape r;
  r.context = n;
  r.threads = 8;
  return r;
}

// The founding example: a 16 GB card and 64 GB of RAM, Mistral 7B (as notus-7b-v1) at 8K.
TEST(FitPlanner, SixteenGigabyteCardHoldsMistralAt8BitsAndSplitsBf16) {
  const auto m = machine(62 * kGiB, {card(16, 717)});
  for (const char* id : {"notus-7b-v1", "mistral-7b-v0.1"}) {
    const auto shape = model(id);
    const auto q8 = fit::plan_model(shape, DType::Q8_0, context(8192), m);
    const auto q4 = fit::plan_model(shape, DType::Q4_K, context(8192), m);
    const auto bf16 = fit::plan_model(shape, DType::BF16, context(8192), m);
    EXPECT_EQ(q8.verdict, Verdict::Gpu) << id;
    EXPECT_EQ(q4.verdict, Verdict::Gpu) << id;
    EXPECT_EQ(q8.gpu_layers, 32);
    ASSERT_EQ(bf16.verdict, Verdict::Split) << id;
    EXPECT_GT(bf16.gpu_layers, 0);
    EXPECT_LT(bf16.gpu_layers, 32);
    EXPECT_LE(bf16.bytes_gpu, m.gpus[0].usable_bytes);
    EXPECT_LE(bf16.bytes_cpu, m.ram_usable_bytes);
    // Splitting costs speed: the CPU's share is read at CPU bandwidth.
    EXPECT_GT(q8.est_tokens_per_s, bf16.est_tokens_per_s);
  }
}

TEST(FitPlanner, WithoutAGpuModelsRunOnTheCpuOrNowhere) {
  const auto m = machine(16 * kGiB);
  const auto q4 = fit::plan_model(model("llama-3.1-8b-instruct"), DType::Q4_K, context(4096), m);
  EXPECT_EQ(q4.verdict, Verdict::Cpu);
  EXPECT_EQ(q4.gpu_layers, 0);
  EXPECT_EQ(q4.bytes_gpu, 0u);
  EXPECT_EQ(q4.bytes_cpu, q4.engine + q4.overhead);
  const auto big = fit::plan_model(model("llama-3.1-70b-instruct"), DType::F16, context(4096), m);
  EXPECT_EQ(big.verdict, Verdict::None);
  EXPECT_EQ(big.est_tokens_per_s, 0);
  EXPECT_EQ(big.max_context, 0);
  EXPECT_GT(big.bytes_cpu, m.ram_usable_bytes);  // what it would need
}

TEST(FitPlanner, MaxContextIsTheLargestThatStillFits) {
  const auto m = machine(8 * kGiB);
  const auto shape = model("llama-3.1-8b-instruct");
  const auto plan = fit::plan_model(shape, DType::Q4_K, context(4096), m);
  ASSERT_GT(plan.max_context, 4096);
  ASSERT_LT(plan.max_context, shape.config.max_context);
  EXPECT_NE(fit::plan_model(shape, DType::Q4_K, context(plan.max_context), m).verdict, Verdict::None);
  EXPECT_EQ(fit::plan_model(shape, DType::Q4_K, context(plan.max_context + 1), m).verdict,
            Verdict::None);
  // A small model fits its whole trained context.
  const auto tiny = fit::plan_model(model("smollm2-135m-instruct"), DType::Q8_0, context(2048), m);
  EXPECT_EQ(tiny.max_context, 8192);
}

TEST(FitPlanner, MaxContextOnTheGpuIsBelowTheSplitLimit) {
  const auto m = machine(62 * kGiB, {card(16, 717)});
  const auto bf16 = fit::plan_model(model("mistral-7b-v0.1"), DType::BF16, context(8192), m);
  EXPECT_GT(bf16.max_context_gpu, 0);
  EXPECT_LT(bf16.max_context_gpu, 8192);
  EXPECT_EQ(bf16.max_context, 32768);
  EXPECT_EQ(fit::plan_model(model("mistral-7b-v0.1"), DType::BF16, context(bf16.max_context_gpu), m)
                .verdict,
            Verdict::Gpu);
}

TEST(FitPlanner, SpeedIsBandwidthOverBytesReadPerToken) {
  // CPU only at 100 GB/s: one token reads every layer, the head, one embedding row and, with
  // the context half full, half the KV cache.
  const auto m = machine(64 * kGiB, {}, 100);
  const auto shape = model("llama-3-8b-instruct");
  const auto run = context(1024);
  const auto plan = fit::plan_model(shape, DType::Q8_0, run, m);
  const auto w = fit::weight_bytes(shape, DType::Q8_0);
  const auto r = fit::run_bytes(shape, DType::Q8_0, run);
  double read = static_cast<double>(w.read_global);
  for (size_t i = 0; i < w.read_layers.size(); ++i)
    read += static_cast<double>(w.read_layers[i] + r.kv_read_per_layer);
  EXPECT_NEAR(plan.est_tokens_per_s, 100e9 / read, 1e-9 * plan.est_tokens_per_s);
  // By hand: 8.533 GB of Q8_0 weights less the 0.558 GB embedding table (one row of it is
  // read), plus half of a 1024-token F16 cache (a quantized model's default; 512 x 128 KiB =
  // 0.067 GB): 8.042 GB a token.
  EXPECT_NEAR(plan.est_tokens_per_s, 100e9 / 8.042e9, 0.05);
}

TEST(FitPlanner, MixtureOfExpertsReadsOnlyActiveExperts) {
  const auto m = machine(128 * kGiB, {}, 100);
  const auto mixtral = fit::plan_model(model("mixtral-8x7b-instruct"), DType::Q4_0, context(512), m);
  ASSERT_EQ(mixtral.verdict, Verdict::Cpu);
  // All 46.7B parameters resident, about 12.9B read per token.
  EXPECT_GT(mixtral.weights, 24 * kGiB);
  EXPECT_NEAR(mixtral.est_tokens_per_s, 100e9 / (12.9e9 * 18 / 32), 1.0);
}

TEST(FitPlanner, TwoCardsHoldWhatOneSplits) {
  const auto shape = model("mixtral-8x7b-instruct");
  const auto one = fit::plan_model(shape, DType::Q4_K, context(4096), machine(120 * kGiB, {card(24, 1008)}));
  const auto two = fit::plan_model(shape, DType::Q4_K, context(4096),
                                   machine(120 * kGiB, {card(24, 1008), card(24, 1008)}));
  EXPECT_EQ(one.verdict, Verdict::Split);
  EXPECT_EQ(two.verdict, Verdict::Gpu);
  EXPECT_GT(two.est_tokens_per_s, one.est_tokens_per_s);
}

TEST(FitPlanner, ALocalFileIsPlannedAsStoredOrConverted) {
  const std::string path = std::string(HEARTH_TESTDATA) + "/models/stories260K.gguf";
  const auto shape = fit::shape_from_local(path);
  const auto m = machine(8 * kGiB);
  const auto as_is = fit::plan_model(shape, std::nullopt, context(512), m);
  EXPECT_TRUE(as_is.as_stored);
  EXPECT_EQ(as_is.weight_type, "F32");
  EXPECT_GE(as_is.weights, shape.mapped_bytes);  // the whole file is mapped
  const auto q8 = fit::plan_model(shape, DType::Q8_0, context(512), m);
  EXPECT_FALSE(q8.as_stored);
  EXPECT_LT(q8.weights, as_is.weights);
  // Catalog models have no stored form.
  EXPECT_THROW(fit::plan_model(model("phi-4"), std::nullopt, context(512), m), Error);
}

TEST(FitRunCheck, RefusesWithThePlansNumbersAndSuggestsAContext) {
  const std::string path = std::string(HEARTH_TESTDATA) + "/models/stories260K.gguf";
  const auto m = machine(64ull << 20);  // 64 MiB of RAM
  try {
    fit::plan_local_run(path, 1'000'000, 512, m);
    FAIL() << "a million-token context should not fit in 64 MiB";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("needs"), std::string::npos) << msg;
    EXPECT_NE(msg.find("KV cache"), std::string::npos) << msg;
    EXPECT_NE(msg.find("64 MiB available"), std::string::npos) << msg;
    EXPECT_NE(msg.find("use -c"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  // Without -c, the context shrinks to what fits, here the model's whole 2048.
  const auto ok = fit::plan_local_run(path, 0, 512, m);
  EXPECT_EQ(ok.context, 2048);
  EXPECT_EQ(ok.plan.verdict, Verdict::Cpu);
}

TEST(FitRunCheck, DefaultContextShrinksToWhatFits) {
  const std::string path = std::string(HEARTH_TESTDATA) + "/models/stories260K.gguf";
  // Enough for the runtime and weights but not for the full 2048-token cache and buffers.
  const auto full = fit::plan_local_run(path, 0, 512, machine(64ull << 20));
  const auto m = machine(full.plan.bytes_cpu - 1);
  const auto shrunk = fit::plan_local_run(path, 0, 512, m);
  EXPECT_LT(shrunk.context, 2048);
  EXPECT_GT(shrunk.context, 0);
  EXPECT_LE(shrunk.plan.bytes_cpu, m.ram_usable_bytes);
}

}  // namespace

namespace {

TEST(FitServeCheck, PoolShrinksToWhatFitsButNeverBelowOneContext) {
  const std::string path = std::string(HEARTH_TESTDATA) + "/models/stories260K.gguf";
  const auto roomy = fit::plan_local_serve(path, 0, 0, 512, machine(64ull << 20));
  EXPECT_EQ(roomy.context_per_sequence, 2048);  // the model's whole trained context
  EXPECT_EQ(roomy.kv_tokens, fit::kDefaultServeKvTokens);
  EXPECT_EQ(roomy.plan.verdict, Verdict::Cpu);
  EXPECT_EQ(roomy.plan.context, fit::kDefaultServeKvTokens);

  // Less RAM than the default pool needs: the pool shrinks, and it still fits.
  const auto m = machine(roomy.plan.bytes_cpu - 1);
  const auto shrunk = fit::plan_local_serve(path, 0, 0, 512, m);
  EXPECT_LT(shrunk.kv_tokens, fit::kDefaultServeKvTokens);
  EXPECT_GE(shrunk.kv_tokens, shrunk.context_per_sequence);
  EXPECT_LE(shrunk.plan.bytes_cpu, m.ram_usable_bytes);
  // One position more does not fit: the shrink takes all there is.
  EXPECT_THROW(fit::plan_local_serve(path, 0, shrunk.kv_tokens + 1, 512, m), Error);
}

TEST(FitServeCheck, ExplicitPoolThatCannotFitIsRefusedWithTheLargestThatDoes) {
  const std::string path = std::string(HEARTH_TESTDATA) + "/models/stories260K.gguf";
  const auto m = machine(64ull << 20);
  try {
    fit::plan_local_serve(path, 0, 100'000'000, 512, m);
    FAIL() << "a 100M-position pool should not fit in 64 MiB";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("needs"), std::string::npos) << msg;
    EXPECT_NE(msg.find("KV cache of 100000000 token positions"), std::string::npos) << msg;
    EXPECT_NE(msg.find("64 MiB available"), std::string::npos) << msg;
    EXPECT_NE(msg.find("use --kv-tokens"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  EXPECT_THROW(fit::plan_local_serve(path, 1024, 512, 512, m), Error);  // pool < one context
}

}  // namespace
