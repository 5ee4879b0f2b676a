// core/spool/fs_util.hpp: the few POSIX file operations the spool needs, as Results.
//
// Every call retries EINTR and reports errno text with the path, so callers can log one
// line. fsync failures are never retried: after a failed fsync the page cache state is
// unknown, and the message must be refused (451) rather than acknowledged.
#pragma once

#include <string>
#include <string_view>

#include "core/base/result.hpp"

namespace tern::spool {

Error sys_error(std::string_view what, std::string_view path, int err);
Status write_all(int fd, std::string_view data, std::string_view path);
Result<std::string> read_file(const std::string& path);
Status fsync_dir(const std::string& dir);
Status make_dir(const std::string& dir, unsigned mode = 0750);
// Writes `data` to `tmp`, fsyncs it, renames it to `path` and fsyncs the directory.
Status write_durably(const std::string& dir, const std::string& tmp, const std::string& path,
                     std::string_view data);

// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  ~Fd();
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace tern::spool
