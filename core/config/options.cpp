// core/config/options.cpp: option definitions, value parsing and -bP formatting.
//
// The parsing and printing rules follow Exim 4.96's readconf.c as observed on
// the reference binary (scripts/exim-ref.sh): the error texts are Exim's own,
// without the file and line, which the reader adds.
#include "core/config/options.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cctype>
#include <climits>

#include "core/text/list.hpp"

namespace tern::config {
namespace {

std::string key_of(Scope scope, std::string_view driver, std::string_view name) {
  std::string k(scope_name(scope));
  k += '/';
  k += driver;
  k += '/';
  k += name;
  return k;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Reads an integer as Exim does: strtol with base 0 (0x hex, leading 0
// octal), then an optional K/M/G multiplier. `rest` receives what follows.
enum class IntStatus { kOk, kNone, kOverflow };
IntStatus read_integer(std::string_view s, int64_t limit, int64_t& out, std::string_view& rest,
                       char& suffix) {
  std::string buf(s);
  const char* start = buf.c_str();
  char* end = nullptr;
  errno = 0;
  long long v = strtoll(start, &end, 0);
  if (end == start) return IntStatus::kNone;
  suffix = 0;
  const char* p = end;
  int64_t mult = 1;
  char c = static_cast<char>(tolower(static_cast<unsigned char>(*p)));
  if (c == 'k') mult = 1024;
  if (c == 'm') mult = 1024 * 1024;
  if (c == 'g') mult = 1024 * 1024 * 1024;
  if (mult != 1) {
    suffix = c;
    ++p;
  }
  if (errno == ERANGE || v > limit / mult || v < -limit / mult) return IntStatus::kOverflow;
  out = v * mult;
  rest = s.substr(p - start);
  return IntStatus::kOk;
}

std::string leading_word(std::string_view s) {
  std::string w;
  for (char c : s) {
    if (!isalpha(static_cast<unsigned char>(c))) break;
    w += c;
  }
  return w;
}

// A double-quoted string with C-like escapes; `rest` is what follows the
// closing quote.
std::string read_quoted(std::string_view s, std::string_view& rest) {
  std::string out;
  size_t i = 1;
  while (i < s.size() && s[i] != '"') {
    char c = s[i++];
    if (c != '\\' || i >= s.size()) {
      out += c;
      continue;
    }
    char e = s[i++];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'x': {
        int v = 0, n = 0;
        while (n < 2 && i < s.size() && isxdigit(static_cast<unsigned char>(s[i]))) {
          v = v * 16 + (isdigit(static_cast<unsigned char>(s[i])) ? s[i] - '0' : (tolower(s[i]) - 'a' + 10));
          ++i, ++n;
        }
        out += static_cast<char>(v);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          int v = e - '0', n = 1;
          while (n < 3 && i < s.size() && s[i] >= '0' && s[i] <= '7') v = v * 8 + (s[i++] - '0'), ++n;
          out += static_cast<char>(v);
        } else {
          out += e;
        }
    }
  }
  rest = i < s.size() ? s.substr(i + 1) : std::string_view{};
  return out;
}

// The inverse of printable() for the escapes Exim's defaults use.
std::string unprint(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char e = s[i + 1];
      if (e == 'n') { out += '\n'; ++i; continue; }
      if (e == 't') { out += '\t'; ++i; continue; }
      if (e == 'r') { out += '\r'; ++i; continue; }
    }
    out += s[i];
  }
  return out;
}

Result<int64_t> lookup_id(std::string_view item, bool user) {
  std::string name(item);
  if (!name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return isdigit(static_cast<unsigned char>(c)); }))
    return static_cast<int64_t>(strtoll(name.c_str(), nullptr, 10));
  if (user) {
    if (struct passwd* pw = getpwnam(name.c_str())) return static_cast<int64_t>(pw->pw_uid);
    return Error::failed("user " + name + " was not found");
  }
  if (struct group* gr = getgrnam(name.c_str())) return static_cast<int64_t>(gr->gr_gid);
  return Error::failed("group " + name + " was not found");
}

std::string id_name(int64_t id, bool user) {
  if (user) {
    if (struct passwd* pw = getpwuid(static_cast<uid_t>(id))) return pw->pw_name;
  } else if (struct group* gr = getgrgid(static_cast<gid_t>(id))) {
    return gr->gr_name;
  }
  return std::to_string(id);
}

