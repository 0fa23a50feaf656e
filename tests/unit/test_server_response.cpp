// Engine events -> OpenAI response objects (shapes from OpenAI's API reference), the
// reasoning split, and the SSE / chunked framing.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "server/openai_response.h"
#include "server/reasoning.h"
#include "server/sse.h"

using hearth::engine::Event;
using hearth::server::Endpoint;
using hearth::server::ReasoningMarkers;
using hearth::server::ReasoningSplitter;
using hearth::server::ResponseBuilder;
using hearth::server::ResponseContext;
using Json = nlohmann::ordered_json;

namespace {

Event delta(std::string text, std::vector<int32_t> ids = {1}) {
  Event e{};
  e.kind = Event::Kind::Delta;
  e.text = std::move(text);
  e.token_ids = std::move(ids);
  return e;
}

Event finished(std::string reason, int64_t prompt = 5, int64_t completion = 2, int64_t cached = 3) {
  Event e{};
  e.kind = Event::Kind::Finished;
  e.finish_reason = std::move(reason);
  e.usage.prompt_tokens = prompt;
  e.usage.completion_tokens = completion;
  e.usage.cached_prompt_tokens = cached;
  return e;
}

ResponseContext context(Endpoint endpoint) {
  ResponseContext c;
  c.endpoint = endpoint;
  c.id = endpoint == Endpoint::ChatCompletions ? "chatcmpl-abc" : "cmpl-abc";
  c.created = 1700000000;
  c.model = "tiny";
  return c;
}

const Json kUsage = Json::parse(
    R"({"prompt_tokens":5,"completion_tokens":2,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":3}})");

std::vector<Json> stream_all(ResponseBuilder& b, const std::vector<Event>& events) {
  std::vector<Json> out = b.opening_chunks();
  for (const Event& e : events)
    for (Json& c : b.chunks(e)) out.push_back(std::move(c));
  return out;
}

}  // namespace

TEST(ServerResponse, ChatStreamChunks) {
  ResponseContext c = context(Endpoint::ChatCompletions);
  c.include_usage = true;
  ResponseBuilder b(c);
  const auto chunks = stream_all(b, {delta("Hel"), delta("lo"), finished("stop")});
  ASSERT_EQ(chunks.size(), 5u);
  EXPECT_EQ(chunks[0], Json::parse(R"({"id":"chatcmpl-abc","object":"chat.completion.chunk",
    "created":1700000000,"model":"tiny","choices":[{"index":0,"delta":{"role":"assistant","content":""},
    "logprobs":null,"finish_reason":null}],"usage":null})"));
  EXPECT_EQ(chunks[1]["choices"][0]["delta"], Json::parse(R"({"content":"Hel"})"));
  EXPECT_EQ(chunks[2]["choices"][0]["delta"], Json::parse(R"({"content":"lo"})"));
  EXPECT_EQ(chunks[3]["choices"][0], Json::parse(R"({"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"})"));
  EXPECT_TRUE(chunks[3]["usage"].is_null());
  // stream_options.include_usage: one more chunk, no choices, the usage.
  EXPECT_EQ(chunks[4]["choices"], Json::array());
  EXPECT_EQ(chunks[4]["usage"], kUsage);
  for (const Json& ch : chunks) {
    EXPECT_EQ(ch["id"], "chatcmpl-abc");
    EXPECT_EQ(ch["object"], "chat.completion.chunk");
  }
}

TEST(ServerResponse, WithoutIncludeUsageChunksHaveNoUsageField) {
  ResponseBuilder b(context(Endpoint::ChatCompletions));
  const auto chunks = stream_all(b, {delta("x"), finished("length")});
  ASSERT_EQ(chunks.size(), 3u);
  for (const Json& ch : chunks) EXPECT_FALSE(ch.contains("usage"));
  EXPECT_EQ(chunks[2]["choices"][0]["finish_reason"], "length");
}

TEST(ServerResponse, ChatBody) {
  ResponseBuilder b(context(Endpoint::ChatCompletions));
  b.add(delta("Hel"));
  b.add(delta("lo"));
  b.add(finished("stop"));
  EXPECT_EQ(b.body(), Json::parse(R"({"id":"chatcmpl-abc","object":"chat.completion","created":1700000000,
    "model":"tiny","choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},
    "logprobs":null,"finish_reason":"stop"}],"usage":)" + kUsage.dump() + "}"));
}

