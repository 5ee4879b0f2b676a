// core/module_host/hooks.hpp: the hook points of DESIGN.md and who is hooked in.
//
// The SMTP, TLS, delivery and routing code (later issues) run a point:
//   HookResult r = hooks.run(TERN_HOOK_PRE_BANNER, env, &conn);
// Hooks run in `modules =` order, then by priority. TERN_OK and
// TERN_DECLINE go on to the next hook; TERN_FAIL, TERN_DEFER and TERN_ERROR
// stop and are the result. When none stopped, the result is TERN_DECLINE if
// any hook declined (a router precondition skips the router), else TERN_OK.
// `verdict` is the first non-empty text a hook gave (CV=dane for the log).
// A TERN_MAY_BLOCK hook (and every TERN_HOOK_AFTER_DATA hook) runs on the
// pool with its deadline; `keep_alive`
// then owns whatever `arg` points into, so a late hook never reads freed
// memory. With no hook at a point, run() returns at once (has() is false).
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "core/module_host/invoke.hpp"

namespace tern::module_host {

struct Hook {
  std::string module;
  size_t order = 0;
  int priority = 0;
  uint32_t flags = 0;
  uint32_t timeout_ms = 0;
  tern_ctx* ctx = nullptr;
  tern_status (*run)(tern_ctx*, void*, tern_call*, void*, tern_buf*) = nullptr;
  void* user = nullptr;  // the definition's, handed back to run
};

struct HookResult {
  tern_status status = TERN_OK;
  std::string verdict;
  std::string error;   // with FAIL/DEFER/ERROR: the module's text
  std::string module;  // the module that stopped the point
};

class HookRegistry {
 public:
  static constexpr int kPoints = 8;  // tern_hook_point values are 1..7

  static bool valid_point(int point) { return point >= 1 && point < kPoints; }
  void add(tern_hook_point point, Hook hook);
  void freeze();
  bool has(tern_hook_point point) const { return !hooks_[point].empty(); }
  // The shortest deadline among the point's TERN_MAY_BLOCK hooks (a late
  // one is abandoned then: what it reads must stop by then); nullopt when
  // none of them may block.
  std::optional<std::chrono::milliseconds> shortest_deadline(tern_hook_point point) const;
  HookResult run(tern_hook_point point, const CallEnv& env, void* arg,
                 std::shared_ptr<void> keep_alive = nullptr) const;
  void set_pool(BlockingPool* pool) { pool_ = pool; }

 private:
  std::array<std::vector<Hook>, kPoints> hooks_;
  BlockingPool* pool_ = nullptr;
};

}  // namespace tern::module_host
