#include "server/guard_model.h"

#include <mutex>
#include <random>

#include "server/guard_hooks.h"

namespace hearth::server {
namespace {

using Json = nlohmann::ordered_json;

struct Job {
  std::mutex mu;
  std::vector<GuardModelOutcome> outcomes;
  std::vector<std::vector<engine::TokenLogprob>> chosen;
  std::vector<std::vector<std::vector<engine::TokenLogprob>>> alternatives;
  size_t pending = 0;
  std::shared_ptr<const guard::Guard> guard;
  std::function<void(std::vector<GuardModelOutcome>)> done;
};

void finish(Job& job) {
  const guard::ModelPolicy& mp = job.guard->policy().model;
  for (size_t i = 0; i < job.outcomes.size(); ++i) {
    GuardModelOutcome& o = job.outcomes[i];
    if (!o.error.empty()) {
      o.unsafe = !mp.fail_open;
      continue;
    }
    o.verdict = guard::parse_llama_guard_answer(o.answer);
    o.score = guard::unsafe_token_probability(job.chosen[i], job.alternatives[i]);
    o.unsafe = o.verdict.parsed ? (o.verdict.unsafe || o.score >= mp.threshold) : !mp.fail_open;
  }
  job.done(std::move(job.outcomes));
}

// The text a chat or completion request is screened by: the last user message, or the prompt.
std::optional<std::string> text_to_screen(Endpoint endpoint, const Json& body) {
  if (endpoint == Endpoint::Completions) {
    auto it = body.find("prompt");
    if (it != body.end() && it->is_string()) return it->get<std::string>();
    return std::nullopt;
  }
  auto it = body.find("messages");
  if (it == body.end() || !it->is_array()) return std::nullopt;
  for (auto m = it->rbegin(); m != it->rend(); ++m) {
    if (!m->is_object() || m->value("role", Json()) != "user") continue;
    auto c = m->find("content");
    if (c != m->end() && c->is_string()) return c->get<std::string>();
    return std::nullopt;  // content parts: the cheap scanners see them once joined
  }
  return std::nullopt;
}

std::string screening_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("guard-{:016x}", rng());
}

}  // namespace

Json GuardModelOutcome::json() const {
  if (!error.empty()) return Json{{"error", error}, {"unsafe", unsafe}};
  return Json{{"answer", answer},           {"parsed", verdict.parsed}, {"unsafe", unsafe},
              {"categories", verdict.categories}, {"score", score}};
}

void run_guard_model(ServerContext& ctx, std::shared_ptr<const guard::Guard> g, const std::vector<std::string>& texts,
                     std::function<void(std::vector<GuardModelOutcome>)> done) {
  if (!ctx.ready()) throw ApiError(503, "the model is still loading; retry in a few seconds", "server_error", {},
                                   "model_loading");
  const guard::ModelPolicy& mp = g->policy().model;
  auto job = std::make_shared<Job>();
  job->guard = g;
  job->done = std::move(done);
  job->outcomes.resize(texts.size());
  job->chosen.resize(texts.size());
  job->alternatives.resize(texts.size());
  job->pending = texts.size();
  std::vector<std::shared_ptr<engine::RequestHandle>> handles;
  auto cancel_all = [&] {
    for (auto& h : handles) h->cancel();
  };
  try {
    for (const std::string& text : texts) {
      std::vector<int32_t> prompt = ctx.builder()->completion(guard::llama_guard3_prompt(text));
      if (static_cast<int64_t>(prompt.size()) + mp.max_tokens >= ctx.model().n_ctx)
        throw ApiError(400, "the text is too long for the guard model's context; send shorter text",
                       "invalid_request_error", {}, "context_length_exceeded");
      handles.push_back(
          ctx.backend()->submit(guard::llama_guard_request(std::move(prompt), mp.max_tokens, mp.top_logprobs)));
    }
  } catch (const engine::QueueFullError& e) {
    cancel_all();
    throw ApiError(429, fmt::format("the server is busy ({}); retry in a moment", e.what()), "rate_limit_error",
                   {}, "rate_limit_exceeded")
        .with_retry_after(1);
  } catch (const ApiError&) {
    cancel_all();
    throw;
  } catch (const hearth::Error& e) {
    cancel_all();
    throw ApiError(503, fmt::format("the guard model could not take the request: {}", e.what()), "server_error");
  }
  for (size_t i = 0; i < handles.size(); ++i) {
    ctx.pump().start(handles[i], [job, i](engine::Event e) {
      std::unique_lock lock(job->mu);
      if (e.kind == engine::Event::Kind::Delta) {
        job->outcomes[i].answer += e.text;
        for (auto& lp : e.logprobs) job->chosen[i].push_back(std::move(lp));
        for (auto& alt : e.top_logprobs) job->alternatives[i].push_back(std::move(alt));
        return;
      }
      if (e.kind == engine::Event::Kind::Error) job->outcomes[i].error = e.error;
      if (--job->pending > 0) return;
      lock.unlock();
      finish(*job);  // every pump of this job is done with it
    });
  }
}

void screen_with_guard_model(ServerContext& ctx, Endpoint endpoint, const Json& body,
                             std::function<void(std::optional<ApiError>)> then) {
  const std::shared_ptr<const guard::Guard> g = ctx.guard();
  if (!g || !g->policy().model.enabled || g->policy().model.input == guard::Action::Allow || !ctx.ready())
    return then(std::nullopt);
  const std::optional<std::string> text = text_to_screen(endpoint, body);
  // Nothing to classify, or the cheap scanners block it anyway: no model call.
  if (!text || text->empty() || g->check(*text, guard::Direction::Input).blocked()) return then(std::nullopt);
  const char* param = endpoint == Endpoint::ChatCompletions ? "messages" : "prompt";
  run_guard_model(ctx, g, {*text}, [&ctx, g, param, then = std::move(then)](std::vector<GuardModelOutcome> out) {
    const GuardModelOutcome& o = out.front();
    const guard::Action action = g->policy().model.input == guard::Action::Block ? guard::Action::Block
                                                                                   : guard::Action::Flag;
    guard::Finding f;
    f.stage = "model";
    f.category = o.verdict.categories.empty() ? "unsafe" : o.verdict.categories.front();
    f.rule = !o.error.empty() ? "llama-guard-3-error" : o.verdict.parsed ? "llama-guard-3" : "llama-guard-3-unparsed";
    f.score = o.score;
    record_guard_decision(ctx, screening_id(), guard::Direction::Input,
                          {f, o.unsafe ? action : guard::Action::Allow}, {});
    if (o.unsafe && action == guard::Action::Block)
      return then(ApiError(400, g->policy().message_for(f.category, nullptr), "invalid_request_error", param,
                           "content_filter"));
    then(std::nullopt);
  });
}

}  // namespace hearth::server
