// core/lookup/match.hpp: matching items against Exim's lists.
//
// Domain, host, address and local part lists (and plain string lists for
// inlist) with Exim's item forms: negation `!`, `+name` named lists, `*`
// wildcards, `^regex`, `lookup;file` and `partial-lookup;file`, `@`, `@[]`,
// `net24-lsearch;file`, CIDR masks, `@@lookup`, `:` handling for IPv6 with
// `<;`, `+caseful` in address and local part lists. The item that decides
// gives the value Exim puts in $value / $domain_data / $local_part_data.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/lookup/lookup.hpp"

namespace tern::lookup {

enum class ListKind { kDomain, kHost, kAddress, kLocalPart, kString };

// What matching needs from its surroundings.
struct MatchEnv {
  Searcher* searcher = nullptr;
  Registry* registry = nullptr;
  // The raw text of named list `name` of `kind`; nullptr when there is none
  // (Exim: `unknown named domain list "+name"`).
  std::function<const std::string*(ListKind kind, std::string_view name)> named_list;
  // Expand a named list's text when it is used.
  std::function<Result<std::string>(std::string_view)> expand;
  std::string primary_hostname;               // `@` in domain lists
  std::vector<std::string> interface_addresses;  // `@[]`
  // Forward lookup of a plain host name item in a host list ("mail.x.y").
  // Unset: tern does no DNS here, and such an item behaves as Exim's
  // "failed to find IP address for mail.x.y" (see +include_unknown).
  std::function<Result<std::vector<std::string>>(std::string_view name)> resolve_host;
  // The client's host name for items that need one, asked for only when
  // match_list() got none and an item needs it (Exim looks it up at that
  // point); nullopt when it cannot be found. Unset: no name.
  std::function<std::optional<std::string>()> lookup_host_name;
  // When set, receives the lines Exim's list debugging writes (what `exim
  // -bh` shows), one per call: `host in "10.0.0.0/8"? yes (matched
  // "10.0.0.0/8")`, `x in "a : b"? no (end of list)`. `trace_name` is what
  // they call the subject (Exim says "host" for host lists); empty: the
  // subject itself.
  std::function<void(std::string_view line)> trace;
  std::string trace_name;
  // Results of named lists for this subject, by name (true: matched), as
  // Exim caches them (per connection for host lists, per address for
  // domains and local parts): a cached list is not matched again. Lists
  // whose text holds a `$` are never cached. Null: no cache.
  std::map<std::string, bool, std::less<>>* named_list_cache = nullptr;
};

struct MatchResult {
  enum class Outcome { kMatch, kNoMatch, kDefer };
  Outcome outcome = Outcome::kNoMatch;
  // What Exim puts in $value (and $domain_data ...) for the item that
  // decided, negated or not: a lookup's data, else the item as written
  // (`@`: the primary host name; addresses: see address_value in match.cpp;
  // a whole-address regex: empty). Empty when no item matched.
  std::string data;
  std::vector<std::string> captures;  // regex captures of the matching item ($0..)
  std::string error;                  // kDefer: why (Exim's text after
                                      // `unable to complete match against "<list>": `)
  // Lines Exim writes to its main/panic log while matching (e.g.
  // `unknown named domain list "+nl"`, `... accepted by +include_unknown`).
  std::vector<std::string> log;
  bool from_cache = false;  // decided by a cached named list (no data)
  bool matched() const { return outcome == Outcome::kMatch; }
};

// Match `subject` against `list` of `kind`. For kHost, `subject` is an IP
// address and `host_name` (may be empty) the verified name. Errors that make
// Exim die (unknown lookup type, a lookup file that cannot be opened, a bad
// regex) are returned as Error with Exim's text; defers inside lookups are
// kDefer with the lookup's message in `error`. An unknown named list is
// kDefer with error "NULL" (Exim 4.96 prints exactly
// `unable to complete match against "+nl": NULL`) and the
// `unknown named domain list "+nl"` text in `log`.
// The list is not expanded here (the caller expands it, as Exim's ${if
// match_*} does); named lists are expanded through env.expand when used.
// inlist/inlisti are NOT list matching in Exim (literal compares only).
Result<MatchResult> match_list(std::string_view subject, std::string_view list, ListKind kind,
                               MatchEnv& env, bool caseless = false,
                               std::string_view host_name = {});

// `match_ip` condition: `ip` against a list of IP addresses, CIDR networks
// and net-lookups (no host names).
Result<MatchResult> match_ip(std::string_view ip, std::string_view list, MatchEnv& env);

}  // namespace tern::lookup
