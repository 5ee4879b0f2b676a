// core/acl/exim_replay_test.cpp: tern's ACL engine against what Exim 4.96 printed for the same
// ACLs.
//
// Each scenario is a configuration (testdata/NAME.conf), the SMTP commands
// sent to `exim -bh` (NAME.smtp) and Exim's answer, recorded by
// tools/record_exim.py (NAME.exim: the ">>>" trace and "LOG:" lines, then
// the replies). Verified with exim -bh: the .exim files are Exim 4.96's own
// output. The test runs the same ACLs through AclSet::run() in the same
// order and compares, run by run: the trace lines, the log lines (with the
// session's reject line made from reject_log) and the SMTP reply. Lines the
// session or the router print (host options, routing inside verify) are not
// the engine's and are left out on Exim's side.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "core/acl/test_support.hpp"

namespace tern::acl {
namespace {

using testing::AclLab;

const std::string kData = std::string(TERN_SOURCE_DIR) + "/core/acl/testdata/";

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One ACL run as Exim showed it.
struct EximRun {
  std::vector<std::string> trace;
  std::vector<std::string> logs;
};

struct EximRecord {
  std::vector<EximRun> runs;
  std::vector<std::string> replies;  // each in wire form without CRs ("250-a\n250 b\n")
};

bool top_level(const std::string& l) {
  return !l.empty() && l[0] != ' ' && l.rfind("\u254e", 0) != 0;
}

// Exim's trace and logs, with the configuration's name made CONF and the
// test data directory DATA (as tern's are), split into runs.
EximRecord parse_exim(const std::string& text, const std::string& conf_path) {
  EximRecord rec;
  std::istringstream in(text);
  std::string line;
  bool open = false, in_verify = false, replies = false;
  std::string reply;
  static const std::regex kEnd(
      R"(^(end of |(accept|discard): endpass encountered|(accept|defer|deny|discard|drop|require): condition test (error|deferred)|warn: condition test error))");
  // The records were made in another checkout: their paths to this
  // directory are made this checkout's.
  static const std::regex kRecordedData(R"((/[A-Za-z0-9._-]+)*/core/acl/testdata/)");
  while (std::getline(in, line)) {
    line = std::regex_replace(line, kRecordedData, kData);
    if (line == "==== replies") {
      replies = true;
      continue;
    }
    if (replies) {
      if (line.size() < 4 || !std::isdigit(static_cast<unsigned char>(line[0]))) continue;
      reply += line + "\n";
      if (line[3] == ' ') {
        rec.replies.push_back(reply);
        reply.clear();
      }
      continue;
    }
    if (line.rfind("LOG: ", 0) == 0) {
      std::string l = line.substr(5);
      // The message id the session puts in front of DATA-time lines, and
      // lines the session writes on its own, are not the engine's.
      static const std::regex kId(R"(^[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2} )");
      l = std::regex_replace(l, kId, "");
      if (l.find(" received from ") != std::string::npos || l.rfind("SMTP call from", 0) == 0)
        continue;
      for (size_t p; (p = l.find(kData)) != std::string::npos;) l.replace(p, kData.size(), "DATA/");
      if (!rec.runs.empty()) rec.runs.back().logs.push_back(l);
      continue;
    }
    if (line.rfind(">>> ", 0) != 0 && line != ">>>") continue;
    std::string t = line.size() > 4 ? line.substr(4) : "";
    for (size_t p; (p = t.find(conf_path)) != std::string::npos;)
      t.replace(p, conf_path.size(), "CONF");
    for (size_t p; (p = t.find(kData)) != std::string::npos;) t.replace(p, kData.size(), "DATA/");
    // A run starts with "using ACL", "read ACL from file", or, inline,
    // straight with "processing".
    if (t.rfind("using ACL ", 0) == 0 || t.rfind("read ACL from file ", 0) == 0 ||
        (!open && t.rfind("processing ", 0) == 0)) {
      rec.runs.emplace_back();
      open = true;
    }
    if (!open) continue;
    std::string body = t;
    while (!body.empty() && (body[0] == ' ' || body.rfind("\u254e", 0) == 0))
      body.erase(0, body[0] == ' ' ? 1 : 3);
    if (in_verify) {
      if (body == "----------- end verify ------------")
        in_verify = false;
      else
        continue;
    }
    static const std::regex kRouting(R"(^check !?verify = (recipient|sender))");
    if (std::regex_search(body, kRouting)) in_verify = true;
    rec.runs.back().trace.push_back(t);
    if (top_level(t) && std::regex_search(t, kEnd)) open = false;
  }
  return rec;
}

// The first line where two traces part, with its neighbours.
std::string trace_diff(const std::vector<std::string>& got, const std::vector<std::string>& want) {
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  if (i == got.size() && i == want.size()) return "";
  std::string out = "traces differ at line " + std::to_string(i) + ":\n";
  for (size_t k = i >= 2 ? i - 2 : 0; k < i + 3; ++k) {
    out += "  tern: " + (k < got.size() ? got[k] : "<end>") + "\n";
    out += "  exim: " + (k < want.size() ? want[k] : "<end>") + "\n";
  }
  return out;
}

std::string wire(const smtp::Reply& r) {
  std::string s = smtp::format(r);
  for (size_t p; (p = s.find('\r')) != std::string::npos;) s.erase(p, 1);
  return s;
}

// One recorded run: which ACL, for what command, and where its reply is.
struct Step {
  Where where;
  std::string acl;
  std::string data;  // the command's argument (RCPT: the recipient; MAIL: the sender, no <>)
  size_t reply;      // index of the command's reply in the record (0: the banner); kNoReply: none
  smtp::Reply accepted = smtp::Reply::make(250, "Accepted");
  std::vector<std::string> headers = {};  // DATA: the message's header lines
};
constexpr size_t kNoReply = ~size_t{0};

// What the session logs itself around an ACL run (smtp_in.c), made here
// from the result so that the whole log can be compared.
void session_logs(const AclLab& lab, const Step& s, const std::string& sender, const AclResult& r,
                  std::vector<std::string>& logs) {
  const bool accepted = r.verdict == Verdict::kAccept || r.verdict == Verdict::kDiscard;
  if (s.where == Where::kQuit || s.where == Where::kNotQuit) {
    if (r.verdict == Verdict::kError)
      logs.push_back("ACL for QUIT returned ERROR: " +
                     (r.log_message ? *r.log_message : std::string()));
    return;
  }
  if (!accepted) logs.push_back(lab.env.host_ident + " " + r.reject_log);
  if (r.verdict == Verdict::kDiscard && s.where == Where::kRcpt)
    logs.push_back(lab.env.host_ident + " F=<" + sender + "> RCPT <" + s.data +
                   ">: discarded by RCPT ACL" + (r.log_message ? ": " + *r.log_message : ""));
}

void replay(AclLab& lab, const std::string& name, const std::vector<Step>& steps) {
  ASSERT_EQ(lab.load_error, "");
  std::string conf = name.substr(0, name.find('-'));
  EximRecord rec = parse_exim(read(kData + name + ".exim"), kData + conf + ".conf");
  ASSERT_EQ(rec.runs.size(), steps.size()) << "runs recorded for " << name;
  std::string sender = "a@test.example";
  std::vector<std::string> recipients;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    SCOPED_TRACE(name + " run " + std::to_string(i) + " (" + std::string(where_name(s.where)) +
                 " " + s.data + ")");
    lab.env.header_lines = s.headers.empty() ? nullptr : &s.headers;
    lab.env.recipients = &recipients;
    AclResult r;
    switch (s.where) {
      case Where::kRcpt:
        r = lab.rcpt(s.data, s.acl);
        if (r.verdict == Verdict::kAccept) recipients.push_back(s.data);
        break;
      case Where::kMail:
        lab.state.new_message();
        recipients.clear();
        sender = s.data;
        lab.vars.set("sender_address", sender);
        lab.env.command_data = "<" + s.data + ">";
        r = lab.run(s.acl, s.where);
        break;
      case Where::kConnect:
        lab.env.command_data.clear();
        r = lab.run(s.acl, s.where);
        break;
      case Where::kHelo:
        lab.vars.set("sender_helo_name", s.data);
        lab.env.host_ident = "H=(" + s.data + ") [10.0.0.1]";
        lab.env.command_data = s.data;
        r = lab.run(s.acl, s.where);
        break;
      default:
        lab.env.command_data = s.data;
        lab.vars.set("smtp_command_argument", s.data);
        r = lab.run(s.acl, s.where);
        break;
    }
    for (auto& l : lab.trace)
      for (size_t p; (p = l.find(kData)) != std::string::npos;) l.replace(p, kData.size(), "DATA/");
    EXPECT_EQ(trace_diff(lab.trace, rec.runs[i].trace), "");
    lab.now += std::chrono::milliseconds(1);  // Exim's commands were that far apart
    std::vector<std::string> logs;
    for (const auto& l : r.logs) logs.push_back(l.text);
    session_logs(lab, s, sender, r, logs);
    EXPECT_EQ(logs, rec.runs[i].logs);
    if (s.reply == kNoReply) continue;
    ASSERT_LT(s.reply, rec.replies.size());
    const bool accepted = r.verdict == Verdict::kAccept || r.verdict == Verdict::kDiscard;
    EXPECT_EQ(wire(accepted ? accepted_reply(r, s.accepted) : r.reply), rec.replies[s.reply]);
  }
}

TEST(EximReplay, Rcpt) {
  AclLab lab(read(kData + "rcpt.conf"));
  VerifyOutcome unrouteable{
      VerifyOutcome::Rc::kFail, "Unrouteable address", {}, false, false, false, false, {}};
  lab.verifier.recipients["vm@test.example"] = unrouteable;
  lab.verifier.recipients["x@other.example"] = unrouteable;
  std::vector<Step> steps;
  size_t reply = 3;
  for (std::string lp :
       {"sub", "nd",   "nd2",       "nested_defer", "nested_drop", "nested_disc", "accdisc",
        "ep",  "disc", "rl",        "rl",           "rl",          "ctl",         "badctl",
        "ml",  "code", "wrongcode", "loop",         "cond",        "expfail",     "vm",
        "req", "lp",   "ok",        "long"})
    steps.push_back(
        {Where::kRcpt, "acl_rcpt", lp + (lp == "lp" ? "@o2x.example" : "@test.example"), reply++});
  steps.push_back({Where::kRcpt, "acl_rcpt", "x@other.example", reply++});
  replay(lab, "rcpt", steps);
  // The controls the "ctl" recipient set are the session's to act on.
  EXPECT_TRUE(lab.state.controls.no_pipelining);
  EXPECT_TRUE(lab.state.controls.queue_only);
  EXPECT_TRUE(lab.state.controls.freeze && lab.state.controls.freeze_no_tell);
  EXPECT_TRUE(lab.state.controls.submission && lab.state.controls.submission_sender_retain);
  EXPECT_EQ(lab.state.controls.submission_domain, "sub.example");
  // ... and so are the headers added by the warn statement.
  ASSERT_EQ(lab.state.added_headers.size(), 2u);
  // add_header works as it is met; warn's message is added after the
  // statement's conditions: Exim's order.
  EXPECT_EQ(lab.state.added_headers[0].text, "X-Added: yes\n");
  EXPECT_EQ(lab.state.added_headers[1].text, "X-Warn: hi\n");
}

TEST(EximReplay, ConnectInlineAndFile) {
  // One recording per client address.
  for (std::string ip : {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"}) {
    AclLab lab(read(kData + "connect.conf"), nullptr, nullptr,
               {{"DATA", kData.substr(0, kData.size() - 1)}});
    lab.vars.set("sender_host_address", ip);
    lab.env.host_ident = "H=[" + ip + "]";
    // An accepted connection gets the banner (the session's); a refused one
    // gets the refusal instead.
    std::vector<Step> steps = {
        {Where::kConnect, "acl_connect", "", ip == "10.0.0.1" ? kNoReply : 0}};
    if (ip == "10.0.0.1") {
      const std::string inline_acl = "accept hosts = 10.0.0.1 : 10.0.0.6\\n  set acl_c_x = helo";
      const std::string file_acl = kData + "file.acl";
      steps.push_back({Where::kHelo, inline_acl, "x", 1,
                       smtp::Reply::make(250, "test.example Hello x [10.0.0.1]")});
      steps.push_back({Where::kMail, file_acl, "a@test.example", 2, smtp::Reply::make(250, "OK")});
      steps.push_back({Where::kMail, file_acl, "b@test.example", 4});
    }
    replay(lab, "connect-" + ip, steps);
    if (ip == "10.0.0.1") {
      EXPECT_EQ(lab.ctx.acl_vars["c_x"], "helo");
    }
  }
}

TEST(EximReplay, OneAclPerCommand) {
  AclLab lab(read(kData + "wheres.conf"));
  VerifyOutcome unrouteable{
      VerifyOutcome::Rc::kFail, "Unrouteable address", {}, false, false, false, false, {}};
  for (const char* s : {"s1@x.example", "s2@x.example", "s3@x.example"})
    lab.verifier.senders[s] = unrouteable;
  const smtp::Reply ok = smtp::Reply::make(250, "OK"), go = smtp::replies::start_data();
  const std::vector<std::string> bad_to = {"To: bad address <\n", "From: a@test.example\n",
                                           "Subject: x\n"};
  const std::vector<std::string> good_to = {"To: r@test.example\n", "Subject: y\n"};
  std::vector<Step> steps = {
      {Where::kHelo, "acl_helo", "bad", 1},
      {Where::kHelo, "acl_helo", "good", 2,
       smtp::Reply::make(250, "test.example Hello good [10.0.0.1]")},
      {Where::kMail, "acl_mail", "bad@x.y", 3},
      {Where::kMail, "acl_mail", "tmp@x.y", 4},
      {Where::kMail, "acl_mail", "code@x.y", 5},
      {Where::kMail, "acl_mail", "s1@x.example", 6},
      {Where::kMail, "acl_mail", "s2@x.example", 8},
      {Where::kMail, "acl_mail", "s3@x.example", 10, ok},
      {Where::kMail, "acl_mail", "", 12},
      {Where::kMail, "acl_mail", "ff@x.y", 14},
      {Where::kMail, "acl_mail", "a@test.example", 16, ok},
      {Where::kRcpt, "acl_rcpt", "r@test.example", 17},
      {Where::kPredata, "acl_predata", "", 18, go},
      {Where::kData, "acl_data", "", 19, ok, bad_to},
      {Where::kMail, "acl_mail", "dd@x.y", 20, ok},
      {Where::kRcpt, "acl_rcpt", "r@test.example", 21},
      {Where::kPredata, "acl_predata", "", 22, go},
      {Where::kData, "acl_data", "", 23, ok, good_to},
      {Where::kMail, "acl_mail", "pd@x.y", 24, ok},
      {Where::kRcpt, "acl_rcpt", "r@test.example", 25},
      {Where::kPredata, "acl_predata", "", 26, go},
      {Where::kVrfy, "acl_vrfy", "a@test.example", 28},
      {Where::kExpn, "acl_expn", "y", 29},
      {Where::kEtrn, "acl_etrn", "z", 30},
      {Where::kQuit, "acl_quit", "", kNoReply},
  };
  replay(lab, "wheres", steps);
}

}  // namespace
}  // namespace tern::acl
