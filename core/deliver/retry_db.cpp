// core/deliver/retry_db.cpp: the retry hints database (see retry_db.hpp).
#include "core/deliver/retry_db.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "core/spool/fs_util.hpp"

namespace tern::deliver {

namespace {

// Holds flock() on the lock file for its lifetime.
class DbLock {
 public:
  static Result<DbLock> take(const std::string& dir, bool exclusive) {
    if (exclusive) {
      if (auto st = spool::make_dir(dir, 0750); !st) return st.take_error();
    } else if (::access(dir.c_str(), F_OK) != 0) {
      return DbLock(spool::Fd());  // no database yet: nothing to lock
    }
    std::string path = dir + "/retry.tern.lockfile";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0 && !exclusive) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return spool::sys_error("open", path, errno);
    spool::Fd f(fd);
    while (::flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0)
      if (errno != EINTR) return spool::sys_error("lock", path, errno);
    return DbLock(std::move(f));
  }

 private:
  explicit DbLock(spool::Fd fd) : fd_(std::move(fd)) {}
  spool::Fd fd_;
};

void unescape_into(std::string_view s, std::string& out) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char c = s[++i];
      out += c == 't' ? '\t' : c == 'n' ? '\n' : c;
    } else {
      out += s[i];
    }
  }
}

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\t') out += "\\t";
    else if (c == '\n') out += "\\n";
    else if (c == '\\') out += "\\\\";
    else out += c;
  }
  return out;
}

// A line that does not parse is dropped: hints are only hints.
void parse_into(std::string_view data, RetryRecords& out) {
  while (!data.empty()) {
    auto nl = data.find('\n');
    std::string_view line = data.substr(0, nl);
    data.remove_prefix(nl == std::string_view::npos ? data.size() : nl + 1);
    std::vector<std::string_view> f;
    for (std::size_t start = 0;;) {
      auto tab = line.find('\t', start);
      f.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (f.size() != 8 || f[0].empty()) continue;
    RetryRecord r;
    auto num = [](std::string_view v) { return std::strtoll(std::string(v).c_str(), nullptr, 10); };
    r.first_failed = num(f[1]);
    r.last_try = num(f[2]);
    r.next_try = num(f[3]);
    r.expired = f[4] == "1";
    r.basic_errno = static_cast<int>(num(f[5]));
    r.more_errno = static_cast<int>(num(f[6]));
    unescape_into(f[7], r.text);
    std::string key;
    unescape_into(f[0], key);
    out[key] = std::move(r);
  }
}

Result<RetryRecords> read_unlocked(const std::string& path) {
  RetryRecords records;
  if (::access(path.c_str(), F_OK) != 0) return records;
  auto data = spool::read_file(path);
  if (!data) return data.take_error();
  parse_into(*data, records);
  return records;
}

}  // namespace

RetryDb::RetryDb(std::string spool_directory, std::optional<std::pair<uid_t, gid_t>> owner)
    : dir_(std::move(spool_directory) + "/db"), owner_(owner) {}

Result<RetryRecords> RetryDb::read() const {
  auto lock = DbLock::take(dir_, false);
  if (!lock) return lock.take_error();
  return read_unlocked(path());
}

Status RetryDb::update(const std::function<void(RetryRecords&)>& change) const {
  auto lock = DbLock::take(dir_, true);
  if (!lock) return lock.take_error();
  auto records = read_unlocked(path());
  if (!records) return records.take_error();
  change(*records);
  std::string out;
  for (const auto& [key, r] : *records) {
    out += escape(key) + "\t" + std::to_string(r.first_failed) + "\t" + std::to_string(r.last_try) + "\t" +
           std::to_string(r.next_try) + "\t" + (r.expired ? "1" : "0") + "\t" + std::to_string(r.basic_errno) + "\t" +
           std::to_string(r.more_errno) + "\t" + escape(r.text) + "\n";
  }
  if (auto st = spool::write_durably(dir_, path() + ".tmp", path(), out); !st) return st;
  if (owner_) {
    for (const std::string& p : {dir_, dir_ + "/retry.tern.lockfile", path()})
      if (::chown(p.c_str(), owner_->first, owner_->second) != 0) return spool::sys_error("chown", p, errno);
  }
  return {};
}

}  // namespace tern::deliver
