// The data `hearth fit` plans with: the model catalog, the GPU table, name matching, what
// this machine reports (/proc/meminfo, driver bandwidth), and local model files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "fit/catalog.h"
#include "fit/gpu_detect.h"
#include "fit/gpu_table.h"
#include "fit/hardware.h"
#include "fit/model_shape.h"
#include "fit/names.h"
#include "support/run_command.h"

namespace {

using namespace hearth;
const std::string kData = HEARTH_TESTDATA;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(FitCatalog, HoldsThePopularOpenWeightFamilies) {
  EXPECT_GE(fit::catalog().size(), 40u);
  for (const char* id :
       {"mistral-7b-v0.1", "zephyr-7b-beta", "notus-7b-v1", "llama-2-7b", "llama-2-13b",
        "llama-2-70b", "llama-3.2-1b-instruct", "llama-3.2-3b-instruct", "llama-3-8b-instruct",
        "llama-3.1-70b-instruct", "qwen2.5-0.5b-instruct", "qwen2.5-72b-instruct", "qwen3-0.6b",
        "qwen3-32b", "qwen3-30b-a3b", "phi-3-mini-4k-instruct", "phi-3.5-mini-instruct", "phi-4",
        "gemma-2-9b-it", "gemma-3-27b-it", "mixtral-8x7b-instruct",
        "deepseek-r1-distill-qwen-7b", "deepseek-r1-distill-llama-8b", "tinyllama-1.1b-chat",
        "smollm2-135m-instruct"})
    EXPECT_NE(fit::find_catalog_model(id), nullptr) << id;
}

TEST(FitCatalog, ShapesAddUpToThePublishedParameterCounts) {
  // Catches a mistyped shape: the count derived from layers, widths and vocabulary must match
  // the count the publisher gives (vision encoders excepted) within 2%.
  for (const auto& m : fit::catalog()) {
    const double derived = static_cast<double>(fit::parameter_count(fit::shape_from_catalog(m)));
    const double published = (m.params_b - m.vision_params_b) * 1e9;
    EXPECT_NEAR(derived / published, 1.0, 0.02) << m.id;
    EXPECT_TRUE(m.source.starts_with("https://")) << m.id;
    EXPECT_LE(m.config.n_kv_heads, m.config.n_heads) << m.id;
  }
}

TEST(FitCatalog, FindsModelsByIdOrRepositoryIgnoringCaseAndPunctuation) {
  const auto* m = fit::find_catalog_model("Mistral-7B v0.1");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->id, "mistral-7b-v0.1");
  EXPECT_EQ(fit::find_catalog_model("argilla/notus-7b-v1"), fit::find_catalog_model("notus-7b-v1"));
  EXPECT_EQ(fit::find_catalog_model("no-such-model"), nullptr);
  EXPECT_EQ(fit::find_catalog_model(""), nullptr);
  const auto close = fit::similar_catalog_ids("mistral-7b");
  ASSERT_FALSE(close.empty());
  EXPECT_EQ(close.front().rfind("mistral-7b", 0), 0u);
}

TEST(FitCatalog, MixtureOfExpertsAndTiedEmbeddingsAreRecorded) {
  const auto* mixtral = fit::find_catalog_model("mixtral-8x7b-instruct");
  ASSERT_NE(mixtral, nullptr);
  EXPECT_EQ(mixtral->extras.n_experts, 8);
  EXPECT_EQ(mixtral->extras.n_active_experts, 2);
  EXPECT_TRUE(fit::find_catalog_model("gemma-2-2b-it")->config.tied_embeddings);
  EXPECT_FALSE(fit::find_catalog_model("llama-3-8b-instruct")->config.tied_embeddings);
}

TEST(FitCatalog, BadEntriesAreOneLineErrorsNamingTheEntryAndField) {
  const std::string good =
      R"({"id": "x", "name": "X", "hf": "o/x", "family": "f", "params_b": 1, "layers": 2,
          "hidden": 64, "heads": 4, "kv_heads": 2, "head_dim": 16, "vocab": 100, "ffn": 128,
          "max_context": 512, "source": "https://example.org"})";
  EXPECT_EQ(fit::parse_catalog(R"({"models": [)" + good + "]}", "t.json").size(), 1u);
  auto err = [](const std::string& text) {
    return error_of([&] { fit::parse_catalog(text, "t.json"); });
  };
  EXPECT_NE(err("{").find("t.json: not valid JSON"), std::string::npos);
  EXPECT_NE(err(R"({"gpus": []})").find("\"models\" array"), std::string::npos);
  std::string no_layers = good;
  no_layers.replace(no_layers.find("\"layers\": 2,"), 12, "");
  EXPECT_NE(err(R"({"models": [)" + no_layers + "]}").find("model 'x' has no \"layers\""),
            std::string::npos);
  std::string negative = good;
  negative.replace(negative.find("\"hidden\": 64"), 12, "\"hidden\": -64");
  EXPECT_NE(err(R"({"models": [)" + negative + "]}").find("\"hidden\" must be a non-negative"),
            std::string::npos);
  EXPECT_NE(err(R"({"models": [)" + good + "," + good + "]}").find("appears twice"),
            std::string::npos);
  std::string bad_heads = good;
  bad_heads.replace(bad_heads.find("\"kv_heads\": 2"), 13, "\"kv_heads\": 3");
  EXPECT_NE(err(R"({"models": [)" + bad_heads + "]}").find("model 'x'"), std::string::npos);
}

