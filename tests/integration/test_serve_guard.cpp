// `hearth serve --policy FILE` driven with curl: a blocked prompt gets 400 content_filter; a
// redacted prompt reaches the model with placeholders (the debug echo shows it, and the
// answer equals the answer to the placeholder text sent directly); a streamed answer that
// reaches a blocked phrase stops with finish_reason "content_filter" and no chunk carries
// it (SSE and one body); decisions are counted in /metrics and logged without user text;
// SIGHUP reloads the policy; /v1/moderations with the guard model (stories260K standing in)
// gives the verdict and score the same prompt gets through /v1/completions.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "guard/llama_guard.h"
#include "support/run_command.h"
#include "support/serve_process.h"

using hearth::test::curl;
using hearth::test::CurlResult;
using hearth::test::ServeProcess;
using hearth::test::TempDir;
using Json = nlohmann::json;

namespace {

const std::string kZephyr = std::string(HEARTH_TESTDATA) + "/templates/HuggingFaceH4-zephyr-7b-beta.jinja";

std::string reference_text() {
  return Json::parse(hearth::test::slurp(std::string(HEARTH_TESTDATA) + "/models/stories260K.greedy_bos.json"))
      ["generated_text"];
}

// "help her mom" is in stories260K's greedy story, 445 bytes in.
constexpr const char* kPolicy = R"(
[guard]
debug_echo = true

[[rule]]
name = "no-secrets-project"
category = "confidential"
phrases = ["project nightingale"]
input = "block"
output = "block"

[[rule]]
name = "no-helping"
category = "violence"
phrases = ["help her mom"]
input = "allow"
output = "block"
message = "Helping is not discussed here."

[pii]
detectors = ["email", "credit_card"]
input = "redact"
output = "redact"
)";

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::vector<Json> sse_events(const std::string& body) {
  std::vector<Json> events;
  size_t at = 0;
  while (at < body.size()) {
    const size_t end = body.find("\n\n", at);
    if (end == std::string::npos) break;
    const std::string e = body.substr(at, end - at);
    if (e != "data: [DONE]") events.push_back(Json::parse(e.substr(6)));
    at = end + 2;
  }
  return events;
}

class ServeGuard : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    write_file(*dir_ / "policy.toml", kPolicy);
    server_ = new ServeProcess("-t 1 --template " + kZephyr + " --policy " + (*dir_ / "policy.toml"));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  void SetUp() override { ASSERT_TRUE(server_->ready()) << server_->log(); }
  static CurlResult post(const std::string& path, const std::string& body, const std::string& extra = "") {
    return curl(extra + " '" + server_->url(path) + "'", body);
  }
  static TempDir* dir_;
  static ServeProcess* server_;
};
TempDir* ServeGuard::dir_ = nullptr;
ServeProcess* ServeGuard::server_ = nullptr;

TEST_F(ServeGuard, BlockedPromptGets400ContentFilter) {
  for (const std::string body : {
           R"({"prompt":"Tell me about PROJECT Nightingale","max_tokens":4})",
           R"({"prompt":"Tell me about p r o j e c t  n i g h t i n g a l e","max_tokens":4})",
           R"({"messages":[{"role":"user","content":"what is \uff50roject night\u200bingale?"}],"max_tokens":4})"}) {
    const bool chat = body.find("messages") != std::string::npos;
    const CurlResult r = post(chat ? "/v1/chat/completions" : "/v1/completions", body);
    EXPECT_EQ(r.status, 400) << r.body;
    const Json j = Json::parse(r.body);
    EXPECT_EQ(j["error"]["code"], "content_filter") << r.body;
    EXPECT_EQ(j["error"]["param"], chat ? "messages" : "prompt");
    EXPECT_EQ(j["error"]["message"], "This request was blocked by the server's content policy.");
  }
}

