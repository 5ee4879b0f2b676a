// core/acl/reply_test.cpp: reply codes, multi-line messages and the long-line split (smtp_in.c's
// rules).
//
// The expected replies were sent by Exim 4.96 (exim -bh) for the same
// `message =` texts in a RCPT ACL (default code 550), MAIL (550) and VRFY (252).
#include <gtest/gtest.h>

#include "core/acl/evaluator.hpp"

namespace tern::acl::detail {
namespace {

std::string refuse(const std::string& message, Rc rc = Rc::kFail, Where where = Where::kRcpt) {
  RefusalInput in;
  in.where = where;
  in.rc = rc;
  in.user_message = std::make_shared<const std::string>(message);
  in.log_message = in.user_message;
  in.temp_details = true;
  std::string s = smtp::format(build_refusal(in).reply);
  for (size_t p; (p = s.find('\r')) != std::string::npos;) s.erase(p, 1);
  return s;
}

TEST(Replies, CodesInMessages) {
  const std::pair<std::string, std::string> cases[] = {
      {"hello 551 5.7.1 x", "550 hello 551 5.7.1 x\n"},  // only at the start
      {"551 5.7.1 4.4.4 multi esc\nline2",
       "551-5.7.1 4.4.4 multi esc\n551 5.7.1 line2\n"},  // one ESC
      {"551\tx", "551 x\n"},
      {"551 5.7.1", "551 5.7.1\n"},  // an ESC needs white space after it
      {"5511 x", "550 5511 x\n"},
      {"\n\nleading\n\n", "550-\n550-leading\n550 \n"},
      {"551-dash", "550 551-dash\n"},
      {"450 wrong digit", "550 wrong digit\n"},
      {"line one\nline two\n  line three", "550-line one\n550-line two\n550 line three\n"},
  };
  for (const auto& [msg, want] : cases) EXPECT_EQ(refuse(msg), want) << msg;
  EXPECT_EQ(refuse("452 4.2.2 full", Rc::kDefer), "452 4.2.2 full\n");
  EXPECT_EQ(refuse("550 vrfy no", Rc::kFail, Where::kVrfy), "550 vrfy no\n");
  EXPECT_EQ(refuse("x", Rc::kFail, Where::kEtrn), "458 x\n");
}

TEST(Replies, WrongDigitFixesTheLogToo) {
  RefusalInput in;
  in.where = Where::kMail;
  in.rc = Rc::kFail;
  in.user_message = std::make_shared<const std::string>("450 wrong digit");
  in.log_message = in.user_message;  // the same string: the log is fixed too
  in.command_data = "<code@x.y>";
  Refusal r = build_refusal(in);
  ASSERT_EQ(r.logs.size(), 1u);
  EXPECT_EQ(
      r.logs[0].text,
      "configured error code starts with incorrect digit (expected 5) in \"450 wrong digit\"");
  EXPECT_EQ(r.reject_log, "rejected MAIL <code@x.y>: 550 wrong digit");
  in.log_message =
      std::make_shared<const std::string>("450 wrong digit");  // equal text, another string
  EXPECT_EQ(build_refusal(in).reject_log, "rejected MAIL <code@x.y>: 450 wrong digit");
}

TEST(Replies, DeferDetails) {
  RefusalInput in;
  in.where = Where::kRcpt;
  in.rc = Rc::kDefer;
  in.user_message = std::make_shared<const std::string>("try later please");
  EXPECT_EQ(smtp::format(build_refusal(in).reply),
            "451 Temporary local problem - please try later\r\n");
  in.temp_details = true;
  EXPECT_EQ(smtp::format(build_refusal(in).reply), "451 try later please\r\n");
  in.rc = Rc::kError;
  in.temp_details = false;
  in.command_data = "<x@y>";
  EXPECT_EQ(build_refusal(in).reject_log, "temporarily rejected RCPT <x@y>");
  in.log_message = in.user_message;
  EXPECT_EQ(build_refusal(in).reject_log, "temporarily rejected RCPT <x@y>: try later please");
}

TEST(Replies, Split) {
  // exim -bh answered "550-This is a rather long message that Exim splits
  // into several lines:" then "550 at a space after a colon ...".
  EXPECT_EQ(
      split_message(
          "This is a rather long message that Exim splits into several lines: at a space after a "
          "colon preferably, or else at any space it finds"),
      "This is a rather long message that Exim splits into several lines:\nat a space after a "
      "colon "
      "preferably, or else at any space it finds");
  EXPECT_EQ(split_message("short"), "short");
  std::string no_space(80, 'x');
  EXPECT_EQ(split_message(no_space), no_space);
  std::string late = std::string(80, 'y') + " tail";
  EXPECT_EQ(split_message(late), std::string(80, 'y') + "\ntail");
}

TEST(Replies, Lines) {
  EXPECT_EQ(reply_lines("a\nb", false), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(reply_lines("a\n", false), (std::vector<std::string>{"a"}));
  EXPECT_EQ(reply_lines("a\n  b", false), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(reply_lines("a\nb", true), (std::vector<std::string>{"a"}));
}

}  // namespace
}  // namespace tern::acl::detail
