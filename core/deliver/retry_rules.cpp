// core/deliver/retry_rules.cpp: the `begin retry` section (see retry_rules.hpp).
//
// Error coding: basic_errno is tern's (transport.hpp ErrorCode or a system errno). A rule's
// more_errno is Exim's: `quota_<time>` the time; `refused_MX`/`_A` and `timeout_*_MX`/`_A`
// 'M' or 'A' in the low byte, kConnectTimeoutFlag for `timeout_connect`; `rcpt_4xx` and
// friends 255 (any 4xx), 100 + decade (`rcpt_45x`) or the code less 400 (`rcpt_451`),
// matched against the reply code tern's transports put in more_errno.
#include "core/deliver/retry_rules.hpp"

#include <cerrno>
#include <cstdio>

#include "core/config/options.hpp"
#include "core/deliver/transport.hpp"
#include "core/lookup/match.hpp"

namespace tern::deliver {

namespace {

constexpr int kConnectTimeoutFlag = 0x100;  // Exim's RTEF_CTOUT

bool is_connect_timeout(int basic) { return basic == ETIMEDOUT || basic == kErrConnectTimeout; }

// Whether a failure with (basic, more) is covered by an item's error.
bool error_matches(const RetryItem& item, int basic, int more) {
  if (item.basic_errno == 0) return true;
  switch (item.basic_errno) {
    case kErrQuota:
      if (basic != kErrQuota && basic != EDQUOT && basic != ENOSPC) return false;
      return item.more_errno == 0 || item.more_errno <= more;
    case kErrMail4xx:
    case kErrRcpt4xx:
    case kErrData4xx: {
      if (basic != item.basic_errno) return false;
      int wanted = item.more_errno;
      int got = more - 400;
      if (wanted == 255) return true;
      if (wanted >= 100) return got >= 0 && (got / 10) * 10 == wanted - 100;
      return got == wanted;
    }
    case ETIMEDOUT: {
      bool connect = is_connect_timeout(basic);
      if (!connect && basic != kErrTimeout) return false;
      if ((item.more_errno & kConnectTimeoutFlag) && !connect) return false;
      int letter = item.more_errno & 255;
      return letter == 0 || letter == (more & 255);
    }
    case ECONNREFUSED:
      if (basic != ECONNREFUSED && basic != kErrRefused) return false;
      return item.more_errno == 0 || item.more_errno == (more & 255);
    default:
      return basic == item.basic_errno && (item.more_errno == 0 || item.more_errno == more);
  }
}

Result<RetryRule> parse_rule(std::string_view text) {
  RetryRule r;
  auto bad = [&]() { return Error::failed("malformed retry rule \"" + std::string(text) + "\""); };
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    auto comma = text.find(',', start);
    std::string_view p = text.substr(start, comma == std::string_view::npos ? comma : comma - start);
    while (!p.empty() && (p.front() == ' ' || p.front() == '\t')) p.remove_prefix(1);
    while (!p.empty() && (p.back() == ' ' || p.back() == '\t')) p.remove_suffix(1);
    parts.emplace_back(p);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (parts.empty() || parts[0].size() != 1 || (parts[0] != "F" && parts[0] != "G" && parts[0] != "H")) return bad();
  r.kind = parts[0][0];
  if (parts.size() != (r.kind == 'F' ? 3u : 4u)) return bad();
  auto cutoff = config::parse_time(parts[1]);
  auto interval = config::parse_time(parts[2]);
  if (!cutoff || !interval) return bad();
  r.cutoff = *cutoff;
  r.interval = *interval;
  if (r.kind != 'F') {
    const std::string& f = parts[3];
    std::int64_t whole = 0, frac = 0, scale = 100;
    std::size_t i = 0;
    if (f.empty()) return bad();
    for (; i < f.size() && std::isdigit(static_cast<unsigned char>(f[i])); ++i) whole = whole * 10 + (f[i] - '0');
    if (i < f.size() && f[i] == '.') {
      for (++i; i < f.size() && std::isdigit(static_cast<unsigned char>(f[i])); ++i, scale /= 10)
        frac += (f[i] - '0') * scale;
    }
    if (i != f.size()) return bad();
    r.factor = whole * 1000 + frac;
  }
  return r;
}

}  // namespace

Status parse_retry_error(std::string_view t, int* basic, int* more) {
  *basic = 0;
  *more = 0;
  auto letter_suffix = [&](std::string_view rest) -> bool {
    if (rest.empty()) return true;
    if (rest == "_MX") *more |= 'M';
    else if (rest == "_A") *more |= 'A';
    else return false;
    return true;
  };
  if (t == "*") return {};
  if (t.starts_with("quota")) {
    *basic = kErrQuota;
    if (t.size() == 5) return {};
    if (t[5] == '_') {
      auto v = config::parse_time(t.substr(6));
      if (v) {
        *more = static_cast<int>(*v);
        return {};
      }
    }
  } else if (t.starts_with("refused")) {
    *basic = ECONNREFUSED;
    if (letter_suffix(t.substr(7))) return {};
  } else if (t.starts_with("timeout_connect")) {
    *basic = ETIMEDOUT;
    *more = kConnectTimeoutFlag;
    if (letter_suffix(t.substr(15))) return {};
  } else if (t.starts_with("timeout")) {
    *basic = ETIMEDOUT;
    if (letter_suffix(t.substr(7))) return {};
  } else if (t == "auth_failed") {
    *basic = kErrAuthFail;
    return {};
  } else if (t == "lost_connection") {
    *basic = kErrSmtpClosed;
    return {};
  } else if (t == "tls_required") {
    *basic = kErrTlsRequired;
    return {};
  } else if (t.size() >= 8 && (t.starts_with("mail_4") || t.starts_with("rcpt_4") || t.starts_with("data_4"))) {
    *basic = t[0] == 'm' ? kErrMail4xx : t[0] == 'r' ? kErrRcpt4xx : kErrData4xx;
    std::string_view code = t.substr(5);
    if (code.size() == 3) {
      bool x1 = code[1] == 'x', x2 = code[2] == 'x';
      bool d1 = std::isdigit(static_cast<unsigned char>(code[1])), d2 = std::isdigit(static_cast<unsigned char>(code[2]));
      if (x1 && x2) {
        *more = 255;
        return {};
      }
      if (d1 && x2) {
        *more = 100 + (code[1] - '0') * 10;
        return {};
      }
      if (d1 && d2) {
        *more = (code[1] - '0') * 10 + (code[2] - '0');
        return {};
      }
    }
  }
  return Error::failed("unknown or malformed retry error name \"" + std::string(t) + "\"");
}

Result<RetryConfig> RetryConfig::build(const config::Config& config) {
  RetryConfig rc;
  for (const config::RetryRule& line : config.retry) {
    auto where = [&](const std::string& m) {
      return Error::failed("error in retry rule at line " + std::to_string(line.where.line) + " of " +
                           line.where.file + ": " + m);
    };
    RetryItem item;
    item.pattern = line.pattern;
    item.error = line.error;
    if (auto st = parse_retry_error(line.error, &item.basic_errno, &item.more_errno); !st)
      return where(st.error().message);
    // The config reader splits on white space: "F,2h,15m;" and "G,16h,1h,1.5" arrive as
    // fields; a field may hold several rules separated by ';'.
    for (const std::string& field : line.rules) {
      std::string_view f = field;
      while (!f.empty()) {
        auto semi = f.find(';');
        std::string_view one = f.substr(0, semi);
        if (!one.empty()) {
          auto r = parse_rule(one);
          if (!r) return where(r.error().message);
          item.rules.push_back(*r);
        }
        if (semi == std::string_view::npos) break;
        f.remove_prefix(semi + 1);
      }
    }
    // senders= is dropped by the config reader's rule list; read it back from the text.
    if (auto s = line.text.find("senders="); s != std::string::npos) {
      std::string rest = line.text.substr(s + 8);
      if (!rest.empty() && rest.front() == '"') {
        auto close = rest.find('"', 1);
        item.senders = rest.substr(1, close == std::string::npos ? std::string::npos : close - 1);
      } else {
        item.senders = rest.substr(0, rest.find_first_of(" \t"));
      }
    }
    rc.items_.push_back(std::move(item));
  }
  return rc;
}

const RetryItem* RetryConfig::find(std::string_view key, std::string_view alternate, int basic_errno, int more_errno,
                                   const std::string* sender, expand::Context& ctx) const {
  std::string use_key(key.substr(0, key.find(':')));
  if (use_key.find('@') == std::string::npos) use_key = "*@" + use_key;
  std::string use_alternate = alternate.empty() ? std::string() : "*@" + std::string(alternate);
  auto env = expand::match_env(ctx);
  auto matches = [&](const std::string& subject, const std::string& list) {
    auto m = lookup::match_list(subject, list, lookup::ListKind::kAddress, env, true);
    return m && m->matched();
  };
  for (const RetryItem& item : items_) {
    if (!error_matches(item, basic_errno, more_errno)) continue;
    if (!item.senders.empty() && (!sender || !matches(*sender, item.senders))) continue;
    if (matches(use_key, item.pattern) || (!use_alternate.empty() && matches(use_alternate, item.pattern)))
      return &item;
  }
  return nullptr;
}

std::string format_retry_item(const RetryItem& item) {
  std::string out = "Retry rule: " + item.pattern + "  ";
  int more = item.more_errno;
  switch (item.basic_errno) {
    case kErrQuota: out += more > 0 ? "quota_" + config::format_time(more) : "quota"; break;
    case ECONNREFUSED: out += more == 'M' ? "refused_MX" : more == 'A' ? "refused_A" : "refused"; break;
    case ETIMEDOUT:
      out += "timeout";
      if (more & kConnectTimeoutFlag) out += "_connect";
      if (more & 255) out += (more & 255) == 'M' ? "_MX" : "_A";
      break;
    case kErrAuthFail: out += "auth_failed"; break;
    default: out += "*"; break;
  }
  out += "  ";
  for (const RetryRule& r : item.rules) {
    out += std::string(1, r.kind) + "," + config::format_time(r.cutoff) + "," + config::format_time(r.interval);
    if (r.kind == 'G') {
      // Exim prints the multiplier's fraction digit by digit, at least one.
      std::int64_t f = r.factor % 1000, d = 100;
      out += "," + std::to_string(r.factor / 1000) + ".";
      do {
        out += std::to_string(f / d);
        f %= d;
        d /= 10;
      } while (f != 0);
    }
    out += "; ";
  }
  return out;
}

std::int64_t final_cutoff(const RetryItem& item) { return item.rules.empty() ? -1 : item.rules.back().cutoff; }

RetryTimes next_retry(const RetryItem& item, std::int64_t now, std::int64_t first_failed, std::int64_t last_try,
                      std::int64_t prev_next_try, std::int64_t retry_interval_max, double random) {
  RetryTimes t;
  std::int64_t failing = now - first_failed;
  const RetryRule* rule = nullptr;
  for (const RetryRule& r : item.rules) {
    rule = &r;
    if (failing <= r.cutoff) break;
  }
  if (!rule) {
    t.expired = true;
    t.next_try = now;
    return t;
  }
  t.expired = failing > rule->cutoff;
  if (rule->kind == 'F') {
    t.next_try = now + rule->interval;
  } else {
    std::int64_t predicted = prev_next_try - last_try, actual = now - last_try;
    std::int64_t last_gap = predicted < actual ? predicted : actual;
    std::int64_t next_gap = last_gap * rule->factor / 1000;
    if (rule->kind == 'G') {
      t.next_try = now + (last_gap < rule->interval ? rule->interval : next_gap);
    } else {
      t.next_try = now + rule->interval;
      if (next_gap > rule->interval) {
        std::int64_t spread = next_gap - rule->interval;
        t.next_try += static_cast<std::int64_t>(random * static_cast<double>(spread) / 2.0) + spread / 2;
      }
    }
  }
  if (t.next_try - now > retry_interval_max) t.next_try = now + retry_interval_max;
  return t;
}

}  // namespace tern::deliver
