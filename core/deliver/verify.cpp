// core/deliver/verify.cpp: routing an address in verify mode (see verify.hpp).
#include "core/deliver/verify.hpp"

#include <utility>
#include <vector>

#include "core/text/strfuncs.hpp"

namespace tern::deliver {

Address address_to_route(std::string_view written, std::string_view qualify_domain) {
  Address a;
  a.address = std::string(written);
  auto at = a.address.rfind('@');
  if (at == std::string::npos) {
    a.address += "@" + std::string(qualify_domain);
    at = a.address.rfind('@');
  }
  a.local_part = a.address.substr(0, at);
  a.domain = a.address.substr(at + 1);
  a.local_part = text::lower(a.local_part);
  a.domain = text::lower(a.domain);
  return a;
}

Verification verify_address(const RouterSet& routers, RouteEnv& env, Address address, VerifyWhat what,
                            bool success_on_redirect) {
  const bool was_verifying = env.verifying;
  env.verifying = true;
  env.vars->set("verify_mode", what == VerifyWhat::kSender ? "S" : "R");
  std::vector<Address> all{std::move(address)};
  std::size_t current = 0;
  Verification v;
  for (;;) {
    std::size_t before = all.size();
    routers.route(all, current, env);
    const Address& a = all[current];
    if (a.status == RouteStatus::kFailed || a.status == RouteStatus::kDeferred) {
      v.rc = a.status == RouteStatus::kFailed ? Verification::Rc::kFail : Verification::Rc::kDefer;
      v.message = a.message;
      v.pass_message = a.pass_message;
      break;
    }
    if (a.status == RouteStatus::kRedirected && !success_on_redirect && all.size() - before == 1 &&
        !all[before].is_pipe && !all[before].is_file) {
      current = before;  // one new ordinary address: verify it instead
      continue;
    }
    v.address_data = a.address_data;
    break;
  }
  env.vars->unset("verify_mode");
  env.verifying = was_verifying;
  return v;
}

}  // namespace tern::deliver
