// core/deliver/retry_rules_test.cpp: retry rules read, matched and applied as Exim's retry.c.
#include "core/deliver/retry_rules.hpp"

#include <gtest/gtest.h>

#include <cerrno>

#include "core/deliver/transport.hpp"

namespace tern::deliver {
namespace {

RetryItem item_of(std::vector<RetryRule> rules) {
  RetryItem i;
  i.pattern = "*";
  i.error = "*";
  i.rules = std::move(rules);
  return i;
}

TEST(RetryRules, ErrorNames) {
  int basic = 0, more = 0;
  ASSERT_TRUE(parse_retry_error("quota_3d", &basic, &more).ok());
  EXPECT_EQ(basic, kErrQuota);
  EXPECT_EQ(more, 3 * 86400);
  ASSERT_TRUE(parse_retry_error("timeout_connect_MX", &basic, &more).ok());
  EXPECT_EQ(basic, ETIMEDOUT);
  EXPECT_EQ(more, 0x100 | 'M');
  ASSERT_TRUE(parse_retry_error("rcpt_45x", &basic, &more).ok());
  EXPECT_EQ(basic, kErrRcpt4xx);
  EXPECT_EQ(more, 150);
  ASSERT_TRUE(parse_retry_error("lost_connection", &basic, &more).ok());
  EXPECT_EQ(basic, kErrSmtpClosed);
  auto bad = parse_retry_error("rcpt_5xx", &basic, &more);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "unknown or malformed retry error name \"rcpt_5xx\"");
}

TEST(RetryRules, FixedIntervalThenExpired) {
  RetryItem i = item_of({{'F', 3600, 900, 1000}});
  RetryTimes t = next_retry(i, 1000, 1000, 1000, 1000, 86400, 0.0);
  EXPECT_EQ(t.next_try, 1900);
  EXPECT_FALSE(t.expired);
  t = next_retry(i, 1000 + 3601, 1000, 1000, 1000, 86400, 0.0);
  EXPECT_TRUE(t.expired);  // past the last rule's cutoff: the last rule goes on
  EXPECT_EQ(t.next_try, 1000 + 3601 + 900);
}

TEST(RetryRules, GeometricGrowsFromTheShorterGap) {
  // F,2h,15m; G,16h,1h,1.5: in the G rule, the next gap is 1.5 times the last one (the
  // predicted or the actual, whichever is shorter), at least an hour.
  RetryItem i = item_of({{'F', 7200, 900, 1000}, {'G', 57600, 3600, 1500}});
  std::int64_t first = 0;
  RetryTimes t = next_retry(i, 8000, first, 7000, 7900, 86400, 0.0);
  EXPECT_EQ(t.next_try, 8000 + 3600);  // last gap 900 < 1h
  t = next_retry(i, 20000, first, 16000, 20000, 86400, 0.0);
  EXPECT_EQ(t.next_try, 20000 + 6000);  // 4000 * 1.5
  t = next_retry(i, 30000, first, 10000, 30000, 3000, 0.0);
  EXPECT_EQ(t.next_try, 33000);  // retry_interval_max caps it
}

TEST(RetryRules, HaphazardAddsARandomPart) {
  RetryItem i = item_of({{'H', 86400, 600, 2000}});
  // last gap 1000: next gap 2000; H: 600 + (2000-600)/2 + random part of (2000-600)/2.
  EXPECT_EQ(next_retry(i, 5000, 0, 4000, 5000, 86400, 0.0).next_try, 5000 + 600 + 700);
  EXPECT_EQ(next_retry(i, 5000, 0, 4000, 5000, 86400, 0.5).next_try, 5000 + 600 + 700 + 350);
}

TEST(RetryRules, FormatForBrt) {
  RetryItem i = item_of({{'F', 7200, 900, 1000}, {'G', 57600, 3600, 1500}, {'H', 345600, 21600, 2000}});
  i.basic_errno = kErrQuota;
  i.more_errno = 604800;
  EXPECT_EQ(format_retry_item(i), "Retry rule: *  quota_1w  F,2h,15m; G,16h,1h,1.5; H,4d,6h; ");
  EXPECT_EQ(final_cutoff(i), 345600);
}

}  // namespace
}  // namespace tern::deliver
