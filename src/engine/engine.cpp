#include "engine/engine.h"

#include <algorithm>
#include <thread>

#include "core/thread_pool.h"
#include "engine/request.h"
#include "engine/scheduler.h"
#include "kv/block_pool.h"
#include "kv/kv_cache.h"
#include "models/model.h"
#include "tokenizer/tokenizer.h"

namespace hearth::engine {

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Latency samples wait for the next stats() snapshot; if nobody takes them, only the newest
// kMaxSamples are kept (memory stays bounded).
constexpr size_t kMaxSamples = 16384;
void keep_samples(std::vector<double>& kept, const std::vector<double>& fresh) {
  kept.insert(kept.end(), fresh.begin(), fresh.end());
  if (kept.size() > 2 * kMaxSamples) kept.erase(kept.begin(), kept.end() - kMaxSamples);
}

// What submitters and the step thread share: one lock, one wake-up. Handles keep it alive
// through their cancel callback, so a late cancel() never touches a destroyed engine.
struct Signal {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t wakeups = 0;  // bumped by every submit and cancel
};

EngineConfig checked(EngineConfig c) {
  if (c.n_ctx_per_sequence <= 0 || c.kv_cache_tokens <= 0 || c.kv_block_size <= 0 ||
      c.max_running <= 0 || c.max_queue < 0 || c.max_batch_tokens <= 0)
    fail("invalid engine config: n_ctx_per_sequence {}, kv_cache_tokens {}, kv_block_size {}, "
         "max_running {}, max_queue {}, max_batch_tokens {} (all must be positive, max_queue "
         "may be 0)", c.n_ctx_per_sequence, c.kv_cache_tokens, c.kv_block_size, c.max_running,
         c.max_queue, c.max_batch_tokens);
  // The oldest sequence must always be able to run to the end of its context, alone if need
  // be; otherwise preemption could not guarantee progress.
  const int64_t per_seq = (c.n_ctx_per_sequence + c.kv_block_size - 1) / c.kv_block_size;
  if (c.kv_cache_tokens / c.kv_block_size < per_seq)
    fail("the KV cache ({} tokens) cannot hold one whole sequence of {} tokens; raise the KV "
         "cache size or lower the context per sequence", c.kv_cache_tokens, c.n_ctx_per_sequence);
  return c;
}

}  // namespace

struct Engine::Impl {
  Impl(Model& m, const tok::Tokenizer& t, const EngineConfig& c);
  ~Impl();

  std::shared_ptr<RequestHandle> submit(RequestParams params);
  void loop();
  // One step: schedule, run the forward pass, sample. False when there was nothing to do.
  bool step();
  void apply_cancellations(const SchedulerPlan& plan);
  void apply_preemptions(const SchedulerPlan& plan);
  void admit(Request& r);
  bool reserve(Request& r, int64_t n_tokens);
  void run_batch(const std::vector<std::pair<Request*, int64_t>>& work);
  void register_full_blocks(Request& r);
  void release(Request& r);
  void retire_finished();
  void publish_gauges();  // under lock
  Request* take_waiting(uint64_t id);  // under lock
  Request* find_running(uint64_t id);

  Model& model;
  const tok::Tokenizer& tokenizer;
  const EngineConfig cfg;
  const int32_t n_vocab;
  const SchedulerLimits limits;
  ThreadPool pool;
  kv::KVCache cache;
  kv::BlockPool blocks;
  std::shared_ptr<Signal> signal = std::make_shared<Signal>();

  // ---- shared, under signal->mu ----
  std::vector<std::unique_ptr<Request>> waiting;  // by arrival (id)
  bool draining = false;
  bool stopping = false;
  int64_t n_submitting = 0;  // admitted to the queue, being set up outside the lock
  uint64_t next_id = 1;
  EngineStats stats;  // counters and samples; the gauges are refreshed each step

  // ---- the step thread's own ----
  std::vector<std::unique_ptr<Request>> running;
  std::vector<int32_t> free_slots;
  Batch batch;
  std::vector<float> logits;
  std::vector<float> scratch;
  TokenTexts texts;
  EngineStats step_stats;  // counted outside the lock, folded into `stats` each step
  std::thread thread;
};

Engine::Impl::Impl(Model& m, const tok::Tokenizer& t, const EngineConfig& c)
    : model(m),
      tokenizer(t),
      cfg(c),
      n_vocab(static_cast<int32_t>(m.config().n_vocab)),
      limits{c.max_batch_tokens, c.max_running, c.kv_block_size},
      pool(c.threads),
      cache(m.kv_config(c.kv_cache_tokens / c.kv_block_size * c.kv_block_size, c.kv_block_size)),
      blocks(cache.config().n_blocks, c.kv_block_size, c.prefix_cache),
      logits(static_cast<size_t>(c.max_running) * static_cast<size_t>(m.config().n_vocab)),
      texts(t) {
  for (int32_t s = c.max_running - 1; s >= 0; --s) free_slots.push_back(s);
  stats.kv_blocks_total = blocks.n_total();
  thread = std::thread([this] { loop(); });
}

