// core/server/session_verifier.hpp: what the ACLs' `verify =` conditions ask of an SMTP
// session: recipients and senders routed in verify mode through the configuration's
// routers (core/deliver/verify.hpp), the HELO name and the client's host name checked in
// the DNS.
//
// Routing runs with the session's variables underneath the address ones, so routers see
// $sender_host_address, $sender_address and the rest as Exim's do. A sender's result is
// kept for the rest of the transaction (Exim's sender_verified_list), so a sender verified
// at MAIL and again at RCPT is routed and logged once. Calls come from the ACL threads when
// routing may block (AclSet::may_block), one at a time per session.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/acl/acl.hpp"
#include "core/deliver/verify.hpp"
#include "core/expand/expand.hpp"
#include "core/module_host/call_env.hpp"

namespace tern::server {

// Exim's host_lookup_msg when the client's address has no name in the DNS (then, and only
// then, "no host name found for IP address" is logged).
inline constexpr std::string_view kNoHostName = " (failed to find host name from IP address)";

struct SessionFacts {
  const std::string* client_address = nullptr;  // "" for a local (-bs) session
  const std::string* helo_name = nullptr;
};

class SessionVerifier final : public acl::Verifier {
 public:
  struct Env {
    std::shared_ptr<const deliver::RouterSet> routers;  // null: nothing routes
    const expand::Context* ctx = nullptr;               // the session's (variables: the session's)
    module_host::DnsResolver* dns = nullptr;
    const module_host::HookRegistry* hooks = nullptr;
    const module_host::CallEnv* modules = nullptr;
    std::string qualify_domain;
    // Told once, when the client's host name has been looked up (found or not), so the
    // session sets $sender_host_name and the host in its log lines.
    std::function<void(const HostName&)> host_name_known;
  };
  SessionVerifier(Env env, SessionFacts facts) : env_(std::move(env)), facts_(facts) {}

  acl::VerifyOutcome verify_recipient(const acl::VerifyRequest& r) override;
  acl::VerifyOutcome verify_sender(const acl::VerifyRequest& r) override;
  bool verify_helo() override;
  HostName host_name() override;

  // A new transaction (MAIL, RSET, HELO): sender results are forgotten.
  void reset() { senders_.clear(); }

 private:
  acl::VerifyOutcome route(const std::string& address, deliver::VerifyWhat what);
  Env env_;
  SessionFacts facts_;
  std::map<std::string, acl::VerifyOutcome, std::less<>> senders_;
  std::optional<HostName> host_name_;  // looked up once per session
  std::optional<bool> helo_verified_;
};

}  // namespace tern::server
