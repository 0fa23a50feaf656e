// hearth run: load a model, feed it a prompt, stream the continuation to stdout.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "engine/chat.h"
#include "engine/generator.h"
#include "engine/model_loader.h"
#include "models/model.h"
#include "fit/fit_json.h"
#include "fit/run_check.h"
#include "gpu_layers.h"

namespace hearth::cli {
namespace {

struct RunOptions {
  std::string model, prompt, prompt_ids, tokenizer;
  bool chat = false;               // one turn through the model's chat template
  std::string system, template_file;
  int64_t n_predict = 256;
  int64_t ctx = 0;
  int64_t batch = 512;
  int threads = 0;
  bool json = false;
  std::string gpu_layers = "auto";
  bool gpu_layers_given = false;
  std::string kv_type = "auto";
  sampling::Params sampling;
};

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find(',', i);
    if (j == std::string::npos) j = text.size();
    const std::string item = text.substr(i, j - i);
    try {
      size_t used = 0;
      const long v = std::stol(item, &used);
      if (used != item.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument(item);
      ids.push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      fail("--prompt-ids: '{}' is not a token id (expected a comma-separated list like 1,2,3)",
           item);
    }
    i = j + 1;
  }
  return ids;
}

// One user turn through the chat template; the answer is a structured message.
void run_chat(const RunOptions& o, LoadedModel& lm, ThreadPool& pool, int64_t n_ctx) {
  if (!lm.tokenizer)
    fail("no tokenizer for this model: {}. Pass --tokenizer", lm.tokenizer_note);
  if (!o.prompt_ids.empty()) fail("--chat takes the message as text (-p), not --prompt-ids");
  const tmpl::ChatTemplate chat_template = load_chat_template(lm, o.template_file);
  Generator gen(*lm.model, lm.tokenizer.get(), pool, n_ctx);
  GenerateOptions go;
  go.n_predict = o.n_predict;
  go.n_batch = o.batch;
  go.sampling = o.sampling;
  ChatSession session(gen, *lm.tokenizer, chat_template, go);
  if (!o.system.empty()) session.set_system(o.system);
  const ChatMessage m = session.send(o.prompt, [&](const std::string& text) {
    if (!o.json) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    }
  });
  if (o.json) {
    nlohmann::ordered_json j{{"message", m.to_json()}, {"finish_reason", m.finish_reason}};
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n");
  }
}

