#include "guard/policy.h"

#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "core/error.h"
#include "guard/normalize.h"
#include "tokenizer/utf8.h"

namespace hearth::guard {
namespace {

// Llama Guard 3's hazard categories as OpenAI moderation categories (those with a match).
const std::map<std::string, std::string>& llama_guard_to_openai() {
  static const std::map<std::string, std::string> m{
      {"S1", "violence"},          {"S2", "illicit"},  {"S3", "sexual"},
      {"S4", "sexual/minors"},     {"S5", "harassment"}, {"S9", "illicit/violent"},
      {"S10", "hate"},             {"S11", "self-harm"}, {"S12", "sexual"},
      {"S14", "illicit"}};
  return m;
}

std::string where_of(const toml::node& node, std::string_view source, std::string_view key) {
  const auto& src = node.source();
  return fmt::format("{}:{}: '{}'", source, src.begin.line, key);
}

class TableReader {
 public:
  TableReader(const toml::table& t, std::string_view source, std::string section)
      : t_(t), source_(source), section_(std::move(section)) {}

  std::optional<std::string> string(std::string_view key) {
    seen_.insert(std::string(key));
    const toml::node* n = t_.get(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) fail("{} must be a string", where(*n, key));
    return n->value<std::string>();
  }
  std::optional<bool> boolean(std::string_view key) {
    seen_.insert(std::string(key));
    const toml::node* n = t_.get(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) fail("{} must be true or false", where(*n, key));
    return n->value<bool>();
  }
  std::optional<double> number(std::string_view key, double lo, double hi) {
    seen_.insert(std::string(key));
    const toml::node* n = t_.get(key);
    if (!n) return std::nullopt;
    if (!n->is_number()) fail("{} must be a number", where(*n, key));
    const double v = n->value<double>().value_or(0);
    if (!(v >= lo && v <= hi)) fail("{} must be between {} and {}", where(*n, key), lo, hi);
    return v;
  }
  std::optional<Action> action(std::string_view key) {
    auto s = string(key);
    if (!s) return std::nullopt;
    return parse_action(*s, where(*t_.get(key), key));
  }
  std::vector<std::string> strings(std::string_view key) {
    seen_.insert(std::string(key));
    std::vector<std::string> out;
    const toml::node* n = t_.get(key);
    if (!n) return out;
    const toml::array* a = n->as_array();
    if (!a) fail("{} must be an array of strings", where(*n, key));
    for (const toml::node& e : *a) {
      if (!e.is_string()) fail("{} must be an array of strings", where(e, key));
      out.push_back(*e.value<std::string>());
    }
    return out;
  }
  // Every key must be one we read: a misspelt key would otherwise switch a rule off quietly.
  void reject_unknown() const {
    for (const auto& [k, v] : t_)
      if (!seen_.count(std::string(k.str())))
        fail("{}:{}: unknown key '{}' in {} (see docs/guard.md for the policy format)", source_,
             v.source().begin.line, k.str(), section_);
  }

