// `hearth` — one program, one verb per job (cmd_*.cpp).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include <fmt/format.h>

#include <string>

#include "backends/devices.h"
#include "commands.h"
#include "core/error.h"

namespace {

// `hearth --version`: the version, the backends compiled in, and the GPUs found now.
std::string version_text() {
  std::string s = std::string("hearth ") + HEARTH_VERSION + "\nbackends:";
  for (const std::string& b : hearth::compiled_backends()) s += " " + b;
  const hearth::GpuScan scan = hearth::scan_gpus();
  if (scan.devices.empty()) s += "\nGPU devices: none (" + scan.why_none + ")";
  for (const auto& d : scan.devices)
    s += fmt::format("\nGPU device cuda:{}: {} (compute {}, {:.1f} GiB, {:.1f} GiB free)", d.index,
                     d.name, d.compute_capability, static_cast<double>(d.total_bytes) / (1 << 30),
                     static_cast<double>(d.free_bytes) / (1 << 30));
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hearth: host open-weight LLMs on your own hardware"};
  app.set_version_flag("--version", version_text);
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
