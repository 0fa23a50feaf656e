// `hearth serve` driven with curl as a client would: completions and chat (streamed and not)
// on stories260K checked against the ground-truth greedy output, every error status, API
// keys, /health, /metrics, and SIGTERM draining.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "support/serve_process.h"

using hearth::test::curl;
using hearth::test::CurlResult;
using hearth::test::ServeProcess;
using hearth::test::TempDir;
using Json = nlohmann::json;

namespace {

Json reference() {
  return Json::parse(hearth::test::slurp(std::string(HEARTH_TESTDATA) + "/models/stories260K.greedy_bos.json"));
}

// The `data:` events of an SSE body; *done tells whether it ended with [DONE].
std::vector<Json> sse_events(const std::string& body, bool* done) {
  std::vector<Json> events;
  *done = false;
  size_t at = 0;
  while (at < body.size()) {
    const size_t end = body.find("\n\n", at);
    if (end == std::string::npos) {
      ADD_FAILURE() << "unterminated event: " << body.substr(at);
      break;
    }
    const std::string e = body.substr(at, end - at);
    EXPECT_EQ(e.rfind("data: ", 0), 0u) << e;
    EXPECT_FALSE(*done) << "event after [DONE]";
    if (e == "data: [DONE]")
      *done = true;
    else
      events.push_back(Json::parse(e.substr(6)));
    at = end + 2;
  }
  return events;
}

// Text of a stream: completions' choices[0].text or chat's delta.content, concatenated.
std::string streamed_text(const std::vector<Json>& events) {
  std::string text;
  for (const Json& e : events) {
    if (e["choices"].empty()) continue;
    const Json& c = e["choices"][0];
    if (c.contains("text")) text += c["text"].get<std::string>();
    if (c.contains("delta") && c["delta"].contains("content")) text += c["delta"]["content"].get<std::string>();
  }
  return text;
}

void expect_error_shape(const CurlResult& r, int status, const std::string& code = "",
                        const std::string& param = "") {
  EXPECT_EQ(r.status, status) << r.body << r.err;
  const Json j = Json::parse(r.body, nullptr, false);
  ASSERT_TRUE(j.is_object() && j.contains("error")) << r.body;
  const Json& e = j["error"];
  EXPECT_TRUE(e["message"].is_string() && !e["message"].get<std::string>().empty()) << r.body;
  EXPECT_TRUE(e["type"].is_string()) << r.body;
  EXPECT_TRUE(e.contains("param") && e.contains("code")) << r.body;
  if (!code.empty()) EXPECT_EQ(e["code"], code) << r.body;
  if (!param.empty()) EXPECT_EQ(e["param"], param) << r.body;
}

class ServeHttp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new ServeProcess("-t 1"); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(server_->ready()) << server_->log(); }

  static CurlResult post(const std::string& path, const std::string& body, const std::string& extra = "") {
    return curl(extra + " '" + server_->url(path) + "'", body);
  }

  static ServeProcess* server_;
};
ServeProcess* ServeHttp::server_ = nullptr;

}  // namespace

TEST_F(ServeHttp, GreedyCompletionMatchesTheReference) {
  const Json ref = reference();
  for (const char* prompt : {R"("")", "[1]"}) {  // "" gets BOS; [1] is BOS as a token id
    const CurlResult r = post("/v1/completions", std::string(R"({"model":"stories260K","prompt":)") + prompt +
                                                     R"(,"max_tokens":256,"temperature":0})");
    ASSERT_EQ(r.status, 200) << r.body;
    const Json j = Json::parse(r.body);
    EXPECT_EQ(j["object"], "text_completion");
    EXPECT_EQ(j["id"].get<std::string>().rfind("cmpl-", 0), 0u);
    EXPECT_EQ(j["model"], "stories260K");
    EXPECT_EQ(j["choices"][0]["text"], ref["generated_text"]);
    EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(j["usage"]["prompt_tokens"], 1);
    EXPECT_EQ(j["usage"]["completion_tokens"], 256);
    EXPECT_EQ(j["usage"]["total_tokens"], 257);
    EXPECT_TRUE(j["usage"]["prompt_tokens_details"]["cached_tokens"].is_number());
  }
}

