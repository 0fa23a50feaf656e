// The scheduling policy with plain numbers: no model, no memory.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/scheduler.h"

using namespace hearth::engine;

namespace {

SchedulerLimits limits(int64_t max_batch_tokens, int32_t max_running = 16,
                       int64_t block_size = 4) {
  return SchedulerLimits{max_batch_tokens, max_running, block_size};
}

// A running sequence that has computed `computed` of `known` tokens, holding just the blocks
// those need (block size 4), none shared.
SeqState running(uint64_t id, int64_t known, int64_t computed, int64_t block_size = 4) {
  SeqState s;
  s.id = id;
  s.running = true;
  s.n_known = known;
  s.n_computed = computed;
  s.n_blocks = (computed + block_size - 1) / block_size;
  s.n_freeable_blocks = s.n_blocks;
  return s;
}

SeqState waiting(uint64_t id, int64_t known, int64_t cached = 0, int64_t cached_free = 0) {
  SeqState s;
  s.id = id;
  s.n_known = known;
  s.n_cached_tokens = cached;
  s.n_cached_free_blocks = cached_free;
  return s;
}

const ScheduledSeq* find(const SchedulerPlan& p, uint64_t id) {
  for (const auto& s : p.scheduled)
    if (s.id == id) return &s;
  return nullptr;
}

bool contains(const std::vector<uint64_t>& v, uint64_t id) {
  return std::find(v.begin(), v.end(), id) != v.end();
}

}  // namespace

TEST(Scheduler, DecodeTokensGoFirstThenPromptChunksShareTheRest) {
  // Two generating sequences and one with a 100-token prompt to go, budget 10.
  const std::vector<SeqState> seqs = {running(1, 100, 0), running(2, 9, 8), running(3, 21, 20)};
  const SchedulerPlan p = schedule(seqs, 100, limits(10));
  ASSERT_EQ(p.scheduled.size(), 3u);
  EXPECT_EQ(p.scheduled[0].id, 2u);  // decode tokens come first in the batch
  EXPECT_EQ(p.scheduled[0].n_tokens, 1);
  EXPECT_TRUE(p.scheduled[0].wants_logits);
  EXPECT_EQ(p.scheduled[1].id, 3u);
  EXPECT_EQ(p.scheduled[1].n_tokens, 1);
  EXPECT_EQ(p.scheduled[2].id, 1u);  // the prompt gets what is left of the budget
  EXPECT_EQ(p.scheduled[2].n_tokens, 8);
  EXPECT_FALSE(p.scheduled[2].wants_logits);  // a chunk in the middle of a prompt
  EXPECT_EQ(p.n_tokens, 10);
}

TEST(Scheduler, LongPromptIsChunkedAcrossStepsWithLogitsOnlyAtTheEnd) {
  // Simulate the engine applying plans: one 23-token prompt, budget 8.
  SeqState s = running(1, 23, 0);
  std::vector<int64_t> chunks;
  for (int step = 0; step < 10 && s.n_computed < s.n_known; ++step) {
    const SchedulerPlan p = schedule(std::span<const SeqState>(&s, 1), 100, limits(8));
    ASSERT_EQ(p.scheduled.size(), 1u);
    const auto& e = p.scheduled[0];
    chunks.push_back(e.n_tokens);
    s.n_computed += e.n_tokens;
    s.n_blocks = (s.n_computed + 3) / 4;
    EXPECT_EQ(e.wants_logits, s.n_computed == s.n_known);
  }
  EXPECT_EQ(chunks, (std::vector<int64_t>{8, 8, 7}));
}

TEST(Scheduler, ALongPromptNeverStallsTheStreams) {
  // 4 generating sequences and a 10000-token prompt: every step runs all 4 decode tokens.
  std::vector<SeqState> seqs = {running(1, 10000, 0)};
  for (uint64_t id = 2; id <= 5; ++id) seqs.push_back(running(id, 6, 5));
  const SchedulerPlan p = schedule(seqs, 10000, limits(16));
  for (uint64_t id = 2; id <= 5; ++id) {
    ASSERT_NE(find(p, id), nullptr) << id;
    EXPECT_EQ(find(p, id)->n_tokens, 1);
  }
  ASSERT_NE(find(p, 1), nullptr);
  EXPECT_EQ(find(p, 1)->n_tokens, 12);
}

