// core/deliver/appendfile.cpp: the appendfile transport: Maildir and mbox.
//
// Maildir (maildir_format, `directory`): the message is written to
// <dir>/tmp/<time>.M<usec>P<pid>.<primary_hostname>, synced, and renamed into new/ with
// maildir_tag appended (a leading ":" is added before a tag starting with a letter or
// digit), as Exim's tf_maildir. create_directory makes <dir> and its cur/new/tmp with
// directory_mode. No prefix, suffix or "From " escaping unless configured.
//
// mbox (`file`): the file is locked Exim's way (a <file>.lock lock file, use_lockfile,
// then an fcntl lock, use_fcntl_lock; lock_retries times lock_interval), created with
// `mode` when missing (create_file = anywhere), appended to with message_prefix (the
// "From sender date" line), the message with check_string/escape_string (">From ") and
// message_suffix (a blank line), then synced. A failed write truncates the file back.
//
// quota: the mailbox size (file size, or the sum of the Maildir's files) plus this
// message over the quota defers the address with Exim's text and ErrorCode kErrQuota.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "core/deliver/message_writer.hpp"
#include "core/deliver/router_drivers.hpp"
#include "core/deliver/transport.hpp"

namespace tern::deliver {

namespace {

std::string errno_text(int e) { return std::strerror(e); }

Status write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::failed(errno_text(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

// Creates `path` and missing parents with `mode` (mkdir -p).
bool make_dirs(const std::string& path, mode_t mode) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return S_ISDIR(st.st_mode);
  auto slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0 && !make_dirs(path.substr(0, slash), mode)) return false;
  return ::mkdir(path.c_str(), mode) == 0 || errno == EEXIST;
}

// The bytes of the files under `dir` (Maildir quota: cur, new and folders).
std::int64_t directory_size(const std::string& dir) {
  std::int64_t total = 0;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string p = dir + "/" + name;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode))
      total += directory_size(p);
    else if (S_ISREG(st.st_mode))
      total += st.st_size;
  }
  ::closedir(d);
  return total;
}

class Appendfile final : public Transport {
 public:
  Appendfile(const config::DriverInstance& t, const TransportEnv& env) : t_(t), env_(env) {}

  void deliver(const TransportCall& call, std::vector<AddressResult>& results) override {
    AddressResult r = deliver_one(call);
    results.assign(call.addresses->size(), r);
  }

 private:
  // An option that Exim's init leaves unset for Maildir unless given explicitly.
  std::string mbox_default(std::string_view name, bool maildir) const {
    if (maildir && !t_.options.was_set(name)) return "";
    return t_.options.get_string(name);
  }

  Result<std::string> expanded(std::string_view name, expand::Context& ctx, bool maildir) const {
    std::string text = mbox_default(name, maildir);
    if (text.empty()) return text;
    auto r = expand::expand(text, ctx);
    if (!r) return Error::failed("Expansion of \"" + text + "\" (" + std::string(name) + " for " + t_.name +
                                 " transport) failed: " + r.error().message);
    return r;
  }

  static AddressResult defer(std::string message, int err = 0) {
    AddressResult r;
    r.outcome = Outcome::kDeferred;
    r.message = std::move(message);
    r.basic_errno = err;
    return r;
  }

  Result<std::int64_t> quota(expand::Context& ctx) const {
    if (t_.options.get_string("quota").empty()) return std::int64_t{0};
    auto q = expand::expand(t_.options.get_string("quota"), ctx);
    if (!q) return Error::failed("Expansion of \"" + t_.options.get_string("quota") + "\" (quota setting for " +
                                 t_.name + " transport) failed: " + q.error().message);
    char* end = nullptr;
    double v = std::strtod(q->c_str(), &end);
    std::string_view unit = end;
    if (unit == "K" || unit == "k") v *= 1024;
    else if (unit == "M" || unit == "m") v *= 1024 * 1024;
    else if (unit == "G" || unit == "g") v *= 1024.0 * 1024 * 1024;
    else if (!unit.empty()) return Error::failed("Malformed quota setting \"" + *q + "\" for " + t_.name + " transport");
    return static_cast<std::int64_t>(v);
  }

  WriteOptions write_options(bool maildir) const {
    WriteOptions o;
    o.crlf = t_.options.get_bool("use_crlf");
    o.check_string = mbox_default("check_string", maildir);
    o.escape_string = mbox_default("escape_string", maildir);
    return o;
  }

