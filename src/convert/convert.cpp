#include "convert/convert.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "io/gguf.h"
#include "io/json_file.h"
#include "io/model_locator.h"
#include "io/safetensors.h"
#include "models/model_config.h"
#include "models/weight_source.h"
#include "ops/quant.h"

namespace hearth {

uint32_t gguf_file_type(DType t) {
  switch (t) {  // llama_ftype values
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q8_0: return 7;
    case DType::Q4_K: return 14;  // Q4_K_S: every matrix Q4_K
    case DType::Q6_K: return 18;
    case DType::BF16: return 32;
    default: fail("no GGUF file type for {}", dtype_name(t));
  }
}

DType quantized_tensor_type(const std::vector<int64_t>& shape, DType target) {
  if (shape.size() < 2) return DType::F32;
  if (shape.back() % dtype_info(target).block_size == 0) return target;
  return DType::F16;
}

namespace {

using io::GGUFValue;
using io::GGUFWriter;

void write_llama_metadata(GGUFWriter& w, const ModelConfig& c, DType type) {
  w.set("general.architecture", GGUFValue::of_string("llama"));
  w.set("general.name", GGUFValue::of_string(c.name.empty() ? "model" : c.name));
  w.set("general.file_type", GGUFValue::of_u32(gguf_file_type(type)));
  w.set("llama.vocab_size", GGUFValue::of_u32(static_cast<uint32_t>(c.n_vocab)));
  w.set("llama.context_length", GGUFValue::of_u32(static_cast<uint32_t>(c.max_context)));
  w.set("llama.embedding_length", GGUFValue::of_u32(static_cast<uint32_t>(c.dim)));
  w.set("llama.block_count", GGUFValue::of_u32(static_cast<uint32_t>(c.n_layers)));
  w.set("llama.feed_forward_length", GGUFValue::of_u32(static_cast<uint32_t>(c.ffn_dim)));
  w.set("llama.rope.dimension_count", GGUFValue::of_u32(static_cast<uint32_t>(c.rope_dim)));
  w.set("llama.attention.head_count", GGUFValue::of_u32(static_cast<uint32_t>(c.n_heads)));
  w.set("llama.attention.head_count_kv", GGUFValue::of_u32(static_cast<uint32_t>(c.n_kv_heads)));
  if (c.head_dim * c.n_heads != c.dim) {
    w.set("llama.attention.key_length", GGUFValue::of_u32(static_cast<uint32_t>(c.head_dim)));
    w.set("llama.attention.value_length", GGUFValue::of_u32(static_cast<uint32_t>(c.head_dim)));
  }
  w.set("llama.attention.layer_norm_rms_epsilon", GGUFValue::of_f32(c.rms_eps));
  w.set("llama.rope.freq_base", GGUFValue::of_f32(c.rope_theta));
  if (c.rope_scaling.kind == RopeScaling::Kind::Linear) {
    w.set("llama.rope.scaling.type", GGUFValue::of_string("linear"));
    w.set("llama.rope.scaling.factor", GGUFValue::of_f32(c.rope_scaling.factor));
  }
}

void copy_tokenizer_metadata(GGUFWriter& w, const io::GGUFFile& from) {
  for (const auto& [key, value] : from.metadata())
    if (key.starts_with("tokenizer.")) w.set(key, value);
}

DType storage_type(const TensorView& t, DType target, bool& fallback) {
  const DType type = quantized_tensor_type(t.shape, target);
  fallback = t.shape.size() >= 2 && type != target;
  return type;
}

// llama3 scaling as GGUF carries it: per-frequency divisors in rope_freqs.weight.
std::vector<float> rope_freq_factors(const ModelConfig& c) {
  ModelConfig plain = c;
  plain.rope_scaling = RopeScaling{};
  const auto base = plain.rope_inv_freq(), scaled = c.rope_inv_freq();
  std::vector<float> f(base.size());
  for (size_t i = 0; i < f.size(); ++i) f[i] = base[i] / scaled[i];
  return f;
}

// Converted tensor data, kept alive until the writer has written it.
struct Converted {
  std::string name;
  DType type;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
  const void* borrowed = nullptr;  // unchanged tensors are written straight from the mmap
  uint64_t size() const { return borrowed ? nbytes_borrowed : bytes.size(); }
  uint64_t nbytes_borrowed = 0;
};

// Row r of the output reads row source_row(r) of the input: the q/k un-permutation from HF's
// rotate-half order back to GGUF's interleaved pairs (inverse of transformers' conversion).
int64_t source_row(int64_t r, int64_t n_heads, int64_t rows) {
  if (n_heads <= 0) return r;
  const int64_t head_dim = rows / n_heads;
  const int64_t h = r / head_dim, within = r % head_dim;
  const int64_t i = within / 2, j = within % 2;
  return h * head_dim + j * (head_dim / 2) + i;
}

Converted convert(const TensorView& src, DType type, int64_t permute_heads, ThreadPool& pool) {
  Converted out{src.name, type, src.shape, {}, nullptr, 0};
  if (type == src.dtype && permute_heads == 0) {
    out.borrowed = src.data;
    out.nbytes_borrowed = src.nbytes;
    return out;
  }
  const int64_t rows = src.rows(), cols = src.cols();
  const int64_t out_row = dtype_row_bytes(type, cols);
  out.bytes.resize(static_cast<size_t>(rows * out_row));
  pool.parallel_for(rows, [&](int64_t begin, int64_t end, int) {
    std::vector<float> row(cols);
    for (int64_t r = begin; r < end; ++r) {
      ops::dequantize_row(src.dtype, src.row(source_row(r, permute_heads, rows)), row.data(), cols);
      ops::quantize_row(type, row.data(), out.bytes.data() + r * out_row, cols);
    }
  });
  return out;
}

void report_progress(const ProgressFn& progress, const char* phase, uint64_t done, uint64_t total) {
  if (progress) progress(phase, done, total);
}

}  // namespace

QuantizeReport quantize_model(const QuantizeOptions& o, const ProgressFn& progress) {
  if (!dtype_info(o.type).quantized && o.type != DType::F16 && o.type != DType::BF16 &&
      o.type != DType::F32)
    fail("cannot quantize to {}", dtype_name(o.type));
  namespace fs = std::filesystem;
  const io::ModelLocation loc = io::locate_model(o.input);
  ThreadPool pool(o.threads);
  GGUFWriter writer;
  std::unique_ptr<WeightSource> weights;
  ModelConfig config;
  bool from_hf = false;
  std::shared_ptr<const io::GGUFFile> gguf;
  if (loc.format == io::ModelFormat::GGUF) {
    gguf = std::make_shared<const io::GGUFFile>(io::GGUFFile::open(loc.path));
    config = config_from_gguf(*gguf);
    for (const auto& [key, value] : gguf->metadata())
      if (key != "general.alignment") writer.set(key, value);
    writer.set("general.file_type", GGUFValue::of_u32(gguf_file_type(o.type)));
    weights = gguf_weights(gguf);
  } else {
    from_hf = true;
    const std::string cfg_path = (fs::path(loc.path) / "config.json").string();
    config = config_from_hf(io::read_json_file(cfg_path), cfg_path);
    config.name = fs::path(loc.path).filename().string();
    write_llama_metadata(writer, config, o.type);
    weights = hf_weights(std::make_shared<const io::SafetensorsModel>(
                             io::SafetensorsModel::open_folder(loc.path)),
                         loc.path);
  }
  if (!o.tokenizer.empty()) copy_tokenizer_metadata(writer, io::GGUFFile::open(o.tokenizer));

  QuantizeReport rep;
  std::vector<Converted> tensors;
  const auto all = weights->all();
  uint64_t total = 0, done = 0;
  for (const auto& [name, t] : all) total += t->nbytes;
  for (const auto& [name, t] : all) {
    bool fallback = false;
    const DType type = storage_type(*t, o.type, fallback);
    rep.n_fallback += fallback;
    int64_t permute = 0;
    if (from_hf && name.ends_with("attn_q.weight")) permute = config.n_heads;
    if (from_hf && name.ends_with("attn_k.weight")) permute = config.n_kv_heads;
    Converted c = convert(*t, type, permute, pool);
    c.name = name;
    rep.bytes_in += t->nbytes;
    tensors.push_back(std::move(c));
    done += t->nbytes;
    report_progress(progress, "quantize", done, total);
  }
  if (from_hf && config.rope_scaling.kind == RopeScaling::Kind::Llama3) {
    const auto f = rope_freq_factors(config);
    Converted c{"rope_freqs.weight", DType::F32, {static_cast<int64_t>(f.size())}, {}, nullptr, 0};
    c.bytes.resize(f.size() * 4);
    std::memcpy(c.bytes.data(), f.data(), c.bytes.size());
    tensors.push_back(std::move(c));
  }
  for (const auto& c : tensors) {
    writer.add_tensor(c.name, c.type, c.shape, c.borrowed ? c.borrowed : c.bytes.data(), c.size());
    rep.bytes_out += c.size();
  }
  rep.n_tensors = static_cast<int64_t>(tensors.size());
  writer.write(o.output, [&](uint64_t d, uint64_t t) { report_progress(progress, "write", d, t); });
  return rep;
}

// ---- synth ----

namespace {

struct SynthShape {
  const char* name;
  ModelConfig config;
};

ModelConfig shape_config(const std::string& name) {
  ModelConfig c;
  c.arch = "llama";
  c.name = "synth-" + name;
  c.rms_eps = 1e-5f;
  c.rope_theta = 10000.0f;
  if (name == "tinyllama-1.1b") {
    c.dim = 2048, c.n_layers = 22, c.n_heads = 32, c.n_kv_heads = 4, c.ffn_dim = 5632;
    c.max_context = 2048, c.n_vocab = 32000;
  } else if (name == "llama-3.2-1b") {
    c.dim = 2048, c.n_layers = 16, c.n_heads = 32, c.n_kv_heads = 8, c.ffn_dim = 8192;
    c.max_context = 131072, c.n_vocab = 128256, c.rope_theta = 500000.0f;
    c.rope_scaling = {RopeScaling::Kind::Llama3, 32.0f, 1.0f, 4.0f, 8192};
    c.tied_embeddings = true;
  } else if (name == "mistral-7b") {
    c.dim = 4096, c.n_layers = 32, c.n_heads = 32, c.n_kv_heads = 8, c.ffn_dim = 14336;
    c.max_context = 32768, c.n_vocab = 32000;
  } else if (name == "stories260k") {
    c.dim = 64, c.n_layers = 5, c.n_heads = 8, c.n_kv_heads = 4, c.ffn_dim = 172;
    c.max_context = 512, c.n_vocab = 512;
    c.tied_embeddings = true;
  } else if (name == "tiny-256") {  // small enough for unit tests, rows tile into K-quant blocks
    c.dim = 256, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 2, c.ffn_dim = 512;
    c.max_context = 1024, c.n_vocab = 512;
  } else {
    fail("unknown --shape '{}' (known: {})", name, synth_shape_names());
  }
  c.head_dim = c.dim / c.n_heads;
  c.rope_dim = c.head_dim;
  return c;
}

// Random rows: normal with the given spread, each row seeded by
// (seed, tensor, row) so the result does not depend on the thread count.
Converted random_matrix(const std::string& name, int64_t rows, int64_t cols, DType target,
                        uint64_t seed, float stddev, ThreadPool& pool) {
  bool fallback = false;
  TensorView probe;
  probe.shape = {rows, cols};
  const DType type = storage_type(probe, target, fallback);
  Converted out{name, type, {rows, cols}, {}, nullptr, 0};
  const int64_t row_bytes = dtype_row_bytes(type, cols);
  out.bytes.resize(static_cast<size_t>(rows * row_bytes));
  const uint64_t tensor_seed = std::hash<std::string>{}(name) ^ seed;
  pool.parallel_for(rows, [&](int64_t begin, int64_t end, int) {
    std::vector<float> row(cols);
    for (int64_t r = begin; r < end; ++r) {
      std::mt19937_64 rng(tensor_seed * 0x9E3779B97F4A7C15ull + r);
      std::normal_distribution<float> normal(0.0f, stddev);
      for (auto& x : row) x = normal(rng);
      ops::quantize_row(type, row.data(), out.bytes.data() + r * row_bytes, cols);
    }
  });
  return out;
}

Converted ones(const std::string& name, int64_t n) {
  Converted out{name, DType::F32, {n}, {}, nullptr, 0};
  out.bytes.resize(static_cast<size_t>(n) * 4);
  const float one = 1.0f;
  for (int64_t i = 0; i < n; ++i) std::memcpy(out.bytes.data() + i * 4, &one, 4);
  return out;
}

}  // namespace

const char* synth_shape_names() { return "tinyllama-1.1b, llama-3.2-1b, mistral-7b, stories260k, tiny-256"; }

void synth_model(const SynthOptions& o, const ProgressFn& progress) {
  ModelConfig c = shape_config(o.shape);
  const io::GGUFFile vocab = io::GGUFFile::open(o.vocab);
  const auto tokens = vocab.get_string_array("tokenizer.ggml.tokens");
  c.n_vocab = static_cast<int64_t>(tokens.size());
  ThreadPool pool(o.threads);
  GGUFWriter writer;
  write_llama_metadata(writer, c, o.type);
  copy_tokenizer_metadata(writer, vocab);

  std::vector<Converted> tensors;
  const int64_t total = 3 + 9 * c.n_layers;
  auto step = [&] { report_progress(progress, "generate", tensors.size(), total); };
  tensors.push_back(random_matrix("token_embd.weight", c.n_vocab, c.dim, o.type, o.seed, o.weight_std, pool));
  step();
  tensors.push_back(ones("output_norm.weight", c.dim));
  if (!c.tied_embeddings)
    tensors.push_back(random_matrix("output.weight", c.n_vocab, c.dim, o.type, o.seed, o.weight_std, pool));
  step();
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    tensors.push_back(ones(p + "attn_norm.weight", c.dim));
    tensors.push_back(random_matrix(p + "attn_q.weight", c.q_dim(), c.dim, o.type, o.seed, o.weight_std, pool));
    tensors.push_back(random_matrix(p + "attn_k.weight", c.kv_dim(), c.dim, o.type, o.seed, o.weight_std, pool));
    tensors.push_back(random_matrix(p + "attn_v.weight", c.kv_dim(), c.dim, o.type, o.seed, o.weight_std, pool));
    tensors.push_back(random_matrix(p + "attn_output.weight", c.dim, c.q_dim(), o.type, o.seed, o.weight_std, pool));
    tensors.push_back(ones(p + "ffn_norm.weight", c.dim));
    tensors.push_back(random_matrix(p + "ffn_gate.weight", c.ffn_dim, c.dim, o.type, o.seed, o.weight_std, pool));
    tensors.push_back(random_matrix(p + "ffn_up.weight", c.ffn_dim, c.dim, o.type, o.seed, o.weight_std, pool));
    tensors.push_back(random_matrix(p + "ffn_down.weight", c.dim, c.ffn_dim, o.type, o.seed, o.weight_std, pool));
    step();
  }
  if (c.rope_scaling.kind == RopeScaling::Kind::Llama3) {
    const auto f = rope_freq_factors(c);
    Converted r{"rope_freqs.weight", DType::F32, {static_cast<int64_t>(f.size())}, {}, nullptr, 0};
    r.bytes.resize(f.size() * 4);
    std::memcpy(r.bytes.data(), f.data(), r.bytes.size());
    tensors.push_back(std::move(r));
  }
  for (const auto& t : tensors) writer.add_tensor(t.name, t.type, t.shape, t.bytes.data(), t.bytes.size());
  writer.write(o.output, [&](uint64_t d, uint64_t t) { report_progress(progress, "write", d, t); });
}

}  // namespace hearth
