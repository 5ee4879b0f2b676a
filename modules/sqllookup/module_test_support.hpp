// modules/sqllookup/module_test_support.hpp: what the pgsql and mysql unit
// tests (on the SDK's fake host) share: a loopback port nobody listens on,
// a fixture with the module loaded, and the checks of what an SQL module
// registers, how it quotes and which texts its deferrals carry.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <tern/testing.hpp>
#include <unistd.h>

#include <initializer_list>
#include <map>
#include <string>
#include <utility>

namespace tern::sqllookup::testing {

// A loopback TCP port nothing listens on (the kernel's choice, released):
// a connection to it is refused at once.
inline std::string refused_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return std::to_string(ntohs(a.sin_port));
}

// The lookup type `type` (query style, may block, with a quote function)
// and its four options with their types and defaults.
inline void expect_registrations(const tern::testing::FakeHost& host, const std::string& type) {
  ASSERT_EQ(host.lookups().size(), 1u);
  const auto& l = host.lookups()[0];
  EXPECT_EQ(l.name, type);
  EXPECT_EQ(l.def.flags, TERN_LOOKUP_QUERY | TERN_MAY_BLOCK);
  EXPECT_NE(l.def.quote, nullptr);
  using Options = std::map<std::string, std::pair<tern_option_type, std::string>>;
  Options options;
  for (const auto& o : host.options()) options[o.name] = {o.type, o.default_value.value_or("(unset)")};
  EXPECT_EQ(options, (Options{
                         {type + "_servers", {TERN_OPT_STRING, "(unset)"}},
                         {type + "_connect_timeout", {TERN_OPT_TIME, "5s"}},
                         {type + "_query_timeout", {TERN_OPT_TIME, "10s"}},
                         {type + "_hold_down", {TERN_OPT_TIME, "10s"}},
                     }));
}

// The module of this test binary (its own tern_module_v1) on a fake host.
class SqlModuleTest : public ::testing::Test {
 protected:
  SqlModuleTest(const tern_module* module, std::string type) : type_(std::move(type)), host_(module) {}
  void SetUp() override { ASSERT_EQ(host_.init().status, TERN_OK); }
  tern::testing::Result lookup(const std::string& query, const std::string& options = "") {
    return host_.lookup(type_, query, "", options);
  }

  // An input and what the module makes of it.
  struct Case {
    const char* in;
    const char* want;
  };
  // ${quote_<type>:in} is `want` for each case; options are refused (the
  // core words the refusal: "x" unrecognized after "${quote_<type>").
  void expect_quotes(std::initializer_list<Case> cases) {
    for (const auto& c : cases) EXPECT_EQ(host_.quote(type_, c.in).out, c.want) << c.in;
    EXPECT_EQ(host_.quote(type_, "a", "x").status, TERN_ERROR);
  }
  // Without <type>_servers, a lookup defers with Exim's text naming the
  // lookup as `display` ("MySQL").
  void expect_no_servers(const std::string& display) {
    auto r = lookup("select 1");
    EXPECT_EQ(r.status, TERN_DEFER);
    EXPECT_EQ(r.error, "no " + display + " servers defined (" + type_ + "_servers option)");
  }
  // With <type>_servers = `in`, a lookup defers with `want`.
  void expect_deferrals(std::initializer_list<Case> cases) {
    for (const auto& c : cases) {
      host_.set_option(type_ + "_servers", c.in);
      auto r = lookup("select 1");
      EXPECT_EQ(r.status, TERN_DEFER) << c.in;
      EXPECT_EQ(r.error, c.want) << c.in;
    }
  }

  const std::string type_;
  tern::testing::FakeHost host_;
};

}  // namespace tern::sqllookup::testing
