// core/log/selector_test.cpp: log_selector names, defaults and parsing, with the error texts
// Exim 4.96 printed for the same settings (`exim -C conf -bV`, see README.md).
#include "core/log/selector.hpp"

#include <gtest/gtest.h>

namespace tern::log {
namespace {

TEST(Selector, NamesRoundTripInEximOrder) {
  std::string previous;
  for (int i = 0; i < kSelectorCount; ++i) {
    Selector s = static_cast<Selector>(i);
    std::string name(selector_name(s));
    EXPECT_LT(previous, name) << "Exim's table is alphabetical";
    previous = name;
    ASSERT_TRUE(selector_by_name(name).has_value()) << name;
    EXPECT_EQ(*selector_by_name(name), s);
  }
  EXPECT_EQ(kSelectorCount, 56);  // every name the 4.96 binary accepts, "all" and alias aside
  EXPECT_EQ(selector_by_name("rejected_headers"), Selector::kRejectedHeader);
  EXPECT_FALSE(selector_by_name("all").has_value());
  EXPECT_FALSE(selector_by_name("bogus").has_value());
}

TEST(Selector, DefaultsAreExim496s) {
  Selectors d = Selectors::defaults();
  const Selector on[] = {Selector::kAclWarnSkipped,
                         Selector::kConnectionReject,
                         Selector::kDelayDelivery,
                         Selector::kDkim,
                         Selector::kDnslistDefer,
                         Selector::kEtrn,
                         Selector::kHostLookupFailed,
                         Selector::kLostIncomingConnection,
                         Selector::kOutgoingInterface,
                         Selector::kMsgId,
                         Selector::kQueueRun,
                         Selector::kQueueTimeExclusive,
                         Selector::kRejectedHeader,
                         Selector::kRetryDefer,
                         Selector::kSenderVerifyFail,
                         Selector::kSizeReject,
                         Selector::kSkipDelivery,
                         Selector::kSmtpConfirmation,
                         Selector::kTlsCertificateVerified,
                         Selector::kTlsCipher};
  int count = 0;
  for (int i = 0; i < kSelectorCount; ++i) count += d.on(static_cast<Selector>(i));
  EXPECT_EQ(count, 20);
  for (Selector s : on) EXPECT_TRUE(d.on(s)) << selector_name(s);
  EXPECT_FALSE(d.on(Selector::kSmtpConnection));
  EXPECT_FALSE(d.on(Selector::kPid));
}

TEST(Selector, ParsesPlusMinusAllAndSeveralItems) {
  auto s = parse_log_selector("+smtp_connection  -retry_defer\t+pid");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(s->on(Selector::kSmtpConnection));
  EXPECT_TRUE(s->on(Selector::kPid));
  EXPECT_FALSE(s->on(Selector::kRetryDefer));
  EXPECT_TRUE(s->on(Selector::kTlsCipher));  // defaults kept

  auto all = parse_log_selector("+all -pid");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->on(Selector::kSubject));
  EXPECT_FALSE(all->on(Selector::kPid));

  auto none = parse_log_selector("-all +smtp_no_mail");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, Selectors::of({Selector::kSmtpNoMail}));

  auto alias = parse_log_selector("-rejected_headers");
  ASSERT_TRUE(alias.ok());
  EXPECT_FALSE(alias->on(Selector::kRejectedHeader));

  EXPECT_EQ(*parse_log_selector(""), Selectors::defaults());
  EXPECT_EQ(*parse_log_selector("   "), Selectors::defaults());
}

TEST(Selector, ErrorsAreExims) {
  struct Case {
    const char* setting;
    const char* error;
  } cases[] = {
      // Exim 4.96: "Exim configuration error:\n  unknown log_selector setting: +bogus"
      {"+bogus", "unknown log_selector setting: +bogus"},
      {"+pid -nope", "unknown log_selector setting: -nope"},
      {"smtp_connection",
       "malformed log_selector setting: + or - expected but found \"smtp_connection\""},
      {"+all -pid foo", "malformed log_selector setting: + or - expected but found \"foo\""},
      {"+pid,+millisec",
       "malformed log_selector setting: + or - expected but found \",+millisec\""},
      {"+", "unknown log_selector setting: +"},
  };
  for (const Case& c : cases) {
    auto r = parse_log_selector(c.setting);
    ASSERT_FALSE(r.ok()) << c.setting;
    EXPECT_EQ(r.error().message, c.error);
  }
  auto numeric = parse_log_selector("=12");
  ASSERT_FALSE(numeric.ok());
  EXPECT_NE(numeric.error().message.find("not supported"), std::string::npos);
}

}  // namespace
}  // namespace tern::log
