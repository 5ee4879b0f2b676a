// core/module_host/first_party.hpp: names the first-party modules bring, when not installed.
//
// Options are in config::first_party_module_options(); this is the rest
// (variables, lookup types, ACL conditions) from INTERFACE.md's table, so
// that `$proxy_session` without the proxy module names it even when the
// module is not in module_path. An installed module is asked instead.
#pragma once

#include <string>
#include <vector>

#include "core/expand/extensions.hpp"

namespace tern::module_host {

struct FirstPartyName {
  expand::ExtensionKind kind;
  std::string name;
  std::string module;
};

const std::vector<FirstPartyName>& first_party_names();

}  // namespace tern::module_host