TEST(FitGpuTable, KnowsConsumerAndDataCenterCards) {
  EXPECT_GE(fit::gpu_table().size(), 30u);
  bool consumer = false, datacenter = false;
  for (const auto& g : fit::gpu_table()) {
    consumer |= g.kind == "consumer";
    datacenter |= g.kind == "datacenter";
    EXPECT_TRUE(g.source.starts_with("https://")) << g.name;
  }
  EXPECT_TRUE(consumer && datacenter);
  const auto& rtx4080 = fit::find_gpu("RTX 4080");
  EXPECT_EQ(rtx4080.memory_gib, 16);
  EXPECT_EQ(rtx4080.bandwidth_gbs, 717);
}

TEST(FitGpuTable, MatchesNamesIgnoringCaseSpacesAndBrandWords) {
  EXPECT_EQ(fit::find_gpu("rtx4080").name, "RTX 4080");
  EXPECT_EQ(fit::find_gpu("GeForce RTX-4080").name, "RTX 4080");
  EXPECT_EQ(fit::find_gpu("nvidia geforce rtx 4080 super").name, "RTX 4080 Super");
  EXPECT_EQ(fit::find_gpu("T4").name, "Tesla T4");
  EXPECT_EQ(fit::find_gpu("a100-sxm4-80gb").name, "A100 80GB");
}

TEST(FitGpuTable, UnknownNamesSuggestCloseOnes) {
  const std::string e = error_of([] { fit::find_gpu("RTX 4085"); });
  EXPECT_NE(e.find("unknown GPU 'RTX 4085'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean RTX 4080"), std::string::npos) << e;
  const std::string ambiguous = error_of([] { fit::find_gpu("4080"); });
  EXPECT_NE(ambiguous.find("RTX 4080 or RTX 4080 Super"), std::string::npos) << ambiguous;
  const std::string nothing = error_of([] { fit::find_gpu("qqqqqqqq"); });
  EXPECT_NE(nothing.find("--list-gpus"), std::string::npos) << nothing;
}

TEST(FitGpuTable, DriverDeviceNamesMapToTableEntries) {
  EXPECT_EQ(fit::match_device_name("NVIDIA H100 80GB HBM3")->name, "H100 SXM");
  EXPECT_EQ(fit::match_device_name("NVIDIA GeForce RTX 4080 SUPER")->name, "RTX 4080 Super");
  EXPECT_EQ(fit::match_device_name("NVIDIA GeForce RTX 4080")->name, "RTX 4080");
  EXPECT_EQ(fit::match_device_name("NVIDIA L40S")->name, "L40S");
  EXPECT_EQ(fit::match_device_name("Tesla T4")->name, "Tesla T4");
  EXPECT_EQ(fit::match_device_name("Some Future Accelerator"), nullptr);
}

TEST(FitHardware, BandwidthFromMemoryClockAndBusWidth) {
  // Published peaks: RTX 4090 1008 GB/s (10501 MHz GDDR6X, 384 bit); H100 SXM 3.35 TB/s
  // (2619 MHz HBM3, 5120 bit); T4 320 GB/s (5001 MHz GDDR6, 256 bit).
  EXPECT_NEAR(fit::memory_bandwidth_gbs(10501, 384), 1008, 1);
  EXPECT_NEAR(fit::memory_bandwidth_gbs(2619, 5120), 3352, 1);
  EXPECT_NEAR(fit::memory_bandwidth_gbs(5001, 256), 320, 1);
  EXPECT_EQ(fit::memory_bandwidth_gbs(0, 256), 0);
}

TEST(FitHardware, ParsesProcMeminfo) {
  const auto m = fit::parse_meminfo(
      "MemTotal:       32768000 kB\nMemFree:         1000000 kB\nMemAvailable:   20000000 kB\n");
  EXPECT_EQ(m.total_bytes, uint64_t{32768000} * 1024);
  EXPECT_EQ(m.available_bytes, uint64_t{20000000} * 1024);
  // Kernels before 3.14 have no MemAvailable: free plus page cache.
  const auto old = fit::parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nCached: 50 kB\n");
  EXPECT_EQ(old.available_bytes, uint64_t{150} * 1024);
  EXPECT_NE(error_of([] { fit::parse_meminfo("garbage"); }).find("MemTotal"), std::string::npos);
}

