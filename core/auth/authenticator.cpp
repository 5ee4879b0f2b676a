// core/auth/authenticator.cpp: AuthenticatorSet (see authenticator.hpp).
#include "core/auth/authenticator.hpp"

#include <strings.h>

namespace tern::auth {

Result<AuthenticatorSet> AuthenticatorSet::from(const config::Config& config) {
  AuthenticatorSet set;
  for (const config::DriverInstance& d : config.authenticators) {
    const config::OptionSet& o = d.options;
    Authenticator a;
    a.name = d.name;
    if (d.driver == "plaintext") {
      a.driver = Driver::kPlaintext;
      a.server_prompts = o.get_string("server_prompts");
      a.client_send = o.get_string("client_send");
      a.client_ignore_invalid_base64 = o.get_bool("client_ignore_invalid_base64");
    } else if (d.driver == "cram_md5") {
      a.driver = Driver::kCramMd5;
      a.server_secret = o.get_string("server_secret");
      a.client_name = o.get_string("client_name");
      a.client_secret = o.get_string("client_secret");
    } else {
      return Error::failed(d.where.file + ":" + std::to_string(d.where.line) + ": authenticator \"" + d.name +
                           "\": driver \"" + d.driver + "\" is not supported in this build");
    }
    a.public_name = o.was_set("public_name") ? o.get_string("public_name") : d.name;
    a.server_condition = o.get_string("server_condition");
    a.server_set_id = o.get_string("server_set_id");
    a.server_advertise_condition = o.get_string("server_advertise_condition");
    a.server_debug_print = o.get_string("server_debug_print");
    a.server_mail_auth_condition = o.get_string("server_mail_auth_condition");
    a.client_condition = o.get_string("client_condition");
    a.client_set_id = o.get_string("client_set_id");
    // Exim's init functions: what makes an instance a server or a client.
    if (a.driver == Driver::kPlaintext) {
      a.server = !a.server_condition.empty();
      a.client = !a.client_send.empty();
    } else {
      a.server = !a.server_secret.empty();
      a.client = !a.client_secret.empty();
    }
    set.all_.push_back(std::move(a));
  }
  return set;
}

bool AuthenticatorSet::any_server() const {
  for (const Authenticator& a : all_)
    if (a.server) return true;
  return false;
}

bool condition_holds(const std::string& text, expand::Context& ctx, std::string* error) {
  auto holds = expand::check_condition(expand::compile(text, ctx.extensions), ctx);
  if (holds) return *holds;
  if (error != nullptr && !holds.error().is_forced()) *error = holds.error().message;
  return false;
}

bool Authenticator::is_named(std::string_view mechanism) const {
  return public_name.size() == mechanism.size() &&
         strncasecmp(public_name.data(), mechanism.data(), mechanism.size()) == 0;
}

}  // namespace tern::auth
