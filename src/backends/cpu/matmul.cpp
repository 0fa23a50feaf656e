// The matmul driver: validates the weights, prepares the activations once per call, and
// splits the output rows statically over the thread pool. Each thread walks its rows in
// blocks and serves up to kTokenTile tokens per pass over a weight row, so for batch 1 every
// weight byte is streamed exactly once and for batches the weights are read
// n_tokens / kTokenTile times from cache rather than n_tokens times. (A cache-blocked GEMM
// for long prompts plugs in here later, as another tile function per table.)
#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>
#include <new>

#include "backends/cpu/dispatch.h"
#include "backends/cpu/packed.h"
#include "core/error.h"

namespace hearth::cpu {
namespace {

// Rows per block when several tokens share a pass: 16 rows of even an F32 4096-wide matrix
// (256 KiB) stay in L2 while every token group streams over them.
constexpr int64_t kRowBlock = 16;
// Below this many multiply-adds a call runs on the calling thread: waking the pool costs
// more than the work (tiny models, per-head projections).
constexpr int64_t kMinParallelWork = 1 << 16;

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// Grows once to the largest size asked for and is then reused, so steady-state calls do not
// allocate. One per calling thread (the pool's workers only write into the caller's).
class Scratch {
 public:
  uint8_t* get(size_t bytes) {
    if (bytes > size_) {
      data_.reset(static_cast<uint8_t*>(::operator new (bytes, std::align_val_t{kActAlign})));
      size_ = bytes;
    }
    return data_.get();
  }

 private:
  struct Free {
    void operator()(uint8_t* p) const { ::operator delete (p, std::align_val_t{kActAlign}); }
  };
  std::unique_ptr<uint8_t, Free> data_;
  size_t size_ = 0;
};

// Static chunks of [0, n) over the pool, as ThreadPool::parallel_for splits them, but built
// on run_on_all with a callback that captures one pointer: std::function keeps that inline,
// while parallel_for's own wrapper lambda is large enough to be heap-allocated on every call.
template <typename Fn>
void for_each_chunk(ThreadPool& pool, int64_t n, int64_t grain, const Fn& fn) {
  const int64_t units = (n + grain - 1) / grain;
  const int threads = static_cast<int>(std::min<int64_t>(pool.size(), units));
  if (threads <= 1) {
    fn(0, n);
    return;
  }
  struct Job {
    const Fn* fn;
    int64_t n, grain, units;
    int threads;
  } job{&fn, n, grain, units, threads};
  pool.run_on_all([j = &job](int t) {
    if (t >= j->threads) return;
    const int64_t u0 = j->units * t / j->threads, u1 = j->units * (t + 1) / j->threads;
    const int64_t begin = u0 * j->grain, end = std::min(j->n, u1 * j->grain);
    if (begin < end) (*j->fn)(begin, end);
  });
}

// Everything one call needs.
struct MatmulPlan {
  GemvTileFn tile = nullptr;
  const uint8_t* w = nullptr;
  int64_t row_bytes = 0, rows = 0, cols = 0;
  const float* x = nullptr;
  int64_t n_tokens = 0;
  float* y = nullptr;
  QuantizeActFn quantize = nullptr;  // null for float weights
  uint8_t* act_buf = nullptr;
  const uint8_t* act = nullptr;  // prepared activations: act_buf, or x itself
  int64_t act_stride = 0;

  void quantize_tokens(int64_t t0, int64_t t1) const {
    for (int64_t t = t0; t < t1; ++t) quantize(x + t * cols, cols, act_buf + t * act_stride);
  }

