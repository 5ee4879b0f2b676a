// core/auth/auth_test.cpp: the AUTH exchanges without a network: server and client sides,
// replies and log texts as Exim 4.96 gives them (checked with its -bh), the CRAM-MD5 digest.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/auth/client.hpp"
#include "core/auth/server.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::auth {
namespace {

Authenticator plain_server() {
  Authenticator a;
  a.name = "plain";
  a.public_name = "PLAIN";
  a.server = true;
  a.server_prompts = ":";
  a.server_condition = "${if and {{eq{$auth2}{u1}}{eq{$auth3}{pw1}}}}";
  a.server_set_id = "$auth2";
  return a;
}

Authenticator login_server() {
  Authenticator a;
  a.name = "login";
  a.public_name = "LOGIN";
  a.server = true;
  a.server_prompts = "Username:: : Password::";
  a.server_condition = "${if and {{eq{$auth1}{u1}}{eq{$auth2}{pw1}}}}";
  a.server_set_id = "$auth1";
  return a;
}

std::string b64(std::string_view s) { return text::base64_encode(s); }

// Runs a server exchange: the AUTH data, then the answers in turn. Returns the
// challenges sent and the result.
struct ServerRun {
  std::vector<std::string> challenges;
  ServerResult result;
};
ServerRun serve(const Authenticator& a, std::string_view data, std::vector<std::string> answers) {
  expand::Context ctx;
  ServerExchange x(a, ctx, "mx.example");
  ServerRun run;
  size_t next = 0;
  for (ServerExchange::Step s = x.begin(data); !s.done;) {
    run.challenges.push_back(s.challenge);
    s = x.answer(next < answers.size() ? answers[next++] : "*");
  }
  run.result = x.conclude();
  EXPECT_TRUE(ctx.auth_vars.empty());  // $auth<n> are cleared afterwards
  EXPECT_TRUE(ctx.numeric.empty());
  return run;
}

TEST(ServerExchange, PlainOutcomes) {
  struct Case {
    const char* name;
    std::string data;
    std::vector<std::string> answers;
    std::vector<std::string> challenges;
    std::string reply, log, set_id;
  } cases[] = {
      {"initial data", b64(std::string("\0u1\0pw1", 7)), {}, {}, "235 Authentication succeeded",
       "235 Authentication succeeded", "u1"},
      {"wrong password", b64(std::string("\0u1\0pw2", 7)), {}, {}, "535 Incorrect authentication data",
       "535 Incorrect authentication data (set_id=u1)", "u1"},
      {"after an empty prompt", "", {b64(std::string("\0u1\0pw1", 7))}, {""}, "235 Authentication succeeded",
       "235 Authentication succeeded", "u1"},
      {"= is one empty string", "=", {}, {}, "535 Incorrect authentication data", "535 Incorrect authentication data",
       ""},
      {"bad base64 with the command", "!!!", {}, {}, "501 Invalid base64 data", "501 Invalid base64 data", ""},
      {"= as an answer is bad base64", "", {"="}, {""}, "501 Invalid base64 data", "501 Invalid base64 data", ""},
      {"cancelled", "", {"*"}, {""}, "501 Authentication cancelled", "501 Authentication cancelled", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ServerRun r = serve(plain_server(), c.data, c.answers);
    EXPECT_EQ(r.challenges, c.challenges);
    EXPECT_EQ(r.result.reply, c.reply);
    EXPECT_EQ(r.result.log_text, c.log);
    EXPECT_EQ(r.result.set_id, c.set_id);
  }
}

TEST(ServerExchange, LoginPromptsSkipWhatCameWithTheCommand) {
  ServerRun both = serve(login_server(), "", {b64("u1"), b64("pw1")});
  EXPECT_EQ(both.challenges, (std::vector<std::string>{"Username:", "Password:"}));
  EXPECT_TRUE(both.result.ok());
  ServerRun one = serve(login_server(), b64("u1"), {b64("pw1")});
  EXPECT_EQ(one.challenges, (std::vector<std::string>{"Password:"}));
  EXPECT_EQ(one.result.set_id, "u1");
}

TEST(ServerExchange, ConditionDefersAndSetIdFailure) {
  Authenticator a = plain_server();
  a.server_condition = "maybe";
  ServerRun r = serve(a, b64(std::string("\0u1\0pw1", 7)), {});
  EXPECT_EQ(r.result.reply, "435 Unable to authenticate at present: maybe");
  EXPECT_EQ(r.result.log_text, "435 Unable to authenticate at present (set_id=u1): maybe");
  a = plain_server();
  a.server_set_id = "${lookup{x}nosuchlookup{y}}";
  r = serve(a, b64(std::string("\0u1\0pw1", 7)), {});
  EXPECT_EQ(r.result.rc, Rc::kDefer);
  EXPECT_TRUE(r.result.reply.starts_with("435 Unable to authenticate at present"));
}

TEST(CramMd5, Rfc2195Example) {
  EXPECT_EQ(text::to_hex(cram_md5_digest("tanstaaftanstaaf", "<1896.697170952@postoffice.reston.mci.net>")),
            "b913a602c7eda7a495b4e6e7334d3890");
  // A secret longer than 64 bytes is hashed first (RFC 2104).
  EXPECT_EQ(cram_md5_digest(std::string(80, 'k'), "c"), cram_md5_digest(text::digest("md5", std::string(80, 'k')), "c"));
}

TEST(ServerExchange, CramMd5) {
  Authenticator a;
  a.name = "cram";
  a.public_name = "CRAM-MD5";
  a.driver = Driver::kCramMd5;
  a.server = true;
  a.server_secret = "${if eq{$auth1}{u1}{secret1}fail}";
  a.server_set_id = "$auth1";
  expand::Context ctx;
  ServerExchange x(a, ctx, "mx.example");
  ServerExchange::Step s = x.begin("");
  ASSERT_FALSE(s.done);
  EXPECT_TRUE(s.challenge.starts_with("<") && s.challenge.ends_with("@mx.example>")) << s.challenge;
  s = x.answer(b64("u1 " + text::to_hex(cram_md5_digest("secret1", s.challenge))));
  EXPECT_TRUE(s.done);
  EXPECT_EQ(x.conclude().reply, "235 Authentication succeeded");

  EXPECT_EQ(serve(a, "xx", {}).result.reply, "553 Initial data not expected");
  ServerResult unknown = serve(a, "", {b64("u2 " + std::string(32, '0'))}).result;
  EXPECT_EQ(unknown.log_text, "535 Incorrect authentication data (set_id=u2)");
}

// The client side against a scripted server: what it sends for each reply.
struct ClientRun {
  std::vector<std::string> sent;
  ClientExchange::Step end;
};
ClientRun client(const Authenticator& a, std::vector<std::pair<int, std::string>> replies) {
  expand::Context ctx;
  ClientExchange x(a, ctx, "client.example");
  ClientRun run;
  size_t next = 0;
  ClientExchange::Step s = x.begin();
  while (!s.done) {
    run.sent.push_back(s.line);
    auto [code, text] = next < replies.size() ? replies[next++] : std::pair<int, std::string>{554, "no"};
    s = x.reply(code, text, std::to_string(code) + " " + text);
  }
  run.end = s;
  return run;
}

TEST(ClientExchange, Plaintext) {
  Authenticator plain;
  plain.name = "plain_client";
  plain.public_name = "PLAIN";
  plain.client = true;
  plain.client_send = "^u1^pw1";
  ClientRun r = client(plain, {{235, "Authentication succeeded"}});
  EXPECT_EQ(r.sent, std::vector<std::string>{"AUTH PLAIN " + b64(std::string("\0u1\0pw1", 7))});
  EXPECT_EQ(r.end.rc, Rc::kOk);
  r = client(plain, {{535, "Incorrect authentication data"}});
  EXPECT_EQ(r.end.rc, Rc::kFail);
  EXPECT_EQ(r.end.message, "535 Incorrect authentication data");
  // More prompts than items: "*", then Exim's error.
  r = client(plain, {{334, ""}, {501, "Authentication cancelled"}});
  EXPECT_EQ(r.sent.back(), "*");
  EXPECT_EQ(r.end.rc, Rc::kError);
  EXPECT_EQ(r.end.message, "Too few items in client_send in plain_client authenticator");

  Authenticator login = plain;
  login.public_name = "LOGIN";
  login.client_send = ": u1 : ${if eq{$auth2}{Password::}{pw1}{wrong}}";  // "::" is a colon in a list
  r = client(login, {{334, b64("Username:")}, {334, b64("Password:")}, {235, "ok"}});
  EXPECT_EQ(r.sent, (std::vector<std::string>{"AUTH LOGIN", b64("u1"), b64("pw1")}));
  EXPECT_EQ(r.end.rc, Rc::kOk);
  r = client(login, {{334, "!!"}, {501, "cancelled"}});
  EXPECT_EQ(r.end.rc, Rc::kCancelled);
  EXPECT_EQ(r.end.message, "Invalid base64 string in server response \"334 !!\"");
}

TEST(ClientExchange, CramMd5) {
  Authenticator a;
  a.name = "cram_client";
  a.public_name = "CRAM-MD5";
  a.driver = Driver::kCramMd5;
  a.client = true;
  a.client_name = "u1";
  a.client_secret = "secret1";
  const std::string challenge = "<1.2@mx.example>";
  ClientRun r = client(a, {{334, b64(challenge)}, {235, "ok"}});
  ASSERT_EQ(r.sent.size(), 2u);
  EXPECT_EQ(r.sent[0], "AUTH CRAM-MD5");
  EXPECT_EQ(r.sent[1], b64("u1 " + text::to_hex(cram_md5_digest("secret1", challenge))));
  EXPECT_EQ(r.end.rc, Rc::kOk);
  a.client_secret = "${if eq{a}{b}{x}fail}";
  EXPECT_EQ(client(a, {}).end.rc, Rc::kCancelled);
}

TEST(Xtext, EncodesAsExim) {
  EXPECT_EQ(xtext_encode("a+b=c d@e"), "a+2Bb+3Dc+20d@e");
}

}  // namespace
}  // namespace tern::auth
