// hearth quantize / hearth synth: write GGUF files.
#include <cstdio>

#include "commands.h"
#include "convert/convert.h"
#include "core/error.h"
#include "progress.h"

namespace hearth::cli {
namespace {

DType parse_type(const std::string& name, std::initializer_list<DType> allowed) {
  const auto t = dtype_from_name(name);
  for (DType a : allowed)
    if (t && *t == a) return a;
  std::string list;
  for (DType a : allowed) list += std::string(list.empty() ? "" : ", ") + dtype_name(a);
  fail("--type {}: not a weight type hearth writes (choose one of {})", name, list);
}

constexpr std::initializer_list<DType> kWritable = {DType::Q8_0, DType::Q4_0, DType::Q4_K,
                                                    DType::Q6_K, DType::F16,  DType::BF16,
                                                    DType::F32};

}  // namespace

void add_quantize_command(CLI::App& app) {
  struct Opts {
    QuantizeOptions q;
    std::string type;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("quantize", "Convert a model (GGUF or HF folder) to a GGUF of another weight type");
  cmd->add_option("input", o->q.input, "A .gguf file, an HF folder or a model id")->required();
  cmd->add_option("output", o->q.output, "The .gguf file to write")->required();
  cmd->add_option("--type", o->type, "Q8_0, Q4_0, Q4_K, Q6_K, F16, BF16 or F32")->required();
  cmd->add_option("--tokenizer", o->q.tokenizer, "Embed the vocabulary of this GGUF (for HF input)");
  cmd->add_option("-t,--threads", o->q.threads, "CPU threads (default: physical cores)");
  cmd->callback([o] {
    o->q.type = parse_type(o->type, kWritable);
    ProgressLine line;
    const auto rep = quantize_model(o->q, [&](const char* phase, uint64_t d, uint64_t t) {
      line.update(phase, d, t);
    });
    std::fprintf(stderr, "wrote %s: %lld tensors, %.1f MB -> %.1f MB", o->q.output.c_str(),
                 static_cast<long long>(rep.n_tensors), rep.bytes_in / 1e6, rep.bytes_out / 1e6);
    if (rep.n_fallback)
      std::fprintf(stderr, " (%lld matrices kept as F16: their rows are not whole %s blocks)",
                   static_cast<long long>(rep.n_fallback), dtype_name(o->q.type));
    std::fprintf(stderr, "\n");
  });
}

void add_synth_command(CLI::App& app) {
  struct Opts {
    SynthOptions s;
    std::string type;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand(
      "synth", "Write a model with a real architecture's shapes and random weights (for benchmarks)");
  cmd->add_option("--shape", o->s.shape, synth_shape_names())->required();
  cmd->add_option("--type", o->type, "Q8_0, Q4_0, Q4_K, Q6_K, F16, BF16 or F32")->required();
  cmd->add_option("--vocab", o->s.vocab, "GGUF file to copy the vocabulary from")->required();
  cmd->add_option("-o,--output", o->s.output, "The .gguf file to write")->required();
  cmd->add_option("--seed", o->s.seed, "Random seed")->capture_default_str();
  cmd->add_option("-t,--threads", o->s.threads, "CPU threads (default: physical cores)");
  cmd->callback([o] {
    o->s.type = parse_type(o->type, kWritable);
    ProgressLine line;
    synth_model(o->s, [&](const char* phase, uint64_t d, uint64_t t) { line.update(phase, d, t); });
    std::fprintf(stderr, "wrote %s\n", o->s.output.c_str());
  });
}

}  // namespace hearth::cli
