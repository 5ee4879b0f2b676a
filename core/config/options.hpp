// core/config/options.hpp: the option registry, option values and their -bP form.
//
// Every option a configuration may set is defined here once: its scope (main,
// router, transport, authenticator), the driver it belongs to ("" for the
// generic options of a scope), its type and default, and its owner ("core" or
// the module that registered it). The configuration reader parses values with
// parse_option_value() and the -bP code prints them with format_option(), so
// both follow Exim 4.96's rules in one place. The registry also knows the
// options of modules that are NOT loaded, so that using one gives an error
// that names the module instead of "unknown option".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"

namespace tern::config {

// Exim's option types (readconf.c's opt_*).
enum class OptionType {
  kBool,       // name / no_name / not_name / name = true|false|yes|no
  kInt,        // decimal, 0x hex, 0 octal; K M G suffixes
  kMkint,      // as kInt, printed with K/M when exact (bounce_return_size_limit)
  kKint,       // value held in KiB, printed with K/M/G (check_log_space)
  kOctal,      // a mode: octal digits, printed as 0NNN
  kFixed,      // fixed point, 3 decimals (load averages)
  kTime,       // 1w2d3h4m5s; each number needs its unit
  kTimeList,   // colon list of times (delay_warning)
  kString,     // text; a leading double quote starts a C-like quoted string
  kUid,        // user name or number
  kGid,        // group name or number
  kUidList,    // colon list of users
  kGidList,    // colon list of groups
  kExpandUid,  // as kUid, but a value containing '$' is kept for expansion
  kExpandGid,  // as kGid, likewise
};

enum class Scope { kMain, kRouter, kTransport, kAuthenticator };

// "main", "router", "transport", "authenticator".
std::string_view scope_name(Scope s);

// A parsed value. Which fields matter depends on the type:
//   kBool: flag; numbers, kOctal, kTime: number (seconds for kTime, thousandths
//   for kFixed, KiB for kKint); kTimeList, kUidList, kGidList: numbers;
//   strings: text; kUid/kGid: number, text = the name as written;
//   kExpandUid/kExpandGid: text when it is to be expanded, else number.
struct OptionValue {
  bool is_set = false;  // false: unset (Exim prints "name =" / "name = ")
  bool flag = false;
  int64_t number = 0;
  std::vector<int64_t> numbers;
  std::string text;
  bool expand = false;  // kExpandUid/kExpandGid holding an expandable text
  bool hide = false;    // set with Exim's "hide" prefix: -bP shows no value to non-admin users
};

struct OptionDef {
  Scope scope = Scope::kMain;
  std::string driver;  // "" for the generic options of the scope
  std::string name;
  OptionType type = OptionType::kString;
  std::string owner = "core";
  OptionValue default_value;
  bool hidden = false;    // accepted but not printed by -bP all (aliases)
  std::string alias_of;   // a hidden synonym sets this option instead
};

// An option known to belong to a module that is not loaded.
struct UnloadedOption {
  std::string name;
  Scope scope = Scope::kMain;
  std::string module;
  std::string driver;  // "" for any driver of the scope
};

// An option Exim 4.96 has but tern leaves out because the feature is not
// built (LDAP, Perl, ...). Setting one is an error saying so.
struct SkippedOption {
  std::string name;
  Scope scope = Scope::kMain;
  std::string driver;
  std::string reason;
};

// A driver (accept, smtp, plaintext, ...) and the generic defaults it changes.
struct DriverDef {
  Scope scope = Scope::kRouter;
  std::string name;
  std::string owner = "core";
  std::map<std::string, std::string> generic_defaults;  // option -> config text
};

class OptionRegistry {
 public:
  // Define an option. Refuses a name already defined for the same scope and
  // driver, naming both owners.
  Status add(OptionDef def);
  // Define an option from configuration text for its default (nullptr:
  // unset). Fails when the default does not parse (a bug in the table).
  Status add(Scope scope, std::string driver, std::string name, OptionType type,
             const char* default_text, std::string owner = "core");
  Status add_driver(DriverDef def);
  void add_unloaded(UnloadedOption u) { unloaded_.push_back(std::move(u)); }
  void add_skipped(SkippedOption s) { skipped_.push_back(std::move(s)); }

  // The definition `name` has for an instance of `driver` (private options
  // first, then generic), or nullptr.
  const OptionDef* find(Scope scope, std::string_view driver, std::string_view name) const;
  const DriverDef* find_driver(Scope scope, std::string_view name) const;
  const UnloadedOption* find_unloaded(Scope scope, std::string_view driver,
                                      std::string_view name) const;
  const SkippedOption* find_skipped(Scope scope, std::string_view driver,
                                    std::string_view name) const;

  // The options of a scope for one driver in -bP order: generic options
  // sorted, then the driver's own sorted (for kMain: all, sorted).
  std::vector<const OptionDef*> list(Scope scope, std::string_view driver = "") const;
  std::vector<const DriverDef*> drivers(Scope scope) const;
  const std::vector<SkippedOption>& skipped() const { return skipped_; }

 private:
  std::map<std::string, OptionDef> defs_;  // key: scope/driver/name
  std::vector<DriverDef> drivers_;
  std::vector<UnloadedOption> unloaded_;
  std::vector<SkippedOption> skipped_;
};

// Parse `text` (after "name =", leading white space removed) as a value of
// `def`'s type. Errors are Exim's texts without file and line, e.g.
// `integer expected for check_log_inodes`.
Result<OptionValue> parse_option_value(const OptionDef& def, std::string_view text);

// One -bP line, as Exim prints it: `name = value`, `name` / `no_name` for
// booleans, `name = ` for an unset string, `name =` for unset lists/fixed.
std::string format_option(const OptionDef& def, const OptionValue& value);

// Helpers shared with the reader and the tests.
Result<int64_t> parse_time(std::string_view text);  // 1h30m -> 5400; error: "" (caller words it)
std::string format_time(int64_t seconds);            // 5400 -> 1h30m, 0 -> 0s
std::string printable(std::string_view s);           // Exim's string_printing()

// Fill `reg` with Exim 4.96's core options and drivers (main; generic router,
// transport and authenticator options; routers accept, redirect, manualroute,
// dnslookup, ipliteral; transports appendfile, smtp, pipe, lmtp, autoreply;
// authenticators plaintext, cram_md5, dovecot, spa, external, tls), and the
// list of options skipped because their feature is not built.
Status register_exim_options(OptionRegistry& reg);

// The options that Exim has built in but that tern's first-party modules
// bring (events, dane, ocsp, proxy, redis, pgsql, mysql, bmi), with the
// module that owns each. A module registers its own when loaded; the lead
// passes the others to OptionRegistry::add_unloaded().
std::vector<UnloadedOption> first_party_module_options();

}  // namespace tern::config
