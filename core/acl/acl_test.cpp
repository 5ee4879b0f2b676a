// core/acl/acl_test.cpp: the engine's rules one by one: configuration errors, run-time errors,
// verbs, messages, controls, modules, ${acl}, blocking, threads.
//
// Texts marked "exim -bh" or "exim -bV" were printed by Exim 4.96 for the
// same ACL line (scripts/exim-ref.sh); exim_replay_test.cpp compares whole
// sessions.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <thread>

#include "core/acl/test_support.hpp"
#include "core/module_host/host.hpp"

namespace tern::acl {
namespace {

using testing::AclLab;

const std::string kHead = "primary_hostname = test.example\nbegin acl\nacl_rcpt:\n";

// ---------------------------------------------------------------- configuration errors

struct CompileCase {
  std::string name, body, error;  // error after "CONF:<line>: "
};

// Exim's texts (exim -bV, "error in ACL: ..." after "line N of FILE").
TEST(Compile, ErrorsAreExims) {
  const CompileCase cases[] = {
      {"unknown condition", "  accept foo = bar\n",
       "4: error in ACL: unknown ACL condition/modifier in \"accept foo = bar\""},
      {"unknown on its own line", "  accept\n    !hosts = 1.2.3.4\n    foo=bar\n",
       "6: error in ACL: unknown ACL condition/modifier in \"foo=bar\""},
      {"negated verb", "  accept\n  !accept\n", "5: error in ACL: malformed ACL line \"!accept\""},
      {"negated modifier", "  accept !message = x\n",
       "4: error in ACL: ACL error: negation is not allowed with \"message\""},
      {"negated endpass", "  warn\n  accept !endpass\n",
       "5: error in ACL: ACL error: negation is not allowed with \"endpass\""},
      {"endpass on deny", "  deny endpass\n",
       "4: error in ACL: ACL error: \"endpass\" is not allowed with \"deny\""},
      {"no equals (condition)", "  accept hosts\n",
       "4: error in ACL: \"=\" missing after ACL \"hosts\" condition"},
      {"no equals after word", "  accept hosts x\n",
       "4: error in ACL: \"=\" missing after ACL \"hosts\" condition"},
      {"no equals (modifier)", "  accept set acl_m1\n",
       "4: error in ACL: \"=\" missing after ACL \"set\" modifier"},
      {"set name", "  warn set foo = 1\n",
       "4: error in ACL: invalid variable name after \"set\" in ACL modifier \"set foo = 1\" (must "
       "start \"acl_c\" or "
       "\"acl_m\")"},
      {"set digit", "  warn set acl_c-x = 1\n",
       "4: error in ACL: invalid variable name after \"set\" in ACL modifier \"set acl_c-x = 1\" "
       "(digit or underscore "
       "must follow acl_c or acl_m)"},
      {"set character", "  warn set acl_c_x-y = 1\n",
       "4: error in ACL: invalid character \"-\" in variable name in ACL modifier \"set acl_c_x-y "
       "= 1\""},
      // tern's own: a condition of a first-party module that is not loaded,
      // and what tern leaves out.
      {"spf", "  accept spf = pass\n",
       "4: ACL condition \"spf\" is not supported: tern has no SPF support"},
      {"dkim control", "  accept control = dkim_disable_verify\n",
       "4: control \"dkim_disable_verify\" is not supported: tern has no DKIM support"},
  };
  for (const auto& c : cases) {
    AclLab lab(kHead + c.body);
    EXPECT_EQ(lab.norm(lab.load_error), "CONF:" + c.error) << c.name;
  }
}

// What discovery says the modules that are not loaded would bring.
class Unloaded final : public expand::Extensions {
 public:
  const expand::ExtensionOperator* find_operator(std::string_view) const override {
    return nullptr;
  }
  const expand::ExtensionItem* find_item(std::string_view) const override { return nullptr; }
  const expand::ExtensionVariable* find_variable(std::string_view) const override {
    return nullptr;
  }
  std::optional<std::string> unloaded_owner(expand::ExtensionKind kind,
                                            std::string_view name) const override {
    if (kind == expand::ExtensionKind::kCondition && (name == "bmi_optin" || name == "bmi_run"))
      return "bmi";
    return std::nullopt;
  }
};

TEST(Compile, ModuleNotLoadedIsNamed) {
  Unloaded unloaded;
  AclLab lab(kHead + "  accept\n    bmi_optin = x\n", nullptr, &unloaded);
  EXPECT_EQ(lab.norm(lab.load_error),
            "CONF:5: condition \"bmi_optin\" belongs to module \"bmi\", which is not loaded: add "
            "it to \"modules\"");
  AclLab ctl(kHead + "  accept control = bmi_run\n", nullptr, &unloaded);
  EXPECT_EQ(ctl.norm(ctl.load_error),
            "CONF:4: control \"bmi_run\" belongs to module \"bmi\", which is not loaded: add it to "
            "\"modules\"");
}

TEST(Compile, GoodSyntaxForms) {
  // name=value, name = value, `!` before a condition on the verb's line, and
  // an unknown control, which Exim only finds when it runs.
  AclLab lab(kHead + "  accept !hosts=1.2.3.4\n          domains =  x\n  deny control = nosuch\n");
  EXPECT_EQ(lab.load_error, "");
  EXPECT_TRUE(lab.acls.has("acl_rcpt"));
  EXPECT_FALSE(lab.acls.has("other"));
}

// ---------------------------------------------------------------- run-time errors

TEST(Run, ConditionNotAllowedHere) {
  // exim -bh: "cannot test domains condition in connection ACL" and the
  // 451 that goes with an ERROR.
  AclLab lab(
      kHead +
      "acl_conn:\n  warn add_header = X: y\n  deny domains = x\n  deny senders = x\n  accept\n");
  auto r = lab.run("acl_conn", Where::kConnect);
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_EQ(*r.log_message, "cannot use add_header condition in connection ACL");
  EXPECT_EQ(smtp::format(r.reply), "451 Temporary local problem - please try later\r\n");
  EXPECT_EQ(r.reject_log,
            "temporarily rejected connection in \"connect\" ACL: cannot use add_header condition "
            "in connection ACL");
  AclLab lab2(kHead + "acl_conn:\n  deny domains = x\n");
  EXPECT_EQ(*lab2.run("acl_conn", Where::kConnect).log_message,
            "cannot test domains condition in connection ACL");
  AclLab lab3(kHead + "acl_conn:\n  deny senders = x\n");
  EXPECT_EQ(*lab3.run("acl_conn", Where::kConnect).log_message,
            "cannot test senders condition in connection ACL");
}

TEST(Run, QuitAclMayNotFail) {
  AclLab lab(kHead + "acl_quit:\n  deny\n");
  auto r = lab.run("acl_quit", Where::kQuit);
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_EQ(*r.log_message,
            "QUIT or not-QUIT toplevel ACL may not fail ('deny' verb used incorrectly)");
  // Falling off the end is the implicit DENY, not an error.
  AclLab ok(kHead + "acl_quit:\n  warn\n");
  EXPECT_EQ(ok.run("acl_quit", Where::kNotQuit).verdict, Verdict::kDeny);
}

TEST(Run, DiscardAndDropWhereNotAllowed) {
  // exim -bh: '"discard" verb not allowed in PREDATA ACL', then a 451.
  AclLab lab(kHead + "acl_predata:\n  discard\n");
  auto r = lab.run("acl_predata", Where::kPredata);
  EXPECT_EQ(r.verdict, Verdict::kError);
  ASSERT_FALSE(r.logs.empty());
  EXPECT_EQ(r.logs[0].text, "\"discard\" verb not allowed in PREDATA ACL");
  EXPECT_EQ(r.logs[0].targets, kLogMain | kLogPanic);
  EXPECT_EQ(r.reject_log, "temporarily rejected DATA");
  AclLab drop(kHead + "acl_ma:\n  drop\n");
  EXPECT_EQ(drop.run("acl_ma", Where::kMailAuth).verdict, Verdict::kError);
}

TEST(Run, ForcedFailureOfTheAclOptionAccepts) {
  AclLab lab(kHead + "  deny\n");
  EXPECT_EQ(lab.run("${if eq{1}{2}{acl_rcpt}fail}", Where::kMail).verdict, Verdict::kAccept);
  auto r = lab.run("${bogus", Where::kMail);
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_EQ(*r.log_message,
            "failed to expand ACL string \"${bogus\": \"${bogus\" is not a known operator (or a } "
            "is missing in a "
            "variable reference)");
}

TEST(Run, EmptyAndMissingAcls) {
  AclLab lab(kHead + "  accept\nacl_empty:\n");
  auto r = lab.run("acl_empty", Where::kMail);
  EXPECT_EQ(r.verdict, Verdict::kDeny);
  EXPECT_EQ(lab.trace, (std::vector<std::string>{"ACL \"acl_empty\" is empty: implicit DENY"}));
  r = lab.run("/nonexistent/acl", Where::kMail);
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_EQ(*r.log_message,
            "failed to open ACL file \"/nonexistent/acl\": No such file or directory");
  r = lab.run("no_such_acl", Where::kMail);
  EXPECT_EQ(*r.log_message, "unknown ACL verb \"no_such_acl\" in \"no_such_acl\"");
}

// ---------------------------------------------------------------- verbs and messages

TEST(Verbs, WarnDeferIsLoggedAndSkipped) {
  // exim -bh: "Warning: ACL "warn" statement skipped: condition test deferred"
  AclLab lab(kHead + "  warn condition = maybe\n  accept\n");
  auto r = lab.rcpt("x@test.example");
  EXPECT_EQ(r.verdict, Verdict::kAccept);
  ASSERT_EQ(r.logs.size(), 1u);
  EXPECT_EQ(r.logs[0].text,
            "H=(x) [10.0.0.1] Warning: ACL \"warn\" statement skipped: condition test deferred: "
            "invalid \"condition\" "
            "value \"maybe\"");
}

TEST(Verbs, RequireDeferDefers) {
  AclLab lab(kHead + "  require condition = maybe\n  accept\n");
  auto r = lab.rcpt("x@test.example");
  EXPECT_EQ(r.verdict, Verdict::kDefer);
  EXPECT_EQ(smtp::format(r.reply), "451 Temporary local problem - please try later\r\n");
  EXPECT_EQ(r.reject_log,
            "F=<a@test.example> temporarily rejected RCPT <x@test.example>: invalid \"condition\" "
            "value \"maybe\"");
}

TEST(Verbs, DropClosesAfterTheRefusal) {
  // Exim 4.96 sends the refusal and closes: no 421.
  AclLab lab(kHead + "  drop message = go away\n");
  auto r = lab.rcpt("x@test.example");
  EXPECT_EQ(r.verdict, Verdict::kDrop);
  EXPECT_EQ(smtp::format(r.reply), "550 go away\r\n");
}

TEST(Verbs, WarnMessageAndLogMessage) {
  // A log_message is logged once per message; warn's message adds headers,
  // and only in message ACLs.
  AclLab lab(kHead +
             "  warn log_message = once\n  warn message = X-H: 1\n  accept\nacl_conn:\n  warn "
             "message = X: y\n  accept\n");
  auto r1 = lab.rcpt("a@test.example");
  auto r2 = lab.rcpt("b@test.example");
  ASSERT_EQ(r1.logs.size(), 1u);
  EXPECT_EQ(r1.logs[0].text, "H=(x) [10.0.0.1] Warning: once");
  EXPECT_TRUE(r2.logs.empty());
  lab.state.new_message();
  EXPECT_EQ(lab.rcpt("c@test.example").logs.size(), 1u);
  ASSERT_EQ(lab.state.added_headers.size(), 1u);
  EXPECT_EQ(lab.state.added_headers[0].text, "X-H: 1\n");
  auto c = lab.run("acl_conn", Where::kConnect);
  ASSERT_EQ(c.logs.size(), 1u);
  EXPECT_EQ(c.logs[0].text,
            "ACL \"warn\" with \"message\" setting found in a non-message (connection) ACL: cannot "
            "specify header "
            "lines here: message ignored");
}

TEST(Verbs, MessagesAreExpandedAfterTheConditions) {
  // message and log_message see what the conditions left: $acl_verify_message
  // and variables set later in the statement.
  AclLab lab(kHead +
             "  deny set acl_m_a = early\n"
             "       message = [$acl_m_a] [$acl_verify_message]\n"
             "       !verify = recipient\n"
             "       set acl_m_a = late\n");
  lab.verifier.recipients["x@test.example"] = {VerifyOutcome::Rc::kFail,
                                               "no such user",
                                               std::string("550 user unknown"),
                                               false,
                                               false,
                                               false,
                                               false,
                                               {}};
  auto r = lab.rcpt("x@test.example");
  EXPECT_EQ(*r.user_message, "[late] [550 user unknown]");
  EXPECT_EQ(*r.log_message, "no such user");
}

TEST(Verbs, LogReject) {
  AclLab lab(kHead + "  deny log_reject_target =\n");
  EXPECT_EQ(lab.rcpt("x@test.example").log_reject_target, 0u);
  AclLab two(kHead + "  deny log_reject_target = main : bogus\n");
  auto r = two.rcpt("x@test.example");
  EXPECT_EQ(r.log_reject_target, kLogMain | kLogReject);
  ASSERT_EQ(r.logs.size(), 1u);
  EXPECT_EQ(r.logs[0].text, "unknown log name \"bogus\" in \"log_reject_target\" in RCPT ACL");
}

TEST(Verbs, Logwrite) {
  AclLab lab(kHead +
             "  warn logwrite = :panic,reject: to two\n  warn logwrite = :panic,bogus: hello\n"
             "  warn logwrite = plain \\x01\n  accept\n");
  std::vector<std::string> live;  // as they are written
  lab.env.log = [&](const LogLine& l) { live.push_back(l.text); };
  auto r = lab.rcpt("x@test.example");
  ASSERT_EQ(r.logs.size(), 3u);
  EXPECT_EQ(live, (std::vector<std::string>{r.logs[0].text, r.logs[1].text, r.logs[2].text}));
  EXPECT_EQ(r.logs[0].targets, kLogPanic | kLogReject);
  EXPECT_EQ(r.logs[0].text, "to two");
  EXPECT_EQ(r.logs[1].targets, kLogMain | kLogPanic);
  EXPECT_EQ(r.logs[1].text,
            "unknown log name in \":panic,bogus: hello\" in \"logwrite\" in RCPT ACL");
  EXPECT_EQ(r.logs[2].text, "plain \\001");
}

TEST(Verbs, SetWritesAclVariables) {
  AclLab lab(kHead + "  warn set acl_c0 = conn\n       set acl_m_x = $acl_c0-msg\n  accept\n");
  lab.rcpt("x@test.example");
  EXPECT_EQ(lab.ctx.acl_vars["c0"], "conn");
  EXPECT_EQ(lab.ctx.acl_vars["m_x"], "conn-msg");
}

TEST(Verbs, HeadersAddedAndRemoved) {
  AclLab lab(kHead +
             "  warn add_header = :after_received:X-A: 1\\n\\tcontinued\n"
             "       add_header = :at_start_rfc:X-B: 2\n"
             "       remove_header = X-C : X-D\n"
             "       remove_header = X-E\n  accept\n");
  lab.rcpt("x@test.example");
  ASSERT_EQ(lab.state.added_headers.size(), 2u);
  EXPECT_EQ(lab.state.added_headers[0].text, "X-A: 1\n\tcontinued\n");
  EXPECT_EQ(lab.state.added_headers[0].position, AddedHeader::Position::kAfterReceived);
  EXPECT_EQ(lab.state.added_headers[1].position, AddedHeader::Position::kTopRfc);
  EXPECT_EQ(lab.state.removed_headers, "X-C : X-D : X-E");
}

TEST(Verbs, DelayIsSleptAndReported) {
  AclLab lab(kHead + "  accept delay = 1s\n");
  lab.env.host_checking = false;
  bool flushed = false;
  lab.env.flush = [&] { flushed = true; };
  auto start = std::chrono::steady_clock::now();
  auto r = lab.rcpt("x@test.example");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(990));
  EXPECT_EQ(r.delay, std::chrono::seconds(1));
  EXPECT_TRUE(flushed);
  AclLab bad(kHead + "  accept delay = xyz\n");
  EXPECT_EQ(*bad.rcpt("x@test.example").log_message,
            "syntax error in argument for \"delay\" modifier: \"xyz\" is not a time value");
}

TEST(Verbs, AuthenticatedAndEncrypted) {
  AclLab lab(kHead + "  accept authenticated = plain : login\n         encrypted = ^TLS_AES_256\n");
  EXPECT_EQ(lab.rcpt("x@test.example").verdict, Verdict::kDeny);
  lab.vars.set("sender_host_authenticated", "plain");
  lab.vars.set("tls_in_cipher", "TLS1.3:TLS_AES_256_GCM_SHA384:256");
  EXPECT_EQ(lab.rcpt("x@test.example").verdict, Verdict::kAccept);
  lab.vars.set("tls_in_cipher", "TLS1.3:TLS_CHACHA20_POLY1305_SHA256:256");
  EXPECT_EQ(lab.rcpt("x@test.example").verdict, Verdict::kDeny);
}

TEST(Verbs, HostNamePatternsAskForTheName) {
  AclLab lab(kHead + "  accept hosts = *.example.com\n");
  EXPECT_EQ(lab.rcpt("x@test.example").verdict, Verdict::kDeny);
  lab.verifier.name = {VerifyOutcome::Rc::kOk, "mx.example.com", ""};
  AclLab named(kHead + "  accept hosts = *.example.com\n         set acl_m_h = $host_data\n");
  named.verifier.name = {VerifyOutcome::Rc::kOk, "mx.example.com", ""};
  EXPECT_EQ(named.rcpt("x@test.example").verdict, Verdict::kAccept);
  EXPECT_EQ(named.trace[3], "sender host name required, to match against *.example.com");
}

TEST(Verbs, CasefulAndCaselowerLocalPart) {
  AclLab lab(kHead +
             "  accept control = caselower_local_part\n         set acl_m_lp = $local_part\n");
  lab.rcpt("MixedCase@test.example");
  EXPECT_EQ(lab.ctx.acl_vars["m_lp"], "mixedcase");
  EXPECT_EQ(lab.state.controls.local_part_case, Controls::LocalPartCase::kLower);
}

// ---------------------------------------------------------------- replies

TEST(Replies, AcceptedReplyHonoursTheCode) {
  // exim -bh: "message = 251 ok" on accept answers "251 ok"; a 4xx code on
  // an accepting RCPT is refused (panic log) and cut off: "250 bad accept".
  AclResult r;
  r.user_message = std::make_shared<const std::string>("251 ok");
  EXPECT_EQ(smtp::format(accepted_reply(r, smtp::Reply::make(250, "Accepted"))), "251 ok\r\n");
  r.user_message = std::make_shared<const std::string>("451 bad accept");
  std::vector<LogLine> logs;
  EXPECT_EQ(smtp::format(accepted_reply(r, smtp::Reply::make(250, "Accepted"), &logs)),
            "250 bad accept\r\n");
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].text,
            "configured error code starts with incorrect digit (expected 2) in \"451 bad accept\"");
}

