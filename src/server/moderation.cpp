#include "server/moderation.h"

#include <chrono>
#include <mutex>
#include <random>

#include "guard/llama_guard.h"
#include "server/api_error.h"
#include "server/generation.h"
#include "server/guard_hooks.h"
#include "server/openai_response.h"
#include "server/sse.h"

namespace hearth::server {
namespace {

using Json = nlohmann::ordered_json;

// OpenAI's moderation categories (omni-moderation), always present in a result.
constexpr const char* kOpenAiCategories[] = {
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
    "illicit/violent", "self-harm", "self-harm/intent", "self-harm/instructions", "sexual",
    "sexual/minors", "violence", "violence/graphic"};

constexpr size_t kMaxInputs = 64;

std::vector<std::string> parse_inputs(const Json& body) {
  auto it = body.find("input");
  if (it == body.end() || it->is_null())
    throw ApiError(400, "'input' is required: a string or an array of strings", "invalid_request_error", "input");
  std::vector<std::string> inputs;
  if (it->is_string()) {
    inputs.push_back(it->get<std::string>());
  } else if (it->is_array() && !it->empty() && it->size() <= kMaxInputs) {
    for (const auto& e : *it) {
      if (!e.is_string())
        throw ApiError(400, "'input' must be a string or an array of strings (images are not supported)",
                       "invalid_request_error", "input");
      inputs.push_back(e.get<std::string>());
    }
  } else {
    throw ApiError(400, fmt::format("'input' must be a string or an array of 1 to {} strings", kMaxInputs),
                   "invalid_request_error", "input");
  }
  return inputs;
}

std::string moderation_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("modr-{:016x}{:08x}", rng(), static_cast<uint32_t>(rng()));
}

// One input's result in the making.
struct Result {
  Json categories, scores, applied;
  bool flagged = false;
  Json hearth = Json::object();  // our own detail: findings and the guard model's verdict

  Result() {
    for (const char* c : kOpenAiCategories) {
      categories[c] = false;
      scores[c] = 0.0;
      applied[c] = Json::array({"text"});
    }
    hearth["findings"] = Json::array();
  }
  void mark(const std::string& name, double score, bool flag) {
    if (!categories.contains(name)) {
      categories[name] = false;
      scores[name] = 0.0;
      applied[name] = Json::array({"text"});
    }
    if (flag) categories[name] = true;
    scores[name] = std::max(scores[name].get<double>(), score);
    flagged = flagged || flag;
  }
  Json json() const {
    return Json{{"flagged", flagged}, {"categories", categories}, {"category_scores", scores},
                {"category_applied_input_types", applied}, {"hearth", hearth}};
  }
};

// The guard model's part: one engine request per input, answered when all have finished.
struct ModelJob {
  std::mutex mu;
  std::shared_ptr<const guard::Guard> guard;
  std::vector<Result> results;
  std::vector<std::string> answers;
  std::vector<std::vector<engine::TokenLogprob>> chosen;
  std::vector<std::vector<std::vector<engine::TokenLogprob>>> alternatives;
  std::vector<std::string> errors;
  size_t pending = 0;
  std::string id, model;
  std::function<void(Reply)> done;
};

Reply reply_of(const std::string& id, const std::string& model, const std::vector<Result>& results) {
  Json body;
  body["id"] = id;
  body["model"] = model;
  body["results"] = Json::array();
  for (const auto& r : results) body["results"].push_back(r.json());
  Reply reply;
  reply.body = dump_json(body);
  return reply;
}

// Called once every guard-model request has ended (mu held by the caller is not needed:
// no pump touches the job any more).
void finish_model_job(ServerContext& ctx, ModelJob& job) {
  const guard::ModelPolicy& mp = job.guard->policy().model;
  for (size_t i = 0; i < job.results.size(); ++i) {
    Result& r = job.results[i];
    Json verdict;
    if (!job.errors[i].empty()) {
      verdict = Json{{"error", job.errors[i]}};
    } else {
      const guard::GuardVerdict v = guard::parse_llama_guard_answer(job.answers[i]);
      const double score = guard::unsafe_token_probability(job.chosen[i], job.alternatives[i]);
      verdict = Json{{"answer", job.answers[i]},
                     {"parsed", v.parsed},
                     {"unsafe", v.unsafe},
                     {"categories", v.categories},
                     {"score", score}};
      const bool unsafe = v.parsed ? (v.unsafe || score >= mp.threshold) : !mp.fail_open;
      guard::Finding f;
      f.stage = "model";
      f.category = v.categories.empty() ? "unsafe" : v.categories.front();
      f.rule = v.parsed ? "llama-guard-3" : "llama-guard-3-unparsed";
      f.score = score;
      const guard::Decision::Item item{f, unsafe ? guard::Action::Flag : guard::Action::Allow};
      record_guard_decision(ctx, job.id, guard::Direction::Input, item, {});
      for (const auto& c : v.categories) r.mark(job.guard->policy().openai_name(c), score, unsafe);
      if (v.categories.empty()) r.mark("unsafe", score, unsafe);
    }
    r.hearth["model"] = std::move(verdict);
  }
  job.done(reply_of(job.id, job.model, job.results));
}

}  // namespace

