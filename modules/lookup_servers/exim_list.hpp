// modules/lookup_servers/exim_list.hpp: Exim's list syntax, for the lookup modules.
//
// pgsql_servers, mysql_servers, redis_servers and the `servers=` lookup
// option are Exim lists: colon-separated by default (a doubled separator
// stands for itself, so a port is written `host::5432`), an optional `<c`
// at the start picks another separator, items are trimmed, and an empty
// last item is dropped.
// The lookup options after the type (`pgsql,servers=a,cache=no_rd`) are a
// comma list without the `<c` form. This is Exim's string_nextinlist();
// modules cannot use the core's copy (they see only the SDK).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tern::lookup_servers {

// The items of an Exim list separated by colons, or by `c` when the list
// starts with `<c` (c a punctuation or control character).
std::vector<std::string> split_list(std::string_view list);

// The items of a list with the fixed separator `sep` (no `<c` form), as
// Exim reads the options of a lookup type.
std::vector<std::string> split_list_fixed(std::string_view list, char sep);

}  // namespace tern::lookup_servers
