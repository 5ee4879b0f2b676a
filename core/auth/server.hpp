// core/auth/server.hpp: one AUTH exchange on the server side, without I/O.
//
// The session reads and writes; this class decides, as Exim 4.96's
// smtp_in_auth() and its drivers' server functions do:
//
//   ServerExchange x(authenticator, ctx, hostname, trace);
//   ServerExchange::Step s = x.begin(data_after_mechanism);
//   while (!s.done) { send "334 " + base64(s.challenge); s = x.answer(client_line); }
//   ServerResult r = x.conclude();   // "235 Authentication succeeded", or why not
//
// plaintext: the AUTH command's data (base64, split at NULs, "=" being one empty
// string) fills $auth1.. (and $1..), then each server_prompts item not yet answered
// is sent as a challenge; the answers are decoded the same way; "*" cancels; then
// server_condition decides. cram_md5: no initial data allowed (553), the challenge
// `<pid.time@hostname>`, the answer `user hexdigest` checked against
// HMAC-MD5(server_secret expanded with $auth1 = user), then server_condition when
// set. server_set_id is expanded whatever the outcome (for the log's set_id=).
// $auth<n> and $<n> are cleared again by conclude().
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth/authenticator.hpp"
#include "core/expand/expand.hpp"

namespace tern::auth {

// What the exchange ends with (Exim's two texts: `reply` to the client,
// `log_text` for "<name> authenticator failed for <host>: <log_text>").
struct ServerResult {
  Rc rc = Rc::kFail;
  bool ok() const { return rc == Rc::kOk; }
  std::string reply;     // "235 Authentication succeeded", "535 Incorrect authentication data", ...
  std::string log_text;  // the reply with " (set_id=...)" or the reason for a deferral
  // Success: server_set_id's value ($authenticated_id). Failure: its value when it
  // expanded to something ($authenticated_fail_id).
  std::string set_id;
};

class ServerExchange {
 public:
  struct Step {
    bool done = false;
    std::string challenge;  // when !done: to send as "334 " + base64(challenge)
  };
  // `trace`: -bh's debug lines (may be empty). `hostname`: primary_hostname for
  // the CRAM-MD5 challenge. `ctx` must outlive the exchange.
  ServerExchange(const Authenticator& a, expand::Context& ctx, std::string hostname,
                 std::function<void(std::string_view)> trace = {});

  // `data`: what followed the mechanism on the AUTH line (white space trimmed).
  Step begin(std::string_view data);
  // The client's line answering the last challenge, without its CRLF.
  Step answer(std::string_view line);
  ServerResult conclude();

 private:
  Step finish(Rc rc);
  Step next_prompt();
  Rc add_items(std::string_view decoded, bool at_least_one);
  Rc check_condition(const std::string& condition, bool unset_is_ok);
  Rc cram_check(std::string_view decoded);
  void trace(std::string_view line) const;

  const Authenticator& a_;
  expand::Context& ctx_;
  std::string hostname_;
  std::function<void(std::string_view)> trace_;
  std::vector<std::string> prompts_;
  size_t next_prompt_ = 0;
  std::string challenge_;  // cram_md5
  Rc rc_ = Rc::kFail;
  std::string defer_msg_ = "reason not recorded", defer_user_msg_;
};

// HMAC-MD5 of `challenge` keyed with `secret` (Exim's compute_cram_md5), raw.
std::string cram_md5_digest(std::string_view secret, std::string_view challenge);

}  // namespace tern::auth
