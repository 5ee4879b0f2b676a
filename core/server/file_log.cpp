// core/server/file_log.cpp: FileLog and TestingLog (see file_log.hpp).
#include "core/server/file_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>

#include "core/text/list.hpp"

namespace tern::server {

FileLog::FileLog(std::string log_file_path, const std::string& spool_directory, bool mirror_to_stderr)
    : stderr_(mirror_to_stderr) {
  for (const std::string& item : text::list_items(log_file_path)) {
    if (item == "syslog" || item.empty()) continue;
    pattern_ = item;
    break;
  }
  if (log_file_path.empty()) pattern_ = spool_directory + "/log/%slog";
}

void FileLog::write(const char* which, std::string_view text, std::string_view id) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S ", &tm);
  std::string line = stamp;
  if (!id.empty()) {
    line += id;
    line += ' ';
  }
  line += text;
  line += '\n';
  if (stderr_ && std::string_view(which) == "main") std::fwrite(line.data(), 1, line.size(), stderr);
  if (pattern_.empty()) return;
  std::string path = pattern_;
  if (auto p = path.find("%s"); p != std::string::npos) path.replace(p, 2, which);
  std::lock_guard lock(mu_);
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  }
  if (fd < 0) return;
  ssize_t n = ::write(fd, line.data(), line.size());
  (void)n;
  ::close(fd);
}

void FileLog::main(std::string_view text, std::string_view id) { write("main", text, id); }

void FileLog::reject(std::string_view text, std::string_view id) {
  write("main", text, id);
  write("reject", text, id);
}

void FileLog::panic(std::string_view text) {
  write("main", text, {});
  write("panic", text, {});
}

void TestingLog::main(std::string_view text, std::string_view id) {
  std::string line = "LOG: ";
  if (!id.empty()) {
    line += id;
    line += ' ';
  }
  line += text;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace tern::server
