// core/spool/fs_util.cpp: EINTR-safe writes, whole-file reads, directory fsync.
#include "core/spool/fs_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tern::spool {

Error sys_error(std::string_view what, std::string_view path, int err) {
  return Error::failed(std::string(what) + " " + std::string(path) + ": " + std::strerror(err));
}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

Status write_all(int fd, std::string_view data, std::string_view path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write", path, errno);
    }
    data.remove_prefix(std::size_t(n));
  }
  return {};
}

Result<std::string> read_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error("open", path, errno);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read", path, errno);
    }
    if (n == 0) break;
    out.append(buf, std::size_t(n));
  }
  return out;
}

Status fsync_dir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_error("open directory", dir, errno);
  // Some file systems (NFS) refuse to sync directories; Exim ignores EINVAL too.
  if (::fsync(fd.get()) < 0 && errno != EINVAL) return sys_error("fsync directory", dir, errno);
  return {};
}

Status make_dir(const std::string& dir, unsigned mode) {
  if (::mkdir(dir.c_str(), mode) < 0 && errno != EEXIST) return sys_error("mkdir", dir, errno);
  return {};
}

Status write_durably(const std::string& dir, const std::string& tmp, const std::string& path,
                     std::string_view data) {
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (!fd) return sys_error("open", tmp, errno);
  auto fail = [&](Error e) {
    ::unlink(tmp.c_str());
    return Status(std::move(e));
  };
  if (auto s = write_all(fd.get(), data, tmp); !s) return fail(s.take_error());
  if (::fdatasync(fd.get()) < 0) return fail(sys_error("fsync", tmp, errno));
  if (::rename(tmp.c_str(), path.c_str()) < 0) return fail(sys_error("rename", tmp, errno));
  return fsync_dir(dir);
}

}  // namespace tern::spool
