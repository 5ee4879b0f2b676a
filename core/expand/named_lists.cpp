// core/expand/named_lists.cpp: named_lists_of() (see named_lists.hpp).
#include "core/expand/named_lists.hpp"

namespace tern::expand {
namespace {

config::ListKind config_kind(lookup::ListKind k) {
  switch (k) {
    case lookup::ListKind::kHost: return config::ListKind::kHost;
    case lookup::ListKind::kAddress: return config::ListKind::kAddress;
    case lookup::ListKind::kLocalPart: return config::ListKind::kLocalPart;
    default: return config::ListKind::kDomain;
  }
}

}  // namespace

std::function<const std::string*(lookup::ListKind kind, std::string_view name)> named_lists_of(
    const config::Config& config) {
  return [&config](lookup::ListKind kind, std::string_view name) -> const std::string* {
    const config::NamedList* l = config.find_list(config_kind(kind), name);
    return l ? &l->value : nullptr;
  };
}

}  // namespace tern::expand
