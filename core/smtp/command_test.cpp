// core/smtp/command_test.cpp: verb recognition and MAIL/RCPT/BDAT/HELO
// parsing; expected replies are the reference Exim 4.96's (see testdata/exim.conf).
#include "core/smtp/command.hpp"

#include <gtest/gtest.h>

namespace tern::smtp {
namespace {

TEST(Identify, Verbs) {
  struct Case {
    std::string line;
    Verb verb;
    std::string arg;
  } cases[] = {
      {"EHLO x", Verb::kEhlo, "x"},
      {"ehlo x  \r", Verb::kEhlo, "x"},
      {"MAIL FROM:<a@b>", Verb::kMail, "<a@b>"},
      {"mail from: <a@b>", Verb::kMail, "<a@b>"},
      {"MAIL  FROM:<a@b>", Verb::kUnknown, ""},
      {"MAIL FROM <a@b>", Verb::kUnknown, ""},
      {"MAIL", Verb::kUnknown, ""},
      {"RCPT TO:<a@b>", Verb::kRcpt, "<a@b>"},
      {"DATA", Verb::kData, ""},
      {"DATA   ", Verb::kData, ""},
      {"DATA x", Verb::kBadArgument, "x"},
      {"RSET x", Verb::kBadArgument, "x"},
      {"QUIT x", Verb::kBadArgument, "x"},
      {"STARTTLS x", Verb::kBadArgument, "x"},
      {"NOOP x", Verb::kNoop, "x"},
      {"NOOP\rQUIT", Verb::kUnknown, ""},
      {"N\xc3\xa9OP", Verb::kUnknown, ""},
      {"HELO\tx", Verb::kUnknown, ""},
      {"BDAT 10 LAST", Verb::kBdat, "10 LAST"},
      {"STARTTLS", Verb::kStarttls, ""},
      {"AUTH PLAIN", Verb::kAuth, "PLAIN"},
      {"VRFY a", Verb::kVrfy, "a"},
      {"EXPN a", Verb::kExpn, "a"},
      {"HELP", Verb::kHelp, ""},
      {"ETRN x", Verb::kEtrn, "x"},
      {"FOO", Verb::kUnknown, ""},
      {std::string("NO\0OP", 5), Verb::kNul, ""},
  };
  for (const auto& c : cases) {
    Command cmd = identify(c.line);
    EXPECT_EQ(cmd.verb, c.verb) << c.line;
    EXPECT_EQ(cmd.argument, c.arg) << c.line;
  }
  EXPECT_EQ(identify("NOOP", true).verb, Verb::kUnknown);
  EXPECT_EQ(identify("DATA x").matched, Verb::kData);
}

std::string mail_reply(std::string_view arg, MailOptions opt = {}) {
  auto r = parse_mail(arg, opt);
  return r.ok() ? format(mail_accepted(r.value->prdr)) : format(r.rejection->reply);
}

TEST(Mail, RepliesAsExim) {
  struct Case {
    std::string arg, reply;
  } cases[] = {
      {"<a@b>", "250 OK\r\n"},
      {"<>", "250 OK\r\n"},
      {"", "501 MAIL must have an address operand\r\n"},
      {"<a@b> FOO=bar", "501 <a@b> FOO=bar: malformed address: FOO=bar may not follow <a@b> \r\n"},
      {"<a@b> SIZE=abc", "250 OK\r\n"},
      {"<a@b> SIZE=", "250 OK\r\n"},
      {"<a@b> BODY=9BIT", "501 invalid data for BODY\r\n"},
      {"<a@b> BODY=8bitmime", "250 OK\r\n"},
      {"<a@b> SMTPUTF8", "250 OK\r\n"},
      {"<a@b> RET=HDRS", "250 OK\r\n"},  // DSN not advertised: ignored
      {"<a@b> AUTH=<>", "250 OK\r\n"},
      {"<a@b> AUTH=a+2", "501 invalid data for AUTH\r\n"},
      {"<a@b> AUTH=a+zz", "501 invalid data for AUTH\r\n"},
      {"<a@b> SMTPUTF8 SIZE=5", "250 OK\r\n"},
      {"<a@b> SIZE=5 BODY=8BITMIME", "250 OK\r\n"},
      {"<a@b> SIZE=99999999999", "552 Message size exceeds maximum permitted\r\n"},
      {"<a@b> BODY=7BIT FOO",
       "501 <a@b> BODY=7BIT FOO: malformed address: BODY=7BIT FOO may not follow <a@b> \r\n"},
      {"<a@b> SIZE=10 SIZE=abc",
       "501 <a@b> SIZE=10: malformed address: SIZE=10 may not follow <a@b> \r\n"},
      {"<a@b>\tSIZE=1", "250 OK\r\n"},
      {"<a@b", "501 <a@b: '>' missing at end of address\r\n"},
  };
  for (const auto& c : cases) EXPECT_EQ(mail_reply(c.arg), c.reply) << c.arg;
}

TEST(Mail, DsnAndPrdr) {
  MailOptions opt;
  opt.dsn_advertised = true;
  opt.prdr_enable = true;
  opt.size_limit = 0;
  EXPECT_EQ(mail_reply("<a@b> RET=XX", opt), "501 Value for RET is invalid\r\n");
  EXPECT_EQ(mail_reply("<a@b> RET=FULL RET=HDRS", opt), "501 RET can be specified once only\r\n");
  EXPECT_EQ(mail_reply("<a@b> ENVID=x ENVID=y", opt), "501 ENVID can be specified once only\r\n");
  EXPECT_EQ(mail_reply("<a@b> PRDR RET=FULL ENVID=abc", opt), "250 OK, PRDR Requested\r\n");
  auto m = parse_mail("<a@b> SIZE=-1 RET=hdrs ENVID=q AUTH=x+2By", opt);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m.value->size, 2147483647);
  EXPECT_EQ(m.value->ret, Ret::kHdrs);
  EXPECT_EQ(*m.value->envid, "q");
  EXPECT_EQ(*m.value->auth, "x+y");
  EXPECT_EQ(m.value->data, "<a@b>");
}

TEST(Mail, NoParametersAfterHelo) {
  MailOptions opt;
  opt.esmtp = false;
  EXPECT_EQ(mail_reply("<a@b> SIZE=10", opt),
            "501 <a@b> SIZE=10: malformed address: SIZE=10 may not follow <a@b> \r\n");
}

TEST(Mail, Smtputf8NotAdvertised) {
  MailOptions opt;
  opt.smtputf8_advertised = false;
  EXPECT_EQ(mail_reply("<a@b> SMTPUTF8", opt), "501 SMTPUTF8 used when not advertised\r\n");
}

TEST(Rcpt, RepliesAsExim) {
  auto reply = [](std::string_view arg, RcptOptions opt = {}) {
    auto r = parse_rcpt(arg, opt);
    return r.ok() ? std::string("ok:") + r.value->recipient.address : format(r.rejection->reply);
  };
  EXPECT_EQ(reply(""), "501 RCPT must have an address operand\r\n");
  EXPECT_EQ(reply("<>"), "501 <>: missing or malformed local part\r\n");
  EXPECT_EQ(reply("<a@b> NOTIFY=NEVER"),
            "501 <a@b> NOTIFY=NEVER: malformed address: NOTIFY=NEVER may not follow <a@b> \r\n");
  EXPECT_EQ(reply("<c@d>"), "ok:c@d");
  RcptOptions dsn;
  dsn.dsn_advertised = true;
  EXPECT_EQ(reply("<c@d> NOTIFY=SUCCESS,BOGUS", dsn), "501 Invalid value for NOTIFY parameter\r\n");
  EXPECT_EQ(reply("<c@d> NOTIFY=SUCCESS NOTIFY=DELAY", dsn),
            "501 NOTIFY can be specified once only\r\n");
  EXPECT_EQ(reply("<c@d> ORCPT=rfc822;x@y ORCPT=rfc822;z", dsn),
            "501 ORCPT can be specified once only\r\n");
  auto r = parse_rcpt("<c@d> ORCPT=rfc822;x@y NOTIFY=SUCCESS,FAILURE,DELAY", dsn);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->notify, kNotifySuccess | kNotifyFailure | kNotifyDelay);
  EXPECT_EQ(*r.value->orcpt, "rfc822;x@y");
}

