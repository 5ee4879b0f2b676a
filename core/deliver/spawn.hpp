// core/deliver/spawn.hpp: start a delivery process for a message just received.
//
// What Exim does after the 250 of a message that is not queue_only: it starts
// `exim -Mc <id>` (with -C and -D as it was itself started), detached, so the SMTP session
// goes on at once. tern execs itself (/proc/self/exe) the same way: the delivery runs in
// a fresh process (grandchild, so the caller has nothing to reap), with standard input,
// output and error on /dev/null and no other descriptor inherited (a session's socket must
// close when the session ends, not when a delivery does). Safe to call from a threaded
// process: only fork, dup2, close_range, execv and _exit run in the children.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/main/runtime.hpp"

namespace tern::deliver {

// Starts `tern -C <file> [-D...] -Mc <id>`; false (errno set) when fork failed.
bool spawn_delivery(const cli::Runtime& rt, std::string_view id);
// The same with the options that name the configuration given as they are
// ({"-C", file, "-Dname=value", ...}; empty: the default configuration).
bool spawn_delivery(const std::vector<std::string>& config_args, std::string_view id);

}  // namespace tern::deliver
