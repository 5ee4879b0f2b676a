// modules/redis/pool.cpp: the idle-connection pool (see the header).
#include "pool.hpp"

namespace tern::redis {

std::unique_ptr<Connection> Pool::take(const std::string& key) {
  std::vector<std::unique_ptr<Connection>> closed;  // closed outside the lock
  std::unique_ptr<Connection> conn;
  {
    std::lock_guard lk(mu_);
    auto it = idle_.find(key);
    if (it == idle_.end() || it->second.empty()) return nullptr;
    conn = std::move(it->second.back());
    it->second.pop_back();
    if (conn->stale()) {
      // The server closed it: the others of this key went the same way.
      closed.push_back(std::move(conn));
      for (auto& c : it->second) closed.push_back(std::move(c));
      it->second.clear();
    }
  }
  return conn;
}

void Pool::put(const std::string& key, std::unique_ptr<Connection> conn) {
  std::lock_guard lk(mu_);
  // Server lists made by expansion (servers=${...}) could name ever new
  // servers: forget the keys that hold nothing now and then.
  if (idle_.size() >= kMaxKeys) std::erase_if(idle_, [](const auto& e) { return e.second.empty(); });
  auto& v = idle_[key];
  if (v.size() < kMaxIdle) v.push_back(std::move(conn));
}

void Pool::forget(const std::string& key) {
  std::vector<std::unique_ptr<Connection>> closed;
  std::lock_guard lk(mu_);
  auto it = idle_.find(key);
  if (it != idle_.end()) closed.swap(it->second);
}

void Pool::clear() {
  std::lock_guard lk(mu_);
  idle_.clear();
}

}  // namespace tern::redis
