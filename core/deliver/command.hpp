// core/deliver/command.hpp: the commands that local transports run (pipe, lmtp).
//
// command_arguments() is Exim's transport_set_up_command(): a command line split into
// arguments at white space, "double" quotes (with backslash escapes) and 'single'
// quotes keeping spaces; each argument expanded on its own when asked, and an unquoted
// argument that is just $pipe_addresses replaced by one argument per address of the
// batch. start_command() runs one in a process group of its own (so a timeout can kill
// everything it started), its standard input and output (with its errors) on pipes.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/deliver/transport.hpp"

namespace tern::deliver {

// The arguments of `cmd` for `transport` ("t_pipe"), expanded in `call` when `expand_it`.
// Errors are Exim's texts ("Expansion of \"$x\" from command \"...\" in t transport
// failed: ...").
Result<std::vector<std::string>> command_arguments(std::string_view cmd, bool expand_it, const TransportCall& call,
                                                   const std::string& transport);

// A started command: the group leader's pid, the write end of its standard input and
// the read end of its standard output and error, both non-blocking and close-on-exec.
struct StartedCommand {
  pid_t pid = -1;
  int to_child = -1;
  int from_child = -1;
};

// Starts argv[0] (an absolute path) with `env` (null: this process's environment), `mask`
// as its umask, in `cwd` (or "/" when that fails).
Result<StartedCommand> start_command(const std::vector<std::string>& argv, const std::vector<std::string>* env,
                                     mode_t mask, const std::string& cwd, const std::string& transport);

}  // namespace tern::deliver
