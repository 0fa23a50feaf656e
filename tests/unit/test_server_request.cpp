// Request bodies of /v1/chat/completions and /v1/completions: what is accepted, what it maps
// to, and the 400s (status, param) for everything else, per OpenAI's API reference.
#include <gtest/gtest.h>

#include <string>

#include "server/api_error.h"
#include "server/openai_request.h"

using hearth::server::ApiError;
using hearth::server::Endpoint;
using hearth::server::parse_completion_request;
using hearth::server::parse_json_body;
using Json = nlohmann::ordered_json;

namespace {

constexpr int32_t kVocab = 512;

Json chat_body(Json extra = Json::object()) {
  Json b = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  for (auto it = extra.begin(); it != extra.end(); ++it) b[it.key()] = it.value();
  return b;
}

hearth::server::CompletionRequest chat(Json extra = Json::object()) {
  return parse_completion_request(Endpoint::ChatCompletions, chat_body(std::move(extra)), kVocab);
}

hearth::server::CompletionRequest completion(Json body) {
  return parse_completion_request(Endpoint::Completions, body, kVocab);
}

// The ApiError a call throws (fails the test when it throws none).
template <typename F>
ApiError error_of(F&& f) {
  try {
    f();
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "no ApiError thrown";
  return ApiError(0, "", "");
}

}  // namespace

TEST(ServerJsonBody, RefusesWhatIsNotOneJsonObject) {
  EXPECT_EQ(error_of([] { parse_json_body(""); }).status(), 400);
  EXPECT_NE(std::string(error_of([] { parse_json_body("  "); }).what()).find("empty"), std::string::npos);
  const ApiError bad = error_of([] { parse_json_body("{\"a\": }"); });
  EXPECT_EQ(bad.status(), 400);
  EXPECT_NE(std::string(bad.what()).find("line 1, column 7"), std::string::npos) << bad.what();
  EXPECT_EQ(std::string(bad.what()).find("json.exception"), std::string::npos) << bad.what();
  EXPECT_NE(std::string(error_of([] { parse_json_body("[1,2]"); }).what()).find("array"), std::string::npos);
  EXPECT_NE(std::string(error_of([] { parse_json_body("{\"a\":\"\xff\"}"); }).what()).find("UTF-8"),
            std::string::npos);
  EXPECT_EQ(error_of([] { parse_json_body("{\"a\":1} x"); }).status(), 400);
}

TEST(ServerJsonBody, LimitsNestingDepth) {
  auto nested = [](int depth) {
    std::string s = "{\"a\":";
    for (int i = 1; i < depth; ++i) s += "[";
    s += "1";
    for (int i = 1; i < depth; ++i) s += "]";
    return s + "}";
  };
  EXPECT_NO_THROW(parse_json_body(nested(hearth::server::kMaxJsonDepth)));
  EXPECT_NE(std::string(error_of([&] { parse_json_body(nested(hearth::server::kMaxJsonDepth + 1)); }).what())
                .find("deeper"),
            std::string::npos);
  // A million brackets: refused quickly, without exhausting the stack.
  EXPECT_EQ(error_of([] { parse_json_body(std::string(1000000, '[')); }).status(), 400);
}

TEST(ServerRequest, ChatDefaultsAndMapping) {
  const auto r = chat();
  EXPECT_EQ(r.endpoint, Endpoint::ChatCompletions);
  EXPECT_EQ(r.model, "m");
  EXPECT_FALSE(r.stream);
  EXPECT_EQ(r.params.max_tokens, -1);  // chat: until the end or the context is full
  EXPECT_EQ(r.messages, Json::parse(R"([{"role":"user","content":"hi"}])"));
  EXPECT_TRUE(r.tools.is_null());

  const auto s = chat({{"stream", true}, {"stream_options", {{"include_usage", true}}},
                       {"temperature", 0.25}, {"top_p", 0.5}, {"top_k", 7}, {"min_p", 0.1},
                       {"presence_penalty", 1.5}, {"frequency_penalty", -0.5},
                       {"repetition_penalty", 1.1}, {"seed", 42}, {"max_tokens", 9},
                       {"max_completion_tokens", 5}, {"stop", "END"}, {"ignore_eos", true},
                       {"logprobs", true}, {"top_logprobs", 3}, {"logit_bias", {{"7", -100}, {"12", 2.5}}},
                       {"n", 1}, {"user", "someone"}, {"some_future_parameter", {{"x", 1}}}});
  EXPECT_TRUE(s.stream);
  EXPECT_TRUE(s.include_usage);
  EXPECT_FLOAT_EQ(s.params.sampling.temperature, 0.25f);
  EXPECT_FLOAT_EQ(s.params.sampling.top_p, 0.5f);
  EXPECT_EQ(s.params.sampling.top_k, 7);
  EXPECT_FLOAT_EQ(s.params.sampling.min_p, 0.1f);
  EXPECT_FLOAT_EQ(s.params.sampling.presence_penalty, 1.5f);
  EXPECT_FLOAT_EQ(s.params.sampling.frequency_penalty, -0.5f);
  EXPECT_FLOAT_EQ(s.params.sampling.repeat_penalty, 1.1f);
  EXPECT_EQ(s.params.sampling.seed, 42u);
  EXPECT_EQ(s.params.max_tokens, 5);  // max_completion_tokens wins over the deprecated max_tokens
  EXPECT_EQ(s.params.stop, std::vector<std::string>{"END"});
  EXPECT_TRUE(s.params.ignore_eos);
  EXPECT_TRUE(s.params.logprobs);
  EXPECT_EQ(s.params.top_logprobs, 3);
  EXPECT_EQ(s.params.logit_bias, (std::map<int32_t, float>{{7, -100.0f}, {12, 2.5f}}));
}

TEST(ServerRequest, NullMeansNotGiven) {
  const auto r = chat({{"temperature", nullptr}, {"stop", nullptr}, {"seed", nullptr},
                       {"stream_options", nullptr}, {"max_tokens", nullptr}, {"n", nullptr}});
  EXPECT_FLOAT_EQ(r.params.sampling.temperature, hearth::sampling::Params{}.temperature);
  EXPECT_EQ(r.params.sampling.seed, hearth::sampling::Params::kRandomSeed);
  EXPECT_TRUE(r.params.stop.empty());
  EXPECT_EQ(r.params.max_tokens, -1);
}

TEST(ServerRequest, SeedsAndStops) {
  EXPECT_EQ(chat({{"seed", -1}}).params.sampling.seed, hearth::sampling::Params::kRandomSeed);
  EXPECT_EQ(chat({{"seed", 18446744073709551615ull}}).params.sampling.seed, 18446744073709551615ull);
  EXPECT_EQ(chat({{"seed", 7.0}}).params.sampling.seed, 7u);  // integral doubles are integers
  EXPECT_EQ(chat({{"stop", {"a", "", "b"}}}).params.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(chat({{"stop", ""}}).params.stop.empty());
}

TEST(ServerRequest, MessagesContentPartsAreJoined) {
  const auto r = parse_completion_request(
      Endpoint::ChatCompletions,
      Json::parse(R"({"messages":[
        {"role":"system","content":[{"type":"text","text":"be brief"}]},
        {"role":"user","content":[{"type":"text","text":"line one"},{"type":"text","text":"line two"}],"name":"ann"},
        {"role":"assistant","content":null,"tool_calls":[{"id":"c1"}]}]})"),
      kVocab);
  EXPECT_EQ(r.messages[0]["content"], "be brief");
  EXPECT_EQ(r.messages[1]["content"], "line one\nline two");
  EXPECT_EQ(r.messages[1]["name"], "ann");  // other fields pass through to the template
  EXPECT_TRUE(r.messages[2]["content"].is_null());
  EXPECT_EQ(r.messages[2]["tool_calls"][0]["id"], "c1");
}

