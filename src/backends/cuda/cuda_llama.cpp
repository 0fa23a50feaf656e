// The GPU part of a Llama-family model: layers [0, gpu_layers) (and the head, when it fits)
// with their weights and KV cache in device memory, run by the shared layer loop
// (models/layer_loop.h) instantiated with CudaLayers.
//
// Decode steps (at most kGemvMaxTokens tokens: GEMV only, no cuBLAS) are captured once per
// shape as a CUDA graph and replayed: every per-call input (positions, KV rows, block tables,
// activations) is copied into device buffers whose addresses do not change, so a replay reads
// the new step's values. The attention grid depends on the longest sequence in 256-position
// chunks, so the shape key is (tokens, chunks, outputs): one new capture per 256 positions.
// A buffer that has to grow invalidates every captured graph. HEARTH_CUDA_GRAPHS=0 turns
// capture off (plain launches; same results).
#include <cuda_runtime.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <map>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "backends/cuda/cuda_api.h"
#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_layers.h"
#include "core/error.h"
#include "models/gpu_offload.h"

namespace hearth {
namespace {

using cuda::DeviceBuffer;
using cuda::DeviceMatrix;

class CudaLlamaRunner final : public GpuLayerRunner {
 public:
  CudaLlamaRunner(const LlamaHostWeights& w, const GpuOffload& o) : c_(*w.config), offload_(o) {
    std::string why;
    const auto devices = cuda::list_devices(&why);
    if (devices.empty())
      fail("--gpu-layers {}: no CUDA device ({}); use --gpu-layers 0", o.gpu_layers, why);
    if (o.device < 0 || o.device >= static_cast<int>(devices.size()))
      fail("CUDA device {} does not exist ({} found)", o.device, devices.size());
    device_name_ = devices[static_cast<size_t>(o.device)].name;
    cuda::check(cudaSetDevice(o.device), "cudaSetDevice");
    stream_ = std::make_unique<cuda::Stream>();
    for (const HostLayerWeights& l : w.layers) {
      LayerWeightsOf<DeviceMatrix, const float*> d;
      d.attn_norm = upload_norm(l.attn_norm);
      d.wq = upload(*l.wq);
      d.wk = upload(*l.wk);
      d.wv = upload(*l.wv);
      d.wo = upload(*l.wo);
      d.ffn_norm = upload_norm(l.ffn_norm);
      d.w_gate = upload(*l.w_gate);
      d.w_up = upload(*l.w_up);
      d.w_down = upload(*l.w_down);
      layers_.push_back(d);
    }
    if (o.output_on_gpu) {
      output_ = upload(*w.output);
      output_norm_ = upload_norm(w.output_norm);
    }
    inv_freq_ = upload_floats(w.inv_freq, c_.rope_dim / 2);
    stream_->synchronize();
    const char* g = std::getenv("HEARTH_CUDA_GRAPHS");
    use_graphs_ = !(g && std::string(g) == "0");
  }

  ~CudaLlamaRunner() override {
    for (auto& [key, exec] : graphs_) cudaGraphExecDestroy(exec);
  }

  std::string describe() const override {
    return fmt::format("cuda:{} {}: {} of {} layers{}, {:.2f} GiB of weights", offload_.device,
                       device_name_, layers_.size(), c_.n_layers,
                       offload_.output_on_gpu ? " + output" : "",
                       static_cast<double>(weight_bytes_) / (1024.0 * 1024 * 1024));
  }

