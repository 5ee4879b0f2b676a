// core/smtp/input_test.cpp: command framing, overlong lines, pipelining
// synchronisation, BDAT accounting and the STARTTLS discard.
#include "core/smtp/input.hpp"

#include <gtest/gtest.h>

namespace tern::smtp {
namespace {

TEST(CommandLine, Framing) {
  auto l = next_command_line("NOOP\r\nQUIT\r\n");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->text, "NOOP\r");
  EXPECT_EQ(l->consumed, 6u);
  EXPECT_EQ(next_command_line("NOOP\nQUIT")->text, "NOOP");  // bare LF ends a command
  EXPECT_FALSE(next_command_line("NOOP\rQUIT"));             // bare CR does not
  EXPECT_FALSE(next_command_line(""));
}

TEST(CommandLine, OverlongAsExim) {
  // 16383 bytes + CR LF is the longest line Exim accepts (buffer of 16384).
  std::string ok = "NOOP " + std::string(16378, 'a') + "\r\n";
  auto l = next_command_line(ok);
  ASSERT_TRUE(l);
  EXPECT_FALSE(l->overlong);
  EXPECT_EQ(identify(l->text).verb, Verb::kNoop);
  // One more byte: unrecognised, and the rest of the line is another command.
  std::string big = "NOOP " + std::string(16379, 'a') + "\r\nQUIT\r\n";
  l = next_command_line(big);
  ASSERT_TRUE(l);
  EXPECT_TRUE(l->overlong);
  EXPECT_EQ(l->consumed, kCommandMax + 1);
  auto rest = next_command_line(std::string_view(big).substr(l->consumed));
  EXPECT_EQ(rest->text, "");
  EXPECT_EQ(identify(rest->text).verb, Verb::kUnknown);
  EXPECT_FALSE(next_command_line(std::string(100, 'a'), 200));
}

TEST(Sync, WhichCommandsMustWait) {
  struct Case {
    std::string line;
    bool pipelining, want;
  } cases[] = {
      {"EHLO x", true, true},           {"HELO x", true, true},         {"DATA", true, true},
      {"VRFY a", true, true},           {"EXPN a", true, true},         {"NOOP", true, true},
      {"ETRN x", true, true},           {"STARTTLS", true, true},       {"FOO", true, true},
      {"MAIL FROM:<a@b>", true, false}, {"RCPT TO:<a@b>", true, false}, {"RSET", true, false},
      {"MAIL FROM:<a@b>", false, true}, {"RCPT TO:<a@b>", false, true}, {"RSET", false, true},
      {"BDAT 1", false, false},         {"AUTH PLAIN", false, false},   {"QUIT", false, false},
      {"HELP", false, false},           {"DATA x", true, true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(sync_violation(identify(c.line), c.pipelining, true), c.want) << c.line;
    EXPECT_FALSE(sync_violation(identify(c.line), c.pipelining, false)) << c.line;
    EXPECT_FALSE(sync_violation(identify(c.line), c.pipelining, true, false)) << c.line;
  }
  EXPECT_FALSE(sync_violation(identify(std::string("A\0B", 3)), true, true));
  EXPECT_FALSE(sync_violation(identify("NOOP", true), true, true));
  EXPECT_TRUE(greeting_sync_violation(true, false));
  EXPECT_FALSE(greeting_sync_violation(true, true));
  EXPECT_TRUE(bdat_sync_violation(false, true));
  EXPECT_FALSE(bdat_sync_violation(true, true));
  EXPECT_EQ(format(replies::sync_error()), "554 SMTP synchronization error\r\n");
}

TEST(Bdat, ChunkAccounting) {
  BdatChunk c(BdatCommand{5, false});
  EXPECT_EQ(c.take("ab"), "ab");
  EXPECT_FALSE(c.complete());
  EXPECT_EQ(c.take("cdeQUIT\r\n"), "cde");
  EXPECT_TRUE(c.complete());
  EXPECT_EQ(c.take("more"), "");
  EXPECT_FALSE(c.last());
}

TEST(Starttls, DiscardsPipelinedPlaintext) {
  std::string buf = "STARTTLS\r\nMAIL FROM:<evil@x>\r\n";
  auto l = next_command_line(buf);
  EXPECT_EQ(identify(l->text).verb, Verb::kStarttls);
  EXPECT_EQ(starttls_discard(std::string_view(buf).substr(l->consumed)), 20u);
}

}  // namespace
}  // namespace tern::smtp
