// core/acl/ratelimit.cpp: acl.c's acl_ratelimit(): option parsing, the smoothed rate, the Bloom
// filter, the store.
#include "core/acl/ratelimit.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/acl/internal.hpp"
#include "core/config/options.hpp"
#include "core/text/list.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::acl {
namespace {

using Mode = RateLimitSpec::Mode;

const char* mode_text(Mode m) {
  switch (m) {
    case Mode::kWhat:
      return "?";
    case Mode::kClash:
      return "!";
    case Mode::kAddr:
      return "per_addr";
    case Mode::kByte:
      return "per_byte";
    case Mode::kCmd:
      return "per_cmd";
    case Mode::kConn:
      return "per_conn";
    case Mode::kMail:
      return "per_mail";
    case Mode::kRcpt:
    case Mode::kAllRcpts:
      return "per_rcpt";
  }
  return "?";
}

// RATE_SET: the first per_* option decides; a second one is a clash.
void set_mode(Mode& m, Mode to) { m = m == Mode::kWhat ? to : Mode::kClash; }

Error ratelimit_error(const std::string& what) {
  return Error::failed("error in arguments to \"ratelimit\" condition: " + what);
}

// Exim's "after the message" ACLs and the non-message ones, by its order.
bool after_notsmtp(Where w) { return static_cast<int>(w) > static_cast<int>(Where::kNotSmtp); }
bool message_phase(Where w) {
  return static_cast<int>(w) >= static_cast<int>(Where::kPredata) &&
         static_cast<int>(w) <= static_cast<int>(Where::kNotSmtp);
}

std::string format_rate(double rate) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f", rate);
  return buf;
}

}  // namespace

void RateLimitStore::update(std::string_view key,
                            const std::function<std::optional<Record>(const Record*)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string k(key);
  auto it = records_.find(k);
  auto next = fn(it == records_.end() ? nullptr : &it->second);
  if (!next) return;
  double now = next->time;
  records_[std::move(k)] = std::move(*next);
  if (records_.size() >= prune_at_) prune(now);
}

size_t RateLimitStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_.size();
}

void RateLimitStore::prune(double now) {
  // A rate untouched for ten periods has decayed below e^-10 of itself:
  // the next event re-initialises it anyway.
  for (auto it = records_.begin(); it != records_.end();)
    it = now - it->second.time > 10 * it->second.period ? records_.erase(it) : std::next(it);
  prune_at_ = std::max<size_t>(4096, records_.size() * 2);
}

