// Llama-family forward pass: composes ops, owns no kernels.
//
//   x = embed(tokens)
//   the layers (models/layer_loop.h): [0, gpu_layers) on the GPU runner, the rest on the CPU
//   logits = Wout · norm(x)        (rows of tokens that asked for logits only)
#include "models/llama.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "models/cpu_layers.h"
#include "models/layer_loop.h"
#include "ops/attention.h"
#include "ops/ops.h"
#include "ops/packed_weights.h"
#include "ops/quant.h"

namespace hearth {
namespace {

using LayerWeights = HostLayerWeights;

// Element counts of the activation buffers for a batch of n tokens, n_out of which want logits.
// Scratch::ensure allocates exactly these and llama_scratch_bytes() reports them, so the memory
// planner's compute-buffer figure is the engine's own.
struct ScratchSizes {
  int64_t x, h, q, k, v, att, gate, up, out_rows, views;
};

ScratchSizes scratch_sizes(const ModelConfig& c, int64_t n, int64_t n_out) {
  return {n * c.dim,     n * c.dim,      n * c.q_dim(),   n * c.kv_dim(), n * c.kv_dim(),
          n * c.q_dim(), n * c.ffn_dim, n * c.ffn_dim, n_out * c.dim,  n};
}

// Activations for one forward call; grown to the largest batch seen, never shrunk, so the
// steady state allocates nothing.
struct Scratch {
  std::vector<float> x, h, q, k, v, att, gate, up, out_rows;
  std::vector<ops::PagedKV> views;
  void ensure(const ModelConfig& c, int64_t n, int64_t n_out) {
    // A fresh buffer of exactly the size asked for (resize() may double the capacity); the
    // contents are rewritten by every forward call.
    auto grow = [](auto& b, int64_t size) {
      if (static_cast<int64_t>(b.size()) < size)
        b = std::remove_reference_t<decltype(b)>(static_cast<size_t>(size));
    };
    const ScratchSizes s = scratch_sizes(c, n, n_out);
    grow(x, s.x);
    grow(h, s.h);
    grow(q, s.q);
    grow(k, s.k);
    grow(v, s.v);
    grow(att, s.att);
    grow(gate, s.gate);
    grow(up, s.up);
    grow(out_rows, s.out_rows);
    grow(views, s.views);
  }
};

class Llama final : public Model {
 public:
  Llama(ModelConfig config, std::unique_ptr<WeightSource> weights)
      : Model(std::move(config), std::move(weights)) {
    const ModelConfig& c = config_;
    const WeightSource& w = *weights_;
    tok_embd_ = &w.get("token_embd.weight", {c.n_vocab, c.dim});
    output_norm_ = norm_weight("output_norm.weight");
    // A tied output matrix is also the embedding table that get_rows reads: it stays as is.
    output_ = c.tied_embeddings ? tok_embd_ : &matrix("output.weight", {c.n_vocab, c.dim});
    layers_.reserve(static_cast<size_t>(c.n_layers));
    for (int64_t i = 0; i < c.n_layers; ++i) {
      const std::string p = "blk." + std::to_string(i) + ".";
      LayerWeights l;
      l.attn_norm = norm_weight(p + "attn_norm.weight");
      l.wq = &matrix(p + "attn_q.weight", {c.q_dim(), c.dim});
      l.wk = &matrix(p + "attn_k.weight", {c.kv_dim(), c.dim});
      l.wv = &matrix(p + "attn_v.weight", {c.kv_dim(), c.dim});
      l.wo = &matrix(p + "attn_output.weight", {c.dim, c.q_dim()});
      l.ffn_norm = norm_weight(p + "ffn_norm.weight");
      l.w_gate = &matrix(p + "ffn_gate.weight", {c.ffn_dim, c.dim});
      l.w_up = &matrix(p + "ffn_up.weight", {c.ffn_dim, c.dim});
      l.w_down = &matrix(p + "ffn_down.weight", {c.dim, c.ffn_dim});
      layers_.push_back(l);
    }
    inv_freq_ = c.rope_inv_freq();
  }

  void forward(const Batch& batch, kv::KVCache& cache, float* logits, ThreadPool& pool) override {
    const ModelConfig& c = config_;
    const int64_t n = batch.size();
    if (n == 0) return;
    const int64_t n_out = batch.n_outputs();
    check_batch(batch, cache);
    const ThreadPool::Busy busy(pool);  // workers stay awake between the pass's parallel calls
    Scratch& s = scratch_;
    s.ensure(c, n, n_out);

    ops::get_rows(*tok_embd_, batch.tokens.data(), n, s.x.data());
    int64_t first_cpu_layer = 0;
    if (gpu_) {
      // The GPU's layers first; the residual stream comes back once (or the logits do).
      if (gpu_->forward(batch, cache, s.x.data(), logits)) return;
      first_cpu_layer = gpu_layers_;
    }
    CpuLayers cpu(c, batch, cache, inv_freq_.data(), s.views.data(), pool);
    const LayerActivations acts{s.x.data(), s.h.data(),   s.q.data(),    s.k.data(),
                                s.v.data(), s.att.data(), s.gate.data(), s.up.data()};
    run_layers(cpu, std::span<const LayerWeights>(layers_).subspan(static_cast<size_t>(first_cpu_layer)),
               first_cpu_layer, acts, n);
    if (n_out == 0) return;
    int64_t o = 0;
    for (int64_t t = 0; t < n; ++t)
      if (batch.want_logits[t])
        std::copy_n(s.x.data() + t * c.dim, c.dim, s.out_rows.data() + (o++) * c.dim);
    ops::rmsnorm(s.out_rows.data(), output_norm_, s.out_rows.data(), n_out, c.dim, c.rms_eps);
    ops::matmul(*output_, s.out_rows.data(), n_out, logits, pool);
  }

