// core/deliver/router_drivers.hpp: what the router engine (router.cpp) asks of a router
// driver (accept, redirect, manualroute, dnslookup, ipliteral), internal to core/deliver.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "core/config/config.hpp"
#include "core/deliver/router.hpp"

namespace tern::deliver {

struct DriverOutcome {
  enum Kind { kAccept, kRedirect, kDiscard, kFail, kDefer, kDecline };
  Kind kind = kDecline;
  std::string message;           // kFail, kDefer
  bool pass_message = false;     // kFail, kDefer: a ":fail:" or ":defer:" text, shown to SMTP clients
  int basic_errno = 0;
  std::vector<Address> children;  // kRedirect: in the order written
  std::vector<Host> hosts;        // kAccept by a host-finding router
  std::string transport;          // overrides the generic `transport` (file/pipe children)
};

class RouterDriver {
 public:
  virtual ~RouterDriver() = default;
  virtual DriverOutcome run(const Address& a, const std::vector<Address>& all, RouteEnv& env) const = 0;
  // Whether the driver must have a transport (accept, manualroute, dnslookup, ipliteral).
  virtual bool needs_transport() const { return true; }
};

// One per driver; an Error is a configuration error (a bad route_list).
Result<std::unique_ptr<RouterDriver>> make_accept_router(const config::DriverInstance& r);
Result<std::unique_ptr<RouterDriver>> make_redirect_router(const config::DriverInstance& r);
Result<std::unique_ptr<RouterDriver>> make_manualroute_router(const config::DriverInstance& r);
Result<std::unique_ptr<RouterDriver>> make_dnslookup_router(const config::DriverInstance& r);
Result<std::unique_ptr<RouterDriver>> make_ipliteral_router(const config::DriverInstance& r);

// Expands router or transport option `name` of `d` (unset: ""), Exim's texts on failure.
Result<std::string> expand_option(const config::DriverInstance& d, std::string_view name, expand::Context& ctx);

}  // namespace tern::deliver
