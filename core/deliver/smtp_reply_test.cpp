// core/deliver/smtp_reply_test.cpp: reassembling replies from bytes split anywhere, and refusing bad ones.
#include "core/deliver/smtp_reply.hpp"

#include <gtest/gtest.h>

namespace tern::deliver {
namespace {

// Feed `wire` in pieces of `step` bytes, collecting every reply.
std::vector<SmtpReply> parse_all(std::string_view wire, size_t step, std::string* error = nullptr) {
  ReplyParser p;
  std::vector<SmtpReply> out;
  for (size_t at = 0; at < wire.size(); at += step) {
    p.feed(wire.substr(at, step));
    while (auto r = p.next()) {
      if (!r->ok()) {
        if (error != nullptr) *error = r->error().message;
        return out;
      }
      out.push_back(std::move(**r));
    }
  }
  return out;
}

TEST(ReplyParser, MultiLineRepliesInAnyPieces) {
  std::string wire =
      "220 mx.example ESMTP\r\n"
      "250-mx.example Hello\r\n250-PIPELINING\r\n250 CHUNKING\r\n"
      "354\r\n"
      "250 OK id=1abc\n";  // a bare LF ends a line too
  for (size_t step : {1, 2, 3, 7, 100}) {
    std::vector<SmtpReply> r = parse_all(wire, step);
    ASSERT_EQ(r.size(), 4u) << "step " << step;
    EXPECT_EQ(r[0].code, 220);
    EXPECT_EQ(r[1].code, 250);
    EXPECT_EQ(r[1].lines, (std::vector<std::string>{"250-mx.example Hello", "250-PIPELINING",
                                                     "250 CHUNKING"}));
    EXPECT_EQ(r[2].code, 354);
    EXPECT_EQ(r[2].lines, std::vector<std::string>{"354"});
    EXPECT_EQ(r[3].text(), "250 OK id=1abc");
  }
}

TEST(ReplyParser, IncompleteReplyWaits) {
  ReplyParser p;
  p.feed("250-first\r\n250 sec");
  EXPECT_FALSE(p.next().has_value());
  p.feed("ond\r\n");
  auto r = p.next();
  ASSERT_TRUE(r && r->ok());
  EXPECT_EQ((*r)->text(), "250-first\n250 second");
  EXPECT_EQ(p.buffered(), 0u);
}

TEST(ReplyParser, PrintableFormEscapesLineBreaks) {
  SmtpReply r{550, {"550-5.1.1 no such user", "550 5.1.1 go\taway"}};
  EXPECT_EQ(r.printable(), "550-5.1.1 no such user\\n550 5.1.1 go\\taway");
  EXPECT_TRUE(r.permanent());
  EXPECT_FALSE(r.temporary());
}

TEST(ReplyParser, BadRepliesAreProtocolErrors) {
  struct Case {
    std::string name, wire, want;
  } cases[] = {
      {"not digits", "hello\r\n", "malformed SMTP reply: hello"},
      {"short", "25\r\n", "malformed SMTP reply: 25"},
      {"bad separator", "250xOK\r\n", "malformed SMTP reply: 250xOK"},
      {"code changes", "250-a\r\n251 b\r\n",
       "malformed SMTP reply: code changes within a reply: 251 b"},
      {"control chars shown", "\x01\x02zz\r\n", "malformed SMTP reply: \\001\\002zz"},
      {"line too long", "250 " + std::string(ReplyParser::kMaxLine + 10, 'x'),
       "SMTP reply line too long"},
  };
  for (const Case& c : cases) {
    std::string error;
    std::vector<SmtpReply> r = parse_all(c.wire, 5, &error);
    EXPECT_TRUE(r.empty()) << c.name;
    EXPECT_EQ(error, c.want) << c.name;
  }
}

TEST(ReplyParser, TooManyLines) {
  std::string wire;
  for (size_t i = 0; i <= ReplyParser::kMaxLines; ++i) wire += "250-x\r\n";
  wire += "250 end\r\n";
  std::string error;
  EXPECT_TRUE(parse_all(wire, 64, &error).empty());
  EXPECT_EQ(error, "SMTP reply has too many lines");
}

TEST(ReplyParser, ErrorIsFinal) {
  ReplyParser p;
  p.feed("bad\r\n250 OK\r\n");
  auto r = p.next();
  ASSERT_TRUE(r && !r->ok());
  auto again = p.next();
  ASSERT_TRUE(again && !again->ok());
}

}  // namespace
}  // namespace tern::deliver