TEST(Scheduler, BudgetSmallerThanTheDecodersRunsTheOldestFirst) {
  const std::vector<SeqState> seqs = {running(3, 6, 5), running(1, 6, 5), running(2, 6, 5)};
  const SchedulerPlan p = schedule(seqs, 10, limits(2));
  ASSERT_EQ(p.scheduled.size(), 2u);
  EXPECT_EQ(p.scheduled[0].id, 1u);
  EXPECT_EQ(p.scheduled[1].id, 2u);
}

TEST(Scheduler, AdmitsWaitingFirstComeFirstServedWithinMaxRunning) {
  const std::vector<SeqState> seqs = {running(1, 6, 5), waiting(4, 3), waiting(2, 3),
                                      waiting(3, 3)};
  const SchedulerPlan p = schedule(seqs, 100, limits(100, /*max_running=*/3));
  ASSERT_EQ(p.scheduled.size(), 3u);
  EXPECT_EQ(p.scheduled[1].id, 2u);
  EXPECT_TRUE(p.scheduled[1].admitted);
  EXPECT_EQ(p.scheduled[1].n_tokens, 3);
  EXPECT_TRUE(p.scheduled[1].wants_logits);
  EXPECT_EQ(p.scheduled[2].id, 3u);
  EXPECT_EQ(find(p, 4), nullptr);  // max_running 3 reached
}

TEST(Scheduler, AdmissionNeedsBlocksAndStopsAtTheFirstThatDoesNotFit) {
  // 5 free blocks of 4 tokens: the 30-token prompt (8 blocks) cannot start, and the small
  // one behind it must not overtake it (no starvation of big requests).
  const std::vector<SeqState> seqs = {waiting(1, 30), waiting(2, 3)};
  const SchedulerPlan p = schedule(seqs, 5, limits(100));
  EXPECT_TRUE(p.scheduled.empty());
  // With a budget of 12 the big one starts with a 12-token chunk (3 blocks): it fits.
  const SchedulerPlan q = schedule(seqs, 5, limits(12));
  ASSERT_EQ(q.scheduled.size(), 1u);
  EXPECT_EQ(q.scheduled[0].id, 1u);
  EXPECT_EQ(q.scheduled[0].n_tokens, 12);
  EXPECT_EQ(q.n_new_blocks, 3);
}

TEST(Scheduler, CachedPrefixIsNotRecomputedAndCostsOnlyTheBlocksItTakesFromThePool) {
  // 13 known tokens, 8 cached (2 blocks, one of them free in the pool).
  const std::vector<SeqState> seqs = {waiting(1, 13, 8, 1)};
  const SchedulerPlan p = schedule(seqs, 10, limits(100));
  ASSERT_EQ(p.scheduled.size(), 1u);
  EXPECT_EQ(p.scheduled[0].n_tokens, 5);  // tokens 8..12
  EXPECT_EQ(p.n_new_blocks, 2 + 1);       // blocks 2 and 3, plus the free cached one
  // All three blocks are needed: with 2 free it waits.
  EXPECT_TRUE(schedule(seqs, 2, limits(100)).scheduled.empty());
}

TEST(Scheduler, AtLeastTheLastPromptTokenIsAlwaysComputed) {
  // The whole 8-token prompt is cached (2 full blocks): block 2 must be recomputed, since
  // the logits of the last token are needed and a cached block is never written.
  const std::vector<SeqState> seqs = {waiting(1, 8, 8, 0)};
  const SchedulerPlan p = schedule(seqs, 10, limits(100));
  ASSERT_EQ(p.scheduled.size(), 1u);
  EXPECT_EQ(p.scheduled[0].n_tokens, 4);
  EXPECT_TRUE(p.scheduled[0].wants_logits);
}

