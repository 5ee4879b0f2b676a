// core/spool/spool.cpp: paths, listing and reading the spool; removal and locking.
#include "core/spool/spool.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/spool/header_file.hpp"

namespace tern::spool {
namespace {

bool exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

// Ids named by "<id>-H" entries of one directory.
void scan_headers(const std::string& dir, std::vector<std::string>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n.size() > 2 && n.substr(n.size() - 2) == "-H" && MessageId::looks_like(n.substr(0, n.size() - 2)))
      out.emplace_back(n.substr(0, n.size() - 2));
  }
  ::closedir(d);
}

}  // namespace

Spool::Spool(SpoolConfig config) : config_(std::move(config)) {}

Status Spool::create_dirs() const {
  for (const std::string& d : {config_.directory, input_root(), config_.directory + "/msglog"})
    if (auto s = make_dir(d); !s) return s;
  return {};
}

Result<std::string> Spool::input_dir_for_write(std::string_view id) const {
  if (!config_.split) return input_root();
  std::string d = input_root() + "/" + std::string(1, id[kIdTimeLen - 1]);
  if (auto s = make_dir(d); !s) return s.take_error();
  return d;
}

std::string Spool::input_dir(std::string_view id) const {
  std::string split = input_root() + "/" + std::string(1, id.size() >= kIdTimeLen ? id[kIdTimeLen - 1] : '_');
  std::string flat = input_root();
  const std::string& first = config_.split ? split : flat;
  const std::string& second = config_.split ? flat : split;
  if (exists(first + "/" + std::string(id) + "-H") || exists(first + "/" + std::string(id) + "-D"))
    return first;
  if (exists(second + "/" + std::string(id) + "-H") || exists(second + "/" + std::string(id) + "-D"))
    return second;
  return first;
}

std::string Spool::msglog_path(std::string_view id) const {
  std::string base = config_.directory + "/msglog";
  if (config_.split) base += "/" + std::string(1, id[kIdTimeLen - 1]);
  return base + "/" + std::string(id);
}

Result<std::vector<std::string>> Spool::list() const {
  std::vector<std::string> ids;
  if (!exists(input_root())) return sys_error("open directory", input_root(), ENOENT);
  scan_headers(input_root(), ids);
  DIR* d = ::opendir(input_root().c_str());
  if (d) {
    while (dirent* e = ::readdir(d))
      if (std::string_view(e->d_name).size() == 1) scan_headers(input_root() + "/" + e->d_name, ids);
    ::closedir(d);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

Result<Envelope> Spool::read_header(std::string_view id) const {
  auto data = read_file(header_path(id));
  if (!data) return data.take_error();
  return parse_header_file(*data, std::string(id) + "-H");
}

Result<std::string> Spool::read_body(std::string_view id) const {
  auto data = read_file(data_path(id));
  if (!data) return data.take_error();
  std::string first = std::string(id) + "-D\n";
  if (data->compare(0, first.size(), first) != 0)
    return Error::failed("spool file " + std::string(id) + "-D: first line is not " + std::string(id) + "-D");
  return data->substr(first.size());
}

Result<std::int64_t> Spool::message_size(std::string_view id) const {
  auto env = read_header(id);
  if (!env) return env.take_error();
  struct stat st;
  std::string dp = data_path(id);
  if (::stat(dp.c_str(), &st) < 0) return sys_error("stat", dp, errno);
  return env->header_size() + std::int64_t(st.st_size) - std::int64_t(data_start_offset(id)) + 1;
}

Status Spool::remove(std::string_view id) const {
  std::string dir = input_dir(id);
  for (const char* suffix : {"-D", "-H", "-J"}) {
    std::string p = dir + "/" + std::string(id) + suffix;
    if (::unlink(p.c_str()) < 0 && errno != ENOENT) return sys_error("unlink", p, errno);
  }
  std::string ml = msglog_path(id);
  if (::unlink(ml.c_str()) < 0 && errno != ENOENT) return sys_error("unlink", ml, errno);
  return fsync_dir(dir);
}

Result<MessageLock> MessageLock::acquire(const Spool& spool, std::string_view id) {
  std::string p = spool.data_path(id);
  Fd fd(::open(p.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd) return sys_error("open", p, errno);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = off_t(data_start_offset(id));
  fl.l_pid = 0;  // OFD lock: per open file, so threads exclude each other too, and it
  // conflicts with the classic fcntl lock an Exim process takes.
  if (::fcntl(fd.get(), F_OFD_SETLK, &fl) < 0) {
    if (errno == EACCES || errno == EAGAIN)
      return Error::defer("spool file " + std::string(id) + "-D is locked");
    return sys_error("lock", p, errno);
  }
  return MessageLock(std::move(fd));
}

}  // namespace tern::spool
