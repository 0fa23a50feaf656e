// `hearth fit` and the planner's gate in `hearth run`, driven as a person would.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/run_command.h"

using hearth::test::run_command;
using hearth::test::TempDir;

namespace {
const std::string kBin = HEARTH_BINARY;
const std::string kData = HEARTH_TESTDATA;
const std::string kStories = kData + "/models/stories260K.gguf";
// A fixed CPU bandwidth keeps the runs quick and their numbers reproducible.
const std::string kFit = kBin + " fit --cpu-bandwidth 40 ";

nlohmann::json plans_of(const nlohmann::json& out, const std::string& model) {
  nlohmann::json found = nlohmann::json::object();
  for (const auto& p : out["plans"])
    if (p["model"] == model) found[p["weight_type"].get<std::string>()] = p;
  return found;
}

// Each bad input: exit status 1 and one line on stderr that names what was wrong.
void expect_one_line_error(const std::string& args, const std::string& fragment) {
  const auto r = run_command(kFit + args);
  EXPECT_EQ(r.status, 1) << args << "\n" << r.out << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << args << ": " << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << args << ": " << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << args << ": " << r.err;
}
}  // namespace

TEST(CliFit, FoundingExampleRtx4080With64GBOfRam) {
  const auto r = run_command(kFit + "--gpu \"RTX 4080\" --ram 64 --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["hardware"]["gpus"][0]["name"], "RTX 4080");
  EXPECT_EQ(out["hardware"]["ram"]["total_bytes"], uint64_t{64} << 30);
  for (const char* id : {"notus-7b-v1", "mistral-7b-v0.1"}) {
    const auto plans = plans_of(out, id);
    EXPECT_EQ(plans["Q8_0"]["verdict"], "gpu") << id;
    EXPECT_EQ(plans["Q4_K"]["verdict"], "gpu") << id;
    EXPECT_EQ(plans["BF16"]["verdict"], "split") << id;
    const int64_t layers = plans["BF16"]["gpu_layers"];
    EXPECT_GT(layers, 0);
    EXPECT_LT(layers, plans["BF16"]["n_layers"].get<int64_t>());
  }
  // Every plan carries the fields programs rely on.
  for (const auto& p : out["plans"])
    for (const char* key : {"model", "weight_type", "context", "verdict", "gpu_layers",
                            "bytes_gpu", "bytes_cpu", "max_context", "est_tokens_per_s"})
      ASSERT_TRUE(p.contains(key)) << key;
}

TEST(CliFit, TableListsWhatFitsWithAColumnPerWeightType) {
  const auto r = run_command(kFit + "--gpu \"RTX 4080\" --ram 64");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("GPU   RTX 4080"), std::string::npos) << r.out;
  for (const char* col : {"F16", "BF16", "Q8_0", "Q6_K", "Q4_K", "Q4_0"})
    EXPECT_NE(r.out.find(col), std::string::npos) << col;
  const size_t row = r.out.find("\nnotus-7b-v1 ");
  ASSERT_NE(row, std::string::npos) << r.out;
  const std::string line = r.out.substr(row + 1, r.out.find('\n', row + 1) - row - 1);
  EXPECT_NE(line.find("/32L"), std::string::npos) << line;  // BF16 split
  EXPECT_NE(line.find("gpu"), std::string::npos) << line;
}

TEST(CliFit, SmallMachineHidesWhatFitsNowhere) {
  const auto r = run_command(kFit + "--gpu none --ram 4");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("\nqwen2.5-0.5b-instruct "), std::string::npos);
  EXPECT_EQ(r.out.find("\nllama-2-70b "), std::string::npos);
  EXPECT_NE(r.out.find("not shown (--all shows them)"), std::string::npos);
  const size_t head = r.out.find("\nmodel ");
  const std::string table = r.out.substr(head, r.out.find("\ngpu: all on the GPU") - head);
  EXPECT_EQ(table.find("L "), std::string::npos) << table;  // no GPU, no "24/32L" splits
  EXPECT_NE(table.find("cpu "), std::string::npos) << table;
}