  void run_rows(int64_t r0, int64_t r1) const {
    // Batch 1: one tile over the whole chunk, a single streaming pass.
    const int64_t row_block = n_tokens == 1 ? r1 - r0 : kRowBlock;
    for (int64_t rb = r0; rb < r1; rb += row_block) {
      const int64_t nr = std::min(row_block, r1 - rb);
      for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenTile) {
        GemvTile t;
        t.w = w + rb * row_bytes;
        t.w_row_bytes = row_bytes;
        t.n_rows = nr;
        t.cols = cols;
        t.act = act + t0 * act_stride;
        t.act_stride = act_stride;
        t.n_tokens = static_cast<int>(std::min<int64_t>(kTokenTile, n_tokens - t0));
        t.y = y + t0 * rows + rb;
        t.y_stride = rows;
        tile(t);
      }
    }
  }
};

void validate(const TensorView& W, const float* x, int64_t n_tokens, const float* y) {
  if (n_tokens < 0) fail("matmul with {}: negative token count {}", W.name, n_tokens);
  const int64_t block = dtype_info(W.dtype).block_size;
  if (W.cols() % block != 0)
    fail("matmul weight {} {} has rows of {} elements, not a multiple of the {} block size {}",
         W.name, W.shape_string(), W.cols(), dtype_name(W.dtype), block);
  const uint64_t need = static_cast<uint64_t>(W.rows()) * static_cast<uint64_t>(W.row_bytes());
  if (W.nbytes < need)
    fail(
        "matmul weight {} {} {} needs {} bytes but has {}; the model file is truncated or "
        "its shape is wrong",
        W.name, W.shape_string(), dtype_name(W.dtype), need, W.nbytes);
  if (need > 0 && W.data == nullptr) fail("matmul weight {} has no data", W.name);
  if (W.layout == RowLayout::Interleaved16 && !packable(W.dtype, W.rows(), W.cols()))
    fail("internal error: matmul weight {} {} {} cannot be in the interleaved layout", W.name,
         W.shape_string(), dtype_name(W.dtype));
  if (dtype_info(W.dtype).quantized && reinterpret_cast<uintptr_t>(W.data) % 2 != 0)
    fail("matmul weight {}: {} blocks must be 2-byte aligned in memory", W.name,
         dtype_name(W.dtype));
  const bool work = n_tokens > 0 && W.rows() > 0;
  if (work && (y == nullptr || (W.cols() > 0 && x == nullptr)))
    fail("matmul with {}: null input or output buffer", W.name);
}

// The int32 sum of each 32-block's levels, which the interleaved kernels need.
void fill_block_sums(uint8_t* act_row, int64_t cols) {
  const ActLayout layout = act_layout(ActFormat::Q8_32, cols);
  const auto* q = reinterpret_cast<const int8_t*>(act_row);
  auto* sums = reinterpret_cast<int32_t*>(act_row + layout.sums_offset);
  for (int64_t b = 0; b < cols / 32; ++b) {
    int32_t s = 0;
    for (int i = 0; i < 32; ++i) s += q[32 * b + i];
    sums[b] = s;
  }
}

// A batch on the matrix units, against interleaved weights: row groups [g0, g1) of W, all
// tokens.
void tile_groups(const GemmKernel& gemm, const TensorView& W, const MatmulPlan& plan, int64_t g0,
                 int64_t g1) {
  const int64_t group_bytes = kPackRows * W.row_bytes();
  PackedGemm p;
  p.w = static_cast<const uint8_t*>(W.data) + g0 * group_bytes;
  p.n_groups = g1 - g0;
  p.cols = W.cols();
  p.act = plan.act;
  p.n_tokens = plan.n_tokens;
  p.y = plan.y + g0 * kPackRows;
  p.y_stride = plan.rows;
  gemm.fn(p);
}

// A matrix in the 16-row interleaved layout, row groups [g0, g1): the table's interleaved
// kernel over pairs of row groups and tiles of tokens (the pair's weights stay in L2 while the
// token tiles pass), or, for a table without one, rows unpacked group by group into the file
// layout for its tiles.
void interleaved_groups(const MatmulKernel& kernel, const TensorView& W, const MatmulPlan& plan,
                        int64_t g0, int64_t g1) {
  const int64_t cols = W.cols(), n_tokens = plan.n_tokens;
  const int64_t group_bytes = kPackRows * W.row_bytes();
  const auto* w = static_cast<const uint8_t*>(W.data);
  if (kernel.packed) {
    for (int64_t g = g0; g < g1; g += 2)
      for (int64_t t0 = 0; t0 < n_tokens; t0 += kPackedTokenTile) {
        PackedTile t;
        t.w = w + g * group_bytes;
        t.n_groups = std::min<int64_t>(2, g1 - g);
        t.cols = cols;
        t.act = plan.act + t0 * plan.act_stride;
        t.act_stride = plan.act_stride;
        t.n_tokens = static_cast<int>(std::min<int64_t>(kPackedTokenTile, n_tokens - t0));
        t.y = plan.y + t0 * plan.rows + g * kPackRows;
        t.y_stride = plan.rows;
        t.first_pass = t0 == 0;
        kernel.packed(t);
      }
    return;
  }
  thread_local std::vector<uint8_t> rows_buf;
  rows_buf.resize(static_cast<size_t>(kPackRows * plan.row_bytes));
  MatmulPlan rows_plan = plan;
  rows_plan.w = rows_buf.data();
  for (int64_t g = g0; g < g1; ++g) {
    unpack_rows16(W.dtype, w, cols, g * kPackRows, kPackRows, rows_buf.data());
    rows_plan.y = plan.y + g * kPackRows;  // y rows stay plan.rows apart
    rows_plan.run_rows(0, kPackRows);
  }
}

// The plan of one call before its activations are prepared.
MatmulPlan plan_for(const MatmulKernel& kernel, const TensorView& W, const float* x,
                    int64_t n_tokens, float* y) {
  MatmulPlan plan;
  plan.tile = kernel.tile;
  plan.w = static_cast<const uint8_t*>(W.data);
  plan.row_bytes = W.row_bytes();
  plan.rows = W.rows();
  plan.cols = W.cols();
  plan.x = x;
  plan.n_tokens = n_tokens;
  plan.y = y;
  return plan;
}

// Prepares plan's activations for W (the tile product's layout when `tiles`, else int8 rows
// for quantized weights, else x as it is), on the pool when the batch is large enough.
void prepare_activations(const KernelTable& table, const MatmulKernel& kernel, const TensorView& W,
                         const GemmKernel* tiles, MatmulPlan& plan, ThreadPool& pool) {
  thread_local Scratch scratch;
  const float* x = plan.x;
  const int64_t n_tokens = plan.n_tokens, cols = plan.cols;
  if (tiles) {
    // The tile product lays the activations out in its own tile order.
    plan.act_buf = scratch.get(static_cast<size_t>(tiles->act_bytes(n_tokens, cols)));
    plan.act = plan.act_buf;
    auto prepare = [&](int64_t t0, int64_t t1) { tiles->prepare(x, n_tokens, cols, t0, t1, plan.act_buf); };
    if (n_tokens * cols >= kMinParallelWork)
      for_each_chunk(pool, n_tokens, 4, prepare);  // a 16-token batch on every thread
    else
      prepare(0, n_tokens);
    return;
  }
  // Activations: as given for float weights, else quantized once for all rows.
  plan.act = reinterpret_cast<const uint8_t*>(x);
  plan.act_stride = cols * static_cast<int64_t>(sizeof(float));
  if (kernel.act == ActFormat::F32) return;
  plan.act_stride = act_layout(kernel.act, cols).row_bytes;
  plan.act_buf = scratch.get(matmul_scratch_bytes(table, W.dtype, cols, n_tokens));
  plan.act = plan.act_buf;
  plan.quantize = kernel.act == ActFormat::Q8_32 ? table.quantize_q8_32 : table.quantize_q8_256;
  const bool sums = W.layout == RowLayout::Interleaved16 && kernel.packed != nullptr &&
                    kernel.act == ActFormat::Q8_32;
  auto quantize = [&](int64_t t0, int64_t t1) {
    plan.quantize_tokens(t0, t1);
    if (sums)
      for (int64_t t = t0; t < t1; ++t) fill_block_sums(plan.act_buf + t * plan.act_stride, cols);
  };
  if (n_tokens > 1 && n_tokens * cols >= kMinParallelWork)
    for_each_chunk(pool, n_tokens, 1, quantize);
  else
    quantize(0, n_tokens);
}

// Row groups [g0, g1) of an interleaved W, on whichever path the plan's activations are for.
void run_groups(const MatmulKernel& kernel, const GemmKernel* tiles, const TensorView& W,
                const MatmulPlan& plan, int64_t g0, int64_t g1) {
  if (tiles)
    tile_groups(*tiles, W, plan, g0, g1);
  else
    interleaved_groups(kernel, W, plan, g0, g1);
}

// At most this many matrices share one pass (a layer has 3: Wq, Wk, Wv).
constexpr size_t kMaxShared = 8;

// The products of interleaved matrices of one type and width (outputs, 1 to kMaxShared) with
// the same x: the activations prepared once, then all their row groups, matrix after matrix,
// split over the pool in one pass.
void interleaved_products(const KernelTable& table, std::span<const MatmulOutput> outputs,
                          const float* x, int64_t n_tokens, ThreadPool& pool) {
  const TensorView& first = *outputs.front().w;
  const MatmulKernel& kernel = matmul_kernel(table, first.dtype);
  const GemmKernel* tiles = gemm_for(kernel, n_tokens);
  std::array<MatmulPlan, kMaxShared> plans;
  std::array<int64_t, kMaxShared + 1> first_group{};  // matrix i's groups: [first_group[i], first_group[i + 1])
  int64_t work = 0;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const TensorView& W = *outputs[i].w;
    plans[i] = plan_for(kernel, W, x, n_tokens, outputs[i].y);
    first_group[i + 1] = first_group[i] + W.rows() / kPackRows;
    work += W.rows() * W.cols() * n_tokens;
  }
  prepare_activations(table, kernel, first, tiles, plans[0], pool);
  for (size_t i = 1; i < outputs.size(); ++i) {
    plans[i].act = plans[0].act;
    plans[i].act_buf = plans[0].act_buf;
    plans[i].act_stride = plans[0].act_stride;
  }
  auto run = [&](int64_t g0, int64_t g1) {
    for (size_t i = 0; i < outputs.size(); ++i) {
      const int64_t lo = std::max(g0, first_group[i]), hi = std::min(g1, first_group[i + 1]);
      if (lo < hi) run_groups(kernel, tiles, *outputs[i].w, plans[i], lo - first_group[i], hi - first_group[i]);
    }
  };
  const int64_t groups = first_group[outputs.size()];
  if (work < kMinParallelWork || pool.size() == 1)
    run(0, groups);
  else
    for_each_chunk(pool, groups, 2, run);
}

}  // namespace

