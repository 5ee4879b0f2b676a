// modules/sqllookup/module_test_support.hpp: what the pgsql and mysql unit
// tests (on the SDK's fake host) share: a loopback port nobody listens on,
// and the check of what an SQL module registers.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <tern/testing.hpp>
#include <unistd.h>

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

}  // namespace tern::sqllookup::testing