Engine::Impl::~Impl() {
  {
    std::lock_guard lock(signal->mu);
    stopping = true;
  }
  signal->cv.notify_all();
  thread.join();
  for (auto& r : running) {
    r->fail("engine stopped before the request finished", "engine_stopped");
    r->deliver_end();
  }
  for (auto& r : waiting) {
    r->fail("engine stopped before the request started", "engine_stopped");
    r->deliver_end();
  }
}

std::shared_ptr<RequestHandle> Engine::Impl::submit(RequestParams params) {
  std::unique_lock lock(signal->mu);
  if (draining || stopping) {
    ++stats.requests_rejected;
    throw DrainingError("draining: the engine is shutting down and takes no new requests");
  }
  // Requests being set up (unlocked, below) hold their place in the queue already.
  if (static_cast<int64_t>(waiting.size()) + n_submitting >= cfg.max_queue) {
    ++stats.requests_rejected;
    throw QueueFullError(fmt::format("the request queue is full ({} waiting); retry later",
                                     waiting.size() + n_submitting));
  }
  const uint64_t id = next_id++;
  std::weak_ptr<Signal> weak = signal;
  auto handle = std::make_shared<RequestHandle>(id, [weak] {
    if (auto s = weak.lock()) {
      {
        std::lock_guard l(s->mu);
        ++s->wakeups;
      }
      s->cv.notify_all();
    }
  });
  // Validation, sampler and detokenizer set-up take a moment for long prompts: unlocked.
  ++n_submitting;
  lock.unlock();
  std::unique_ptr<Request> request;
  try {
    request = std::make_unique<Request>(id, std::move(params), tokenizer, n_vocab,
                                        cfg.n_ctx_per_sequence, handle);
  } catch (...) {
    lock.lock();
    --n_submitting;
    throw;
  }
  lock.lock();
  --n_submitting;
  if (stopping) throw DrainingError("draining: the engine is shutting down");
  // Ids are taken in order but requests may get here out of order: keep `waiting` sorted.
  auto at = std::upper_bound(waiting.begin(), waiting.end(), id,
                             [](uint64_t v, const auto& r) { return v < r->id(); });
  waiting.insert(at, std::move(request));
  ++signal->wakeups;
  lock.unlock();
  signal->cv.notify_all();
  return handle;
}

void Engine::Impl::loop() {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock lock(signal->mu);
      signal->cv.wait(lock, [&] {
        return stopping || signal->wakeups != seen || !running.empty() || !waiting.empty();
      });
      if (stopping) return;
      seen = signal->wakeups;
    }
    bool worked = false;
    try {
      worked = step();
    } catch (const std::exception& e) {
      // Nothing in a step should throw for one request's sake (those fail that request);
      // if something does, fail what is running rather than kill the thread.
      for (auto& r : running) r->fail(fmt::format("internal error: {}", e.what()), "internal_error");
      retire_finished();
      worked = true;
    }
    if (!worked) {
      // Nothing could run (cannot happen with a consistent plan; never spin): sleep until
      // something new arrives or is cancelled.
      std::unique_lock lock(signal->mu);
      signal->cv.wait(lock, [&] { return stopping || signal->wakeups != seen; });
    }
  }
}

Request* Engine::Impl::take_waiting(uint64_t id) {
  for (auto it = waiting.begin(); it != waiting.end(); ++it) {
    if ((*it)->id() != id) continue;
    running.push_back(std::move(*it));
    waiting.erase(it);
    return running.back().get();
  }
  return nullptr;
}

Request* Engine::Impl::find_running(uint64_t id) {
  for (auto& r : running)
    if (r->id() == id) return r.get();
  return nullptr;
}

