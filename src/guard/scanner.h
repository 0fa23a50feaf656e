// One interface for every scanner stage. A scanner looks at normalized text and appends
// what it found; the pipeline (pipeline.h) turns findings into decisions with the policy.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "guard/normalize.h"

namespace hearth::guard {

struct Finding {
  std::string stage;        // "rules", "pii", "injection", "model"
  std::string category;     // the policy category ("confidential", "pii.email", ...)
  std::string rule;         // rule name or detector ("no-secrets-project", "luhn", ...)
  std::string placeholder;  // what redaction puts in place of the span ("[EMAIL]")
  size_t begin = 0, end = 0;  // ORIGINAL byte range (mapped back from the normalized text)
  double score = 1.0;       // 1 for deterministic matches; a probability for the model
};

using Findings = std::vector<Finding>;

class Scanner {
 public:
  virtual ~Scanner() = default;
  virtual const char* stage() const = 0;
  // Appends findings for `text`. Must be safe to call from several threads at once.
  virtual void scan(const NormalizedText& text, Findings& out) const = 0;
};

}  // namespace hearth::guard