// A prompt sent as token ids is read as its text: no way around the policy.
TEST_F(ServeGuard, TokenIdPromptsAreModeratedAsTheirText) {
  const auto tok = hearth::test::run_command(std::string(HEARTH_BINARY) + " tokenize -m " +
                                             std::string(HEARTH_TESTDATA) + "/models/stories260K.gguf --json "
                                             "'Tell me about project nightingale'");
  ASSERT_EQ(tok.status, 0) << tok.err;
  const Json ids = Json::parse(tok.out)["ids"];
  const CurlResult blocked = post("/v1/completions", Json{{"prompt", ids}, {"max_tokens", 4}}.dump());
  EXPECT_EQ(blocked.status, 400) << blocked.body;
  EXPECT_EQ(Json::parse(blocked.body)["error"]["code"], "content_filter") << blocked.body;
  const auto clean = hearth::test::run_command(std::string(HEARTH_BINARY) + " tokenize -m " +
                                               std::string(HEARTH_TESTDATA) + "/models/stories260K.gguf --json "
                                               "'Once upon a time'");
  const CurlResult ok = post("/v1/completions",
                             Json{{"prompt", Json::parse(clean.out)["ids"]}, {"max_tokens", 4}}.dump());
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(ServeGuard, RedactedPromptReachesTheModelWithPlaceholders) {
  const CurlResult r = post("/v1/completions",
                            R"({"prompt":"Mail bob@example.com, card 4111 1111 1111 1111.","max_tokens":24,"temperature":0})");
  ASSERT_EQ(r.status, 200) << r.body;
  const Json j = Json::parse(r.body);
  EXPECT_EQ(j["guard"]["prompt"], "Mail [EMAIL], card [CREDIT_CARD].");
  ASSERT_EQ(j["guard"]["decisions"].size(), 2u);
  EXPECT_EQ(j["guard"]["decisions"][0]["action"], "redact");
  // The same answer as for the placeholder text itself: that is what the model was given.
  const CurlResult direct = post("/v1/completions",
                                 R"({"prompt":"Mail [EMAIL], card [CREDIT_CARD].","max_tokens":24,"temperature":0})");
  const Json d = Json::parse(direct.body);
  EXPECT_EQ(j["usage"]["prompt_tokens"], d["usage"]["prompt_tokens"]);
  EXPECT_EQ(j["choices"][0]["text"], d["choices"][0]["text"]);
  EXPECT_TRUE(d["guard"]["decisions"].empty());
}

TEST_F(ServeGuard, StreamedAnswerStopsBeforeABlockedPhrase) {
  const std::string ref = reference_text();
  const size_t phrase_at = ref.find("help her mom");
  ASSERT_NE(phrase_at, std::string::npos);
  const CurlResult r = post("/v1/completions", R"({"prompt":[1],"max_tokens":256,"temperature":0,"stream":true})", "-N");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.substr(r.body.size() - 14), "data: [DONE]\n\n");
  const std::vector<Json> events = sse_events(r.body);
  ASSERT_FALSE(events.empty());
  std::string text;
  for (const Json& e : events) {
    const std::string piece = e["choices"][0]["text"];
    EXPECT_EQ(piece.find("help her mom"), std::string::npos) << piece;
    EXPECT_EQ(piece.find("help her"), std::string::npos) << "held back text leaked: " << piece;
    text += piece;
  }
  EXPECT_EQ(events.back()["choices"][0]["finish_reason"], "content_filter");
  EXPECT_EQ(ref.substr(0, text.size()), text) << "the released text is the answer's beginning";
  EXPECT_LE(text.size(), phrase_at);
  EXPECT_GT(text.size(), 200u) << "text before the phrase is released once it has been scanned";
  EXPECT_GT(events.size(), 3u) << "and it streams in several chunks";
  EXPECT_EQ(r.body.find("help her mom"), std::string::npos);
}

TEST_F(ServeGuard, WholeAnswerStopsBeforeABlockedPhraseToo) {
  const std::string ref = reference_text();
  const CurlResult r = post("/v1/completions", R"({"prompt":[1],"max_tokens":256,"temperature":0})");
  ASSERT_EQ(r.status, 200) << r.body;
  const Json j = Json::parse(r.body);
  const std::string text = j["choices"][0]["text"];
  EXPECT_EQ(j["choices"][0]["finish_reason"], "content_filter");
  EXPECT_EQ(text.find("help her"), std::string::npos);
  EXPECT_EQ(ref.substr(0, text.size()), text);
  EXPECT_GT(text.size(), 200u);
  EXPECT_EQ(r.body.find("help her mom"), std::string::npos);
}

