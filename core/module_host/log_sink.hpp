// core/module_host/log_sink.hpp: where modules' log lines go.
//
// The one place that writes what modules log (host->log) and what the host
// logs about them (a failing listener). Today: stderr, prefixed with the
// module's name; core/log replaces the body when it exists.
#pragma once

#include <string>
#include <string_view>

#include "tern/module.h"

namespace tern::module_host {

void log_line(std::string_view module, tern_log_level level, std::string_view text);

}  // namespace tern::module_host