TEST_F(ServeHttp, StreamedCompletionIsTheSameTextInSseEvents) {
  const CurlResult r = post("/v1/completions",
                            R"({"prompt":"","max_tokens":256,"temperature":0,"stream":true,
                                "stream_options":{"include_usage":true}})", "-N");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.headers.find("Content-Type: text/event-stream"), std::string::npos) << r.headers;
  bool done = false;
  const auto events = sse_events(r.body, &done);
  EXPECT_TRUE(done);
  EXPECT_EQ(streamed_text(events), reference()["generated_text"]);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[events.size() - 2]["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(events.back()["usage"]["completion_tokens"], 256);
  for (const Json& e : events) EXPECT_EQ(e["id"], events[0]["id"]);
}

TEST_F(ServeHttp, StopStringEndsTheTextBeforeIt) {
  const std::string ref = reference()["generated_text"];
  const size_t lily = ref.find("Lily");
  ASSERT_NE(lily, std::string::npos);
  for (const char* stream : {"false", "true"}) {
    const CurlResult r = post("/v1/completions", std::string(R"({"prompt":"","max_tokens":256,"temperature":0,
        "stop":["zzz","Lily"],"stream":)") + stream + "}");
    ASSERT_EQ(r.status, 200) << r.body;
    std::string text, finish;
    if (std::string(stream) == "true") {
      bool done = false;
      const auto events = sse_events(r.body, &done);
      text = streamed_text(events);
      finish = events.back()["choices"][0]["finish_reason"];
    } else {
      const Json j = Json::parse(r.body);
      text = j["choices"][0]["text"];
      finish = j["choices"][0]["finish_reason"];
    }
    EXPECT_EQ(text, ref.substr(0, lily)) << stream;
    EXPECT_EQ(finish, "stop");
  }
}

TEST_F(ServeHttp, ChatStreamedAndWholeAgree) {
  const std::string req = R"({"model":"stories260K","messages":[{"role":"system","content":"Tell a story."},
      {"role":"user","content":[{"type":"text","text":"A cat"},{"type":"text","text":"and a dog."}]}],
      "max_tokens":40,"temperature":0.9,"seed":11)";
  const CurlResult whole = post("/v1/chat/completions", req + "}");
  ASSERT_EQ(whole.status, 200) << whole.body;
  const Json j = Json::parse(whole.body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_TRUE(j["choices"][0]["message"]["content"].is_string());
  EXPECT_TRUE(j["choices"][0]["finish_reason"] == "length" || j["choices"][0]["finish_reason"] == "stop");
  const Json& u = j["usage"];
  EXPECT_GT(u["prompt_tokens"].get<int>(), 5);
  EXPECT_EQ(u["total_tokens"], u["prompt_tokens"].get<int>() + u["completion_tokens"].get<int>());

  const CurlResult streamed = post("/v1/chat/completions", req + R"(,"stream":true})", "-N");
  ASSERT_EQ(streamed.status, 200);
  bool done = false;
  const auto events = sse_events(streamed.body, &done);
  EXPECT_TRUE(done);
  EXPECT_EQ(events.front()["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(streamed_text(events), j["choices"][0]["message"]["content"]);  // same seed, same tokens
  for (const Json& e : events) EXPECT_EQ(e["object"], "chat.completion.chunk");
}

TEST_F(ServeHttp, BadRequestsAre400WithOpenAisErrorShape) {
  expect_error_shape(post("/v1/chat/completions", "{\"messages\": ["), 400);
  expect_error_shape(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi"}],"temperature":"warm"})"),
                     400, "", "temperature");
  expect_error_shape(post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"\xc3\x28\"}]}"), 400);
  expect_error_shape(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi"}],"n":2})"), 400, "", "n");
  expect_error_shape(post("/v1/chat/completions", R"({"messages":"hi"})"), 400, "", "messages");
  expect_error_shape(post("/v1/completions", R"({"prompt":[1,99999]})"), 400, "", "prompt[1]");
  std::string words;
  for (int i = 0; i < 3000; ++i) words += "cat ";
  expect_error_shape(post("/v1/completions", R"({"prompt":")" + words + R"("})"), 400, "context_length_exceeded", "prompt");
}