bool Engine::Impl::step() {
  std::vector<std::pair<Request*, int64_t>> work;  // (request, tokens to compute this step)
  std::vector<std::pair<Request*, int64_t>> ready;  // those that got their blocks
  SchedulerPlan plan;
  {
    std::lock_guard lock(signal->mu);
    std::vector<SeqState> states;
    states.reserve(running.size() + waiting.size());
    for (auto& r : running) {
      SeqState s;
      s.id = r->id();
      s.running = true;
      s.cancelled = r->handle().cancel_requested();
      s.n_known = r->n_known();
      s.n_computed = r->n_computed;
      s.n_blocks = static_cast<int64_t>(r->blocks.size());
      for (int32_t b : r->blocks) s.n_freeable_blocks += blocks.ref_count(b) == 1;
      states.push_back(s);
    }
    // Only the first few waiting requests can be admitted this step (max_running): look
    // up the cached prefix of those only.
    int64_t n_may_admit = cfg.max_running;
    for (const SeqState& s : states) n_may_admit -= !s.cancelled;
    for (auto& r : waiting) {
      SeqState s;
      s.id = r->id();
      s.cancelled = r->handle().cancel_requested();
      s.n_known = r->n_known();
      if (!s.cancelled && n_may_admit-- > 0) {
        const auto hit = blocks.find_prefix(r->block_hashes(cfg.kv_block_size), r->tokens(),
                                            (r->n_known() - 1) / cfg.kv_block_size);
        s.n_cached_tokens = hit.n_blocks * cfg.kv_block_size;
        s.n_cached_free_blocks = hit.n_free;
      }
      states.push_back(s);
    }
    plan = schedule(states, blocks.n_free(), limits);

    apply_cancellations(plan);
    apply_preemptions(plan);
    for (const ScheduledSeq& s : plan.scheduled) {
      Request* r = s.admitted ? take_waiting(s.id) : find_running(s.id);
      if (r == nullptr) continue;  // cannot happen: the plan names only what it was given
      if (s.admitted) admit(*r);
      work.emplace_back(r, s.n_tokens);
    }
    // Blocks for this step's tokens. The plan's arithmetic says they are there; if they are
    // not (a bug), the request waits instead of bringing the engine down.
    for (auto& [r, n] : work) {
      n = std::min(n, r->n_known() - r->n_computed);
      if (n > 0 && reserve(*r, r->n_computed + n)) ready.emplace_back(r, n);
    }
    publish_gauges();  // before this step's tokens are delivered
  }
  const bool did_something =
      !ready.empty() || !plan.cancelled.empty() || !plan.preempted.empty();
  if (!ready.empty()) run_batch(ready);
  retire_finished();
  return did_something;
}

void Engine::Impl::apply_cancellations(const SchedulerPlan& plan) {
  for (uint64_t id : plan.cancelled) {
    Request* r = find_running(id);
    if (r == nullptr) r = take_waiting(id);  // moved to `running` just to be retired with it
    if (r == nullptr) continue;
    release(*r);
    r->finish("cancelled");
  }
}

void Engine::Impl::apply_preemptions(const SchedulerPlan& plan) {
  for (uint64_t id : plan.preempted) {
    auto it = std::find_if(running.begin(), running.end(),
                           [&](const auto& r) { return r->id() == id; });
    if (it == running.end()) continue;
    release(**it);  // recomputed from the start later (the prefix cache will mostly hit)
    ++stats.preemptions;
    (*it)->state = RequestState::Waiting;
    auto at = std::upper_bound(waiting.begin(), waiting.end(), id,
                               [](uint64_t v, const auto& w) { return v < w->id(); });
    waiting.insert(at, std::move(*it));
    running.erase(it);
  }
}

void Engine::Impl::admit(Request& r) {
  // The plan never runs more than max_running sequences, and each holds one slot.
  if (free_slots.empty()) fail("internal error: admitting a sequence beyond max_running");
  r.state = RequestState::Running;
  r.slot = free_slots.back();
  free_slots.pop_back();
  r.blocks = blocks.acquire_prefix(r.block_hashes(cfg.kv_block_size), r.tokens(),
                                   (r.n_known() - 1) / cfg.kv_block_size);
  r.n_computed = static_cast<int64_t>(r.blocks.size()) * cfg.kv_block_size;
  r.n_registered_blocks = static_cast<int64_t>(r.blocks.size());
  if (!r.admitted_before) {
    r.admitted_before = true;
    r.cached_prompt_tokens = r.n_computed;
    stats.prompt_tokens_total += r.n_prompt();
    stats.prompt_tokens_cached_total += r.cached_prompt_tokens;
  }
  cache.set_block_table(r.slot, r.blocks);
}

bool Engine::Impl::reserve(Request& r, int64_t n_tokens) {
  const int64_t need = cache.blocks_needed(n_tokens) - static_cast<int64_t>(r.blocks.size());
  if (need <= 0) return true;
  if (!blocks.allocate(need, r.blocks)) return false;
  cache.set_block_table(r.slot, r.blocks);
  return true;
}

