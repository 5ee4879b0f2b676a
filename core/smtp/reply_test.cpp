// core/smtp/reply_test.cpp: reply wire forms and Exim 4.96's fixed texts
// (EHLO lists as the reference Exim printed them with -bs and -bh).
#include "core/smtp/reply.hpp"

#include <gtest/gtest.h>

namespace tern::smtp {
namespace {

TEST(Reply, Format) {
  EXPECT_EQ(format(Reply::make(250, "OK")), "250 OK\r\n");
  Reply r{550, "5.1.1", {"a", "b"}};
  EXPECT_EQ(format(r), "550-5.1.1 a\r\n550 5.1.1 b\r\n");
  EXPECT_EQ(format(Reply::make(250, "x\r\nRCPT")), "250 x\r\n");
}

TEST(Reply, EhloDefaultAsExim) {
  EhloFeatures f;
  f.vrfy = f.expn = f.starttls = true;
  EXPECT_EQ(format(ehlo_reply(hello_text("test.example", "root", "x", ""), f)),
            "250-test.example Hello root at x\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n"
            "250-VRFY\r\n250-EXPN\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-STARTTLS\r\n"
            "250-SMTPUTF8\r\n250 HELP\r\n");
}

TEST(Reply, EhloEverything) {
  EhloFeatures f;
  f.size_limit = 0;
  f.dsn = f.etrn = f.vrfy = f.expn = f.pipe_connect = f.starttls = f.prdr = true;
  f.auth = {"PLAIN", "login"};
  EXPECT_EQ(format(ehlo_reply(hello_text("test.example", "", "x", "1.2.3.4"), f)),
            "250-test.example Hello x [1.2.3.4]\r\n250-SIZE\r\n250-8BITMIME\r\n250-DSN\r\n"
            "250-ETRN\r\n250-VRFY\r\n250-EXPN\r\n250-PIPELINING\r\n250-PIPECONNECT\r\n"
            "250-AUTH PLAIN LOGIN\r\n250-CHUNKING\r\n250-STARTTLS\r\n250-PRDR\r\n"
            "250-SMTPUTF8\r\n250 HELP\r\n");
}

TEST(Reply, HeloBannerHelp) {
  EXPECT_EQ(format(helo_reply(hello_text("test.example", "root", "x.y", ""))),
            "250 test.example Hello root at x.y\r\n");
  EXPECT_EQ(format(banner("test.example", "4.96", "Sun, 29 Nov 2026 09:58:03 +0000")),
            "220 test.example ESMTP Exim 4.96 Sun, 29 Nov 2026 09:58:03 +0000\r\n");
  EXPECT_EQ(format(help_reply(true, false, true, true)),
            "214-Commands supported:\r\n"
            "214 AUTH STARTTLS HELO EHLO MAIL RCPT DATA BDAT NOOP QUIT RSET HELP EXPN VRFY\r\n");
  EXPECT_EQ(
      format(help_reply(true, true, true, true)),
      "214-Commands supported:\r\n"
      "214 AUTH STARTTLS HELO EHLO MAIL RCPT DATA BDAT NOOP QUIT RSET HELP ETRN EXPN VRFY\r\n");
}

TEST(Reply, FixedTexts) {
  EXPECT_EQ(format(replies::start_data()),
            "354 Enter message, ending with \".\" on a line by itself\r\n");
  EXPECT_EQ(format(replies::closing("test.example")), "221 test.example closing connection\r\n");
  EXPECT_EQ(format(replies::reset_ok()), "250 Reset OK\r\n");
  EXPECT_EQ(format(replies::accepted()), "250 Accepted\r\n");
  EXPECT_EQ(format(replies::chunk_received(10)), "250 10 byte chunk received\r\n");
  EXPECT_EQ(format(replies::nul_in_command()),
            "501 NUL characters are not allowed in SMTP commands\r\n");
  EXPECT_EQ(format(replies::lost_connection("test.example")),
            "421 test.example lost input connection\r\n");
}

}  // namespace
}  // namespace tern::smtp
