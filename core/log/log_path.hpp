// core/log/log_path.hpp: log_file_path read as Exim reads it, and the log file names.
//
// log_file_path is a colon list (the separator cannot be changed) of at most one file
// template and "syslog". A template contains "%s" where "main", "reject" or "panic" goes,
// and may contain one "%D" (yyyymmdd) or "%M" (yyyymm) datestamp; an empty item (or an
// unset option) means spool_directory/log/%slog. Exim's errors, word for word:
//
//   log_file_path "/var/log/mainlog" does not contain "%s"
//   log_file_path "/var/log/%slog-%Y" contains unexpected "%" character
//
// and, when two templates are given, the first is used and Exim logs (main and panic):
//
//   More than one path given in log_file_path: using /var/log/exim/%slog
//
// The panic log is never datestamped: the datestamp is removed from its name together with
// one separator (the following one when the datestamp starts the name, else the
// preceding one), so "/var/log/exim-%s-%D.log" gives "/var/log/exim-panic.log".
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include "core/base/result.hpp"

namespace tern::log {

enum class LogKind { kMain, kReject, kPanic };
std::string_view log_kind_name(LogKind kind);  // "main", "reject", "panic"

struct LogDestinations {
  bool files = false;
  bool syslog = false;
  std::string file_template;  // "/var/spool/exim/log/%slog"; empty when !files
  std::string warning;        // "More than one path given ...", logged at the first write
};

// `value` is log_file_path after expansion; `spool_directory` fills in the default.
Result<LogDestinations> parse_log_file_path(std::string_view value,
                                            std::string_view spool_directory);

// The file name for one log at time `now` (the datestamp is local time).
std::string log_file_name(std::string_view file_template, LogKind kind, time_t now);

// Whether the template has a %D or %M datestamp (the names then change at midnight).
bool has_datestamp(std::string_view file_template);

}  // namespace tern::log
