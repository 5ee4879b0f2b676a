// modules/sqllookup/sql_module.hpp: what the pgsql and mysql modules share.
//
// Each module is an SqlModule with its own names, its connection code and
// its quoting. The base registers the options and the lookup type, reads
// the options per lookup, chooses the servers (servers.hpp), reuses and
// opens connections and holds down failed servers (lookup_servers), and
// turns the outcome into the core's answers: data, not found (an empty
// result), or a deferral whose text the core shows as
// `lookup of "<query>" gave DEFER: <text>`.
//
// Options of a module of type T (main section):
//   T_servers          Exim's server list (no default)
//   T_connect_timeout  time, default 5s: connecting and logging in, per server
//   T_query_timeout    time, default 10s: waiting for the answer to a query
//   T_hold_down        time, default 10s: how long a server whose connection
//                      failed is skipped (0: retried at every lookup)
// A timeout of 0 waits as long as the library does. The core gives a whole
// lookup 30 s (its deadline for blocking calls), then defers it.
#pragma once

#include <tern/module.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "connection.hpp"
#include "server_pool.hpp"
#include "servers.hpp"

namespace tern::sqllookup {

// The options of one lookup, read when it runs.
struct Settings {
  std::chrono::seconds connect_timeout{5};
  std::chrono::seconds query_timeout{10};
  std::chrono::seconds hold_down{10};
};

// The result of opening a connection.
struct Opened {
  std::unique_ptr<Connection> conn;  // null on failure
  std::string error;                 // the failure, in Exim's words
  bool stop = false;                 // a malformed item: no other server is tried
};

// The result of one query on an open connection.
struct Answer {
  Outcome outcome;
  bool reusable = true;  // false: close the connection (it failed, or timed out)
};

class SqlModule : public tern::Module {
 public:
  static constexpr size_t kMaxIdlePerServer = 8;

  struct Names {
    const char* type;        // "pgsql": the lookup type and the options' prefix
    const char* display;     // "PostgreSQL": in Exim's server-selection messages
    const char* item_label;  // "pgSQL": in "incomplete pgSQL server data"
  };

  explicit SqlModule(Names names);
  tern::Status init(tern::Registrar& r) override;
  void fini() override;

 protected:
  // Opens a connection to the server item `fields` (Exim's connection part
  // of perform_*_search).
  virtual Opened open(const ServerFields& fields, const Settings& settings) = 0;
  // Runs `query` on `conn` (Exim's query part of perform_*_search).
  virtual Answer run(Connection& conn, std::string_view query, const Settings& settings) = 0;
  // ${quote_<type>:in}.
  virtual std::string quote(std::string_view in) const = 0;
  // Once, outside discovery mode, before any lookup (library set-up).
  virtual void prepare() {}

 private:
  std::optional<std::string> find(tern::Call& call, tern::LookupRequest& req);
  Settings settings(tern::Call& call) const;
  Outcome perform(std::string_view query, std::string_view server, const Settings& settings);
  std::string option_name(const char* suffix) const;

  Names names_;
  lookup_servers::IdlePool<Connection> idle_{kMaxIdlePerServer};
  lookup_servers::HoldDowns down_;
};

}  // namespace tern::sqllookup