TEST(Rcpt, Qualification) {
  auto a = parse_rcpt("<x>", {});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(format(*check_qualified(a.value->recipient, "<x>", "recipient", false)),
            "501 <x>: recipient address must contain a domain\r\n");
  EXPECT_FALSE(check_qualified(parse_rcpt("<Postmaster>", {}).value->recipient, "<Postmaster>",
                               "recipient", false));
  auto m = parse_mail("<a>", {});
  EXPECT_EQ(format(*check_qualified(m.value->sender, "<a>", "sender", false)),
            "501 <a>: sender address must contain a domain\r\n");
  EXPECT_FALSE(check_qualified(m.value->sender, "<a>", "sender", true));
}

TEST(Helo, CheckHelo) {
  auto ok = [](Verb v, std::string_view a) { return parse_helo(v, a, {}).ok(); };
  EXPECT_TRUE(ok(Verb::kHelo, "x.y"));
  EXPECT_TRUE(ok(Verb::kEhlo, "[1.2.3.4]"));
  EXPECT_TRUE(ok(Verb::kEhlo, "[IPv6:::1]"));
  EXPECT_FALSE(ok(Verb::kEhlo, "[1.2.3]"));
  EXPECT_FALSE(ok(Verb::kEhlo, "a b"));
  EXPECT_FALSE(ok(Verb::kHelo, "a_b"));
  EXPECT_FALSE(ok(Verb::kHelo, ""));
  EXPECT_EQ(format(parse_helo(Verb::kHelo, "", {}).rejection->reply),
            "501 Syntactically invalid HELO argument(s)\r\n");
  EXPECT_EQ(format(parse_helo(Verb::kEhlo, "", {}).rejection->reply),
            "501 Syntactically invalid EHLO argument(s)\r\n");
  HeloOptions under;
  under.allow_chars = "_";
  EXPECT_TRUE(parse_helo(Verb::kHelo, "a_b", under).ok());
}

