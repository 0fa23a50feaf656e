// The operator's guard policy, loaded from a TOML file (format: docs/guard.md). It says,
// per category, what happens to input (the prompt) and to output (the answer) that falls in
// it: allow, flag (annotate and count), redact (replace the span with a typed placeholder)
// or block (400 content_filter for a prompt; stop the stream with finish_reason
// "content_filter" for an answer), and the message a blocked client gets.
#pragma once
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::guard {

enum class Action { Allow = 0, Flag = 1, Redact = 2, Block = 3 };  // ordered: the worst wins
const char* action_name(Action a);
// Throws hearth::Error naming `where` for anything but allow/flag/redact/block.
Action parse_action(std::string_view name, std::string_view where);

enum class Direction { Input, Output };
const char* direction_name(Direction d);

// What one category does; unset fields fall back to the stage's defaults.
struct CategoryPolicy {
  std::optional<Action> input, output;
  std::string message;  // returned when blocked ("" : the default message)
  std::string openai;   // the OpenAI moderation category it counts as ("" : its own name)
};

// [[rule]]: a word/phrase list and/or regular expressions in one category.
struct Rule {
  std::string name, category;
  std::vector<std::string> phrases;  // matched on the normalized skeleton at word edges
  std::vector<std::string> regexes;  // PCRE2, over the normalized (case-folded) text
  std::optional<Action> input, output;
  std::string message;
  std::string placeholder;  // for redact; default "[<CATEGORY>]"
};

struct PiiPolicy {
  bool enabled = false;
  // Detectors to run: email, phone, credit_card, iban, ip, api_key, secret (high entropy).
  std::vector<std::string> detectors;
  Action input = Action::Redact, output = Action::Redact;
  double entropy_bits_per_char = 4.0;  // "secret": tokens of >= 20 chars above this
};

struct InjectionPolicy {
  bool enabled = false;
  Action input = Action::Block, output = Action::Allow;
};

// The guard model (Llama Guard 3 prompt format), run through the serving engine.
struct ModelPolicy {
  bool enabled = false;
  Action input = Action::Block;  // applied when the verdict is unsafe (or score >= threshold)
  double threshold = 0.5;        // score at or above which the input counts as unsafe
  int max_tokens = 12;           // enough for "unsafe\nS1,S10"
  int top_logprobs = 20;         // alternatives searched for the "unsafe" token
  bool fail_open = true;         // an unparseable verdict allows (true) or blocks (false)
};

struct Policy {
  std::map<std::string, CategoryPolicy> categories;
  std::vector<Rule> rules;
  PiiPolicy pii;
  InjectionPolicy injection;
  ModelPolicy model;
  size_t window_bytes = 128;  // streamed output held back until this much follows it
  bool debug_echo = false;    // responses carry the (redacted) prompt the model saw
  std::string block_message = "This request was blocked by the server's content policy.";
  std::string source;         // the file it came from (for logs)

  // The action for a finding of `category` (from `rule`, maybe null) on `direction`:
  // the rule's own, else its category's, else `stage_default`.
  Action action_for(const std::string& category, const Rule* rule, Direction direction,
                    Action stage_default) const;
  std::string message_for(const std::string& category, const Rule* rule) const;
  // The OpenAI moderation category name `category` counts as (see docs/guard.md).
  std::string openai_name(const std::string& category) const;
};

// Throws hearth::Error with the file, the line and what is wrong (unknown keys included, so a
// typo never silently disables a rule). Regexes are compiled by the pipeline.
Policy parse_policy(std::string_view toml_text, std::string_view source_name);
Policy load_policy_file(const std::string& path);

}  // namespace hearth::guard
