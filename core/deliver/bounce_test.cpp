// core/deliver/bounce_test.cpp: the failure report's text, as Exim's deliver.c writes it.
#include "core/deliver/bounce.hpp"

#include <gtest/gtest.h>

namespace tern::deliver {
namespace {

FailureReport report() {
  FailureReport r;
  r.recipient = r.sender = "s@client.example";
  r.qualify_domain = "q.example";
  r.primary_hostname = "mx.example";
  r.boundary = "B";
  r.headers = {"Return-path: <s@client.example>\n", "Subject: hi\n", "Message-ID: <m@c>\n"};
  r.body = "body\n";
  r.data_file_size = 30;
  return r;
}

TEST(Bounce, LongRemoteErrorBreaksAfterAColonAsExim) {
  FailureReport r = report();
  ReportedAddress a;
  a.address = a.top = "u@remote.example";
  a.host = Host{};
  a.host->name = "mx.remote.example";
  a.host->address = "192.0.2.1";
  a.message = "SMTP error from remote mail server after RCPT TO:<u@remote.example>: 550 5.1.1 unknown: gone";
  r.addresses.push_back(a);
  ReportText t = failure_report(r);
  EXPECT_NE(t.body.find("  u@remote.example\n    host mx.remote.example [192.0.2.1]\n"
                        "    SMTP error from remote mail server after RCPT TO:<u@remote.example>:\n"
                        "    550 5.1.1 unknown: gone\n"),
            std::string::npos)
      << t.body;
  EXPECT_NE(t.body.find("Remote-MTA: dns; mx.remote.example\nDiagnostic-Code: smtp; 550 5.1.1 unknown: gone\n"),
            std::string::npos);
  EXPECT_EQ(t.headers[4], "References: <m@c>\n");
}

TEST(Bounce, ToAnErrorsAddressNamesTheSender) {
  FailureReport r = report();
  r.recipient = "postmaster@q.example";
  ReportedAddress a;
  a.address = "child@x.example";
  a.top = "list@x.example";
  a.ultimately = true;
  r.addresses.push_back(a);
  ReportText t = failure_report(r);
  EXPECT_EQ(t.headers.back(), "Subject: Mail delivery failed\n");
  EXPECT_NE(t.body.find("\nA message sent by\n\n  <s@client.example>\n\ncould not be delivered to one or more of "
                        "its recipients. The following\naddress(es) failed:\n\n  child@x.example\n"
                        "    (ultimately generated from list@x.example)\n"),
            std::string::npos)
      << t.body;
}

TEST(Bounce, HeadersOnlyWhenAskedOrTooBig) {
  FailureReport r = report();
  r.addresses.push_back(ReportedAddress{"a@b", "a@b", false, "", std::nullopt, "x"});
  r.dsn_ret = 1;  // RET=HDRS: headers, no Exim notice
  std::string body = failure_report(r).body;
  EXPECT_NE(body.find("Content-type: text/rfc822-headers\n\nReturn-path: <s@client.example>\n"), std::string::npos);
  EXPECT_EQ(body.find("X-Exim-DSN-Information"), std::string::npos);
  EXPECT_EQ(body.find("body\n"), std::string::npos);
  r.dsn_ret = 0;
  r.return_size_limit = 1024;
  r.data_file_size = 8193;  // over the limit rounded up to Exim's 8 KiB buffer
  body = failure_report(r).body;
  EXPECT_NE(body.find("Message-ID: <m@c>\nX-Exim-DSN-Information: Due to administrative limits only headers are "
                      "returned\n\n\n--B--\n"),
            std::string::npos)
      << body;
  r.data_file_size = 8192;
  body = failure_report(r).body;
  EXPECT_NE(body.find("Content-type: message/rfc822\n\n"), std::string::npos);
  EXPECT_NE(body.find("\n\nbody\n\n--B--\n"), std::string::npos);
}

TEST(Bounce, WarningsDueAsEximCountsThem) {
  // delay_warning = 3s: at 6s two were due (one is sent), shown as 6s.
  WarningsDue w = warnings_due({3}, 6);
  EXPECT_EQ(w.count, 2);
  EXPECT_EQ(w.shown, 6);
  EXPECT_EQ(warnings_due({3}, 2).count, 0);
  // 1h:4h:1d: after 5h, two; after 3 days, the last gap (20h) repeats.
  w = warnings_due({3600, 14400, 86400}, 18000);
  EXPECT_EQ(w.count, 2);
  EXPECT_EQ(w.shown, 14400);
  w = warnings_due({3600, 14400, 86400}, 3 * 86400);
  EXPECT_EQ(w.count, 3 + 2);  // (259200 - 86400) / 72000 more
  EXPECT_EQ(w.shown, 86400 + 72000 * 2);
}

}  // namespace
}  // namespace tern::deliver
