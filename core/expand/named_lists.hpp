// core/expand/named_lists.hpp: a configuration's named lists as the expander asks for them.
//
//   ctx.named_list = expand::named_lists_of(config);   // config must outlive ctx
//
// The expander asks by lookup::ListKind (listnamed without a kind tries each);
// the configuration keeps domainlist, hostlist, addresslist and localpartlist.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/config/config.hpp"
#include "core/lookup/match.hpp"

namespace tern::expand {

std::function<const std::string*(lookup::ListKind kind, std::string_view name)> named_lists_of(
    const config::Config& config);

}  // namespace tern::expand