Result<RateLimitSpec> parse_ratelimit(std::string_view arg, const RateLimitContext& rc) {
  RateLimitSpec s;
  text::ListReader items = text::ListReader::with_fixed_separator(arg, '/');
  if (!items.next(s.limit_text)) return ratelimit_error("sender rate limit not set");
  char* end = nullptr;
  s.limit = std::strtod(s.limit_text.c_str(), &end);
  switch (std::tolower(static_cast<unsigned char>(*end))) {
    case 'k':
      s.limit *= 1024.0;
      ++end;
      break;
    case 'm':
      s.limit *= 1024.0 * 1024.0;
      ++end;
      break;
    case 'g':
      s.limit *= 1024.0 * 1024.0 * 1024.0;
      ++end;
      break;
    default:
      break;
  }
  if (s.limit < 0.0 || *end != '\0')
    return ratelimit_error("\"" + s.limit_text + "\" is not a positive number");

  s.period = -1.0;
  if (items.next(s.period_text)) {
    auto t = config::parse_time(s.period_text);
    s.period = t ? static_cast<double>(*t) : -1.0;
  }
  if (s.period <= 0.0) return ratelimit_error("\"" + s.period_text + "\" is not a time value");

  std::string o;
  while (items.next(o)) {
    if (detail::equal_caseless(o, "leaky"))
      s.leaky = true;
    else if (detail::equal_caseless(o, "strict"))
      s.strict = true;
    else if (detail::equal_caseless(o, "noupdate"))
      s.noupdate = true;
    else if (detail::equal_caseless(o, "readonly"))
      s.readonly = true;
    else if (detail::equal_caseless(o, "per_cmd"))
      set_mode(s.mode, Mode::kCmd);
    else if (detail::equal_caseless(o, "per_conn")) {
      set_mode(s.mode, Mode::kConn);
      if (rc.where == Where::kNotSmtp || rc.where == Where::kNotSmtpStart) s.badacl = true;
    } else if (detail::equal_caseless(o, "per_mail")) {
      set_mode(s.mode, Mode::kMail);
      if (after_notsmtp(rc.where)) s.badacl = true;
    } else if (detail::equal_caseless(o, "per_rcpt")) {
      // In the RCPT ACL recipients count one by one; once they are all
      // known they count in one batch.
      if (rc.where == Where::kRcpt) {
        set_mode(s.mode, Mode::kRcpt);
      } else if (message_phase(rc.where)) {
        set_mode(s.mode, Mode::kAllRcpts);
        s.count = rc.recipients_count;
      } else if (rc.where == Where::kMail || after_notsmtp(rc.where)) {
        set_mode(s.mode, Mode::kRcpt);
        s.badacl = true;
      }
    } else if (detail::equal_caseless(o, "per_byte")) {
      set_mode(s.mode, Mode::kMail);
      if (after_notsmtp(rc.where))
        s.badacl = true;
      else
        s.count = rc.message_size < 0 ? 0.0 : static_cast<double>(rc.message_size);
    } else if (detail::equal_caseless(o, "per_addr")) {
      set_mode(s.mode, Mode::kRcpt);
      if (rc.where != Where::kRcpt) {
        s.badacl = true;
        s.unique = "*";
      } else {
        s.unique = rc.recipient_address;
      }
    } else if (o.size() >= 6 &&
               detail::equal_caseless(std::string_view(o).substr(0, 6), "count=")) {
      char* e = nullptr;
      std::string n = o.substr(6);
      s.count = std::strtod(n.c_str(), &e);
      if (s.count < 0.0 || *e != '\0')
        return ratelimit_error("\"" + o + "\" is not a positive number");
    } else if (o.size() >= 7 &&
               detail::equal_caseless(std::string_view(o).substr(0, 7), "unique=")) {
      s.unique = o.substr(7);
    } else if (!s.key) {
      s.key = o;
    } else {
      *s.key += "/" + o;
    }
  }
  if (s.mode == Mode::kClash) return ratelimit_error("conflicting per_* options");
  if (s.leaky + s.strict + s.readonly > 1) return ratelimit_error("conflicting update modes");
  if (s.badacl && (s.leaky || s.strict) && !s.noupdate)
    return ratelimit_error(std::string("\"") + mode_text(s.mode) +
                           "\" must not have /leaky or /strict option, or cannot be used in " +
                           std::string(where_name(rc.where)) + " ACL");

  // Defaults: readonly computes the rate without counting, so that it
  // decays and lets an over-limit sender through eventually.
  if (s.noupdate) s.readonly = true, s.leaky = s.strict = false;
  if (s.badacl) s.readonly = true;
  if (s.readonly) s.count = 0.0;
  if (!s.strict && !s.readonly) s.leaky = true;
  if (s.mode == Mode::kWhat) s.mode = Mode::kMail;
  return s;
}

std::string ratelimit_key(const RateLimitSpec& spec, const RateLimitContext& rc) {
  return spec.period_text + "/" + mode_text(spec.mode) + "/" + (spec.unique ? "unique/" : "") +
         (spec.key ? *spec.key : rc.sender_host_address);
}

