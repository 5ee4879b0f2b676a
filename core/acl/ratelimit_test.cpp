// core/acl/ratelimit_test.cpp: the `ratelimit` condition: options, keys, Exim's smoothed rate on a
// fixed clock, the Bloom filter, the store.
#include "core/acl/ratelimit.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "core/acl/test_support.hpp"

namespace tern::acl {
namespace {

using testing::AclLab;

const std::string kHead = "primary_hostname = test.example\nbegin acl\nacl_mail:\n";

TEST(RateLimit, OptionErrorsAreExims) {
  // exim -bh, in a MAIL ACL: "error in arguments to "ratelimit" condition: ..."
  const std::pair<std::string, std::string> cases[] = {
      {"x", "\"x\" is not a positive number"},
      {"-1 / 1h", "\"-1\" is not a positive number"},
      {"1 / foo", "\"foo\" is not a time value"},
      {"1 / 1h / per_rcpt / per_mail", "conflicting per_* options"},
      {"1 / 1h / leaky / strict", "conflicting update modes"},
      {"1 / 1h / per_conn / leaky / readonly", "conflicting update modes"},
      {"1 / 1h / count=-1", "\"count=-1\" is not a positive number"},
      {"1 / 1h / per_rcpt / leaky",
       "\"per_rcpt\" must not have /leaky or /strict option, or cannot be used in MAIL ACL"},
  };
  for (const auto& [arg, error] : cases) {
    RateLimitContext rc;
    rc.where = Where::kMail;
    auto s = parse_ratelimit(arg, rc);
    ASSERT_FALSE(s.ok()) << arg;
    EXPECT_EQ(s.error().message, "error in arguments to \"ratelimit\" condition: " + error) << arg;
  }
}

TEST(RateLimit, KeysAndModes) {
  RateLimitContext rc;
  rc.where = Where::kRcpt;
  rc.sender_host_address = "10.0.0.1";
  rc.recipient_address = "u@d.example";
  auto key = [&](const std::string& arg) {
    auto s = parse_ratelimit(arg, rc);
    EXPECT_TRUE(s.ok()) << arg;
    return s ? ratelimit_key(*s, rc) : "";
  };
  EXPECT_EQ(key("2 / 1h"), "1h/per_mail/10.0.0.1");
  EXPECT_EQ(key("2 / 1h / per_rcpt / $x"), "1h/per_rcpt/$x");
  EXPECT_EQ(key("2 / 1d / a / b"), "1d/per_mail/a/b");
  EXPECT_EQ(key("2 / 1h / per_addr"), "1h/per_rcpt/unique/10.0.0.1");
  EXPECT_EQ(key("2 / 30m / per_conn / unique=x / k"), "30m/per_conn/unique/k");
  auto s = parse_ratelimit("2k / 1h / per_byte / count=3", rc);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->limit, 2048);
  EXPECT_EQ(s->count, 3);
  EXPECT_TRUE(s->leaky);
  auto ro = parse_ratelimit("2 / 1h / noupdate / strict", rc);
  ASSERT_TRUE(ro.ok());
  EXPECT_TRUE(ro->readonly);
  EXPECT_FALSE(ro->strict);
  EXPECT_EQ(ro->count, 0);
}

// The rate after events `dt` seconds apart, computed as acl.c does.
double ewma(double period, const std::vector<double>& gaps) {
  double rate = 1;
  for (double dt : gaps) {
    double i = dt / period, a = std::exp(-i);
    rate = (1 - a) / i + a * rate;
    if (rate < 1) rate = 1;
  }
  return rate;
}

TEST(RateLimit, SmoothedRateOnAFixedClock) {
  RateLimitStore store;
  RateLimitContext rc;
  rc.sender_host_address = "10.0.0.1";
  auto spec = parse_ratelimit("3 / 1h / strict", rc);
  ASSERT_TRUE(spec.ok());
  auto t = std::chrono::system_clock::from_time_t(1795000000);
  std::vector<double> gaps;
  double last = 0;
  for (double dt : {0.0, 600.0, 600.0, 1800.0, 7200.0}) {
    t += std::chrono::milliseconds(static_cast<int64_t>(dt * 1000));
    if (dt > 0) gaps.push_back(dt);
    auto out = compute_ratelimit(store, *spec, "k", t, {});
    double want = gaps.empty() ? 1 : ewma(3600, gaps);
    EXPECT_NEAR(out.rate, want, 1e-9) << "after " << gaps.size() << " gaps";
    EXPECT_EQ(out.over, !(want < 3));
    last = out.rate;
  }
  // Two hours of silence: the next event is counted as one, on its own.
  EXPECT_NEAR(last, 1.0, 1e-9);
}

TEST(RateLimit, LeakyForgetsWhatIsOverTheLimit) {
  // A burst of 5 against a limit of 2: leaky stores nothing once over, so
  // the rate stays put; strict goes on counting.
  for (bool strict : {false, true}) {
    RateLimitStore store;
    RateLimitContext rc;
    auto spec = parse_ratelimit(strict ? "2 / 1h / strict" : "2 / 1h", rc);
    ASSERT_TRUE(spec.ok());
    auto t = std::chrono::system_clock::from_time_t(1795000000);
    std::vector<double> rates;
    for (int i = 0; i < 5; ++i) {
      rates.push_back(compute_ratelimit(store, *spec, "k", t, {}).rate);
      t += std::chrono::milliseconds(1);
    }
    EXPECT_NEAR(rates[1], 2.0, 1e-3);
    EXPECT_NEAR(rates[4], strict ? 5.0 : 3.0, 1e-3) << (strict ? "strict" : "leaky");
  }
}

TEST(RateLimit, UniqueEventsCountOnce) {
  RateLimitStore store;
  RateLimitContext rc;
  rc.where = Where::kRcpt;
  rc.recipient_address = "u@d.example";
  auto spec = parse_ratelimit("10 / 1h / per_addr", rc);
  ASSERT_TRUE(spec.ok());
  auto t = std::chrono::system_clock::from_time_t(1795000000);
  std::vector<std::string> trace;
  auto out1 = compute_ratelimit(store, *spec, "k", t,
                                [&](std::string_view l) { trace.push_back(std::string(l)); });
  t += std::chrono::milliseconds(1);
  auto out2 = compute_ratelimit(store, *spec, "k", t,
                                [&](std::string_view l) { trace.push_back(std::string(l)); });
  EXPECT_NEAR(out1.rate, 1.0, 1e-9);
  EXPECT_NEAR(out2.rate, out1.rate, 1e-3);  // the same address again: no count
  EXPECT_EQ(
      trace,
      (std::vector<std::string>{
          "ratelimit creating new Bloom filter", "ratelimit checking uniqueness of u@d.example",
          "ratelimit event added to Bloom filter", "ratelimit initializing new key's rate data",
          "ratelimit db updated", "ratelimit computed rate 1.0", "ratelimit found key in database",
          "ratelimit checking uniqueness of u@d.example", "ratelimit event found in Bloom filter",
          "ratelimit db updated", "ratelimit computed rate 1.0"}));
  // A period later the filter is new: the address counts again.
  rc.recipient_address = "u@d.example";
  t += std::chrono::hours(2);
  trace.clear();
  compute_ratelimit(store, *spec, "k", t,
                    [&](std::string_view l) { trace.push_back(std::string(l)); });
  EXPECT_EQ(trace[1], "ratelimit discarding old Bloom filter");
}

TEST(RateLimit, TraceInAMailAcl) {
  // exim -bh after "EHLO x" and "MAIL FROM:<a@b.c> SIZE=1000", a fresh
  // hints database.
  AclLab lab(kHead +
             "  warn ratelimit = 1 / 1h / per_rcpt / strict / noupdate\n"
             "  warn ratelimit = 5 / 1h / per_byte / count=3 / unique=abc / somekey\n"
             "  warn ratelimit = 1 / 1h / per_addr\n"
             "  warn ratelimit = 2k / 2h\n"
             "  deny ratelimit = 1 / 1h / per_conn / leaky / readonly\n");
  lab.env.message_size = 1000;
  lab.env.command_data = "<a@test.example>";
  auto r = lab.run("acl_mail", Where::kMail);
  const std::vector<std::string> exim = {
      "check ratelimit = 1 / 1h / per_rcpt / strict / noupdate",
      "ratelimit condition count=0 1.0/1h/per_rcpt/10.0.0.1",
      "ratelimit creating new rate data block",
      "ratelimit initializing new key's rate data",
      "ratelimit db not updated: readonly mode",
      "ratelimit computed rate 0.0",
      "check ratelimit = 5 / 1h / per_byte / count=3 / unique=abc / somekey",
      "ratelimit condition count=3 5.0/1h/per_mail/unique/somekey",
      "ratelimit creating new Bloom filter",
      "ratelimit checking uniqueness of abc",
      "ratelimit event added to Bloom filter",
      "ratelimit initializing new key's rate data",
      "ratelimit db updated",
      "ratelimit computed rate 3.0",
      "check ratelimit = 1 / 1h / per_addr",
      "ratelimit condition count=0 1.0/1h/per_rcpt/unique/10.0.0.1",
      "ratelimit creating new Bloom filter",
      "ratelimit initializing new key's rate data",
      "ratelimit db not updated: readonly mode",
      "ratelimit computed rate 0.0",
      "check ratelimit = 2k / 2h",
      "ratelimit condition count=1 2048.0/2h/per_mail/10.0.0.1",
      "ratelimit creating new rate data block",
      "ratelimit initializing new key's rate data",
      "ratelimit db updated",
      "ratelimit computed rate 1.0",
      "check ratelimit = 1 / 1h / per_conn / leaky / readonly",
  };
  std::vector<std::string> got;
  for (const auto& l : lab.trace)
    if (l.rfind("check ", 0) == 0 || l.rfind("ratelimit", 0) == 0) got.push_back(l);
  EXPECT_EQ(got, exim);
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_EQ(r.reject_log,
            "temporarily rejected MAIL <a@test.example>: error in arguments to \"ratelimit\" "
            "condition: conflicting "
            "update modes");
}

TEST(RateLimit, VariablesAndCaches) {
  AclLab lab(kHead +
             "  warn ratelimit = 2 / 1h / per_conn\n"
             "  warn set acl_m_r = $sender_rate/$sender_rate_limit/$sender_rate_period\n"
             "  accept\n");
  lab.run("acl_mail", Where::kMail);
  EXPECT_EQ(lab.ctx.acl_vars["m_r"], "1.0/2/1h");
  // Per connection: the second run finds the rate computed in the first.
  lab.run("acl_mail", Where::kMail);
  EXPECT_EQ(lab.trace[4], "ratelimit found pre-computed rate 1.0");
  // Without a store the condition defers, as Exim does without its database.
  lab.env.ratelimits = nullptr;
  AclLab none(kHead + "  deny ratelimit = 2 / 1h\n");
  none.env.ratelimits = nullptr;
  auto r = none.run("acl_mail", Where::kMail);
  EXPECT_EQ(r.verdict, Verdict::kDefer);
  EXPECT_EQ(*r.log_message, "ratelimit database not available");
}

TEST(RateLimit, StoreForgetsDecayedRecords) {
  RateLimitStore store;
  RateLimitContext rc;
  auto spec = parse_ratelimit("2 / 1m", rc);
  ASSERT_TRUE(spec.ok());
  auto t = std::chrono::system_clock::from_time_t(1795000000);
  for (int i = 0; i < 5000; ++i) compute_ratelimit(store, *spec, "k" + std::to_string(i), t, {});
  // Ten periods later the first records are gone when the store grows.
  t += std::chrono::minutes(11);
  for (int i = 0; i < 5000; ++i) compute_ratelimit(store, *spec, "n" + std::to_string(i), t, {});
  EXPECT_LT(store.size(), 9000u);
}

}  // namespace
}  // namespace tern::acl
