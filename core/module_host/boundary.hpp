// core/module_host/boundary.hpp: the core's side of the opaque ABI handles.
//
// module.h declares tern_ctx, tern_call, tern_buf and tern_conn as opaque;
// their definitions live here and nowhere else, so only core/module_host
// sees them. Lifetimes are the header's: a tern_ctx lives from init to fini,
// a tern_call and a tern_buf for one callback.
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "core/module_host/call_env.hpp"
#include "tern/module.h"

namespace tern::module_host {
class Registrations;
}

// One loaded (or discovered) module.
struct tern_ctx {
  std::string module;  // the module's name, as in `modules =`
  size_t order = 0;    // its position in `modules =`
  tern::module_host::Registrations* registrations = nullptr;  // add_* target
  bool in_init = false;     // add_* is refused outside init
  bool discovery = false;
  void* data = nullptr;     // set_module_data
  std::string error;        // set_error with call == NULL (init)
  std::string registration_error;  // the first add_* refusal, reported by the loader
};

// One call's surroundings. A call that runs on the blocking pool can outlive
// its deadline: the caller then marks it abandoned, and every host entry that
// reaches the caller's state (env) takes `mu` and checks the flag first, so a
// late module never touches a session that has moved on.
struct tern_call {
  explicit tern_call(const tern::module_host::CallEnv& e) : env(e) {}
  tern::module_host::CallEnv env;
  std::string error;  // set_error
  // DNS answers handed out during the callback (their rdata must stay valid).
  std::deque<std::pair<std::vector<std::string>, std::vector<tern_str>>> dns_kept;
  std::mutex mu;
  bool abandoned = false;
};

struct tern_buf {
  std::string data;
};

// A raw accepted connection for the pre-banner hook: the fd is borrowed
// from the session; reads stop at the deadline.
struct tern_conn {
  int fd = -1;
  std::chrono::steady_clock::time_point deadline;
  std::string client_ip, local_ip;
  uint16_t client_port = 0, local_port = 0;
  bool addresses_replaced = false;
};
