// core/server/session_auth.cpp: SMTP AUTH in the session (see session.hpp).
//
// Exim 4.96's smtp_in.c AUTH_CMD and smtp_in_auth(), the EHLO AUTH line, and
// the AUTH= parameter of MAIL; the exchanges themselves are core/auth's.
// Replies and log lines are Exim's:
//   503 AUTH command used when not advertised / already authenticated /
//       not permitted in mail transaction            (protocol errors)
//   501 invalid character in authentication mechanism name   (syntax error)
//   504 <mech> authentication mechanism not supported        (protocol error)
//   235 Authentication succeeded, 535 Incorrect authentication data, 501 Invalid
//   base64 data, 501 Authentication cancelled, 553 Initial data not expected,
//   435 Unable to authenticate at present
//   "<name> authenticator failed for (helo) [ip]: 535 Incorrect authentication data (set_id=u)"
// A failure also raises auth:fail (Exim 4.97) with $event_data the reply and
// $sender_host_authenticated the authenticator's name; a non-empty answer is logged.
#include <strings.h>

#include <cctype>
#include <cstdio>

#include "core/auth/server.hpp"
#include "core/log/smtp_lines.hpp"
#include "core/server/session.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::server {

namespace {

constexpr size_t kMaxAuthLine = 16384;  // Exim's big_buffer: a longer answer is bad base64

bool mechanism_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }

// The AUTH= parameter as the client wrote it (Exim logs it undecoded).
std::string raw_auth_parameter(std::string_view argument) {
  for (size_t i = argument.size(); i-- > 0;) {
    if (i + 5 <= argument.size() && strncasecmp(argument.data() + i, "AUTH=", 5) == 0 &&
        (i == 0 || argument[i - 1] == ' ' || argument[i - 1] == '\t')) {
      std::string_view v = argument.substr(i + 5);
      return std::string(v.substr(0, v.find_first_of(" \t")));
    }
  }
  return {};
}

}  // namespace

void Session::bh_trace(std::string_view line) { std::fprintf(stderr, ">>> %.*s\n", int(line.size()), line.data()); }

// The names for EHLO's AUTH line: each server instance whose
// server_advertise_condition holds, when the client is in auth_advertise_hosts.
std::vector<std::string> Session::advertise_auth() {
  auth_advertised_.clear();
  const auth::AuthenticatorSet& set = settings_.authenticators;
  if (!set.any_server()) return {};
  const bool allowed = peer_.address.empty() ? settings_.auth_advertise_hosts == "*"
                                             : host_in(settings_.auth_advertise_hosts);
  if (!allowed) return {};
  std::vector<std::string> names;
  for (const auth::Authenticator& a : set.all()) {
    if (!a.server) continue;
    std::string error;
    if (!a.server_advertise_condition.empty() && !auth::condition_holds(a.server_advertise_condition, ctx_, &error)) {
      if (!error.empty())
        server_.log.panic("failed to expand \"" + a.server_advertise_condition + "\" in " + a.name +
                          " authenticator: " + error);
      continue;
    }
    auth_advertised_.push_back(&a);
    names.push_back(a.public_name);
  }
  return names;
}

void Session::forget_authentication() {
  auth_advertised_.clear();
  authenticated_by_ = nullptr;
  authenticated_id_.clear();
  set_var("sender_host_authenticated", "");
  set_var("authenticated_id", "");
}

log::AuthInfo Session::auth_info() const {
  log::AuthInfo a;
  if (authenticated_by_ == nullptr) return a;
  a.authenticator = authenticated_by_->name;
  a.id = authenticated_id_;
  a.sender = authenticated_sender_;
  return a;
}

void Session::auth_to_envelope(spool::Envelope& e) const {
  if (authenticated_by_ != nullptr) {
    e.set_var("host_auth", authenticated_by_->name);
    e.set_var("host_auth_pubname", authenticated_by_->public_name);
    if (!authenticated_id_.empty()) e.set_var("auth_id", authenticated_id_, true);
  }
  if (!authenticated_sender_.empty()) e.set_var("auth_sender", authenticated_sender_, true);
}

