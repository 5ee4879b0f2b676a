// modules/lookup_servers/server_pool.hpp: open connections and failed servers.
//
// One pool per loaded module (per configuration generation), shared by the
// lookups that run concurrently on the core's blocking pool (pgsql, mysql,
// redis). A lookup takes an idle connection to its server (or opens one),
// uses it alone, and gives it back when it is still good: connections are
// reused, never shared by two queries at once; one that the server closed
// while it was idle (a restart) is dropped when taken. A server whose
// connection failed is held down: lookups skip it, with its last error,
// until the hold-down has passed, so a dead server costs one connection
// attempt per hold-down, not one per lookup.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::lookup_servers {

// True when `fd` is open and has nothing to read now (no wait): an idle
// client connection hears from its server only when the server closes it
// (perhaps with a notice first).
bool socket_is_quiet(int fd);

// Servers remembered at most (idle connections, hold-downs); past that the
// entries that hold nothing are forgotten: server lists made by expansion
// (servers=${...}) could name ever new servers.
inline constexpr size_t kMaxServerKeys = 1024;

// Idle connections of type Conn (which has `bool alive()`: false when the
// server closed it while idle), by server key.
template <class Conn>
class IdlePool {
 public:
  explicit IdlePool(size_t max_idle_per_server) : max_idle_(max_idle_per_server) {}

  // An idle connection to `server` that is still alive, or null.
  std::unique_ptr<Conn> take(const std::string& server) {
    for (;;) {
      std::unique_ptr<Conn> conn;
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

  // Keeps `conn` for the next lookup on `server` (at most max_idle_per_server).
  void give_back(const std::string& server, std::unique_ptr<Conn> conn) {
    std::unique_ptr<Conn> extra;  // closed after the lock is released
    std::lock_guard lock(mu_);
    if (idle_.size() >= kMaxServerKeys) std::erase_if(idle_, [](const auto& e) { return e.second.empty(); });
    auto& conns = idle_[server];
    if (conns.size() < max_idle_) conns.push_back(std::move(conn));
    else extra = std::move(conn);
  }

  // Closes every idle connection (the module's fini).
  void clear() {
    std::map<std::string, std::vector<std::unique_ptr<Conn>>> idle;
    std::lock_guard lock(mu_);
    idle.swap(idle_);
  }

  size_t max_idle_per_server() const { return max_idle_; }

 private:
  const size_t max_idle_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<Conn>>> idle_;
};

// Servers held down after a failure, by server key.
class HoldDowns {
 public:
  using Clock = std::chrono::steady_clock;

  // A server held down: the error that put it there and the time left.
  struct Down {
    std::string error;
    Clock::duration left;
  };
  std::optional<Down> held_down(const std::string& server, Clock::time_point now = Clock::now());
  // `server` failed with `error`: skip it for `hold` (nothing when hold is 0).
  void mark_down(const std::string& server, std::string error, Clock::duration hold,
                 Clock::time_point now = Clock::now());
  void clear();

 private:
  struct DownUntil {
    std::string error;
    Clock::time_point until;
  };
  std::mutex mu_;
  std::map<std::string, DownUntil> down_;
};

// The deferral of a held-down server, in tern's words:
// `Redis server "127.0.0.1:6379" held down for 7s after: <its error>`.
// `display` is the lookup's name ("Redis", "PostgreSQL"), `server` the item
// without its password.
std::string held_down_text(std::string_view display, std::string_view server, const HoldDowns::Down& down);

}  // namespace tern::lookup_servers
