// modules/sqllookup/server_pool.hpp: open connections and failed servers.
//
// One pool per loaded module (per configuration generation), shared by the
// lookups that run concurrently on the core's blocking pool. A lookup takes
// an idle connection to its server item (or opens one), uses it alone, and
// gives it back when it is still good: connections are reused, never shared
// by two queries at once. A server whose connection failed is held down:
// lookups skip it, with its last error, until the hold-down has passed, so a
// dead server costs one connection attempt per hold-down, not one per lookup.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace tern::sqllookup {

// An open connection of one module (libpq, libmariadb).
class Connection {
 public:
  virtual ~Connection() = default;
  // False when the server closed it while it was idle (a restart, a kill,
  // an idle timeout): a check without a round trip.
  virtual bool alive() = 0;
};

// True when `fd` is open and has nothing to read now (no wait).
bool socket_is_quiet(int fd);

// A connection that owns a client library's handle, closed with `Close`;
// alive() when the handle's socket (`Socket`) has nothing to read: an idle
// SQL client hears from its server only when the server closes the
// connection (a termination notice, then end of file), and the rare
// harmless message costs no more than a new connection.
template <class Handle, void (*Close)(Handle*), int (*Socket)(Handle*)>
class LibraryConnection final : public Connection {
 public:
  explicit LibraryConnection(Handle* h) : h_(h) {}
  ~LibraryConnection() override { Close(h_); }
  LibraryConnection(const LibraryConnection&) = delete;
  LibraryConnection& operator=(const LibraryConnection&) = delete;
  bool alive() override { return socket_is_quiet(Socket(h_)); }
  Handle* raw() const { return h_; }

 private:
  Handle* h_;
};

class ServerPool {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kMaxIdlePerServer = 8;

  // An idle connection to `server` that is still alive, or null.
  std::unique_ptr<Connection> take(const std::string& server);
  // Keeps `conn` for the next lookup on `server` (at most kMaxIdlePerServer).
  void give_back(const std::string& server, std::unique_ptr<Connection> conn);

  // A server held down: the error that put it there and the time left.
  struct Down {
    std::string error;
    Clock::duration left;
  };
  std::optional<Down> held_down(const std::string& server, Clock::time_point now = Clock::now());
  // `server` failed with `error`: skip it for `hold` (nothing when hold is 0).
  void mark_down(const std::string& server, std::string error, Clock::duration hold,
                 Clock::time_point now = Clock::now());

  // Closes every idle connection (the module's fini).
  void clear();

 private:
  struct DownUntil {
    std::string error;
    Clock::time_point until;
  };
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
  std::map<std::string, DownUntil> down_;
};

}  // namespace tern::sqllookup