TEST(Replies, VrfyTakesAnyCode) {
  // exim -bh: "message = 550 vrfy no" in the VRFY ACL answers 550 (VRFY's
  // default is 252 and its code is not checked).
  AclLab lab(kHead + "acl_vrfy:\n  deny message = 550 vrfy no\n");
  lab.env.command_data = lab.env.recipient = "a@b.c";
  auto r = lab.run("acl_vrfy", Where::kVrfy);
  EXPECT_EQ(smtp::format(r.reply), "550 vrfy no\r\n");
  EXPECT_EQ(r.reject_log, "rejected VRFY a@b.c: 550 vrfy no");
}

TEST(Replies, NoMultilineResponses) {
  AclLab lab(kHead + "  deny control = no_multiline_responses\n       message = one\\ntwo\n");
  EXPECT_EQ(smtp::format(lab.rcpt("x@test.example").reply), "550 one\r\n");
}

// ---------------------------------------------------------------- controls

TEST(Controls, ForbiddenWhereAndSyntax) {
  // exim -bh: cannot use "control=queue" (for queue_only) / "control=submission" in connection ACL
  AclLab lab(
      kHead +
      "acl_conn:\n  accept control = queue_only\nacl_conn2:\n  accept control = submission\n");
  EXPECT_EQ(*lab.run("acl_conn", Where::kConnect).log_message,
            "cannot use \"control=queue\" in connection ACL");
  EXPECT_EQ(*lab.run("acl_conn2", Where::kConnect).log_message,
            "cannot use \"control=submission\" in connection ACL");
  const std::pair<std::string, std::string> bad[] = {
      {"frozz", "syntax error in \"control=frozz\""},
      {"freeze/x", "syntax error in \"control=freeze/x\""},
      {"wellknown", "syntax error in \"control=wellknown\""},
      {"utf8_downconvert/2", "bad option value for control=utf8_downconvert"},
      {"dscp", "syntax error in \"control=dscp\""},
      {"dscp/nonsense", "unrecognised DSCP value in \"control=dscp/nonsense\""},
  };
  for (const auto& [value, error] : bad) {
    AclLab l(kHead + "  accept control = " + value + "\n");
    auto r = l.rcpt("x@test.example");
    EXPECT_EQ(r.verdict, Verdict::kError) << value;
    EXPECT_EQ(*r.log_message, error) << value;
  }
}

