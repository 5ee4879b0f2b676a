// core/module_host/conn_test.cpp: the pre-banner connection over a socketpair.
#include "core/module_host/conn.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace tern::module_host {
namespace {

class Conn : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0); }
  void TearDown() override {
    close(fds_[0]);
    if (fds_[1] >= 0) close(fds_[1]);
  }
  int fds_[2] = {-1, -1};
};

TEST_F(Conn, ReadsNeverMoreThanAsked) {
  const std::string sent = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nEHLO x\r\n";
  ASSERT_EQ(write(fds_[1], sent.data(), sent.size()), static_cast<ssize_t>(sent.size()));
  tern_conn c = make_conn(fds_[0], std::chrono::milliseconds(500), "127.0.0.1", 1000, "127.0.0.1", 25);
  char buf[5];
  size_t got = 0;
  ASSERT_EQ(conn_read(&c, buf, sizeof buf, &got), TERN_OK);
  EXPECT_EQ(std::string(buf, got), "PROXY");
  // The rest is still on the socket for the SMTP session.
  char rest[100];
  ssize_t n = read(fds_[0], rest, sizeof rest);
  EXPECT_EQ(std::string(rest, static_cast<size_t>(n)), sent.substr(5));
}

TEST_F(Conn, DeadlineAndEndOfInput) {
  tern_conn c = make_conn(fds_[0], std::chrono::milliseconds(50), "", 0, "", 0);
  char buf[8];
  size_t got = 99;
  EXPECT_EQ(conn_read(&c, buf, sizeof buf, &got), TERN_DEFER);
  EXPECT_EQ(got, 0u);
  close(fds_[1]);
  fds_[1] = -1;
  c = make_conn(fds_[0], std::chrono::milliseconds(500), "", 0, "", 0);
  EXPECT_EQ(conn_read(&c, buf, sizeof buf, &got), TERN_OK);
  EXPECT_EQ(got, 0u);
}

TEST_F(Conn, ModuleTimeoutShortensButNeverExtends) {
  tern_conn c = make_conn(fds_[0], std::chrono::milliseconds(30000), "", 0, "", 0);
  ASSERT_EQ(conn_set_timeout(&c, 50), TERN_OK);
  char buf[8];
  size_t got = 99;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(conn_read(&c, buf, sizeof buf, &got), TERN_DEFER);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(10000));  // not the core's 30 s
  c = make_conn(fds_[0], std::chrono::milliseconds(50), "", 0, "", 0);
  ASSERT_EQ(conn_set_timeout(&c, 60000), TERN_OK);
  EXPECT_EQ(c.deadline, c.core_deadline);
  EXPECT_EQ(conn_set_timeout(nullptr, 1), TERN_ERROR);
}

TEST_F(Conn, ReplacesAddresses) {
  tern_conn c = make_conn(fds_[0], std::chrono::milliseconds(50), "127.0.0.1", 1000, "127.0.0.1", 25);
  EXPECT_EQ(conn_set_addresses(&c, {"192.0.2.7", 9}, 4242, {"2001:db8::1", 11}, 25), TERN_OK);
  EXPECT_TRUE(c.addresses_replaced);
  EXPECT_EQ(c.client_ip, "192.0.2.7");
  EXPECT_EQ(c.client_port, 4242);
  EXPECT_EQ(c.local_ip, "2001:db8::1");
  EXPECT_EQ(conn_set_addresses(&c, {"not-an-ip", 9}, 1, {"127.0.0.1", 9}, 2), TERN_ERROR);
  EXPECT_EQ(c.client_ip, "192.0.2.7");
}

}  // namespace
}  // namespace tern::module_host
