// core/auth/authenticator.hpp: the `begin authenticators` instances tern can run.
//
// Exim's authenticators section is parsed by core/config (driver instances with
// their options); this file turns it into what the SMTP server and the smtp
// transport use: each instance's driver, its public name (the instance name
// when public_name is unset, as Exim), and whether it works as a server
// (plaintext: server_condition set; cram_md5: server_secret set) and as a client
// (plaintext: client_send; cram_md5: client_secret). Drivers tern does not run
// yet (dovecot, spa, external, tls) are refused with the reason, so a
// configuration never advertises a mechanism nobody answers.
//
// The exchanges themselves are server.hpp (AUTH in the SMTP server) and
// client.hpp (AUTH in the smtp transport).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/config/config.hpp"
#include "core/expand/expand.hpp"

namespace tern::auth {

enum class Driver { kPlaintext, kCramMd5 };

// The results of an exchange, Exim's names (OK, FAIL, DEFER, BAD64, CANCELLED,
// UNEXPECTED, ERROR): they decide the reply and the log line.
enum class Rc { kOk, kFail, kDefer, kBad64, kCancelled, kUnexpected, kError };

struct Authenticator {
  std::string name;         // the instance name ("plain"): A= in logs, $sender_host_authenticated
  Driver driver = Driver::kPlaintext;
  std::string public_name;  // the mechanism ("PLAIN"), compared without regard to case
  bool server = false;      // may answer AUTH
  bool client = false;      // may be used by the smtp transport
  // Option texts, unexpanded ("" when unset).
  std::string server_condition, server_set_id, server_advertise_condition, server_debug_print,
      server_mail_auth_condition;
  std::string server_prompts;  // plaintext
  std::string server_secret;   // cram_md5
  std::string client_condition, client_set_id;
  std::string client_send;                    // plaintext
  bool client_ignore_invalid_base64 = false;  // plaintext
  std::string client_name, client_secret;     // cram_md5 (client_name: "" = primary_hostname)

  // Whether the client's `mechanism` names this instance (any case).
  bool is_named(std::string_view mechanism) const;
};

// Exim's expand_check_condition() for an authenticator option (client_condition,
// server_advertise_condition, server_mail_auth_condition): false unless `text`
// expands to something other than "", "0", "no" or "false"; a forced failure is
// false; another expansion failure is false and its text goes to `*error`.
bool condition_holds(const std::string& text, expand::Context& ctx, std::string* error = nullptr);

class AuthenticatorSet {
 public:
  // Every instance of `config`, in order. An instance of a driver tern does not
  // run is an error naming it: `file:line: authenticator "x": driver "spa" is not
  // supported in this build`.
  static Result<AuthenticatorSet> from(const config::Config& config);

  const std::vector<Authenticator>& all() const { return all_; }
  bool any_server() const;

 private:
  std::vector<Authenticator> all_;
};

}  // namespace tern::auth