TEST(Controls, Effects) {
  AclLab lab(kHead +
             "  warn control = allow_auth_unadvertised\n"
             "acl_mail:\n"
             "  accept control = submission/domain=d.example/name=A B/C\n"
             "         control = fakereject\n"
             "         control = no_delay_flush\n"
             "         control = dscp/ef\n"
             "         control = queue/first_pass_route\n"
             "         queue = second\n");
  auto r = lab.run("acl_mail", Where::kMail);
  ASSERT_EQ(r.verdict, Verdict::kAccept) << (r.log_message ? *r.log_message : "");
  const Controls& c = lab.state.controls;
  EXPECT_TRUE(c.submission);
  EXPECT_EQ(c.submission_domain, "d.example");
  EXPECT_EQ(c.submission_name, "A B/C");
  EXPECT_EQ(c.fake, Controls::Fake::kReject);
  EXPECT_NE(c.fake_text.find("kept for evaluation"), std::string::npos);
  EXPECT_TRUE(c.no_delay_flush);
  EXPECT_EQ(c.dscp, "ef");
  EXPECT_TRUE(c.queue_only);
  EXPECT_EQ(c.queue, "second");
  EXPECT_EQ(r.controls_set.size(), 5u);
  // Per message controls go with new_message(); the session's stay.
  lab.state.controls.no_pipelining = true;
  lab.state.new_message();
  EXPECT_FALSE(lab.state.controls.submission);
  EXPECT_FALSE(lab.state.controls.queue_only);
  EXPECT_TRUE(lab.state.controls.no_pipelining);
  AclLab utf(kHead + "  accept control = utf8_downconvert/-1\n");
  EXPECT_EQ(utf.rcpt("x@test.example").verdict, Verdict::kAccept);
  EXPECT_EQ(utf.state.controls.utf8_downconvert, -1);
  AclLab conn(kHead + "acl_conn:\n  accept control = allow_auth_unadvertised\n");
  EXPECT_EQ(conn.run("acl_conn", Where::kConnect).verdict, Verdict::kAccept);
  EXPECT_TRUE(conn.state.controls.allow_auth_unadvertised);
}

