// core/server/file_log.hpp: ServerLog implementations: Exim's log files, and
// the "LOG: " lines -bh prints on stderr instead.
#pragma once

#include <mutex>
#include <string>

#include "core/server/server_log.hpp"

namespace tern::server {

// main/reject/panic files from log_file_path ("%s" names the file; empty:
// spool_directory/log/%slog, as Exim; "syslog" items are skipped here).
class FileLog final : public ServerLog {
 public:
  FileLog(std::string log_file_path, const std::string& spool_directory, bool mirror_to_stderr = false);
  void main(std::string_view text, std::string_view id = {}) override;
  void reject(std::string_view text, std::string_view id = {}) override;
  void panic(std::string_view text) override;

 private:
  void write(const char* which, std::string_view text, std::string_view id);
  std::string pattern_;  // with %s
  bool stderr_;
  std::mutex mu_;
};

// -bh: Exim shows what it would log as "LOG: <text>" on stderr.
class TestingLog final : public ServerLog {
 public:
  void main(std::string_view text, std::string_view id = {}) override;
  void reject(std::string_view text, std::string_view id = {}) override { main(text, id); }
  void panic(std::string_view text) override { main(text); }
};

}  // namespace tern::server
