// core/acl/verify_test.cpp: the `verify` condition: items, options, what the verifier is asked, the
// messages.
//
// Error texts were printed by Exim 4.96 (exim -bh) for the same conditions.
#include <gtest/gtest.h>

#include "core/acl/test_support.hpp"

namespace tern::acl {
namespace {

using testing::AclLab;

const std::string kHead = "primary_hostname = test.example\nbegin acl\nacl_rcpt:\n";

VerifyOutcome outcome(VerifyOutcome::Rc rc, std::string message) {
  VerifyOutcome o;
  o.rc = rc;
  o.message = std::move(message);
  return o;
}

TEST(Verify, ErrorsAreExims) {
  const std::pair<std::string, std::string> cases[] = {
      {"nosuch",
       "expected \"sender[=address]\", \"recipient\", \"helo\", \"header_syntax\", "
       "\"header_sender\", "
       "\"header_names_ascii\" or \"reverse_host_lookup\" at start of ACL condition \"verify "
       "nosuch\""},
      {"helo/x", "unexpected '/' found in \"helo/x\" (this verify item has no options)"},
      {"header_syntax", "cannot verify header_syntax in ACL for RCPT"},
      {"not_blind", "cannot verify not_blind in ACL for RCPT"},
      {"recipient/nosuch",
       "unknown option \"nosuch\" in ACL condition \"verify recipient/nosuch\""},
      {"recipient/callout=foo", "bad time value in ACL condition \"verify recipient/callout=foo\""},
      {"recipient/callout=maxwait",
       "'=' expected after \"maxwait\" in ACL verify condition \"recipient/callout=maxwait\""},
      {"recipient/callout=mailfrom=x@y",
       "\"mailfrom\" is allowed as a callout option only for verify=header_sender (detected in ACL "
       "condition "
       "\"recipient/callout=mailfrom=x@y\")"},
      {"recipient/callout=use_sender,use_postmaster",
       "only one of use_sender and use_postmaster can be set for a recipient callout"},
      {"sender=x@y/callout=10s,use_sender",
       "use_sender or use_postmaster cannot be used for a sender verify callout"},
      {"senderx",
       "expected \"sender[=address]\", \"recipient\", \"helo\", \"header_syntax\", "
       "\"header_sender\", "
       "\"header_names_ascii\" or \"reverse_host_lookup\" at start of ACL condition \"verify "
       "senderx\""},
  };
  for (const auto& [arg, error] : cases) {
    AclLab lab(kHead + "  deny verify = " + arg + "\n");
    auto r = lab.rcpt("x@test.example");
    EXPECT_EQ(r.verdict, Verdict::kError) << arg;
    EXPECT_EQ(r.log_message ? *r.log_message : "", error) << arg;
  }
}

TEST(Verify, CalloutOptionsReachTheVerifier) {
  AclLab lab(kHead +
             "  accept verify = "
             "recipient/no_details/success_on_redirect/callout=10s,maxwait=1m,connect=5s,"
             "no_cache,random,use_sender,hold,defer_ok\n");
  EXPECT_EQ(lab.rcpt("x@test.example").verdict, Verdict::kAccept);
  ASSERT_EQ(lab.verifier.asked.size(), 1u);
  const VerifyRequest& q = lab.verifier.asked[0];
  EXPECT_EQ(q.address, "x@test.example");
  EXPECT_TRUE(q.no_details && q.success_on_redirect);
  EXPECT_EQ(q.callout.timeout, 10);
  EXPECT_EQ(q.callout.overall, 60);
  EXPECT_EQ(q.callout.connect, 5);
  EXPECT_TRUE(q.callout.no_cache && q.callout.random && q.callout.use_sender && q.callout.hold &&
              q.callout.defer_ok);
  AclLab pm(kHead + "  accept verify = sender/callout=postmaster_mailfrom=pm@x.example\n");
  pm.rcpt("x@test.example");
  ASSERT_EQ(pm.verifier.asked.size(), 1u);
  EXPECT_EQ(pm.verifier.asked[0].callout.postmaster_mailfrom, "pm@x.example");
  EXPECT_EQ(pm.verifier.asked[0].callout.timeout, 30);  // callout without a time: Exim's 30s
}

TEST(Verify, RecipientMessagesAndDefers) {
  AclLab lab(kHead + "  require verify = recipient\n  accept\n");
  VerifyOutcome unknown = outcome(VerifyOutcome::Rc::kFail, "Unrouteable address");
  lab.verifier.recipients["a@test.example"] = unknown;
  VerifyOutcome soft = outcome(VerifyOutcome::Rc::kDefer, "lookup timed out");
  lab.verifier.recipients["b@test.example"] = soft;
  soft.pass_message = true;
  soft.user_message = "451 4.4.3 try again";
  lab.verifier.recipients["c@test.example"] = soft;
  auto a = lab.rcpt("a@test.example");
  EXPECT_EQ(smtp::format(a.reply), "550 Unrouteable address\r\n");  // exim -bh
  EXPECT_EQ(a.reject_log, "F=<a@test.example> rejected RCPT <a@test.example>: Unrouteable address");
  auto b = lab.rcpt("b@test.example");
  EXPECT_EQ(smtp::format(b.reply), "451 Temporary local problem - please try later\r\n");
  EXPECT_EQ(b.reject_log,
            "F=<a@test.example> temporarily rejected RCPT <b@test.example>: lookup timed out");
  auto c = lab.rcpt("c@test.example");  // af_pass_message: the defer says why
  EXPECT_EQ(smtp::format(c.reply), "451 4.4.3 try again\r\n");
  AclLab ok(kHead + "  accept verify = recipient/defer_ok\n");
  ok.verifier.recipients["b@test.example"] = soft;
  EXPECT_EQ(ok.rcpt("b@test.example").verdict, Verdict::kAccept);
  EXPECT_EQ(ok.trace[ok.trace.size() - 3], "verify defer overridden by defer_ok");
}

TEST(Verify, SenderMessages) {
  AclLab lab(kHead + "acl_mail:\n  deny !verify = sender\n  accept\n");
  lab.verifier.senders["s@x.example"] = outcome(VerifyOutcome::Rc::kFail, "Unrouteable address");
  lab.verifier.senders["d@x.example"] = outcome(VerifyOutcome::Rc::kDefer, "timeout");
  VerifyOutcome callout = outcome(VerifyOutcome::Rc::kDefer, "callout timed out");
  callout.callout_defer = true;
  lab.verifier.senders["c@x.example"] = callout;
  auto mail = [&](const std::string& sender) {
    lab.vars.set("sender_address", sender);
    lab.env.command_data = "<" + sender + ">";
    lab.state.new_message();
    return lab.run("acl_mail", Where::kMail);
  };
  auto s = mail("s@x.example");
  EXPECT_EQ(smtp::format(s.reply),
            "550-Verification failed for <s@x.example>\r\n550-Unrouteable address\r\n550 Sender "
            "verify failed\r\n");
  ASSERT_EQ(s.logs.size(), 1u);
  EXPECT_EQ(s.logs[0].text,
            "H=(x) [10.0.0.1] sender verify fail for <s@x.example>: Unrouteable address");
  EXPECT_EQ(s.reject_log, "rejected MAIL <s@x.example>: Sender verify failed");
  auto d = mail("d@x.example");  // a defer: logged, not explained in the reply
  EXPECT_EQ(*d.log_message, "Could not complete sender verify");
  EXPECT_EQ(smtp::format(d.reply), "451 Temporary local problem - please try later\r\n");
  EXPECT_EQ(d.logs[0].text, "H=(x) [10.0.0.1] sender verify defer for <d@x.example>: timeout");
  auto c = mail("c@x.example");  // a callout defer may say why
  EXPECT_EQ(*c.log_message, "Could not complete sender verify callout");
  EXPECT_EQ(smtp::format(c.reply), "451 Could not complete sender verify callout\r\n");
  EXPECT_EQ(mail("").verdict, Verdict::kAccept);  // nothing to verify for <>
  EXPECT_EQ(lab.verifier.asked.size(), 3u);
  AclLab other(kHead + "  accept verify = sender=other@x.example\n");
  other.rcpt("x@test.example");
  ASSERT_EQ(other.verifier.asked.size(), 1u);
  EXPECT_EQ(other.verifier.asked[0].address, "other@x.example");
  EXPECT_TRUE(other.verifier.asked[0].fake_sender);
}

TEST(Verify, HeloHostNameCertificate) {
  AclLab lab(kHead +
             "  deny !verify = helo\n  deny !verify = reverse_host_lookup\n"
             "  deny !verify = certificate\n       message = $acl_verify_message\n  accept\n");
  lab.verifier.helo = false;
  EXPECT_EQ(lab.rcpt("x@test.example").verdict, Verdict::kDeny);
  lab.verifier.helo = true;
  auto r = lab.rcpt("x@test.example");
  EXPECT_EQ(
      *r.log_message,
      "host lookup failed (failed to find host name from IP address)");
  lab.verifier.name = {VerifyOutcome::Rc::kOk, "mx.example", ""};
  r = lab.rcpt("x@test.example");
  EXPECT_EQ(smtp::format(r.reply), "550 no verified certificate\r\n");  // exim -bh
  lab.vars.set("tls_in_certificate_verified", "1");
  EXPECT_EQ(lab.rcpt("x@test.example").verdict, Verdict::kAccept);
  AclLab none(kHead + "  accept verify = recipient\n");
  none.env.verifier = nullptr;
  EXPECT_EQ(*none.rcpt("x@test.example").log_message,
            "cannot verify recipient without an SMTP session");
}

TEST(Verify, HeaderChecks) {
  AclLab lab(kHead +
             "acl_data:\n  deny !verify = header_syntax\n  deny !verify = header_names_ascii\n"
             "  deny !verify = not_blind\n  accept\n");
  std::vector<std::string> recipients = {"r@test.example", "s@test.example"};
  lab.env.recipients = &recipients;
  auto data = [&](std::vector<std::string> headers) {
    lab.env.header_lines = &headers;
    return lab.run("acl_data", Where::kData);
  };
  auto bad = data({"To: bad address <\n", "From: a@test.example\n"});
  // exim -bh: the reject line after DATA.
  EXPECT_EQ(*bad.log_message,
            "missing or malformed local part: failing address in \"To:\" header is: bad address <");
  EXPECT_EQ(smtp::format(bad.reply), "550 Administrative prohibition\r\n");
  auto unq = data({"To: r@test.example, s\n", "From: a@test.example\n"});
  EXPECT_EQ(*unq.log_message,
            "unqualified address not permitted: failing address in \"To:\" header is: s");
  EXPECT_EQ(
      data({"To: Friends: r@test.example, s@test.example;\n", "Cc: undisclosed-recipients:;\n"})
          .verdict,
      Verdict::kAccept);
  auto blind = data({"To: r@test.example\n"});
  EXPECT_EQ(*blind.log_message, "bcc recipient detected");
  auto ascii = data({"X-B\xe4\x64: 1\n", "To: r@test.example, s@test.example\n"});
  EXPECT_EQ(*ascii.log_message, "Invalid character in header \"X-B\xe4\x64\" found");
}

}  // namespace
}  // namespace tern::acl
