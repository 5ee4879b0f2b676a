// core/module_host/boundary.hpp: the core's side of the opaque ABI handles.
//
// module.h declares tern_call, tern_buf and tern_conn as opaque, and
// tern_ctx as a public head (size, host, data); their definitions, and the
// core's private part of a tern_ctx, live here and nowhere else, so only
// core/module_host sees them. Lifetimes are the header's: a tern_ctx lives
// from init to fini, a tern_call and a tern_buf for one callback; the text
// the host answers with (expand, get_variable, ...) is kept in the
// tern_call until it ends.
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

namespace tern::module_host {

// One loaded (or discovered) module: the public head the module sees
// (size, host, data: module.h) and what only the core reads. The module
// gets a pointer to the head; ctx_of() gets back to the whole.
struct ModuleCtx : tern_ctx {
  ModuleCtx() : tern_ctx{sizeof(tern_ctx), nullptr, nullptr} {}
  ModuleCtx(const ModuleCtx&) = delete;
  ModuleCtx& operator=(const ModuleCtx&) = delete;
  std::string module;  // the module's name, as in `modules =`
  size_t order = 0;    // its position in `modules =`
  Registrations* registrations = nullptr;  // add_* target
  bool in_init = false;     // add_* is refused outside init
  bool discovery = false;
  std::string error;        // set_error with call == NULL (init)
  std::string registration_error;  // the first add_* refusal, reported by the loader
};

// Every tern_ctx the core hands out is the head of a ModuleCtx.
inline ModuleCtx* ctx_of(tern_ctx* ctx) { return static_cast<ModuleCtx*>(ctx); }

}  // namespace tern::module_host

// One call's surroundings. A call that runs on the blocking pool can outlive
// its deadline: the caller then marks it abandoned, and every host entry that
// reaches the caller's state (env) takes `mu` and checks the flag first, so a
// late module never touches a session that has moved on.
struct tern_call {
  explicit tern_call(const tern::module_host::CallEnv& e) : env(e) {}
  tern::module_host::CallEnv env;
  std::string error;  // set_error
  // Text handed to the module as tern_str (expand, get_variable, ...): a
  // deque, so earlier answers stay where they are while the call goes on.
  std::deque<std::string> answers;
  tern_str keep(std::string text) {
    const std::string& s = answers.emplace_back(std::move(text));
    return tern_str{s.data(), s.size()};
  }
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
  std::chrono::steady_clock::time_point deadline;       // conn_read's, conn_set_timeout may shorten it
  std::chrono::steady_clock::time_point core_deadline;  // never later than this
  std::string client_ip, local_ip;
  uint16_t client_port = 0, local_port = 0;
  bool addresses_replaced = false;
};
