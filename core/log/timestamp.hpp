// core/log/timestamp.hpp: the times Exim writes in its logs.
//
//   log line prefix   2026-11-29 11:38:24          (tod_log)
//     +millisec       2026-11-29 11:38:24.123
//     log_timezone    2026-11-29 11:38:24 +0000
//   datestamps        20261129 (%D), 202611 (%M)   in log file names
//   durations         D= RT= QT= DT=: "3s", "1m5s"; with +millisec and under 5 s "0.003s"
//
// Local time, as the process's TZ says (the `timezone` option sets TZ for the process).
#pragma once

#include <sys/time.h>

#include <string>

#include "core/log/selector.hpp"

namespace tern::log {

// The prefix of a log line, without the separating space.
std::string log_timestamp(const struct timeval& when, bool millisec, bool with_zone);

// Exim's datestamps for %D ("20261129") and %M ("202611"), local time.
std::string datestamp_day(time_t when);
std::string datestamp_month(time_t when);

// Exim's string_timediff(): a duration for D=, RT=, QT=, DT=. Whole seconds in Exim's
// time format ("0s", "1m5s", "2h") unless +millisec is on and it is under 5 seconds,
// then "S.mmms" ("0.003s").
std::string format_duration(const struct timeval& duration, const Selectors& selectors);
// The same for a duration in microseconds (negative counts as zero).
std::string format_duration_us(int64_t microseconds, const Selectors& selectors);

}  // namespace tern::log