void start_moderation(ServerContext& ctx, const Json& body, std::function<void(Reply)> done) {
  const std::shared_ptr<const guard::Guard> g = ctx.guard();
  if (!g)
    throw ApiError(404, "content moderation is off on this server; start hearth serve with --policy FILE",
                   "invalid_request_error", {}, "moderation_disabled");
  const std::vector<std::string> inputs = parse_inputs(body);
  auto job = std::make_shared<ModelJob>();
  job->guard = g;
  job->id = moderation_id();
  job->model = ctx.ready() ? ctx.model().id : "hearth-guard";
  const auto start = std::chrono::steady_clock::now();
  for (const std::string& text : inputs) {
    Result r;
    const guard::Findings findings = g->scan(text);
    const guard::Decision d = g->decide(text, findings, guard::Direction::Input);
    for (const auto& f : findings) {
      const guard::Action a = [&] {
        for (const auto& item : d.items)
          if (item.finding.begin == f.begin && item.finding.rule == f.rule) return item.action;
        return guard::Action::Allow;
      }();
      r.mark(g->policy().openai_name(f.category), f.score, a != guard::Action::Allow);
      r.hearth["findings"].push_back(Json{{"stage", f.stage}, {"category", f.category}, {"rule", f.rule},
                                          {"action", guard::action_name(a)}, {"score", f.score}});
      if (a != guard::Action::Allow) record_guard_decision(ctx, job->id, guard::Direction::Input, {f, a}, text);
    }
    job->results.push_back(std::move(r));
  }
  ctx.metrics().add_guard_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());

  if (!g->policy().model.enabled) return done(reply_of(job->id, job->model, job->results));
  if (!ctx.ready()) throw unavailable_error(ctx.state());

  const size_t n = inputs.size();
  job->answers.resize(n);
  job->chosen.resize(n);
  job->alternatives.resize(n);
  job->errors.resize(n);
  job->pending = n;
  job->done = std::move(done);
  const guard::ModelPolicy& mp = g->policy().model;
  std::vector<std::shared_ptr<engine::RequestHandle>> handles;
  try {
    for (const std::string& text : inputs) {
      std::vector<int32_t> prompt = ctx.builder()->completion(guard::llama_guard3_prompt(text));
      if (static_cast<int64_t>(prompt.size()) + mp.max_tokens >= ctx.model().n_ctx)
        throw ApiError(400, "an input is too long for the guard model's context; send shorter inputs",
                       "invalid_request_error", "input", "context_length_exceeded");
      handles.push_back(ctx.backend()->submit(guard::llama_guard_request(std::move(prompt), mp.max_tokens, mp.top_logprobs)));
    }
  } catch (const engine::QueueFullError& e) {
    for (auto& h : handles) h->cancel();
    throw ApiError(429, fmt::format("the server is busy ({}); retry in a moment", e.what()), "rate_limit_error",
                   {}, "rate_limit_exceeded")
        .with_retry_after(1);
  } catch (const ApiError&) {
    for (auto& h : handles) h->cancel();
    throw;
  } catch (const hearth::Error& e) {
    for (auto& h : handles) h->cancel();
    throw ApiError(503, fmt::format("the guard model could not take the request: {}", e.what()), "server_error");
  }
  for (size_t i = 0; i < handles.size(); ++i) {
    ctx.pump().start(handles[i], [&ctx, job, i](engine::Event e) {
      std::unique_lock lock(job->mu);
      if (e.kind == engine::Event::Kind::Delta) {
        job->answers[i] += e.text;
        for (auto& lp : e.logprobs) job->chosen[i].push_back(std::move(lp));
        for (auto& alt : e.top_logprobs) job->alternatives[i].push_back(std::move(alt));
        return;
      }
      if (e.kind == engine::Event::Kind::Error) job->errors[i] = e.error;
      if (--job->pending > 0) return;
      lock.unlock();
      finish_model_job(ctx, *job);
    });
  }
}

}  // namespace hearth::server
