// hearth chat: an interactive conversation in the terminal (libedit line editing and history),
// the answer streaming as it is generated. Ctrl-C stops the current answer, not the program.
#include <editline/readline.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

#include "chat_options.h"
#include "commands.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "engine/chat.h"
#include "engine/model_loader.h"
#include "template/chat_template.h"

namespace hearth::cli {
namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted.store(true); }

void install_sigint_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking read returns so the prompt can be redrawn
  sigaction(SIGINT, &sa, nullptr);
}

void print_help() {
  std::printf(
      "  /reset         forget the conversation (keeps the system prompt)\n"
      "  /system TEXT   set the system prompt (empty: remove it) and reset\n"
      "  /save FILE     write the conversation as JSON messages\n"
      "  /quit          leave (or Ctrl-D); Ctrl-C stops an answer\n");
}

void chat(const ChatOptions& o) {
  ChatModel cm = load_chat_model(o);
  ThreadPool pool(o.threads);
  Generator gen(*cm.loaded.model, cm.loaded.tokenizer.get(), pool, cm.context);
  ChatSession session(gen, *cm.loaded.tokenizer, *cm.chat_template, cm.generate);
  if (!o.system.empty()) session.set_system(o.system);
  install_sigint_handler();
  std::fprintf(stderr, "hearth chat — %s (%s). /help for commands.\n",
               cm.loaded.model->config().name.c_str(), cm.loaded.path.c_str());
  for (;;) {
    g_interrupted = false;
    char* raw = readline("> ");
    if (!raw) {
      if (g_interrupted.load()) {  // Ctrl-C at the prompt: a fresh prompt, not an exit
        std::printf("\n");
        continue;
      }
      std::printf("\n");
      break;
    }
    std::string line(raw);
    std::free(raw);
    if (line.empty()) continue;
    add_history(line.c_str());
    if (line == "/quit" || line == "/exit") break;
    if (line == "/help") {
      print_help();
      continue;
    }
    if (line == "/reset") {
      session.reset();
      std::printf("(conversation reset)\n");
      continue;
    }
    if (line.rfind("/system", 0) == 0) {
      session.set_system(line.size() > 8 ? line.substr(8) : "");
      session.reset();
      std::printf("(system prompt set; conversation reset)\n");
      continue;
    }
    if (line.rfind("/save ", 0) == 0) {
      try {
        session.save(line.substr(6));
        std::printf("(saved to %s)\n", line.substr(6).c_str());
      } catch (const Error& e) {
        std::printf("error: %s\n", e.what());
      }
      continue;
    }
    if (line[0] == '/') {
      std::printf("unknown command %s\n", line.c_str());
      print_help();
      continue;
    }
    g_interrupted = false;
    try {
      const ChatMessage m = session.send(line, [&](const std::string& text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
        if (o.token_delay_ms > 0)
          std::this_thread::sleep_for(std::chrono::milliseconds(o.token_delay_ms));
      }, &g_interrupted);
      std::printf(m.finish_reason == "cancelled" ? "\n(stopped)\n" : "\n");
    } catch (const Error& e) {
      std::printf("\nerror: %s\n", e.what());
    }
  }
}

}  // namespace

void add_chat_command(CLI::App& app) {
  auto o = std::make_shared<ChatOptions>();
  CLI::App* cmd = app.add_subcommand("chat", "Talk with a model in the terminal, through its chat template");
  add_chat_options(cmd, *o);
  cmd->add_option("--token-delay-ms", o->token_delay_ms, "Slow the stream down (demos, tests)")
      ->group("");
  cmd->callback([o] { chat(*o); });
}

}  // namespace hearth::cli
