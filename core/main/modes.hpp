// core/main/modes.hpp: run what the command line asked for.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/main/command_line.hpp"

namespace tern::cli {

// Modes served by code outside tern_cli (the SMTP side: -bd, -bs, -bh and
// the daemon's workers); each loads what it needs itself.
using ModeRunner = std::function<int(const CommandLine&)>;

// Parse `argv` (without the program name), run the mode, return the exit
// status. Errors are one line on stderr, prefixed "tern: ", and status 1.
int run(const std::vector<std::string>& argv, const std::map<Mode, ModeRunner>& more = {});

}  // namespace tern::cli
