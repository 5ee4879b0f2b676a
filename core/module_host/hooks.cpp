// core/module_host/hooks.cpp: running the hooks of one point in order.
#include "core/module_host/hooks.hpp"

#include <algorithm>

namespace tern::module_host {

void HookRegistry::add(tern_hook_point point, Hook hook) { hooks_[point].push_back(std::move(hook)); }

void HookRegistry::freeze() {
  for (auto& list : hooks_) {
    std::stable_sort(list.begin(), list.end(), [](const Hook& a, const Hook& b) {
      return a.order != b.order ? a.order < b.order : a.priority < b.priority;
    });
  }
}

std::optional<std::chrono::milliseconds> HookRegistry::shortest_deadline(tern_hook_point point) const {
  std::optional<std::chrono::milliseconds> shortest;
  if (!valid_point(point)) return shortest;
  for (const Hook& h : hooks_[point]) {
    if ((h.flags & TERN_MAY_BLOCK) == 0) continue;
    std::chrono::milliseconds ms(h.timeout_ms ? h.timeout_ms : kDefaultTimeoutMs);
    if (!shortest || ms < *shortest) shortest = ms;
  }
  return shortest;
}

HookResult HookRegistry::run(tern_hook_point point, const CallEnv& env, void* arg,
                             std::shared_ptr<void> keep_alive) const {
  HookResult result;
  if (!valid_point(point)) return result;
  bool declined = false;
  for (const Hook& h : hooks_[point]) {
    // After DATA the client waits for its reply: every hook there gets a deadline.
    const bool may_block = (h.flags & TERN_MAY_BLOCK) != 0 || point == TERN_HOOK_AFTER_DATA;
    Blocking b{may_block, h.timeout_ms, pool_, keep_alive};
    Outcome o = invoke(env, b, [fn = h.run, ctx = h.ctx, user = h.user, arg](tern_call* call, tern_buf* verdict) {
      return fn(ctx, user, call, arg, verdict);
    });
    if (result.verdict.empty() && !o.out.empty()) result.verdict = std::move(o.out);
    if (o.status == TERN_DECLINE) declined = true;
    if (o.status != TERN_OK && o.status != TERN_DECLINE) {
      result.status = o.status;
      result.error = std::move(o.error);
      result.module = h.module;
      return result;
    }
  }
  result.status = declined ? TERN_DECLINE : TERN_OK;
  return result;
}

}  // namespace tern::module_host
