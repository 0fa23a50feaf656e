#include "engine/scheduler.h"

#include <algorithm>

namespace hearth::engine {

namespace {

struct Planner {
  const SchedulerLimits& limits;
  SchedulerPlan plan;
  int64_t budget;
  int64_t free;
  // Running sequences still holding blocks (not preempted), oldest first.
  std::vector<const SeqState*> alive;
  // Per plan.scheduled entry: the blocks it takes from the pool.
  std::vector<int64_t> entry_blocks;

  int64_t blocks_for(int64_t n_tokens) const {
    return (n_tokens + limits.block_size - 1) / limits.block_size;
  }

  int64_t find_entry(uint64_t id) const {
    for (size_t i = 0; i < plan.scheduled.size(); ++i)
      if (plan.scheduled[i].id == id) return static_cast<int64_t>(i);
    return -1;
  }

  void preempt(const SeqState* s) {
    const int64_t e = find_entry(s->id);
    if (e >= 0) {  // it was planned earlier this step: give back its tokens and blocks
      budget += plan.scheduled[e].n_tokens;
      free += entry_blocks[e];
      plan.scheduled.erase(plan.scheduled.begin() + e);
      entry_blocks.erase(entry_blocks.begin() + e);
    }
    free += s->n_freeable_blocks;
    alive.erase(std::find(alive.begin(), alive.end(), s));
    plan.preempted.push_back(s->id);
  }

  // Plans n tokens of running sequence s, preempting the newest running sequences while the
  // pool is short. False when s itself had to be preempted.
  bool schedule_running(const SeqState* s, int64_t n) {
    const int64_t need = std::max<int64_t>(0, blocks_for(s->n_computed + n) - s->n_blocks);
    while (need > free) {
      const SeqState* victim = alive.back();  // the newest
      preempt(victim);
      if (victim == s) return false;
    }
    free -= need;
    budget -= n;
    plan.scheduled.push_back({s->id, n, false, s->n_computed + n == s->n_known});
    entry_blocks.push_back(need);
    return true;
  }

  bool is_alive(const SeqState* s) const {
    return std::find(alive.begin(), alive.end(), s) != alive.end();
  }
};

bool by_arrival(const SeqState* a, const SeqState* b) { return a->id < b->id; }

}  // namespace

SchedulerPlan schedule(std::span<const SeqState> seqs, int64_t free_blocks,
                       const SchedulerLimits& limits) {
  Planner p{limits, {}, std::max<int64_t>(0, limits.max_batch_tokens),
            std::max<int64_t>(0, free_blocks), {}, {}};
  std::vector<const SeqState*> waiting;
  for (const SeqState& s : seqs) {
    if (s.cancelled) p.plan.cancelled.push_back(s.id);
    else if (s.running) p.alive.push_back(&s);
    else waiting.push_back(&s);
  }
  std::sort(p.alive.begin(), p.alive.end(), by_arrival);
  std::sort(waiting.begin(), waiting.end(), by_arrival);
  const std::vector<const SeqState*> running = p.alive;  // the order before any preemption

  // 1. One decode token per generating sequence, oldest first.
  for (const SeqState* s : running) {
    if (p.budget == 0) break;
    if (s->n_known - s->n_computed == 1 && p.is_alive(s)) p.schedule_running(s, 1);
  }
  // 2. Prompt chunks of running sequences (prefill, or recompute after a preemption).
  for (const SeqState* s : running) {
    if (p.budget == 0) break;
    const int64_t remaining = s->n_known - s->n_computed;
    if (remaining > 1 && p.is_alive(s)) p.schedule_running(s, std::min(remaining, p.budget));
  }
  // 3. Admission, first come first served, only when memory was not short this step.
  if (p.plan.preempted.empty()) {
    int64_t n_running = static_cast<int64_t>(p.alive.size());
    for (const SeqState* w : waiting) {
      if (p.budget == 0 || n_running >= limits.max_running || w->n_known <= 0) break;
      // At least the last known token is computed: its logits start generation.
      const int64_t max_cached = (w->n_known - 1) / limits.block_size * limits.block_size;
      const int64_t cached = std::clamp<int64_t>(w->n_cached_tokens, 0, max_cached) /
                             limits.block_size * limits.block_size;
      const int64_t n = std::min(w->n_known - cached, p.budget);
      const int64_t need = p.blocks_for(cached + n) - cached / limits.block_size +
                           std::max<int64_t>(0, w->n_cached_free_blocks);
      if (need > p.free) break;
      p.free -= need;
      p.budget -= n;
      p.plan.scheduled.push_back({w->id, n, true, cached + n == w->n_known});
      p.entry_blocks.push_back(need);
      ++n_running;
    }
  }
  for (size_t i = 0; i < p.plan.scheduled.size(); ++i) {
    p.plan.n_tokens += p.plan.scheduled[i].n_tokens;
    p.plan.n_new_blocks += p.entry_blocks[i];
  }
  return p.plan;
}

}  // namespace hearth::engine
