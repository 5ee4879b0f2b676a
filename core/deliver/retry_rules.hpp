// core/deliver/retry_rules.hpp: the `begin retry` section, read and searched as Exim does.
//
// Each line is `pattern  error  rule; rule; ...` with rules `F,<cutoff>,<interval>`,
// `G,<cutoff>,<interval>,<factor>` and `H,<cutoff>,<interval>,<factor>` (Exim's readconf
// retry rules). Errors: `*`, `quota` / `quota_<time>`, `refused` / `refused_MX` /
// `refused_A`, `timeout` / `timeout_connect` (with `_MX` / `_A`), `auth_failed`,
// `lost_connection`, `tls_required`, `mail_4xx` / `rcpt_4xx` / `data_4xx` (or `rcpt_45x`,
// `rcpt_451` for a decade or a code). `senders=<address list>` restricts a line.
//
// find() is Exim's retry_find_config(): the first line whose error fits and whose pattern
// (an address list) matches the key or the alternate domain, keys without '@' taken as
// "*@key". next_try() computes the next retry time of a failing destination from the rule
// in force (retry_update()).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/config/config.hpp"
#include "core/expand/expand.hpp"

namespace tern::deliver {

struct RetryRule {
  char kind = 'F';             // F, G or H
  std::int64_t cutoff = 0;     // seconds since the first failure this rule applies up to
  std::int64_t interval = 0;   // F: the interval; G/H: the minimum interval
  std::int64_t factor = 1000;  // G/H: the multiplier, in thousandths
};

struct RetryItem {
  std::string pattern;
  std::string error;       // as written ("*" when none)
  int basic_errno = 0;     // 0: any error
  int more_errno = 0;      // error detail as Exim codes it (see retry_rules.cpp)
  std::string senders;     // senders= list, "" when unset
  std::vector<RetryRule> rules;
};

// How a destination's retry data stands after a failure.
struct RetryTimes {
  std::int64_t next_try = 0;
  bool expired = false;  // the last rule's cutoff has passed
};

class RetryConfig {
 public:
  // Parses every `begin retry` line; errors name the line as Exim's do.
  static Result<RetryConfig> build(const config::Config& config);

  // The first item for `key` ("host", "domain" or "local@domain"), or `alternate` (a
  // domain, "" for none), with this error; `sender` null: lines with senders= never match
  // (as Exim's -brt). `ctx` expands lookups in patterns.
  const RetryItem* find(std::string_view key, std::string_view alternate, int basic_errno, int more_errno,
                        const std::string* sender, expand::Context& ctx) const;
  bool empty() const { return items_.empty(); }

 private:
  std::vector<RetryItem> items_;
};

// Parses an error name of a retry line (for the -brt error argument too).
Status parse_retry_error(std::string_view text, int* basic_errno, int* more_errno);

// Exim's -brt line: "Retry rule: <pattern>  <error>  F,2h,15m; G,16h,1h,1.5; ".
std::string format_retry_item(const RetryItem& item);

// The next try after a failure at `now` of a destination failing since `first_failed`,
// whose last predicted and actual gaps are computed from `last_try`/`prev_next_try`;
// `retry_interval_max` caps it. `random` in [0,1) draws the H rule's part.
RetryTimes next_retry(const RetryItem& item, std::int64_t now, std::int64_t first_failed, std::int64_t last_try,
                      std::int64_t prev_next_try, std::int64_t retry_interval_max, double random);

// The last rule's cutoff (Exim's "ultimate address timeout"); -1 when the item has none.
std::int64_t final_cutoff(const RetryItem& item);

}  // namespace tern::deliver