// ---------------------------------------------------------------- modules

tern_status module_check(tern_ctx* ctx, void* user, tern_call*, tern_str value, tern_buf* out) {
  std::string v(value.ptr, value.len);
  const char* said = static_cast<const char*>(user);
  ctx->host->buf_append(out, {said, std::strlen(said)});
  if (v == "yes") return TERN_OK;
  if (v == "later") return TERN_DEFER;
  return TERN_DECLINE;
}

struct ModuleLab {
  ModuleLab() {
    ctx.size = sizeof ctx;
    ctx.host = module_host::host_table(false);
    registry.add(
        {"mod_cond", "mod", TERN_ACL_RCPT, 0, 0, &ctx, module_check, const_cast<char*>("said so")});
    registry.add(
        {"mod_everywhere", "mod", TERN_ACL_ALL, 0, 0, &ctx, module_check, const_cast<char*>("")});
    registry.add({"mod_mod", "mod", TERN_ACL_ALL, TERN_ACL_MODIFIER | TERN_MAY_BLOCK, 0, &ctx,
                  module_check, const_cast<char*>("")});
    registry.add({"mod_ctl", "mod", TERN_ACL_RCPT, TERN_ACL_CONTROL, 0, &ctx, module_check,
                  const_cast<char*>("")});
  }
  tern_ctx ctx{};
  module_host::AclRegistry registry;
};

