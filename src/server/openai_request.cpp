#include "server/openai_request.h"

#include <cmath>
#include <limits>
#include <optional>

#include "server/api_error.h"

namespace hearth::server {
namespace {

using Json = nlohmann::ordered_json;

constexpr size_t kMaxStopStrings = 16;
constexpr int64_t kMaxTopLogprobs = 20;
constexpr int64_t kCompletionsDefaultMaxTokens = 16;  // OpenAI's default for /v1/completions

// Typed access to the optional top-level fields of a request object.
class Fields {
 public:
  explicit Fields(const Json& body) : body_(body) {}

  // The field, or nullptr when it is absent or null.
  const Json* get(const char* name) const {
    auto it = body_.find(name);
    if (it == body_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  std::optional<bool> boolean(const char* name) const {
    const Json* v = get(name);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) bad_param(name, "'{}' must be true or false, got {}", name, v->type_name());
    return v->get<bool>();
  }

  std::optional<std::string> string(const char* name) const {
    const Json* v = get(name);
    if (!v) return std::nullopt;
    if (!v->is_string()) bad_param(name, "'{}' must be a string, got {}", name, v->type_name());
    return v->get<std::string>();
  }

  std::optional<double> number(const char* name, double lo, double hi) const {
    const Json* v = get(name);
    if (!v) return std::nullopt;
    if (!v->is_number()) bad_param(name, "'{}' must be a number, got {}", name, v->type_name());
    const double x = v->get<double>();
    if (!std::isfinite(x) || x < lo || x > hi)
      bad_param(name, "'{}' must be between {} and {}, got {}", name, lo, hi, x);
    return x;
  }

  std::optional<int64_t> integer(const char* name, int64_t lo, int64_t hi) const {
    const Json* v = get(name);
    if (!v) return std::nullopt;
    return checked_integer(*v, name, lo, hi);
  }

  static int64_t checked_integer(const Json& v, const std::string& name, int64_t lo, int64_t hi) {
    int64_t x = 0;
    if (v.is_number_unsigned()) {
      const uint64_t u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(hi))
        bad_param(name, "'{}' must be between {} and {}, got {}", name, lo, hi, u);
      x = static_cast<int64_t>(u);
    } else if (v.is_number_integer()) {
      x = v.get<int64_t>();
    } else if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() &&
               std::fabs(v.get<double>()) < 9e15) {
      x = static_cast<int64_t>(v.get<double>());  // 5.0 from a client that only has doubles
    } else {
      bad_param(name, "'{}' must be an integer, got {}", name,
                v.is_number() ? "a fraction" : v.type_name());
    }
    if (x < lo || x > hi) bad_param(name, "'{}' must be between {} and {}, got {}", name, lo, hi, x);
    return x;
  }

