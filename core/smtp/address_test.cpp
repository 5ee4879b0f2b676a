// core/smtp/address_test.cpp: Exim's address extraction; every expected text
// is the reference Exim 4.96's reply to "MAIL FROM:<input>" (minus "501 <input>: ").
#include "core/smtp/address.hpp"

#include <gtest/gtest.h>

namespace tern::smtp {
namespace {

struct Case {
  std::string in, address, error;
};

TEST(Address, ExtractsLikeExim) {
  const Case cases[] = {
      {"<a@b>", "a@b", ""},
      {"<>", "", ""},
      {"< >", "", ""},
      {"<@x,@y:a@b>", "a@b", ""},
      {"<@x:a@b>", "a@b", ""},
      {"@x:a@b", "a@b", ""},
      {"a@b", "a@b", ""},
      {"Name <a@b>", "a@b", ""},
      {"<a@b> (comment)", "a@b", ""},
      {"(c) <a@b>", "a@b", ""},
      {"<\"a b\"@c>", "\"a b\"@c", ""},
      {"<\"a\\\"b\"@c>", "\"a\\\"b\"@c", ""},
      {"<a\\@b@c>", "a\\@b@c", ""},
      {"<a.@b>", "a.@b", ""},
      {"<a>", "a", ""},
      {"<a@b-.c>", "a@b-.c", ""},
      {"<\xc3\xa9@b>", "\xc3\xa9@b", ""},
      {"<a@b", "", "'>' missing at end of address"},
      {"a@b>", "", "malformed address: > may not follow a@b"},
      {"<a b@c>", "", "\"@\" or \".\" expected after \"a\""},
      {"<a@[1.2.3.4]>", "", "domain literals not allowed"},
      {"<a@b..c>", "", "domain missing or malformed"},
      {"<@b>", "", "no local part"},
      {"<a@>", "", "domain missing or malformed"},
      {"<a@b> FOO=bar", "", "malformed address: FOO=bar may not follow <a@b> "},
      {"<a@b> x", "", "malformed address: x may not follow <a@b> "},
      {"<a@b>x", "", "malformed address: x may not follow <a@b>"},
      {"a@b c@d", "", "malformed address: c@d may not follow a@b "},
      {"<a@b>,<c@d>", "", "malformed address: ,<c@d> may not follow <a@b>"},
      {"<a@b;c>", "", "malformed address: ;c> may not follow <a@b"},
      {"<a@\xc3\xa9>", "", "domain missing or malformed"},
      {"<@x a@b>", "", "no local part"},
      {"<@x,a@b>", "", "colon expected after route list"},
      {"<<a@b>>", "", "missing or malformed local part"},
      {"<a@-b>", "", "domain missing or malformed"},
      {"<a@b.>", "", "domain missing or malformed"},
      {"<a@b_c>", "", "malformed address: _c> may not follow <a@b"},
      {"", "", "empty address"},
      {"<a", "", "\"@\" or \".\" expected after \"a\""},
      {"a b", "", "missing or malformed local part (expected word or \"<\")"},
  };
  for (const auto& c : cases) {
    AddressOptions opt;
    opt.allow_null = true;
    auto r = extract_address(c.in, opt);
    if (c.error.empty()) {
      ASSERT_TRUE(r.ok()) << c.in << ": " << r.error().message;
      EXPECT_EQ(r->address, c.address) << c.in;
    } else {
      ASSERT_FALSE(r.ok()) << c.in;
      EXPECT_EQ(r.error().message, c.error) << c.in;
    }
  }
}

TEST(Address, LengthLimit) {
  std::string lp(255, 'a');  // 257 characters: Exim 4.96's limit is 256
  auto r = extract_address("<" + lp + "@b>", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "address is ridiculously long: " + std::string(64, 'a') + "...");
  EXPECT_TRUE(extract_address("<" + std::string(254, 'a') + "@b>", {}).ok());
}

TEST(Address, NullOnlyWhenAllowed) {
  EXPECT_FALSE(extract_address("<>", {}).ok());
  EXPECT_EQ(extract_address("<>", {}).error().message, "missing or malformed local part");
}

TEST(Address, DomainOffset) {
  auto r = extract_address("<x@y.z>", {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->domain_offset, 2u);
  EXPECT_FALSE(extract_address("<x>", {})->has_domain());
}

TEST(Address, SplitAsEximsRcptAcl) {
  // Checked against Exim 4.96 (-bh, $local_part and $domain in acl_smtp_rcpt).
  auto split = [](std::string_view a) {
    SplitAddress s = split_address(a);
    return s.local_part + "|" + s.domain;
  };
  EXPECT_EQ(split("\"bad key\"@Test.EXAMPLE"), "bad key|test.example");
  EXPECT_EQ(split("\"a\\\"b c\"@x.example"), "a\"b c|x.example");
  EXPECT_EQ(split("Plain@X.Example"), "plain|x.example");
  EXPECT_EQ(split("a@b@c.example"), "a@b|c.example");
}

}  // namespace
}  // namespace tern::smtp
