// core/acl/dnslists_test.cpp: the `dnslists` condition against a resolver whose answers the test
// sets.
//
// The trace and log texts were printed by Exim 4.96 (exim -bh in a network
// namespace whose resolver served the same records; see
// tests/acl/dnslists_test.py for tern against real servers).
#include <gtest/gtest.h>

#include "core/acl/test_support.hpp"

namespace tern::acl {
namespace {

using testing::AclLab;

const std::string kHead = "primary_hostname = test.example\nbegin acl\nacl_rcpt:\n";

// An ACL whose statement `n` reports the dnslist variables.
AclLab lab_with(const std::string& dnslists) {
  return AclLab(kHead + "  warn dnslists = " + dnslists +
                "\n       set acl_m_r = "
                "$dnslist_domain|$dnslist_matched|$dnslist_value|$dnslist_text\n  accept\n");
}

void zone(testing::FakeDns& dns) {
  dns.a("1.0.0.10.dnsbl.test", {"127.0.0.2"}, 299);
  dns.txt("1.0.0.10.dnsbl.test", "10.0.0.1 is listed");
  dns.a("3.0.0.10.dnsbl.test", {"127.0.0.3", "127.0.0.5"});
  dns.a("4.0.0.10.dnsbl.test", {"192.168.1.1"});
  dns.a("example.com.dnsbl.test", {"127.0.0.4"});
  dns.a("1.0.0.10.txt.test", {"127.0.0.2"});
  dns.txt("1.0.0.10.txt.test", "from the txt domain");
}

struct Case {
  std::string host, dnslists, vars;  // vars: "" when not listed
};

TEST(Dnslists, ListingsAndVariables) {
  const Case cases[] = {
      {"10.0.0.1", "dnsbl.test", "dnsbl.test|10.0.0.1|127.0.0.2|10.0.0.1 is listed"},
      {"10.0.0.1", "dnsbl.test=127.0.0.3", ""},
      {"10.0.0.3", "dnsbl.test=127.0.0.3", "dnsbl.test|10.0.0.3|127.0.0.3, 127.0.0.5|"},
      {"10.0.0.3", "dnsbl.test==127.0.0.3", ""},
      {"10.0.0.3", "dnsbl.test==127.0.0.3,127.0.0.5", "dnsbl.test|10.0.0.3|127.0.0.3, 127.0.0.5|"},
      {"10.0.0.1", "dnsbl.test!=127.0.0.2", ""},
      {"10.0.0.3", "dnsbl.test!=127.0.0.2", "dnsbl.test|10.0.0.3|127.0.0.3, 127.0.0.5|"},
      {"10.0.0.3", "dnsbl.test!==127.0.0.3", "dnsbl.test|10.0.0.3|127.0.0.3, 127.0.0.5|"},
      {"10.0.0.3", "dnsbl.test!==127.0.0.3,127.0.0.5", ""},
      {"10.0.0.1", "dnsbl.test&0.0.0.1", ""},
      {"10.0.0.3", "dnsbl.test&0.0.0.1", "dnsbl.test|10.0.0.3|127.0.0.3, 127.0.0.5|"},
      {"10.0.0.3", "dnsbl.test=&0.0.0.1", "dnsbl.test|10.0.0.3|127.0.0.3, 127.0.0.5|"},
      {"10.0.0.3", "dnsbl.test=&0.0.0.2", ""},
      {"10.0.0.3", "dnsbl.test!&0.0.0.2", ""},  // 127.0.0.3 has the bit
      {"10.0.0.3", "dnsbl.test!&0.0.0.8", "dnsbl.test|10.0.0.3|127.0.0.3, 127.0.0.5|"},
      {"10.0.0.4", "dnsbl.test", ""},  // not in 127/8: discarded
      {"10.0.0.1", "txt.test,dnsbl.test", "txt.test|10.0.0.1|127.0.0.2|from the txt domain"},
      {"10.0.0.3", "txt.test,dnsbl.test", ""},  // listed, but not at the TXT domain
      {"10.0.0.9", "dnsbl.test/example.com : nosuch.invalid/x",
       "dnsbl.test|example.com|127.0.0.4|"},
      {"10.0.0.9", "dnsbl.test/<;10.0.0.3;127.0.0.2", "dnsbl.test|10.0.0.3|127.0.0.3, 127.0.0.5|"},
      {"10.0.0.9", "dnsbl.test", ""},
      {"", "dnsbl.test", ""},  // no client address: no match
  };
  for (const auto& c : cases) {
    AclLab lab = lab_with(c.dnslists);
    zone(lab.dns);
    lab.vars.set("sender_host_address", c.host);
    lab.rcpt("x@test.example");
    EXPECT_EQ(lab.ctx.acl_vars["m_r"], c.vars) << c.host << " " << c.dnslists;
  }
}

TEST(Dnslists, TraceIsExims) {
  AclLab lab(
      kHead +
      "  warn dnslists = dnsbl.test\n  warn dnslists = dnsbl.test=127.0.0.3\n"
      "  warn dnslists = dnsbl.test!=127.0.0.2\n  warn dnslists = txt.test,dnsbl.test\n  accept\n");
  zone(lab.dns);
  lab.dns.a("1.0.0.10.txt.test", {"127.0.0.2"}, 300);
  lab.rcpt("x@test.example");
  std::vector<std::string> got;
  for (const auto& l : lab.trace)
    if (l.rfind("processing", 0) != 0 && l.rfind("using", 0) != 0 && l.rfind("end of", 0) != 0)
      got.push_back(l);
  // exim -bh from 10.0.0.1.
  const std::vector<std::string> exim = {
      "check dnslists = dnsbl.test",
      "dnslists check: dnsbl.test",
      "new DNS lookup for 1.0.0.10.dnsbl.test",
      "dnslists: wrote cache entry, ttl=299",
      "DNS lookup for 1.0.0.10.dnsbl.test succeeded (yielding 127.0.0.2)",
      "=> that means 10.0.0.1 is listed at dnsbl.test",
      "warn: condition test succeeded in ACL \"acl_rcpt\"",
      "check dnslists = dnsbl.test=127.0.0.3",
      "dnslists check: dnsbl.test=127.0.0.3",
      "dnslists: using result of previous lookup",
      "DNS lookup for 1.0.0.10.dnsbl.test succeeded (yielding 127.0.0.2)",
      "=> but we are not accepting this block class because",
      "=> there was no match for =127.0.0.3",
      "warn: condition test failed in ACL \"acl_rcpt\"",
      "check dnslists = dnsbl.test!=127.0.0.2",
      "dnslists check: dnsbl.test!=127.0.0.2",
      "dnslists: using result of previous lookup",
      "DNS lookup for 1.0.0.10.dnsbl.test succeeded (yielding 127.0.0.2)",
      "=> but we are not accepting this block class because",
      "=> there was an exclude match for =127.0.0.2",
      "warn: condition test failed in ACL \"acl_rcpt\"",
      "check dnslists = txt.test,dnsbl.test",
      "dnslists check: txt.test,dnsbl.test",
      "dnslists: using result of previous lookup",
      "DNS lookup for 1.0.0.10.dnsbl.test succeeded (yielding 127.0.0.2)",
      "new DNS lookup for 1.0.0.10.txt.test",
      "dnslists: wrote cache entry, ttl=300",
      "DNS lookup for 1.0.0.10.txt.test succeeded (yielding 127.0.0.2)",
      "=> that means 10.0.0.1 is listed at txt.test",
      "warn: condition test succeeded in ACL \"acl_rcpt\"",
      "accept: condition test succeeded in ACL \"acl_rcpt\"",
  };
  EXPECT_EQ(got, exim);
}

TEST(Dnslists, NotIn127IsLogged) {
  AclLab lab = lab_with("dnsbl.test");
  zone(lab.dns);
  lab.vars.set("sender_host_address", "10.0.0.4");
  auto r = lab.rcpt("x@test.example");
  ASSERT_EQ(r.logs.size(), 1u);
  // exim -bh: the same line.
  EXPECT_EQ(r.logs[0].text,
            "DNS list lookup for 10.0.0.4 at dnsbl.test returned 192.168.1.1; not in 127.0/8 and "
            "discarded");
}

TEST(Dnslists, CacheAndExpiry) {
  AclLab lab(kHead + "  warn dnslists = dnsbl.test\n  warn dnslists = dnsbl.test\n  accept\n");
  zone(lab.dns);
  lab.rcpt("x@test.example");
  // Two checks, one A query and one TXT query.
  EXPECT_EQ(lab.dns.queries,
            (std::vector<std::string>{"1.0.0.10.dnsbl.test/1", "1.0.0.10.dnsbl.test/16"}));
  lab.now += std::chrono::seconds(300);  // past the TTL of 299
  lab.rcpt("x@test.example");
  EXPECT_EQ(lab.dns.queries.size(), 4u);
  EXPECT_EQ(lab.trace[4], "cached data found but past valid time; ");
}

TEST(Dnslists, DeferHandling) {
  struct DeferCase {
    std::string item;
    Verdict verdict;
    std::string log;
  };
  const DeferCase cases[] = {
      {"dead.test", Verdict::kDeny,
       "DNS list lookup defer (probably timeout) for 1.0.0.10.dead.test: assumed not in list"},
      {"+include_unknown : dead.test", Verdict::kAccept,
       "DNS list lookup defer (probably timeout) for 1.0.0.10.dead.test: assumed in list"},
      {"+defer_unknown : dead.test", Verdict::kDefer,
       "DNS list lookup defer (probably timeout) for 1.0.0.10.dead.test: returned DEFER"},
  };
  for (const auto& c : cases) {
    AclLab lab(kHead + "  accept dnslists = " + c.item + "\n");
    lab.dns.defer("1.0.0.10.dead.test");
    auto r = lab.rcpt("x@test.example");
    EXPECT_EQ(r.verdict, c.verdict) << c.item;
    ASSERT_FALSE(r.logs.empty()) << c.item;
    EXPECT_EQ(r.logs[0].text, c.log);
  }
  AclLab bad(kHead + "  accept dnslists = +bogus : x.test\n");
  auto r = bad.rcpt("x@test.example");
  ASSERT_FALSE(r.logs.empty());
  EXPECT_EQ(r.logs[0].text, "unknown item in dnslist (ignored): +bogus");
  EXPECT_EQ(r.logs[0].targets, kLogMain | kLogPanic);
}

TEST(Dnslists, AutoKeyedNeedsAClient) {
  AclLab lab(kHead +
             "acl_ns:\n  accept dnslists = dnsbl.test\nacl_ns2:\n  accept dnslists = "
             "dnsbl.test/example.com\n");
  zone(lab.dns);
  auto r = lab.run("acl_ns", Where::kNotSmtp);
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_EQ(*r.log_message, "cannot test auto-keyed dnslists condition in non-SMTP ACL");
  EXPECT_EQ(lab.run("acl_ns2", Where::kNotSmtp).verdict, Verdict::kAccept);
  AclLab odd(kHead + "  accept dnslists = dns!bl.test\n");
  auto o = odd.rcpt("x@test.example");
  ASSERT_FALSE(o.logs.empty());
  EXPECT_EQ(o.logs[0].text,
            "dnslists domain \"dns!bl.test\" contains strange characters - is this right?");
}

}  // namespace
}  // namespace tern::acl
