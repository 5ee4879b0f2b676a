// core/module_host/acl_conditions.cpp: finding and running modules' ACL conditions.
#include "core/module_host/acl_conditions.hpp"

#include "core/module_host/boundary.hpp"

namespace tern::module_host {

void AclRegistry::add(AclCondition c) {
  auto& table = c.is_control() ? controls_ : conditions_;
  std::string name = c.name;
  table.emplace(std::move(name), std::move(c));
}

const AclCondition* AclRegistry::find_condition(std::string_view name) const {
  auto it = conditions_.find(name);
  return it == conditions_.end() ? nullptr : &it->second;
}

const AclCondition* AclRegistry::find_control(std::string_view name) const {
  auto it = controls_.find(name);
  return it == controls_.end() ? nullptr : &it->second;
}

AclResult AclRegistry::check(const AclCondition& c, std::string_view value, const CallEnv& env) const {
  Blocking b{(c.flags & TERN_MAY_BLOCK) != 0, c.timeout_ms, pool_, nullptr};
  Outcome o = invoke(env, b, [check = c.check, ctx = c.ctx, user = c.user, v = std::string(value)](tern_call* call,
                                                                                                tern_buf* out) {
    return check(ctx, user, call, tern_str{v.data(), v.size()}, out);
  });
  // A modifier is always true, whatever it returned, unless it failed.
  if (c.is_modifier() && (o.status == TERN_DECLINE || o.status == TERN_FAIL)) o.status = TERN_OK;
  return {o.status, std::move(o.out), std::move(o.error)};
}

}  // namespace tern::module_host