const GemmKernel* gemm_for(const MatmulKernel& kernel, int64_t n_tokens) {
  for (const GemmKernel* g : {&kernel.prompt, &kernel.batch})
    if (g->fn != nullptr && n_tokens >= g->min_tokens) return g;
  return nullptr;
}

ActLayout act_layout(ActFormat format, int64_t cols) {
  ActLayout l;
  switch (format) {
    case ActFormat::F32:
      l.row_bytes = cols * static_cast<int64_t>(sizeof(float));
      return l;
    case ActFormat::Q8_32:
      l.d_offset = cols;
      l.sums_offset = l.d_offset + cols / 32 * 4;
      l.row_bytes = round_up(l.sums_offset + cols / 32 * 4, kActAlign);
      return l;
    case ActFormat::Q8_256:
      l.d_offset = cols;
      l.sums_offset = l.d_offset + (cols + 255) / 256 * 4;
      l.row_bytes = round_up(l.sums_offset + cols / 16 * 2, kActAlign);
      return l;
  }
  return l;
}

uint64_t matmul_scratch_bytes(const KernelTable& table, DType weight_type, int64_t cols,
                              int64_t n_tokens) {
  const MatmulKernel& kernel = matmul_kernel(table, weight_type);
  if (cols <= 0 || n_tokens <= 0) return 0;
  // The larger of the two paths a matrix of this type may take (plain rows or packed).
  uint64_t bytes = 0;
  if (kernel.act != ActFormat::F32)
    bytes = static_cast<uint64_t>(act_layout(kernel.act, cols).row_bytes) *
            static_cast<uint64_t>(n_tokens);
  if (const GemmKernel* g = gemm_for(kernel, n_tokens))
    bytes = std::max<uint64_t>(bytes, static_cast<uint64_t>(g->act_bytes(n_tokens, cols)));
  return bytes;
}

