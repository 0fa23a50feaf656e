// --gpu-layers resolution: which leading layers (and whether the head) go to the GPU for given
// byte counts, and the refusals. Expected values are worked out by hand from the inputs.
#include <gtest/gtest.h>

#include "core/error.h"
#include "fit/placement.h"

namespace {

using namespace hearth;
using fit::PlacementInputs;

constexpr uint64_t kMiB = uint64_t{1} << 20;

// 4 layers of 100 MiB weights + 10 MiB KV each; a 50 MiB head; 20 MiB of compute buffers.
PlacementInputs four_layers(uint64_t usable) {
  PlacementInputs in;
  in.layer_bytes = {100 * kMiB, 100 * kMiB, 100 * kMiB, 100 * kMiB};
  in.kv_per_layer = 10 * kMiB;
  in.head_bytes = 50 * kMiB;
  in.compute_bytes = 20 * kMiB;
  in.gpu_usable_bytes = usable;
  return in;
}

TEST(Placement, ParsesAutoAndCountsAndRefusesTheRest) {
  EXPECT_FALSE(fit::parse_gpu_layers("auto").has_value());
  EXPECT_EQ(fit::parse_gpu_layers("0"), 0);
  EXPECT_EQ(fit::parse_gpu_layers("33"), 33);
  for (const char* bad : {"", "-1", "3x", "all", " 2", "+2", "1e3", "99999999999999999999"})
    EXPECT_THROW(fit::parse_gpu_layers(bad), Error) << bad;
}

TEST(Placement, BytesCountLeadingLayersComputeAndHead) {
  const auto in = four_layers(0);
  EXPECT_EQ(fit::gpu_bytes_for(in, 0, false), 0u);
  EXPECT_EQ(fit::gpu_bytes_for(in, 1, false), (20 + 110) * kMiB);
  EXPECT_EQ(fit::gpu_bytes_for(in, 4, false), (20 + 440) * kMiB);
  EXPECT_EQ(fit::gpu_bytes_for(in, 4, true), (20 + 440 + 50) * kMiB);
}

TEST(Placement, LargestFitStopsAtTheFirstLayerThatDoesNotFit) {
  EXPECT_EQ(fit::largest_fit(four_layers(129 * kMiB)).gpu_layers, 0);  // 130 needed for one
  EXPECT_EQ(fit::largest_fit(four_layers(130 * kMiB)).gpu_layers, 1);
  EXPECT_EQ(fit::largest_fit(four_layers(350 * kMiB)).gpu_layers, 3);  // 3 layers need 350
  EXPECT_EQ(fit::largest_fit(four_layers(349 * kMiB)).gpu_layers, 2);
  const auto all_no_head = fit::largest_fit(four_layers(500 * kMiB));
  EXPECT_EQ(all_no_head.gpu_layers, 4);
  EXPECT_FALSE(all_no_head.output_on_gpu);  // 510 with the head
  const auto all = fit::largest_fit(four_layers(510 * kMiB));
  EXPECT_EQ(all.gpu_layers, 4);
  EXPECT_TRUE(all.output_on_gpu);
}

TEST(Placement, WithoutAGpuEverythingRunsOnTheCpuAndAskingSaysSo) {
  const auto in = four_layers(0);
  const auto quiet = fit::place_layers(in, std::nullopt, false, "no driver", 0);
  EXPECT_EQ(quiet.gpu_layers, 0);
  EXPECT_TRUE(quiet.note.empty());
  const auto zero = fit::place_layers(in, 0, false, "no driver", 0);
  EXPECT_EQ(zero.gpu_layers, 0);
  EXPECT_TRUE(zero.note.empty());
  const auto asked = fit::place_layers(in, 3, false, "no driver", 0);
  EXPECT_EQ(asked.gpu_layers, 0);
  EXPECT_FALSE(asked.output_on_gpu);
  EXPECT_NE(asked.note.find("no GPU (no driver)"), std::string::npos) << asked.note;
  EXPECT_NE(asked.note.find("CPU"), std::string::npos);
}

TEST(Placement, AutoTakesThePlannersSplitCappedByWhatFits) {
  // Room for everything: the planner says 4, the head goes too.
  auto p = fit::place_layers(four_layers(1024 * kMiB), std::nullopt, true, "", 4);
  EXPECT_EQ(p.gpu_layers, 4);
  EXPECT_TRUE(p.output_on_gpu);
  EXPECT_EQ(p.gpu_bytes, 510 * kMiB);
  // The planner splits 2/4: two layers, the head stays on the CPU with the last layers.
  p = fit::place_layers(four_layers(1024 * kMiB), std::nullopt, true, "", 2);
  EXPECT_EQ(p.gpu_layers, 2);
  EXPECT_FALSE(p.output_on_gpu);
  EXPECT_EQ(p.gpu_bytes, 240 * kMiB);
  // The planner's count never exceeds what fits by this module's count.
  p = fit::place_layers(four_layers(250 * kMiB), std::nullopt, true, "", 4);
  EXPECT_EQ(p.gpu_layers, 2);
  // Every layer fits but not the head: said so.
  p = fit::place_layers(four_layers(500 * kMiB), std::nullopt, true, "", 4);
  EXPECT_EQ(p.gpu_layers, 4);
  EXPECT_FALSE(p.output_on_gpu);
  EXPECT_NE(p.note.find("output head"), std::string::npos);
}

TEST(Placement, ExplicitCountsAreHonouredOrRefusedWithNumbers) {
  auto p = fit::place_layers(four_layers(1024 * kMiB), 3, true, "", 4);
  EXPECT_EQ(p.gpu_layers, 3);
  EXPECT_FALSE(p.output_on_gpu);
  EXPECT_EQ(p.gpu_bytes, 350 * kMiB);
  p = fit::place_layers(four_layers(1024 * kMiB), 0, true, "", 4);
  EXPECT_EQ(p.gpu_layers, 0);
  EXPECT_EQ(p.gpu_bytes, 0u);
  try {
    fit::place_layers(four_layers(1024 * kMiB), 5, true, "", 4);
    FAIL() << "5 of 4 layers accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("this model has 4 layers"), std::string::npos) << e.what();
  }
  try {
    fit::place_layers(four_layers(250 * kMiB), 3, true, "", 4);
    FAIL() << "3 layers accepted in 250 MiB";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("350 MiB"), std::string::npos) << m;  // what 3 layers need
    EXPECT_NE(m.find("250 MiB is free"), std::string::npos) << m;
    EXPECT_NE(m.find("--gpu-layers 2"), std::string::npos) << m;  // the most that fit
  }
}

}  // namespace
