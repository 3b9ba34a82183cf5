#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <cstdio>

namespace sightline::cli {

int Main(int argc, char** argv) {
  CLI::App app{"Sightline: the flight recorder for AI agents"};
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return 0;
}

}  // namespace sightline::cli
