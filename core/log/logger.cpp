// core/log/logger.cpp: writing log lines to files, syslog and stderr as Exim's log.c does.
#include "core/log/logger.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "core/log/timestamp.hpp"

namespace tern::log {
namespace {

constexpr mode_t kLogMode = 0640;           // Exim's LOG_MODE
constexpr mode_t kLogDirectoryMode = 0750;  // Exim's LOG_DIRECTORY_MODE
constexpr size_t kMaxSyslogLen = 870;       // Exim's MAX_SYSLOG_LEN

struct timeval system_clock() {
  struct timeval tv {};
  gettimeofday(&tv, nullptr);
  return tv;
}

// Creates the missing directories of `path` (not its last component), mode 0750, given to
// the exim user when running as root.
void make_parent_dirs(const std::string& path, uid_t uid, gid_t gid) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string dir = path.substr(0, slash);
    if (mkdir(dir.c_str(), kLogDirectoryMode) == 0 && geteuid() == 0 &&
        uid != static_cast<uid_t>(-1)) {
      if (chown(dir.c_str(), uid, gid) != 0) { /* left to root: still usable by root */
      }
    }
  }
}

// The reject log's detail below a rejection during or after DATA (log.c, LOG_REJECT with
// header_list set), within Exim's log buffer: envelope lines that do not fit are skipped, a
// header that does not fit ends the entry with "*** truncated ***".
std::string rejected_detail(std::string entry, const RejectContext& ctx) {
  auto fits = [&](size_t more) { return entry.size() + more < kLogBufferSize; };
  auto add = [&](const std::string& s) {
    if (fits(s.size())) entry += s;
  };
  if (ctx.recipients && !ctx.recipients->empty()) {
    const auto& r = *ctx.recipients;
    add("Envelope-from: <" + std::string(ctx.sender) + ">\n");
    add("Envelope-to: <" + r[0] + ">\n");
    size_t i = 1;
    for (; i < r.size() && i < 5; ++i) add("    <" + r[i] + ">\n");
    if (i < r.size()) add("    ...\n");
  }
  if (ctx.headers) {
    for (const spool::Header& h : *ctx.headers) {
      std::string s = std::string(1, h.type) + " " + h.text;
      if (fits(s.size())) {
        entry += s;
        continue;
      }
      entry.resize(entry.size() > 100 ? entry.size() - 100 : 0);
      if (!entry.empty() && entry.back() == '\n') entry.pop_back();
      entry += "\n*** truncated ***\n";
      break;
    }
  }
  return entry;
}

}  // namespace

