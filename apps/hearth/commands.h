// Each verb of `hearth` adds itself to the CLI here; its work runs in the callback.
#pragma once
#include <CLI/CLI.hpp>

namespace hearth::cli {

void add_run_command(CLI::App& app);
void add_quantize_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_synth_command(CLI::App& app);
void add_chat_command(CLI::App& app);
void add_text_commands(CLI::App& app);
void add_fit_command(CLI::App& app);
void add_serve_command(CLI::App& app);

}  // namespace hearth::cli
