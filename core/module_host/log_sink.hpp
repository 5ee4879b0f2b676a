// core/module_host/log_sink.hpp: where modules' log lines go.
//
// The one place that writes what modules log (host->log) and what the host
// logs about them (a failing listener). A process that keeps Exim's log
// files (the SMTP worker, -bs, a delivery) installs a LogSink for as long
// as they are open: the text then goes, as the module wrote it, to the
// logs its level names (TERN_LOG_MAIN, _REJECT and _PANIC are bits and may
// be combined, as Exim's LOG_MAIN|LOG_PANIC). Without
// one (-be, -bV, tests), lines go to stderr prefixed with the module's name.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "tern/module.h"

namespace tern::module_host {

// targets: TERN_LOG_* bits, never TERN_LOG_DEBUG alone.
using LogSink = std::function<void(std::string_view module, unsigned targets, std::string_view text)>;

void log_line(std::string_view module, tern_log_level level, std::string_view text);

// Installs `sink` until the returned guard is destroyed (the previous sink
// comes back). Not for concurrent installation: one owner per process.
class ScopedLogSink {
 public:
  explicit ScopedLogSink(LogSink sink);
  ~ScopedLogSink();
  ScopedLogSink(const ScopedLogSink&) = delete;
  ScopedLogSink& operator=(const ScopedLogSink&) = delete;

 private:
  LogSink previous_;
};

}  // namespace tern::module_host
