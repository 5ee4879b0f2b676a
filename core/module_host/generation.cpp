// core/module_host/generation.cpp: unloading, the only way a module leaves.
#include "core/module_host/generation.hpp"

#include <dlfcn.h>

namespace tern::module_host {

Generation::~Generation() {
  pool_.reset();  // waits for calls still running in module code
  for (auto it = modules_.rbegin(); it != modules_.rend(); ++it) {
    LoadedModule& m = **it;
    if (m.initialised && m.descriptor->fini) m.descriptor->fini(m.ctx.get());
  }
  // The registrations hold function pointers into the libraries: they are
  // never called after this point, and the libraries go last.
  for (auto it = modules_.rbegin(); it != modules_.rend(); ++it)
    if ((*it)->handle) dlclose((*it)->handle);
}

}  // namespace tern::module_host
