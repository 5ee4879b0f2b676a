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
// Where the servers come from is Exim's lf_sqlperform, shared with the SQL
// lookups (lookup_servers/server_choice.hpp):
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

#include "server_choice.hpp"

namespace tern::redis {

// The Redis lookup's names in Exim's messages.
inline constexpr lookup_servers::Flavor kFlavor{"Redis", "redis_servers"};

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

// The server that `name` (an item of a server list) stands for: the item
// itself or the item of `main_list` it names (resolve_server), parsed.
std::variant<ServerSpec, std::string> server_spec(const std::string& name,
                                                  const std::optional<std::string>& main_list);

}  // namespace tern::redis
