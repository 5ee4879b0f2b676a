// modules/lookup_servers/server_pool.cpp: the socket check and hold-downs, under one lock.
#include "server_pool.hpp"

#include <poll.h>

#include <utility>

namespace tern::lookup_servers {

bool socket_is_quiet(int fd) {
  pollfd p{fd, POLLIN, 0};
  return fd >= 0 && poll(&p, 1, 0) == 0;
}

std::optional<HoldDowns::Down> HoldDowns::held_down(const std::string& server, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = down_.find(server);
  if (it == down_.end()) return std::nullopt;
  if (it->second.until <= now) {
    down_.erase(it);  // its time is up: try it again
    return std::nullopt;
  }
  return Down{it->second.error, it->second.until - now};
}

void HoldDowns::mark_down(const std::string& server, std::string error, Clock::duration hold,
                          Clock::time_point now) {
  if (hold <= Clock::duration::zero()) return;
  std::lock_guard lock(mu_);
  if (down_.size() >= kMaxServerKeys)
    std::erase_if(down_, [&](const auto& e) { return e.second.until <= now; });
  down_[server] = DownUntil{std::move(error), now + hold};
}

void HoldDowns::clear() {
  std::lock_guard lock(mu_);
  down_.clear();
}

std::string held_down_text(std::string_view display, std::string_view server, const HoldDowns::Down& down) {
  auto left = std::chrono::ceil<std::chrono::seconds>(down.left).count();
  return std::string(display) + " server \"" + std::string(server) + "\" held down for " +
         std::to_string(left) + "s after: " + down.error;
}

}  // namespace tern::lookup_servers