void run(const RunOptions& o) {
  if (o.ctx < 0) fail("-c {}: give a positive context size (or leave it out)", o.ctx);
  check_gpu_layers(o.gpu_layers);
  const std::optional<kv::KVType> kv_type = parse_kv_type(o.kv_type);
  // Plan before loading: a model and context this machine cannot hold are refused here, with
  // the plan's numbers, not by the kernel's OOM killer halfway through.
  const fit::RunDecision plan =
      fit::plan_local_run(o.model, o.ctx, o.batch, fit::this_machine_cpu_only(), kv_type);
  const GpuOffload offload =
      plan_gpu_offload(o.gpu_layers, o.gpu_layers_given, o.model, plan.context, o.batch);
  LoadedModel lm = load_model_and_tokenizer(o.model, o.tokenizer);
  lm.model->offload(offload);
  lm.model->set_kv_type(kv_type);
  const ModelConfig& c = lm.model->config();
  const int64_t n_ctx = plan.context;
  if (o.ctx == 0 && n_ctx < std::min(c.max_context, fit::kDefaultRunContext))
    std::fprintf(stderr, "note: using a %lld-token context, the most that fits in RAM\n",
                 static_cast<long long>(n_ctx));
  if (n_ctx > c.max_context)
    std::fprintf(stderr, "warning: -c %lld exceeds the model's trained context %lld\n",
                 static_cast<long long>(n_ctx), static_cast<long long>(c.max_context));
  ThreadPool pool(o.threads);
  if (o.chat) return run_chat(o, lm, pool, n_ctx);
  std::vector<int32_t> prompt;
  if (!o.prompt_ids.empty()) {
    prompt = parse_ids(o.prompt_ids);
  } else {
    if (!lm.tokenizer)
      fail("no tokenizer for this model: {}. Pass --tokenizer FILE.gguf, or --prompt-ids",
           lm.tokenizer_note);
    prompt = lm.tokenizer->encode(o.prompt, /*add_special=*/true, /*parse_special=*/true);
  }
  for (int32_t id : prompt)
    if (id < 0 || id >= c.n_vocab)
      fail("prompt token id {} is outside the vocabulary (0..{})", id, c.n_vocab - 1);

  Generator gen(*lm.model, lm.tokenizer.get(), pool, n_ctx);
  GenerateOptions go;
  go.n_predict = o.n_predict;
  go.n_batch = o.batch;
  go.sampling = o.sampling;

  auto stream = [&](int32_t, const std::string& text) {
    if (!o.json) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  };
  const GenerateResult r = gen.generate(prompt, go, stream);
  const double n_gen = static_cast<double>(r.generated_ids.size());
  const double prompt_tok_s = r.prompt_seconds > 0 ? prompt.size() / r.prompt_seconds : 0;
  const double gen_tok_s = r.generate_seconds > 0 ? (n_gen - 1) / r.generate_seconds : 0;
  if (o.json) {
    nlohmann::json j;
    j["model"] = lm.path;
    j["prompt_ids"] = r.prompt_ids;
    j["generated_ids"] = r.generated_ids;
    j["text"] = r.text;
    j["stop_reason"] = stop_reason_name(r.stop);
    j["threads"] = pool.size();
    j["plan"] = fit::to_json(plan.plan);
    j["timings"] = {{"load_s", lm.load_seconds},
                    {"prompt_tokens", prompt.size()},
                    {"prompt_s", r.prompt_seconds},
                    {"prompt_tok_s", prompt_tok_s},
                    {"generated_tokens", r.generated_ids.size()},
                    {"gen_tok_s", gen_tok_s}};
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n");
  }
  std::fprintf(stderr,
               "\nload %.2f s | prompt %zu tokens, %.1f tok/s | generated %zu tokens, %.1f tok/s "
               "| %d threads | stop: %s\n",
               lm.load_seconds, prompt.size(), prompt_tok_s, r.generated_ids.size(), gen_tok_s,
               pool.size(), stop_reason_name(r.stop));
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Generate a continuation of a prompt, streamed to stdout");
  cmd->add_option("-m,--model", o->model,
                  "A .gguf file, a Hugging Face folder, or a model id in the HF cache")
      ->required();
  cmd->add_option("-p,--prompt", o->prompt, "Prompt text (BOS is added when the model says so)");
  cmd->add_option("--prompt-ids", o->prompt_ids, "Prompt as token ids: 1,2,3 (instead of -p)");
  cmd->add_option("--tokenizer", o->tokenizer,
                  "Tokenizer from elsewhere: a folder with tokenizer.json, a tokenizer.json, or a .gguf");
  cmd->add_flag("--chat", o->chat, "Send -p as one user message through the chat template");
  cmd->add_option("--system", o->system, "System prompt (with --chat)");
  cmd->add_option("--template", o->template_file, "Chat template file (overrides the model's)");
  cmd->add_option("-n,--n-predict", o->n_predict, "Tokens to generate (-1: until end)")
      ->capture_default_str();
  cmd->add_option("-c,--ctx-size", o->ctx, "Context size in tokens (default: model's, max 4096)");
  cmd->add_option("-b,--batch-size", o->batch, "Prompt tokens per forward pass")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("-t,--threads", o->threads, "CPU threads (default: physical cores)");
  cmd->add_option("--gpu-layers", o->gpu_layers,
                  "Layers on the GPU: auto (the planner's split) or a number; hearth has no GPU "
                  "backend yet, so all run on the CPU")
      ->capture_default_str()
      ->each([o](const std::string&) { o->gpu_layers_given = true; });
  cmd->add_option("--kv-type", o->kv_type,
                  "KV cache element type: auto (F32 for a model all in F32, else F16), f32 or f16")
      ->capture_default_str();
  cmd->add_option("--temp", o->sampling.temperature, "Temperature (0: greedy)")->capture_default_str();
  cmd->add_option("--top-k", o->sampling.top_k, "Top-k (0: off)")->capture_default_str();
  cmd->add_option("--top-p", o->sampling.top_p, "Top-p (1: off)")->capture_default_str();
  cmd->add_option("--min-p", o->sampling.min_p, "Min-p (0: off)")->capture_default_str();
  cmd->add_option("--repeat-penalty", o->sampling.repeat_penalty, "Repetition penalty (1: off)")
      ->capture_default_str();
  cmd->add_option("--repeat-last-n", o->sampling.repeat_last_n, "Tokens the penalties look back on")
      ->capture_default_str();
  cmd->add_option("--presence-penalty", o->sampling.presence_penalty)->capture_default_str();
  cmd->add_option("--frequency-penalty", o->sampling.frequency_penalty)->capture_default_str();
  cmd->add_option("--seed", o->sampling.seed, "Random seed (same seed, same output)");
  cmd->add_flag("--json", o->json, "Print one JSON object (ids, text, timings) instead of streaming");
  cmd->callback([o] { run(*o); });
}

}  // namespace hearth::cli