TEST(ServerResponse, CompletionsStreamAndBody) {
  ResponseBuilder s(context(Endpoint::Completions));
  const auto chunks = stream_all(s, {delta("Once"), finished("length")});
  ASSERT_EQ(chunks.size(), 2u);  // no role chunk for completions
  EXPECT_EQ(chunks[0], Json::parse(R"({"id":"cmpl-abc","object":"text_completion","created":1700000000,
    "model":"tiny","choices":[{"index":0,"text":"Once","logprobs":null,"finish_reason":null}]})"));
  EXPECT_EQ(chunks[1]["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(chunks[1]["choices"][0]["text"], "");

  ResponseBuilder b(context(Endpoint::Completions));
  b.add(delta("Once"));
  b.add(delta(" upon"));
  b.add(finished("length"));
  EXPECT_EQ(b.body(), Json::parse(R"({"id":"cmpl-abc","object":"text_completion","created":1700000000,
    "model":"tiny","choices":[{"index":0,"text":"Once upon","logprobs":null,"finish_reason":"length"}],
    "usage":)" + kUsage.dump() + "}"));
}

TEST(ServerResponse, ChatLogprobs) {
  ResponseContext c = context(Endpoint::ChatCompletions);
  c.logprobs = true;
  Event d = delta("é", {7});
  d.logprobs = {{7, "é", -0.5f}};
  d.top_logprobs = {{{7, "é", -0.5f}, {9, "a", -1.25f}}};
  ResponseBuilder s(c);
  const auto chunk = s.chunks(d).at(0);
  EXPECT_EQ(chunk["choices"][0]["logprobs"], Json::parse(R"({"content":[{"token":"é","logprob":-0.5,
    "bytes":[195,169],"top_logprobs":[{"token":"é","logprob":-0.5,"bytes":[195,169]},
    {"token":"a","logprob":-1.25,"bytes":[97]}]}],"refusal":null})"));

  ResponseBuilder b(c);
  b.add(d);
  b.add(finished("stop"));
  EXPECT_EQ(b.body()["choices"][0]["logprobs"]["content"].size(), 1u);
  EXPECT_EQ(b.body()["choices"][0]["logprobs"]["content"][0]["logprob"], -0.5);
}

TEST(ServerResponse, CompletionsLogprobsLegacyShape) {
  ResponseContext c = context(Endpoint::Completions);
  c.logprobs = true;
  Event a = delta("On", {3});
  a.logprobs = {{3, "On", -0.25f}};
  a.top_logprobs = {{{3, "On", -0.25f}, {4, "Tw", -2.0f}}};
  Event b2 = delta("ce", {5});
  b2.logprobs = {{5, "ce", -0.5f}};
  b2.top_logprobs = {{{5, "ce", -0.5f}}};
  ResponseBuilder b(c);
  b.add(a);
  b.add(b2);
  b.add(finished("stop"));
  EXPECT_EQ(b.body()["choices"][0]["logprobs"], Json::parse(R"({"tokens":["On","ce"],
    "token_logprobs":[-0.25,-0.5],"top_logprobs":[{"On":-0.25,"Tw":-2.0},{"ce":-0.5}],"text_offset":[0,2]})"));
}

TEST(ServerResponse, ReasoningContentSplitStreamingAndWhole) {
  ResponseContext c = context(Endpoint::ChatCompletions);
  c.reasoning = ReasoningMarkers{};
  ResponseBuilder s(c);
  std::string reasoning, content;
  for (const Json& ch : stream_all(s, {delta("<thi"), delta("nk>\nLet me"), delta(" think.\n</th"),
                                       delta("ink>\n\nThe answer"), delta(" is 4."), finished("stop")})) {
    if (ch["choices"].empty()) continue;
    const Json& d = ch["choices"][0]["delta"];
    if (d.contains("reasoning_content")) reasoning += d["reasoning_content"].get<std::string>();
    if (d.contains("content")) content += d["content"].get<std::string>();
  }
  EXPECT_EQ(reasoning, "Let me think.");
  EXPECT_EQ(content, "The answer is 4.");

  ResponseBuilder b(c);
  b.add(delta("<think>I know.</think>It is 4."));
  b.add(finished("stop"));
  EXPECT_EQ(b.body()["choices"][0]["message"],
            Json::parse(R"({"role":"assistant","content":"It is 4.","reasoning_content":"I know."})"));
}