 private:
  const Json& body_;
};

// One message's content: a string, or an array of text parts joined with newlines.
Json message_content(const Json& content, const std::string& where) {
  if (content.is_string() || content.is_null()) return content;
  if (!content.is_array())
    bad_param(where, "'{}' must be a string or an array of content parts, got {}", where,
              content.type_name());
  std::string text;
  for (size_t j = 0; j < content.size(); ++j) {
    const Json& part = content[j];
    const std::string at = fmt::format("{}[{}]", where, j);
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
      bad_param(at, "'{}' must be an object with a string 'type'", at);
    const std::string type = part["type"].get<std::string>();
    if (type != "text")
      bad_param(at, "'{}' has type '{}'; only text content parts are supported", at, type);
    if (!part.contains("text") || !part["text"].is_string())
      bad_param(at, "'{}' is a text part without a string 'text'", at);
    if (j > 0) text += '\n';
    text += part["text"].get<std::string>();
  }
  return text;
}

Json parse_messages(const Fields& f) {
  const Json* messages = f.get("messages");
  if (!messages) bad_param("messages", "'messages' is required: an array of chat messages");
  if (!messages->is_array() || messages->empty())
    bad_param("messages", "'messages' must be a non-empty array of chat messages");
  Json out = Json::array();
  for (size_t i = 0; i < messages->size(); ++i) {
    const Json& m = (*messages)[i];
    const std::string at = fmt::format("messages[{}]", i);
    if (!m.is_object()) bad_param(at, "'{}' must be an object, got {}", at, m.type_name());
    if (!m.contains("role") || !m["role"].is_string() || m["role"].get<std::string>().empty())
      bad_param(at + ".role", "'{}.role' must be a non-empty string", at);
    const std::string role = m["role"].get<std::string>();
    Json msg = m;
    const bool has_content = m.contains("content") && !m["content"].is_null();
    if (!has_content && role != "assistant")
      bad_param(at + ".content", "'{}.content' is required for a '{}' message", at, role);
    if (has_content) msg["content"] = message_content(m["content"], at + ".content");
    out.push_back(std::move(msg));
  }
  return out;
}

void parse_prompt(const Fields& f, int32_t n_vocab, CompletionRequest& r) {
  const Json* p = f.get("prompt");
  if (!p) bad_param("prompt", "'prompt' is required: a string or an array of token ids");
  auto ids_from = [&](const Json& a) {
    std::vector<int32_t> ids;
    for (size_t i = 0; i < a.size(); ++i)
      ids.push_back(static_cast<int32_t>(
          Fields::checked_integer(a[i], fmt::format("prompt[{}]", i), 0, n_vocab - 1)));
    return ids;
  };
  if (p->is_string()) {
    r.prompt = p->get<std::string>();
    return;
  }
  if (!p->is_array() || p->empty())
    bad_param("prompt", "'prompt' must be a string or a non-empty array of token ids");
  const Json& first = (*p)[0];
  if (first.is_number()) {
    r.prompt_ids = ids_from(*p);
  } else if (p->size() > 1) {
    bad_param("prompt", "several prompts in one request are not supported; send one request per prompt");
  } else if (first.is_string()) {
    r.prompt = first.get<std::string>();
    return;
  } else if (first.is_array() && !first.empty()) {
    r.prompt_ids = ids_from(first);
  } else {
    bad_param("prompt", "'prompt' must be a string or a non-empty array of token ids");
  }
  r.prompt_is_ids = true;
}

std::vector<std::string> parse_stop(const Fields& f) {
  const Json* s = f.get("stop");
  std::vector<std::string> stop;
  if (!s) return stop;
  if (s->is_string()) {
    if (!s->get<std::string>().empty()) stop.push_back(s->get<std::string>());
    return stop;
  }
  if (!s->is_array()) bad_param("stop", "'stop' must be a string or an array of strings");
  if (s->size() > kMaxStopStrings)
    bad_param("stop", "'stop' has {} strings; at most {} are allowed", s->size(), kMaxStopStrings);
  for (const Json& x : *s) {
    if (!x.is_string()) bad_param("stop", "'stop' must be a string or an array of strings");
    if (!x.get<std::string>().empty()) stop.push_back(x.get<std::string>());
  }
  return stop;
}

std::map<int32_t, float> parse_logit_bias(const Fields& f, int32_t n_vocab) {
  std::map<int32_t, float> bias;
  const Json* b = f.get("logit_bias");
  if (!b) return bias;
  if (!b->is_object())
    bad_param("logit_bias", "'logit_bias' must be an object mapping token ids to numbers");
  for (auto it = b->begin(); it != b->end(); ++it) {
    const std::string& key = it.key();
    const bool digits = !key.empty() && key.size() <= 10 &&
                        key.find_first_not_of("0123456789") == std::string::npos;
    const long long id = digits ? std::stoll(key) : -1;
    if (!digits || id >= n_vocab)
      bad_param("logit_bias", "'logit_bias' key '{}' is not a token id (0..{})", key, n_vocab - 1);
    const Json& v = it.value();
    if (!v.is_number() || !std::isfinite(v.get<double>()) || std::fabs(v.get<double>()) > 100)
      bad_param("logit_bias", "'logit_bias' value for token {} must be a number from -100 to 100", key);
    bias[static_cast<int32_t>(id)] = v.get<float>();
  }
  return bias;
}

void parse_sampling(const Fields& f, sampling::Params& s) {
  if (auto v = f.number("temperature", 0, 2)) s.temperature = static_cast<float>(*v);
  if (auto v = f.number("top_p", 0, 1)) s.top_p = static_cast<float>(*v);
  if (auto v = f.integer("top_k", std::numeric_limits<int32_t>::min(),
                         std::numeric_limits<int32_t>::max()))
    s.top_k = static_cast<int32_t>(*v);
  if (auto v = f.number("min_p", 0, 1)) s.min_p = static_cast<float>(*v);
  if (auto v = f.number("presence_penalty", -2, 2)) s.presence_penalty = static_cast<float>(*v);
  if (auto v = f.number("frequency_penalty", -2, 2)) s.frequency_penalty = static_cast<float>(*v);
  if (auto v = f.number("repetition_penalty", 0, 10)) {
    if (*v <= 0) bad_param("repetition_penalty", "'repetition_penalty' must be above 0, got {}", *v);
    s.repeat_penalty = static_cast<float>(*v);
  }
  if (const Json* seed = f.get("seed")) {
    // Any 64-bit integer; negative ones wrap, so -1 picks a random seed as in llama.cpp.
    if (seed->is_number_unsigned())
      s.seed = seed->get<uint64_t>();
    else
      s.seed = static_cast<uint64_t>(
          Fields::checked_integer(*seed, "seed", std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max()));
  }
}

void parse_logprobs(const Fields& f, Endpoint endpoint, engine::RequestParams& p) {
  if (endpoint == Endpoint::ChatCompletions) {
    p.logprobs = f.boolean("logprobs").value_or(false);
    const int64_t top = f.integer("top_logprobs", 0, kMaxTopLogprobs).value_or(0);
    if (top > 0 && !p.logprobs)
      bad_param("top_logprobs", "'top_logprobs' needs 'logprobs': true");
    p.top_logprobs = static_cast<int32_t>(top);
    return;
  }
  // Completions: logprobs is the number of alternatives (0 = only the chosen token's).
  const Json* lp = f.get("logprobs");
  if (!lp) return;
  if (lp->is_boolean()) {
    p.logprobs = lp->get<bool>();
    return;
  }
  p.logprobs = true;
  p.top_logprobs = static_cast<int32_t>(Fields::checked_integer(*lp, "logprobs", 0, kMaxTopLogprobs));
}

// Parameters that change what the answer means; ignoring them would silently answer
// something else, so they are refused instead.
void refuse_unsupported(const Fields& f, Endpoint endpoint) {
  if (auto n = f.integer("n", 1, std::numeric_limits<int32_t>::max()); n && *n != 1)
    bad_param("n", "'n' = {} is not supported: one choice per request; send {} requests", *n, *n);
  if (const Json* rf = f.get("response_format")) {
    if (!rf->is_object() || !rf->contains("type") || !(*rf)["type"].is_string())
      bad_param("response_format", "'response_format' must be an object with a string 'type'");
    if ((*rf)["type"] != "text")
      bad_param("response_format", "'response_format' type '{}' is not supported; only 'text' is",
                (*rf)["type"].get<std::string>());
  }
  if (endpoint == Endpoint::Completions) {
    if (f.boolean("echo").value_or(false)) bad_param("echo", "'echo' is not supported");
    if (auto b = f.integer("best_of", 1, std::numeric_limits<int32_t>::max()); b && *b != 1)
      bad_param("best_of", "'best_of' > 1 is not supported");
    if (auto s = f.string("suffix"); s && !s->empty())
      bad_param("suffix", "'suffix' (text insertion) is not supported");
  }
}

}  // namespace