TEST(ServerRequest, BadMessagesNameWhereTheProblemIs) {
  auto parse = [](const char* body) {
    return error_of([&] {
      parse_completion_request(Endpoint::ChatCompletions, Json::parse(body), kVocab);
    });
  };
  EXPECT_EQ(parse(R"({})").param(), "messages");
  EXPECT_EQ(parse(R"({"messages":"hi"})").param(), "messages");
  EXPECT_EQ(parse(R"({"messages":[]})").param(), "messages");
  EXPECT_EQ(parse(R"({"messages":[5]})").param(), "messages[0]");
  EXPECT_EQ(parse(R"({"messages":[{"content":"x"}]})").param(), "messages[0].role");
  EXPECT_EQ(parse(R"({"messages":[{"role":"user"}]})").param(), "messages[0].content");
  EXPECT_EQ(parse(R"({"messages":[{"role":"user","content":5}]})").param(), "messages[0].content");
  const ApiError image = parse(
      R"({"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"x"}}]}]})");
  EXPECT_EQ(image.status(), 400);
  EXPECT_EQ(image.param(), "messages[0].content[1]");
  EXPECT_NE(std::string(image.what()).find("image_url"), std::string::npos);
}

TEST(ServerRequest, WrongTypesAndRangesAre400NamingTheParameter) {
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"model", 5}}, "model"},
      {{{"stream", "yes"}}, "stream"},
      {{{"stream_options", 1}}, "stream_options"},
      {{{"stream_options", {{"include_usage", "yes"}}}}, "include_usage"},
      {{{"temperature", "hot"}}, "temperature"},
      {{{"temperature", 2.5}}, "temperature"},
      {{{"temperature", -0.1}}, "temperature"},
      {{{"top_p", 1.5}}, "top_p"},
      {{{"top_k", 1.5}}, "top_k"},
      {{{"top_k", "40"}}, "top_k"},
      {{{"min_p", -1}}, "min_p"},
      {{{"presence_penalty", 3}}, "presence_penalty"},
      {{{"frequency_penalty", "a"}}, "frequency_penalty"},
      {{{"repetition_penalty", 0}}, "repetition_penalty"},
      {{{"seed", "1"}}, "seed"},
      {{{"seed", 1.5}}, "seed"},
      {{{"max_tokens", 0}}, "max_tokens"},
      {{{"max_tokens", "10"}}, "max_tokens"},
      {{{"max_completion_tokens", -3}}, "max_completion_tokens"},
      {{{"stop", 5}}, "stop"},
      {{{"stop", {"a", 1}}}, "stop"},
      {{{"stop", Json(std::vector<std::string>(17, "x"))}}, "stop"},
      {{{"logprobs", "yes"}}, "logprobs"},
      {{{"logprobs", true}, {"top_logprobs", 21}}, "top_logprobs"},
      {{{"top_logprobs", 2}}, "top_logprobs"},  // without logprobs: true
      {{{"logit_bias", {1, 2}}}, "logit_bias"},
      {{{"logit_bias", {{"abc", 1}}}}, "logit_bias"},
      {{{"logit_bias", {{"512", 1}}}}, "logit_bias"},  // outside the vocabulary
      {{{"logit_bias", {{"-1", 1}}}}, "logit_bias"},
      {{{"logit_bias", {{"5", 101}}}}, "logit_bias"},
      {{{"logit_bias", {{"5", "x"}}}}, "logit_bias"},
      {{{"n", 2}}, "n"},
      {{{"n", 0}}, "n"},
      {{{"tools", {{"type", "function"}}}}, "tools"},
      {{{"chat_template_kwargs", "x"}}, "chat_template_kwargs"},
      {{{"response_format", {{"type", "json_object"}}}}, "response_format"},
      {{{"ignore_eos", 1}}, "ignore_eos"},
  };
  for (const auto& [extra, param] : cases) {
    const ApiError e = error_of([&] { chat(extra); });
    EXPECT_EQ(e.status(), 400) << extra.dump();
    EXPECT_EQ(e.param(), param) << extra.dump() << " -> " << e.what();
    EXPECT_EQ(e.type(), "invalid_request_error");
    EXPECT_NE(std::string(e.what()).find(param), std::string::npos) << e.what();
  }
}

