// core/module_host/log_sink.cpp: module log lines on stderr until core/log exists.
#include "core/module_host/log_sink.hpp"

#include <cstdio>

namespace tern::module_host {

void log_line(std::string_view module, tern_log_level level, std::string_view text) {
  if (level == TERN_LOG_DEBUG) return;  // no debug selector yet
  std::string line = "tern: ";
  line.append(module);
  line += level == TERN_LOG_PANIC ? ": panic: " : ": ";
  line.append(text);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace tern::module_host
