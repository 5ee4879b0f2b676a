// core/module_host/registrations.hpp: everything the modules of one generation registered.
//
// The host's add_* entries copy each definition here (strings owned, only
// the fields its size covers), after claim() has checked that no other
// module, nor the core, has the name. Options also go straight into the
// configuration's OptionRegistry (owner = module name) so that the
// configuration's lines are checked against them. Frozen when the last
// module's init has returned; the generation then reads it only.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/result.hpp"
#include "core/config/options.hpp"
#include "core/module_host/acl_conditions.hpp"
#include "core/module_host/event_bus.hpp"
#include "core/module_host/hooks.hpp"

namespace tern::module_host {

enum class Kind { kOption, kAclCondition, kOperator, kItem, kLookup, kVariable };

// "option", "ACL condition", "expansion operator", ... for messages.
std::string_view kind_text(Kind kind);

struct ModuleOption {
  std::string module;
  std::string name;
  tern_option_type type = TERN_OPT_STRING;
  uint32_t scopes = TERN_SCOPE_MAIN;
  std::vector<std::string> drivers;  // empty: every driver
  std::optional<std::string> default_value;
};

struct ModuleOperator {
  std::string name, module;
  uint32_t flags = 0, timeout_ms = 0;
  tern_ctx* ctx = nullptr;
  tern_status (*apply)(tern_ctx*, void*, tern_call*, tern_str, tern_buf*) = nullptr;
  void* user = nullptr;  // the definition's, handed back to apply
};

struct ModuleItem {
  std::string name, module;
  uint32_t min_args = 1, max_args = 1;
  uint32_t flags = 0, timeout_ms = 0;
  tern_ctx* ctx = nullptr;
  tern_status (*apply)(tern_ctx*, void*, tern_call*, const tern_str*, size_t, tern_buf*) = nullptr;
  void* user = nullptr;
};

struct ModuleVariable {
  std::string name, module;
  tern_ctx* ctx = nullptr;
  tern_status (*get)(tern_ctx*, void*, tern_call*, tern_buf*) = nullptr;
  void* user = nullptr;
};

struct ModuleLookup {
  std::string name, module;
  uint32_t flags = 0, timeout_ms = 0;
  tern_ctx* ctx = nullptr;
  tern_lookup_def def{};  // the copied definition, def.user included (its name pointer is not used)
};

class Registrations {
 public:
  // `options`: where module options are defined; nullptr in discovery.
  explicit Registrations(config::OptionRegistry* options) : options_(options) {}

  // Take `name` for `module`, or fail naming both owners:
  // `expansion operator "x" is registered twice: by "a" and by "b"`.
  // A name built into the core (expand::is_builtin_operator, _item,
  // _variable; the core's lookup types; Exim's ACL conditions and control
  // values) is refused:
  // `module "m" registers expansion item "if", which is built into tern: rename it`.
  Status claim(Kind kind, std::string_view name, std::string_view module);
  // Options are defined in the OptionRegistry (which refuses duplicates
  // itself) and remembered here.
  Status add_option(ModuleOption option);
  void freeze(BlockingPool* pool);

  std::vector<ModuleOption> options;
  std::vector<ModuleOperator> operators;
  std::vector<ModuleItem> items;
  std::vector<ModuleVariable> variables;
  std::vector<ModuleLookup> lookups;
  AclRegistry acl;
  HookRegistry hooks;
  EventBus events;
  // Every claimed (kind, name) -> module, for discovery.
  const std::map<std::pair<Kind, std::string>, std::string>& owners() const { return owners_; }

 private:
  config::OptionRegistry* options_;
  std::map<std::pair<Kind, std::string>, std::string> owners_;
};

// The core scopes and OptionType of a module option type.
config::OptionType option_type(tern_option_type type);
std::vector<config::Scope> option_scopes(uint32_t scopes);

}  // namespace tern::module_host
