// core/main/main.cpp: tern's entry point.
//
// Parses the command line and hands it to the mode that runs it; every
// failure that reaches here is one line on stderr and exit status 1.
#include <cstdio>
#include <string>
#include <vector>

#include "core/main/modes.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return tern::cli::run(args);
}
