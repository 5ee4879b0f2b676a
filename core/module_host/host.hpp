// core/module_host/host.hpp: the host table the core hands to every module.
//
// One static tern_host per mode: the normal one and the discovery one
// (discovery = 1: init only records what it registers). Both have every
// entry of this core's ABI minor filled in. The entries are in host.cpp;
// the raw-connection ones in conn.cpp.
#pragma once

#include "tern/module.h"

namespace tern::module_host {

const tern_host* host_table(bool discovery);

}  // namespace tern::module_host
