// core/server/acl_gate.hpp: the session's door to the ACL engine.
//
// The session asks at each point Exim runs an ACL (connect, HELO, MAIL,
// RCPT, DATA, ...) with the ACL option's value; the gate runs it and hands
// back what to do and what to say, in Exim's words. An unset option gets
// Exim's default: RCPT, VRFY, EXPN and ETRN are refused ("Administrative
// prohibition", 550, 252, 550, 458), everything else is accepted.
#pragma once

#include <string>
#include <vector>

#include "core/expand/expand.hpp"
#include "core/smtp/reply.hpp"

namespace tern::server {

enum class AclWhere { kConnect, kHelo, kMail, kRcpt, kPredata, kData, kQuit, kNotquit, kVrfy, kExpn, kEtrn, kStarttls };

struct AclDecision {
  enum class Verdict { kAccept, kDeny, kDefer, kDiscard, kDrop, kError };
  Verdict verdict = Verdict::kAccept;
  smtp::Reply reply;        // for anything but accept and discard
  std::string log_reason;   // after "rejected RCPT <x>: "; empty: none
  bool no_pipelining = false, queue_only = false, freeze = false, submission = false;
  std::vector<std::string> add_headers;
  bool accepted() const { return verdict == Verdict::kAccept || verdict == Verdict::kDiscard; }
};

class AclGate {
 public:
  AclDecision check(AclWhere where, const std::string& acl, expand::Context& ctx);
};

}  // namespace tern::server
