// core/module_host/setup.hpp: the modules of a configuration, before it is read.
//
// What the runtime calls between registering the core's options and
// config::load():
//   1. pre-scan the configuration for `modules`, `module_path`, `exim_user`
//      (config::scan_main_settings: macros, .include and .ifdef apply);
//   2. load the modules, in order, defining their options (load_generation);
//   3. discover the modules installed in module_path but not loaded, and
//      record what they would bring as "unloaded" (discovery.hpp).
// `modules` and `module_path` are main options of the core, defined by
// register_module_options().
#pragma once

#include <memory>

#include "core/base/result.hpp"
#include "core/config/config.hpp"
#include "core/module_host/discovery.hpp"
#include "core/module_host/generation.hpp"

namespace tern::module_host {

// The build's module directory, module_path's default.
const char* default_module_path();

// Define `modules` and `module_path` (owner "core").
Status register_module_options(config::OptionRegistry& options);

struct ModuleSetup {
  GenerationRef generation;
  UnloadedNames unloaded;
};

// `request.registry` must be `options` (filled with the core's options).
Result<ModuleSetup> setup_modules(const config::LoadRequest& request, config::OptionRegistry& options);

}  // namespace tern::module_host