bool is_user_type(OptionType t) {
  return t == OptionType::kUid || t == OptionType::kUidList || t == OptionType::kExpandUid;
}

}  // namespace

std::string_view scope_name(Scope s) {
  switch (s) {
    case Scope::kMain: return "main";
    case Scope::kRouter: return "router";
    case Scope::kTransport: return "transport";
    case Scope::kAuthenticator: return "authenticator";
  }
  return "main";
}

Status OptionRegistry::add(OptionDef def) {
  std::string k = key_of(def.scope, def.driver, def.name);
  auto it = defs_.find(k);
  if (it != defs_.end()) {
    return Error::failed(std::string(scope_name(def.scope)) + " option \"" + def.name +
                         "\" is registered twice: by \"" + it->second.owner + "\" and by \"" +
                         def.owner + "\"");
  }
  defs_.emplace(std::move(k), std::move(def));
  return {};
}

Status OptionRegistry::add(Scope scope, std::string driver, std::string name, OptionType type,
                           const char* default_text, std::string owner) {
  OptionDef def;
  def.scope = scope;
  def.driver = std::move(driver);
  def.name = std::move(name);
  def.type = type;
  def.owner = std::move(owner);
  if (default_text != nullptr && *default_text != '\0') {
    std::string text = type == OptionType::kString ? unprint(default_text) : default_text;
    if (type == OptionType::kUid || type == OptionType::kGid) {
      // Resolved when used: the account may not exist on this machine.
      def.default_value.is_set = true;
      def.default_value.number = -1;
      def.default_value.text = text;
    } else {
      OptionDef probe = def;
      if (type == OptionType::kString) {
        def.default_value.is_set = true;
        def.default_value.text = text;
      } else {
        auto v = parse_option_value(probe, text);
        if (!v) return Error::failed("default of " + def.name + ": " + v.error().message);
        def.default_value = std::move(*v);
      }
    }
  }
  return add(std::move(def));
}

Status OptionRegistry::add_driver(DriverDef def) {
  if (const DriverDef* d = find_driver(def.scope, def.name)) {
    return Error::failed(std::string(scope_name(def.scope)) + " driver \"" + def.name +
                         "\" is registered twice: by \"" + d->owner + "\" and by \"" + def.owner + "\"");
  }
  drivers_.push_back(std::move(def));
  return {};
}

const OptionDef* OptionRegistry::find(Scope scope, std::string_view driver, std::string_view name) const {
  if (!driver.empty()) {
    auto it = defs_.find(key_of(scope, driver, name));
    if (it != defs_.end()) return &it->second;
  }
  auto it = defs_.find(key_of(scope, "", name));
  return it == defs_.end() ? nullptr : &it->second;
}

const DriverDef* OptionRegistry::find_driver(Scope scope, std::string_view name) const {
  for (const auto& d : drivers_)
    if (d.scope == scope && d.name == name) return &d;
  return nullptr;
}

const UnloadedOption* OptionRegistry::find_unloaded(Scope scope, std::string_view driver,
                                                    std::string_view name) const {
  for (const auto& u : unloaded_)
    if (u.scope == scope && u.name == name && (u.driver.empty() || driver.empty() || u.driver == driver))
      return &u;
  return nullptr;
}

const SkippedOption* OptionRegistry::find_skipped(Scope scope, std::string_view driver,
                                                  std::string_view name) const {
  for (const auto& s : skipped_)
    if (s.scope == scope && s.name == name && (s.driver.empty() || driver.empty() || s.driver == driver))
      return &s;
  return nullptr;
}

std::vector<const OptionDef*> OptionRegistry::list(Scope scope, std::string_view driver) const {
  std::vector<const OptionDef*> generic, own;
  for (const auto& [k, d] : defs_) {
    if (d.scope != scope) continue;
    if (d.driver.empty()) generic.push_back(&d);
    else if (d.driver == driver) own.push_back(&d);
  }
  auto by_name = [](const OptionDef* a, const OptionDef* b) { return a->name < b->name; };
  std::sort(generic.begin(), generic.end(), by_name);
  std::sort(own.begin(), own.end(), by_name);
  generic.insert(generic.end(), own.begin(), own.end());
  return generic;
}

