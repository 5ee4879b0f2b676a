// core/server/acl_gate.cpp: AclGate (see acl_gate.hpp).
#include "core/server/acl_gate.hpp"

#include "core/server/offload.hpp"

namespace tern::server {

namespace {

acl::Where engine_where(AclWhere w) {
  switch (w) {
    case AclWhere::kConnect: return acl::Where::kConnect;
    case AclWhere::kHelo: return acl::Where::kHelo;
    case AclWhere::kMail: return acl::Where::kMail;
    case AclWhere::kRcpt: return acl::Where::kRcpt;
    case AclWhere::kPredata: return acl::Where::kPredata;
    case AclWhere::kData: return acl::Where::kData;
    case AclWhere::kQuit: return acl::Where::kQuit;
    case AclWhere::kNotquit: return acl::Where::kNotQuit;
    case AclWhere::kVrfy: return acl::Where::kVrfy;
    case AclWhere::kExpn: return acl::Where::kExpn;
    case AclWhere::kEtrn: return acl::Where::kEtrn;
    case AclWhere::kStarttls: return acl::Where::kStartTls;
    case AclWhere::kAuth: return acl::Where::kAuth;
    case AclWhere::kMailAuth: return acl::Where::kMailAuth;
  }
  return acl::Where::kExpansion;
}

AclDecision::Verdict verdict_of(acl::Verdict v) {
  switch (v) {
    case acl::Verdict::kAccept: return AclDecision::Verdict::kAccept;
    case acl::Verdict::kDeny: return AclDecision::Verdict::kDeny;
    case acl::Verdict::kDefer: return AclDecision::Verdict::kDefer;
    case acl::Verdict::kDiscard: return AclDecision::Verdict::kDiscard;
    case acl::Verdict::kDrop: return AclDecision::Verdict::kDrop;
    case acl::Verdict::kError: return AclDecision::Verdict::kError;
  }
  return AclDecision::Verdict::kError;
}

// Exim's defaults for an ACL option that is not set, with its log lines
// ("F=<a@b> rejected RCPT <c@d>", "rejected VRFY x@y").
AclDecision unset_acl(AclWhere where, const AclRequest& req, expand::Context& ctx) {
  AclDecision d;
  auto refuse = [&](int code, std::string log) {
    d.verdict = AclDecision::Verdict::kDeny;
    d.reply = smtp::Reply::make(code, "Administrative prohibition");
    d.reject_log = std::move(log);
  };
  std::string sender;
  if (ctx.variables) ctx.variables->append("sender_address", sender);
  switch (where) {
    case AclWhere::kRcpt: refuse(550, "F=<" + sender + "> rejected RCPT " + req.command_data); break;
    case AclWhere::kVrfy: refuse(252, "rejected VRFY " + req.command_data); break;
    case AclWhere::kExpn: refuse(550, "rejected EXPN " + req.command_data); break;
    case AclWhere::kEtrn: refuse(458, "rejected ETRN " + req.command_data); break;
    default: break;
  }
  return d;
}

}  // namespace

AclGate::AclGate(const AclServices& services, expand::Context& ctx, const module_host::CallEnv* call_env,
                 acl::Verifier* verifier)
    : services_(services), ctx_(ctx), call_env_(call_env), verifier_(verifier) {}

AclDecision AclGate::decide(AclWhere where, const std::string& name, const AclRequest& req) {
  acl::RunEnv env(ctx_, state_);
  env.verifier = verifier_;
  env.dns = dns_ != nullptr ? dns_ : services_.dns;
  env.ratelimits = services_.ratelimits;
  env.call_env = call_env_;
  env.trace = trace_;
  env.recipient = req.recipient;
  env.command_data = req.command_data;
  env.host_ident = host_ident_;
  env.header_lines = req.header_lines;
  env.recipients = req.recipients;
  env.message_size = req.message_size;
  env.allow_unqualified_sender = allow_unqualified_sender_;
  env.allow_unqualified_recipient = allow_unqualified_recipient_;
  env.host_checking = host_checking_;
  acl::AclResult r = services_.acls->run(name, engine_where(where), env);
  AclDecision d;
  d.verdict = verdict_of(r.verdict);
  d.logs = std::move(r.logs);
  if (d.accepted_verdict()) {
    if (r.user_message) d.accepted = acl::accepted_reply(r, smtp::Reply::make(250, "OK"), &d.logs);
  } else {
    d.reply = std::move(r.reply);
    d.reject_log = std::move(r.reject_log);
    d.reject_targets = r.log_reject_target;
  }
  return d;
}

AclDecision AclGate::refusal(AclWhere where, AclDecision::Verdict verdict, std::optional<std::string> message,
                             std::optional<std::string> log_message) {
  acl::RunEnv env(ctx_, state_);
  env.host_ident = host_ident_;
  const acl::Verdict v = verdict == AclDecision::Verdict::kDeny    ? acl::Verdict::kDeny
                         : verdict == AclDecision::Verdict::kDefer ? acl::Verdict::kDefer
                                                                   : acl::Verdict::kError;
  acl::AclResult r = services_.acls ? services_.acls->refusal(engine_where(where), v, std::move(message),
                                                              std::move(log_message), env)
                                    : acl::AclResult{};
  AclDecision d;
  d.verdict = verdict_of(r.verdict);
  d.reply = std::move(r.reply);
  d.reject_log = std::move(r.reject_log);
  d.reject_targets = r.log_reject_target;
  d.logs = std::move(r.logs);
  return d;
}

boost::asio::awaitable<AclDecision> AclGate::check(AclWhere where, const std::string& name, const AclRequest& req) {
  if (name.empty() || services_.acls == nullptr) co_return unset_acl(where, req, ctx_);
  if (services_.blocking == nullptr || !services_.acls->may_block(name)) co_return decide(where, name, req);
  // Off the I/O thread: the session waits, the worker's other sessions do not.
  auto run = [&] { return decide(where, name, req); };  // named: GCC 12 and temporaries in co_await
  co_return co_await offload(*services_.blocking, std::move(run));
}

}  // namespace tern::server
