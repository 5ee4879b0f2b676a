// core/module_host/setup.cpp: pre-scan, load, discover.
#include "core/module_host/setup.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <set>

#include "core/module_host/loader.hpp"
#include "core/module_host/module_file.hpp"

#ifndef TERN_MODULE_DIR
#define TERN_MODULE_DIR "/usr/lib/tern/modules"
#endif

namespace tern::module_host {
namespace {

// Root always; the tern user (exim_user) and the user running tern.
std::vector<uid_t> trusted_owners(const std::string& exim_user) {
  std::vector<uid_t> out{geteuid()};
  if (exim_user.empty()) return out;
  char* end = nullptr;
  unsigned long n = std::strtoul(exim_user.c_str(), &end, 10);
  if (end && *end == '\0') {
    out.push_back(static_cast<uid_t>(n));
  } else if (const struct passwd* pw = getpwnam(exim_user.c_str())) {
    out.push_back(pw->pw_uid);
  }
  return out;
}

}  // namespace

const char* default_module_path() { return TERN_MODULE_DIR; }

Status register_module_options(config::OptionRegistry& options) {
  if (Status st = options.add(config::Scope::kMain, "", "modules", config::OptionType::kString, nullptr); !st)
    return st;
  return options.add(config::Scope::kMain, "", "module_path", config::OptionType::kString, default_module_path());
}

Result<ModuleSetup> setup_modules(const config::LoadRequest& request, config::OptionRegistry& options) {
  auto early = config::scan_main_settings(request, {"modules", "module_path", "exim_user"});
  if (!early) return early.take_error();
  auto value = [&](const char* name, std::string dflt) {
    auto it = early->find(name);
    return it == early->end() ? dflt : it->second.value;
  };
  LoadSettings s;
  s.modules = value("modules", "");
  s.module_path = value("module_path", default_module_path());
  s.trusted_owners = trusted_owners(value("exim_user", "Debian-exim"));
  s.options = &options;
  auto g = load_generation(s);
  if (!g) return g.take_error();

  ModuleSetup out;
  std::set<std::string> loaded;
  for (const auto& m : (*g)->modules()) loaded.insert(m->name);
  auto found = discover(s.module_path, loaded, s.trusted_owners);
  record_unloaded(found, loaded, options, out.unloaded);
  out.generation = std::move(*g);
  return out;
}

}  // namespace tern::module_host
