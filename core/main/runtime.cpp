// core/main/runtime.cpp: a configuration loaded and made ready to use.
//
// Builds, in order: the option registry (the core's options), the modules
// (core/module_host: pre-scan of `modules`, load, discovery of those not
// loaded so that using one of their names names the module), the
// configuration, the lookup registry, and the expansion context with the
// variables the configuration determines and the modules' extensions.
#include "core/main/runtime.hpp"

#include "core/expand/named_lists.hpp"
#include <pwd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <cstdio>
#include <filesystem>
#include <map>

#include "core/lookup/match.hpp"
#include "core/module_host/lookup_adapter.hpp"
#include "core/module_host/setup.hpp"
#include "core/text/list.hpp"

extern char** environ;

namespace tern::cli {
namespace {

// Exim's default primary_hostname: the node name from uname().
std::string node_name() {
  struct utsname u {};
  if (uname(&u) != 0) return "localhost";
  return u.nodename;
}

// Macros that say what this build of the core has (Exim's _HAVE_* style).
// Modules add their own (_HAVE_DANE, ...) when they are loaded.
const std::pair<std::string, std::string> kFeatureMacros[] = {
    {"_HAVE_TLS", "y"},          {"_HAVE_TLS1_3", "y"},           {"_HAVE_IPV6", "y"},
    {"_HAVE_CRYPTEQ", "y"},      {"_CRYPTO_HASH_SHA3", "y"},      {"_CRYPTO_SIGN_ED25519", "y"},
    {"_HAVE_LOOKUP_LSEARCH", "y"}, {"_HAVE_LOOKUP_DSEARCH", "y"}, {"_HAVE_LOOKUP_PASSWD", "y"},
    {"_HAVE_TRANSPORT_APPEND_MAILDIR", "y"},
};

// The login name of the calling user ($authenticated_id for local callers).
std::string login_name() {
  if (const struct passwd* pw = getpwuid(getuid())) return pw->pw_name;
  return std::to_string(getuid());
}

std::string self_path() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("tern") : p.string();
}

}  // namespace

config::LoadRequest load_request(const CommandLine& cl, const config::OptionRegistry& registry) {
  config::LoadRequest req;
  req.path = cl.config_file.empty() ? kDefaultConfigFile : cl.config_file;
  req.defines = cl.macros;
  req.registry = &registry;
  req.builtin_macros.assign(std::begin(kFeatureMacros), std::end(kFeatureMacros));
  return req;
}

Result<std::unique_ptr<Runtime>> Runtime::load(const CommandLine& cl) {
  std::unique_ptr<Runtime> rt(new Runtime());
  if (auto s = config::register_exim_options(rt->options_); !s) return s.take_error();
  if (auto s = module_host::register_module_options(rt->options_); !s) return s.take_error();

  config::LoadRequest req = load_request(cl, rt->options_);
  auto modules = module_host::setup_modules(req, rt->options_);
  if (!modules) return modules.take_error();
  rt->generation_ = modules->generation;
  auto loaded = config::load(req);
  if (!loaded) return loaded.take_error();
  rt->config_ = std::move(loaded).value();
  if (auto s = rt->make_context(std::move(modules->unloaded)); !s) return s.take_error();
  return rt;
}

