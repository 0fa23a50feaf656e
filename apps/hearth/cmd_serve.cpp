// hearth serve: an OpenAI-compatible HTTP server (SSE and WebSocket streaming) over one model.
//
// The port opens first, so /health can say "loading" while the model loads on another
// thread. The main thread only waits for signals: SIGHUP reloads the --policy file (a policy
// that does not load is reported and the old one stays); SIGTERM/SIGINT make the server stop
// accepting, let running streams finish (up to --drain-timeout) and the process exit 0.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "core/error.h"
#include "engine/engine.h"
#include "engine/model_loader.h"
#include "models/model.h"
#include "fit/run_check.h"
#include "gpu_layers.h"
#include "guard/pipeline.h"
#include "guard/policy.h"
#include "server/prompt_builder.h"
#include "server/server.h"
#include "template/chat_template.h"

namespace hearth::cli {
namespace {

struct ServeOptions {
  std::string model, tokenizer, alias, api_key_file, chat_template;
  server::ServerConfig http;
  engine::EngineConfig engine;
  int64_t ctx = 0;         // 0: the model's, at most 4096
  int64_t kv_tokens = 0;   // 0: max(16384, ctx), shrunk to what fits in RAM
  std::string gpu_layers = "auto";
  bool gpu_layers_given = false;
  std::string kv_type = "auto";
  double drain_timeout_s = 30;
  std::string policy;  // --policy FILE: the content policy (docs/guard.md)
};

std::shared_ptr<const guard::Guard> load_guard(const std::string& path) {
  return std::make_shared<const guard::Guard>(guard::load_policy_file(path));
}

std::vector<std::string> read_api_keys(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("--api-key-file {}: cannot open it", path);
  std::vector<std::string> keys;
  std::string line;
  while (std::getline(in, line)) {
    const size_t b = line.find_first_not_of(" \t\r");
    const size_t e = line.find_last_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;  // blank or comment
    keys.push_back(line.substr(b, e - b + 1));
  }
  if (keys.empty()) fail("--api-key-file {}: no keys in it (one key per line)", path);
  return keys;
}

std::string model_id_of(const std::string& path) {
  std::filesystem::path p(path);
  while (!p.empty() && p.filename().empty()) p = p.parent_path();  // "folder/" -> "folder"
  return p.extension() == ".gguf" ? p.stem().string() : p.filename().string();
}

// Chat messages -> tokens through the model's chat template (or --template FILE). A model
// without one still serves completions; its chat requests get a 400 saying why.
std::unique_ptr<server::PromptBuilder> make_prompt_builder(const LoadedModel& lm,
                                                           const std::string& template_path) {
  try {
    return std::make_unique<server::TemplatePromptBuilder>(load_chat_template(lm, template_path),
                                                           *lm.tokenizer);
  } catch (const hearth::Error& e) {
    if (!template_path.empty()) throw;  // asked for a template that does not work: stop here
    std::fprintf(stderr, "hearth serve: chat is off, only /v1/completions works: %s\n", e.what());
    return std::make_unique<server::CompletionOnlyPromptBuilder>(*lm.tokenizer, e.what());
  }
}

// Everything that exists once the model is loaded; destroyed after the server has stopped.
struct Loaded {
  LoadedModel model;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<server::EngineBackend> backend;
  std::unique_ptr<server::PromptBuilder> builder;
};

std::unique_ptr<Loaded> load(const ServeOptions& o, const fit::ServeDecision& plan,
                             const GpuOffload& offload, server::Server& srv) {
  auto l = std::make_unique<Loaded>();
  l->model = load_model_and_tokenizer(o.model, o.tokenizer);
  l->model.model->offload(offload);
  l->model.model->set_kv_type(parse_kv_type(o.kv_type));
  if (!l->model.tokenizer)
    fail("no tokenizer for this model: {}. Pass --tokenizer FILE.gguf", l->model.tokenizer_note);
  const ModelConfig& c = l->model.model->config();
  engine::EngineConfig ec = o.engine;
  ec.n_ctx_per_sequence = plan.context_per_sequence;
  ec.kv_cache_tokens = plan.kv_tokens;
  l->engine = std::make_unique<engine::Engine>(*l->model.model, *l->model.tokenizer, ec);
  l->backend = std::make_unique<server::EngineBackend>(*l->engine);
  l->builder = make_prompt_builder(l->model, o.chat_template);

  server::ModelInfo info;
  info.id = o.alias.empty() ? model_id_of(l->model.path) : o.alias;
  info.path = o.model;
  info.n_vocab = static_cast<int32_t>(c.n_vocab);
  info.n_ctx = ec.n_ctx_per_sequence;
  info.created = static_cast<int64_t>(std::time(nullptr));
  srv.set_ready(*l->backend, *l->builder, info);
  std::fprintf(stderr,
               "hearth serve: model '%s' ready (%.2f s): context %lld per sequence, KV cache %lld "
               "tokens, up to %d running and %d queued\n",
               info.id.c_str(), l->model.load_seconds, static_cast<long long>(ec.n_ctx_per_sequence),
               static_cast<long long>(ec.kv_cache_tokens), ec.max_running, ec.max_queue);
  return l;
}

void serve(ServeOptions o) {
  if (!o.api_key_file.empty())
    for (auto& k : read_api_keys(o.api_key_file)) o.http.api_keys.push_back(k);
  o.http.drain_timeout = std::chrono::milliseconds(static_cast<int64_t>(o.drain_timeout_s * 1000));
  o.http.version = HEARTH_VERSION;
  check_gpu_layers(o.gpu_layers);
  const std::optional<kv::KVType> kv_type = parse_kv_type(o.kv_type);
  // Plan before opening the port or loading: a model and KV cache this machine cannot hold
  // are refused now, with the plan's numbers, not by the OOM killer under load.
  const fit::ServeDecision plan = fit::plan_local_serve(
      o.model, o.ctx, o.kv_tokens, o.engine.max_batch_tokens, fit::this_machine_cpu_only(),
      kv_type);
  if (o.kv_tokens == 0 && plan.kv_tokens < std::max(fit::kDefaultServeKvTokens, plan.context_per_sequence))
    std::fprintf(stderr, "note: KV cache of %lld token positions, the most that fits in RAM\n",
                 static_cast<long long>(plan.kv_tokens));
  const GpuOffload offload = plan_gpu_offload(o.gpu_layers, o.gpu_layers_given, o.model,
                                              plan.kv_tokens, o.engine.max_batch_tokens);

  // Signals are taken by sigwait() in this thread only: block them before any thread starts
  // (threads inherit the mask). A write to a closed socket must be an error, not SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // A policy that does not load stops the start: serving without the operator's rules
  // would be worse than not serving.
  std::shared_ptr<const guard::Guard> policy = o.policy.empty() ? nullptr : load_guard(o.policy);
  server::Server srv(o.http);
  srv.context().set_guard(policy);
  if (policy)
    std::fprintf(stderr, "hearth serve: content policy %s: %zu rules%s%s%s\n", o.policy.c_str(),
                 policy->policy().rules.size(), policy->policy().pii.enabled ? ", PII" : "",
                 policy->policy().injection.enabled ? ", injection heuristics" : "",
                 policy->policy().model.enabled ? ", guard model" : "");
  srv.start();
  std::printf("hearth serve: listening on http://%s:%u\n", o.http.host.c_str(), srv.port());
  std::fflush(stdout);

  std::unique_ptr<Loaded> loaded;
  std::exception_ptr load_error;
  std::thread loader([&] {
    try {
      loaded = load(o, plan, offload, srv);
    } catch (...) {
      load_error = std::current_exception();
      kill(getpid(), SIGTERM);  // wake the main thread
    }
  });

  int sig = 0;
  for (;;) {
    sigwait(&stop_signals, &sig);
    if (sig != SIGHUP) break;
    if (o.policy.empty()) {
      std::fprintf(stderr, "hearth serve: SIGHUP ignored: no --policy to reload\n");
      continue;
    }
    try {
      srv.context().set_guard(load_guard(o.policy));
      std::fprintf(stderr, "hearth serve: content policy %s reloaded\n", o.policy.c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "hearth serve: policy reload failed, the previous policy stays: %s\n", e.what());
    }
  }
  loader.join();  // a load in progress finishes first (it cannot be interrupted)
  if (!load_error)
    std::fprintf(stderr, "hearth serve: %s, draining (up to %.0f s)\n",
                 sig == SIGINT ? "interrupted" : "terminated", o.drain_timeout_s);
  srv.shutdown();
  loaded.reset();  // the engine stops after every connection is gone
  if (load_error) std::rethrow_exception(load_error);
  std::fprintf(stderr, "hearth serve: stopped\n");
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve a model over an OpenAI-compatible HTTP API (SSE, WebSocket)");
  cmd->add_option("-m,--model", o->model, "A .gguf file, a Hugging Face folder, or a model id in the HF cache")
      ->required();
  cmd->add_option("--tokenizer", o->tokenizer,
                  "Take the tokenizer from here (a .gguf, a tokenizer.json, or a folder with one)");
  cmd->add_option("--template", o->chat_template,
                  "Jinja chat template file (default: the model's own)");
  cmd->add_option("--alias", o->alias, "The model's name in the API (default: the file name)");
  cmd->add_option("--host", o->http.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o->http.port, "Port to listen on (0: any free one)")->capture_default_str();
  cmd->add_option("--api-key", o->http.api_keys, "Require this key as 'Authorization: Bearer KEY' (repeatable)");
  cmd->add_option("--api-key-file", o->api_key_file, "Read keys from this file, one per line");
  cmd->add_option("--cors-origin", o->http.cors_origin, "Allow browser requests from this origin (or *)");
  cmd->add_option("--max-running", o->engine.max_running, "Sequences in the running batch at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  // Requests pass through the queue on their way into the batch, so 0 would refuse them all.
  cmd->add_option("--max-queue", o->engine.max_queue, "Waiting requests beyond which new ones get 429")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("-c,--ctx-size", o->ctx, "Most tokens one sequence may use (default: model's, max 4096)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  cmd->add_option("--kv-tokens", o->kv_tokens, "Token positions in the shared KV cache (default: max(16384, ctx))")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  cmd->add_option("-b,--batch-tokens", o->engine.max_batch_tokens, "Tokens per forward step")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("-t,--threads", o->engine.threads, "Compute threads (default: physical cores)");
  cmd->add_option("--http-threads", o->http.http_threads, "Threads for connections (I/O only)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--max-body-bytes", o->http.max_body_bytes, "Largest request body; larger ones get 413")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  cmd->add_option("--drain-timeout", o->drain_timeout_s, "On SIGTERM, seconds running requests may finish")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  cmd->add_option("--policy", o->policy,
                  "Content policy (TOML, docs/guard.md): moderate prompts and answers; SIGHUP reloads it");
  cmd->add_flag("--log-content", o->http.log_content,
                "Guard decision logs may quote the matched user text (off: never logged)");
  cmd->add_option("--gpu-layers", o->gpu_layers,
                  "Layers on the GPU: auto (the fit planner's split) or a number")
      ->capture_default_str()
      ->each([o](const std::string&) { o->gpu_layers_given = true; });
  cmd->add_option("--kv-type", o->kv_type,
                  "KV cache element type: auto (F32 for a model all in F32, else F16), f32 or f16")
      ->capture_default_str();
  cmd->callback([o] { serve(*o); });
}

}  // namespace hearth::cli