  AddressResult deliver_one(const TransportCall& call) {
    expand::Context& ctx = *call.expand;
    bool maildir = t_.options.get_bool("maildir_format");
    const RoutedAddress& first = call.addresses->front();
    std::string path;
    if (first.is_file) {
      path = first.address;
    } else {
      auto p = expanded(maildir || t_.options.get_string("file").empty() ? "directory" : "file", ctx, false);
      if (!p) return defer(p.error().message, kErrExpandFail);
      path = *p;
    }
    if (path.empty())
      return defer("Mandatory file or directory option missing from " + t_.name + " transport", kErrUnknown);
    if (path.front() != '/') return defer("\"" + path + "\" is not absolute (" + t_.name + " transport)");
    auto q = quota(ctx);
    if (!q) return defer(q.error().message, kErrExpandFail);
    auto prefix = expanded("message_prefix", ctx, maildir);
    if (!prefix) return defer(prefix.error().message, kErrExpandFail);
    auto suffix = expanded("message_suffix", ctx, maildir);
    if (!suffix) return defer(suffix.error().message, kErrExpandFail);
    std::int64_t size = static_cast<std::int64_t>(call.message->body.size());
    for (const auto& h : call.message->headers) size += static_cast<std::int64_t>(h.size());
    if (maildir) return deliver_maildir(call, path, *q, size, *prefix, *suffix);
    return deliver_mbox(call, path, *q, size, *prefix, *suffix);
  }

  Status write_message_to(int fd, const TransportCall& call, bool maildir, const std::string& prefix,
                          const std::string& suffix, std::int64_t* bytes) {
    std::int64_t n = 0;
    if (!prefix.empty()) {
      if (auto st = write_all(fd, prefix); !st) return st;
    }
    auto st = write_message(*call.message, write_options(maildir),
                            [&](std::string_view chunk) { return write_all(fd, chunk); }, &n);
    if (!st) return st;
    if (!suffix.empty()) {
      if (auto s2 = write_all(fd, suffix); !s2) return s2;
    }
    *bytes = n + static_cast<std::int64_t>(prefix.size() + suffix.size());
    if (::fsync(fd) != 0) return Error::failed(errno_text(errno));
    return {};
  }

  static std::string quota_message(const std::string& path) {
    return "mailbox is full (MTA-imposed quota exceeded while writing to " + path + ")";
  }

