// core/deliver/router.hpp: Exim's routers: the generic options and the drivers accept,
// redirect, manualroute, dnslookup and ipliteral.
//
// Routing follows Exim's route_address(): each router in configuration order checks its
// preconditions (verify_only / verify, domains, local_parts, check_local_user, senders,
// condition, then the modules' TERN_HOOK_ROUTER_PRECONDITION hooks), skips an address whose ancestor with the same address it already handled
// (alias loops), expands address_data, then runs its driver. A driver accepts (a transport
// and maybe hosts), redirects (new addresses, routed from the first router again),
// discards (:blackhole:), fails, defers or declines (the next router is asked, unless
// no_more). When every router declines the address fails: "Unrouteable address".
//
// The Routing object holds the addresses of one routing run (a delivery, -bt, -bv): the
// top-level ones and every child a redirect made, each with a link to its parent, so log
// lines and -bt can show the chain.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/config/config.hpp"
#include "core/deliver/transport.hpp"
#include "core/deliver/variables.hpp"
#include "core/expand/expand.hpp"
#include "core/module_host/call_env.hpp"
#include "core/module_host/hooks.hpp"
#include "core/module_host/recipient_store.hpp"

namespace tern::deliver {

enum class RouteStatus { kPending, kRouted, kRedirected, kDiscarded, kFailed, kDeferred };

struct Address {
  std::string address;  // local_part@domain (or "|cmd", "/file" for pipe and file targets)
  std::string local_part, domain;
  int parent = -1;      // index of the address it was made from, -1 for a recipient
  bool is_pipe = false, is_file = false, is_directory = false;
  // Properties routers set; a child starts with its parent's (Exim's addr->prop).
  std::string address_data, errors_to;
  bool errors_to_set = false;
  std::vector<std::string> extra_headers;   // headers_add, each ending "\n"
  std::vector<std::string> remove_headers;  // headers_remove names
  // The routing result.
  RouteStatus status = RouteStatus::kPending;
  std::string router, transport;  // names
  std::vector<Host> hosts;
  std::string home;
  std::optional<std::int64_t> uid, gid;
  std::string message;  // fail/defer text ("Unrouteable address", ":fail:" text, ...)
  bool pass_message = false;  // the text is the administrator's for the sender (":fail:", ":defer:")
  int basic_errno = 0;
  std::string skip_router;  // from "\name": not redirected by this router again
  // The envelope recipient it came from: its position in the -H's recipient list
  // (children: their top-level recipient's), for modules' per-recipient data.
  std::size_t spool_recipient = module_host::MessageRecipients::kNone;
};

// What routing needs besides the configuration.
struct RouteEnv {
  expand::Context* ctx = nullptr;     // its variables must be `vars`
  DeliveryVariables* vars = nullptr;
  module_host::DnsResolver* resolver = nullptr;
  bool verifying = false;  // -bv, ACL verify: verify_only routers run, no_verify ones do not
  std::string sender;      // for `senders`
  std::string qualify_domain;  // unqualified redirect targets get it
  // Modules (all may be null): the router-precondition hooks, what their calls see, and
  // the message's per-recipient data, selected for each address routed.
  const module_host::HookRegistry* hooks = nullptr;
  const module_host::CallEnv* modules = nullptr;
  module_host::MessageRecipients* recipients = nullptr;
};

class Router;  // one configured router (router.cpp)

class RouterSet {
 public:
  // Checks every router's driver and static options (a bad route_list, an unknown driver).
  static Result<std::shared_ptr<const RouterSet>> build(const config::Config& config);
  ~RouterSet();

  // Routes addresses[index]; children made by a redirect are appended to `addresses` and
  // routed by the caller (route_all() does it all).
  void route(std::vector<Address>& addresses, std::size_t index, RouteEnv& env) const;
  // Routes the recipients in `addresses` and every child, as Exim's deliver_message(): an
  // address's children (in the order written) before the next recipient. Returns the
  // indices of the routed, failed, deferred and discarded leaves in that order.
  std::vector<std::size_t> route_all(std::vector<Address>& addresses, RouteEnv& env) const;

  const config::Config& config() const { return *config_; }

 private:
  RouterSet() = default;
  const config::Config* config_ = nullptr;
  std::vector<std::unique_ptr<Router>> routers_;
};

// Sets $local_part, $domain, $address_data, $home, $original_*, $parent_* for `a`.
void set_address_variables(const std::vector<Address>& addresses, std::size_t index, DeliveryVariables& vars);

// Sorts hosts as Exim does for MX records: by preference, randomised among equals.
void sort_mx_hosts(std::vector<Host>& hosts);

// Finds the addresses of `name` (A, then AAAA) through the resolver, keeping MX and port.
// Not found: an empty vector; a resolver that cannot answer: kDefer.
Result<std::vector<Host>> lookup_host_addresses(module_host::DnsResolver& resolver, const std::string& name,
                                                int mx, bool* all_secure);

}  // namespace tern::deliver