void matmul(const KernelTable& table, const TensorView& W, const float* x, int64_t n_tokens,
            float* y, ThreadPool& pool) {
  validate(W, x, n_tokens, y);
  const MatmulKernel& kernel = matmul_kernel(table, W.dtype);
  const int64_t rows = W.rows(), cols = W.cols();
  if (n_tokens == 0 || rows == 0) return;
  if (cols == 0) {
    std::fill(y, y + n_tokens * rows, 0.0f);
    return;
  }
  if (W.layout == RowLayout::Interleaved16) {
    const MatmulOutput output{&W, y};
    return interleaved_products(table, std::span<const MatmulOutput>(&output, 1), x, n_tokens, pool);
  }
  const int64_t work = rows * cols * n_tokens;
  MatmulPlan plan = plan_for(kernel, W, x, n_tokens, y);
  prepare_activations(table, kernel, W, nullptr, plan, pool);
  if (work < kMinParallelWork || pool.size() == 1)
    plan.run_rows(0, rows);
  else
    for_each_chunk(pool, rows, n_tokens == 1 ? 8 : kRowBlock,
                   [&](int64_t r0, int64_t r1) { plan.run_rows(r0, r1); });
}

void matmul_shared_input(const KernelTable& table, std::span<const MatmulOutput> outputs, const float* x,
                         int64_t n_tokens, ThreadPool& pool) {
  // One activation preparation and one parallel section serve them all when the matrices
  // take the same path: one type and width, all interleaved (a model's Wq, Wk, Wv).
  bool shared = outputs.size() > 1 && outputs.size() <= kMaxShared && n_tokens > 0;
  for (const MatmulOutput& o : outputs) {
    validate(*o.w, x, n_tokens, o.y);
    const TensorView& first = *outputs.front().w;
    shared = shared && o.w->layout == RowLayout::Interleaved16 && o.w->dtype == first.dtype &&
             o.w->cols() == first.cols() && o.w->cols() > 0 && o.w->rows() > 0;
  }
  if (shared) return interleaved_products(table, outputs, x, n_tokens, pool);
  for (const MatmulOutput& o : outputs) matmul(table, *o.w, x, n_tokens, o.y, pool);
}

}  // namespace hearth::cpu
