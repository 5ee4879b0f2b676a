// core/spool/incoming.cpp: the temporary -D and -H files of a message being received.
#include "core/spool/incoming.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "core/spool/header_file.hpp"

namespace tern::spool {
namespace {
constexpr std::size_t kFlushAt = 64 * 1024;
constexpr int kSpoolMode = 0640;  // Exim's SPOOL_MODE

Result<Fd> open_new(const std::string& path) {
  int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
  int fd = ::open(path.c_str(), flags, kSpoolMode);
  if (fd < 0 && errno == EEXIST) {
    // Left by a crash of a process that had our pid: one go at removing it, as Exim does.
    ::unlink(path.c_str());
    fd = ::open(path.c_str(), flags, kSpoolMode);
  }
  if (fd < 0) return sys_error("open", path, errno);
  return Fd(fd);
}
}  // namespace

Result<IncomingMessage> IncomingMessage::create(const Spool& spool, std::string id) {
  if (!MessageId::looks_like(id)) return Error::failed("malformed message id \"" + id + "\"");
  auto dir = spool.input_dir_for_write(id);
  if (!dir) return dir.take_error();
  IncomingMessage m;
  m.id_ = std::move(id);
  m.dir_ = std::move(*dir);
  m.data_tmp_ = m.dir_ + "/dat." + m.id_;
  m.header_tmp_ = m.dir_ + "/hdr." + m.id_;
  auto fd = open_new(m.data_tmp_);
  if (!fd) return fd.take_error();
  m.data_fd_ = std::move(*fd);
  m.buf_ = m.id_ + "-D\n";
  return m;
}

IncomingMessage::~IncomingMessage() {
  if (!committed_ && !id_.empty()) abort();
}

void IncomingMessage::abort() {
  if (!data_tmp_.empty()) ::unlink(data_tmp_.c_str());
  if (!header_tmp_.empty()) ::unlink(header_tmp_.c_str());
  data_fd_ = Fd();
  header_fd_ = Fd();
  buf_.clear();
}

Status IncomingMessage::flush() {
  if (buf_.empty()) return {};
  Status s = write_all(data_fd_.get(), buf_, data_tmp_);
  buf_.clear();
  return s;
}

Status IncomingMessage::write_body(std::string_view bytes) {
  if (!data_fd_ || header_fd_) return Error::failed("write_body on a closed message " + id_);
  body_size_ += std::int64_t(bytes.size());
  if (buf_.size() + bytes.size() < kFlushAt) {
    buf_.append(bytes);
    return {};
  }
  if (auto s = flush(); !s) return s;
  if (bytes.size() >= kFlushAt) return write_all(data_fd_.get(), bytes, data_tmp_);
  buf_.append(bytes);
  return {};
}

Result<Fd> IncomingMessage::open_body_for_reading() {
  if (!data_fd_ || header_fd_) return Error::failed("open_body_for_reading on a closed message " + id_);
  if (auto s = flush(); !s) return s.take_error();
  int fd = ::open(data_tmp_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error("open", data_tmp_, errno);
  Fd owned(fd);
  if (::lseek(fd, static_cast<off_t>(data_start_offset(id_)), SEEK_SET) < 0)
    return sys_error("lseek", data_tmp_, errno);
  return owned;
}

Status IncomingMessage::finish(const Envelope& env) {
  if (env.id != id_) return Error::failed("envelope id " + env.id + " is not " + id_);
  if (!data_fd_ || header_fd_) return Error::failed("finish on a closed message " + id_);
  if (auto s = flush(); !s) return s;
  auto fd = open_new(header_tmp_);
  if (!fd) return fd.take_error();
  header_fd_ = std::move(*fd);
  return write_all(header_fd_.get(), format_header_file(env), header_tmp_);
}

}  // namespace tern::spool
