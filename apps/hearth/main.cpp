// `hearth` — one program, one verb per job. Each verb lives in its own file (cmd_*.cpp)
// and registers itself here.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"hearth: host open-weight LLMs on your own hardware"};
  app.set_version_flag("--version", std::string("hearth ") + HEARTH_VERSION);
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const hearth::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
