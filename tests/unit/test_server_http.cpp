// The HTTP/SSE/WebSocket layer of the server, in process, over a loopback port, with a
// scripted backend in place of the engine: every event and every cancel is under the test's
// control, so framing, disconnects, 429/503 and draining are checked exactly and quickly.
// (tests/integration/test_serve_*.cpp run the real `hearth serve` with a real model.)
#include <gtest/gtest.h>

#include <atomic>
#include <list>
#include <thread>

#include "server/server.h"
#include "support/beast_client.h"

using hearth::engine::Event;
using hearth::engine::RequestHandle;
using hearth::engine::RequestParams;
using hearth::test::HttpConnection;
using hearth::test::WsConnection;
using Json = nlohmann::ordered_json;
using namespace std::chrono_literals;

namespace {

// Answers every request with max_tokens deltas "w0 ", "w1 ", ... one per `step`, then
// Finished("length"); a cancel ends it with Finished("cancelled") at the next step.
class ScriptedBackend : public hearth::server::Backend {
 public:
  std::chrono::milliseconds step{1};
  int max_active = 1000;  // beyond: QueueFullError

  ~ScriptedBackend() override {
    stop_ = true;
    for (auto& t : threads_) t.join();
  }

  std::shared_ptr<RequestHandle> submit(RequestParams p) override {
    if (draining_) throw hearth::Error("draining");
    std::lock_guard lock(mu_);
    if (active_ >= max_active) throw hearth::engine::QueueFullError("4 requests are waiting");
    auto h = std::make_shared<RequestHandle>(next_id_++, [] {});
    ++active_;
    params_.push_back(p);
    handles_.push_back(h);
    threads_.emplace_back([this, h, p] { produce(h, p); });
    return h;
  }
  hearth::engine::EngineStats stats() override {
    hearth::engine::EngineStats s;
    s.running = active_;
    return s;
  }
  void drain() override { draining_ = true; }
  bool idle() override { return active_ == 0; }

  std::vector<RequestParams> params() {
    std::lock_guard lock(mu_);
    return params_;
  }
  std::shared_ptr<RequestHandle> handle(size_t i) {
    std::lock_guard lock(mu_);
    return handles_.at(i);
  }
  int active() const { return active_; }

 private:
  void produce(const std::shared_ptr<RequestHandle>& h, const RequestParams& p) {
    const int64_t n = p.max_tokens < 0 ? 1000000 : p.max_tokens;
    int64_t i = 0;
    for (; i < n && !stop_; ++i) {
      std::this_thread::sleep_for(step);
      if (h->cancel_requested()) break;
      Event e{};
      e.kind = Event::Kind::Delta;
      e.text = "w" + std::to_string(i) + " ";
      e.token_ids = {static_cast<int32_t>(i)};
      h->deliver(std::move(e));
    }
    Event f{};
    f.kind = Event::Kind::Finished;
    f.finish_reason = i == n ? "length" : "cancelled";
    f.usage.prompt_tokens = static_cast<int64_t>(p.prompt.size());
    f.usage.completion_tokens = i;
    --active_;
    h->deliver(std::move(f));
  }

  std::mutex mu_;
  std::atomic<bool> stop_{false}, draining_{false};
  std::atomic<int> active_{0};
  uint64_t next_id_ = 1;
  std::vector<RequestParams> params_;
  std::vector<std::shared_ptr<RequestHandle>> handles_;
  std::list<std::thread> threads_;
};

// One token per byte of the text (enough to count prompt tokens).
class BytePromptBuilder : public hearth::server::PromptBuilder {
 public:
  hearth::server::ChatPrompt chat(const Json& messages, const Json&, const Json&) const override {
    hearth::server::ChatPrompt p;
    p.tokens = completion(hearth::server::ChatMlPromptBuilder::render(messages));
    return p;
  }
  std::vector<int32_t> completion(const std::string& prompt) const override {
    return std::vector<int32_t>(prompt.begin(), prompt.end());
  }
};

class ServerHttp : public ::testing::Test {
 protected:
  void start(hearth::server::ServerConfig config = {}, bool ready = true) {
    config.port = 0;
    server_ = std::make_unique<hearth::server::Server>(config);
    server_->start();
    if (ready) make_ready();
  }
  void make_ready() {
    hearth::server::ModelInfo info;
    info.id = "scripted";
    info.path = "/models/scripted.gguf";
    info.n_vocab = 512;
    info.n_ctx = 64;
    server_->set_ready(backend_, builder_, info);
  }
  uint16_t port() const { return server_->port(); }
  void TearDown() override {
    if (server_) server_->shutdown();
  }

