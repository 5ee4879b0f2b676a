// core/server/modes.hpp: the command-line modes of the SMTP side.
//
//   -bd / -bdf   the daemon's master (master.cpp): binds, starts workers
//   (internal)   --tern-smtp-worker FD: one SMTP worker (worker.cpp)
//   -bs          an SMTP session on stdin/stdout from a local caller
//   -bh ip       a fake session from `ip`: ACLs run, decisions shown, nothing kept
//
// Each returns the process's exit status; errors are one line on stderr.
#pragma once

#include "core/main/command_line.hpp"

namespace tern::server {

// A worker's exit status when it cannot start (configuration, modules, user):
// the master counts it as a start failure however long the attempt took.
inline constexpr int kWorkerCannotStart = 3;

int run_daemon(const cli::CommandLine& cl);
int run_worker(const cli::CommandLine& cl);
int run_smtp_stdin(const cli::CommandLine& cl);
int run_fake_session(const cli::CommandLine& cl);

}  // namespace tern::server
