// The serving engine on the real model stories260K: reference outputs, batching determinism,
// cancellation, prefix caching, overload.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/engine.h"
#include "engine/model_loader.h"

using namespace hearth;
using namespace hearth::engine;
using namespace std::chrono_literals;

namespace {

const std::string kData = HEARTH_TESTDATA;

nlohmann::json reference() {
  std::ifstream in(kData + "/models/stories260K.greedy_bos.json");
  return nlohmann::json::parse(in);
}

// The model is loaded once for the whole file (it is read-only; each Engine owns its cache).
LoadedModel& stories() {
  static LoadedModel lm = load_model_and_tokenizer(kData + "/models/stories260K.gguf", "");
  return lm;
}

EngineConfig small_config() {
  EngineConfig c;
  c.n_ctx_per_sequence = 512;
  c.kv_cache_tokens = 4096;
  c.kv_block_size = 16;
  c.max_running = 16;
  c.max_queue = 64;
  c.max_batch_tokens = 64;
  c.threads = 2;
  return c;
}

RequestParams greedy(std::vector<int32_t> prompt, int64_t max_tokens) {
  RequestParams p;
  p.prompt = std::move(prompt);
  p.max_tokens = max_tokens;
  p.sampling.temperature = 0.0f;
  p.sampling.repeat_penalty = 1.0f;
  return p;
}

struct Outcome {
  std::vector<int32_t> ids;
  std::string text;
  std::vector<Event> deltas;
  Event end{};
  bool ended = false;
};

Outcome collect(RequestHandle& h, std::chrono::milliseconds limit = 60s) {
  Outcome o;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    auto e = h.next(100ms);
    if (!e) continue;
    if (e->kind == Event::Kind::Delta) {
      o.ids.insert(o.ids.end(), e->token_ids.begin(), e->token_ids.end());
      o.text += e->text;
      o.deltas.push_back(std::move(*e));
      continue;
    }
    o.end = std::move(*e);
    o.ended = true;
    break;
  }
  return o;
}

std::vector<int32_t> encode(const std::string& text) {
  return stories().tokenizer->encode(text, /*add_special=*/true, /*parse_special=*/false);
}

