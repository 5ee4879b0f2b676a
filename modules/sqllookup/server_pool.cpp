// modules/sqllookup/server_pool.cpp: idle connections and hold-downs, under one lock.
#include "server_pool.hpp"

#include <poll.h>

#include <utility>

namespace tern::sqllookup {

bool socket_is_quiet(int fd) {
  pollfd p{fd, POLLIN, 0};
  return fd >= 0 && poll(&p, 1, 0) == 0;
}

std::unique_ptr<Connection> ServerPool::take(const std::string& server) {
  for (;;) {
    std::unique_ptr<Connection> conn;
    {
      std::lock_guard lock(mu_);
      auto it = idle_.find(server);
      if (it == idle_.end() || it->second.empty()) return nullptr;
      conn = std::move(it->second.back());
      it->second.pop_back();
    }
    // Checked and, when dead, closed outside the lock.
    if (conn->alive()) return conn;
  }
}

void ServerPool::give_back(const std::string& server, std::unique_ptr<Connection> conn) {
  std::unique_ptr<Connection> extra;  // closed after the lock is released
  std::lock_guard lock(mu_);
  auto& conns = idle_[server];
  if (conns.size() < kMaxIdlePerServer) conns.push_back(std::move(conn));
  else extra = std::move(conn);
}

std::optional<ServerPool::Down> ServerPool::held_down(const std::string& server,
                                                      Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = down_.find(server);
  if (it == down_.end()) return std::nullopt;
  if (it->second.until <= now) {
    down_.erase(it);  // its time is up: try it again
    return std::nullopt;
  }
  return Down{it->second.error, it->second.until - now};
}

void ServerPool::mark_down(const std::string& server, std::string error, Clock::duration hold,
                           Clock::time_point now) {
  if (hold <= Clock::duration::zero()) return;
  std::lock_guard lock(mu_);
  down_[server] = DownUntil{std::move(error), now + hold};
}

void ServerPool::clear() {
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle;
  {
    std::lock_guard lock(mu_);
    idle.swap(idle_);
    down_.clear();
  }
}

}  // namespace tern::sqllookup