std::vector<const DriverDef*> OptionRegistry::drivers(Scope scope) const {
  std::vector<const DriverDef*> out;
  for (const auto& d : drivers_)
    if (d.scope == scope) out.push_back(&d);
  return out;
}

Result<int64_t> parse_time(std::string_view text) {
  std::string_view s = trim_right(text);
  if (s.empty()) return Error::failed("");
  int64_t total = 0;
  size_t i = 0;
  while (i < s.size()) {
    if (!isdigit(static_cast<unsigned char>(s[i]))) return Error::failed("");
    int64_t n = 0;
    while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) {
      n = n * 10 + (s[i++] - '0');
      if (n > INT_MAX) return Error::failed("");
    }
    if (i >= s.size()) return Error::failed("");
    switch (s[i++]) {
      case 'w': n *= 7 * 24 * 3600; break;
      case 'd': n *= 24 * 3600; break;
      case 'h': n *= 3600; break;
      case 'm': n *= 60; break;
      case 's': break;
      default: return Error::failed("");
    }
    total += n;
  }
  return total;
}

std::string format_time(int64_t t) {
  if (t < 0) return "-" + format_time(-t);
  if (t == 0) return "0s";
  std::string out;
  const std::pair<int64_t, char> units[] = {{7 * 24 * 3600, 'w'}, {24 * 3600, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (auto [size, unit] : units) {
    if (t >= size) {
      out += std::to_string(t / size);
      out += unit;
      t %= size;
    }
  }
  return out;
}

std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c < 32 || c == 127) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\%03o", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

Result<OptionValue> parse_option_value(const OptionDef& def, std::string_view text) {
  const std::string& name = def.name;
  std::string_view s = trim_right(text);
  OptionValue v;
  v.is_set = true;
  switch (def.type) {
    case OptionType::kBool: {
      std::string w = leading_word(s);
      std::string lw = w;
      for (auto& c : lw) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
      if (w.size() == s.size()) {
        if (lw == "true" || lw == "yes") { v.flag = true; return v; }
        if (lw == "false" || lw == "no") { v.flag = false; return v; }
      }
      return Error::failed("\"" + w + "\" is not a valid value for the \"" + name + "\" option");
    }
    case OptionType::kInt:
    case OptionType::kMkint:
    case OptionType::kKint: {
      int64_t n = 0;
      std::string_view rest;
      char suffix = 0;
      int64_t limit = def.type == OptionType::kKint ? (int64_t{1} << 50) : INT_MAX;
      IntStatus st = read_integer(s, limit, n, rest, suffix);
      if (st == IntStatus::kNone) return Error::failed("integer expected for " + name);
      if (st == IntStatus::kOverflow)
        return Error::failed("absolute value of integer \"" + std::string(s) + "\" is too large (overflow)");
      if (!trim_right(rest).empty()) return Error::failed("extra characters follow integer value for " + name);
      if (def.type == OptionType::kKint) n = suffix == 0 ? n : n / 1024;  // held in KiB
      v.number = n;
      return v;
    }
    case OptionType::kOctal: {
      if (s.empty() || !isdigit(static_cast<unsigned char>(s[0])))
        return Error::failed("octal integer expected for " + name);
      std::string buf(s);
      char* end = nullptr;
      v.number = strtoll(buf.c_str(), &end, 8);
      if (*end != '\0') return Error::failed("extra characters follow octal integer value for " + name);
      return v;
    }
    case OptionType::kFixed: {
      if (s.empty() || !isdigit(static_cast<unsigned char>(s[0])))
        return Error::failed("fixed-point number expected for " + name);
      size_t i = 0;
      int64_t whole = 0;
      while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) whole = whole * 10 + (s[i++] - '0');
      int64_t frac = 0;
      if (i < s.size() && s[i] == '.') {
        ++i;
        int mult = 100;
        while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) {
          frac += (s[i++] - '0') * mult;
          mult /= 10;
        }
      }
      if (i != s.size()) return Error::failed("extra characters follow fixed-point value for " + name);
      v.number = whole * 1000 + frac;
      return v;
    }
    case OptionType::kTime: {
      auto t = parse_time(s);
      if (!t) return Error::failed("invalid time value for " + name);
      v.number = *t;
      return v;
    }
    case OptionType::kTimeList: {
      for (const std::string& item : text::list_items(s, ':')) {
        auto t = parse_time(item);
        if (!t) return Error::failed("invalid time value for " + name);
        v.numbers.push_back(*t);
      }
      return v;
    }
    case OptionType::kString: {
      if (!s.empty() && s[0] == '"') {
        std::string_view rest;
        v.text = read_quoted(s, rest);
        if (!trim_right(rest).empty()) return Error::failed("extra characters follow string value for " + name);
      } else {
        v.text = std::string(s);
      }
      return v;
    }
    case OptionType::kExpandUid:
    case OptionType::kExpandGid:
      if (s.find('$') != std::string_view::npos) {
        v.expand = true;
        v.text = std::string(s);
        return v;
      }
      [[fallthrough]];
    case OptionType::kUid:
    case OptionType::kGid: {
      auto id = lookup_id(s, is_user_type(def.type));
      if (!id) return id.take_error();
      v.number = *id;
      v.text = std::string(s);
      return v;
    }
    case OptionType::kUidList:
    case OptionType::kGidList: {
      for (const std::string& item : text::list_items(s, ':')) {
        auto id = lookup_id(item, is_user_type(def.type));
        if (!id) return id.take_error();
        v.numbers.push_back(*id);
      }
      return v;
    }
  }
  return v;
}