TEST(ServerRequest, NAboveOneSaysWhatToDoInstead) {
  const ApiError e = error_of([] { chat({{"n", 3}}); });
  EXPECT_NE(std::string(e.what()).find("send 3 requests"), std::string::npos) << e.what();
}

TEST(ServerRequest, CompletionsPromptForms) {
  EXPECT_EQ(completion({{"prompt", "Once"}}).prompt, "Once");
  EXPECT_FALSE(completion({{"prompt", "Once"}}).prompt_is_ids);
  EXPECT_EQ(completion({{"prompt", {"Once"}}}).prompt, "Once");
  const auto ids = completion({{"prompt", {1, 2, 3}}});
  EXPECT_TRUE(ids.prompt_is_ids);
  EXPECT_EQ(ids.prompt_ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(completion({{"prompt", {{4, 5}}}}).prompt_ids, (std::vector<int32_t>{4, 5}));

  EXPECT_EQ(error_of([] { completion(Json::object()); }).param(), "prompt");
  EXPECT_EQ(error_of([] { completion({{"prompt", Json::array()}}); }).param(), "prompt");
  EXPECT_EQ(error_of([] { completion({{"prompt", {"a", "b"}}}); }).param(), "prompt");
  EXPECT_EQ(error_of([] { completion({{"prompt", {1, 512}}}); }).param(), "prompt[1]");
  EXPECT_EQ(error_of([] { completion({{"prompt", {1, -2}}}); }).param(), "prompt[1]");
  EXPECT_EQ(error_of([] { completion({{"prompt", 5}}); }).param(), "prompt");
}

TEST(ServerRequest, CompletionsDefaultsAndLogprobs) {
  const auto r = completion({{"prompt", "x"}});
  EXPECT_EQ(r.params.max_tokens, 16);  // OpenAI's default for /v1/completions
  EXPECT_FALSE(r.params.logprobs);
  const auto lp = completion({{"prompt", "x"}, {"logprobs", 3}, {"max_tokens", 100}});
  EXPECT_TRUE(lp.params.logprobs);
  EXPECT_EQ(lp.params.top_logprobs, 3);
  EXPECT_EQ(lp.params.max_tokens, 100);
  EXPECT_TRUE(completion({{"prompt", "x"}, {"logprobs", 0}}).params.logprobs);
  EXPECT_EQ(error_of([] { completion({{"prompt", "x"}, {"logprobs", 21}}); }).param(), "logprobs");
  EXPECT_EQ(error_of([] { completion({{"prompt", "x"}, {"echo", true}}); }).param(), "echo");
  EXPECT_EQ(error_of([] { completion({{"prompt", "x"}, {"best_of", 2}}); }).param(), "best_of");
  EXPECT_EQ(error_of([] { completion({{"prompt", "x"}, {"suffix", "end"}}); }).param(), "suffix");
  EXPECT_NO_THROW(completion({{"prompt", "x"}, {"echo", false}, {"best_of", 1}, {"suffix", nullptr}}));
}