  static std::string completion_body(int max_tokens, bool stream, const std::string& extra = "") {
    return R"({"model":"scripted","prompt":"hi","max_tokens":)" + std::to_string(max_tokens) +
           R"(,"stream":)" + (stream ? "true" : "false") + extra + "}";
  }

  // SSE body -> the JSON of each `data:` event; checks the framing on the way.
  static std::vector<Json> sse_events(const std::string& body, bool* saw_done) {
    std::vector<Json> events;
    *saw_done = false;
    size_t at = 0;
    while (at < body.size()) {
      const size_t end = body.find("\n\n", at);
      EXPECT_NE(end, std::string::npos) << "unterminated event at " << at;
      if (end == std::string::npos) break;
      const std::string event = body.substr(at, end - at);
      EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
      EXPECT_FALSE(*saw_done) << "event after [DONE]";
      if (event == "data: [DONE]")
        *saw_done = true;
      else
        events.push_back(Json::parse(event.substr(6)));
      at = end + 2;
    }
    return events;
  }

  template <typename Pred>
  static bool eventually(Pred pred, std::chrono::milliseconds within = 2000ms) {
    const auto until = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < until) {
      if (pred()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return pred();
  }

  ScriptedBackend backend_;
  BytePromptBuilder builder_;
  std::unique_ptr<hearth::server::Server> server_;
};

}  // namespace

TEST_F(ServerHttp, WhileLoadingHealthAndRequestsAre503) {
  start({}, /*ready=*/false);
  HttpConnection c(port());
  const auto health = c.get("/health");
  EXPECT_EQ(health.status, 503);
  EXPECT_EQ(Json::parse(health.body)["status"], "loading");
  const auto r = c.post("/v1/completions", completion_body(3, false));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Json::parse(r.body)["error"]["code"], "model_loading");
  EXPECT_EQ(r.header("retry-after"), "5");
  EXPECT_EQ(c.get("/v1/models").status, 503);
  const auto metrics = c.get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("\nhearth_ready 0\n"), std::string::npos);

  make_ready();
  EXPECT_EQ(c.get("/health").status, 200);
  EXPECT_EQ(c.post("/v1/completions", completion_body(3, false)).status, 200);
}

TEST_F(ServerHttp, NonStreamingAnswersOnOneKeepAliveConnection) {
  start();
  HttpConnection c(port());
  for (int i = 0; i < 3; ++i) {
    const auto r = c.post("/v1/completions", completion_body(3, false));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/json");
    const Json j = Json::parse(r.body);
    EXPECT_EQ(j["object"], "text_completion");
    EXPECT_EQ(j["model"], "scripted");
    EXPECT_EQ(j["choices"][0]["text"], "w0 w1 w2 ");
    EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(j["usage"]["prompt_tokens"], 2);
    EXPECT_EQ(j["usage"]["completion_tokens"], 3);
  }
  EXPECT_EQ(backend_.params().size(), 3u);
  EXPECT_EQ(backend_.params()[0].prompt, (std::vector<int32_t>{'h', 'i'}));
}

