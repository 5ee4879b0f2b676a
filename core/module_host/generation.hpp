// core/module_host/generation.hpp: one configuration's loaded modules and what they brought.
//
// Built by load_generation() (loader.hpp) completely, then only read: the
// registrations are frozen when the last init has returned. Shared as
// GenerationRef by whatever runs under it (a session, a delivery, the
// adapters that wrap its lookups and operators), so its modules stay
// mapped while anything can still call them. Destruction is the only
// unload: the blocking pool is drained first (no module code left
// running), then each module's fini in reverse load order, then dlclose.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/module_host/blocking_pool.hpp"
#include "core/module_host/boundary.hpp"
#include "core/module_host/registrations.hpp"

namespace tern::module_host {

struct LoadedModule {
  std::string name;
  std::string version;
  std::string path;
  uint16_t abi_major = 0, abi_minor = 0;
  void* handle = nullptr;  // dlopen's
  const tern_module* descriptor = nullptr;
  std::unique_ptr<ModuleCtx> ctx;  // its head is what the module gets
  bool initialised = false;  // init returned TERN_OK: fini is owed
};

class Generation {
 public:
  explicit Generation(config::OptionRegistry* options) : registrations_(options) {}
  ~Generation();
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  const std::vector<std::unique_ptr<LoadedModule>>& modules() const { return modules_; }
  const Registrations& registrations() const { return registrations_; }
  const AclRegistry& acl() const { return registrations_.acl; }
  const HookRegistry& hooks() const { return registrations_.hooks; }
  const EventBus& events() const { return registrations_.events; }
  // Where this generation's TERN_MAY_BLOCK calls run.
  BlockingPool* pool() const { return pool_.get(); }

 private:
  friend class GenerationBuilder;
  std::vector<std::unique_ptr<LoadedModule>> modules_;
  Registrations registrations_;
  std::unique_ptr<BlockingPool> pool_ = std::make_unique<BlockingPool>();
};

using GenerationRef = std::shared_ptr<const Generation>;

}  // namespace tern::module_host