TEST(CliFit, OneCatalogModelInDetail) {
  const auto r = run_command(kFit + "-m notus-7b-v1 --gpu \"RTX 4080\" --ram 64");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Notus 7B v1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("split"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max ctx"), std::string::npos) << r.out;
}

TEST(CliFit, ALocalFileIsReadForItsArchitecture) {
  const auto r = run_command(kFit + "-m " + kStories + " --gpu none --json -c 512");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto plans = nlohmann::json::parse(r.out)["plans"];
  ASSERT_EQ(plans.size(), 7u);  // as stored, then the six weight types
  EXPECT_EQ(plans[0]["as_stored"], true);
  EXPECT_EQ(plans[0]["weight_type"], "F32");
  EXPECT_EQ(plans[0]["verdict"], "cpu");
  EXPECT_EQ(plans[0]["n_layers"], 5);
  EXPECT_EQ(plans[0]["context"], 512);
  EXPECT_GT(plans[0]["bytes"]["weights"].get<uint64_t>(), 1'000'000u);
}

TEST(CliFit, ListsTheGpusItKnows) {
  const auto r = run_command(kBin + " fit --list-gpus");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("RTX 4080"), std::string::npos);
  EXPECT_NE(r.out.find("H100 SXM"), std::string::npos);
  EXPECT_GE(std::count(r.out.begin(), r.out.end(), '\n'), 31);
}

TEST(CliFit, UnknownGpuSuggestsCloseNames) {
  expect_one_line_error("--gpu \"RTX 4085\"", "did you mean RTX 4080");
  expect_one_line_error("--gpu 4080", "RTX 4080 or RTX 4080 Super");
}

TEST(CliFit, AFileThatIsNotAModel) {
  TempDir dir;
  std::ofstream(dir / "notes.txt") << "hello\n";
  expect_one_line_error("-m " + dir / "notes.txt", "not a .gguf file");
  expect_one_line_error("-m mistral-7b", "mistral-7b-v0.1");  // no such id: close catalog ids
}

TEST(CliFit, NegativeOrAbsurdSizes) {
  expect_one_line_error("--ram -5", "--ram -5");
  expect_one_line_error("--ram 100000000", "not a plausible amount of RAM");
  expect_one_line_error("--ram lots", "--ram lots: not a number");
  expect_one_line_error("--ctx 0", "--ctx 0");
  expect_one_line_error("--ctx 99999999999", "--ctx 99999999999");
  expect_one_line_error("--gpus 0 --gpu \"RTX 4080\"", "--gpus 0");
  expect_one_line_error("--gpus 1000 --gpu \"RTX 4080\"", "--gpus 1000");
  expect_one_line_error("--parallel -1", "--parallel -1");
  expect_one_line_error("--kv-type q8", "--kv-type q8");
  expect_one_line_error("--type Q5_K", "--type Q5_K");
  expect_one_line_error("--gpu none --gpus 2", "--gpu none");
}

TEST(CliRunPlan, RefusesWhatRamCannotHoldBeforeLoading) {
  const auto r = run_command(kBin + " run -m " + kStories + " -p hi -c 100000000");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("needs"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("KV cache"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("use -c 2048 or less"), std::string::npos) << r.err;
  const auto absurd = run_command(kBin + " run -m " + kStories + " -p hi -c 4000000000");
  EXPECT_EQ(absurd.status, 1);
  EXPECT_NE(absurd.err.find("trained for 2048"), std::string::npos) << absurd.err;
}

TEST(CliRunPlan, GpuLayersStayOnTheCpuAndSaySo) {
  const auto r = run_command(kBin + " run -m " + kStories + " -p hi -n 4 --gpu-layers 3");
  EXPECT_EQ(r.status, 0) << r.err;
  // No CUDA device here (or no CUDA backend in this build): a note, and the CPU runs it.
  EXPECT_NE(r.err.find("--gpu-layers 3: no GPU ("), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("all layers run on the CPU"), std::string::npos) << r.err;
  const auto bad = run_command(kBin + " run -m " + kStories + " -p hi -n 4 --gpu-layers some");
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("--gpu-layers some"), std::string::npos) << bad.err;
  // The run's JSON reports the plan it ran with.
  const auto j = run_command(kBin + " run -m " + kStories + " -p hi -n 2 --json");
  ASSERT_EQ(j.status, 0) << j.err;
  EXPECT_EQ(nlohmann::json::parse(j.out)["plan"]["verdict"], "cpu");
}

TEST(CliServePlan, RefusesWhatRamCannotHoldBeforeListening) {
  const auto r = run_command(kBin + " serve -m " + kStories + " --port 0 --kv-tokens 1000000000");
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_EQ(r.out.find("listening"), std::string::npos) << r.out;  // refused before the port
  EXPECT_NE(r.err.find("needs"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("KV cache of 1000000000 token positions"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("use --kv-tokens"), std::string::npos) << r.err;
  const auto bad = run_command(kBin + " serve -m " + kStories + " --port 0 --gpu-layers many");
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("--gpu-layers many"), std::string::npos) << bad.err;
}
