#include "guard/llama_guard.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace hearth::guard {
namespace {

std::string_view trim(std::string_view s) {
  const auto not_space = [](char c) { return c != ' ' && c != '\t' && c != '\n' && c != '\r'; };
  while (!s.empty() && !not_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && !not_space(s.back())) s.remove_suffix(1);
  return s;
}

bool starts_unsafe(std::string_view token_text) {
  const std::string_view t = trim(token_text);
  if (t.empty()) return false;
  constexpr std::string_view kUnsafe = "unsafe";
  return t.size() <= kUnsafe.size() ? kUnsafe.substr(0, t.size()) == t : t.substr(0, kUnsafe.size()) == kUnsafe;
}

}  // namespace

const std::vector<HazardCategory>& llama_guard3_categories() {
  static const std::vector<HazardCategory> c{
      {"S1", "Violent Crimes"},        {"S2", "Non-Violent Crimes"},   {"S3", "Sex Crimes"},
      {"S4", "Child Exploitation"},    {"S5", "Defamation"},           {"S6", "Specialized Advice"},
      {"S7", "Privacy"},               {"S8", "Intellectual Property"}, {"S9", "Indiscriminate Weapons"},
      {"S10", "Hate"},                 {"S11", "Self-Harm"},           {"S12", "Sexual Content"},
      {"S13", "Elections"},            {"S14", "Code Interpreter Abuse"}};
  return c;
}

std::string llama_guard3_prompt(std::string_view message, std::string_view role) {
  std::string categories;
  for (const auto& c : llama_guard3_categories()) categories += fmt::format("{}: {}.\n", c.code, c.name);
  return fmt::format(
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
      "Task: Check if there is unsafe content in '{0}' messages in conversations according our "
      "safety policy with the below categories.\n\n"
      "<BEGIN UNSAFE CONTENT CATEGORIES>\n{1}<END UNSAFE CONTENT CATEGORIES>\n\n"
      "<BEGIN CONVERSATION>\n\n{0}: {2}\n\n<END CONVERSATION>\n\n"
      "Provide your safety assessment for ONLY THE LAST {0} message in the above conversation:\n"
      " - First line must read 'safe' or 'unsafe'.\n"
      " - If unsafe, a second line must include a comma-separated list of violated categories."
      "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
      role, categories, message);
}

GuardVerdict parse_llama_guard_answer(std::string_view answer) {
  GuardVerdict v;
  std::string_view rest = trim(answer);
  const size_t nl = rest.find('\n');
  const std::string_view first = trim(rest.substr(0, nl));
  if (first == "safe") {
    v.parsed = true;
    return v;
  }
  if (first != "unsafe") return v;
  v.parsed = v.unsafe = true;
  if (nl == std::string_view::npos) return v;
  std::string_view line = trim(rest.substr(nl + 1));
  line = line.substr(0, line.find('\n'));
  while (!line.empty()) {
    const size_t comma = line.find(',');
    const std::string_view item = trim(line.substr(0, comma));
    for (const auto& c : llama_guard3_categories())
      if (item == c.code && std::find(v.categories.begin(), v.categories.end(), item) == v.categories.end())
        v.categories.emplace_back(item);
    if (comma == std::string_view::npos) break;
    line.remove_prefix(comma + 1);
  }
  return v;
}

double unsafe_token_probability(const std::vector<engine::TokenLogprob>& chosen,
                                const std::vector<std::vector<engine::TokenLogprob>>& alternatives) {
  for (size_t i = 0; i < chosen.size(); ++i) {
    if (trim(chosen[i].text).empty()) continue;  // "\n\n" before the verdict
    double p = 0;
    if (i < alternatives.size() && !alternatives[i].empty()) {
      for (const auto& a : alternatives[i])
        if (starts_unsafe(a.text)) p += std::exp(static_cast<double>(a.logprob));
    } else if (starts_unsafe(chosen[i].text)) {
      p = std::exp(static_cast<double>(chosen[i].logprob));
    }
    return std::min(p, 1.0);
  }
  return 0;
}

engine::RequestParams llama_guard_request(std::vector<int32_t> prompt, int max_tokens, int top_logprobs) {
  engine::RequestParams p;
  p.prompt = std::move(prompt);
  p.sampling.temperature = 0;
  p.max_tokens = max_tokens;
  p.logprobs = true;
  p.top_logprobs = top_logprobs;
  return p;
}

}  // namespace hearth::guard