std::string format_option(const OptionDef& def, const OptionValue& v) {
  const std::string& n = def.name;
  // A value set with "hide" is shown to root (Exim's admin user) only.
  if (v.hide && ::getuid() != 0) return n + " = <value not displayable>";
  switch (def.type) {
    case OptionType::kBool:
      return (v.is_set && v.flag) ? n : "no_" + n;
    case OptionType::kString:
      return n + " = " + (v.is_set ? printable(v.text) : "");
    default:
      break;
  }
  if (!v.is_set) {
    bool space = def.type == OptionType::kUid || def.type == OptionType::kGid ||
                 def.type == OptionType::kExpandUid || def.type == OptionType::kExpandGid;
    return n + (space ? " = " : " =");
  }
  std::string val;
  switch (def.type) {
    case OptionType::kInt:
      val = std::to_string(v.number);
      break;
    case OptionType::kMkint: {
      int64_t x = v.number;
      if (x != 0 && x % (1024 * 1024) == 0) val = std::to_string(x / (1024 * 1024)) + "M";
      else if (x != 0 && x % 1024 == 0) val = std::to_string(x / 1024) + "K";
      else val = std::to_string(x);
      break;
    }
    case OptionType::kKint: {
      int64_t x = v.number;
      if (x != 0 && x % (1024 * 1024) == 0) val = std::to_string(x / (1024 * 1024)) + "G";
      else if (x != 0 && x % 1024 == 0) val = std::to_string(x / 1024) + "M";
      else val = std::to_string(x) + "K";
      break;
    }
    case OptionType::kOctal: {
      char buf[32];
      snprintf(buf, sizeof buf, "%#llo", static_cast<unsigned long long>(v.number));
      val = buf;
      break;
    }
    case OptionType::kFixed: {
      val = std::to_string(v.number / 1000) + ".";
      std::string frac = std::to_string(1000 + v.number % 1000).substr(1);
      while (frac.size() > 1 && frac.back() == '0') frac.pop_back();
      val += frac;
      break;
    }
    case OptionType::kTime:
      val = format_time(v.number);
      break;
    case OptionType::kTimeList:
      for (size_t i = 0; i < v.numbers.size(); ++i) val += (i ? ":" : "") + format_time(v.numbers[i]);
      break;
    case OptionType::kUid:
    case OptionType::kGid:
    case OptionType::kExpandUid:
    case OptionType::kExpandGid:
      if (v.expand || v.number < 0) val = v.text;
      else val = id_name(v.number, is_user_type(def.type));
      break;
    case OptionType::kUidList:
    case OptionType::kGidList:
      for (size_t i = 0; i < v.numbers.size(); ++i)
        val += (i ? ":" : "") + id_name(v.numbers[i], is_user_type(def.type));
      break;
    default:
      break;
  }
  return n + " = " + val;
}

}  // namespace tern::config
