// modules/mysql/mysql_test.cpp: the mysql module on the SDK's fake host:
// what it registers, ${quote_mysql:}, and Exim's deferral texts for server
// items that are malformed or whose server refuses (a loopback port that
// nobody listens on: no MariaDB needed). The rest runs against a real
// server in mysql_lookup_test.py.
#include <gtest/gtest.h>
#include <tern/module.hpp>
#include <tern/testing.hpp>

#include <string>

#include "../sqllookup/module_test_support.hpp"

extern "C" const tern_module* tern_module_v1(void);

namespace {

using tern::sqllookup::testing::refused_port;

class Mysql : public tern::sqllookup::testing::SqlModuleTest {
 protected:
  Mysql() : SqlModuleTest(tern_module_v1(), "mysql") {}
};

TEST_F(Mysql, Registers) {
  EXPECT_STREQ(tern_module_v1()->name, "mysql");
  tern::sqllookup::testing::expect_registrations(host_, "mysql");
}

TEST_F(Mysql, QuoteAsExim) {
  expect_quotes({
      {"it's a \"test\"\n", "it\\'s a \\\"test\\\"\\n"},  // the battery's case
      {"back\\slash", "back\\\\slash"},
      {"tab\tcr\rbs\b", "tab\\tcr\\rbs\\b"},
      {"x'); drop table t; --", "x\\'); drop table t; --"},
      {"%_ plain", "%_ plain"},  // not wild cards here, as Exim
      {"", ""},
  });
}

TEST_F(Mysql, NoServers) { expect_no_servers("MySQL"); }

TEST_F(Mysql, MalformedItemsStopTheList) {
  expect_deferrals({
      {"a/b : h/d/u/p", "incomplete MySQL server data: a"},
      {"x/y/d/u/p", "unexpected slash in MySQL server hostname: x/y"},
      {"x/y(/run/sock)[grp]/d/u/p", "unexpected slash in MySQL server hostname: x/y"},
  });
}

TEST_F(Mysql, RefusedThenHeldDown) {
  const std::string port = refused_port();
  const std::string refused = "MYSQL connection failed: Can't connect to server on '127.0.0.1' (115)";
  host_.set_option("mysql_servers", "127.0.0.1::" + port + "/db/user/pw");
  auto r = lookup("select 1");
  EXPECT_EQ(r.status, TERN_DEFER);
  EXPECT_EQ(r.error, refused);
  r = lookup("select 2");
  EXPECT_EQ(r.error, "MySQL server \"127.0.0.1:" + port + "/db/user\" held down for 10s after: " + refused);
}

TEST_F(Mysql, MissingSocketInTheItem) {
  host_.set_option("mysql_servers", "(/nonexistent/mysqld.sock)/db/user/pw");
  auto r = lookup("select 1");
  EXPECT_EQ(r.status, TERN_DEFER);
  EXPECT_EQ(r.error,
            "MYSQL connection failed: Can't connect to local server through socket "
            "'/nonexistent/mysqld.sock' (2)");
}

TEST_F(Mysql, ServersOptionNamesAnItem) {
  host_.set_option("mysql_servers", "127.0.0.1::1/db/user/pw");
  auto r = lookup("select 1", "servers=db.example");
  EXPECT_EQ(r.error, "MySQL server \"db.example\" not found in mysql_servers");
}

}  // namespace