// One line from the client during the exchange; nullopt when the connection went.
boost::asio::awaitable<std::optional<std::string>> Session::read_auth_line() {
  bool overlong = false;
  for (;;) {
    std::string_view in = buffered();
    size_t nl = in.find('\n');
    if (nl != std::string_view::npos) {
      std::string line(in.substr(0, nl));
      consume(nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (overlong || line.size() >= kMaxAuthLine) line.assign(kMaxAuthLine, '=');  // bad base64
      co_return line;
    }
    if (in.size() >= kMaxAuthLine) {  // keep nothing of an endless line
      overlong = true;
      consume(in.size());
    }
    if (!co_await fill()) co_return std::nullopt;
  }
}

boost::asio::awaitable<bool> Session::on_auth(const smtp::Command& c) {
  set_var("authentication_failed", "1");
  auto protocol_error = [&](smtp::Reply r) {
    smtp::Outcome e = state_.synprot_error(std::move(r));
    send(*e.reply);
    return !e.drop;
  };
  const bool unadvertised_ok = gate_.state().controls.allow_auth_unadvertised;
  if (auth_advertised_.empty() && !unadvertised_ok) co_return protocol_error(smtp::replies::auth_not_advertised());
  if (authenticated_by_ != nullptr) co_return protocol_error(smtp::Reply::make(503, "already authenticated"));
  if (msg_) co_return protocol_error(smtp::Reply::make(503, "not permitted in mail transaction"));

  if (!settings_.acl_auth.empty()) {
    const AclRequest request{"", std::string(c.argument)};
    AclDecision d = co_await acl(AclWhere::kAuth, settings_.acl_auth, request);
    if (!d.accepted_verdict()) co_return !refuse(d);
  }

  std::string_view arg = c.argument;
  size_t end = 0;
  while (end < arg.size() && !std::isspace(static_cast<unsigned char>(arg[end]))) {
    if (!mechanism_char(arg[end]))
      co_return protocol_error(smtp::Reply::make(501, "invalid character in authentication mechanism name"));
    ++end;
  }
  const std::string mechanism(arg.substr(0, end));
  std::string_view data = arg.substr(end);
  while (!data.empty() && std::isspace(static_cast<unsigned char>(data.front()))) data.remove_prefix(1);

  const auth::Authenticator* au = nullptr;
  for (const auth::Authenticator& a : settings_.authenticators.all()) {
    if (!a.server || !a.is_named(mechanism)) continue;
    bool advertised = false;
    for (const auth::Authenticator* x : auth_advertised_) advertised = advertised || x == &a;
    if (advertised || unadvertised_ok) {
      au = &a;
      break;
    }
  }
  if (au == nullptr) co_return protocol_error(smtp::auth_unsupported(mechanism));

  std::function<void(std::string_view)> trace;
  if (peer_.fake) trace = &Session::bh_trace;
  auth::ServerExchange exchange(*au, ctx_, settings_.primary_hostname, trace);
  for (auth::ServerExchange::Step step = exchange.begin(data); !step.done;) {
    send(smtp::Reply::make(334, text::base64_encode(step.challenge)));
    std::optional<std::string> line = co_await read_auth_line();
    if (!line) {
      exchange.conclude();  // clears $auth<n>
      closed_ = true;
      co_return false;
    }
    step = exchange.answer(*line);
  }
  auth::ServerResult r = exchange.conclude();
  smtp::Reply reply = smtp::Reply::make(std::atoi(r.reply.substr(0, 3).c_str()), r.reply.substr(4));
  send(reply);
  if (r.ok()) {
    authenticated_by_ = au;
    authenticated_id_ = r.set_id;
    set_var("sender_host_authenticated", au->name);
    set_var("authenticated_id", r.set_id);
    set_var("authenticated_fail_id", "");
    set_var("authentication_failed", "0");
    set_var("received_protocol", log::received_protocol(peer_.address.empty(), esmtp_, tls_active_, true));
    co_return true;
  }
  if (!r.set_id.empty()) set_var("authenticated_fail_id", r.set_id);
  set_var("sender_host_authenticated", au->name);
  static constexpr std::string_view kEvent = "auth:fail";
  std::string logged = co_await raise_event(kEvent, r.reply);
  set_var("sender_host_authenticated", "");
  if (!logged.empty()) server_.log.main(logged);
  server_.log.write(log::auth_failed(log_peer(), au->name, r.log_text, {}, server_.log.selectors()));
  co_return true;
}

// MAIL's AUTH=: kept as $authenticated_sender when the client authenticated
// (or acl_smtp_mailauth accepts) and the authenticator's
// server_mail_auth_condition holds; otherwise ignored with a log line. False:
// the ACL refused the MAIL command (answered).
boost::asio::awaitable<bool> Session::check_mail_auth(const smtp::MailCommand& mail, std::string_view argument) {
  authenticated_sender_.clear();
  set_var("authenticated_sender", "");
  if (!mail.auth || *mail.auth == "<>") co_return true;
  authenticated_sender_ = *mail.auth;
  set_var("authenticated_sender", authenticated_sender_);
  std::string ignore;
  if (settings_.acl_mailauth.empty()) {
    if (authenticated_by_ == nullptr) ignore = "client not authenticated";
  } else {
    const AclRequest request{"", std::string(argument)};
    AclDecision d = co_await acl(AclWhere::kMailAuth, settings_.acl_mailauth, request);
    if (d.verdict == AclDecision::Verdict::kDeny) {
      ignore = "rejected by ACL";
    } else if (!d.accepted_verdict()) {
      if (refuse(d)) closed_ = true;
      authenticated_sender_.clear();
      set_var("authenticated_sender", "");
      co_return false;
    }
  }
  if (ignore.empty() && authenticated_by_ != nullptr && !authenticated_by_->server_mail_auth_condition.empty()) {
    if (!auth::condition_holds(authenticated_by_->server_mail_auth_condition, ctx_)) {
      ignore = "server_mail_auth_condition failed";
      if (!authenticated_id_.empty()) ignore += ": authenticated ID=\"" + authenticated_id_ + "\"";
    }
  }
  if (!ignore.empty()) {
    authenticated_sender_.clear();
    set_var("authenticated_sender", "");
    server_.log.main("ignoring AUTH=" + raw_auth_parameter(argument) + " from " + host_for_log() + " (" + ignore +
                     ")");
  }
  co_return true;
}

}  // namespace tern::server