TEST(Modules, ConditionsModifiersAndControls) {
  ModuleLab m;
  AclLab lab(kHead +
                 "  deny   mod_cond = no\n"
                 "  deny   !mod_cond = yes\n"
                 "  warn   mod_mod = no\n"
                 "         control = mod_ctl/opt\n"
                 "  defer  mod_cond = later\n"
                 "acl_conn:\n"
                 "  accept mod_cond = yes\n"
                 "acl_etrn:\n"
                 "  accept mod_everywhere = yes\n",
             &m.registry);
  ASSERT_EQ(lab.load_error, "");
  auto r = lab.rcpt("x@test.example");
  EXPECT_EQ(r.verdict, Verdict::kDefer);
  EXPECT_EQ(lab.state.controls.module_controls, std::vector<std::string>{"mod_ctl"});
  EXPECT_EQ(lab.trace[2], "check mod_cond = no");
  // Not registered for the connect ACL: refused there as the core's are.
  EXPECT_EQ(*lab.run("acl_conn", Where::kConnect).log_message,
            "cannot test mod_cond condition in connection ACL");
  // ETRN has no bit in the ABI: only conditions allowed everywhere run there.
  EXPECT_EQ(lab.run("acl_etrn", Where::kEtrn).verdict, Verdict::kAccept);
  AclLab neg(kHead + "  accept !mod_mod = x\n", &m.registry);
  EXPECT_EQ(neg.norm(neg.load_error),
            "CONF:4: error in ACL: ACL error: negation is not allowed with \"mod_mod\"");
  // may_block follows the module's flag.
  AclLab blk(kHead + "  accept mod_mod = x\nacl_b:\n  accept mod_cond = x\n", &m.registry);
  EXPECT_TRUE(blk.acls.may_block("acl_rcpt"));
  EXPECT_FALSE(blk.acls.may_block("acl_b"));
}

