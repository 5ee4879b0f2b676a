// modules/redis/client.hpp: one lookup against a list of Redis servers.
//
// Exim's order: the servers are tried in turn; a server that cannot be
// reached, fails AUTH or SELECT, or does not answer in time is skipped for
// the next; an error reply ends the lookup (DEFER with its text); the
// first answer is the result. Beyond Exim:
//   - connections are kept between lookups (lookup_servers' IdlePool) and
//     opened again when the server was restarted; AUTH and SELECT run once
//     per connection;
//   - a listed server that cannot be reached or does not answer in time is
//     held down for redis_hold_down: lookups skip it (no connection
//     attempt, no wait) until then, so it costs one attempt per hold-down;
//   - connect and reply timeouts, and a limit on the whole lookup
//     (kLookupBudget, under the core's deadline kCoreDeadline);
//   - Redis Cluster (cluster.hpp): MOVED makes the list a cluster, whose
//     slot map then routes each command by its key (command.hpp); ASK is
//     followed with ASKING.
// Thread-safe: lookups run on several threads at once.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster.hpp"
#include "command.hpp"
#include "connection.hpp"
#include "server_pool.hpp"
#include "server_list.hpp"

namespace tern::redis {

// The deadline the module gives the core for one lookup, and the limit it
// keeps itself below it.
inline constexpr std::chrono::milliseconds kCoreDeadline{30000};
inline constexpr std::chrono::milliseconds kLookupBudget{29000};
// Redirections followed for one command before giving up.
inline constexpr int kMaxRedirects = 5;
// Cluster maps kept (one per server list); past that they are all dropped
// and learnt again (lists made by expansion could be endless).
inline constexpr size_t kMaxClusters = 256;

// Idle connections kept per server and credentials.
inline constexpr size_t kMaxIdlePerServer = 16;

struct Timeouts {
  std::chrono::seconds connect{2};     // redis_connect_timeout; 0: only the budget
  std::chrono::seconds reply{5};       // redis_timeout; 0: only the budget
  std::chrono::seconds hold_down{10};  // redis_hold_down; 0: no hold-down
};

struct LookupResult {
  enum class Status { kFound, kNotFound, kDefer };
  Status status = Status::kNotFound;
  std::string data;        // kFound
  bool cacheable = true;   // kFound: false for nil
  std::string error;       // kDefer: the reason
};

class Client {
 public:
  // Runs `query` against the servers `names` (items of a server list, full
  // or naming an item of `main_list`: server_list.hpp), resolved in turn.
  LookupResult run(const std::vector<std::string>& names, const std::optional<std::string>& main_list,
                   std::string_view query, const Timeouts& timeouts);
  // Closes every connection and forgets the held-down servers (the module's fini).
  void close_all() {
    pool_.clear();
    down_.clear();
  }

 private:
  struct Credentials {
    std::string db, user, password;
  };
  struct Cluster {
    SlotMap map;
    Credentials credentials;  // of the server item that first answered MOVED
  };
  // One lookup's surroundings.
  struct Attempt;
  // Why an exchange with a server failed.
  struct Failure {
    std::string text;  // in Exim's words
    bool io = true;    // the server is unreachable or mute (not an AUTH/SELECT error reply)
  };
  // What one server did with a command.
  struct Answer {
    enum class Kind {
      kReply,        // it answered (perhaps with an error reply): `reply`
      kUnreachable,  // not reached, no answer in time, AUTH/SELECT failed: try the next
      kFailed,       // give up at once (too many redirections): `error`
    };
    Kind kind = Kind::kUnreachable;
    ReplyPtr reply;
    Failure failure;  // kUnreachable, kFailed
  };

  // Sends `commands` (pipelined) to `to` on a pooled or new connection;
  // the replies, or why not.
  bool exchange(Attempt& a, const Endpoint& to, const Credentials& cred,
                const std::vector<const Argv*>& commands, std::vector<ReplyPtr>& replies, Failure& failure);
  // A new connection with AUTH and SELECT done.
  std::unique_ptr<Connection> open_session(Attempt& a, const Endpoint& to, const Credentials& cred,
                                           Failure& failure);
  // The command on one node, following MOVED and ASK.
  Answer run_on(Attempt& a, Endpoint to, const Credentials& cred);
  // The cluster route: the node that serves the key's slot, if known.
  std::optional<Answer> run_in_cluster(Attempt& a);
  // Fetches CLUSTER SLOTS from the first node that answers among
  // `candidates`; true when the map was replaced.
  bool refresh_cluster(Attempt& a, const std::vector<Endpoint>& candidates, const Credentials& cred);
  // Notes a MOVED from `from`: the map is fetched anew (first time: the
  // list becomes a cluster) and the slot assigned.
  void learn_moved(Attempt& a, const Endpoint& from, const Credentials& cred, const Redirect& r);

  static LookupResult result_of(const redisReply& reply);
  static std::string pool_key(const Endpoint& to, const Credentials& cred);

  lookup_servers::IdlePool<Connection> pool_{kMaxIdlePerServer};
  lookup_servers::HoldDowns down_;  // by Endpoint::where()
  std::mutex mu_;  // guards clusters_
  std::unordered_map<std::string, Cluster> clusters_;  // by server list
};

}  // namespace tern::redis