Status Runtime::make_context(module_host::UnloadedNames unloaded) {
  // What every module call gets: the options and the event bus.
  module_host::CallEnv base;
  base.options = &options_;
  base.main = &config_.main;
  base.events = &generation_->events();

  // wildlsearch keys are expanded in the runtime's own context.
  lookups_ = std::make_unique<lookup::Registry>(lookup::Registry::with_core_types(
      [this](std::string_view key) { return expand::expand(key, context_); }));
  for (auto& type : module_host::make_lookup_types(generation_, base))
    if (Status st = lookups_->add(std::move(type)); !st) return st;
  searcher_ = std::make_unique<lookup::Searcher>(*lookups_);
  extensions_ = std::make_unique<module_host::ModuleExtensions>(generation_, std::move(unloaded), base);
  call_env_ = base;
  call_env_.dns = resolver_.get();
  auto acls = acl::AclSet::compile(config_, &generation_->acl(), extensions_.get(), lookups_.get());
  if (!acls) return acls.take_error();
  acls_ = std::make_unique<acl::AclSet>(std::move(*acls));

  const auto& main = config_.main;
  std::string primary = main.get_string("primary_hostname");
  if (primary.empty()) primary = node_name();
  std::string qualify = main.get_string("qualify_domain");
  if (qualify.empty()) qualify = primary;
  std::string qualify_recipient = main.get_string("qualify_recipient");
  if (qualify_recipient.empty()) qualify_recipient = qualify;

  std::string config_file = std::filesystem::absolute(config_.file).lexically_normal().string();
  variables_.set("primary_hostname", primary);
  variables_.set("smtp_active_hostname", primary);
  variables_.set("qualify_domain", qualify);
  variables_.set("qualify_recipient", qualify_recipient);
  variables_.set("spool_directory", main.get_string("spool_directory"));
  variables_.set("config_file", config_file);
  variables_.set("config_dir", std::filesystem::path(config_file).parent_path().string());
  variables_.set("exim_path", self_path());
  variables_.set("caller_uid", std::to_string(getuid()));
  variables_.set("caller_gid", std::to_string(getgid()));
  variables_.set("originator_uid", std::to_string(getuid()));
  variables_.set("originator_gid", std::to_string(getgid()));
  std::error_code ec;
  variables_.set("initial_cwd", std::filesystem::current_path(ec).string());
  // A local caller, as for `exim -be`: the sender is the caller's login at
  // the qualify domain, and local callers count as authenticated.
  std::string login = login_name();
  variables_.set("sender_address", login + "@" + qualify);
  variables_.set("authenticated_id", login);
  variables_.set("authenticated_sender", login + "@" + qualify);

  context_.variables = &variables_;
  context_.registry = lookups_.get();
  context_.searcher = searcher_.get();
  context_.extensions = extensions_.get();
  context_.primary_hostname = primary;
  context_.named_list = expand::named_lists_of(config_);
  make_environment();
  context_.getenv = [this](std::string_view name) -> std::optional<std::string> {
    auto it = environment_.find(std::string(name));
    if (it == environment_.end()) return std::nullopt;
    return it->second;
  };
  // ${acl} here runs as in `exim -be`: where "unknown", outside a session.
  acl_env_ = std::make_unique<acl::RunEnv>(context_, acl_state_);
  acl_env_->dns = resolver_.get();
  acl_env_->ratelimits = &ratelimits_;
  acl_env_->call_env = &call_env_;
  // Their log lines go to standard error, as Exim's -be writes them.
  context_.acl = acl::make_acl_hook(*acls_, acl::Where::kExpansion, [this]() -> acl::RunEnv& { return *acl_env_; },
                                    [this](const acl::LogLine& l) {
                                      if (acl_log_) return acl_log_(l);
                                      std::time_t now = std::time(nullptr);
                                      char stamp[32];
                                      std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S",
                                                    std::localtime(&now));
                                      std::fprintf(stderr, "%s %s\n", stamp, l.text.c_str());
                                    });
  return {};
}

// Exim's environment rules: only the variables keep_environment names
// survive (all are purged when it is unset), then add_environment's
// NAME=value items are added.
void Runtime::make_environment() {
  const auto& main = config_.main;
  std::string keep = main.get_string("keep_environment");
  lookup::MatchEnv env;
  env.searcher = searcher_.get();
  env.registry = lookups_.get();
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos || keep.empty()) continue;
    auto m = lookup::match_list(entry.substr(0, eq), keep, lookup::ListKind::kString, env);
    if (m && m->matched()) environment_[std::string(entry.substr(0, eq))] = entry.substr(eq + 1);
  }
  for (const auto& item : text::list_items(main.get_string("add_environment"))) {
    auto eq = item.find('=');
    if (eq != std::string::npos) environment_[item.substr(0, eq)] = item.substr(eq + 1);
  }
}

std::string Runtime::substitute_macros(std::string_view line) const {
  return config::substitute_macros(config_, line);
}

bool Runtime::define_macro(std::string_view line, std::string* name) {
  return config::define_macro(config_, line, name);
}

}  // namespace tern::cli