// ---------------------------------------------------------------- ${acl} and nesting

TEST(Nesting, AclItemFromAnExpansion) {
  AclLab lab(
      kHead +
      "  accept message = $acl_narg:$acl_arg1\nacl_loop:\n  accept condition = ${acl{acl_loop}}\n"
      "acl_dom:\n  accept domains = x\n");
  lab.ctx.acl = make_acl_hook(lab.acls, Where::kExpansion, [&lab]() -> RunEnv& { return lab.env; });
  auto v = expand::expand("${acl{acl_rcpt}{a}{b}}", lab.ctx);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "2:a");
  // A loop through ${acl} stops at Exim's depth limit.
  v = expand::expand("${acl{acl_loop}}", lab.ctx);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message, "ERROR from acl \"acl_loop\"");
  // "unknown" is where -be runs ACLs: domains are not allowed there.
  v = expand::expand("${acl{acl_dom}}", lab.ctx);
  EXPECT_EQ(v.error().message, "ERROR from acl \"acl_dom\"");
}

TEST(Nesting, AclConditionArguments) {
  AclLab lab(kHead +
             "  accept acl = acl_two \"a b\" $local_part \"q\\\"t\"\n"
             "acl_two:\n  accept condition = ${if eq{$acl_arg1}{a b}}\n"
             "         message = [$acl_arg2][$acl_arg3][$acl_narg]\n");
  auto r = lab.rcpt("who@test.example");
  EXPECT_EQ(r.verdict, Verdict::kAccept);
  EXPECT_TRUE(lab.ctx.acl_args.empty());  // restored after the call
  AclLab ret(kHead +
             "  deny acl = acl_two \"a b\" $local_part \"q\\\"t\"\nacl_two:\n"
             "  accept message = [$acl_arg2][$acl_arg3][$acl_narg]\n");
  EXPECT_EQ(*ret.rcpt("who@test.example").user_message, "[who][q\"t][3]");
}

