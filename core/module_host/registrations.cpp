// core/module_host/registrations.cpp: name claims and option definitions.
#include "core/module_host/registrations.hpp"

#include <algorithm>
#include <set>

#include "core/expand/expand.hpp"
#include "core/expand/operator_table.hpp"
#include "core/lookup/lookup.hpp"

namespace tern::module_host {
namespace {

// Exim 4.96's ACL conditions and modifiers (acl.c's conditions[]) and the
// values of `control =`: the ACL engine resolves them before any module's.
// The module-brought ones (bmi_optin, ...) are not here.
constexpr std::string_view kAclNames[] = {
    "acl", "add_header", "authenticated", "condition", "continue", "control", "decode", "delay",
    "dkim_signers", "dkim_status", "dmarc_status", "dnslists", "domains", "encrypted", "endpass",
    "hosts", "local_parts", "log_message", "log_reject_target", "logwrite", "malware", "message",
    "mime_regex", "queue", "ratelimit", "recipients", "regex", "remove_header", "seen",
    "sender_domains", "senders", "set", "spam", "spf", "spf_guess", "udpsend", "verify",
    // control = ...
    "allow_auth_unadvertised", "caseful_local_part", "caselower_local_part", "cutthrough_delivery",
    "debug", "dkim_disable_verify", "dmarc_disable_verify", "dmarc_enable_forensic", "dscp",
    "enforce_sync", "error", "fakedefer", "fakereject", "freeze", "no_callout_flush",
    "no_delay_flush", "no_enforce_sync", "no_multiline_responses", "no_pipelining", "queue_only",
    "submission", "suppress_local_fixups", "utf8_downconvert", "wellknown"};

// True when the core itself has `name` of `kind`: a module may not bring it
// (the core's would always be found first).
bool core_has(Kind kind, std::string_view name) {
  switch (kind) {
    case Kind::kOperator:
      return expand::is_builtin_operator(name);
    case Kind::kItem:
      return expand::is_builtin_item(name);
    case Kind::kVariable:
      return expand::is_builtin_variable(name);
    case Kind::kLookup: {
      static const lookup::Registry core = lookup::Registry::with_core_types();
      return core.find(name) != nullptr;
    }
    case Kind::kAclCondition:
      return std::find(std::begin(kAclNames), std::end(kAclNames), name) != std::end(kAclNames);
    default:
      return false;
  }
}

}  // namespace

std::string_view kind_text(Kind kind) {
  switch (kind) {
    case Kind::kOption: return "option";
    case Kind::kAclCondition: return "ACL condition";
    case Kind::kOperator: return "expansion operator";
    case Kind::kItem: return "expansion item";
    case Kind::kLookup: return "lookup type";
    case Kind::kVariable: return "variable";
  }
  return "name";
}

Status Registrations::claim(Kind kind, std::string_view name, std::string_view module) {
  auto twice = [&](std::string_view first) {
    return Error::failed(std::string(kind_text(kind)) + " \"" + std::string(name) +
                         "\" is registered twice: by \"" + std::string(first) + "\" and by \"" +
                         std::string(module) + "\"");
  };
  if (core_has(kind, name))
    return Error::failed("module \"" + std::string(module) + "\" registers " + std::string(kind_text(kind)) +
                         " \"" + std::string(name) + "\", which is built into tern: rename it");
  auto [it, inserted] = owners_.emplace(std::make_pair(kind, std::string(name)), std::string(module));
  if (!inserted) return twice(it->second);
  return {};
}

config::OptionType option_type(tern_option_type type) {
  switch (type) {
    case TERN_OPT_BOOL: return config::OptionType::kBool;
    case TERN_OPT_INT: return config::OptionType::kInt;
    case TERN_OPT_TIME: return config::OptionType::kTime;
    case TERN_OPT_FIXED: return config::OptionType::kFixed;
    case TERN_OPT_UID: return config::OptionType::kUid;
    case TERN_OPT_GID: return config::OptionType::kGid;
    default: return config::OptionType::kString;  // strings and lists
  }
}

std::vector<config::Scope> option_scopes(uint32_t scopes) {
  std::vector<config::Scope> out;
  if (scopes & TERN_SCOPE_MAIN) out.push_back(config::Scope::kMain);
  if (scopes & TERN_SCOPE_ROUTER) out.push_back(config::Scope::kRouter);
  if (scopes & TERN_SCOPE_TRANSPORT) out.push_back(config::Scope::kTransport);
  return out;
}

Status Registrations::add_option(ModuleOption option) {
  if (options_ != nullptr) {
    for (config::Scope scope : option_scopes(option.scopes)) {
      std::vector<std::string> drivers = option.drivers;
      if (scope == config::Scope::kMain || drivers.empty()) drivers = {""};
      for (const auto& driver : drivers) {
        const char* dflt = option.default_value ? option.default_value->c_str() : nullptr;
        Status st = options_->add(scope, driver, option.name, option_type(option.type), dflt, option.module);
        if (!st) return st;
      }
    }
  }
  owners_.emplace(std::make_pair(Kind::kOption, option.name), option.module);
  options.push_back(std::move(option));
  return {};
}

void Registrations::freeze(BlockingPool* pool) {
  events.freeze();
  hooks.freeze();
  hooks.set_pool(pool);
  acl.set_pool(pool);
}

}  // namespace tern::module_host
