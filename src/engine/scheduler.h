// The scheduling policy of the engine, as a pure function of plain values (vLLM's
// SchedulerOutput style): given every sequence's "tokens known vs tokens computed", the free
// KV blocks and the limits, it says which sequences run this step, how many tokens each
// computes, and which are preempted or cancelled. It touches no model and no memory, so every
// rule below is tested with plain numbers (tests/unit/test_scheduler.cpp).
//
// There are no prefill and decode modes. A sequence whose prompt is not computed yet simply
// has many tokens known but not computed; one that is generating has exactly one (the token
// it sampled last). Each step has a token budget (max_batch_tokens):
//   1. decode tokens first, one per running sequence that has exactly one token to compute,
//      oldest first — a long prompt never stalls the streams;
//   2. then the running sequences that still have prompt to compute, oldest first, each as
//      big a chunk as the remaining budget allows (chunked prefill);
//   3. then waiting sequences are admitted first-come first-served while the budget, the KV
//      blocks and max_running allow. Admission stops at the first one that does not fit, so a
//      big request is never starved by small ones behind it. Nothing is admitted in a step
//      that had to preempt (memory is short) .
// When a running sequence needs a block and none is free, the newest running sequence is
// preempted (its blocks freed, to be recomputed later) — if that is the sequence itself, it
// waits. Nothing ever fails for lack of KV memory (the engine guarantees the pool holds at
// least one whole sequence, so the oldest one always makes progress).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace hearth::engine {

struct SchedulerLimits {
  int64_t max_batch_tokens = 512;  // tokens computed per step, all sequences together
  int32_t max_running = 16;        // sequences holding KV blocks at once
  int64_t block_size = 16;         // tokens per KV block
};

// One sequence as the scheduler sees it.
struct SeqState {
  uint64_t id = 0;        // arrival order: a lower id came first and has priority
  bool running = false;   // holds KV blocks (else: waiting, holding none)
  bool cancelled = false;
  int64_t n_known = 0;     // prompt + generated tokens
  int64_t n_computed = 0;  // running: tokens whose keys and values are in the cache
  int64_t n_blocks = 0;    // running: KV blocks held
  // Running: blocks that go back to the pool if this sequence lets go of them (those it does
  // not share with another sequence).
  int64_t n_freeable_blocks = 0;
  // Waiting: leading tokens whose keys and values are cached (whole blocks; fewer than
  // n_known, as the last prompt token is always computed to get logits), and how many of
  // those cached blocks are free now (taking them takes them out of the free pool).
  int64_t n_cached_tokens = 0;
  int64_t n_cached_free_blocks = 0;
};

struct ScheduledSeq {
  uint64_t id = 0;
  int64_t n_tokens = 0;  // computes tokens [start, start + n_tokens) of the sequence, where
                         // start = n_computed (running) or n_cached_tokens (admitted)
  bool admitted = false; // was waiting: the engine takes its cached prefix and new blocks
  bool wants_logits = false;  // the chunk reaches the end of what is known: sample after it
};

struct SchedulerPlan {
  std::vector<ScheduledSeq> scheduled;  // batch order: decode tokens, prompt chunks, admitted
  std::vector<uint64_t> preempted;      // were running: free their blocks, back to waiting
  std::vector<uint64_t> cancelled;      // free their blocks (if any), finish as "cancelled"
  int64_t n_tokens = 0;                 // sum of scheduled n_tokens (<= max_batch_tokens)
  int64_t n_new_blocks = 0;             // blocks the plan takes out of the free pool
};

// free_blocks: blocks the pool can hand out now (cached ones included; they can be evicted).
// Blocks of cancelled sequences are not counted as free before the next step, which keeps
// the admission arithmetic exact even when an admitted prompt shares them.
SchedulerPlan schedule(std::span<const SeqState> seqs, int64_t free_blocks,
                       const SchedulerLimits& limits);

}  // namespace hearth::engine
