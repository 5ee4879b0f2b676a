// core/module_host/module_file.hpp: check a module file and map it.
//
// The checks before any of a module's code is trusted, in STYLE.md's order:
// the file exists, is owned by root, the tern user or the user running tern
// (loading your own file gives you nothing you did not have) and is not
// writable by group or others; it maps (dlopen RTLD_NOW | RTLD_LOCAL); it
// has the tern_module_v1 entry point; the descriptor's magic and size; the
// same ABI major; a minor not above the core's; its name equals the file's.
// Each refusal is one line, `<path>: <reason>`. Used by the loader and by
// discovery; this and generation.cpp are the only users of dlfcn.h.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "tern/module.h"

namespace tern::module_host {

// A mapped, checked module file; dlclose'd on destruction unless released.
class MappedModule {
 public:
  MappedModule(void* handle, const tern_module* descriptor) : handle_(handle), descriptor_(descriptor) {}
  ~MappedModule();
  MappedModule(const MappedModule&) = delete;
  MappedModule& operator=(const MappedModule&) = delete;
  const tern_module* descriptor() const { return descriptor_; }
  void* release() {
    void* h = handle_;
    handle_ = nullptr;
    return h;
  }

 private:
  void* handle_;
  const tern_module* descriptor_;
};

// `expected_name`: the file's base name without ".so". `trusted`: the
// owners accepted besides root.
Result<std::unique_ptr<MappedModule>> map_module(const std::string& path, const std::string& expected_name,
                                                 const std::vector<uid_t>& trusted);

// "dane" for "/usr/lib/tern/modules/dane.so".
std::string module_name_of(const std::string& path);

}  // namespace tern::module_host
