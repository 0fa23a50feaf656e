// `hearth` — one program, one verb per job (cmd_*.cpp).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"hearth: host open-weight LLMs on your own hardware"};
  app.set_version_flag("--version", std::string("hearth ") + HEARTH_VERSION);
  app.require_subcommand(1);
  hearth::cli::add_run_command(app);
  hearth::cli::add_quantize_command(app);
  hearth::cli::add_bench_command(app);
  hearth::cli::add_synth_command(app);
  hearth::cli::add_chat_command(app);
  hearth::cli::add_text_commands(app);
  hearth::cli::add_fit_command(app);
  hearth::cli::add_serve_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
