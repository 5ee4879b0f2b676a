// core/server/server_log.cpp: TestingLog (see server_log.hpp).
#include "core/server/server_log.hpp"

#include <cstdio>

namespace tern::server {

void TestingLog::write(const log::Line& line, const log::RejectContext* context) {
  (void)context;
  // A selector gates the main log copy only; rejections and panics always show.
  if (!line.gate.empty() && !selectors_.any_of(line.gate) && (line.targets & ~log::kToMain) == 0) return;
  std::string text = "LOG: ";
  if (!line.message_id.empty()) {
    text += line.message_id;
    text += ' ';
  }
  text += line.text;
  text += '\n';
  std::fwrite(text.data(), 1, text.size(), stderr);
}

}  // namespace tern::server