 private:
  std::string where(const toml::node& n, std::string_view key) const {
    return where_of(n, source_, section_ + "." + std::string(key));
  }
  const toml::table& t_;
  std::string_view source_;
  std::string section_;
  std::set<std::string> seen_;
};

// toml++ 3.3 (Debian 12) reaches an "unreachable" point (undefined behaviour) when it
// classifies some non-ASCII characters, e.g. while reporting a malformed value next to one
// (found by tests/fuzz/fuzz_guard.cpp). So toml++ is only ever given ASCII: non-ASCII
// characters in double-quoted strings become \UXXXXXXXX escapes (the same string to TOML),
// in comments spaces; anywhere else (bare keys, literal strings) they are refused. Control
// characters other than tab and line ends, which TOML forbids everywhere, are refused too.
bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7F;
}

std::string to_ascii_toml(std::string_view text, std::string_view source) {
  std::string out;
  out.reserve(text.size());
  size_t line = 1;
  enum class In { Code, Comment, Basic, MultiBasic, Literal, MultiLiteral } in = In::Code;
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      size_t n = 0;
      const uint32_t cp = tok::utf8::decode_at(text, i, n);
      if (cp == tok::utf8::kInvalid) fail("{}:{}: not valid UTF-8", source, line);
      if (in == In::Basic || in == In::MultiBasic)
        out += fmt::format("\\U{:08X}", cp);
      else if (in == In::Comment)
        out += ' ';
      else
        fail("{}:{}: a non-ASCII character outside a double-quoted string; write names, keys and "
             "text with such characters in \"...\"", source, line);
      i += n;
      continue;
    }
    if (is_control(c))
      fail("{}:{}: a control character (0x{:02x}); TOML allows only tab and line ends", source, line,
           static_cast<int>(c));
    const bool three = text.substr(i, 3) == std::string(3, c);
    size_t take = 1;
    switch (in) {
      case In::Code:
        if (c == '#') in = In::Comment;
        else if (c == '"') in = three ? In::MultiBasic : In::Basic, take = three ? 3 : 1;
        else if (c == '\'') in = three ? In::MultiLiteral : In::Literal, take = three ? 3 : 1;
        break;
      case In::Comment:
        if (c == '\n') in = In::Code;
        break;
      case In::Basic:
      case In::MultiBasic:
        if (c == '\\' && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0x80) take = 2;
        else if (c == '"' && (in == In::Basic || three)) take = in == In::Basic ? 1 : 3, in = In::Code;
        else if (c == '\n' && in == In::Basic) in = In::Code;  // unterminated: toml++ reports it
        break;
      case In::Literal:
      case In::MultiLiteral:
        if (c == '\'' && (in == In::Literal || three)) take = in == In::Literal ? 1 : 3, in = In::Code;
        else if (c == '\n' && in == In::Literal) in = In::Code;
        break;
    }
    for (size_t k = 0; k < take && i < text.size(); ++k, ++i) {
      if (text[i] == '\n') ++line;
      if (k > 0 && is_control(text[i]))
        fail("{}:{}: a control character (0x{:02x}); TOML allows only tab and line ends", source, line,
             static_cast<int>(text[i]));
      out += text[i];
    }
  }
  return out;
}

const toml::table& table_at(const toml::table& root, std::string_view key, std::string_view source) {
  const toml::node* n = root.get(key);
  if (!n->is_table()) fail("{} must be a table ([{}])", where_of(*n, source, key), key);
  return *n->as_table();
}

}  // namespace

const char* action_name(Action a) {
  switch (a) {
    case Action::Allow: return "allow";
    case Action::Flag: return "flag";
    case Action::Redact: return "redact";
    case Action::Block: return "block";
  }
  return "allow";
}

Action parse_action(std::string_view name, std::string_view where) {
  if (name == "allow") return Action::Allow;
  if (name == "flag") return Action::Flag;
  if (name == "redact") return Action::Redact;
  if (name == "block") return Action::Block;
  fail("{}: unknown action '{}'; use allow, flag, redact or block", where, name);
}

const char* direction_name(Direction d) { return d == Direction::Input ? "input" : "output"; }

Action Policy::action_for(const std::string& category, const Rule* rule, Direction d,
                          Action stage_default) const {
  if (rule) {
    const auto& own = d == Direction::Input ? rule->input : rule->output;
    if (own) return *own;
  }
  if (auto it = categories.find(category); it != categories.end()) {
    const auto& c = d == Direction::Input ? it->second.input : it->second.output;
    if (c) return *c;
  }
  return stage_default;
}

std::string Policy::message_for(const std::string& category, const Rule* rule) const {
  if (rule && !rule->message.empty()) return rule->message;
  if (auto it = categories.find(category); it != categories.end() && !it->second.message.empty())
    return it->second.message;
  return block_message;
}

std::string Policy::openai_name(const std::string& category) const {
  if (auto it = categories.find(category); it != categories.end() && !it->second.openai.empty())
    return it->second.openai;
  if (auto it = llama_guard_to_openai().find(category); it != llama_guard_to_openai().end())
    return it->second;
  return category;
}