void Engine::Impl::run_batch(const std::vector<std::pair<Request*, int64_t>>& work) {
  batch.clear();
  std::vector<Request*> sampled;  // in the order of their logits rows
  for (const auto& [r, n] : work) {
    const auto tokens = r->tokens();
    const int64_t end = r->n_computed + n;
    for (int64_t p = r->n_computed; p < end; ++p)
      batch.add(tokens[p], static_cast<int32_t>(p), r->slot, p + 1 == r->n_known());
    if (end == r->n_known()) sampled.push_back(r);
  }
  try {
    model.forward(batch, cache, logits.data(), pool);
  } catch (const std::exception& e) {
    for (const auto& [r, n] : work) r->fail(fmt::format("the forward pass failed: {}", e.what()),
                                            "internal_error");
    return;
  }
  ++step_stats.steps;
  for (const auto& [r, n] : work) {
    r->n_computed += n;
    register_full_blocks(*r);
  }
  const auto now = Clock::now();
  for (size_t i = 0; i < sampled.size(); ++i) {
    Request& r = *sampled[i];
    if (r.first_token_time) {
      step_stats.itl_samples_s.push_back(seconds(now - r.last_token_time));
    } else {
      r.first_token_time = now;
      step_stats.ttft_samples_s.push_back(seconds(now - r.arrival()));
    }
    r.last_token_time = now;
    try {
      const int64_t before = r.n_generated();
      r.on_logits(logits.data() + i * static_cast<size_t>(n_vocab), texts, scratch);
      step_stats.generated_tokens_total += r.n_generated() - before;
    } catch (const std::exception& e) {
      r.fail(fmt::format("generation failed: {}", e.what()), "internal_error");
    }
  }
}

void Engine::Impl::register_full_blocks(Request& r) {
  const int64_t bs = cfg.kv_block_size;
  const int64_t n_full = std::min<int64_t>(r.n_computed / bs, static_cast<int64_t>(r.blocks.size()));
  if (r.n_registered_blocks >= n_full) return;
  const auto hashes = r.block_hashes(bs);
  const auto tokens = r.tokens();
  for (int64_t b = r.n_registered_blocks; b < n_full; ++b) {
    const kv::BlockHash parent = b == 0 ? kv::kRootBlockHash : hashes[b - 1];
    blocks.register_full(r.blocks[b], parent, hashes[b], tokens.subspan(b * bs, bs));
  }
  r.n_registered_blocks = n_full;
}

void Engine::Impl::release(Request& r) {
  if (r.slot >= 0) {
    cache.drop_block_table(r.slot);
    free_slots.push_back(r.slot);
    r.slot = -1;
  }
  blocks.release(r.blocks);
  r.blocks.clear();
  r.n_computed = 0;
  r.n_registered_blocks = 0;
}

void Engine::Impl::retire_finished() {
  std::lock_guard lock(signal->mu);
  std::vector<std::unique_ptr<Request>> ended;
  for (auto it = running.begin(); it != running.end();) {
    if (!(*it)->finished()) {
      ++it;
      continue;
    }
    release(**it);
    ended.push_back(std::move(*it));
    it = running.erase(it);
  }
  publish_gauges();
  stats.steps += step_stats.steps;
  stats.generated_tokens_total += step_stats.generated_tokens_total;
  keep_samples(stats.ttft_samples_s, step_stats.ttft_samples_s);
  keep_samples(stats.itl_samples_s, step_stats.itl_samples_s);
  step_stats = EngineStats{};
  // The end events go out once the blocks are back (see Request::deliver_end).
  for (auto& r : ended) {
    const std::string& why = r->end_reason();
    ++(why == "cancelled" ? stats.requests_cancelled
       : why == "error"   ? stats.requests_failed
                          : stats.requests_finished);
    r->deliver_end();
  }
}

void Engine::Impl::publish_gauges() {
  stats.kv_blocks_total = blocks.n_total();
  stats.kv_blocks_used = blocks.n_used();
  stats.kv_blocks_cached = blocks.n_cached();
}

// ---- Engine ----

Engine::Engine(Model& model, const tok::Tokenizer& tokenizer, EngineConfig config)
    : config_(checked(config)), impl_(std::make_unique<Impl>(model, tokenizer, config_)) {}

Engine::~Engine() = default;

std::shared_ptr<RequestHandle> Engine::submit(RequestParams params) {
  return impl_->submit(std::move(params));
}

EngineStats Engine::stats() {
  std::lock_guard lock(impl_->signal->mu);
  EngineStats s = impl_->stats;
  s.queued = static_cast<int64_t>(impl_->waiting.size());
  s.running = static_cast<int64_t>(impl_->running.size());
  impl_->stats.ttft_samples_s.clear();
  impl_->stats.itl_samples_s.clear();
  return s;
}

void Engine::drain() {
  std::lock_guard lock(impl_->signal->mu);
  impl_->draining = true;
}

bool Engine::idle() {
  std::lock_guard lock(impl_->signal->mu);
  return impl_->waiting.empty() && impl_->running.empty();
}

}  // namespace hearth::engine