TEST(FitHardware, ThisMachineHasRamAndACpu) {
  const auto m = fit::this_machine_cpu_only();
  EXPECT_GT(m.ram_total_bytes, 0u);
  EXPECT_GT(m.ram_usable_bytes, 0u);
  EXPECT_LE(m.ram_usable_bytes, m.ram_total_bytes);
  EXPECT_GE(m.cpu.cores, 1);
  EXPECT_FALSE(m.cpu.simd.empty());
  EXPECT_TRUE(m.gpus.empty());
}

TEST(FitHardware, DescribedMachines) {
  fit::MachineRequest r;
  r.gpu = "RTX 4090";
  r.gpus = 2;
  r.ram_gib = 64;
  r.cpu_bandwidth_gbs = 50;
  const auto m = fit::describe_machine(r);
  ASSERT_EQ(m.gpus.size(), 2u);
  EXPECT_EQ(m.gpus[0].total_bytes, uint64_t{24} << 30);
  EXPECT_EQ(m.gpus[0].usable_bytes, (uint64_t{24} << 30) - fit::kGpuReserveBytes);
  EXPECT_EQ(m.ram_total_bytes, uint64_t{64} << 30);
  EXPECT_EQ(m.ram_usable_bytes, (uint64_t{62} << 30));  // 2 GiB kept for the OS
  EXPECT_EQ(m.cpu_bandwidth_gbs, 50);
}

TEST(FitHardware, ImplausibleSizesAreRefused) {
  auto request = [](auto&& set) {
    fit::MachineRequest r;
    r.gpu = "none";
    r.measure_bandwidth = false;
    set(r);
    return error_of([&] { fit::describe_machine(r); });
  };
  EXPECT_NE(request([](auto& r) { r.ram_gib = -5; }).find("--ram -5"), std::string::npos);
  EXPECT_NE(request([](auto& r) { r.ram_gib = 1e12; }).find("not a plausible"), std::string::npos);
  EXPECT_NE(request([](auto& r) { r.cpu_bandwidth_gbs = 0; }).find("--cpu-bandwidth"),
            std::string::npos);
  EXPECT_NE(request([](auto& r) { r.gpus = 65; }).find("--gpus 65"), std::string::npos);
  EXPECT_NE(request([](auto& r) { r.gpus = 2; }).find("--gpu none"), std::string::npos);
}

TEST(FitNames, NormalizeAndSuggest) {
  EXPECT_EQ(fit::normalize_name(" GeForce RTX-4080 "), "geforcertx4080");
  const auto close = fit::closest_names("lama-2-7b", {"llama-2-7b", "llama-2-13b", "phi-4"});
  ASSERT_FALSE(close.empty());
  EXPECT_EQ(close.front(), "llama-2-7b");
  EXPECT_TRUE(fit::closest_names("zzzzzzzzzz", {"llama-2-7b", "phi-4"}).empty());
  EXPECT_EQ(fit::join_or({"a", "b", "c"}), "a, b or c");
}

TEST(FitLocalModel, Stories260kGgufAsTheFileDescribesIt) {
  const std::string path = kData + "/models/stories260K.gguf";
  const auto s = fit::shape_from_local(path);
  EXPECT_TRUE(s.local);
  EXPECT_EQ(s.config.n_layers, 5);
  EXPECT_EQ(s.config.dim, 64);
  EXPECT_EQ(s.file_type, DType::F32);
  EXPECT_EQ(s.mapped_bytes, std::filesystem::file_size(path));
  EXPECT_GT(s.parsed_bytes, 0u);
  // 260,032 parameters plus the output head the GGUF carries (a copy of the embeddings):
  // embeddings 512x64, head 512x64, final norm 64, 5 layers of q 64x64, k,v 32x64, o 64x64,
  // two norms of 64, gate/up/down 3 x 172x64.
  EXPECT_EQ(fit::parameter_count(s), 512 * 64 * 2 + 64 + 5 * (4096 * 2 + 2048 * 2 + 128 + 3 * 172 * 64));
}

TEST(FitLocalModel, HfFolderWithTiedEmbeddings) {
  const auto s = fit::shape_from_local(kData + "/models/stories260K-hf");
  EXPECT_TRUE(s.config.tied_embeddings);
  EXPECT_EQ(fit::parameter_count(s), 512 * 64 + 64 + 5 * (4096 * 2 + 2048 * 2 + 128 + 3 * 172 * 64));
  for (const auto& t : s.tensors) EXPECT_NE(t.name, "output.weight");
}

TEST(FitLocalModel, AFileThatIsNotAModelIsAClearError) {
  test::TempDir dir;
  {
    std::ofstream(dir / "notes.txt") << "not a model\n";
    std::ofstream(dir / "fake.gguf") << "GGUF but not really";
  }
  const std::string txt = error_of([&] { fit::shape_from_local(dir / "notes.txt"); });
  EXPECT_NE(txt.find("not a .gguf file"), std::string::npos) << txt;
  const std::string fake = error_of([&] { fit::shape_from_local(dir / "fake.gguf"); });
  EXPECT_NE(fake.find(dir / "fake.gguf"), std::string::npos) << fake;
  EXPECT_EQ(fake.find('\n'), std::string::npos) << fake;
}

}  // namespace
