// `hearth synth` writes every weight type; each file loads and generates.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/run_command.h"

using hearth::test::run_command;
using hearth::test::TempDir;

namespace {
const std::string kBin = HEARTH_BINARY;
const std::string kVocab = std::string(HEARTH_TESTDATA) + "/models/stories260K.gguf";
}  // namespace

class SynthTypes : public ::testing::TestWithParam<const char*> {};

TEST_P(SynthTypes, WritesLoadsAndGenerates) {
  TempDir dir;
  const std::string out = dir / "m.gguf";
  const auto s = run_command(kBin + " synth --shape tiny-256 --type " + GetParam() + " --vocab " +
                             kVocab + " -o " + out);
  ASSERT_EQ(s.status, 0) << s.err;
  const auto r = run_command(kBin + " run -m " + out + " --prompt-ids 1,400,401 -n 8 --temp 0 --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["generated_ids"].size(), 8u);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, SynthTypes,
                         ::testing::Values("F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"));

TEST(Synth, UnknownShapeListsTheKnownOnes) {
  TempDir dir;
  const auto s = run_command(kBin + " synth --shape gpt5 --type Q8_0 --vocab " + kVocab + " -o " + dir / "x.gguf");
  EXPECT_EQ(s.status, 1);
  EXPECT_NE(s.err.find("unknown --shape 'gpt5' (known: tinyllama-1.1b"), std::string::npos) << s.err;
}
