// core/deliver/queue_policy.hpp: whether a message just received is delivered at once.
//
// Exim's queue_only_load: when the system's load average is above it, a message from any
// source is only queued, and Exim logs "no immediate delivery: load average 2.50"
// (log_selector delay_delivery, on by default). The daemon's sessions and the sendmail
// interface both ask here after the message is on the spool.
#pragma once

#include <optional>
#include <string>

#include "core/config/config.hpp"

namespace tern::deliver {

// The log line's text when immediate delivery must wait for a queue run ("no immediate
// delivery: load average 2.50"); nullopt when it may start.
std::optional<std::string> load_defers_delivery(const config::OptionSet& main);

}  // namespace tern::deliver
