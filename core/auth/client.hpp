// core/auth/client.hpp: one AUTH exchange on the client side (the smtp transport), without I/O.
//
// The SMTP client sends each line and hands back the server's reply, as Exim
// 4.96's auths/plaintext.c (auth_client_item) and auths/cram_md5.c do it:
//
//   ClientExchange x(authenticator, ctx, primary_hostname);
//   for (ClientExchange::Step s = x.begin(); !s.done; s = x.reply(code, text, printable))
//     send s.line, read the reply;
//   s.rc: kOk (authenticated), kFail (the server said no: s.message is its reply),
//         kCancelled (client_send or a secret expanded to a forced failure; an
//         invalid base64 challenge), kError (an expansion failed, too few
//         client_send items: s.message says so).
//
// plaintext: each client_send item is expanded ($auth<n> holds the server's
// earlier challenges, decoded) and sent base64-encoded, the first one with the AUTH
// command; `^` stands for a NUL (`^^` for a caret). cram_md5: `AUTH CRAM-MD5`, then
// `client_name hex(HMAC-MD5(client_secret, challenge))`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth/authenticator.hpp"
#include "core/expand/expand.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::auth {

class ClientExchange {
 public:
  struct Step {
    bool done = false;
    std::string line;   // !done: the line to send (no CRLF)
    std::string shown;  // !done: the line as error texts show it (data replaced by stars)
    Rc rc = Rc::kFail;  // done: the result
    std::string message;
  };
  // `ctx` must outlive the exchange; `hostname` is the default client_name.
  ClientExchange(const Authenticator& a, expand::Context& ctx, std::string hostname);

  Step begin();
  // The server's reply to the last line: its code, the text of its first line
  // (a challenge), and its printable whole (for s.message).
  Step reply(int code, std::string_view text, std::string_view printable);

 private:
  Step send_item(bool first);
  Step abort(Rc rc, std::string message);
  Step done(Rc rc, std::string message = {});

  const Authenticator& a_;
  expand::Context& ctx_;
  std::string hostname_;
  std::vector<std::string> items_;  // plaintext: client_send, unexpanded
  size_t next_ = 0;
  int cram_state_ = 0;  // cram_md5: 1 after AUTH, 2 after the digest
  std::string cram_name_, cram_secret_;
  std::optional<Step> after_abort_;  // the result once the server answered "*"
};

using text::xtext_encode;  // AUTH= on MAIL (core/text/strfuncs.hpp)

}  // namespace tern::auth