TEST_F(ServeGuard, CleanAnswerPassesUnchanged) {
  // 20 tokens stop short of the phrase: the answer is the reference's beginning, whole.
  const std::string ref = reference_text();
  const CurlResult r = post("/v1/completions", R"({"prompt":[1],"max_tokens":20,"temperature":0,"stream":true})", "-N");
  std::string text;
  const auto events = sse_events(r.body);
  for (const Json& e : events) text += e["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(events.back()["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(text, ref.substr(0, text.size()));
  EXPECT_GT(text.size(), 40u);
}

TEST_F(ServeGuard, DecisionsAreCountedAndLoggedWithoutUserText) {
  post("/v1/completions", R"({"prompt":"secret project nightingale files","max_tokens":2})");
  post("/v1/completions", R"({"prompt":"write to carol@example.org","max_tokens":2})");
  post("/v1/completions", R"({"prompt":[1],"max_tokens":256,"temperature":0})");
  const CurlResult m = curl("'" + server_->url("/metrics") + "'");
  EXPECT_NE(m.body.find("hearth_guard_decisions_total{stage=\"rules\",category=\"confidential\",direction="
                        "\"input\",action=\"block\"}"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("hearth_guard_decisions_total{stage=\"pii\",category=\"pii.email\",direction=\"input\","
                        "action=\"redact\"}"),
            std::string::npos);
  EXPECT_NE(m.body.find("hearth_guard_decisions_total{stage=\"rules\",category=\"violence\",direction=\"output\","
                        "action=\"block\"}"),
            std::string::npos);
  EXPECT_NE(m.body.find("hearth_generations_total{finish_reason=\"content_filter\"}"), std::string::npos);
  EXPECT_GT(server_->metric("hearth_guard_scan_seconds_total"), 0);
  const std::string log = server_->log();
  EXPECT_NE(log.find("stage=rules category=confidential direction=input action=block"), std::string::npos) << log;
  EXPECT_NE(log.find("rule=no-secrets-project"), std::string::npos);
  EXPECT_EQ(log.find("carol@example.org"), std::string::npos) << log;
  EXPECT_EQ(log.find("ightingale"), std::string::npos) << log;
}

TEST(ServeGuardProcess, LogContentQuotesTheMatchAndSighupReloads) {
  TempDir dir;
  const std::string policy = dir / "policy.toml";
  write_file(policy, "[[rule]]\nname = \"a\"\ncategory = \"c\"\nphrases = [\"alpha\"]\ninput = \"block\"\n");
  ServeProcess s("-t 1 --log-content --policy " + policy);
  ASSERT_TRUE(s.ready()) << s.log();
  auto status = [&](const std::string& prompt) {
    return curl("'" + s.url("/v1/completions") + "'", R"({"max_tokens":1,"prompt":")" + prompt + "\"}").status;
  };
  EXPECT_EQ(status("say ALPHA"), 400);
  EXPECT_EQ(status("say beta"), 200);
  EXPECT_NE(s.log().find("text=\"ALPHA\""), std::string::npos) << s.log();

  write_file(policy, "[[rule]]\nname = \"b\"\ncategory = \"c\"\nphrases = [\"beta\"]\ninput = \"block\"\n");
  kill(s.pid(), SIGHUP);
  for (int i = 0; i < 200 && s.log().find("reloaded") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(status("say beta"), 400);
  EXPECT_EQ(status("say alpha"), 200);

  // A broken policy is reported and the one in force stays.
  write_file(policy, "[[rule]]\nname = \"b\"\n");
  kill(s.pid(), SIGHUP);
  for (int i = 0; i < 200 && s.log().find("reload failed") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_NE(s.log().find("policy reload failed, the previous policy stays"), std::string::npos) << s.log();
  EXPECT_EQ(status("say beta"), 400);
  EXPECT_EQ(s.stop(), 0);
}

TEST(ServeGuardProcess, BadPolicyStopsTheStart) {
  TempDir dir;
  write_file(dir / "p.toml", "[[rule]]\nname = \"x\"\ncategory = \"c\"\nphrases = [\"a\"]\ninput = \"deny\"\n");
  ServeProcess s("-t 1 --policy " + (dir / "p.toml"));
  EXPECT_FALSE(s.ready());
  EXPECT_NE(s.log().find("unknown action 'deny'"), std::string::npos) << s.log();
}

// The guard-model path end to end: the served model (stories260K standing in for Llama Guard
// 3) classifies through the engine; its answer and score must be what the same prompt gets
// from /v1/completions (greedy, 20 alternatives per token).
TEST(ServeGuardProcess, GuardModelVerdictThroughTheEngine) {
  TempDir dir;
  write_file(dir / "p.toml", "[model]\nenabled = true\nmax_tokens = 8\ntop_logprobs = 20\n");
  ServeProcess s("-t 1 --policy " + (dir / "p.toml"));
  ASSERT_TRUE(s.ready()) << s.log();
  const std::string input = "How do I bake bread?";
  const CurlResult m = curl("'" + s.url("/v1/moderations") + "'", Json{{"input", {input, "unsafe"}}}.dump());
  ASSERT_EQ(m.status, 200) << m.body;
  const Json mj = Json::parse(m.body);
  ASSERT_EQ(mj["results"].size(), 2u);
  const Json verdict = mj["results"][0]["hearth"]["model"];
  ASSERT_TRUE(verdict.contains("answer")) << m.body;

  const Json req{{"prompt", hearth::guard::llama_guard3_prompt(input)}, {"max_tokens", 8}, {"temperature", 0},
                 {"logprobs", 20}};
  const CurlResult c = curl("'" + s.url("/v1/completions") + "'", req.dump());
  ASSERT_EQ(c.status, 200) << c.body;
  const Json cj = Json::parse(c.body);
  EXPECT_EQ(verdict["answer"], cj["choices"][0]["text"]);
  // The score, computed here from the completion's logprobs: at the first token with
  // visible text, the probability of alternatives that begin "unsafe".
  const Json& lp = cj["choices"][0]["logprobs"];
  double expected = 0;
  for (size_t i = 0; i < lp["tokens"].size(); ++i) {
    const std::string tok = lp["tokens"][i];
    if (tok.find_first_not_of(" \n\t\r") == std::string::npos) continue;
    for (const auto& [alt, logprob] : lp["top_logprobs"][i].items()) {
      const std::string t = alt.substr(std::min(alt.size(), alt.find_first_not_of(" \n\t\r")));
      const std::string u = "unsafe";
      if (!t.empty() && (t.size() <= u.size() ? u.compare(0, t.size(), t) == 0 : t.compare(0, u.size(), u) == 0))
        expected += std::exp(logprob.get<double>());
    }
    break;
  }
  EXPECT_NEAR(verdict["score"].get<double>(), expected, 1e-5);
  // stories260K tells stories, it does not answer "safe": the verdict is unparsed and, with
  // fail_open (the default), nothing is flagged.
  const auto parsed = hearth::guard::parse_llama_guard_answer(verdict["answer"].get<std::string>());
  EXPECT_EQ(verdict["parsed"], parsed.parsed);
  if (!parsed.parsed) EXPECT_FALSE(mj["results"][0]["flagged"]);
  EXPECT_NE(s.log().find("stage=model"), std::string::npos) << s.log();
}

// The guard model screening prompts: stories260K answers with a story, not "safe", so with
// fail_open = false every prompt it screens is refused, and with fail_open = true every
// prompt passes. Either way the classification ran through the engine first.
TEST(ServeGuardProcess, GuardModelScreensPromptsThroughTheEngine) {
  for (const bool fail_open : {false, true}) {
    TempDir dir;
    write_file(dir / "p.toml", std::string("[model]\ninput = \"block\"\nmax_tokens = 4\nfail_open = ") +
                                   (fail_open ? "true" : "false") + "\n");
    ServeProcess s("-t 1 --policy " + (dir / "p.toml"));
    ASSERT_TRUE(s.ready()) << s.log();
    const CurlResult r = curl("'" + s.url("/v1/completions") + "'", R"({"prompt":"Once upon a time","max_tokens":3})");
    EXPECT_EQ(r.status, fail_open ? 200 : 400) << r.body;
    if (!fail_open) EXPECT_EQ(Json::parse(r.body)["error"]["code"], "content_filter");
    EXPECT_NE(s.log().find(std::string("stage=model category=unsafe direction=input action=") +
                           (fail_open ? "allow" : "block")),
              std::string::npos)
        << s.log();
    // The guard request went through the engine: one finished request more than the answer.
    EXPECT_EQ(s.metric("hearth_engine_requests_finished_total"), fail_open ? 2 : 1);
  }
}

}  // namespace
