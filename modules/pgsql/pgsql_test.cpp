// modules/pgsql/pgsql_test.cpp: the pgsql module on the SDK's fake host:
// what it registers, ${quote_pgsql:}, and Exim's deferral texts for server
// items that are malformed or whose server refuses (a loopback port that
// nobody listens on: no PostgreSQL needed). The rest runs against a real
// server in pgsql_lookup_test.py.
#include <gtest/gtest.h>
#include <tern/module.hpp>
#include <tern/testing.hpp>

#include <string>

#include "../sqllookup/module_test_support.hpp"

extern "C" const tern_module* tern_module_v1(void);

namespace {

using tern::sqllookup::testing::refused_port;
using tern::testing::FakeHost;

class Pgsql : public tern::sqllookup::testing::SqlModuleTest {
 protected:
  Pgsql() : SqlModuleTest(tern_module_v1(), "pgsql") {}
};

TEST_F(Pgsql, Registers) {
  EXPECT_STREQ(tern_module_v1()->name, "pgsql");
  tern::sqllookup::testing::expect_registrations(host_, "pgsql");
}

TEST_F(Pgsql, DiscoveryRegistersOnly) {
  FakeHost discovery(tern_module_v1(), {.discovery = true});
  ASSERT_EQ(discovery.init().status, TERN_OK);
  EXPECT_EQ(discovery.lookups().size(), 1u);
}

TEST_F(Pgsql, QuoteAsExim) {
  expect_quotes({
      {"it's a \"test\"", "it''s a \\\"test\\\""},  // the battery's case
      {"back\\slash", "back\\\\slash"},
      {"nl\ntab\tcr\rbs\b", "nl\\ntab\\tcr\\rbs\\b"},
      {"x'); drop table t; --", "x''); drop table t; --"},
      {"%_ plain", "%_ plain"},
      {"", ""},
  });
}

TEST_F(Pgsql, NoServers) { expect_no_servers("PostgreSQL"); }

TEST_F(Pgsql, MalformedItemsStopTheList) {
  expect_deferrals({
      {"a/b : h/d/u/p", "incomplete pgSQL server data: a"},
      {"(/tmp/nodot)/d/u/p", "PGSQL invalid filename for socket: /tmp/nodot"},
      {"(nodir.5432)/d/u/p", "PGSQL invalid filename for socket: nodir.5432"},
      {"x/y/d/u/p", "unexpected slash in pgSQL server hostname: x/y"},
  });
}

TEST_F(Pgsql, RefusedThenHeldDown) {
  const std::string port = refused_port();
  const std::string refused = "PGSQL connection failed: connection to server at \"127.0.0.1\", port " +
                              port +
                              " failed: Connection refused\n\tIs the server running on that host "
                              "and accepting TCP/IP connections?\n";
  host_.set_option("pgsql_servers", "127.0.0.1::" + port + "/db/user/pw");
  auto r = lookup("select 1");
  EXPECT_EQ(r.status, TERN_DEFER);
  EXPECT_EQ(r.error, refused);
  r = lookup("select 2");
  EXPECT_EQ(r.status, TERN_DEFER);
  EXPECT_EQ(r.error, "PostgreSQL server \"127.0.0.1:" + port + "/db/user\" held down for 10s after: " + refused);
  // Another item (here another password) is another server: tried.
  r = lookup("select 3", "servers=127.0.0.1::" + port + "/db/user/other");
  EXPECT_EQ(r.error, refused);
}

TEST_F(Pgsql, NoHoldDownWhenZero) {
  const std::string port = refused_port();
  host_.set_option("pgsql_servers", "127.0.0.1::" + port + "/db/user/pw");
  host_.set_option_int("pgsql_hold_down", 0);
  for (int i = 0; i < 2; ++i) {
    auto r = lookup("select 1");
    EXPECT_EQ(r.error.rfind("PGSQL connection failed: ", 0), 0u) << r.error;
  }
}

TEST_F(Pgsql, ServersOptionNamesAnItem) {
  host_.set_option("pgsql_servers", "127.0.0.1::1/db/user/pw");
  auto r = lookup("select 1", "servers=db.example");
  EXPECT_EQ(r.status, TERN_DEFER);
  EXPECT_EQ(r.error, "PostgreSQL server \"db.example\" not found in pgsql_servers");
}

}  // namespace
