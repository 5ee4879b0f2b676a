// core/acl/ratelimit.hpp: the `ratelimit` condition's options, Exim's smoothed-rate arithmetic, and
// the process-wide store.
//
// Exim keeps each sender's rate in a hints database shared by its
// processes; tern keeps it in memory, one RateLimitStore per process,
// shared by every session and guarded by a mutex (sessions' ACLs may run on
// several threads). The arithmetic is acl.c's acl_ratelimit(): an
// exponentially weighted moving average of the rate, per period, with the
// leaky / strict / readonly update rules and a Bloom filter for unique=
// and per_addr counting. Records whose rate has decayed to nothing (no
// update for ten periods) are dropped as the store grows.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/acl/acl.hpp"

namespace tern::acl {

class RateLimitStore {
 public:
  struct Record {
    double time = 0;  // seconds since the epoch of the last update (microseconds kept)
    double rate = 0;
    double period = 0;  // seconds: how long the record stays meaningful
    int64_t bloom_epoch = 0;
    std::vector<uint8_t> bloom;  // unique=/per_addr events seen this period; empty: none
  };
  // Run `fn` under the store's lock with the record for `key` (nullptr when
  // there is none); the record it returns replaces it (nullopt: unchanged).
  void update(std::string_view key, const std::function<std::optional<Record>(const Record*)>& fn);
  size_t size() const;

 private:
  void prune(double now);

  mutable std::mutex mu_;
  std::unordered_map<std::string, Record> records_;
  size_t prune_at_ = 4096;
};

// A parsed `ratelimit = limit / period / options / key` after expansion.
struct RateLimitSpec {
  enum class Mode { kWhat, kClash, kAddr, kByte, kCmd, kConn, kMail, kRcpt, kAllRcpts };
  std::string limit_text, period_text;  // $sender_rate_limit, $sender_rate_period
  double limit = 0, period = 0, count = 1;
  bool leaky = false, strict = false, readonly = false, noupdate = false, badacl = false;
  Mode mode = Mode::kWhat;
  std::optional<std::string> unique;
  std::optional<std::string> key;
};

// What a ratelimit check needs from the run it is part of.
struct RateLimitContext {
  Where where = Where::kRcpt;
  std::string sender_host_address;  // the default key
  std::string recipient_address;    // per_addr in RCPT: local_part@domain
  double recipients_count = 0;      // per_rcpt after RCPT
  long long message_size = -1;      // per_byte
};

// Parse the expanded argument; errors are Exim's texts ("error in arguments
// to "ratelimit" condition: ..."), for an ERROR result.
Result<RateLimitSpec> parse_ratelimit(std::string_view arg, const RateLimitContext& rc);

// The key under which the rate is kept: "<period>/<per_xxx>/[unique/]<key>".
std::string ratelimit_key(const RateLimitSpec& spec, const RateLimitContext& rc);

// Compute the sender's rate (updating the store when Exim would) at time
// `now`. Returns true when the rate is at or over the limit (the condition
// is then true) and the rate itself. `trace` gets Exim's debug lines.
struct RateLimitOutcome {
  bool over = false;
  double rate = 0;
};
RateLimitOutcome compute_ratelimit(RateLimitStore& store, const RateLimitSpec& spec,
                                   const std::string& key,
                                   std::chrono::system_clock::time_point now,
                                   const std::function<void(std::string_view)>& trace);

}  // namespace tern::acl