TEST_F(ServerHttp, StreamIsServerSentEventsEndingInDone) {
  start();
  HttpConnection c(port());
  const auto r = c.post("/v1/chat/completions",
                        R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":4,"stream":true,
                            "stream_options":{"include_usage":true}})");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/event-stream; charset=utf-8");
  EXPECT_EQ(r.header("transfer-encoding"), "chunked");
  EXPECT_EQ(r.header("cache-control"), "no-cache");
  bool done = false;
  const auto events = sse_events(r.body, &done);
  EXPECT_TRUE(done);
  ASSERT_EQ(events.size(), 1u + 4u + 1u + 1u);  // role, 4 deltas, finish, usage
  EXPECT_EQ(events.front()["choices"][0]["delta"]["role"], "assistant");
  std::string text;
  for (size_t i = 1; i <= 4; ++i) text += events[i]["choices"][0]["delta"]["content"].get<std::string>();
  EXPECT_EQ(text, "w0 w1 w2 w3 ");
  EXPECT_EQ(events[5]["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(events[6]["usage"]["completion_tokens"], 4);
  // The connection stays usable after a stream.
  EXPECT_EQ(c.get("/health").status, 200);
}

TEST_F(ServerHttp, Http10ClientsGetAStreamEndedByClosing) {
  start();
  HttpConnection c(port());
  const std::string body = completion_body(3, true);
  c.stream().socket().send(boost::asio::buffer(
      "POST /v1/completions HTTP/1.0\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body));
  std::string raw;
  boost::beast::error_code ec;
  for (char buf[4096];;) {
    const size_t n = c.stream().socket().read_some(boost::asio::buffer(buf), ec);
    if (ec) break;
    raw.append(buf, n);
  }
  EXPECT_EQ(ec, boost::asio::error::eof);
  const size_t head_end = raw.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos) << raw;
  const std::string head = raw.substr(0, head_end);
  EXPECT_EQ(head.find("chunked"), std::string::npos) << head;
  bool done = false;
  const auto events = sse_events(raw.substr(head_end + 4), &done);
  EXPECT_TRUE(done);
  EXPECT_EQ(events.size(), 4u);  // 3 deltas + finish
}

TEST_F(ServerHttp, ClientThatGoesAwayMidStreamIsCancelled) {
  backend_.step = 5ms;
  start();
  HttpConnection c(port());
  ASSERT_EQ(c.start("/v1/completions", completion_body(100000, true)), 200);
  EXPECT_NE(c.read_some().find("data: "), std::string::npos);
  c.drop();
  EXPECT_TRUE(eventually([&] { return backend_.handle(0)->cancel_requested(); }, 1000ms));
  EXPECT_TRUE(eventually([&] { return backend_.active() == 0; }));
  EXPECT_TRUE(eventually([&] { return server_->context().generations_in_flight() == 0; }));
}

TEST_F(ServerHttp, ClientThatGoesAwayWhileWaitingForAWholeAnswerIsCancelled) {
  backend_.step = 5ms;
  start();
  {
    HttpConnection c(port());
    c.stream().socket().send(boost::asio::buffer(
        "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " +
        std::to_string(completion_body(100000, false).size()) + "\r\n\r\n" + completion_body(100000, false)));
    ASSERT_TRUE(eventually([&] { return backend_.params().size() == 1; }));
    c.drop();
  }
  EXPECT_TRUE(eventually([&] { return backend_.handle(0)->cancel_requested(); }, 1000ms));
}

TEST_F(ServerHttp, QueueFullIs429WithRetryAfter) {
  backend_.max_active = 0;
  start();
  HttpConnection c(port());
  const auto r = c.post("/v1/completions", completion_body(3, false));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.header("retry-after"), "1");
  const Json e = Json::parse(r.body)["error"];
  EXPECT_EQ(e["code"], "rate_limit_exceeded");
  EXPECT_TRUE(e.contains("param") && e.contains("type") && e.contains("message"));
}

TEST_F(ServerHttp, ApiKeysGuardV1ButNotProbes) {
  hearth::server::ServerConfig cfg;
  cfg.api_keys = {"k-one", "k-two"};
  start(cfg);
  HttpConnection c(port());
  const auto missing = c.get("/v1/models");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(Json::parse(missing.body)["error"]["code"], "invalid_api_key");
  EXPECT_EQ(c.get("/v1/models", {{"Authorization", "Bearer k-on"}}).status, 401);
  EXPECT_EQ(c.get("/v1/models", {{"Authorization", "k-one"}}).status, 401);
  EXPECT_EQ(c.post("/v1/completions", completion_body(1, false), {{"Authorization", "Bearer nope"}}).status, 401);
  EXPECT_EQ(c.get("/v1/models", {{"Authorization", "Bearer k-two"}}).status, 200);
  EXPECT_EQ(c.post("/v1/completions", completion_body(1, false), {{"Authorization", "Bearer k-one"}}).status, 200);
  EXPECT_EQ(c.get("/health").status, 200);
  EXPECT_EQ(c.get("/metrics").status, 200);
}

TEST_F(ServerHttp, BodyLimitIs413AndTheAnswerArrives) {
  hearth::server::ServerConfig cfg;
  cfg.max_body_bytes = 1000;
  start(cfg);
  HttpConnection c(port());
  const auto r = c.post("/v1/completions", R"({"prompt":")" + std::string(5000, 'a') + R"("})");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(Json::parse(r.body)["error"]["code"], "request_too_large");
  HttpConnection d(port());
  EXPECT_EQ(d.post("/v1/completions", completion_body(1, false)).status, 200);
}

TEST_F(ServerHttp, RoutesMethodsAndMalformedHttp) {
  start();
  HttpConnection c(port());
  EXPECT_EQ(c.get("/v2/anything").status, 404);
  const auto m = c.get("/v1/chat/completions");
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.header("allow"), "POST, OPTIONS");
  EXPECT_EQ(c.post("/v1/completions", "{not json").status, 400);
  EXPECT_EQ(c.get("/v1/ws").status, 400);  // not an upgrade
  const auto models = Json::parse(c.get("/v1/models?x=1").body);
  EXPECT_EQ(models["data"][0]["id"], "scripted");
  const auto other = c.post("/v1/completions", R"({"model":"gpt-4o","prompt":"x"})");
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(Json::parse(other.body)["error"]["code"], "model_not_found");
  EXPECT_EQ(c.post("/v1/completions", R"({"model":"/models/scripted.gguf","prompt":"x","max_tokens":1})").status, 200);
  const auto too_long = c.post("/v1/completions", R"({"prompt":")" + std::string(64, 'a') + R"("})");
  EXPECT_EQ(too_long.status, 400);
  EXPECT_EQ(Json::parse(too_long.body)["error"]["code"], "context_length_exceeded");

  HttpConnection raw(port());
  raw.stream().socket().send(boost::asio::buffer(std::string("GARBAGE\r\n\r\n")));
  boost::beast::flat_buffer b;
  boost::beast::http::response<boost::beast::http::string_body> res;
  boost::beast::http::read(raw.stream(), b, res);
  EXPECT_EQ(res.result_int(), 400);
}