TEST(Bdat, Arguments) {
  auto b = parse_bdat("10 LAST");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b.value->size, 10u);
  EXPECT_TRUE(b.value->last);
  EXPECT_TRUE(parse_bdat("10   last").value->last);
  EXPECT_FALSE(parse_bdat("10 LASTX").value->last);
  EXPECT_FALSE(parse_bdat("10").value->last);
  EXPECT_EQ(parse_bdat("+5").value->size, 5u);
  EXPECT_EQ(parse_bdat("-1").value->size, 4294967295u);
  EXPECT_EQ(parse_bdat("4294967296").value->size, 0u);  // glibc: modulo 2^32
  EXPECT_EQ(parse_bdat("99999999999999999999999").value->size, 4294967295u);
  EXPECT_EQ(format(parse_bdat("").rejection->reply), "501 missing size for BDAT command\r\n");
  EXPECT_EQ(format(parse_bdat("x").rejection->reply), "501 missing size for BDAT command\r\n");
}

TEST(Vrfy, Errors) {
  EXPECT_EQ(format(parse_vrfy("").rejection->reply), "501 empty address\r\n");
  EXPECT_EQ(format(parse_vrfy("<a").rejection->reply),
            "501 \"@\" or \".\" expected after \"a\"\r\n");
  EXPECT_EQ(format(parse_vrfy("a b").rejection->reply),
            "501 missing or malformed local part (expected word or \"<\")\r\n");
}

TEST(Auth, Mechanism) {
  auto a = parse_auth("PLAIN AGEAYg==");
  EXPECT_EQ(a.mechanism, "PLAIN");
  EXPECT_EQ(*a.initial, "AGEAYg==");
  EXPECT_EQ(format(auth_unsupported(parse_auth("").mechanism)),
            "504  authentication mechanism not supported\r\n");
  EXPECT_EQ(format(auth_unsupported("FOO")), "504 FOO authentication mechanism not supported\r\n");
}

TEST(Xtext, Decode) {
  EXPECT_EQ(*xtext_decode("a+2Bb"), "a+b");
  EXPECT_FALSE(xtext_decode("a+2"));
  EXPECT_FALSE(xtext_decode("a=b"));
  EXPECT_FALSE(xtext_decode("a b"));
}

}  // namespace
}  // namespace tern::smtp