TEST(Scheduler, PreemptsTheNewestWhenBlocksRunOut) {
  // Three generating sequences, each at a block boundary (needs one new block), one free.
  const std::vector<SeqState> seqs = {running(1, 9, 8), running(2, 5, 4), running(3, 13, 12),
                                      waiting(4, 2)};
  const SchedulerPlan p = schedule(seqs, 1, limits(100));
  // 1 takes the free block; 2 needs one: 3 (newest) is preempted, freeing its 3 blocks.
  EXPECT_EQ(p.preempted, (std::vector<uint64_t>{3}));
  ASSERT_NE(find(p, 1), nullptr);
  ASSERT_NE(find(p, 2), nullptr);
  EXPECT_EQ(find(p, 3), nullptr);
  EXPECT_EQ(find(p, 4), nullptr);  // nothing admitted while memory is short
}

TEST(Scheduler, PreemptsItselfWhenItIsTheNewest) {
  const std::vector<SeqState> seqs = {running(1, 9, 8), running(2, 5, 4)};
  const SchedulerPlan p = schedule(seqs, 1, limits(100));
  EXPECT_EQ(p.preempted, (std::vector<uint64_t>{2}));
  ASSERT_EQ(p.scheduled.size(), 1u);
  EXPECT_EQ(p.scheduled[0].id, 1u);
}

TEST(Scheduler, PreemptingASequencePlannedEarlierGivesBackItsTokensAndBlocks) {
  // 3 free blocks. 2 (newest) is a decoder, planned first, taking one. Then 1 (older, 16
  // prompt tokens to go) needs 4: 2 is preempted and gives back the block planned for it
  // and the one it held, so 1 runs its whole chunk and 2's decode token is not in the batch.
  const std::vector<SeqState> seqs = {running(1, 20, 4), running(2, 5, 4)};
  const SchedulerPlan p = schedule(seqs, 3, limits(100));
  EXPECT_EQ(p.preempted, (std::vector<uint64_t>{2}));
  ASSERT_EQ(p.scheduled.size(), 1u);
  EXPECT_EQ(p.scheduled[0].id, 1u);
  EXPECT_EQ(p.scheduled[0].n_tokens, 16);
  EXPECT_EQ(p.n_tokens, 16);
  EXPECT_EQ(p.n_new_blocks, 4);
}

TEST(Scheduler, SharedBlocksDoNotCountAsFreedByPreemption) {
  // 2 holds 3 blocks but shares 2 of them: preempting it frees 1, enough for sequence 1.
  SeqState a = running(1, 9, 8), b = running(2, 13, 12);
  b.n_freeable_blocks = 1;
  std::vector<SeqState> seqs = {a, b};
  SchedulerPlan p = schedule(seqs, 0, limits(100));
  EXPECT_EQ(p.preempted, (std::vector<uint64_t>{2}));
  ASSERT_EQ(p.scheduled.size(), 1u);
  // Freeing nothing: the newest goes, then the next newest is the sequence itself.
  seqs[1].n_freeable_blocks = 0;
  p = schedule(seqs, 0, limits(100));
  EXPECT_EQ(p.preempted, (std::vector<uint64_t>{2, 1}));
  EXPECT_TRUE(p.scheduled.empty());
}

TEST(Scheduler, CancelledSequencesAreListedAndNotScheduled) {
  SeqState r = running(1, 9, 8), w = waiting(2, 3);
  r.cancelled = true;
  w.cancelled = true;
  const std::vector<SeqState> seqs = {r, w, waiting(3, 3)};
  const SchedulerPlan p = schedule(seqs, 10, limits(100));
  EXPECT_TRUE(contains(p.cancelled, 1));
  EXPECT_TRUE(contains(p.cancelled, 2));
  ASSERT_EQ(p.scheduled.size(), 1u);
  EXPECT_EQ(p.scheduled[0].id, 3u);
}

TEST(Scheduler, CancelledBlocksAreNotReusedInTheSameStep) {
  // Conservative on purpose: an admission this step could share the cancelled sequence's
  // blocks without paying for them; they are counted free from the next step on.
  SeqState r = running(1, 17, 16);
  r.cancelled = true;
  const std::vector<SeqState> seqs = {r, waiting(2, 6)};
  EXPECT_TRUE(schedule(seqs, 0, limits(100)).scheduled.empty());
}

TEST(Scheduler, EmptyInputGivesAnEmptyPlan) {
  const SchedulerPlan p = schedule({}, 10, limits(100));
  EXPECT_TRUE(p.scheduled.empty());
  EXPECT_TRUE(p.preempted.empty());
  EXPECT_EQ(p.n_tokens, 0);
}
