// core/log/timestamp.cpp: log line timestamps, file-name datestamps and durations.
#include "core/log/timestamp.hpp"

#include <cstdio>
#include <ctime>

#include "core/config/options.hpp"

namespace tern::log {

std::string log_timestamp(const struct timeval& when, bool millisec, bool with_zone) {
  struct tm tm {};
  time_t secs = when.tv_sec;
  localtime_r(&secs, &tm);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (millisec)
    n += std::snprintf(buf + n, sizeof buf - n, ".%03d", static_cast<int>(when.tv_usec / 1000));
  if (with_zone) {
    long off = tm.tm_gmtoff / 60;  // minutes east of UTC
    char sign = off < 0 ? '-' : '+';
    if (off < 0) off = -off;
    std::snprintf(buf + n, sizeof buf - n, " %c%02ld%02ld", sign, off / 60, off % 60);
  }
  return buf;
}

std::string datestamp_day(time_t when) {
  struct tm tm {};
  localtime_r(&when, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

std::string datestamp_month(time_t when) {
  struct tm tm {};
  localtime_r(&when, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d%02d", tm.tm_year + 1900, tm.tm_mon + 1);
  return buf;
}

std::string format_duration(const struct timeval& d, const Selectors& selectors) {
  if (d.tv_sec >= 5 || !selectors.on(Selector::kMillisec)) return config::format_time(d.tv_sec);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%u.%03us", static_cast<unsigned>(d.tv_sec),
                static_cast<unsigned>(d.tv_usec / 1000));
  return buf;
}

std::string format_duration_us(int64_t us, const Selectors& selectors) {
  if (us < 0) us = 0;
  struct timeval d {};
  d.tv_sec = static_cast<time_t>(us / 1000000);
  d.tv_usec = static_cast<suseconds_t>(us % 1000000);
  return format_duration(d, selectors);
}

}  // namespace tern::log