TEST_F(ServeHttp, UnknownModelPathAndMethod) {
  expect_error_shape(post("/v1/chat/completions", R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})"),
                     404, "model_not_found", "model");
  expect_error_shape(curl("'" + server_->url("/v1/embeddings") + "'"), 404);
  const CurlResult m = curl("-X DELETE '" + server_->url("/v1/models") + "'");
  expect_error_shape(m, 405);
  EXPECT_NE(m.headers.find("Allow: GET"), std::string::npos) << m.headers;
}

TEST_F(ServeHttp, HealthModelsAndMetrics) {
  const CurlResult h = curl("'" + server_->url("/health") + "'");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(Json::parse(h.body)["status"], "ok");
  const Json models = Json::parse(curl("'" + server_->url("/v1/models") + "'").body);
  EXPECT_EQ(models["object"], "list");
  EXPECT_EQ(models["data"][0]["id"], "stories260K");
  EXPECT_EQ(models["data"][0]["object"], "model");

  ASSERT_EQ(post("/v1/completions", R"({"prompt":"","max_tokens":20,"temperature":0})").status, 200);
  const CurlResult m = curl("'" + server_->url("/metrics") + "'");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.headers.find("text/plain; version=0.0.4"), std::string::npos) << m.headers;
  for (const char* series : {"# TYPE hearth_http_responses_total counter", "# TYPE hearth_queue_length gauge",
                             "# TYPE hearth_running_sequences gauge", "# TYPE hearth_kv_blocks_used gauge",
                             "# TYPE hearth_prompt_tokens_total counter", "# TYPE hearth_generated_tokens_total counter",
                             "# TYPE hearth_time_to_first_token_seconds histogram",
                             "# TYPE hearth_inter_token_latency_seconds histogram",
                             "hearth_http_responses_total{endpoint=\"/v1/completions\",status=\"200\"} "})
    EXPECT_NE(m.body.find(series), std::string::npos) << series;
  EXPECT_GE(server_->metric("hearth_generated_tokens_total"), 20);
  EXPECT_GE(server_->metric("hearth_time_to_first_token_seconds_count"), 1);
  EXPECT_GE(server_->metric("hearth_inter_token_latency_seconds_count"), 19);
  EXPECT_GT(server_->metric("hearth_kv_blocks_capacity"), 0);
  EXPECT_EQ(server_->metric("hearth_ready"), 1);
}

TEST(ServeHttpAlone, ApiKeysFromOptionsAndFile) {
  TempDir dir;
  std::ofstream(dir / "keys") << "# team keys\n\n  key-from-file  \n";
  ServeProcess s("--api-key key-one --api-key key-two --api-key-file " + dir / "keys");
  ASSERT_TRUE(s.ready()) << s.log();
  const std::string body = R"({"prompt":"","max_tokens":2})";
  const std::string url = "'" + s.url("/v1/completions") + "'";
  expect_error_shape(curl(url, body), 401, "invalid_api_key");
  expect_error_shape(curl("-H 'Authorization: Bearer key-three' " + url, body), 401, "invalid_api_key");
  for (const char* key : {"key-one", "key-two", "key-from-file"})
    EXPECT_EQ(curl(std::string("-H 'Authorization: Bearer ") + key + "' " + url, body).status, 200) << key;
  expect_error_shape(curl("'" + s.url("/v1/models") + "'"), 401);
  EXPECT_EQ(curl("'" + s.url("/health") + "'").status, 200);
  EXPECT_EQ(curl("'" + s.url("/metrics") + "'").status, 200);
}

TEST(ServeHttpAlone, BodyTooLargeIs413) {
  ServeProcess s("--max-body-bytes 4096");
  ASSERT_TRUE(s.ready()) << s.log();
  expect_error_shape(curl("'" + s.url("/v1/completions") + "'", R"({"prompt":")" + std::string(100000, 'a') + R"("})"),
                     413, "request_too_large");
  // Also when curl first asks with "Expect: 100-continue" (it does for large bodies).
  expect_error_shape(curl("-H 'Expect: 100-continue' '" + s.url("/v1/completions") + "'",
                          R"({"prompt":")" + std::string(2000000, 'a') + R"("})"),
                     413, "request_too_large");
  EXPECT_EQ(curl("-H 'Expect: 100-continue' '" + s.url("/v1/completions") + "'", R"({"prompt":"","max_tokens":1})").status, 200);
}

