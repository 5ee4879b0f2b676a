// modules/redis/server_list.hpp: redis_servers and servers=, in Exim's format.
//
// redis_servers is an Exim list (colon-separated unless it starts with
// "<c" for another separator; a doubled separator is a literal one, so the
// port's colon is written "::"). Each item is
//     host[:port]/dbnumber/password       127.0.0.1::6379/0/secret
//     (socketpath)/dbnumber/password      (/run/redis.sock)//
// Both slashes are required; an empty dbnumber or password is not sent.
// tern also accepts "[ipv6]:port" as the host, and "user:password" (a Redis
// 6 ACL user) as the password: AUTH then gets both.
//
// Where the servers come from (Exim's lf_sqlperform):
//   ${lookup redis,servers=<list>{...}}  the option (a comma-separated
//                                        lookup option) replaces redis_servers;
//   ${lookup redis{servers=<list>;...}}  the same, Exim's older syntax;
//   otherwise redis_servers.
// An item of servers= without a slash names the item of redis_servers that
// starts with it followed by "/" (to keep passwords out of lookups).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tern::redis {

// The items of an Exim list, as string_nextinlist gives them: white space
// around items trimmed, "<c" changes the separator, a doubled separator is
// one literal character; the empty list has no items.
std::vector<std::string> split_list(std::string_view list, char separator = ':');

// A server item taken apart.
struct ServerSpec {
  std::string host;    // TCP host (empty for a socket)
  int port = 6379;
  std::string socket;  // Unix socket path (empty for TCP)
  std::string db;      // empty: no SELECT
  std::string user;    // empty: AUTH with the password only
  std::string password;  // empty: no AUTH
  // "host:port" or the socket path, for messages.
  std::string where() const;
  bool operator==(const ServerSpec&) const = default;
};

// An item parsed, or the reason it is unusable (Exim's texts:
// "incomplete Redis server data: ...", "unexpected slash in Redis server
// hostname: ...", and tern's "bad port in Redis server data: ...").
// Messages never show the password.
std::variant<ServerSpec, std::string> parse_server(std::string_view item);

// Which servers a lookup tries, in order, and the query to run.
struct Selection {
  std::vector<std::string> items;  // full items (with slashes)
  std::string query;               // the query without a leading servers=...;
  bool old_syntax = false;         // "servers=...;" at the start of the query
};

// Selects the servers for `query` with lookup options `opts` (the text
// after "redis,") and the main option (nullopt when unset). Returns the
// reason on failure: `no Redis servers defined (redis_servers option)`,
// `Redis server "x" not found in redis_servers`, and for the old syntax
// `missing = after "servers" in Redis lookup`, `missing ; after "servers="
// in Redis lookup`, `"servers=" defines no servers in "..."`.
std::variant<Selection, std::string> select_servers(std::string_view query, std::string_view opts,
                                                    const std::optional<std::string>& main_list);

}  // namespace tern::redis