  bool forward(const Batch& batch, const kv::KVCache& cache, float* x, float* logits) override {
    cuda::check(cudaSetDevice(offload_.device), "cudaSetDevice");
    const int64_t n = batch.size();
    const int64_t n_out = offload_.output_on_gpu ? batch.n_outputs() : 0;
    ensure_kv(cache);
    const int64_t n_chunks = prepare_step(batch, cache);
    bool grew = ensure_activations(n, n_out, n_chunks);
    const cuda::Stream& s = *stream_;
    s.upload(step_positions_.get(), batch.positions.data(), static_cast<size_t>(n) * 4);
    s.upload(step_rows_.get(), kv_rows_.data(), kv_rows_.size() * 8);
    s.upload(step_tables_.get(), tables_.data(), tables_.size() * 4);
    s.upload(step_starts_.get(), starts_.data(), starts_.size() * 4);
    s.upload(out_rows_idx_.get(), out_index_.data(), out_index_.size() * 4);
    s.upload(act_x_.get(), x, static_cast<size_t>(n * c_.dim) * 4);

    const bool graph = use_graphs_ && n <= cuda::kGemvMaxTokens &&
                       (!offload_.output_on_gpu || n_out <= cuda::kGemvMaxTokens);
    if (grew) clear_graphs();
    if (graph) {
      const auto key = std::make_tuple(n, n_chunks, n_out);
      auto it = graphs_.find(key);
      if (it == graphs_.end()) {
        cudaGraph_t g = nullptr;
        cuda::check(cudaStreamBeginCapture(cuda::raw(s.handle()), cudaStreamCaptureModeThreadLocal),
                    "cudaStreamBeginCapture");
        try {
          enqueue(n, n_out);
        } catch (...) {
          // Leave the stream usable: end the capture and drop what was recorded.
          cudaStreamEndCapture(cuda::raw(s.handle()), &g);
          if (g) cudaGraphDestroy(g);
          throw;
        }
        cuda::check(cudaStreamEndCapture(cuda::raw(s.handle()), &g), "cudaStreamEndCapture");
        cudaGraphExec_t exec = nullptr;
        cuda::check(cudaGraphInstantiate(&exec, g, 0), "cudaGraphInstantiate");
        cudaGraphDestroy(g);
        it = graphs_.emplace(key, exec).first;
      }
      cuda::check(cudaGraphLaunch(it->second, cuda::raw(s.handle())), "cudaGraphLaunch");
    } else {
      enqueue(n, n_out);
    }
    if (offload_.output_on_gpu) {
      if (n_out > 0)
        s.download(logits, act_logits_.get(), static_cast<size_t>(n_out * c_.n_vocab) * 4);
    } else {
      s.download(x, act_x_.get(), static_cast<size_t>(n * c_.dim) * 4);
    }
    s.synchronize();
    return offload_.output_on_gpu;
  }

 private:
  DeviceMatrix upload(const TensorView& t) {
    if (t.layout != RowLayout::Rows)
      fail("internal error: {} reached the GPU in the CPU's packed layout", t.name);
    DeviceBuffer& b = buffers_.emplace_back(static_cast<size_t>(t.nbytes));
    stream_->upload(b.get(), t.data, static_cast<size_t>(t.nbytes));
    weight_bytes_ += static_cast<uint64_t>(t.nbytes);
    return {t.dtype, t.rows(), t.cols(), b.get()};
  }
  const float* upload_floats(const float* host, int64_t n) {
    DeviceBuffer& b = buffers_.emplace_back(static_cast<size_t>(std::max<int64_t>(n, 1)) * 4);
    stream_->upload(b.get(), host, static_cast<size_t>(n) * 4);
    return b.as<float>();
  }
  const float* upload_norm(const float* host) { return upload_floats(host, c_.dim); }

