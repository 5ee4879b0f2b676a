// core/module_host/discovery.hpp: what the modules that are not loaded would bring.
//
// So that `hosts_try_dane = *` without `modules = dane` names the module
// (INTERFACE.md), every module installed in module_path that the
// configuration does not load is mapped and checked like a loaded one, its
// init runs in discovery mode (host->discovery = 1: it only registers),
// then fini and dlclose. A file that fails a check is skipped silently: it
// is not the configuration's business. First-party modules that are not
// installed there are described by a built-in table (first_party.cpp).
#pragma once

#include <sys/types.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/config/options.hpp"
#include "core/expand/extensions.hpp"
#include "core/module_host/registrations.hpp"

namespace tern::module_host {

// Names of modules that are not loaded: (kind, name) -> module.
class UnloadedNames {
 public:
  void add(expand::ExtensionKind kind, std::string name, std::string module);
  std::optional<std::string> owner(expand::ExtensionKind kind, std::string_view name) const;

 private:
  std::map<std::pair<expand::ExtensionKind, std::string>, std::string, std::less<>> owners_;
};

struct Discovered {
  std::string module;
  std::vector<ModuleOption> options;
  std::vector<std::pair<expand::ExtensionKind, std::string>> names;
};

// The modules in `module_path` (files *.so), except those in `skip`.
std::vector<Discovered> discover(const std::string& module_path, const std::set<std::string>& skip,
                                 const std::vector<uid_t>& trusted);

// Record what `found` would bring, and what the first-party modules that
// are neither loaded (`loaded`) nor found would bring, into the option
// registry's "unloaded" list and into `names`.
void record_unloaded(const std::vector<Discovered>& found, const std::set<std::string>& loaded,
                     config::OptionRegistry& options, UnloadedNames& names);

}  // namespace tern::module_host
