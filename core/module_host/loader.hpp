// core/module_host/loader.hpp: load the modules a configuration names, in order.
//
//   modules = events : dane : /opt/tern/hello.so
//   module_path = /usr/lib/tern/modules
//
// A name loads <module_path>/<name>.so; an absolute path loads that file.
// Each module is mapped and checked (module_file.hpp), then its init runs
// with the host table; its options are defined in the configuration's
// OptionRegistry (owner = the module's name) so that config::load() checks
// the configuration's lines against them. The first refusal fails the whole
// load with one line, `<path>: <reason>`; the modules loaded before it are
// finalised and unloaded (the Generation is destroyed), nothing is kept.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "core/config/options.hpp"
#include "core/module_host/generation.hpp"

namespace tern::module_host {

struct LoadSettings {
  std::string modules;      // the `modules` option's value (an Exim list)
  std::string module_path;  // where names are found
  std::vector<uid_t> trusted_owners;  // besides root: the tern user, the caller
  config::OptionRegistry* options = nullptr;  // required
};

// The files `modules` names, in order. Refuses a relative path or a name
// listed twice.
Result<std::vector<std::string>> module_files(const LoadSettings& settings);

Result<std::shared_ptr<Generation>> load_generation(const LoadSettings& settings);

}  // namespace tern::module_host
