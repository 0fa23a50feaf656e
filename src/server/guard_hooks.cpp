#include "server/guard_hooks.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "server/api_error.h"

namespace hearth::server {
namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

Json decision_json(const guard::Decision::Item& item) {
  return Json{{"stage", item.finding.stage},
              {"category", item.finding.category},
              {"rule", item.finding.rule},
              {"action", guard::action_name(item.action)},
              {"score", item.finding.score}};
}

// Decisions go to stderr with the server's other messages (stdout carries only the
// "listening on" line that scripts read), one line each, with a UTC timestamp.
spdlog::logger& guard_log() {
  static const std::shared_ptr<spdlog::logger> log = [] {
    auto l = std::make_shared<spdlog::logger>("guard", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    return l;
  }();
  return *log;
}

}  // namespace

void record_guard_decision(ServerContext& ctx, const std::string& request_id, guard::Direction direction,
                           const guard::Decision::Item& item, std::string_view text) {
  const guard::Finding& f = item.finding;
  const char* dir = guard::direction_name(direction);
  const char* action = guard::action_name(item.action);
  ctx.metrics().count_guard(f.stage, f.category, dir, action);
  std::string content;
  if (ctx.config().log_content && f.end > f.begin && f.end <= text.size())
    content = " text=" + Json(std::string(text.substr(f.begin, f.end - f.begin)))
                             .dump(-1, ' ', false, Json::error_handler_t::replace);
  guard_log().info("guard request={} stage={} category={} direction={} action={} score={:.3f} rule={}{}",
               request_id, f.stage, f.category, dir, action, f.score, f.rule, content);
}

Json moderate_input(ServerContext& ctx, const guard::Guard& guard, CompletionRequest& r,
                    const std::string& request_id) {
  const auto start = Clock::now();
  Json decisions = Json::array();
  const char* param = r.endpoint == Endpoint::ChatCompletions ? "messages" : "prompt";
  std::string block_message;
  auto check = [&](std::string& text) {
    guard::Decision d = guard.check(text, guard::Direction::Input);
    for (const auto& item : d.items) {
      record_guard_decision(ctx, request_id, guard::Direction::Input, item, text);
      decisions.push_back(decision_json(item));
    }
    if (d.blocked() && block_message.empty()) block_message = d.message;
    if (d.action == guard::Action::Redact) text = std::move(d.text);
  };
  if (r.endpoint == Endpoint::ChatCompletions) {
    for (auto& m : r.messages) {
      if (!m.is_object()) continue;
      auto it = m.find("content");
      if (it == m.end() || !it->is_string()) continue;
      std::string text = it->get<std::string>();
      check(text);
      *it = std::move(text);
    }
  } else if (!r.prompt_is_ids) {
    check(r.prompt);
  } else if (const auto text = ctx.builder() ? ctx.builder()->prompt_text(r.prompt_ids) : std::nullopt) {
    // Token ids are read as their text. A redaction turns the prompt into its redacted text,
    // which is then tokenized like any text prompt.
    std::string checked = *text;
    check(checked);
    if (checked != *text) {
      r.prompt = std::move(checked);
      r.prompt_is_ids = false;
      r.prompt_ids.clear();
    }
  }
  ctx.metrics().add_guard_seconds(seconds_since(start));
  if (!block_message.empty()) throw ApiError(400, block_message, "invalid_request_error", param, "content_filter");
  if (!guard.policy().debug_echo) return nullptr;
  Json echo;
  if (r.endpoint == Endpoint::ChatCompletions)
    echo["messages"] = r.messages;
  else
    echo["prompt"] = r.prompt_is_ids ? Json(r.prompt_ids) : Json(r.prompt);
  echo["decisions"] = std::move(decisions);
  return echo;
}

EventPump::Callback moderate_output(ServerContext& ctx, std::shared_ptr<guard::OutputFilter> filter,
                                    std::shared_ptr<engine::RequestHandle> handle, std::string request_id,
                                    EventPump::Callback next) {
  // Runs on the request's pump thread: events arrive one at a time, in order.
  return [&ctx, filter = std::move(filter), handle = std::move(handle), id = std::move(request_id),
          next = std::move(next)](engine::Event event) {
    const auto start = Clock::now();
    guard::OutputFilter::Result r = filter->on_event(std::move(event));
    ctx.metrics().add_guard_seconds(seconds_since(start));
    for (const auto& item : r.new_items) record_guard_decision(ctx, id, guard::Direction::Output, item, {});
    if (r.cancel) handle->cancel();
    for (auto& e : r.events) next(std::move(e));
  };
}

}  // namespace hearth::server
