// core/module_host/extensions_adapter.hpp: modules' operators, items and variables for the expansion engine.
//
// Implements expand::Extensions over a Generation's registrations: each
// module function is wrapped in a std::function that makes the tern_call
// (with the evaluation's Context, and the options the runtime gave as the
// base CallEnv) and runs it through invoke() (off-thread with a deadline
// when TERN_MAY_BLOCK). unloaded_owner() answers from discovery. Holds a
// GenerationRef: the module code stays mapped while this object exists.
#pragma once

#include <map>
#include <string>

#include "core/expand/extensions.hpp"
#include "core/module_host/call_env.hpp"
#include "core/module_host/discovery.hpp"
#include "core/module_host/generation.hpp"

namespace tern::module_host {

class ModuleExtensions final : public expand::Extensions {
 public:
  // `base`: the surroundings every call gets (options, events); its
  // `expand` is replaced by the evaluation's Context.
  ModuleExtensions(GenerationRef generation, UnloadedNames unloaded, CallEnv base);
  ModuleExtensions(const ModuleExtensions&) = delete;  // the wrappers point at base_
  ModuleExtensions& operator=(const ModuleExtensions&) = delete;

  const expand::ExtensionOperator* find_operator(std::string_view name) const override;
  const expand::ExtensionItem* find_item(std::string_view name) const override;
  const expand::ExtensionVariable* find_variable(std::string_view name) const override;
  std::optional<std::string> unloaded_owner(expand::ExtensionKind kind, std::string_view name) const override;

 private:
  GenerationRef generation_;
  UnloadedNames unloaded_;
  CallEnv base_;
  std::map<std::string, expand::ExtensionOperator, std::less<>> operators_;
  std::map<std::string, expand::ExtensionItem, std::less<>> items_;
  std::map<std::string, expand::ExtensionVariable, std::less<>> variables_;
};

}  // namespace tern::module_host
