// core/smtp/state_test.cpp: command sequencing and the error counters,
// replaying sessions run against the reference Exim 4.96.
#include "core/smtp/state.hpp"

#include <gtest/gtest.h>

namespace tern::smtp {
namespace {

std::string run(SessionState& s, std::string_view line) {
  Command c = identify(line);
  Outcome o = s.on_command(c);
  if (o.proceed) {
    switch (c.verb) {
      case Verb::kMail:
        o = s.check_mail();
        if (o.proceed) {
          s.mail_accepted();
          return "250 OK\r\n";
        }
        break;
      case Verb::kRcpt: {
        o = s.check_rcpt();
        if (!o.proceed) break;
        bool bad = c.argument.substr(0, 4) == "<bad";
        s.rcpt_response(bad ? "no such user" : "Accepted", !bad);
        return bad ? "550 no such user\r\n" : "250 Accepted\r\n";
      }
      case Verb::kData:
        o = s.check_data(Verb::kData);
        if (o.proceed) return "354\r\n";
        break;
      case Verb::kBdat:
        o = s.check_data(Verb::kBdat);
        if (o.proceed) return "BDAT\r\n";
        break;
      case Verb::kRset:
        s.rset();
        return "250 Reset OK\r\n";
      default:
        return "go\r\n";
    }
  }
  return format(*o.reply) + (o.drop ? "DROP\r\n" : "");
}

SessionState ehlo() {
  SessionState s;
  s.helo_accepted(true, true, true);
  return s;
}

TEST(State, DataWithoutRecipients) {
  SessionState s = ehlo();
  EXPECT_EQ(run(s, "MAIL FROM:<a@b>"), "250 OK\r\n");
  EXPECT_EQ(run(s, "DATA"), "503 valid RCPT command must precede DATA\r\n");
}

TEST(State, AllRecipientsRejectedSameError) {
  SessionState s = ehlo();
  run(s, "MAIL FROM:<a@b>");
  EXPECT_EQ(run(s, "RCPT TO:<bad@b>"), "550 no such user\r\n");
  EXPECT_EQ(run(s, "RCPT TO:<bad2@b>"), "550 no such user\r\n");
  EXPECT_EQ(run(s, "DATA"),
            "503-All RCPT commands were rejected with this error:\r\n503-no such user\r\n"
            "503 Valid RCPT command must precede DATA\r\n");
}

TEST(State, RejectedDifferently) {
  SessionState s = ehlo();
  run(s, "MAIL FROM:<a@b>");
  run(s, "RCPT TO:<bad@b>");
  s.rcpt_response("Administrative prohibition", false);
  EXPECT_EQ(run(s, "BDAT 3 LAST"), "503 Valid RCPT command must precede BDAT\r\n");
}

TEST(State, SenderSequencing) {
  SessionState s = ehlo();
  EXPECT_EQ(run(s, "RCPT TO:<a@b>"), "503 sender not yet given\r\n");
  run(s, "MAIL FROM:<a@b>");
  EXPECT_EQ(run(s, "MAIL FROM:<a@b>"), "503 sender already given\r\n");
  EXPECT_EQ(run(s, "RSET"), "250 Reset OK\r\n");
  EXPECT_EQ(run(s, "RCPT TO:<a@b>"), "503 sender not yet given\r\n");
  EXPECT_EQ(run(s, "RCPT TO:<a@b>"),
            "503-sender not yet given\r\n503 Too many syntax or protocol errors\r\nDROP\r\n");
}

TEST(State, TooManyUnrecognised) {
  SessionState s = ehlo();
  EXPECT_EQ(run(s, "FOO"), "500 unrecognized command\r\n");
  EXPECT_EQ(run(s, "BAR"), "500 unrecognized command\r\n");
  EXPECT_EQ(run(s, "BAZ"), "500 unrecognized command\r\n");
  EXPECT_EQ(run(s, "QUX"), "500 Too many unrecognized commands\r\nDROP\r\n");
}

TEST(State, TooManySynprot) {
  SessionState s = ehlo();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(run(s, "DATA x"), "501 unexpected argument data\r\n");
  EXPECT_EQ(run(s, "DATA x"),
            "501-unexpected argument data\r\n501 Too many syntax or protocol errors\r\nDROP\r\n");
}

TEST(State, HeloErrorsDropWithoutExtraLine) {
  SessionState s;
  Reply bad = Reply::make(501, "Syntactically invalid HELO argument(s)");
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(s.helo_error(bad).drop);
  Outcome o = s.helo_error(bad);
  EXPECT_TRUE(o.drop);
  EXPECT_EQ(format(*o.reply), "501 Syntactically invalid HELO argument(s)\r\n");
}

TEST(State, Nonmail) {
  SessionState s = ehlo();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(run(s, "NOOP"), "go\r\n") << i;
  EXPECT_EQ(run(s, "NOOP"), "554 Too many nonmail commands\r\nDROP\r\n");
  SessionState t = ehlo();
  for (int i = 0; i < 10; ++i) run(t, "NOOP");
  EXPECT_EQ(run(t, "RSET"), "250 Reset OK\r\n");  // one RSET per message is free
}

TEST(State, ChunkingSequence) {
  SessionState s = ehlo();
  EXPECT_TRUE(s.check_bdat_allowed().proceed);
  s.chunk_started(false);
  EXPECT_TRUE(s.in_chunking(identify("BDAT 5 LAST")).proceed);
  Outcome o = s.in_chunking(identify("MAIL FROM:<a@b>"));
  EXPECT_EQ(format(*o.reply), "503 only BDAT permissible after non-LAST BDAT\r\n");
  o = s.in_chunking(identify("BDAT 5"));
  EXPECT_EQ(format(*o.reply), "503 only RSET accepted now\r\n");
  EXPECT_TRUE(s.in_chunking(identify("RSET")).proceed);
  SessionState h;
  h.helo_accepted(false, false, false);
  EXPECT_EQ(format(*h.check_bdat_allowed().reply),
            "503 BDAT command used when CHUNKING not advertised\r\n");
}

TEST(State, BuiltInRcptErrorIsQuotedWithItsCode) {
  // Exim captures printf-style replies whole: "503-501 <>: missing ...".
  SessionState s = ehlo();
  run(s, "MAIL FROM:<a@b>");
  s.on_command(identify("RCPT TO:<>"));
  EXPECT_TRUE(s.check_rcpt().proceed);
  s.rcpt_response("501 <>: missing or malformed local part", false);
  EXPECT_EQ(run(s, "DATA"),
            "503-All RCPT commands were rejected with this error:\r\n"
            "503-501 <>: missing or malformed local part\r\n"
            "503 Valid RCPT command must precede DATA\r\n");
}

TEST(State, HeloRequired) {
  SessionLimits l;
  l.helo_required = true;
  SessionState s(l);
  EXPECT_EQ(run(s, "MAIL FROM:<a@b>"), "503 HELO or EHLO required\r\n");
}

}  // namespace
}  // namespace tern::smtp