// ---------------------------------------------------------------- may_block

TEST(MayBlock, WhatWaits) {
  const std::pair<std::string, bool> cases[] = {
      {"  accept hosts = 10.0.0.0/8 : !1.2.3.4 : * : net24-lsearch;/etc/x\n", false},
      {"  accept hosts = +local\n", false},
      {"  accept hosts = +named\n", true},
      {"  accept hosts = *.example.com\n", true},
      {"  accept hosts = $acl_m_x\n", true},
      {"  accept dnslists = x.example\n", true},
      {"  accept delay = 0s\n", false},
      {"  accept delay = 1s\n", true},
      {"  accept verify = recipient\n", true},  // routing: lookups, DNS, module hooks
      {"  accept verify = sender\n", true},
      {"  accept verify = recipient/callout=10s\n", true},
      {"  accept verify = helo\n", true},
      {"  accept verify = header_syntax\n", false},
      {"  accept condition = ${readsocket{inet:x:1}{}}\n", true},
      {"  accept condition = ${run{/bin/true}}\n", true},
      {"  accept acl = other\n", true},
      {"  accept acl = calm\n", false},
      {"  accept message = ${lookup{x}lsearch{/etc/passwd}}\n", false},
  };
  for (const auto& [body, blocks] : cases) {
    AclLab lab("hostlist local = 127.0.0.1\nhostlist named = mx.example\n" + kHead + body +
               "other:\n  accept dnslists = x\ncalm:\n  accept\n");
    ASSERT_EQ(lab.load_error, "") << body;
    EXPECT_EQ(lab.acls.may_block("acl_rcpt"), blocks) << body;
  }
  AclLab lab(kHead + "  accept\n");
  EXPECT_TRUE(lab.acls.may_block("${if true{acl_rcpt}}"));  // known only once expanded
  EXPECT_FALSE(lab.acls.may_block("accept hosts = 1.2.3.4"));
  EXPECT_TRUE(lab.acls.may_block("accept dnslists = x.example"));
}

