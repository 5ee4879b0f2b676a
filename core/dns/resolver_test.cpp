// core/dns/resolver_test.cpp: the resolver: answer decoding, /etc/hosts, deadlines; and, run by
// tests/acl/dnslists_test.py inside a network namespace with real nsd and unbound, live queries.
//
// The live tests are DISABLED_ (ctest's discovery skips them: they need the
// servers); the Python test runs them with --gtest_also_run_disabled_tests
// and says where the trust anchor of its signed zone is (TERN_DNS_TRUST_ANCHOR).
#include "core/dns/resolver.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

namespace tern::dns {
namespace {

std::string scratch(const std::string& name, const std::string& text) {
  std::string path =
      ::testing::TempDir() + "tern-dns-test-" + std::to_string(getpid()) + "-" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(Answers, Decoding) {
  module_host::DnsResolver::Answer a;
  a.rdata = {std::string("\x7f\x00\x00\x02", 4),
             std::string("\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", 16)};
  EXPECT_EQ(addresses(a), (std::vector<std::string>{"127.0.0.2", "2001:db8::1"}));
  module_host::DnsResolver::Answer t;
  t.rdata = {std::string("\x05hello\x06 world", 13), std::string("\x00", 1),
             std::string("\x09truncated", 4)};
  EXPECT_EQ(txt_records(t), (std::vector<std::string>{"hello world", "", "tru"}));
}

TEST(Resolver, HostsFileAnswersFirst) {
  ResolverOptions o;
  o.resolv_conf = scratch("resolv.conf", "nameserver 127.0.0.9\n");
  o.hosts = scratch("hosts", "10.1.2.3 myhost.tern-test\n");
  o.timeout = std::chrono::milliseconds(2000);
  Resolver r(o);
  auto a = r.query("myhost.tern-test", kTypeA);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->rcode, 0);
  EXPECT_EQ(addresses(*a), (std::vector<std::string>{"10.1.2.3"}));
  EXPECT_FALSE(a->secure);
}

TEST(Resolver, NoServerMeansADeferWithinTheDeadline) {
  ResolverOptions o;
  o.resolv_conf = scratch("resolv-dead.conf", "nameserver 127.0.0.9\n");
  o.hosts = "";
  o.timeout = std::chrono::milliseconds(300);
  Resolver r(o);
  auto start = std::chrono::steady_clock::now();
  auto a = r.query("nothing.tern-test", kTypeA);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(15));  // a deadline, not libunbound's minutes of retries
  if (a.ok()) {
    EXPECT_NE(a->rcode, 0);  // SERVFAIL from libunbound itself
  } else {
    EXPECT_TRUE(a.error().is_defer());
    EXPECT_NE(a.error().message.find("nothing.tern-test"), std::string::npos);
  }
}

TEST(Resolver, BadFilesAreReported) {
  ResolverOptions o;
  o.resolv_conf = "/nonexistent/resolv.conf";
  Resolver r(o);
  auto a = r.query("x.tern-test", kTypeA);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().message.rfind("reading /nonexistent/resolv.conf: ", 0), 0u)
      << a.error().message;
}

// ---- live: inside the namespace of tests/acl/dnslists_test.py

TEST(Live, DISABLED_AnswersFromTheTestZones) {
  Resolver r;  // /etc/resolv.conf of the namespace
  auto a = r.query("2.0.0.127.dnsbl.test", kTypeA);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->rcode, 0);
  EXPECT_EQ(addresses(*a), (std::vector<std::string>{"127.0.0.2"}));
  EXPECT_GT(a->ttl, 0u);
  EXPECT_LE(a->ttl, 300u);
  auto t = r.query("2.0.0.127.dnsbl.test", kTypeTxt);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(txt_records(*t),
            (std::vector<std::string>{"listed: testsecond string"}));  // strings joined
  auto nx = r.query("9.9.9.9.dnsbl.test", kTypeA);
  ASSERT_TRUE(nx.ok());
  EXPECT_EQ(nx->rcode, 3);
  EXPECT_TRUE(nx->rdata.empty());
  // Several threads at once.
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      auto x = r.query("2.0.0.127.dnsbl.test", kTypeA);
      if (x.ok() && addresses(*x) == std::vector<std::string>{"127.0.0.2"}) ++good;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 8);
}

TEST(Live, DISABLED_SecureWithTheTrustAnchor) {
  const char* anchor = std::getenv("TERN_DNS_TRUST_ANCHOR");
  ASSERT_NE(anchor, nullptr) << "run by tests/acl/dnslists_test.py";
  ResolverOptions o;
  o.trust_anchor_file = anchor;
  Resolver r(o);
  auto s = r.query("www.signed.test", kTypeA);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(addresses(*s), (std::vector<std::string>{"192.0.2.7"}));
  EXPECT_TRUE(s->secure);
  auto u = r.query("2.0.0.127.dnsbl.test", kTypeA);  // unsigned: answered, not secure
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->secure);
  Resolver plain;  // no anchor: nothing is secure
  auto p = plain.query("www.signed.test", kTypeA);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->secure);
}

}  // namespace
}  // namespace tern::dns