TEST_F(ServerHttp, CorsHeadersAndPreflight) {
  hearth::server::ServerConfig cfg;
  cfg.cors_origin = "https://app.example";
  cfg.api_keys = {"k"};
  start(cfg);
  HttpConnection c(port());
  const auto pre = c.request(boost::beast::http::verb::options, "/v1/chat/completions");
  EXPECT_EQ(pre.status, 204);  // no key needed for a preflight
  EXPECT_EQ(pre.header("access-control-allow-origin"), "https://app.example");
  EXPECT_NE(pre.header("access-control-allow-headers").find("Authorization"), std::string::npos);
  EXPECT_EQ(c.get("/health").header("access-control-allow-origin"), "https://app.example");
}

TEST_F(ServerHttp, DrainingFinishesRunningStreamsAndRefusesNewRequests) {
  backend_.step = 10ms;
  hearth::server::ServerConfig cfg;
  cfg.drain_timeout = 10s;
  start(cfg);
  HttpConnection idle(port());
  ASSERT_EQ(idle.get("/health").status, 200);
  HttpConnection streaming(port());
  ASSERT_EQ(streaming.start("/v1/completions", completion_body(60, true)), 200);
  std::thread stopper([&] { server_->shutdown(); });
  EXPECT_TRUE(eventually([&] { return server_->context().state() == hearth::server::ServerContext::State::Draining; }));
  const auto refused = idle.post("/v1/completions", completion_body(1, false));
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(Json::parse(refused.body)["error"]["code"], "server_shutting_down");
  std::string body;
  for (std::string piece; !(piece = streaming.read_some()).empty();) body += piece;
  bool done = false;
  const auto events = sse_events(body, &done);
  EXPECT_TRUE(done);
  EXPECT_EQ(events.back()["choices"][0]["finish_reason"], "length");
  stopper.join();
}