nlohmann::ordered_json parse_json_body(std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    throw ApiError(400, "the request body is empty; send a JSON object", "invalid_request_error");
  auto limit_depth = [](int depth, Json::parse_event_t event, Json&) {
    if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
        depth >= kMaxJsonDepth)
      throw ApiError(400, fmt::format("the request body nests deeper than {} levels", kMaxJsonDepth),
                     "invalid_request_error");
    return true;
  };
  Json body;
  try {
    body = Json::parse(text.begin(), text.end(), limit_depth);
  } catch (const Json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." -> from "parse error".
    std::string what = e.what();
    const size_t at = what.find("] ");
    if (at != std::string::npos) what = what.substr(at + 2);
    throw ApiError(400, "the request body is not valid JSON: " + what, "invalid_request_error");
  }
  if (!body.is_object())
    throw ApiError(400, fmt::format("the request body must be a JSON object, got {}", body.type_name()),
                   "invalid_request_error");
  return body;
}

CompletionRequest parse_completion_request(Endpoint endpoint, const nlohmann::ordered_json& body,
                                           int32_t n_vocab) {
  const Fields f(body);
  CompletionRequest r;
  r.endpoint = endpoint;
  r.model = f.string("model").value_or("");
  r.stream = f.boolean("stream").value_or(false);
  if (const Json* so = f.get("stream_options")) {
    if (!so->is_object()) bad_param("stream_options", "'stream_options' must be an object");
    r.include_usage = Fields(*so).boolean("include_usage").value_or(false);
  }
  refuse_unsupported(f, endpoint);

  if (endpoint == Endpoint::ChatCompletions) {
    r.messages = parse_messages(f);
    if (const Json* tools = f.get("tools")) {
      if (!tools->is_array()) bad_param("tools", "'tools' must be an array");
      r.tools = *tools;
    }
    if (const Json* kw = f.get("chat_template_kwargs")) {
      if (!kw->is_object()) bad_param("chat_template_kwargs", "'chat_template_kwargs' must be an object");
      r.template_kwargs = *kw;
    }
  } else {
    parse_prompt(f, n_vocab, r);
  }

  engine::RequestParams& p = r.params;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  std::optional<int64_t> max_tokens = f.integer("max_tokens", 1, kMax);
  if (endpoint == Endpoint::ChatCompletions) {
    if (auto v = f.integer("max_completion_tokens", 1, kMax)) max_tokens = v;
  } else if (!max_tokens) {
    max_tokens = kCompletionsDefaultMaxTokens;
  }
  p.max_tokens = max_tokens.value_or(-1);
  parse_sampling(f, p.sampling);
  p.stop = parse_stop(f);
  p.logit_bias = parse_logit_bias(f, n_vocab);
  parse_logprobs(f, endpoint, p);
  p.ignore_eos = f.boolean("ignore_eos").value_or(false);
  return r;
}

}  // namespace hearth::server
