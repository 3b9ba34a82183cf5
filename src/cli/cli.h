// The sightline command line: one binary, one subcommand per file in src/cli/.
#pragma once

namespace sightline::cli {

// Parses argv and runs the chosen subcommand. Exit status: 0 success, 1 failure,
// 2 usage error.
int Main(int argc, char** argv);

}  // namespace sightline::cli
