#include "guard/pipeline.h"

#include <algorithm>

#include "guard/injection_scanner.h"
#include "guard/pii_scanner.h"
#include "guard/rule_scanner.h"

namespace hearth::guard {

Guard::Guard(Policy policy) : policy_(std::move(policy)) {
  size_t longest_phrase = 0;
  if (!policy_.rules.empty()) {
    auto rules = std::make_unique<RuleScanner>(policy_.rules);
    longest_phrase = rules->longest_phrase();
    scanners_.push_back(std::move(rules));
  }
  if (policy_.pii.enabled) scanners_.push_back(std::make_unique<PiiScanner>(policy_.pii));
  if (policy_.injection.enabled) scanners_.push_back(std::make_unique<InjectionScanner>());
  // A phrase may be spread out ("p r o j e c t") or padded with invisible characters: hold
  // back three times its length, and never less than the policy's window.
  window_ = std::max(policy_.window_bytes, 3 * longest_phrase + 16);

  for (const Rule& r : policy_.rules)
    if (policy_.action_for(r.category, &r, Direction::Output, Action::Flag) != Action::Allow)
      scans_output_ = true;
  if (policy_.pii.enabled && policy_.pii.output != Action::Allow) scans_output_ = true;
  if (policy_.injection.enabled && policy_.injection.output != Action::Allow) scans_output_ = true;
}

Findings Guard::scan(std::string_view text) const {
  Findings out;
  if (scanners_.empty()) return out;
  const NormalizedText n = normalize(text);
  for (const auto& s : scanners_) s->scan(n, out);
  return out;
}

const Rule* Guard::rule_named(const std::string& name) const {
  for (const Rule& r : policy_.rules)
    if (r.name == name) return &r;
  return nullptr;
}

Decision Guard::decide(std::string_view text, const Findings& findings, Direction d) const {
  Decision dec;
  std::vector<Finding> redactions;
  for (const Finding& f : findings) {
    const Rule* rule = f.stage == "rules" ? rule_named(f.rule) : nullptr;
    Action stage_default = Action::Flag;
    if (f.stage == "pii") stage_default = d == Direction::Input ? policy_.pii.input : policy_.pii.output;
    if (f.stage == "injection")
      stage_default = d == Direction::Input ? policy_.injection.input : policy_.injection.output;
    if (f.stage == "model") stage_default = d == Direction::Input ? policy_.model.input : Action::Flag;
    Action a = policy_.action_for(f.category, rule, d, stage_default);
    // A finding without a span (hidden text) cannot be cut out: it is flagged instead.
    if (a == Action::Redact && f.end <= f.begin) a = Action::Flag;
    if (a == Action::Allow) continue;
    if (a > dec.action || dec.items.empty()) {
      if (a == Action::Block && dec.action != Action::Block) dec.message = policy_.message_for(f.category, rule);
      dec.action = std::max(dec.action, a);
    }
    if (a == Action::Redact) redactions.push_back(f);
    dec.items.push_back({f, a});
  }
  dec.text = redactions.empty() ? std::string(text) : redact(text, std::move(redactions));
  return dec;
}

Decision Guard::check(std::string_view text, Direction d) const { return decide(text, scan(text), d); }

std::string redact(std::string_view text, std::vector<Finding> findings) {
  std::sort(findings.begin(), findings.end(),
            [](const Finding& a, const Finding& b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  for (const Finding& f : findings) {
    if (f.end <= f.begin || f.end > text.size()) continue;
    if (f.begin < at) {  // overlaps the previous span: extend it
      at = std::max(at, f.end);
      continue;
    }
    out.append(text.substr(at, f.begin - at));
    out += f.placeholder;
    at = f.end;
  }
  out.append(text.substr(std::min(at, text.size())));
  return out;
}

}  // namespace hearth::guard
