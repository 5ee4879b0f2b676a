// core/module_host/registrations.cpp: name claims and option definitions.
#include "core/module_host/registrations.hpp"

#include <algorithm>
#include <set>

#include "core/expand/expand.hpp"
#include "core/expand/operator_table.hpp"
#include "core/lookup/lookup.hpp"

namespace tern::module_host {
namespace {

// True when the core itself has `name` of `kind`.
bool core_has(Kind kind, std::string_view name) {
  switch (kind) {
    case Kind::kOperator:
      return expand::resolve_operator(name).ok();
    case Kind::kVariable: {
      static const std::set<std::string_view> names = [] {
        auto v = expand::variable_names();
        return std::set<std::string_view>(v.begin(), v.end());
      }();
      return names.count(name) != 0;
    }
    case Kind::kLookup: {
      static const lookup::Registry core = lookup::Registry::with_core_types();
      return core.find(name) != nullptr;
    }
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
  if (core_has(kind, name)) return twice("core");
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
