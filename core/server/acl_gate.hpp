// core/server/acl_gate.hpp: the session's door to the ACL engine (core/acl).
//
// The session asks at each point Exim runs an ACL (connect, HELO, MAIL,
// RCPT, DATA, ...) with the ACL option's value; the gate runs it through
// the configuration's compiled AclSet and hands back what to do, what to
// say and what to log, in Exim's words. An unset option gets Exim's
// default: RCPT, VRFY, EXPN and ETRN are refused ("Administrative
// prohibition": 550, 252, 550, 458), everything else is accepted.
//
// ACLs that may block (dnslists, delay, verify with callouts, may-block
// lookups and module conditions: AclSet::may_block) run on the process's
// ACL threads, so a slow DNS server or Redis never stalls the other
// sessions of the worker; the rest run inline.
#pragma once

#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/acl/acl.hpp"
#include "core/acl/ratelimit.hpp"
#include "core/expand/expand.hpp"
#include "core/smtp/reply.hpp"

namespace tern::server {

enum class AclWhere {
  kConnect, kHelo, kMail, kRcpt, kPredata, kData, kQuit, kNotquit, kVrfy, kExpn, kEtrn, kStarttls, kAuth, kMailAuth
};

struct AclDecision {
  enum class Verdict { kAccept, kDeny, kDefer, kDiscard, kDrop, kError };
  Verdict verdict = Verdict::kAccept;
  smtp::Reply reply;                    // for anything but accept and discard
  std::optional<smtp::Reply> accepted;  // accept/discard with the ACL's own message
  std::string reject_log;               // "F=<a> rejected RCPT <b>: why" (after the host)
  unsigned reject_targets = acl::kLogMain | acl::kLogReject;
  std::vector<acl::LogLine> logs;  // logwrite, warnings: in order
  bool accepted_verdict() const { return verdict == Verdict::kAccept || verdict == Verdict::kDiscard; }
};

// What one ACL call is about.
struct AclRequest {
  std::string recipient;     // RCPT, VRFY: the address
  std::string command_data;  // the command's argument, for the reject log
  const std::vector<std::string>* header_lines = nullptr;  // DATA
  const std::vector<std::string>* recipients = nullptr;    // DATA
  long long message_size = -1;
};

// Process-wide pieces every gate uses.
struct AclServices {
  const acl::AclSet* acls = nullptr;
  acl::RateLimitStore* ratelimits = nullptr;
  module_host::DnsResolver* dns = nullptr;
  boost::asio::thread_pool* blocking = nullptr;  // null: everything inline
};

class AclGate {
 public:
  AclGate(const AclServices& services, expand::Context& ctx, const module_host::CallEnv* call_env,
          acl::Verifier* verifier);

  boost::asio::awaitable<AclDecision> check(AclWhere where, const std::string& acl, const AclRequest& req);

  // What a module's verdict gets where the ACL of `where` would refuse:
  // the reply and reject log of `deny`/`defer message = M log_message = L`
  // (kDeny/kDefer; anything else: an ACL error), as Exim's refusal rules give them.
  AclDecision refusal(AclWhere where, AclDecision::Verdict verdict, std::optional<std::string> message,
                      std::optional<std::string> log_message);

  acl::SessionState& state() { return state_; }
  void set_host_ident(std::string s) { host_ident_ = std::move(s); }
  // The resolver this session's ACLs use (default: the process's, services.dns).
  void set_resolver(module_host::DnsResolver* dns) { dns_ = dns; }
  // -bh: the engine's trace lines (Exim's ">>> " debug output).
  void set_trace(std::function<void(std::string_view)> trace) { trace_ = std::move(trace); }
  void set_host_checking(bool on) { host_checking_ = on; }
  void set_unqualified(bool sender, bool recipient) {
    allow_unqualified_sender_ = sender;
    allow_unqualified_recipient_ = recipient;
  }

 private:
  AclDecision decide(AclWhere where, const std::string& acl, const AclRequest& req);

  AclServices services_;
  expand::Context& ctx_;
  const module_host::CallEnv* call_env_;
  acl::Verifier* verifier_;
  acl::SessionState state_;
  std::string host_ident_;
  module_host::DnsResolver* dns_ = nullptr;
  std::function<void(std::string_view)> trace_;
  bool host_checking_ = false;
  bool allow_unqualified_sender_ = false, allow_unqualified_recipient_ = false;
};

}  // namespace tern::server
