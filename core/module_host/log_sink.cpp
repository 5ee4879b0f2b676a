// core/module_host/log_sink.cpp: module log lines to the installed sink or stderr.
#include "core/module_host/log_sink.hpp"

#include <cstdio>
#include <mutex>
#include <utility>

namespace tern::module_host {
namespace {

std::mutex g_mu;
LogSink g_sink;  // empty: stderr

void to_stderr(std::string_view module, unsigned targets, std::string_view text) {
  std::string line = "tern: ";
  line.append(module);
  line += (targets & TERN_LOG_PANIC) ? ": panic: " : ": ";
  line.append(text);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

void log_line(std::string_view module, tern_log_level level, std::string_view text) {
  const unsigned targets = static_cast<unsigned>(level) & (TERN_LOG_MAIN | TERN_LOG_REJECT | TERN_LOG_PANIC);
  if (targets == 0) return;  // debug only: no debug selector yet
  LogSink sink;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    sink = g_sink;
  }
  if (sink) sink(module, targets, text);
  else to_stderr(module, targets, text);
}

ScopedLogSink::ScopedLogSink(LogSink sink) {
  std::lock_guard<std::mutex> lock(g_mu);
  previous_ = std::exchange(g_sink, std::move(sink));
}

ScopedLogSink::~ScopedLogSink() {
  std::lock_guard<std::mutex> lock(g_mu);
  g_sink = std::move(previous_);
}

}  // namespace tern::module_host
