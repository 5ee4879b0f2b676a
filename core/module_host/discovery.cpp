// core/module_host/discovery.cpp: discovery-mode init of installed modules.
#include "core/module_host/discovery.hpp"

#include <algorithm>
#include <filesystem>

#include "core/module_host/boundary.hpp"
#include "core/module_host/first_party.hpp"
#include "core/module_host/host.hpp"
#include "core/module_host/module_file.hpp"

namespace tern::module_host {
namespace {

std::optional<expand::ExtensionKind> extension_kind(Kind k) {
  switch (k) {
    case Kind::kOperator: return expand::ExtensionKind::kOperator;
    case Kind::kItem: return expand::ExtensionKind::kItem;
    case Kind::kVariable: return expand::ExtensionKind::kVariable;
    case Kind::kLookup: return expand::ExtensionKind::kLookup;
    case Kind::kAclCondition: return expand::ExtensionKind::kCondition;
    default: return std::nullopt;
  }
}

// One module's registrations, or nullopt when it is refused or its init fails.
std::optional<Discovered> discover_one(const std::string& path, const std::vector<uid_t>& trusted) {
  auto mapped = map_module(path, module_name_of(path), trusted);
  if (!mapped) return std::nullopt;
  const tern_module* d = (*mapped)->descriptor();
  Registrations regs(nullptr);
  ModuleCtx ctx;
  ctx.host = host_table(true);
  ctx.module = d->name;
  ctx.registrations = &regs;
  ctx.discovery = true;
  ctx.in_init = true;
  tern_status st = d->init(ctx.host, &ctx);
  ctx.in_init = false;
  if (st == TERN_OK && d->fini) d->fini(&ctx);
  if (st != TERN_OK) return std::nullopt;
  Discovered out;
  out.module = d->name;
  out.options = regs.options;
  for (const auto& [key, owner] : regs.owners()) {
    if (auto k = extension_kind(key.first)) out.names.emplace_back(*k, key.second);
  }
  return out;  // `mapped` closes the library
}

void record_option(const ModuleOption& o, const std::string& module, config::OptionRegistry& options) {
  for (config::Scope scope : option_scopes(o.scopes)) {
    std::vector<std::string> drivers = o.drivers;
    if (scope == config::Scope::kMain || drivers.empty()) drivers = {""};
    for (const auto& driver : drivers) options.add_unloaded({o.name, scope, module, driver});
  }
}

}  // namespace

void UnloadedNames::add(expand::ExtensionKind kind, std::string name, std::string module) {
  // Two installed modules may bring the same name (only one can be loaded
  // with it): name the one called like it, else the first found.
  auto [it, inserted] = owners_.emplace(std::make_pair(kind, name), module);
  if (!inserted && module == name) it->second = std::move(module);
}

std::optional<std::string> UnloadedNames::owner(expand::ExtensionKind kind, std::string_view name) const {
  auto it = owners_.find(std::make_pair(kind, std::string(name)));
  if (it != owners_.end()) return it->second;
  // ${quote_redis:...} belongs to whoever brings lookup type redis.
  if (kind == expand::ExtensionKind::kOperator && name.substr(0, 6) == "quote_")
    return owner(expand::ExtensionKind::kLookup, name.substr(6));
  return std::nullopt;
}

std::vector<Discovered> discover(const std::string& module_path, const std::set<std::string>& skip,
                                 const std::vector<uid_t>& trusted) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(module_path, ec)) {
    const auto& p = entry.path();
    if (p.extension() != ".so" || skip.count(p.stem().string())) continue;
    files.push_back(p.string());
  }
  std::sort(files.begin(), files.end());
  std::vector<Discovered> out;
  for (const auto& f : files)
    if (auto d = discover_one(f, trusted)) out.push_back(std::move(*d));
  return out;
}

void record_unloaded(const std::vector<Discovered>& found, const std::set<std::string>& loaded,
                     config::OptionRegistry& options, UnloadedNames& names) {
  std::set<std::string> known = loaded;
  for (const auto& d : found) {
    known.insert(d.module);
    for (const auto& o : d.options) record_option(o, d.module, options);
    for (const auto& [kind, name] : d.names) names.add(kind, name, d.module);
  }
  for (auto& u : config::first_party_module_options())
    if (!known.count(u.module)) options.add_unloaded(std::move(u));
  for (const auto& fp : first_party_names())
    if (!known.count(fp.module)) names.add(fp.kind, fp.name, fp.module);
}

}  // namespace tern::module_host
