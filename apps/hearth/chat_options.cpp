#include "chat_options.h"

#include "core/error.h"

namespace hearth::cli {

void add_chat_options(CLI::App* cmd, ChatOptions& o) {
  cmd->add_option("-m,--model", o.model, "A .gguf file, an HF folder, or a model id")->required();
  cmd->add_option("--tokenizer", o.tokenizer, "Tokenizer from elsewhere: folder, tokenizer.json or .gguf");
  cmd->add_option("--template", o.template_file, "Chat template file (overrides the model's)");
  cmd->add_option("--system", o.system, "System prompt");
  cmd->add_option("-n,--n-predict", o.n_predict, "Most tokens per answer (-1: until end of turn)")
      ->capture_default_str();
  cmd->add_option("-c,--ctx-size", o.ctx, "Context size in tokens (default: model's, max 4096)");
  cmd->add_option("-t,--threads", o.threads, "CPU threads (default: physical cores)");
  cmd->add_option("--temp", o.sampling.temperature, "Temperature (0: greedy)")->capture_default_str();
  cmd->add_option("--top-k", o.sampling.top_k)->capture_default_str();
  cmd->add_option("--top-p", o.sampling.top_p)->capture_default_str();
  cmd->add_option("--min-p", o.sampling.min_p)->capture_default_str();
  cmd->add_option("--repeat-penalty", o.sampling.repeat_penalty)->capture_default_str();
  cmd->add_option("--seed", o.sampling.seed, "Random seed (same seed, same answers)");
}

ChatModel load_chat_model(const ChatOptions& o) {
  ChatModel cm{load_model_and_tokenizer(o.model, o.tokenizer), {}, {}, 0};
  if (!cm.loaded.tokenizer)
    fail("no tokenizer for this model: {}. Pass --tokenizer", cm.loaded.tokenizer_note);
  cm.chat_template = load_chat_template(cm.loaded, o.template_file);
  const auto& c = cm.loaded.model->config();
  cm.context = o.ctx > 0 ? o.ctx : std::min<int64_t>(c.max_context, 4096);
  cm.generate.n_predict = o.n_predict;
  cm.generate.sampling = o.sampling;
  return cm;
}

}  // namespace hearth::cli
