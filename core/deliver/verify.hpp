// core/deliver/verify.hpp: Exim's verify_address() without callouts: what -bv, -bvs and
// the ACLs' `verify = recipient` and `verify = sender` make of an address by routing it.
//
// The address goes through the routers as for a delivery, but in verify mode
// (verify_only routers run, no_verify ones are skipped) with $verify_mode "R" for a
// recipient and "S" for a sender, as Exim sets it. Verification stops at the first answer:
// a failure or a deferral of any address on the way, or the first address routed or
// discarded; a redirection to exactly one ordinary address verifies that address instead,
// one to several (or to a pipe or file) verifies (Exim: "routing succeeded").
#pragma once

#include <string>
#include <string_view>

#include "core/deliver/router.hpp"

namespace tern::deliver {

struct Verification {
  enum class Rc { kOk, kFail, kDefer };
  Rc rc = Rc::kOk;
  std::string message;       // why it failed or deferred ("Unrouteable address", ":fail:" text)
  bool pass_message = false;  // the message may go to the SMTP client (":defer:" text)
  std::string address_data;  // the verified address's, for $address_data / $sender_address_data
};

enum class VerifyWhat { kRecipient, kSender };

// `written` as routing takes it: local_part@domain with the domain lower-cased, or qualified
// with `qualify_domain` when it has no domain.
Address address_to_route(std::string_view written, std::string_view qualify_domain);

// Routes `address` in verify mode; env.verifying is set for the call.
Verification verify_address(const RouterSet& routers, RouteEnv& env, Address address, VerifyWhat what,
                            bool success_on_redirect = false);

}  // namespace tern::deliver
