// The moderation pipeline: the policy's scanners in order, cheap first (rules, PII,
// injection heuristics), and what their findings mean for one text in one direction: the
// worst action wins; redactions replace the original bytes of each finding with its typed
// placeholder; a block carries the message the client gets. Immutable once built, so one
// Guard serves every request at once and a SIGHUP reload swaps in a new one.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "guard/policy.h"
#include "guard/scanner.h"

namespace hearth::guard {

struct Decision {
  struct Item {
    Finding finding;
    Action action;
  };
  Action action = Action::Allow;  // the worst of the items
  std::vector<Item> items;        // every finding whose action is not allow
  std::string message;            // for a block: what the client is told
  std::string text;               // the text with every redact item replaced

  bool blocked() const { return action == Action::Block; }
};

class Guard {
 public:
  // Throws hearth::Error for a regex in the policy that does not compile.
  explicit Guard(Policy policy);
  const Policy& policy() const { return policy_; }

  // Every finding of every cheap scanner (in original byte ranges), no actions applied.
  Findings scan(std::string_view text) const;
  // The decision for `text` going in `direction`.
  Decision check(std::string_view text, Direction direction) const;
  // Applies the policy to findings (e.g. from scan()) of `text`.
  Decision decide(std::string_view text, const Findings& findings, Direction direction) const;

  // Streaming output is held back by this many bytes (covers the longest phrase with room
  // for evasion spacing, and PII spans).
  size_t window_bytes() const { return window_; }
  // True when output needs scanning at all (some rule or stage acts on output).
  bool scans_output() const { return scans_output_; }

 private:
  const Rule* rule_named(const std::string& name) const;

  Policy policy_;
  std::vector<std::unique_ptr<Scanner>> scanners_;
  size_t window_ = 0;
  bool scans_output_ = false;
};

// Replaces each [begin, end) of `findings` in `text` with its placeholder; overlapping spans
// merge (the first one's placeholder is kept).
std::string redact(std::string_view text, std::vector<Finding> findings);

}  // namespace hearth::guard
