#include "server/moderation.h"

#include <chrono>
#include <mutex>
#include <random>

#include "server/api_error.h"
#include "server/generation.h"
#include "server/guard_hooks.h"
#include "server/guard_model.h"
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

}  // namespace

void start_moderation(ServerContext& ctx, const Json& body, std::function<void(Reply)> done) {
  const std::shared_ptr<const guard::Guard> g = ctx.guard();
  if (!g)
    throw ApiError(404, "content moderation is off on this server; start hearth serve with --policy FILE",
                   "invalid_request_error", {}, "moderation_disabled");
  const std::vector<std::string> inputs = parse_inputs(body);
  const std::string id = moderation_id();
  const std::string model = ctx.ready() ? ctx.model().id : "hearth-guard";
  std::vector<Result> results;
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
      if (a != guard::Action::Allow) record_guard_decision(ctx, id, guard::Direction::Input, {f, a}, text);
    }
    results.push_back(std::move(r));
  }
  ctx.metrics().add_guard_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (!g->policy().model.enabled) return done(reply_of(id, model, results));

  // The guard model's verdicts join the results once every input has been classified.
  run_guard_model(ctx, g, inputs,
                  [&ctx, g, id, model, results = std::move(results), done = std::move(done)](
                      std::vector<GuardModelOutcome> outcomes) mutable {
                    for (size_t i = 0; i < results.size(); ++i) {
                      const GuardModelOutcome& o = outcomes[i];
                      guard::Finding f;
                      f.stage = "model";
                      f.category = o.verdict.categories.empty() ? "unsafe" : o.verdict.categories.front();
                      f.rule = o.verdict.parsed ? "llama-guard-3" : "llama-guard-3-unparsed";
                      f.score = o.score;
                      record_guard_decision(ctx, id, guard::Direction::Input,
                                            {f, o.unsafe ? guard::Action::Flag : guard::Action::Allow}, {});
                      for (const auto& c : o.verdict.categories)
                        results[i].mark(g->policy().openai_name(c), o.score, o.unsafe);
                      if (o.verdict.categories.empty()) results[i].mark("unsafe", o.score, o.unsafe);
                      results[i].hearth["model"] = o.json();
                    }
                    done(reply_of(id, model, results));
                  });
}

}  // namespace hearth::server