TEST(ServeHttpAlone, QueueFullIs429WithRetryAfter) {
  // One running, one waiting: the queue is full.
  ServeProcess s("--max-running 1 --max-queue 1 -t 1");
  ASSERT_TRUE(s.ready()) << s.log();
  std::thread running([&] {
    curl("-N '" + s.url("/v1/completions") + "'", R"({"prompt":"","max_tokens":800,"ignore_eos":true,"stream":true})");
  });
  for (int i = 0; i < 500 && s.metric("hearth_running_sequences") < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CurlResult queued;
  std::thread waiting([&] { queued = curl("'" + s.url("/v1/completions") + "'", R"({"prompt":"","max_tokens":5})"); });
  for (int i = 0; i < 500 && s.metric("hearth_queue_length") < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const CurlResult r = curl("'" + s.url("/v1/completions") + "'", R"({"prompt":"","max_tokens":5})");
  expect_error_shape(r, 429, "rate_limit_exceeded");
  EXPECT_NE(r.headers.find("Retry-After: 1"), std::string::npos) << r.headers;
  running.join();
  waiting.join();
  EXPECT_EQ(queued.status, 200) << queued.body;  // the one that waited is answered
}

TEST(ServeHttpAlone, SigtermLetsRunningStreamsFinishThenExitsZero) {
  ServeProcess s("-t 1");
  ASSERT_TRUE(s.ready()) << s.log();
  CurlResult stream;
  std::thread client([&] {
    stream = curl("-N '" + s.url("/v1/completions") + "'",
                  R"({"prompt":"","max_tokens":600,"ignore_eos":true,"stream":true})");
  });
  for (int i = 0; i < 500 && s.metric("hearth_running_sequences") < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(s.stop(SIGTERM), 0) << s.log();
  client.join();
  bool done = false;
  const auto events = sse_events(stream.body, &done);
  EXPECT_TRUE(done);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["choices"][0]["finish_reason"], "length");
  EXPECT_NE(s.log().find("draining"), std::string::npos);
}

TEST(ServeHttpAlone, UnusablePortOrModelFailsWithOneLine) {
  const auto r = hearth::test::run_command(hearth::test::kHearth + " serve -m /nonexistent/model.gguf --port 0");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;
  const auto h = hearth::test::run_command(hearth::test::kHearth + " serve -m " + hearth::test::kStories +
                                           " --host not-an-ip --port 0");
  EXPECT_NE(h.status, 0);
  EXPECT_NE(h.err.find("--host"), std::string::npos) << h.err;
}

TEST(ServeHttpAlone, SecondTurnOfAConversationReusesTheCachedPrefix) {
  ServeProcess s("-t 1");
  ASSERT_TRUE(s.ready()) << s.log();
  const std::string url = "'" + s.url("/v1/chat/completions") + "'";
  Json messages = Json::parse(R"([
    {"role":"system","content":"You are a storyteller who tells short, happy stories about animals in a small village by the sea. Every story has a dog, a cat and a bird, and ends well."},
    {"role":"user","content":"Tell me one."}])");
  auto ask = [&](const Json& msgs) {
    const CurlResult r = curl(url, Json{{"messages", msgs}, {"max_tokens", 24}, {"temperature", 0}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return Json::parse(r.body);
  };
  const Json first = ask(messages);
  const int64_t p1 = first["usage"]["prompt_tokens"];
  EXPECT_EQ(first["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
  const double cached_before = s.metric("hearth_prompt_tokens_cached_total");

  messages.push_back({{"role", "assistant"}, {"content", first["choices"][0]["message"]["content"]}});
  messages.push_back({{"role", "user"}, {"content", "Another one, please!"}});
  const Json second = ask(messages);
  const int64_t p2 = second["usage"]["prompt_tokens"];
  const int64_t cached = second["usage"]["prompt_tokens_details"]["cached_tokens"];
  // Whole 16-token KV blocks of the first turn (its prompt at least) are reused; only the
  // rest of the second prompt is computed.
  EXPECT_GE(cached, p1 / 16 * 16) << "p1 " << p1 << " p2 " << p2;
  EXPECT_LT(cached, p2);
  EXPECT_EQ(cached % 16, 0);
  EXPECT_EQ(s.metric("hearth_prompt_tokens_cached_total") - cached_before, cached);
}

TEST(ServeHttpAlone, ChatThroughTheZephyrTemplate) {
  const std::string templates = std::string(HEARTH_TESTDATA) + "/templates/";
  ServeProcess s("-t 1 --template " + templates + "HuggingFaceH4-zephyr-7b-beta.jinja");
  ASSERT_TRUE(s.ready()) << s.log();
  // A case rendered by Python jinja2 (chat_template_expected/): the chat prompt must be exactly
  // that text's tokens (the template writes no BOS; completions adds one).
  const Json cases = Json::parse(hearth::test::slurp(std::string(HEARTH_TESTDATA) +
                                                     "/chat_template_expected/HuggingFaceH4-zephyr-7b-beta.json"))["cases"];
  Json expected;
  for (const Json& c : cases)
    if (c["name"] == "system_user_gen") expected = c;
  ASSERT_FALSE(expected.is_null());
  const Json messages = expected["inputs"]["messages"];
  const std::string rendered = expected["result"]["output"];

  const std::string chat_url = "'" + s.url("/v1/chat/completions") + "'";
  const Json request = {{"messages", messages}, {"max_tokens", 30}, {"temperature", 0}};
  const CurlResult whole = curl(chat_url, request.dump());
  ASSERT_EQ(whole.status, 200) << whole.body;
  const Json j = Json::parse(whole.body);
  const CurlResult as_text = curl("'" + s.url("/v1/completions") + "'",
                                  Json{{"prompt", rendered}, {"max_tokens", 1}}.dump());
  ASSERT_EQ(as_text.status, 200) << as_text.body;
  EXPECT_EQ(j["usage"]["prompt_tokens"].get<int>() + 1, Json::parse(as_text.body)["usage"]["prompt_tokens"].get<int>());
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_FALSE(j["choices"][0]["message"].contains("reasoning_content"));

  Json streaming = request;
  streaming["stream"] = true;
  const CurlResult streamed = curl("-N " + chat_url, streaming.dump());
  bool done = false;
  const auto events = sse_events(streamed.body, &done);
  EXPECT_TRUE(done);
  EXPECT_EQ(streamed_text(events), j["choices"][0]["message"]["content"]);
}

TEST(ServeHttpAlone, ReasoningTemplateAndTemplateErrors) {
  const std::string templates = std::string(HEARTH_TESTDATA) + "/templates/";
  {
    // DeepSeek-R1's generation prompt opens "<think>": what the model writes before "</think>"
    // is reasoning_content (stories260K never closes it, so all of it is).
    ServeProcess s("-t 1 --template " + templates + "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja");
    ASSERT_TRUE(s.ready()) << s.log();
    const CurlResult r = curl("'" + s.url("/v1/chat/completions") + "'",
                              R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":20,"temperature":0})");
    ASSERT_EQ(r.status, 200) << r.body;
    const Json m = Json::parse(r.body)["choices"][0]["message"];
    EXPECT_FALSE(m["reasoning_content"].get<std::string>().empty()) << m;
    EXPECT_EQ(m["content"], "") << m;
  }
  {
    ServeProcess s("-t 1 --template " + templates + "mistralai-Mistral-Nemo-Instruct-2407.jinja");
    ASSERT_TRUE(s.ready()) << s.log();
    const CurlResult r = curl("'" + s.url("/v1/chat/completions") + "'",
                              R"({"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]})");
    expect_error_shape(r, 400, "", "messages");
    EXPECT_NE(r.body.find("alternate"), std::string::npos) << r.body;
  }
  const auto bad = hearth::test::run_command(hearth::test::kHearth + " serve -m " + hearth::test::kStories +
                                             " --port 0 --template /nonexistent.jinja");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("--template /nonexistent.jinja: cannot read it"), std::string::npos) << bad.err;
}
