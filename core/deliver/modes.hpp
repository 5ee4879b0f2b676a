// core/deliver/modes.hpp: the command-line modes of delivery: -bt, -bv, -M/-Mc, -q..., -bp.
#pragma once

#include <memory>

#include "core/main/command_line.hpp"
#include "core/main/runtime.hpp"

namespace tern::deliver {

// The configuration for a command-line mode; null (the reason on stderr) when it fails.
std::unique_ptr<cli::Runtime> load_runtime(const cli::CommandLine& cl);

// -bt / -bv: route each address and print what Exim prints; exit 0, 1 (a deferral) or 2
// (a failure).
int run_address_test(const cli::CommandLine& cl);
// -M id... / -Mc id...: one delivery attempt for each message.
int run_message_action(const cli::CommandLine& cl);
// -q, -qf, -qff: one queue run, in order of ids, one message after the other.
int run_queue(const cli::CommandLine& cl);
// -bp / -bpc / -bpu: the queue in Exim's format.
int run_list_queue(const cli::CommandLine& cl);

}  // namespace tern::deliver
