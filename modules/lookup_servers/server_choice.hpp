// modules/lookup_servers/server_choice.hpp: which servers a lookup tries, as Exim chooses them.
//
// Exim's lf_sqlperform(), shared by its SQL lookups and its Redis lookup
// (and so by tern's pgsql, mysql and redis modules): a query may name its
// servers with the `servers=` lookup option
// (`${lookup pgsql,servers=db1::5432/mail/exim/pw:db2{select ...}}`) or
// with the older `servers=list;` prefix of the query itself; otherwise the
// main option (pgsql_servers, redis_servers, ...) lists them. An item
// without a slash is the name of a server in the main option (the text
// before its first slash), so that passwords stay out of lookups. Items are
// resolved one at a time, as Exim does, when their turn comes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tern::lookup_servers {

// The lookup's names in Exim's messages.
struct Flavor {
  std::string_view display;  // "PostgreSQL", "MySQL", "Redis"
  std::string_view option;   // "pgsql_servers", "mysql_servers", "redis_servers"
};

// The servers a lookup tries, in order, and the query to run on them.
struct Selection {
  std::vector<std::string> names;  // list items: full (with a slash) or names
  std::string query;               // the query without a leading servers=...;
  bool old_syntax = false;         // it had "servers=...;" (Exim logs a warning)
};

// Picks the servers for `query` from `opts` (the text after "<type>,"), the
// query's own `servers=...;` prefix, or `main_list` (the main option;
// nullopt when unset). On failure, the reason in Exim's words:
// `no PostgreSQL servers defined (pgsql_servers option)`, and for the old
// syntax `missing = after "servers" in PostgreSQL lookup`, `missing ; after
// "servers=" in PostgreSQL lookup`, `"servers=" defines no servers in "..."`.
std::variant<Selection, std::string> select_servers(const Flavor& flavor, std::string_view query,
                                                    std::string_view opts,
                                                    const std::optional<std::string>& main_list);

// The full item for `name`: itself when it has a slash, else the first item
// of `main_list` that starts with "name/"; otherwise the reason:
// `PostgreSQL server "name" not found in pgsql_servers`.
std::variant<std::string, std::string> resolve_server(const Flavor& flavor, const std::string& name,
                                                      const std::optional<std::string>& main_list);

// A server item cut at its last `count` slashes, as Exim's Ustrrchr loop.
struct ItemFields {
  std::string host;                 // what precedes the fields: host[:port], (socket), ...
  std::vector<std::string> fields;  // in order: e.g. database, user, password
  std::string sans_password;        // the item without its last field, for messages
};

// Cuts `item`; nullopt with Exim's text in `error` when a slash is missing:
// "incomplete <what> server data: <the item, or what is left of it without
// the password>" (`what`: "pgSQL", "MySQL", "Redis").
std::optional<ItemFields> split_item(std::string_view item, size_t count, std::string_view what,
                                     std::string& error);

}  // namespace tern::lookup_servers
