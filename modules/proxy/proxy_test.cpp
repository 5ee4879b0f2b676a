// modules/proxy/proxy_test.cpp: the module's pre-banner hook and variables against the SDK's fake host.
#include <gtest/gtest.h>
#include <tern/module.hpp>
#include <tern/testing.hpp>

extern "C" const tern_module* tern_module_v1(void);

namespace {

using tern::testing::FakeConn;
using tern::testing::FakeHost;

class ProxyModule : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(host_.init().ok());
    host_.set_option("hosts_proxy", "127.0.0.3");
    host_.set_option_int("proxy_protocol_timeout", 3);
    host_.set_host_list_answer("127.0.0.3", TERN_OK);
    host_.set_variable("sender_host_address", "127.0.0.3");
    host_.set_variable("sender_host_port", "40000");
    host_.set_variable("received_ip_address", "127.0.0.1");
    host_.set_variable("received_port", "25");
  }
  std::string var(const char* name) { return host_.variable(name).out; }
  static FakeConn conn_with(std::string input, bool timeout_at_end = false) {
    FakeConn c;
    c.input = std::move(input);
    c.timeout_at_end = timeout_at_end;
    return c;
  }
  FakeHost host_{tern_module_v1()};
};

TEST_F(ProxyModule, HostNotInTheListIsLeftAlone) {
  host_.set_host_list_answer("127.0.0.3", TERN_FAIL);
  FakeConn conn = conn_with("PROXY TCP4 192.0.2.7 198.51.100.2 4242 25\r\n");
  EXPECT_EQ(host_.pre_banner(conn).status, TERN_DECLINE);
  EXPECT_EQ(conn.pos, 0u);  // not a byte read: the PROXY line is an SMTP command
  EXPECT_EQ(var("proxy_session"), "no");
  EXPECT_EQ(var("proxy_external_port"), "0");
}

TEST_F(ProxyModule, UnsetListIsNoProxy) {
  host_.set_option("hosts_proxy", "");
  FakeConn conn = conn_with("PROXY UNKNOWN\r\n");
  EXPECT_EQ(host_.pre_banner(conn).status, TERN_DECLINE);
  EXPECT_EQ(conn.pos, 0u);
}

TEST_F(ProxyModule, V1ReplacesTheClientAndLeavesTheRest) {
  FakeConn conn = conn_with("PROXY TCP4 192.0.2.7 198.51.100.2 4242 587\r\nEHLO x\r\n");
  auto r = host_.pre_banner(conn);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(conn.unread(), "EHLO x\r\n");
  EXPECT_EQ(conn.timeout_ms, 3000u);
  EXPECT_EQ(conn.client_ip, "192.0.2.7");
  EXPECT_EQ(conn.client_port, 4242);
  EXPECT_EQ(conn.local_ip, "127.0.0.1");  // the interface stays ($received_ip_address)
  EXPECT_EQ(conn.local_port, 25);
  EXPECT_EQ(var("proxy_session"), "yes");
  EXPECT_EQ(var("proxy_external_address"), "198.51.100.2");
  EXPECT_EQ(var("proxy_external_port"), "587");
  EXPECT_EQ(var("proxy_local_address"), "127.0.0.3");
  EXPECT_EQ(var("proxy_local_port"), "40000");
  EXPECT_EQ(var("proxy_tlv_ssl"), "no");
}

TEST_F(ProxyModule, UnknownKeepsTheAddresses) {
  FakeConn conn = conn_with("PROXY UNKNOWN\r\n");
  ASSERT_TRUE(host_.pre_banner(conn).ok());
  EXPECT_FALSE(conn.client_ip);
  EXPECT_EQ(var("proxy_session"), "yes");
  EXPECT_EQ(var("proxy_local_address"), "");  // as Exim: nothing replaced, nothing to show
}

TEST_F(ProxyModule, FailureRefusesWithEximsText) {
  FakeConn conn = conn_with("PROXY TCP4 192.0.2.7\r\n");
  auto r = host_.pre_banner(conn);
  EXPECT_EQ(r.status, TERN_FAIL);
  EXPECT_EQ(r.out, "Command refused, required Proxy negotiation failed");
  EXPECT_NE(r.error.find("PROXY negotiation failed: Partial or invalid PROXY header"), std::string::npos) << r.error;
  EXPECT_FALSE(conn.client_ip);
  EXPECT_EQ(var("proxy_session"), "yes");  // Exim: a session, with no external address
  EXPECT_EQ(var("proxy_external_address"), "");
}

TEST_F(ProxyModule, SilenceIsATimeout) {
  FakeConn conn = conn_with("PROXY TCP4 1.2", true);
  auto r = host_.pre_banner(conn);
  EXPECT_EQ(r.status, TERN_FAIL);
  EXPECT_NE(r.error.find("Timeout while reading proxy header"), std::string::npos) << r.error;
}

TEST_F(ProxyModule, OlderCoreIsAnError) {
  FakeHost old(tern_module_v1(), FakeHost::Options{1, false});
  // The descriptor asks for 1.2: a 1.1 core refuses it, as the loader does.
  EXPECT_FALSE(old.init().ok());
}

}  // namespace
