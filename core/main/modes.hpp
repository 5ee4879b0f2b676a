// core/main/modes.hpp: run what the command line asked for.
#pragma once

#include <string>
#include <vector>

namespace tern::cli {

// Parse `argv` (without the program name), run the mode, return the exit
// status. Errors are one line on stderr, prefixed "tern: ", and status 1.
int run(const std::vector<std::string>& argv);

}  // namespace tern::cli