  AddressResult deliver_maildir(const TransportCall& call, const std::string& dir, std::int64_t quota_value,
                                std::int64_t size, const std::string& prefix, const std::string& suffix) {
    auto dmode = static_cast<mode_t>(t_.options.get_int("directory_mode"));
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) {
      if (!t_.options.get_bool("create_directory"))
        return defer("directory " + dir + " does not exist and create_directory is false", ENOENT);
    }
    for (const char* sub : {"", "/tmp", "/new", "/cur"}) {
      if (!make_dirs(dir + sub, dmode)) return defer("failed to create directory " + dir + sub + ": " + errno_text(errno), errno);
    }
    if (quota_value > 0 && directory_size(dir) + size > quota_value)
      return defer(quota_message(dir + "/new"), kErrQuota);
    struct timeval tv;
    ::gettimeofday(&tv, nullptr);
    std::string base = std::to_string(tv.tv_sec) + ".M" + std::to_string(tv.tv_usec) + "P" +
                       std::to_string(::getpid()) + "." + env_.primary_hostname;
    std::string tmp = dir + "/tmp/" + base;
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                    static_cast<mode_t>(t_.options.get_int("mode")));
    if (fd < 0) return defer("failed to create " + tmp + ": " + errno_text(errno), errno);
    ::fchmod(fd, static_cast<mode_t>(t_.options.get_int("mode")));
    std::int64_t bytes = 0;
    Status w = write_message_to(fd, call, true, prefix, suffix, &bytes);
    ::close(fd);
    if (!w) {
      ::unlink(tmp.c_str());
      return defer("error while writing to " + tmp + ": " + w.error().message, kErrWriteIncomplete);
    }
    std::string tag;
    if (!t_.options.get_string("maildir_tag").empty()) {
      auto t = expand::expand(t_.options.get_string("maildir_tag"), *call.expand);
      if (!t) {
        ::unlink(tmp.c_str());
        return defer("Expansion of \"" + t_.options.get_string("maildir_tag") + "\" (maildir_tag for " + t_.name +
                     " transport) failed: " + t.error().message, kErrExpandFail);
      }
      tag = *t;
      if (!tag.empty() && std::isalnum(static_cast<unsigned char>(tag.front()))) tag.insert(0, ":");
    }
    std::string final_path = dir + "/new/" + base + tag;
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
      int e = errno;
      ::unlink(tmp.c_str());
      return defer("failed to rename " + tmp + " as " + final_path + ": " + errno_text(e), e);
    }
    int dfd = ::open((dir + "/new").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    AddressResult r;
    r.outcome = Outcome::kDelivered;
    r.bytes_written = bytes;
    return r;
  }

  AddressResult deliver_mbox(const TransportCall& call, const std::string& file, std::int64_t quota_value,
                             std::int64_t size, const std::string& prefix, const std::string& suffix) {
    auto slash = file.rfind('/');
    std::string dir = file.substr(0, slash);
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0 && t_.options.get_bool("create_directory")) {
      if (!make_dirs(dir, static_cast<mode_t>(t_.options.get_int("directory_mode"))))
        return defer("failed to create directory " + dir + ": " + errno_text(errno), errno);
    }
    int retries = static_cast<int>(t_.options.get_int("lock_retries"));
    auto interval = std::chrono::seconds(t_.options.get_int("lock_interval"));
    std::string lockfile = file + ".lock";
    bool have_lockfile = false;
    if (t_.options.get_bool("use_lockfile")) {
      for (int i = 0;; ++i) {
        int lfd = ::open(lockfile.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                         static_cast<mode_t>(t_.options.get_int("lockfile_mode")));
        if (lfd >= 0) {
          ::close(lfd);
          have_lockfile = true;
          break;
        }
        if (errno != EEXIST) return defer("failed to create lock file " + lockfile + ": " + errno_text(errno), errno);
        // A lock file older than lockfile_timeout is stale (its owner died).
        if (::stat(lockfile.c_str(), &st) == 0 && time(nullptr) - st.st_mtime > t_.options.get_int("lockfile_timeout")) {
          ::unlink(lockfile.c_str());
          continue;
        }
        if (i >= retries) return defer("failed to lock mailbox " + file + " (lock file)", kErrLockFailed);
        std::this_thread::sleep_for(interval);
      }
    }
    auto unlock = [&] {
      if (have_lockfile) ::unlink(lockfile.c_str());
    };
    int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
    if (!t_.options.get_bool("file_must_exist")) flags |= O_CREAT;
    auto mode = static_cast<mode_t>(t_.options.get_int("mode"));
    int fd = ::open(file.c_str(), flags, mode);
    if (fd < 0) {
      int e = errno;
      unlock();
      return defer("failed to open " + file + ": " + errno_text(e), e);
    }
    if (t_.options.get_bool("use_fcntl_lock")) {
      struct flock fl {};
      fl.l_type = F_WRLCK;
      fl.l_whence = SEEK_SET;
      int i = 0;
      while (::fcntl(fd, F_SETLK, &fl) != 0) {
        if (++i > retries) {
          ::close(fd);
          unlock();
          return defer("failed to lock mailbox " + file + " (fcntl)", kErrLockFailed);
        }
        std::this_thread::sleep_for(interval);
      }
    }
    ::fstat(fd, &st);
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      unlock();
      return defer("mailbox " + file + " is not a regular file", EISDIR);
    }
    if (st.st_size == 0 && (st.st_mode & 07777) != mode) ::fchmod(fd, mode);
    if (quota_value > 0 && st.st_size + size > quota_value) {
      ::close(fd);
      unlock();
      return defer(quota_message(file), kErrQuota);
    }
    std::int64_t bytes = 0;
    Status w = write_message_to(fd, call, false, prefix, suffix, &bytes);
    if (!w) (void)!::ftruncate(fd, st.st_size);  // leave the mailbox as it was
    ::close(fd);
    unlock();
    if (!w) return defer("error while writing to " + file + ": " + w.error().message, kErrWriteIncomplete);
    AddressResult r;
    r.outcome = Outcome::kDelivered;
    r.bytes_written = bytes;
    return r;
  }

  const config::DriverInstance& t_;
  TransportEnv env_;
};

}  // namespace

void add_appendfile_transport(TransportRegistry& registry) {
  TransportDriver d;
  d.local = true;
  d.make = [](const config::DriverInstance& t, const TransportEnv& env) -> Result<std::unique_ptr<Transport>> {
    // Neither file nor directory is checked here: a file from a redirect ("/path") needs none.
    return std::unique_ptr<Transport>(new Appendfile(t, env));
  };
  registry.add("appendfile", std::move(d));
}

}  // namespace tern::deliver
