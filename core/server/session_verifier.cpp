// core/server/session_verifier.cpp: verify = recipient / sender / helo and the client's
// host name for the ACLs of one SMTP session (see session_verifier.hpp).
#include "core/server/session_verifier.hpp"


#include "core/deliver/variables.hpp"
#include "core/dns/resolver.hpp"
#include "core/text/ipaddr.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::server {

namespace {

// Two addresses in text, as the same host (IPv4 and its ::ffff: form alike).
bool same_address(std::string_view a, std::string_view b) {
  return text::ip_version(a) != 0 && text::ip_version(b) != 0 && text::host_is_in_net(a, b, std::nullopt);
}

enum class Found { kYes, kNo, kDefer };

// Whether `name` has `address` among its A and AAAA records (Exim's forward check).
Found name_has_address(module_host::DnsResolver& dns, const std::string& name, const std::string& address) {
  bool deferred = false;
  for (uint16_t type : {dns::kTypeA, dns::kTypeAaaa}) {
    auto answer = dns.query(name, type);
    if (!answer) {
      deferred = true;
      continue;
    }
    for (const auto& a : dns::addresses(*answer))
      if (same_address(a, address)) return Found::kYes;
  }
  return deferred ? Found::kDefer : Found::kNo;
}

}  // namespace

acl::VerifyOutcome SessionVerifier::route(const std::string& address, deliver::VerifyWhat what) {
  acl::VerifyOutcome out;
  if (!env_.routers) {
    out.rc = acl::VerifyOutcome::Rc::kFail;
    out.message = "Unrouteable address";
    return out;
  }
  // The address variables over the session's own, for this verification only.
  deliver::DeliveryVariables vars(env_.ctx->variables);
  expand::Context ctx = *env_.ctx;
  ctx.variables = &vars;
  deliver::RouteEnv route_env;
  route_env.ctx = &ctx;
  route_env.vars = &vars;
  route_env.resolver = env_.dns;
  route_env.qualify_domain = env_.qualify_domain;
  std::string sender;
  env_.ctx->variables->append("sender_address", sender);
  route_env.sender = sender;
  auto no_data = module_host::MessageRecipients::for_routing(0, {});
  route_env.hooks = env_.hooks;
  route_env.modules = env_.modules;
  route_env.recipients = &no_data;
  deliver::Verification v = deliver::verify_address(*env_.routers, route_env,
                                                    deliver::address_to_route(address, env_.qualify_domain), what);
  switch (v.rc) {
    case deliver::Verification::Rc::kOk:
      out.rc = acl::VerifyOutcome::Rc::kOk;
      out.address_data = v.address_data;
      break;
    case deliver::Verification::Rc::kFail: out.rc = acl::VerifyOutcome::Rc::kFail; break;
    case deliver::Verification::Rc::kDefer: out.rc = acl::VerifyOutcome::Rc::kDefer; break;
  }
  out.message = v.message;
  out.pass_message = v.pass_message;
  return out;
}

acl::VerifyOutcome SessionVerifier::verify_recipient(const acl::VerifyRequest& r) {
  return route(r.address, deliver::VerifyWhat::kRecipient);
}

acl::VerifyOutcome SessionVerifier::verify_sender(const acl::VerifyRequest& r) {
  if (r.address.empty()) return {};  // the null sender verifies
  if (auto it = senders_.find(r.address); it != senders_.end()) return it->second;
  acl::VerifyOutcome out = route(r.address, deliver::VerifyWhat::kSender);
  senders_.emplace(r.address, out);
  return out;
}

// Exim's host_name_lookup(): the names of the client's address in the DNS (PTR), each kept
// only when it resolves back to that address; the first is the host name.
acl::Verifier::HostName SessionVerifier::host_name() {
  if (host_name_) return *host_name_;
  HostName h;
  const std::string& address = *facts_.client_address;
  h.rc = acl::VerifyOutcome::Rc::kFail;
  h.message = std::string(kNoHostName);
  if (address.empty() || env_.dns == nullptr) return *(host_name_ = h);
  auto answer = env_.dns->query(text::reverse_ip(address) + (text::ip_version(address) == 6 ? ".ip6.arpa" : ".in-addr.arpa"),
                                dns::kTypePtr);
  if (!answer) {
    h.rc = acl::VerifyOutcome::Rc::kDefer;
    h.message = " (host lookup deferred)";
  } else {
    for (const std::string& name : dns::ptr_names(*answer)) {
      if (name_has_address(*env_.dns, name, address) == Found::kYes) {
        h.rc = acl::VerifyOutcome::Rc::kOk;
        h.name = name;
        h.message.clear();
        break;
      }
      h.message = " (" + address + " does not match any IP address for " + name + ")";
    }
  }
  host_name_ = h;
  if (env_.host_name_known) env_.host_name_known(h);
  return h;
}

// Exim's smtp_verify_helo(): an address literal must be the client's address; a name must
// be the client's host name, or have the client's address among its own.
bool SessionVerifier::verify_helo() {
  if (helo_verified_) return *helo_verified_;
  const std::string& helo = *facts_.helo_name;
  const std::string& address = *facts_.client_address;
  bool ok = false;
  if (helo.empty()) {
    ok = false;
  } else if (address.empty()) {
    ok = true;  // -bs without an address: assumed
  } else if (helo.front() == '[') {
    std::string literal = helo.substr(1, helo.size() > 1 && helo.back() == ']' ? helo.size() - 2 : helo.size() - 1);
    if (literal.starts_with("IPv6:") || literal.starts_with("ipv6:")) literal.erase(0, 5);
    ok = same_address(literal, address);
  } else {
    HostName h = host_name();
    ok = h.rc == acl::VerifyOutcome::Rc::kOk && text::equal_caseless(h.name, helo);
    if (!ok && env_.dns != nullptr) ok = name_has_address(*env_.dns, helo, address) == Found::kYes;
  }
  helo_verified_ = ok;
  return ok;
}

}  // namespace tern::server
