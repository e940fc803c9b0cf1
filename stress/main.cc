// hvo-stress: the command-line entry point. Everything but argv handling
// lives in stress/cli.cc so the tests can drive it in-process too.
#include <iostream>
#include <string>
#include <vector>

#include "stress/cli.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const hvo::cli::ExitCode code = hvo::cli::run_cli(args, std::cout, std::cerr);
  std::cout.flush();
  return hvo::cli::to_int(code);
}