 void offload(const GpuOffload& o) override {
    if (o.gpu_layers < 0 || o.gpu_layers > config_.n_layers)
      fail("--gpu-layers {}: this model has {} layers", o.gpu_layers, config_.n_layers);
    if (o.output_on_gpu && o.gpu_layers != config_.n_layers)
      fail("internal error: the output head goes to the GPU only with every layer");
    gpu_.reset();
    gpu_layers_ = 0;
    if (o.gpu_layers == 0) return;
    // The GPU reads the file's plain rows, not the CPU's packed copies (ops/packed_weights.h).
    const ModelConfig& c = config_;
    const WeightSource& src = *weights_;
    std::vector<LayerWeights> plain(static_cast<size_t>(o.gpu_layers));
    for (int64_t i = 0; i < o.gpu_layers; ++i) {
      const std::string p = "blk." + std::to_string(i) + ".";
      LayerWeights& l = plain[static_cast<size_t>(i)];
      l = layers_[static_cast<size_t>(i)];  // the F32 norms
      l.wq = &src.get(p + "attn_q.weight", {c.q_dim(), c.dim});
      l.wk = &src.get(p + "attn_k.weight", {c.kv_dim(), c.dim});
      l.wv = &src.get(p + "attn_v.weight", {c.kv_dim(), c.dim});
      l.wo = &src.get(p + "attn_output.weight", {c.dim, c.q_dim()});
      l.w_gate = &src.get(p + "ffn_gate.weight", {c.ffn_dim, c.dim});
      l.w_up = &src.get(p + "ffn_up.weight", {c.ffn_dim, c.dim});
      l.w_down = &src.get(p + "ffn_down.weight", {c.dim, c.ffn_dim});
    }
    LlamaHostWeights w;
    w.config = &config_;
    w.layers = plain;
    w.output = c.tied_embeddings ? tok_embd_ : &src.get("output.weight", {c.n_vocab, c.dim});
    w.output_norm = output_norm_;
    w.inv_freq = inv_freq_.data();
    gpu_ = make_gpu_layer_runner(w, o);
    gpu_layers_ = o.gpu_layers;
  }

  std::string placement() const override { return gpu_ ? gpu_->describe() : "cpu"; }

 private:
  // A matmul weight, in the layout this CPU's kernels read fastest.
  const TensorView& matrix(const std::string& name, const std::vector<int64_t>& shape) {
    return packed_.prepare(weights_->get(name, shape), weights_->mapped_from_file());
  }

  // Norm weights are tiny; they are kept as F32 whatever the file stores.
  const float* norm_weight(const std::string& name) {
    const TensorView& t = weights_->get(name, {config_.dim});
    auto& buf = norm_buffers_.emplace_back(static_cast<size_t>(config_.dim));
    ops::dequantize_row(t.dtype, t.data, buf.data(), config_.dim);
    return buf.data();
  }

  void check_batch(const Batch& b, const kv::KVCache& cache) const {
    const int64_t n = b.size();
    if (static_cast<int64_t>(b.positions.size()) != n || static_cast<int64_t>(b.seq_ids.size()) != n ||
        static_cast<int64_t>(b.want_logits.size()) != n)
      fail("internal error: batch arrays have different lengths");
    for (int64_t t = 0; t < n; ++t) {
      if (b.tokens[t] < 0 || b.tokens[t] >= config_.n_vocab)
        fail("token id {} is outside the vocabulary (0..{})", b.tokens[t], config_.n_vocab - 1);
      if (b.positions[t] < 0 || b.positions[t] >= cache.capacity(b.seq_ids[t]))
        fail("internal error: position {} of sequence {} has no KV cache room", b.positions[t],
             b.seq_ids[t]);
    }
  }

  const TensorView* tok_embd_;
  const TensorView* output_;
  const float* output_norm_;
  std::vector<LayerWeights> layers_;
  std::vector<float> inv_freq_;
  std::deque<std::vector<float>> norm_buffers_;  // deque: pointers stay valid as it grows
  ops::PackedWeights packed_;  // declared after weights_ (in Model): views point into both
  Scratch scratch_;
  std::unique_ptr<GpuLayerRunner> gpu_;  // null: every layer on the CPU
  int64_t gpu_layers_ = 0;
};

}  // namespace

uint64_t llama_scratch_bytes(const ModelConfig& c, int64_t n_tokens, int64_t n_outputs) {
  const ScratchSizes s = scratch_sizes(c, n_tokens, n_outputs);
  const int64_t floats = s.x + s.h + s.q + s.k + s.v + s.att + s.gate + s.up + s.out_rows;
  return static_cast<uint64_t>(floats) * sizeof(float) +
         static_cast<uint64_t>(s.views) * sizeof(ops::PagedKV);
}

uint64_t llama_resident_bytes(const ModelConfig& c) {
  const int64_t norms = 2 * c.n_layers + 1;  // attn_norm and ffn_norm per layer, output_norm
  const int64_t rope = c.rope_dim / 2 + static_cast<int64_t>(c.rope_freq_factors.size());
  return static_cast<uint64_t>(norms * c.dim + rope) * sizeof(float) +
         static_cast<uint64_t>(c.n_layers) * sizeof(LayerWeights);
}

std::unique_ptr<Model> make_llama(ModelConfig config, std::unique_ptr<WeightSource> weights) {
  return std::make_unique<Llama>(std::move(config), std::move(weights));
}

}  // namespace hearth
