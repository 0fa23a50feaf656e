// The unit a sampler chain is made of. Every stage rewrites a list of candidate tokens in
// place: it may change logits (penalties, temperature, logit bias), drop candidates
// (top-k, top-p, min-p, grammar) or reorder them. A stage never allocates per call; the
// candidate list is a buffer the Sampler reuses across tokens.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace hearth::sampling {

struct Candidate {
  int32_t id;
  float logit;
  float p;  // probability; only meaningful right after softmax() ran on the list
};

class Stage {
 public:
  virtual ~Stage() = default;
  // Short label for Sampler::describe(), e.g. "top-k 40".
  virtual const char* name() const = 0;
  // `history` is the prompt plus every token generated so far, oldest first.
  virtual void apply(std::vector<Candidate>& cands, std::span<const int32_t> history) = 0;
};

// ---- helpers shared by stages and the final pick ----

// Orders by logit, highest first; equal logits by lower id first so results never depend
// on the order candidates arrived in. NaN logits must have been removed before (the Sampler
// maps them to -inf when it fills the list).
inline bool higher_logit_first(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// Sorts the whole list with higher_logit_first unless it already is.
void sort_by_logit(std::vector<Candidate>& cands);

// Fills every p with the softmax of the logits. Robust to infinities: if some logits are
// +inf they share all the mass; if every logit is -inf the mass is spread evenly (nothing
// better is known, and a sampler must still return a token).
void softmax(std::vector<Candidate>& cands);

}  // namespace hearth::sampling
