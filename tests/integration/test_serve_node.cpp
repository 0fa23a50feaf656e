// `hearth serve` against node clients (tests/integration/node/*.cjs): the official `openai`
// npm package, a WebSocket client (`ws`), 16 concurrent streams, a killed client, overload
// and SIGTERM draining. The npm packages are installed on first use into
// <build>/node_test_deps (never into the source tree); that needs node >= 18, npm and the
// npm registry once.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/serve_process.h"

using hearth::test::run_command;
using hearth::test::ServeProcess;
using hearth::test::TempDir;
namespace fs = std::filesystem;

namespace {

const fs::path kScripts = fs::path(__FILE__).parent_path() / "node";
const fs::path kDeps = fs::path(HEARTH_BINARY).parent_path() / "node_test_deps";
const char* kPackages = "openai@6.30.1 ws@8.23.0";
const std::string kZephyr = std::string(HEARTH_TESTDATA) + "/templates/HuggingFaceH4-zephyr-7b-beta.jinja";

// Installs the npm packages once (under a lock: test binaries may run in parallel).
std::string install_node_packages() {
  if (fs::exists(kDeps / "node_modules/openai/package.json") && fs::exists(kDeps / "node_modules/ws/package.json"))
    return "";
  fs::create_directories(kDeps);
  // Checked again under the lock: another test process may have installed them meanwhile.
  const std::string ws = (kDeps / "node_modules/ws/package.json").string();
  const auto r = run_command("flock " + (kDeps / ".lock").string() + " sh -c 'test -f " + ws +
                             " || npm install --prefix " + kDeps.string() +
                             " --no-audit --no-fund --loglevel=error --save-exact " + kPackages + "'");
  if (r.status != 0)
    return "npm install " + std::string(kPackages) + " into " + kDeps.string() + " failed (needs node >= 18, " +
           "npm and the npm registry): " + r.err;
  return "";
}

class ServeNode : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { install_error_ = new std::string(install_node_packages()); }
  static void TearDownTestSuite() { delete install_error_; }
  void SetUp() override { ASSERT_EQ(*install_error_, ""); }

  // Runs one script (at most two minutes); its report goes into the test log.
  static void expect_script_passes(const std::string& script, const std::string& args) {
    const auto r = run_command("NODE_PATH=" + (kDeps / "node_modules").string() + " timeout 120 node " +
                               (kScripts / script).string() + " " + args);
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    if (r.status == 0) std::printf("%s", r.out.c_str());
  }

  static std::string* install_error_;
};
std::string* ServeNode::install_error_ = nullptr;

}  // namespace

TEST_F(ServeNode, OfficialOpenAiPackage) {
  ServeProcess s("--api-key test-key -t 1 --template " + kZephyr);
  ASSERT_TRUE(s.ready()) << s.log();
  expect_script_passes("openai_client.cjs",
                       s.url() + " " + std::string(HEARTH_TESTDATA) + "/models/stories260K.greedy_bos.json");
}

TEST_F(ServeNode, WebSocketStreamsAndCancels) {
  ServeProcess s("--api-key test-key -t 1 --template " + kZephyr);
  ASSERT_TRUE(s.ready()) << s.log();
  expect_script_passes("websocket.cjs", s.url());
}

TEST_F(ServeNode, SixteenConcurrentStreamsAndAKilledClient) {
  ServeProcess s("-t 2 --template " + kZephyr);
  ASSERT_TRUE(s.ready()) << s.log();
  expect_script_passes("concurrency.cjs", s.url());
}

TEST_F(ServeNode, BurstOverAFullQueueGets429) {
  ServeProcess s("--max-running 4 --max-queue 4 -t 1");
  ASSERT_TRUE(s.ready()) << s.log();
  expect_script_passes("overload.cjs", s.url());
}

TEST_F(ServeNode, SigtermDrainsAndExitsZero) {
  ServeProcess s("-t 1");
  ASSERT_TRUE(s.ready()) << s.log();
  expect_script_passes("drain.cjs", s.url() + " " + std::to_string(s.pid()));
  EXPECT_EQ(s.stop(SIGTERM), 0) << s.log();
}

TEST_F(ServeNode, ModerationsThroughTheOfficialOpenAiPackage) {
  TempDir dir;
  std::ofstream(dir / "policy.toml") << R"(
[categories.confidential]
openai = "illicit"

[[rule]]
name = "no-secrets-project"
category = "confidential"
phrases = ["project nightingale"]
input = "block"

[[rule]]
name = "hate-words"
category = "S10"
words = ["hate those people"]
input = "flag"

[pii]
detectors = ["credit_card"]

[injection]
)";
  ServeProcess s("--api-key test-key -t 1 --policy " + (dir / "policy.toml"));
  ASSERT_TRUE(s.ready()) << s.log();
  expect_script_passes("moderations.cjs", s.url());
}
