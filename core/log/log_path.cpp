// core/log/log_path.cpp: log_file_path checks (readconf.c) and file names (log.c open_log).
#include "core/log/log_path.hpp"

#include <cctype>
#include <vector>

#include "core/log/timestamp.hpp"

namespace tern::log {
namespace {

// Exim's string_nextinlist with the fixed ':' separator: "::" is a literal colon, items
// are trimmed of surrounding white space.
std::vector<std::string> colon_items(std::string_view s) {
  std::vector<std::string> items;
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  if (i == s.size()) return items;
  for (;;) {
    std::string item;
    while (i < s.size()) {
      if (s[i] == ':') {
        if (i + 1 < s.size() && s[i + 1] == ':') {
          item += ':';
          i += 2;
          continue;
        }
        break;
      }
      item += s[i++];
    }
    size_t b = 0, e = item.size();
    while (b < e && std::isspace(static_cast<unsigned char>(item[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(item[e - 1]))) --e;
    items.push_back(item.substr(b, e - b));
    if (i >= s.size()) break;
    ++i;  // the ':'
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  }
  return items;
}

// readconf.c's check of one file item: one %s, then at most one %D or %M. As in Exim, the
// "unexpected" error quotes the whole value, the other one the item.
Status check_template(const std::string& item, std::string_view value) {
  size_t s = item.find("%s");
  if (s == std::string::npos)
    return Error::failed("log_file_path \"" + item + "\" does not contain \"%s\"");
  std::string rest = item;
  rest[s] = 'X';
  size_t pct = rest.find('%');
  if (pct != std::string::npos &&
      ((pct + 1 >= rest.size() || (rest[pct + 1] != 'D' && rest[pct + 1] != 'M')) ||
       rest.find('%', pct + 2) != std::string::npos))
    return Error::failed("log_file_path \"" + std::string(value) +
                         "\" contains unexpected \"%\" character");
  return {};
}

}  // namespace

std::string_view log_kind_name(LogKind kind) {
  switch (kind) {
    case LogKind::kMain:
      return "main";
    case LogKind::kReject:
      return "reject";
    case LogKind::kPanic:
      return "panic";
  }
  return "main";
}

Result<LogDestinations> parse_log_file_path(std::string_view value,
                                            std::string_view spool_directory) {
  LogDestinations d;
  std::vector<std::string> items = colon_items(value);
  if (value.empty()) items.push_back("");  // unset: the default path
  for (const std::string& item : items) {
    if (item.empty() || item == "syslog") continue;
    if (Status st = check_template(item, value); !st) return st.take_error();
  }
  bool multiple = false;
  for (const std::string& item : items) {
    if (item == "syslog") {
      d.syslog = true;
    } else if (d.files) {
      multiple = true;
    } else {
      d.files = true;
      d.file_template = item;  // empty: the default, filled in below
    }
  }
  if (!d.files && !d.syslog)
    return Error::failed("Neither syslog nor file logging set in log_file_path");
  if (d.files && d.file_template.empty())
    d.file_template = std::string(spool_directory) + "/log/%slog";
  if (multiple) d.warning = "More than one path given in log_file_path: using " + d.file_template;
  return d;
}

bool has_datestamp(std::string_view t) {
  return t.find("%D") != std::string_view::npos || t.find("%M") != std::string_view::npos;
}

std::string log_file_name(std::string_view t, LogKind kind, time_t now) {
  std::string out;
  size_t stamp_at = std::string::npos, stamp_len = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '%' && i + 1 < t.size()) {
      char c = t[i + 1];
      if (c == 's') {
        out += log_kind_name(kind);
        ++i;
        continue;
      }
      if (c == 'D' || c == 'M') {
        std::string stamp = c == 'D' ? datestamp_day(now) : datestamp_month(now);
        stamp_at = out.size();
        stamp_len = stamp.size();
        out += stamp;
        ++i;
        continue;
      }
    }
    out += t[i];
  }
  if (kind == LogKind::kPanic && stamp_at != std::string::npos) {
    size_t from = stamp_at, to = stamp_at + stamp_len;
    if (from == 0 || out[from - 1] == '/') {
      if (to < out.size() && !std::isalnum(static_cast<unsigned char>(out[to]))) ++to;
    } else if (!std::isalnum(static_cast<unsigned char>(out[from - 1]))) {
      --from;
    }
    out.erase(from, to - from);
  }
  return out;
}

}  // namespace tern::log