RateLimitOutcome compute_ratelimit(RateLimitStore& store, const RateLimitSpec& spec,
                                   const std::string& key,
                                   std::chrono::system_clock::time_point now,
                                   const std::function<void(std::string_view)>& trace) {
  auto say = [&](const std::string& line) {
    if (trace) trace(line);
  };
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const int64_t now_sec = micros / 1000000;
  const double this_time =
      static_cast<double>(now_sec) + static_cast<double>(micros % 1000000) / 1000000.0;
  RateLimitOutcome out;
  store.update(
      key, [&](const RateLimitStore::Record* old) -> std::optional<RateLimitStore::Record> {
        RateLimitStore::Record r;
        bool have_rate = false;   // Exim's dbd: a previous rate to smooth
        bool have_block = false;  // Exim's dbdb: a block (and Bloom filter) to reuse
        if (old) {
          say("ratelimit found key in database");
          r = *old;
          have_rate = have_block = true;
          if (spec.unique && now_sec > old->bloom_epoch + spec.period) {
            say("ratelimit discarding old Bloom filter");
            have_block = false;
          } else if (spec.unique && old->bloom.empty()) {
            say("ratelimit discarding undersize Bloom filter");
            have_block = false;
          }
        }
        if (!have_block) {
          if (!spec.unique) {
            say("ratelimit creating new rate data block");
          } else {
            say("ratelimit creating new Bloom filter");
            r.bloom_epoch = now_sec;
            r.bloom.assign(
                std::max<size_t>(40, static_cast<size_t>(static_cast<int>(spec.limit) * 2)), 0);
          }
        }
        double count = spec.count;
        if (spec.unique && !spec.readonly) {
          // Two hash values combined as h1 + n * h2 set (up to) 8 bits.
          std::string md5 = text::digest("md5", *spec.unique);
          auto word = [&](int at) {
            return static_cast<uint32_t>(static_cast<uint8_t>(md5[at])) |
                   static_cast<uint32_t>(static_cast<uint8_t>(md5[at + 1])) << 8 |
                   static_cast<uint32_t>(static_cast<uint8_t>(md5[at + 2])) << 16 |
                   static_cast<uint32_t>(static_cast<uint8_t>(md5[at + 3])) << 24;
          };
          uint32_t hash = word(0), hinc = word(4);
          say("ratelimit checking uniqueness of " + *spec.unique);
          bool seen = true;
          for (int n = 0; n < 8; ++n, hash += hinc) {
            uint8_t bit = static_cast<uint8_t>(1u << (hash % 8));
            size_t byte = (hash / 8) % r.bloom.size();
            if ((r.bloom[byte] & bit) == 0) {
              r.bloom[byte] |= bit;
              seen = false;
            }
          }
          if (seen) {
            say("ratelimit event found in Bloom filter");
            count = 0.0;
          } else {
            say("ratelimit event added to Bloom filter");
          }
        }
        if (!have_rate) {
          say("ratelimit initializing new key's rate data");
          r.rate = count;
        } else {
          // An exponentially weighted moving average over variable intervals:
          // a = exp(-interval/period); the sample is count * period / interval.
          double interval = this_time - r.time <= 0.0 ? 1e-9 : this_time - r.time;
          double i_over_p = interval / spec.period;
          double a = std::exp(-i_over_p);
          r.rate = (1 - a) * count / i_over_p + a * r.rate;
          // An isolated event counts as `count` per period, not as a rate
          // smoothed towards zero over a long silence.
          if (r.rate < count) r.rate = count;
        }
        r.time = this_time;
        r.period = spec.period;
        out.rate = r.rate;
        out.over = !(r.rate < spec.limit);  // at the limit is over it (a limit of 0 blocks)
        if ((!out.over && spec.leaky) || spec.strict) {
          say("ratelimit db updated");
          return r;
        }
        say(std::string("ratelimit db not updated: ") +
            (spec.readonly ? "readonly mode" : "over the limit, but leaky"));
        return std::nullopt;
      });
  say("ratelimit computed rate " + format_rate(out.rate));
  return out;
}

}  // namespace tern::acl
