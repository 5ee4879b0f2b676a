// core/lookup/lookup.hpp: lookup types and the search that uses them.
//
// A lookup type (lsearch, dsearch, redis, pgsql, ...) finds data for a key
// in a file, or runs a query. The core registers its file lookups here;
// modules add theirs through the ABI, wrapped into the same interface. The
// Searcher applies Exim's rules on top of any type: the `partial-`, `*` and
// `*@` affixes, `ret=` and `cache=` options, and the cache of open files and
// of found results (a nil result from a query type is not cached; an SQL
// write, which must not be cached, also empties its type's cache, as Exim does).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/base/result.hpp"

namespace tern::expand {
struct Context;
}

namespace tern::lookup {

enum class Style {
  kSingleKey,  // key + file: ${lookup{key}lsearch{/file}}
  kQuery,      // one query: ${lookup pgsql{select ...}}
};

// The outcome of one find. kDefer carries the reason in `error`.
struct Found {
  enum class Status { kFound, kNotFound, kDefer };
  Status status = Status::kNotFound;
  std::string data;
  std::string error;
  bool cacheable = true;  // false: do not keep this answer (e.g. redis nil)
  // Set by the Searcher when the file could not be opened (or is not a
  // regular file): Exim fails the expansion with `error` as it stands,
  // instead of "lookup of ... gave DEFER: ...". status is kDefer then.
  bool open_failed = false;

  static Found found(std::string d, bool cache = true) {
    Found f;
    f.status = Status::kFound;
    f.data = std::move(d);
    f.cacheable = cache;
    return f;
  }
  static Found not_found() { return {}; }
  static Found defer(std::string why) {
    Found f;
    f.status = Status::kDefer;
    f.error = std::move(why);
    f.cacheable = false;
    return f;
  }
};

// An open file or connection of one lookup type; closed when released.
class Handle {
 public:
  virtual ~Handle() = default;
};

class LookupType {
 public:
  virtual ~LookupType() = default;
  virtual std::string_view name() const = 0;
  virtual Style style() const = 0;
  // True when the type blocks on the network (run off the I/O thread).
  virtual bool may_block() const { return false; }
  // Single-key types: open `filename` (absolute path, checked by the
  // Searcher). Query types get an empty filename.
  virtual Result<std::unique_ptr<Handle>> open(std::string_view filename) = 0;
  // Find `key` (or run the query). `opts` are the comma options after the
  // type name that the Searcher does not consume itself (e.g. servers=...).
  virtual Found find(Handle& handle, std::string_view filename, std::string_view key,
                     std::string_view opts) = 0;
  // The same, knowing the caller: the expansion evaluating ${lookup} (null
  // when the caller has none, as a match list outside an expansion). Types
  // that expand strings of their own in the caller's context (modules'
  // lookups: host->expand) override this one; the others need not.
  virtual Found find(Handle& handle, std::string_view filename, std::string_view key,
                     std::string_view opts, expand::Context* caller) {
    (void)caller;
    return find(handle, filename, key, opts);
  }
  // `${quote_<name>:s}`; nullopt when this type has no quoting function
  // (then Exim leaves the string unchanged) or when its function refuses
  // the options (`${quote_mysql_x:s}`: has_quote() tells the two apart).
  virtual std::optional<std::string> quote(std::string_view s, std::string_view opts) const {
    (void)s;
    (void)opts;
    return std::nullopt;
  }
  // True when this type has a quoting function: a nullopt from quote() is
  // then a refusal, which Exim reports as `"x" unrecognized after "${quote_mysql"`.
  virtual bool has_quote() const { return false; }
};

// All lookup types known to one configuration generation.
class Registry {
 public:
  // The core's lookups: lsearch wildlsearch nwildlsearch iplsearch dsearch passwd.
  static Registry with_core_types();
  // Same, with wildlsearch keys expanded by `expand_key` before matching
  // (Exim expands them; nwildlsearch does not). A forced failure makes the
  // key not match; another error defers the lookup.
  static Registry with_core_types(std::function<Result<std::string>(std::string_view)> expand_key);
  // Fails when the name is taken, naming it.
  Status add(std::unique_ptr<LookupType> type);
  const LookupType* find(std::string_view name) const;
  LookupType* find(std::string_view name);

 private:
  std::map<std::string, std::unique_ptr<LookupType>, std::less<>> types_;
};

// A written lookup name resolved once at parse time:
// "partial2-lsearch*@,ret=full" -> type lsearch, partial 2, star_at, opts.
// The affix form has no dash: "partial(*.)lsearch", "partial3()lsearch".
struct LookupSpec {
  LookupType* type = nullptr;
  int partial = -1;                   // -1: no partial-; else minimum components
  std::string partial_prefix = "*.";  // partial(*.)-  vs partial()-
  bool star = false;                  // `*` affix: default to key "*"
  bool star_at = false;               // `*@` affix: try "*@domain", then "*"
  std::string opts;                   // everything after the first comma
};

// Resolve `written` against `registry`. Errors carry Exim's texts:
// `unknown lookup type "foo"`, `format error in lookup type "partialx-lsearch"`,
// `"partial" is not permitted for lookup type "dnsdb"`,
// `defaults using "*" or "*@" are not permitted for lookup type "dnsdb*"`.
Result<LookupSpec> parse_lookup_name(Registry& registry, std::string_view written);

// What a partial/`*`/`*@` match sets as $1 (the wild part) and $2 (the
// fixed part), when Exim sets them.
struct PartialVars {
  bool set = false;
  std::string wild;
  std::string fixed;
};

// Runs finds with Exim's affix rules and caches results. One per process
// (or worker); not thread-safe.
class Searcher {
 public:
  explicit Searcher(Registry& registry) : registry_(registry) {}
  // Single-key. Exim 4.96 does not insist on an absolute file name: a
  // relative one is opened as given (and usually fails with
  // `failed to open f for linear search: No such file or directory`).
  // Sets `matched_key` to the key that matched (e.g. "*.b.c"), when not
  // null, and `vars` to $1/$2 of a partial/default match.
  // ret=key (in spec.opts) returns `key` itself; cache=no_rd skips the
  // result cache for reading (the new result is still cached).
  // `caller`: the expansion asking, handed to LookupType::find (null: none).
  Found find(const LookupSpec& spec, std::string_view filename, std::string_view key,
             std::string* matched_key = nullptr, PartialVars* vars = nullptr,
             expand::Context* caller = nullptr);
  // Query style.
  Found query(const LookupSpec& spec, std::string_view query, expand::Context* caller = nullptr);
  // Forget cached results and close handles (Exim's search_tidyup).
  void tidyup();

 private:
  // The open handle of (type, filename), opening it on first use.
  Result<Handle*> handle_for(LookupType& type, std::string_view filename);
  // One find through the result cache (Exim's internal_search_find).
  Found cached_find(LookupType& type, Handle& handle, std::string_view filename,
                    std::string_view key, std::string_view opts, bool read_cache,
                    expand::Context* caller);

  Registry& registry_;
  std::map<std::string, std::unique_ptr<Handle>, std::less<>> open_;
  std::unordered_map<std::string, Found> cache_;
};

}  // namespace tern::lookup
