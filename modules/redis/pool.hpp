// modules/redis/pool.hpp: idle connections kept per server, shared by the lookup threads.
//
// Lookups flagged TERN_MAY_BLOCK run on the core's thread pool, several at
// once: each takes a connection out of the pool for the time of its
// command and puts it back afterwards, so a connection is never used by
// two threads. Keyed by server and credentials; at most kMaxIdle idle
// connections per key. An idle connection that the server has closed (a
// restart) is dropped when taken, with every other idle one of that key.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "connection.hpp"

namespace tern::redis {

class Pool {
 public:
  static constexpr size_t kMaxIdle = 16;
  static constexpr size_t kMaxKeys = 1024;  // then keys without idle connections go

  // An idle, live connection for `key`, or nullptr.
  std::unique_ptr<Connection> take(const std::string& key);
  // Keeps `conn` for the next lookup (or closes it when kMaxIdle are kept).
  void put(const std::string& key, std::unique_ptr<Connection> conn);
  // Closes the idle connections of `key` (its server went away).
  void forget(const std::string& key);
  // Closes everything (the module's fini).
  void clear();

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
};

}  // namespace tern::redis