TEST(ServerResponse, ErrorsFromEngineEvents) {
  Event e{};
  e.kind = Event::Kind::Error;
  e.error = "prompt too long";
  e.error_code = "context_length_exceeded";
  EXPECT_EQ(hearth::server::error_from_event(e).status(), 400);
  EXPECT_EQ(hearth::server::error_from_event(e).code(), "context_length_exceeded");
  e.error = "engine stopped";
  e.error_code = "";
  EXPECT_EQ(hearth::server::error_from_event(e).status(), 500);
  EXPECT_EQ(hearth::server::error_from_event(e).to_json(),
            Json::parse(R"({"error":{"message":"generation failed: engine stopped","type":"server_error",
              "param":null,"code":null}})"));
}

TEST(ServerResponse, IdsArePrefixedAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = hearth::server::new_response_id(Endpoint::ChatCompletions);
    EXPECT_EQ(id.rfind("chatcmpl-", 0), 0u);
    EXPECT_EQ(id.size(), 9u + 24u);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(hearth::server::new_response_id(Endpoint::Completions).rfind("cmpl-", 0), 0u);
}

TEST(ServerSse, Framing) {
  EXPECT_EQ(hearth::server::sse_event(Json::parse(R"({"a":"x\ny"})")), "data: {\"a\":\"x\\ny\"}\n\n");
  EXPECT_EQ(hearth::server::http_chunk("hello"), "5\r\nhello\r\n");
  EXPECT_EQ(hearth::server::http_chunk(std::string(26, 'x')).substr(0, 4), "1a\r\n");
  EXPECT_EQ(std::string(hearth::server::kSseDone), "data: [DONE]\n\n");
  EXPECT_EQ(std::string(hearth::server::kLastHttpChunk), "0\r\n\r\n");
  // Bytes that are not UTF-8 never make the framing throw.
  EXPECT_NO_THROW(hearth::server::sse_event(Json{{"t", std::string("\xff")}}));
}

// ---- ReasoningSplitter ----

namespace {

std::pair<std::string, std::string> split_whole(const std::string& text, bool inside = false) {
  ReasoningSplitter s(ReasoningMarkers{}, inside);
  auto a = s.push(text);
  auto b = s.flush();
  return {a.reasoning + b.reasoning, a.content + b.content};
}

// The same text pushed one byte at a time must give the same split.
std::pair<std::string, std::string> split_bytewise(const std::string& text, bool inside = false) {
  ReasoningSplitter s(ReasoningMarkers{}, inside);
  std::string r, c;
  for (char ch : text) {
    auto p = s.push(std::string(1, ch));
    r += p.reasoning;
    c += p.content;
  }
  auto p = s.flush();
  return {r + p.reasoning, c + p.content};
}

}  // namespace

TEST(ReasoningSplitter, SplitsAtTheMarkersAndTrimsAroundThem) {
  using P = std::pair<std::string, std::string>;
  const std::vector<std::pair<std::string, P>> cases = {
      {"<think>a b</think>c d", {"a b", "c d"}},
      {"  <think>\n  a b \n</think>\n\n c d ", {"a b", "c d "}},
      {"plain answer", {"", "plain answer"}},
      {"  plain", {"", "  plain"}},              // no reasoning: whitespace kept
      {"answer <think>x</think>", {"", "answer <think>x</think>"}},  // only at the start
      {"<think>unfinished", {"unfinished", ""}},
      {"<think>a</thi", {"a</thi", ""}},
      {"<thi", {"", "<thi"}},
      {"<think></think>", {"", ""}},
      {"<think>a\n\nb</think>", {"a\n\nb", ""}},
      {"", {"", ""}},
  };
  for (const auto& [text, want] : cases) {
    EXPECT_EQ(split_whole(text), want) << text;
    EXPECT_EQ(split_bytewise(text), want) << text;
  }
}

TEST(ReasoningSplitter, PromptThatOpenedTheSection) {
  EXPECT_EQ(split_whole("\nweighing it\n</think>\nYes.", true), std::make_pair(std::string("weighing it"), std::string("Yes.")));
  EXPECT_EQ(split_bytewise("\nweighing it\n</think>\nYes.", true),
            std::make_pair(std::string("weighing it"), std::string("Yes.")));
}

TEST(ReasoningSplitter, CustomMarkers) {
  ReasoningSplitter s(ReasoningMarkers{"[THINK]", "[/THINK]"}, false);
  auto a = s.push("[THINK]hm[/THINK]ok");
  EXPECT_EQ(a.reasoning, "hm");
  EXPECT_EQ(a.content, "ok");
}
