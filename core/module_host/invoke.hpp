// core/module_host/invoke.hpp: call a module's function, off-thread when it may block.
//
// Every adapter (operators, items, lookups, ACL conditions, hooks) calls a
// module through invoke(): it makes the tern_call and the output buffer,
// runs the function (on the BlockingPool with a deadline when the
// definition says TERN_MAY_BLOCK) and returns what came back. An overrun is
// TERN_DEFER "timeout after N ms"; the late call is abandoned, never waited
// for. The function must therefore own copies of its inputs (capture by
// value): the caller's strings may be gone when a late call reads them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/module_host/blocking_pool.hpp"
#include "core/module_host/call_env.hpp"

namespace tern::module_host {

// The core's deadline for a MAY_BLOCK call whose definition says 0.
inline constexpr uint32_t kDefaultTimeoutMs = 30000;

struct Blocking {
  bool may_block = false;
  uint32_t timeout_ms = 0;  // 0: kDefaultTimeoutMs
  BlockingPool* pool = nullptr;  // required when may_block
  // Kept alive until a late call returns (the hook's argument, say).
  std::shared_ptr<void> keep_alive;
};

struct Outcome {
  tern_status status = TERN_ERROR;
  std::string out;    // what the module appended to its output buffer
  std::string error;  // what it set with set_error (or the timeout text)
};

using ModuleCall = std::function<tern_status(tern_call* call, tern_buf* out)>;

Outcome invoke(const CallEnv& env, const Blocking& blocking, ModuleCall fn);

}  // namespace tern::module_host
