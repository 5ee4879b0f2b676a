// core/expand/extensions.hpp: expansion operators, items and variables that
// do not live in the core (modules bring them through the ABI).
//
// The expansion engine knows only this interface; core/module_host
// implements it over what the loaded modules registered. Names are resolved
// when a string is compiled, so an unknown name, or one that belongs to a
// module that is not loaded, is a compile-time error with a clear text:
//   operator "quote_mysql" belongs to module "mysql", which is not loaded: add it to "modules"
//
// Built-in names win: the compiler looks a name up in the core's tables
// first, so a module cannot shadow `lc`, `if` or `$domain`. The loader
// refuses a module that registers such a name (expand::is_builtin_operator,
// is_builtin_item, is_builtin_variable in expand.hpp say which), so the
// rule never silently hides a module's definition. `${quote_NAME:..}` is
// always the built-in operator: it calls lookup type NAME's quote function.
//
// Lifetime: a compiled Expansion points at the ExtensionOperator/Item/
// Variable objects found here; they (and the module code behind them) must
// outlive every Expansion compiled against them, which holds when both
// belong to one configuration generation. Calls are made from the thread
// evaluating the expansion; `apply`/`get` are called only when Exim would
// run them (never in a skipped branch).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"

namespace tern::expand {

struct Context;

struct ExtensionOperator {
  std::string name;
  std::string module;
  // The argument arrives expanded. Error kinds: kForcedFail for a forced
  // failure, kDefer for a temporary one; the message is the expansion's
  // failure text as it stands.
  std::function<Result<std::string>(std::string_view argument, Context& ctx)> apply;
};

struct ExtensionItem {
  std::string name;
  std::string module;
  // ${name{a}{b}..}: fewer than min_args fails with `Not enough arguments
  // for 'name' (min is N)`, more than max_args with `Too many arguments for
  // 'name' (max is N)`, when the string is compiled. 1 <= min <= max.
  int min_args = 1, max_args = 1;
  // The arguments arrive expanded; errors as for operators.
  std::function<Result<std::string>(const std::vector<std::string>& args, Context& ctx)> apply;
};

struct ExtensionVariable {
  std::string name;
  std::string module;
  // nullopt: unset (expands to empty).
  std::function<Result<std::optional<std::string>>(Context& ctx)> get;
};

enum class ExtensionKind { kOperator, kItem, kVariable, kLookup, kCondition };

class Extensions {
 public:
  virtual ~Extensions() = default;
  virtual const ExtensionOperator* find_operator(std::string_view name) const = 0;
  virtual const ExtensionItem* find_item(std::string_view name) const = 0;
  virtual const ExtensionVariable* find_variable(std::string_view name) const = 0;
  // The module that would bring `name` when it is not loaded (first-party
  // modules and those installed in module_path), for the error text.
  virtual std::optional<std::string> unloaded_owner(ExtensionKind kind,
                                                    std::string_view name) const = 0;
};

// The text for a name that belongs to a module not loaded.
inline std::string not_loaded_text(std::string_view what, std::string_view name,
                                   std::string_view module) {
  return std::string(what) + " \"" + std::string(name) + "\" belongs to module \"" +
         std::string(module) + "\", which is not loaded: add it to \"modules\"";
}

}  // namespace tern::expand
