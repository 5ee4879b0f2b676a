// modules/sqllookup/servers.hpp: the SQL servers a lookup tries, in turn, as Exim does.
//
// Exim's lf_sqlperform(), shared by the pgsql and mysql modules: the servers
// are chosen as lookup_servers/server_choice.hpp says, then tried in order
// until one answers without a deferral, or one defers in a way that another
// server would not fix (a malformed item). The reason of the last deferral
// is the lookup's. A server item of an SQL lookup is host/db/user/password.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "server_choice.hpp"

namespace tern::sqllookup {

// What one attempt on one server gave (Exim's perform_*_search result).
struct Outcome {
  enum class Kind { kFound, kNotFound, kDefer };
  Kind kind = Kind::kDefer;
  std::string data;       // kFound: the lookup's data
  std::string error;      // kDefer: the reason, in Exim's words
  bool no_cache = false;  // the statement changed data: do not cache (an SQL write)
  bool stop = false;      // kDefer: trying another server would not help

  static Outcome found(std::string data, bool no_cache = false) {
    return {Kind::kFound, std::move(data), {}, no_cache, false};
  }
  static Outcome not_found(bool no_cache = false) { return {Kind::kNotFound, {}, {}, no_cache, false}; }
  static Outcome defer(std::string why, bool stop = false) {
    return {Kind::kDefer, {}, std::move(why), false, stop};
  }
};

using lookup_servers::Flavor;  // "PostgreSQL", "pgsql_servers"

// Runs `query` on one server item ("host/db/user/password").
using PerformFn = std::function<Outcome(std::string_view query, std::string_view server)>;

// Exim's lf_sqlperform: picks the servers for `query` from `opts` (the text
// after "<type>,"), the query's own `servers=...;` prefix, or `main_list`
// (the main option; nullopt when unset), and calls `perform` on each in turn.
Outcome perform_on_servers(const Flavor& flavor, const std::optional<std::string>& main_list,
                           std::string_view query, std::string_view opts,
                           const PerformFn& perform);

// A server item split at its last three slashes.
struct ServerFields {
  std::string host;      // what precedes the database: host[:port], (socket), ...
  std::string database;  // empty: the server's default
  std::string user;
  std::string password;
  std::string sans_password;  // "host/db/user", for messages (never the password)
};

// Splits `server`; nullopt with Exim's text in `error`
// ("incomplete pgSQL server data: ...") when a slash is missing. `what` is
// the name in that text: "pgSQL" or "MySQL".
std::optional<ServerFields> split_server(std::string_view server, std::string_view what,
                                         std::string& error);

}  // namespace tern::sqllookup
