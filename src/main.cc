// sightline: one binary, with subcommands (src/cli/).
#include "cli/cli.h"

int main(int argc, char** argv) { return sightline::cli::Main(argc, argv); }