// 16 different prompts (some long enough to need several prefill chunks) with sampling.
std::vector<RequestParams> sixteen_requests() {
  const char* starts[] = {"Once upon a time", "The cat", "Lily and Tom went to the park",
                          "One day, a little bird", "Ben had a red ball", "The sun was hot",
                          "Mom said", "There was a big tree", "Sue liked to sing",
                          "The dog ran", "A boy named Tim", "It was a rainy day",
                          "The little fish", "Sam wanted a toy", "Anna saw a car",
                          "The bear was sad"};
  std::vector<RequestParams> out;
  for (int i = 0; i < 16; ++i) {
    std::string text = starts[i];
    for (int k = 0; k < i % 4; ++k) text += ". " + std::string(starts[(i + k + 1) % 16]);
    RequestParams p;
    p.prompt = encode(text);
    p.max_tokens = 24 + 4 * (i % 5);
    p.sampling.seed = 1000 + static_cast<uint64_t>(i);
    p.sampling.temperature = 0.9f;
    p.sampling.top_k = 0;
    p.sampling.top_p = 0.95f;
    p.sampling.repeat_penalty = 1.1f;
    p.ignore_eos = (i % 3 == 0);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

TEST(EngineGolden, GreedyFromBosReproducesTheReference) {
  const auto ref = reference();
  Engine engine(*stories().model, *stories().tokenizer, small_config());
  auto h = engine.submit(greedy(ref["prompt_ids"].get<std::vector<int32_t>>(), 256));
  const Outcome o = collect(*h);
  ASSERT_TRUE(o.ended);
  ASSERT_EQ(o.end.kind, Event::Kind::Finished) << o.end.error;
  EXPECT_EQ(o.ids, ref["generated_ids"].get<std::vector<int32_t>>());
  EXPECT_EQ(o.text, ref["generated_text"].get<std::string>());
  EXPECT_EQ(o.end.finish_reason, "length");
  EXPECT_EQ(o.end.usage.prompt_tokens, 1);
  EXPECT_EQ(o.end.usage.completion_tokens, 256);
  EXPECT_GT(o.end.time_to_first_token_s, 0.0);
  EXPECT_FALSE(h->next(10ms).has_value());  // nothing after the end
  EXPECT_TRUE(h->done());
}

TEST(EngineGolden, SixteenConcurrentRequestsGetExactlyTheirTokensAlone) {
  const auto requests = sixteen_requests();
  std::vector<Outcome> alone;
  int64_t steps_alone = 0;
  {
    EngineConfig c = small_config();
    c.max_running = 1;
    Engine engine(*stories().model, *stories().tokenizer, c);
    std::vector<std::shared_ptr<RequestHandle>> hs;
    for (const auto& r : requests) hs.push_back(engine.submit(r));
    for (auto& h : hs) alone.push_back(collect(*h));
    steps_alone = engine.stats().steps;
  }
  EngineConfig c = small_config();
  c.max_batch_tokens = 40;  // prompt chunks and 16 decode tokens share each step
  Engine engine(*stories().model, *stories().tokenizer, c);
  std::vector<std::shared_ptr<RequestHandle>> hs;
  for (const auto& r : requests) hs.push_back(engine.submit(r));
  for (size_t i = 0; i < hs.size(); ++i) {
    const Outcome o = collect(*hs[i]);
    ASSERT_TRUE(o.ended && alone[i].ended);
    ASSERT_EQ(o.end.kind, Event::Kind::Finished) << o.end.error;
    EXPECT_FALSE(o.ids.empty());
    EXPECT_EQ(o.ids, alone[i].ids) << "request " << i;
    EXPECT_EQ(o.text, alone[i].text) << "request " << i;
    EXPECT_EQ(o.end.finish_reason, alone[i].end.finish_reason);
    EXPECT_EQ(o.end.usage.completion_tokens, static_cast<int64_t>(o.ids.size()));
  }
  const EngineStats s = engine.stats();
  EXPECT_EQ(s.requests_finished, 16);
  EXPECT_EQ(s.kv_blocks_used, 0);
  EXPECT_TRUE(engine.idle());
  // They really ran together: far fewer forward passes than one request at a time.
  EXPECT_LT(s.steps * 4, steps_alone);
  // One latency sample per sampled token: the delivered ones plus each ending EOS.
  EXPECT_EQ(s.ttft_samples_s.size(), 16u);
  int64_t delivered = 0, eos = 0;
  for (const auto& o : alone) {
    delivered += static_cast<int64_t>(o.ids.size());
    eos += o.end.finish_reason == "stop";
  }
  EXPECT_EQ(s.generated_tokens_total, delivered);
  EXPECT_EQ(static_cast<int64_t>(s.ttft_samples_s.size() + s.itl_samples_s.size()),
            delivered + eos);
  EXPECT_TRUE(engine.stats().ttft_samples_s.empty());  // taken by the snapshot above
}

TEST(EngineGolden, PreemptionWhenTheKvPoolRunsOutChangesNoToken) {
  // A pool of exactly one sequence's worth of blocks, four long generations at once: the
  // newest are preempted and recomputed, and every request still gets its own tokens.
  auto requests = sixteen_requests();
  requests.resize(4);
  for (auto& r : requests) {
    r.max_tokens = 150;
    r.ignore_eos = true;
  }
  EngineConfig c = small_config();
  c.n_ctx_per_sequence = 192;
  c.kv_cache_tokens = 192;
  c.max_running = 1;
  std::vector<Outcome> alone;
  {
    Engine engine(*stories().model, *stories().tokenizer, c);
    for (const auto& r : requests) alone.push_back(collect(*engine.submit(r)));
  }
  c.max_running = 4;
  Engine engine(*stories().model, *stories().tokenizer, c);
  std::vector<std::shared_ptr<RequestHandle>> hs;
  for (const auto& r : requests) hs.push_back(engine.submit(r));
  for (size_t i = 0; i < hs.size(); ++i) {
    const Outcome o = collect(*hs[i]);
    ASSERT_TRUE(o.ended);
    ASSERT_EQ(o.end.kind, Event::Kind::Finished) << o.end.error;
    EXPECT_EQ(o.ids, alone[i].ids) << "request " << i;
    EXPECT_EQ(o.text, alone[i].text) << "request " << i;
  }
  const EngineStats s = engine.stats();
  EXPECT_GT(s.preemptions, 0);
  EXPECT_EQ(s.kv_blocks_used, 0);
}

TEST(EngineGolden, CancelledRequestFreesItsBlocksWithinOneStep) {
  Engine engine(*stories().model, *stories().tokenizer, small_config());
  const EngineStats before = engine.stats();
  RequestParams p = greedy(encode("Once upon a time, there was a little girl named Lily."), 400);
  p.ignore_eos = true;
  auto h = engine.submit(p);
  auto first = h->next(30s);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->kind, Event::Kind::Delta);
  const EngineStats at_cancel = engine.stats();
  EXPECT_GT(at_cancel.kv_blocks_used, 0);
  h->cancel();
  const Outcome o = collect(*h);
  ASSERT_TRUE(o.ended);
  EXPECT_EQ(o.end.kind, Event::Kind::Finished);
  EXPECT_EQ(o.end.finish_reason, "cancelled");
  const EngineStats after = engine.stats();
  // At most the step already running when cancel() came still ran; the next one freed it.
  EXPECT_LE(after.steps - at_cancel.steps, 1);
  EXPECT_LE(o.end.usage.completion_tokens, at_cancel.generated_tokens_total + 1);
  EXPECT_EQ(after.kv_blocks_used, before.kv_blocks_used);
  EXPECT_EQ(after.running, 0);
  EXPECT_EQ(after.requests_cancelled, 1);
  h->cancel();  // no effect once ended
  EXPECT_TRUE(engine.idle());
}

TEST(EngineGolden, CancellingAWaitingRequestEndsIt) {
  EngineConfig c = small_config();
  c.max_running = 1;
  Engine engine(*stories().model, *stories().tokenizer, c);
  RequestParams busy = greedy(encode("The cat"), 300);
  busy.ignore_eos = true;
  auto a = engine.submit(busy);
  auto b = engine.submit(greedy(encode("The dog"), 10));
  b->cancel();
  const Outcome ob = collect(*b);
  ASSERT_TRUE(ob.ended);
  EXPECT_EQ(ob.end.finish_reason, "cancelled");
  EXPECT_EQ(ob.end.usage.completion_tokens, 0);
  a->cancel();
  EXPECT_TRUE(collect(*a).ended);
}

TEST(EngineGolden, SecondTurnOfAConversationReusesTheCachedPrefix) {
  const auto turn1 = encode("Once upon a time, there was a little dog named Max. Max liked to run");
  auto run_turns = [&](bool prefix_cache) {
    EngineConfig c = small_config();
    c.prefix_cache = prefix_cache;
    Engine engine(*stories().model, *stories().tokenizer, c);
    const Outcome o1 = collect(*engine.submit(greedy(turn1, 30)));
    std::vector<int32_t> turn2 = turn1;
    turn2.insert(turn2.end(), o1.ids.begin(), o1.ids.end());
    for (int32_t id : stories().tokenizer->encode(" The next day, Max", false, false))
      turn2.push_back(id);
    const Outcome o2 = collect(*engine.submit(greedy(turn2, 30)));
    const EngineStats s = engine.stats();
    EXPECT_EQ(s.kv_blocks_used, 0);
    return std::make_tuple(o2, s, static_cast<int64_t>(turn1.size() + o1.ids.size()));
  };
  const auto [cached, cstats, shared] = run_turns(true);
  const auto [fresh, fstats, shared2] = run_turns(false);
  ASSERT_TRUE(cached.ended && fresh.ended);
  // Everything turn 1 computed, in whole blocks: its prompt and all its tokens but the last
  // (sampled, never fed back).
  const int64_t expected = (shared - 1) / 16 * 16;
  EXPECT_GT(expected, 0);
  EXPECT_EQ(cached.end.usage.cached_prompt_tokens, expected);
  EXPECT_EQ(cstats.prompt_tokens_cached_total, expected);
  EXPECT_GT(cstats.kv_blocks_cached, 0);
  EXPECT_EQ(fresh.end.usage.cached_prompt_tokens, 0);
  EXPECT_EQ(fstats.kv_blocks_cached, 0);
  EXPECT_EQ(cached.ids, fresh.ids);
  EXPECT_EQ(cached.end.usage.prompt_tokens, fresh.end.usage.prompt_tokens);
}

TEST(EngineGolden, SharedSystemPromptIsComputedOnceAndChangesNoToken) {
  const std::string system =
      "Once upon a time, there was a kind old owl who lived in a tall tree. Every night the "
      "owl told the animals a story.";
  const char* questions[] = {" The fox asked", " The rabbit said", " A mouse came", " Then",
                             " The frog sang", " One bird", " Two cats", " Later"};
  auto run_all = [&](bool prefix_cache) {
    EngineConfig c = small_config();
    c.prefix_cache = prefix_cache;
    c.max_batch_tokens = 24;
    Engine engine(*stories().model, *stories().tokenizer, c);
    std::vector<std::shared_ptr<RequestHandle>> hs;
    for (int i = 0; i < 8; ++i) {
      RequestParams p = greedy(encode(system + questions[i]), 20);
      p.sampling.temperature = 0.8f;
      p.sampling.seed = 77 + static_cast<uint64_t>(i);
      hs.push_back(engine.submit(p));
    }
    std::vector<Outcome> out;
    for (auto& h : hs) out.push_back(collect(*h));
    return std::make_pair(out, engine.stats());
  };
  const auto [shared, with_cache] = run_all(true);
  const auto [separate, without] = run_all(false);
  EXPECT_GT(with_cache.prompt_tokens_cached_total, 0);
  EXPECT_EQ(without.prompt_tokens_cached_total, 0);
  // Less prompt to compute. (Not fewer steps: how many steps a run takes depends on when the
  // engine thread picks the submitted requests up, which made that check flaky.)
  EXPECT_EQ(with_cache.prompt_tokens_total, without.prompt_tokens_total);
  EXPECT_LT(with_cache.prompt_tokens_total - with_cache.prompt_tokens_cached_total,
            without.prompt_tokens_total - without.prompt_tokens_cached_total);
  int64_t cached = 0;
  for (size_t i = 0; i < shared.size(); ++i) {
    ASSERT_TRUE(shared[i].ended && separate[i].ended);
    EXPECT_EQ(shared[i].ids, separate[i].ids) << "request " << i;
    cached += shared[i].end.usage.cached_prompt_tokens;
  }
  EXPECT_EQ(cached, with_cache.prompt_tokens_cached_total);
  EXPECT_EQ(with_cache.kv_blocks_used, 0);
}

TEST(EngineGolden, BurstBeyondTheQueueIsRefusedAndEveryAcceptedRequestFinishes) {
  EngineConfig c = small_config();
  c.max_queue = 4;
  c.max_running = 2;
  Engine engine(*stories().model, *stories().tokenizer, c);
  std::vector<std::shared_ptr<RequestHandle>> accepted;
  int refused = 0;
  for (int i = 0; i < 32; ++i) {
    RequestParams p = greedy(encode("The little fish"), 48);
    p.ignore_eos = true;
    try {
      accepted.push_back(engine.submit(p));
    } catch (const QueueFullError& e) {
      ++refused;
      EXPECT_NE(std::string(e.what()).find("queue is full"), std::string::npos);
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_GE(accepted.size(), 4u);
  EXPECT_EQ(static_cast<int>(accepted.size()) + refused, 32);
  for (auto& h : accepted) {
    const Outcome o = collect(*h);
    ASSERT_TRUE(o.ended);
    EXPECT_EQ(o.end.kind, Event::Kind::Finished);
    EXPECT_EQ(o.end.finish_reason, "length");
    EXPECT_EQ(o.ids.size(), 48u);
  }
  EXPECT_EQ(engine.stats().requests_rejected, refused);
}

TEST(EngineGolden, StopStringEndsTheAnswerBeforeIt) {
  const auto ref = reference();
  const std::string full = ref["generated_text"];
  const size_t at = full.find("park");
  ASSERT_NE(at, std::string::npos);
  Engine engine(*stories().model, *stories().tokenizer, small_config());
  RequestParams p = greedy(ref["prompt_ids"].get<std::vector<int32_t>>(), 256);
  p.stop = {"zebra", "park"};
  const Outcome o = collect(*engine.submit(p));
  ASSERT_TRUE(o.ended);
  EXPECT_EQ(o.end.finish_reason, "stop");
  EXPECT_EQ(o.text, full.substr(0, at));
  EXPECT_LT(o.end.usage.completion_tokens, 256);
}

TEST(EngineGolden, LogprobsAreTheLogSoftmaxOfTheModelLogits) {
  const auto ref = reference();
  const auto logits = ref["logits_after_prompt"].get<std::vector<double>>();
  double m = logits[0];
  for (double l : logits) m = std::max(m, l);
  double z = 0;
  for (double l : logits) z += std::exp(l - m);
  const double log_z = m + std::log(z);
  Engine engine(*stories().model, *stories().tokenizer, small_config());
  RequestParams p = greedy(ref["prompt_ids"].get<std::vector<int32_t>>(), 3);
  p.logprobs = true;
  p.top_logprobs = 5;
  p.sampling.temperature = 0.7f;  // logprobs do not depend on temperature (see logprobs.h)
  p.sampling.seed = 3;
  const Outcome o = collect(*engine.submit(p));
  ASSERT_FALSE(o.deltas.empty());
  const Event& d = o.deltas[0];
  ASSERT_FALSE(d.logprobs.empty());
  const int32_t first = d.logprobs[0].id;
  EXPECT_NEAR(d.logprobs[0].logprob, logits[first] - log_z, 1e-3);
  ASSERT_EQ(d.top_logprobs.size(), d.logprobs.size());
  const auto top5 = ref["top5_per_step"][0];
  ASSERT_EQ(d.top_logprobs[0].size(), 5u);
  for (size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(d.top_logprobs[0][k].id, top5[k][0].get<int32_t>());
    EXPECT_NEAR(d.top_logprobs[0][k].logprob, top5[k][1].get<double>() - log_z, 1e-3);
  }
  EXPECT_EQ(d.top_logprobs[0][0].text, " Once");
  size_t n = 0;
  for (const auto& e : o.deltas) n += e.logprobs.size();
  EXPECT_EQ(n, 3u);
}

TEST(EngineGolden, LogitBiasSteersSamplingAndLogprobs) {
  const auto ref = reference();
  const auto top5 = ref["top5_per_step"][0];
  const int32_t best = top5[0][0], second = top5[1][0];
  Engine engine(*stories().model, *stories().tokenizer, small_config());
  RequestParams p = greedy(ref["prompt_ids"].get<std::vector<int32_t>>(), 1);
  p.logit_bias = {{best, -100.0f}};
  p.logprobs = true;
  const Outcome o = collect(*engine.submit(p));
  ASSERT_EQ(o.ids.size(), 1u);
  EXPECT_EQ(o.ids[0], second);
  ASSERT_EQ(o.deltas.size(), 1u);
  ASSERT_EQ(o.deltas[0].logprobs.size(), 1u);
  // The log-softmax of the reference logits with the bias applied.
  auto logits = ref["logits_after_prompt"].get<std::vector<double>>();
  logits[best] -= 100.0;
  double m = logits[0], z = 0;
  for (double l : logits) m = std::max(m, l);
  for (double l : logits) z += std::exp(l - m);
  EXPECT_NEAR(o.deltas[0].logprobs[0].logprob, logits[second] - m - std::log(z), 1e-3);
}

TEST(EngineGolden, InvalidRequestsAreRefusedWithACode) {
  EngineConfig c = small_config();
  c.n_ctx_per_sequence = 64;
  Engine engine(*stories().model, *stories().tokenizer, c);
  auto code_of = [&](RequestParams p) -> std::string {
    try {
      engine.submit(std::move(p));
    } catch (const RequestError& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
      return e.code();
    }
    return "accepted";
  };
  EXPECT_EQ(code_of(greedy(std::vector<int32_t>(64, 5), 4)), "context_length_exceeded");
  EXPECT_EQ(code_of(greedy({}, 4)), "invalid_request_error");
  EXPECT_EQ(code_of(greedy({1, 99999}, 4)), "invalid_request_error");
  RequestParams bad_sampling = greedy({1}, 4);
  bad_sampling.sampling.top_p = 2.0f;
  EXPECT_EQ(code_of(bad_sampling), "invalid_request_error");
  RequestParams bad_bias = greedy({1}, 4);
  bad_bias.logit_bias = {{-1, 1.0f}};
  EXPECT_EQ(code_of(bad_bias), "invalid_request_error");
  RequestParams bad_stop = greedy({1}, 4);
  bad_stop.stop = {"\xff"};
  EXPECT_EQ(code_of(bad_stop), "invalid_request_error");
  // A prompt one short of the context gets exactly one token, ending with "length".
  RequestParams longest = greedy(std::vector<int32_t>(63, 5), -1);
  longest.ignore_eos = true;
  const Outcome o = collect(*engine.submit(longest));
  ASSERT_TRUE(o.ended);
  EXPECT_EQ(o.end.finish_reason, "length");
  EXPECT_EQ(o.ids.size(), 1u);
}

TEST(EngineGolden, GenerationStopsAtTheContextEnd) {
  EngineConfig c = small_config();
  c.n_ctx_per_sequence = 40;
  Engine engine(*stories().model, *stories().tokenizer, c);
  RequestParams p = greedy(encode("Once upon a time"), -1);
  p.ignore_eos = true;
  const Outcome o = collect(*engine.submit(p));
  ASSERT_TRUE(o.ended);
  EXPECT_EQ(o.end.finish_reason, "length");
  EXPECT_EQ(static_cast<int64_t>(p.prompt.size() + o.ids.size()), 40);
}

TEST(EngineGolden, DrainRefusesNewRequestsAndFinishesRunningOnes) {
  Engine engine(*stories().model, *stories().tokenizer, small_config());
  auto h = engine.submit(greedy(encode("The cat"), 20));
  engine.drain();
  EXPECT_THROW(engine.submit(greedy(encode("The dog"), 20)), DrainingError);
  const Outcome o = collect(*h);
  ASSERT_TRUE(o.ended);
  EXPECT_EQ(o.end.kind, Event::Kind::Finished);
}

TEST(EngineGolden, DestroyingTheEngineEndsPendingRequestsWithAnError) {
  std::shared_ptr<RequestHandle> h;
  {
    EngineConfig c = small_config();
    c.max_running = 1;
    Engine engine(*stories().model, *stories().tokenizer, c);
    RequestParams p = greedy(encode("The cat"), 400);
    p.ignore_eos = true;
    engine.submit(p);
    h = engine.submit(p);
  }
  const Outcome o = collect(*h, 5s);
  ASSERT_TRUE(o.ended);
  EXPECT_EQ(o.end.kind, Event::Kind::Error);
  EXPECT_EQ(o.end.error_code, "engine_stopped");
  h->cancel();  // the engine is gone: must be harmless
}

TEST(EngineGolden, ConfigThatCannotHoldOneSequenceIsRefused) {
  EngineConfig c = small_config();
  c.kv_cache_tokens = 100;
  c.n_ctx_per_sequence = 512;
  EXPECT_THROW(Engine(*stories().model, *stories().tokenizer, c), Error);
  c = small_config();
  c.max_batch_tokens = 0;
  EXPECT_THROW(Engine(*stories().model, *stories().tokenizer, c), Error);
}
