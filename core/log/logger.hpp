// core/log/logger.hpp: Exim's main, reject and panic logs (log.c's log_write).
//
// A Logger writes lines to the files named by log_file_path, to syslog, or both, with
// Exim's prefix ("2026-11-29 11:38:24[.123][ +0000] [[pid] ][id ]") and routing:
//
//   main    the main log (or syslog LOG_INFO); only when the line's selector is on
//   reject  the reject log (LOG_NOTICE), not at all when write_rejectlog is false; with a
//           RejectContext (a rejection during or after DATA) and +rejected_header, the
//           reject log copy is followed by "Envelope-from: <s>", "Envelope-to: <r>" (up to
//           five, then "    ..."), and every header as "<flag> <text>"
//   panic   the panic log (LOG_ALERT), opened and closed for each line, and stderr when the
//           process has one (not detached)
//
// Exim's callers almost always combine them: a rejection is main+reject, a panic is
// main+panic; main(), reject() and panic() below do that, write() takes any combination.
//
// Files are opened O_APPEND and every line (with its reject-log detail) is one write(), so
// any number of processes and threads can share them without interleaving. A file is
// created with mode 0640 (Exim's LOG_MODE), its directory with 0750 if missing, both owned
// by the exim user when the process runs as root. The main and reject logs stay open; before
// a write, at most once a second, the name is stat()ed and the file reopened when it is gone
// or is another inode (log rotation: Exim stats before every write; a second is the delay a
// rotated file can still receive lines). A %D/%M name switches at local midnight.
//
// When a main or reject log cannot be opened, the line and "Cannot open main log file
// \"NAME\": REASON: euid=N egid=N" go to the panic log and stderr, and the call returns false:
// Exim dies at that point (the SMTP client gets 421 "Unexpected failure, please try later");
// tern leaves that to the caller. When the panic log cannot be opened either, both lines
// and "exim: could not open panic log - aborting: see message(s) above" go to stderr and
// syslog (LOG_CRIT).
//
// Thread-safe. openlog() is process-wide: one Logger per process should use syslog.
#pragma once

#include <sys/time.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/config/config.hpp"
#include "core/log/log_path.hpp"
#include "core/log/selector.hpp"
#include "core/spool/envelope.hpp"

namespace tern::log {

// Which logs a line goes to (Exim's LOG_MAIN, LOG_REJECT, LOG_PANIC; the same bits as the
// module ABI's TERN_LOG_MAIN/REJECT/PANIC).
enum Target : unsigned { kToMain = 1, kToReject = 2, kToPanic = 4 };

// One log line, as the builders of smtp_lines.hpp and delivery_lines.hpp return it.
struct Line {
  std::string text;            // after the prefix and message id
  unsigned targets = kToMain;  // Target bits
  Selectors gate;              // none: always; else the main log copy only when one
                               // of them is on (Exim: a selector gates LOG_MAIN, not
                               // LOG_REJECT or LOG_PANIC)
  std::string message_id;      // written after the prefix when not empty
};

// What a reject-log line during or after DATA shows below it (Exim: when header_list is set).
struct RejectContext {
  std::string_view sender;  // envelope sender, "" for <>
  const std::vector<std::string>* recipients = nullptr;
  const std::vector<spool::Header>* headers = nullptr;  // as received, text with "\n" ends
};

struct LoggerOptions {
  LogDestinations destinations;  // from log_file_path
  Selectors selectors = Selectors::defaults();
  bool log_timezone = false;
  bool write_rejectlog = true;
  int syslog_facility = 0;  // LOG_MAIL when 0
  std::string syslog_processname = "exim";
  bool syslog_duplication = true;
  bool syslog_pid = true;
  bool syslog_timestamp = true;
  // The exim user and group: files and directories created while running as root are
  // given to them. -1: leave as created.
  uid_t owner_uid = static_cast<uid_t>(-1);
  gid_t owner_gid = static_cast<gid_t>(-1);
  // Exim's log_stderr: where panic lines (and open failures) are also written; -1 once
  // the process has detached from its terminal.
  int stderr_fd = 2;
  // Every line written to any log is also written here once (`make run` shows the log on
  // the terminal); -1: none. When it equals stderr_fd, panic lines are not written twice.
  int mirror_fd = -1;
  // The clock (tests move it); default gettimeofday().
  std::function<struct timeval()> clock;
  // Where syslog pieces go (tests); default syslog(3) after openlog(syslog_processname,
  // LOG_PID|LOG_CONS, syslog_facility). `priority` is LOG_INFO/NOTICE/ALERT/CRIT.
  std::function<void(int priority, std::string_view piece)> syslog_sink;
};

// The logging options from the main section: log_file_path (expanded once with `expand`
// when given, as Exim's readconf does), log_selector, log_timezone, write_rejectlog and the
// syslog_* options. Errors are Exim's texts:
//   failed to expand log_file_path "${if...": <expansion error>
//   log_file_path "/x/mainlog" does not contain "%s"
//   unknown log_selector setting: +bogus
//   failed to interpret syslog_facility "auth"
using ExpandFn = std::function<Result<std::string>(std::string_view)>;
Result<LoggerOptions> options_from_config(const config::OptionSet& main,
                                          std::string_view spool_directory,
                                          const ExpandFn& expand = {});

// Exim's syslog_facility names ("mail", "user", "news", "uucp", "daemon", "local0".."local7",
// optionally prefixed "log_", any case); nullopt for others.
std::optional<int> syslog_facility_by_name(std::string_view name);

class Logger {
 public:
  explicit Logger(LoggerOptions options);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  const Selectors& selectors() const { return options_.selectors; }
  bool on(Selector s) const { return options_.selectors.on(s); }

  // Writes `line` to its targets. False when a file could not be opened or written (the
  // line then went to the panic log and stderr, as Exim does before dying).
  bool write(const Line& line, const RejectContext* context = nullptr);

  bool main(std::string_view text, std::string_view message_id = {});
  // main + reject, as Exim logs every rejection.
  bool reject(std::string_view text, std::string_view message_id = {},
              const RejectContext* context = nullptr);
  // main + panic.
  bool panic(std::string_view text, std::string_view message_id = {});

  // Closes the open main and reject logs and syslog (Exim's log_close_all), e.g. before
  // handing the process to another program; they reopen at the next write.
  void close_all();

 private:
  struct OpenFile {
    int fd = -1;
    std::string name;
    dev_t dev = 0;
    ino_t ino = 0;
    time_t checked = 0;  // last stat of the name
  };

  bool write_file(OpenFile& f, LogKind kind, const std::string& data, time_t now,
                  std::string* failure);
  bool write_panic(const std::string& data, time_t now, const std::string& saved_line);
  void write_syslog(int priority, const std::string& entry);
  int open_log(const std::string& name, std::string* error);
  void write_fd(int fd, const std::string& data);

  LoggerOptions options_;
  std::mutex mu_;
  OpenFile main_, reject_;
  bool syslog_open_ = false;
  bool warned_ = false;
};

// Exim's write_syslog() splitting: each internal newline and every 870 bytes start a new
// piece, and when there is more than one, each is prefixed "[n/m] " (split for length) or
// "[n\m] " (split at a newline). Exposed for tests.
std::vector<std::string> syslog_pieces(std::string_view entry);

// Exim's LOG_BUFFER_SIZE: a line longer than this is replaced by
// "**** log string overflowed log buffer ****".
inline constexpr size_t kLogBufferSize = 8192;

}  // namespace tern::log