TEST_F(ServerHttp, DrainTimeoutCancelsWhatIsStillRunning) {
  backend_.step = 5ms;
  hearth::server::ServerConfig cfg;
  cfg.drain_timeout = 100ms;
  start(cfg);
  HttpConnection streaming(port());
  ASSERT_EQ(streaming.start("/v1/completions", completion_body(100000, true)), 200);
  const auto t0 = std::chrono::steady_clock::now();
  server_->shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_TRUE(backend_.handle(0)->cancel_requested());
}

// ---- WebSocket ----

TEST_F(ServerHttp, WebSocketStreamsChunksThenDoneAndTakesTheNextRequest) {
  start();
  WsConnection ws(port());
  for (int round = 0; round < 2; ++round) {
    ws.send(R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":3})");
    std::vector<Json> frames;
    while (true) {
      frames.push_back(Json::parse(ws.receive()));
      if (frames.back().value("type", "") == "done") break;
    }
    ASSERT_EQ(frames.size(), 1u + 3u + 1u + 1u);  // role, 3 deltas, finish, done
    EXPECT_EQ(frames[0]["object"], "chat.completion.chunk");
    EXPECT_EQ(frames[4]["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(frames[5]["id"], frames[0]["id"]);
  }
  ws.send(R"({"endpoint":"/v1/completions","prompt":"x","max_tokens":1})");
  EXPECT_EQ(Json::parse(ws.receive())["object"], "text_completion");
}

TEST_F(ServerHttp, WebSocketCancelAndErrors) {
  backend_.step = 5ms;
  start();
  WsConnection ws(port());
  ws.send("{oops");
  Json e = Json::parse(ws.receive());
  EXPECT_EQ(e["type"], "error");
  EXPECT_EQ(e["status"], 400);
  EXPECT_TRUE(e["error"].contains("message"));
  ws.send(R"({"messages":[{"role":"user","content":"hi"}],"temperature":"x"})");
  EXPECT_EQ(Json::parse(ws.receive())["error"]["param"], "temperature");

  ws.send(R"({"messages":[{"role":"user","content":"hi"}]})");  // no max_tokens: runs until cancelled
  EXPECT_EQ(Json::parse(ws.receive())["choices"][0]["delta"]["role"], "assistant");
  ws.send(R"({"messages":[{"role":"user","content":"again"}]})");
  ws.send(R"({"type":"cancel"})");
  bool saw_busy = false;
  std::string finish;
  while (true) {
    const Json f = Json::parse(ws.receive());
    if (f.value("type", "") == "error") saw_busy |= f["status"] == 409;
    if (f.contains("choices") && !f["choices"].empty() && !f["choices"][0]["finish_reason"].is_null())
      finish = f["choices"][0]["finish_reason"];
    if (f.value("type", "") == "done") break;
  }
  EXPECT_TRUE(saw_busy);
  EXPECT_EQ(finish, "cancelled");
  EXPECT_TRUE(backend_.handle(0)->cancel_requested());
}

TEST_F(ServerHttp, WebSocketClosedMidAnswerCancels) {
  backend_.step = 5ms;
  hearth::server::ServerConfig cfg;
  cfg.api_keys = {"k"};
  start(cfg);
  EXPECT_THROW(WsConnection bad(port()), boost::system::system_error);  // 401 instead of 101
  WsConnection ws(port(), {{"Authorization", "Bearer k"}});
  ws.send(R"({"prompt":"x","endpoint":"completions","max_tokens":100000})");
  ws.receive();
  ws.drop();
  EXPECT_TRUE(eventually([&] { return backend_.handle(0)->cancel_requested(); }, 1000ms));
}