Policy parse_policy(std::string_view toml_text, std::string_view source) {
  const std::string ascii = to_ascii_toml(toml_text, source);
  toml::table root;
  try {
    root = toml::parse(ascii, source);
  } catch (const toml::parse_error& e) {
    fail("{}:{}:{}: not valid TOML: {}", source, e.source().begin.line, e.source().begin.column,
         e.description());
  }
  Policy p;
  p.source = std::string(source);
  for (const auto& [key, node] : root) {
    const std::string k(key.str());
    if (k == "guard") {
      TableReader r(table_at(root, k, source), source, "guard");
      if (auto v = r.number("window_bytes", 16, 65536)) p.window_bytes = static_cast<size_t>(*v);
      if (auto v = r.boolean("debug_echo")) p.debug_echo = *v;
      if (auto v = r.string("block_message")) p.block_message = *v;
      r.reject_unknown();
    } else if (k == "categories") {
      for (const auto& [name, cnode] : table_at(root, k, source)) {
        const std::string cname(name.str());
        if (!cnode.is_table()) fail("{} must be a table", where_of(cnode, source, "categories." + cname));
        TableReader r(*cnode.as_table(), source, "categories." + cname);
        CategoryPolicy c;
        c.input = r.action("input");
        c.output = r.action("output");
        c.message = r.string("message").value_or("");
        c.openai = r.string("openai").value_or("");
        r.reject_unknown();
        p.categories[cname] = std::move(c);
      }
    } else if (k == "rule") {
      const toml::array* rules = node.as_array();
      if (!rules) fail("{} must be written [[rule]]", where_of(node, source, "rule"));
      for (const toml::node& rn : *rules) {
        if (!rn.is_table()) fail("{} must be written [[rule]]", where_of(rn, source, "rule"));
        TableReader r(*rn.as_table(), source, fmt::format("rule #{}", p.rules.size() + 1));
        Rule rule;
        rule.name = r.string("name").value_or(fmt::format("rule-{}", p.rules.size() + 1));
        rule.category = r.string("category").value_or("");
        if (rule.category.empty())
          fail("{}:{}: [[rule]] '{}' needs a category", source, rn.source().begin.line, rule.name);
        rule.phrases = r.strings("phrases");
        for (auto& w : r.strings("words")) rule.phrases.push_back(std::move(w));
        rule.regexes = r.strings("regex");
        rule.input = r.action("input");
        rule.output = r.action("output");
        rule.message = r.string("message").value_or("");
        rule.placeholder = r.string("placeholder").value_or("");
        r.reject_unknown();
        if (rule.phrases.empty() && rule.regexes.empty())
          fail("{}:{}: [[rule]] '{}' has no phrases, words or regex to match", source,
               rn.source().begin.line, rule.name);
        for (const auto& ph : rule.phrases)
          if (phrase_skeleton(ph).empty())
            fail("{}:{}: [[rule]] '{}': the phrase '{}' has no letters or digits to match", source,
                 rn.source().begin.line, rule.name, ph);
        p.rules.push_back(std::move(rule));
      }
    } else if (k == "pii") {
      TableReader r(table_at(root, k, source), source, "pii");
      p.pii.enabled = r.boolean("enabled").value_or(true);
      p.pii.detectors = r.strings("detectors");
      static const std::set<std::string> known{"email", "phone", "credit_card", "iban",
                                               "ip",    "api_key", "secret"};
      for (const auto& d : p.pii.detectors)
        if (!known.count(d))
          fail("{}: pii.detectors: unknown detector '{}'; known: email, phone, credit_card, "
               "iban, ip, api_key, secret", source, d);
      if (p.pii.detectors.empty()) p.pii.detectors.assign(known.begin(), known.end());
      if (auto a = r.action("input")) p.pii.input = *a;
      if (auto a = r.action("output")) p.pii.output = *a;
      if (auto v = r.number("entropy_bits_per_char", 1, 8)) p.pii.entropy_bits_per_char = *v;
      r.reject_unknown();
    } else if (k == "injection") {
      TableReader r(table_at(root, k, source), source, "injection");
      p.injection.enabled = r.boolean("enabled").value_or(true);
      if (auto a = r.action("input")) p.injection.input = *a;
      if (auto a = r.action("output")) p.injection.output = *a;
      r.reject_unknown();
    } else if (k == "model") {
      TableReader r(table_at(root, k, source), source, "model");
      p.model.enabled = r.boolean("enabled").value_or(true);
      if (auto a = r.action("input")) p.model.input = *a;
      if (auto v = r.number("threshold", 0, 1)) p.model.threshold = *v;
      if (auto v = r.number("max_tokens", 1, 64)) p.model.max_tokens = static_cast<int>(*v);
      if (auto v = r.number("top_logprobs", 1, 20)) p.model.top_logprobs = static_cast<int>(*v);
      if (auto v = r.boolean("fail_open")) p.model.fail_open = *v;
      r.reject_unknown();
    } else {
      fail("{}:{}: unknown section '{}'; known: guard, categories, rule, pii, injection, model",
           source, node.source().begin.line, k);
    }
  }
  return p;
}

Policy load_policy_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("--policy {}: cannot open it", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_policy(ss.str(), path);
}

}  // namespace hearth::guard
