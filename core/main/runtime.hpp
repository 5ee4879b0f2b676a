// core/main/runtime.hpp: a configuration loaded and made ready to use.
//
// The command-line modes share this: the option registry filled with the
// core's options, the modules the configuration names (loaded before the
// rest of it is read, so that their options are known), the configuration
// read from -C (or the default), the lookup registry and searcher (with the
// modules' lookup types), and an expansion Context whose variables come
// from the configuration ($primary_hostname, $qualify_domain, ...) and
// whose extensions are the modules' operators, items and variables.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/acl/acl.hpp"
#include "core/acl/ratelimit.hpp"
#include "core/base/result.hpp"
#include "core/config/config.hpp"
#include "core/config/options.hpp"
#include "core/dns/resolver.hpp"
#include "core/expand/expand.hpp"
#include "core/lookup/lookup.hpp"
#include "core/main/command_line.hpp"
#include "core/module_host/discovery.hpp"
#include "core/module_host/extensions_adapter.hpp"
#include "core/module_host/generation.hpp"

namespace tern::cli {

// Where tern looks for its configuration when -C is not given.
inline constexpr const char* kDefaultConfigFile = "/etc/tern/tern.conf";

// What config::load() needs for the configuration the command line names
// (-C or the default, -D macros, the build's feature macros).
config::LoadRequest load_request(const CommandLine& cl, const config::OptionRegistry& registry);

class Runtime {
 public:
  // Load the configuration the command line names. Errors are one line,
  // `file:line: what is wrong`.
  static Result<std::unique_ptr<Runtime>> load(const CommandLine& cl);

  const config::Config& config() const { return config_; }
  const module_host::Generation& modules() const { return *generation_; }
  expand::Context& context() { return context_; }
  // The configuration's own variables ($primary_hostname, ...), which
  // sessions layer theirs over, and the lookup types (each session has its
  // own Searcher over them).
  const expand::VariableSource& config_variables() const { return variables_; }
  lookup::Registry& lookup_registry() { return *lookups_; }
  const config::OptionRegistry& option_registry() const { return options_; }
  // The configuration's ACLs (compiled with it), the resolver, the
  // process's ratelimit records, and what a module call gets.
  const acl::AclSet& acls() const { return *acls_; }
  dns::Resolver& resolver() { return *resolver_; }
  acl::RateLimitStore& ratelimits() { return ratelimits_; }
  const module_host::CallEnv& call_env() const { return call_env_; }
  // Where ${acl}'s logwrite lines go outside a session's ACLs (empty, the default: standard
  // error with a time stamp, as Exim's -be): a daemon or a delivery sends them to its logs.
  void set_acl_log(std::function<void(const acl::LogLine&)> log) { acl_log_ = std::move(log); }
  // Substitute the configuration's macros into `line` (-be input lines).
  std::string substitute_macros(std::string_view line) const;
  // Define a macro from a `NAME = value` line; false when `line` is not one.
  bool define_macro(std::string_view line, std::string* name);

 private:
  Runtime() = default;
  Status make_context(module_host::UnloadedNames unloaded);
  void make_environment();

  config::OptionRegistry options_;
  module_host::GenerationRef generation_;
  std::unique_ptr<module_host::ModuleExtensions> extensions_;
  config::Config config_;
  std::unique_ptr<lookup::Registry> lookups_;
  std::unique_ptr<lookup::Searcher> searcher_;
  expand::MapVariables variables_;
  expand::Context context_;
  std::map<std::string, std::string> environment_;  // what ${env} sees
  module_host::CallEnv call_env_;
  std::unique_ptr<acl::AclSet> acls_;
  std::unique_ptr<dns::Resolver> resolver_ = std::make_unique<dns::Resolver>();
  acl::RateLimitStore ratelimits_;
  // ${acl} outside a session (-be): where "unknown", state of its own.
  acl::SessionState acl_state_;
  std::unique_ptr<acl::RunEnv> acl_env_;
  std::function<void(const acl::LogLine&)> acl_log_;
};

}  // namespace tern::cli