  // The device pool of a host cache mirrors its block ids, for the GPU's layers only. One pool
  // per host cache the model is used with (a Generator and a test may each bring their own);
  // a cache that changed shape gets a new pool. A pool is never read before its positions are
  // written, so a new cache at an old cache's address can reuse that pool as it is.
  void ensure_kv(const kv::KVCache& cache) {
    const kv::KVCacheConfig& k = cache.config();
    DevicePool& p = pools_[&cache];
    if (k.n_blocks != p.config.n_blocks || k.block_size != p.config.block_size ||
        k.kv_dim != p.config.kv_dim) {
      p.config = k;
      const int64_t layer_floats = k.n_blocks * k.block_size * k.kv_dim;
      const size_t bytes =
          static_cast<size_t>(layer_floats * static_cast<int64_t>(layers_.size())) * 4;
      p.keys = DeviceBuffer(bytes);
      p.values = DeviceBuffer(bytes);
      cuda::check(cudaMemset(p.keys.get(), 0, bytes), "cudaMemset");
      cuda::check(cudaMemset(p.values.get(), 0, bytes), "cudaMemset");
      p.kv = {p.keys.as<float>(), p.values.as<float>(), layer_floats, k.block_size};
    }
    if (p.kv.keys != kv_.keys) clear_graphs();  // graphs hold the pool's address
    kv_ = p.kv;
  }

  // Host copies of the step's inputs; returns the attention chunk count.
  int64_t prepare_step(const Batch& batch, const kv::KVCache& cache) {
    const int64_t n = batch.size();
    kv_rows_.resize(static_cast<size_t>(n));
    starts_.resize(static_cast<size_t>(n));
    tables_.clear();
    out_index_.clear();
    std::unordered_map<int32_t, int32_t> start_of;
    int64_t max_positions = 1;
    for (int64_t t = 0; t < n; ++t) {
      const int32_t seq = batch.seq_ids[t];
      const ops::PagedKV v = cache.view(0, seq);
      auto [it, fresh] = start_of.emplace(seq, static_cast<int32_t>(tables_.size()));
      if (fresh) tables_.insert(tables_.end(), v.block_table, v.block_table + v.n_table_blocks);
      starts_[static_cast<size_t>(t)] = it->second;
      const int64_t pos = batch.positions[t];
      kv_rows_[static_cast<size_t>(t)] =
          static_cast<int64_t>(v.block_table[pos / v.block_size]) * v.block_size + pos % v.block_size;
      max_positions = std::max<int64_t>(max_positions, pos + 1);
      if (batch.want_logits[t]) out_index_.push_back(static_cast<int32_t>(t));
    }
    if (tables_.empty()) tables_.push_back(0);
    if (out_index_.empty()) out_index_.push_back(0);
    const int64_t chunks = (max_positions + cuda::kAttentionChunk - 1) / cuda::kAttentionChunk;
    step_.max_positions = chunks * cuda::kAttentionChunk;
    return chunks;
  }

  // Grows the device buffers for this call; true when any moved (captured graphs are stale).
  bool ensure_activations(int64_t n, int64_t n_out, int64_t n_chunks) {
    std::vector<void*> before;
    DeviceBuffer* all[] = {&act_x_, &act_h_, &act_q_, &act_k_, &act_v_, &act_att_, &act_gate_,
                           &act_up_, &act_out_, &act_logits_, &att_scratch_, &step_positions_,
                           &step_rows_, &step_tables_, &step_starts_, &out_rows_idx_};
    for (DeviceBuffer* b : all) before.push_back(b->get());
    const auto f = [](int64_t floats) { return static_cast<size_t>(std::max<int64_t>(floats, 1)) * 4; };
    act_x_.ensure(f(n * c_.dim));
    act_h_.ensure(f(n * c_.dim));
    act_q_.ensure(f(n * c_.q_dim()));
    act_k_.ensure(f(n * c_.kv_dim()));
    act_v_.ensure(f(n * c_.kv_dim()));
    act_att_.ensure(f(n * c_.q_dim()));
    act_gate_.ensure(f(n * c_.ffn_dim));
    act_up_.ensure(f(n * c_.ffn_dim));
    act_out_.ensure(f(n_out * c_.dim));
    act_logits_.ensure(f(n_out * c_.n_vocab));
    att_scratch_.ensure(cuda::attention_scratch_bytes(attention_shape(), n,
                                                      n_chunks * cuda::kAttentionChunk));
    step_positions_.ensure(f(n));
    step_rows_.ensure(static_cast<size_t>(n) * 8);
    step_tables_.ensure(tables_.size() * 4);
    step_starts_.ensure(f(n));
    out_rows_idx_.ensure(out_index_.size() * 4);
    step_.positions = step_positions_.as<int32_t>();
    step_.kv_rows = step_rows_.as<int64_t>();
    step_.block_table = step_tables_.as<int32_t>();
    step_.table_start = step_starts_.as<int32_t>();
    for (size_t i = 0; i < before.size(); ++i)
      if (before[i] != all[i]->get()) return true;
    return false;
  }

