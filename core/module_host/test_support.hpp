// core/module_host/test_support.hpp: shared helpers of the module_host tests.
//
// The test modules (testdata/testmod.c) are built into TERN_TEST_MODULE_DIR.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/config/options.hpp"
#include "core/module_host/loader.hpp"
#include "core/module_host/setup.hpp"

namespace tern::module_host::testing {

inline std::string module_dir() { return TERN_TEST_MODULE_DIR; }
inline std::string module_file(const std::string& name) { return module_dir() + "/" + name + ".so"; }

// A registry with the core's options, as the runtime makes it.
inline config::OptionRegistry core_options() {
  config::OptionRegistry r;
  if (!config::register_exim_options(r) || !register_module_options(r)) std::abort();
  return r;
}

inline Result<std::shared_ptr<Generation>> load(const std::string& modules, config::OptionRegistry& options) {
  LoadSettings s;
  s.modules = modules;
  s.module_path = module_dir();
  s.trusted_owners = {geteuid()};
  s.options = &options;
  return load_generation(s);
}

// A fresh temporary directory, removed with the object.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/tern-mh-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace tern::module_host::testing