std::optional<int> syslog_facility_by_name(std::string_view name) {
  static const struct {
    const char* name;
    int value;
  } kFacilities[] = {
      {"mail", LOG_MAIL},     {"user", LOG_USER},     {"news", LOG_NEWS},
      {"uucp", LOG_UUCP},     {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},
      {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
      {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
      {"daemon", LOG_DAEMON},
  };
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  std::string n = lower(name);
  if (n.size() >= 4 && n.compare(0, 4, "log_") == 0) n.erase(0, 4);
  for (const auto& f : kFacilities)
    if (n == f.name) return f.value;
  return std::nullopt;
}

Result<LoggerOptions> options_from_config(const config::OptionSet& main,
                                          std::string_view spool_directory,
                                          const ExpandFn& expand) {
  LoggerOptions o;
  std::string path = main.get_string("log_file_path");
  if (expand && !path.empty()) {
    Result<std::string> e = expand(path);
    if (!e)
      return Error::failed("failed to expand log_file_path \"" + path + "\": " + e.error().message);
    path = *e;
  }
  Result<LogDestinations> d = parse_log_file_path(path, spool_directory);
  if (!d) return d.take_error();
  o.destinations = std::move(*d);
  Result<Selectors> sel = parse_log_selector(main.get_string("log_selector"));
  if (!sel) return sel.take_error();
  o.selectors = *sel;
  o.log_timezone = main.get_bool("log_timezone");
  o.write_rejectlog = main.get_bool("write_rejectlog");
  o.syslog_duplication = main.get_bool("syslog_duplication");
  o.syslog_pid = main.get_bool("syslog_pid");
  o.syslog_timestamp = main.get_bool("syslog_timestamp");
  o.syslog_processname = main.get_string("syslog_processname");
  std::string facility = main.get_string("syslog_facility");
  if (facility.empty()) {
    o.syslog_facility = LOG_MAIL;
  } else if (std::optional<int> f = syslog_facility_by_name(facility)) {
    o.syslog_facility = *f;
  } else {
    return Error::failed("failed to interpret syslog_facility \"" + facility + "\"");
  }
  return o;
}

std::vector<std::string> syslog_pieces(std::string_view s) {
  struct Piece {
    std::string_view text;
    char mark;
  };
  std::vector<Piece> raw;
  size_t pos = 0;
  for (size_t left = s.size(); left > 0;) {
    size_t plen = left;
    size_t nl = s.find('\n', pos);
    if (nl != std::string_view::npos) plen = nl - pos;
    if (plen > kMaxSyslogLen) plen = kMaxSyslogLen;
    left -= plen;
    bool at_newline = pos + plen < s.size() && s[pos + plen] == '\n';
    if (at_newline) --left;
    raw.push_back({s.substr(pos, plen), at_newline && left != 0 ? '\\' : '/'});
    pos += plen;
    if (at_newline) ++pos;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw.size() == 1) {
      out.emplace_back(raw[i].text);
    } else {
      out.push_back("[" + std::to_string(i + 1) + raw[i].mark + std::to_string(raw.size()) + "] " +
                    std::string(raw[i].text));
    }
  }
  return out;
}

Logger::Logger(LoggerOptions options) : options_(std::move(options)) {
  if (!options_.clock) options_.clock = system_clock;
  if (options_.syslog_facility == 0) options_.syslog_facility = LOG_MAIL;
}

Logger::~Logger() { close_all(); }

void Logger::close_all() {
  std::lock_guard<std::mutex> lock(mu_);
  for (OpenFile* f : {&main_, &reject_}) {
    if (f->fd >= 0) close(f->fd);
    *f = OpenFile{};
  }
  if (syslog_open_) closelog();
  syslog_open_ = false;
}

bool Logger::main(std::string_view text, std::string_view message_id) {
  return write(Line{std::string(text), kToMain, {}, std::string(message_id)});
}

bool Logger::reject(std::string_view text, std::string_view message_id,
                    const RejectContext* context) {
  return write(Line{std::string(text), kToMain | kToReject, {}, std::string(message_id)}, context);
}

bool Logger::panic(std::string_view text, std::string_view message_id) {
  return write(Line{std::string(text), kToMain | kToPanic, {}, std::string(message_id)});
}

void Logger::write_fd(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

int Logger::open_log(const std::string& name, std::string* error) {
  int fd = ::open(name.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
  if (fd >= 0 || errno != ENOENT) {
    if (fd < 0) *error = std::strerror(errno);
    return fd;
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    fd = ::open(name.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
                kLogMode);
    if (fd >= 0) {
      // Exact mode whatever the umask, and the exim user's, as Exim creates it as that user.
      (void)fchmod(fd, kLogMode);
      if (geteuid() == 0 && options_.owner_uid != static_cast<uid_t>(-1))
        (void)fchown(fd, options_.owner_uid, options_.owner_gid);
      return fd;
    }
    if (errno == EEXIST) {  // another process created it meanwhile
      fd = ::open(name.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
      if (fd < 0) *error = std::strerror(errno);
      return fd;
    }
    if (errno != ENOENT || attempt == 1) break;
    make_parent_dirs(name, options_.owner_uid, options_.owner_gid);
  }
  *error = std::strerror(errno);
  return -1;
}

bool Logger::write_file(OpenFile& f, LogKind kind, const std::string& data, time_t now,
                        std::string* failure) {
  const std::string& tmpl = options_.destinations.file_template;
  if (f.fd >= 0 && has_datestamp(tmpl) && log_file_name(tmpl, kind, now) != f.name) {
    close(f.fd);  // midnight: the next day's file
    f = OpenFile{};
  }
  if (f.fd >= 0 && now - f.checked >= 1) {
    struct stat st {};
    f.checked = now;
    if (stat(f.name.c_str(), &st) != 0 || st.st_ino != f.ino || st.st_dev != f.dev) {
      close(f.fd);  // renamed or removed by a rotation script
      f = OpenFile{};
    }
  }
  if (f.fd < 0) {
    std::string name = log_file_name(tmpl, kind, now);
    std::string error;
    int fd = open_log(name, &error);
    if (fd < 0) {
      *failure = "Cannot open " + std::string(log_kind_name(kind)) + " log file \"" + name +
                 "\": " + error + ": euid=" + std::to_string(geteuid()) +
                 " egid=" + std::to_string(getegid());
      return false;
    }
    struct stat st {};
    if (fstat(fd, &st) == 0) {
      f.dev = st.st_dev;
      f.ino = st.st_ino;
    }
    f.fd = fd;
    f.name = std::move(name);
    f.checked = now;
  }
  ssize_t n;
  do n = ::write(f.fd, data.data(), data.size());
  while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(data.size())) {
    int e = n < 0 ? errno : 0;
    *failure = "failed to write to " + std::string(log_kind_name(kind)) +
               " log: length=" + std::to_string(data.size()) + " result=" + std::to_string(n) +
               " errno=" + std::to_string(e) + " (" +
               (e == 0 ? std::string("write incomplete") : std::string(std::strerror(e))) + ")";
    return false;
  }
  return true;
}

bool Logger::write_panic(const std::string& data, time_t now, const std::string& saved_line) {
  std::string name = log_file_name(options_.destinations.file_template, LogKind::kPanic, now);
  std::string error;
  int fd = open_log(name, &error);
  if (fd < 0) {
    // The last resort, as Exim: stderr and syslog at LOG_CRIT.
    std::string cannot = "Cannot open panic log file \"" + name + "\": " + error;
    if (options_.stderr_fd >= 0) write_fd(options_.stderr_fd, saved_line + data);
    if (!saved_line.empty()) write_syslog(LOG_CRIT, saved_line);
    write_syslog(LOG_CRIT, data);
    const std::string aborting = "exim: could not open panic log - aborting: see message(s) above";
    write_syslog(LOG_CRIT, aborting + "\n");
    if (options_.stderr_fd >= 0) write_fd(options_.stderr_fd, aborting + "\n");
    return false;
  }
  if (!saved_line.empty()) write_fd(fd, saved_line);
  write_fd(fd, data);
  close(fd);
  return true;
}

void Logger::write_syslog(int priority, const std::string& entry) {
  std::vector<std::string> pieces = syslog_pieces(entry);
  if (options_.syslog_sink) {
    for (const std::string& piece : pieces) options_.syslog_sink(priority, piece);
    return;
  }
  if (!syslog_open_) {
    openlog(options_.syslog_processname.c_str(), LOG_PID | LOG_CONS, options_.syslog_facility);
    syslog_open_ = true;
  }
  for (const std::string& piece : pieces)
    syslog(priority, "%.*s", static_cast<int>(piece.size()), piece.data());
}

bool Logger::write(const Line& line, const RejectContext* context) {
  if (!options_.destinations.warning.empty()) {
    bool first = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      first = !warned_;
      warned_ = true;
    }
    if (first) write(Line{options_.destinations.warning, kToMain | kToPanic, {}, {}});
  }

  const Selectors& sel = options_.selectors;
  unsigned targets = line.targets;
  if (!options_.write_rejectlog) targets &= ~unsigned{kToReject};
  bool to_main = (targets & kToMain) && (line.gate.empty() || line.gate.any_of(sel));
  bool to_reject = targets & kToReject;
  bool to_panic = targets & kToPanic;
  if (!to_main && !to_reject && !to_panic) return true;

  struct timeval now = options_.clock();
  std::string entry = log_timestamp(now, sel.on(Selector::kMillisec), options_.log_timezone);
  entry += ' ';
  size_t stamp_len = entry.size();
  size_t pid_at = entry.size();
  if (sel.on(Selector::kPid)) entry += "[" + std::to_string(getpid()) + "] ";
  size_t pid_end = entry.size();
  if (!line.message_id.empty()) {
    entry += line.message_id;
    entry += ' ';
  }
  if (entry.size() + line.text.size() > kLogBufferSize - 2)
    entry += "**** log string overflowed log buffer ****\n";
  else
    entry += line.text;
  entry += '\n';

  // What syslog gets: Exim leaves out the timestamp (syslog_timestamp false) and the pid
  // (syslog_pid false; syslog adds its own).
  auto for_syslog = [&](const std::string& e) {
    std::string s = e;
    if (!options_.syslog_pid && sel.on(Selector::kPid)) s.erase(pid_at, pid_end - pid_at);
    if (!options_.syslog_timestamp) s.erase(0, stamp_len);
    return s;
  };

  const LogDestinations& dest = options_.destinations;
  bool ok = true;
  std::string failure;
  std::lock_guard<std::mutex> lock(mu_);
  if (to_main) {
    if (dest.syslog && (options_.syslog_duplication || !(targets & (kToReject | kToPanic))))
      write_syslog(LOG_INFO, for_syslog(entry));
    if (dest.files && !write_file(main_, LogKind::kMain, entry, now.tv_sec, &failure)) ok = false;
  }
  if (ok && to_reject) {
    std::string reject_entry = entry;
    if (context && sel.on(Selector::kRejectedHeader))
      reject_entry = rejected_detail(std::move(reject_entry), *context);
    if (dest.syslog && (options_.syslog_duplication || !(targets & kToPanic)))
      write_syslog(LOG_NOTICE, for_syslog(reject_entry));
    if (dest.files && !write_file(reject_, LogKind::kReject, reject_entry, now.tv_sec, &failure))
      ok = false;
  }
  if (options_.mirror_fd >= 0) write_fd(options_.mirror_fd, entry);
  if (!ok) {
    // Exim: the failure goes to the panic log (and stderr) after the line it could not write.
    std::string panic_entry = entry.substr(0, stamp_len);
    panic_entry += entry.substr(stamp_len, pid_end - stamp_len);
    if (!line.message_id.empty()) panic_entry += line.message_id + " ";
    panic_entry += failure + "\n";
    if (options_.stderr_fd >= 0) write_fd(options_.stderr_fd, panic_entry);
    if (dest.syslog) write_syslog(LOG_ALERT, for_syslog(panic_entry));
    if (dest.files) write_panic(panic_entry, now.tv_sec, entry);
    return false;
  }
  if (to_panic) {
    if (options_.stderr_fd >= 0 && options_.stderr_fd != options_.mirror_fd)
      write_fd(options_.stderr_fd, entry);
    if (dest.syslog) write_syslog(LOG_ALERT, for_syslog(entry));
    if (dest.files && !write_panic(entry, now.tv_sec, std::string())) return false;
  }
  return true;
}

}  // namespace tern::log
