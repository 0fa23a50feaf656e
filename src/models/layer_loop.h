// The Llama-family decoder layer, written once for every backend. A backend supplies the
// kernels (its own weight handle and norm types, activations in its own memory); the order of
// the ops lives only here, so the CPU and the GPU compute the same thing, and a model split
// between them runs the same loop over two ranges of layers.
//
//   per layer:  x += Wo · attention(rope(Wq·norm(x)), rope(Wk·norm(x)), Wv·norm(x))
//               x += Wdown · (silu(Wgate·norm(x)) * Wup·norm(x))
#pragma once
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <span>

namespace hearth {

// One layer's weights as a backend holds them: W is its matrix handle (a TensorView pointer on
// the CPU, a device matrix on the GPU), N its norm-weight handle.
template <class W, class N>
struct LayerWeightsOf {
  N attn_norm;
  W wq, wk, wv, wo;
  N ffn_norm;
  W w_gate, w_up, w_down;
};

// The activation buffers of one forward call, in the backend's memory: x is n x dim (the
// residual stream), h n x dim, q and att n x q_dim, k and v n x kv_dim, gate and up n x ffn_dim.
struct LayerActivations {
  float *x, *h, *q, *k, *v, *att, *gate, *up;
};

// One of several products of the same input (matmul_shared): y = x · wᵀ.
template <class W>
struct MatmulTo {
  const W* w;
  float* y;
};

// What the layer loop needs from a backend. Shapes (dim, heads, eps, RoPE) are the backend's
// own knowledge of the model; the KV cache and the batch's positions are bound to it for the
// call. `layer` is the model's layer index.
template <class B>
concept LayerBackend = requires(B& b, const typename B::Weight& w, const typename B::Norm& norm,
                                const float* cx, float* x, int64_t n, int64_t layer) {
  b.matmul(w, cx, n, x);             // x = cx · Wᵀ (n rows)
  b.matmul_shared(cx, n, {MatmulTo<typename B::Weight>{&w, x}, MatmulTo<typename B::Weight>{&w, x}});
                                     // each y = cx · wᵀ, one input for all (may run fused)
  b.rmsnorm(cx, norm, x, n);         // x = rmsnorm(cx) * norm, rows of dim
  b.rope_q(x, n);                    // rotate n rows of query heads at the batch's positions
  b.rope_k(x, n);                    // ... of key heads
  b.store_kv(layer, cx, cx, n);      // write keys and values into the layer's cache
  b.attention(layer, cx, n, x);      // x = attention of the queries over the cache
  b.silu_mul(cx, cx, x, n);          // x = silu(gate) * up, rows of ffn_dim
  b.add(x, cx, n);                   // x += cx, rows of dim
};

template <LayerBackend B>
void run_layers(B& b, std::span<const LayerWeightsOf<typename B::Weight, typename B::Norm>> layers,
                int64_t first_layer, const LayerActivations& s, int64_t n) {
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    const int64_t il = first_layer + static_cast<int64_t>(i);
    // attention block
    b.rmsnorm(s.x, l.attn_norm, s.h, n);
    using To = MatmulTo<typename B::Weight>;
    b.matmul_shared(s.h, n, {To{&l.wq, s.q}, To{&l.wk, s.k}, To{&l.wv, s.v}});
    b.rope_q(s.q, n);
    b.rope_k(s.k, n);
    b.store_kv(il, s.k, s.v, n);
    b.attention(il, s.q, n, s.att);
    b.matmul(l.wo, s.att, n, s.h);
    b.add(s.x, s.h, n);
    // feed-forward block
    b.rmsnorm(s.x, l.ffn_norm, s.h, n);
    b.matmul_shared(s.h, n, {To{&l.w_gate, s.gate}, To{&l.w_up, s.up}});
    b.silu_mul(s.gate, s.up, s.gate, n);
    b.matmul(l.w_down, s.gate, n, s.h);
    b.add(s.x, s.h, n);
  }
}

}  // namespace hearth
