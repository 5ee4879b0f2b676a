// core/server/server_log.hpp: where the SMTP side writes its log lines.
//
// The session says what happened in Exim's words ("<= a@b H=...",
// "rejected RCPT <x>: ..."); a ServerLog puts the line in the main, reject
// or panic log. The daemon's implementation writes Exim's log files
// (core/log); -bs and -bh have their own (Exim's -bh prints "LOG: ..." on
// stderr instead of writing files).
#pragma once

#include <string_view>

namespace tern::server {

class ServerLog {
 public:
  virtual ~ServerLog() = default;
  // `id` is the message id the line is about (empty: none).
  virtual void main(std::string_view text, std::string_view id = {}) = 0;
  // Rejections: the reject log and the main log.
  virtual void reject(std::string_view text, std::string_view id = {}) = 0;
  // Serious errors: the panic log and the main log.
  virtual void panic(std::string_view text) = 0;
};

}  // namespace tern::server
