// core/deliver/spawn.hpp: start tern itself again, for a delivery or a queue run.
//
// What Exim does after the 250 of a message that is not queue_only: it starts
// `exim -Mc <id>` (with -C and -D as it was itself started), detached, so the SMTP session
// goes on at once. tern execs itself (/proc/self/exe) the same way, in a session of its
// own, with standard input, output and error on /dev/null, no other descriptor inherited
// (a session's socket must close when the session ends, not when a delivery does) and
// default signal handling. Safe to call from a threaded process: only fork, setsid, dup2,
// close_range, sigprocmask, signal, execv and _exit run in the children.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/main/runtime.hpp"

namespace tern::deliver {

// Starts `tern args...` as a child of this process (the caller reaps it); its pid, or -1
// with errno set when fork failed.
pid_t spawn_tern(const std::vector<std::string>& args);

// Starts `tern -C <file> [-D...] -Mc <id>` detached (a grandchild: nothing to reap);
// false (errno set) when fork failed.
bool spawn_delivery(const cli::Runtime& rt, std::string_view id);
// The same with the options that name the configuration given as they are
// ({"-C", file, "-Dname=value", ...}; empty: the default configuration).
bool spawn_delivery(const std::vector<std::string>& config_args, std::string_view id);

}  // namespace tern::deliver
