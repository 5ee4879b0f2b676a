// core/module_host/acl_conditions.hpp: ACL conditions, modifiers and controls of modules.
//
// What modules registered with add_acl_condition, by name, for the ACL
// engine (a later issue) to check in configuration statements and to run:
//   if (auto* c = acls.find_condition("bmi_optin")) {
//     if (!c->allowed_in(TERN_ACL_RCPT)) ...configuration error...
//     AclResult r = acls.check(*c, expanded_value, env);
//   }
// `control = name` values are kept apart (find_control). Frozen with the
// generation; check() is const and may run on any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/module_host/invoke.hpp"

namespace tern::module_host {

struct AclCondition {
  std::string name;
  std::string module;
  uint32_t where = TERN_ACL_ALL;  // tern_acl_where bits
  uint32_t flags = 0;             // TERN_MAY_BLOCK, TERN_ACL_MODIFIER, TERN_ACL_CONTROL
  uint32_t timeout_ms = 0;
  tern_ctx* ctx = nullptr;
  tern_status (*check)(tern_ctx*, void*, tern_call*, tern_str, tern_buf*) = nullptr;
  void* user = nullptr;  // the definition's, handed back to check

  bool allowed_in(uint32_t acl) const { return (where & acl) != 0; }
  bool is_modifier() const { return (flags & TERN_ACL_MODIFIER) != 0; }
  bool is_control() const { return (flags & TERN_ACL_CONTROL) != 0; }
};

struct AclResult {
  tern_status status = TERN_ERROR;  // TERN_OK true, TERN_DECLINE false, DEFER, ERROR
  std::string message;              // for the SMTP reply or the log
  std::string error;                // with DEFER/ERROR
};

class AclRegistry {
 public:
  void add(AclCondition c);
  // Conditions and modifiers (`name = value` in a statement).
  const AclCondition* find_condition(std::string_view name) const;
  // `control = name`.
  const AclCondition* find_control(std::string_view name) const;
  AclResult check(const AclCondition& c, std::string_view value, const CallEnv& env) const;

  void set_pool(BlockingPool* pool) { pool_ = pool; }

 private:
  std::map<std::string, AclCondition, std::less<>> conditions_, controls_;
  BlockingPool* pool_ = nullptr;
};

}  // namespace tern::module_host