// ---------------------------------------------------------------- threads

TEST(Threads, SessionsRunInParallel) {
  // One AclSet and one ratelimit store, sessions on several threads: each
  // thread's count is its own (per_conn keys differ by host) and the
  // shared key sees every event.
  AclLab lab(kHead +
             "  warn ratelimit = 1000 / 1h / per_rcpt / strict / shared\n"
             "  warn ratelimit = 1000 / 1h / per_rcpt / strict\n"
             "  warn set acl_m_rate = $sender_rate\n"
             "  accept\n");
  ASSERT_EQ(lab.load_error, "");
  constexpr int kThreads = 4, kRuns = 200;
  std::vector<std::thread> threads;
  std::vector<std::string> rates(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      expand::MapVariables vars;
      vars.set("sender_host_address", "10.0.1." + std::to_string(t));
      expand::Context ctx;
      ctx.variables = &vars;
      auto now = std::chrono::system_clock::from_time_t(1795000000);
      ctx.clock = [&now] { return now; };
      SessionState state;
      RunEnv env(ctx, state);
      env.ratelimits = &lab.store;
      for (int i = 0; i < kRuns; ++i) {
        env.recipient = "r" + std::to_string(i) + "@test.example";
        lab.acls.run("acl_rcpt", Where::kRcpt, env);
        now += std::chrono::milliseconds(1);
      }
      rates[t] = ctx.acl_vars["m_rate"];
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& r : rates) EXPECT_EQ(r, "200.0");
  EXPECT_EQ(lab.store.size(), static_cast<size_t>(kThreads + 1));
}

// ---------------------------------------------------------------- cost

// Not run by ctest: build/bin/acl_test --gtest_also_run_disabled_tests
// --gtest_filter=Bench.* prints the time of one run of a typical RCPT ACL.
TEST(Bench, DISABLED_RcptAcl) {
  AclLab lab(
      "domainlist local_domains = test.example : example.org\n"
      "hostlist relay = 192.168.0.0/16 : 10.9.0.0/16\n" +
      kHead +
      "  accept hosts = :\n"
      "  deny   local_parts = ^[.] : ^.*[@%!/|]\n"
      "  accept local_parts = postmaster\n         domains = +local_domains\n"
      "  require verify = sender\n"
      "  accept hosts = +relay\n"
      "  deny   ratelimit = 100 / 1h / per_rcpt / $local_part\n"
      "  require domains = +local_domains\n"
      "  accept verify = recipient\n");
  lab.env.trace = nullptr;
  const int n = 200000;
  int accepted = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    lab.now += std::chrono::seconds(1);
    accepted +=
        lab.rcpt("user" + std::to_string(i % 50) + "@test.example").verdict == Verdict::kAccept;
  }
  double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
      n;
  EXPECT_EQ(accepted, n);
  std::printf(
      "RCPT ACL of 8 statements (lists, sender and recipient verify, ratelimit): %.2f us per run\n",
      us);
}

}  // namespace
}  // namespace tern::acl
