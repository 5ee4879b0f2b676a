// core/server/acl_gate.cpp: AclGate (see acl_gate.hpp).
#include "core/server/acl_gate.hpp"

namespace tern::server {

AclDecision AclGate::check(AclWhere where, const std::string& acl, expand::Context& ctx) {
  (void)ctx;
  AclDecision d;
  if (!acl.empty()) return d;
  auto refuse = [&](int code) {
    d.verdict = AclDecision::Verdict::kDeny;
    d.reply = smtp::Reply::make(code, "Administrative prohibition");
  };
  switch (where) {
    case AclWhere::kRcpt: refuse(550); break;
    case AclWhere::kVrfy: refuse(252); break;
    case AclWhere::kExpn: refuse(550); break;
    case AclWhere::kEtrn: refuse(458); break;
    default: break;
  }
  return d;
}

}  // namespace tern::server