  cuda::AttentionShapeD attention_shape() const {
    return {c_.n_heads, c_.n_kv_heads, c_.head_dim,
            1.0f / std::sqrt(static_cast<float>(c_.head_dim)), c_.sliding_window};
  }

  // The work of one call on the stream (captured into a graph, or launched as it is).
  void enqueue(int64_t n, int64_t n_out) {
    const cuda::Stream& s = *stream_;
    cuda::CudaLayers b(c_, step_, kv_, inv_freq_, att_scratch_.get(), matmul_scratch_, s);
    const LayerActivations acts{act_x_.as<float>(),   act_h_.as<float>(),    act_q_.as<float>(),
                                act_k_.as<float>(),   act_v_.as<float>(),    act_att_.as<float>(),
                                act_gate_.as<float>(), act_up_.as<float>()};
    run_layers(b, std::span<const LayerWeightsOf<DeviceMatrix, const float*>>(layers_), 0, acts, n);
    if (!offload_.output_on_gpu || n_out == 0) return;
    // The rows that want logits, gathered in batch order, then the head.
    DeviceMatrix x_rows{DType::F32, n, c_.dim, act_x_.get()};
    cuda::get_rows(x_rows, out_rows_idx_.as<int32_t>(), n_out, act_out_.as<float>(), s);
    cuda::rmsnorm(act_out_.as<float>(), output_norm_, act_out_.as<float>(), n_out, c_.dim,
                  c_.rms_eps, s);
    cuda::matmul(output_, act_out_.as<float>(), n_out, act_logits_.as<float>(), matmul_scratch_, s);
  }

  void clear_graphs() {
    for (auto& [key, exec] : graphs_) cudaGraphExecDestroy(exec);
    graphs_.clear();
  }

  const ModelConfig& c_;
  GpuOffload offload_;
  std::string device_name_;
  std::unique_ptr<cuda::Stream> stream_;
  std::deque<DeviceBuffer> buffers_;  // weights and norms; deque: addresses stay put
  uint64_t weight_bytes_ = 0;
  std::vector<LayerWeightsOf<DeviceMatrix, const float*>> layers_;
  DeviceMatrix output_;
  const float* output_norm_ = nullptr;
  const float* inv_freq_ = nullptr;

  struct DevicePool {
    kv::KVCacheConfig config;
    DeviceBuffer keys, values;
    cuda::DeviceKV kv;
  };
  std::unordered_map<const kv::KVCache*, DevicePool> pools_;
  cuda::DeviceKV kv_;  // the pool of the current call

  DeviceBuffer act_x_, act_h_, act_q_, act_k_, act_v_, act_att_, act_gate_, act_up_, act_out_,
      act_logits_, att_scratch_;
  DeviceBuffer step_positions_, step_rows_, step_tables_, step_starts_, out_rows_idx_;
  cuda::MatmulScratch matmul_scratch_;
  cuda::DeviceStep step_;
  std::vector<int64_t> kv_rows_;
  std::vector<int32_t> tables_, starts_, out_index_;

  bool use_graphs_ = true;
  std::map<std::tuple<int64_t, int64_t, int64_t>, cudaGraphExec_t> graphs_;
};

}  // namespace

std::unique_ptr<GpuLayerRunner> make_gpu_layer_runner(const LlamaHostWeights& weights,
                                                      const GpuOffload& offload) {
  return std::make_unique<CudaLlamaRunner>(weights, offload);
}

}  // namespace hearth
