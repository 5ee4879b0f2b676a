// core/config/config.hpp: read an Exim-syntax configuration file into a Config.
//
// load() does everything Exim's readconf.c does before the configuration is
// used: macros (the file's, -D's and the built-in _OPT_/_DRIVER_/_HAVE_ ones),
// .include, .ifdef and friends, continuation lines and comments, the main
// section's options and named lists, driver instances with their options,
// and the ACL, retry, rewrite and local_scan sections kept as text with their
// line numbers for the areas that interpret them. The first error stops the
// load: one line, `file:line: what is wrong`.
//
// The -bP helpers print options exactly as `exim -bP` does.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/result.hpp"
#include "core/config/options.hpp"

namespace tern::config {

// Where a line came from: the file name as given (or as written in
// .include) and its 1-based line number (the first physical line of a
// continued logical line).
struct Location {
  std::string file;
  int line = 0;
};

// One logical line: continuations joined, macros substituted.
struct SourceLine {
  Location where;
  std::string text;
};

struct Macro {
  std::string name;
  std::string value;
  bool builtin = false;       // _OPT_*, _DRIVER_*, _HAVE_* ...
  bool command_line = false;  // from -D
};

struct LoadRequest {
  std::string path;                                      // -C, as given
  std::vector<std::pair<std::string, std::string>> defines;  // -D NAME=value, in order
  const OptionRegistry* registry = nullptr;              // required
  // Extra built-in macros (name, value), e.g. _HAVE_TLS=y, defined before
  // the registry's _OPT_* and _DRIVER_* ones.
  std::vector<std::pair<std::string, std::string>> builtin_macros;
};

// The values of one option set (main, or one driver instance), with where
// each explicitly set option was set.
class OptionSet {
 public:
  const OptionValue* get(std::string_view name) const;
  bool was_set(std::string_view name) const { return set_at_.count(std::string(name)) != 0; }
  const Location* set_at(std::string_view name) const;

  // Typed reads; the name must be a defined option of the right type.
  bool get_bool(std::string_view name) const;
  int64_t get_int(std::string_view name) const;  // ints, times, modes, fixed*1000
  std::string get_string(std::string_view name) const;  // "" when unset

  std::map<std::string, OptionValue, std::less<>> values;  // every defined option
  std::map<std::string, Location, std::less<>> set_at_;
};

struct DriverInstance {
  std::string name;    // "remote_smtp"
  std::string driver;  // "smtp"
  Location where;      // the "name:" line
  OptionSet options;
};

enum class ListKind { kDomain, kHost, kAddress, kLocalPart };

struct NamedList {
  ListKind kind = ListKind::kDomain;
  std::string name;
  std::string value;  // raw text, list syntax untouched
  bool cache = false;  // *_cache variant
  Location where;
};

// An ACL statement: the verb's line and the condition/modifier lines after
// it, as written (logical lines).
struct AclStatement {
  std::string verb;
  std::vector<SourceLine> lines;
};

struct Acl {
  std::string name;
  Location where;
  std::vector<AclStatement> statements;
};

struct RetryRule {
  Location where;
  std::string pattern;
  std::string error;               // "*" when omitted
  std::vector<std::string> rules;  // "F,2h,15m", ...
  std::string text;                // the whole line
};

struct RewriteRule {
  Location where;
  std::string pattern;
  std::string replacement;
  std::string flags;
  std::string text;
};

struct Config {
  std::string file;  // the path as given
  const OptionRegistry* registry = nullptr;
  std::vector<Macro> macros;  // builtins first, then -D, then the file's, in definition order
  // The pairs of characters macro names start with (index a*256+b; a
  // one-character name marks every pair it starts): substitute_macros()
  // returns at once for a line where none occurs, the common case.
  std::vector<bool> macro_starts;
  OptionSet main;
  std::vector<NamedList> named_lists;
  std::vector<Acl> acls;
  std::vector<DriverInstance> routers, transports, authenticators;
  std::vector<RetryRule> retry;
  std::vector<RewriteRule> rewrite;
  std::vector<SourceLine> local_scan;

  const NamedList* find_list(ListKind kind, std::string_view name) const;
  const Acl* find_acl(std::string_view name) const;
  const DriverInstance* find_router(std::string_view name) const;
  const DriverInstance* find_transport(std::string_view name) const;
  const DriverInstance* find_authenticator(std::string_view name) const;
  const Macro* find_macro(std::string_view name) const;
};

Result<Config> load(const LoadRequest& request);

// A main option read before the configuration is interpreted: its value as
// written (macros substituted, white space trimmed) and where it was set.
struct EarlySetting {
  std::string value;
  Location where;
};

// The main-section settings of `names` (e.g. "modules", "module_path",
// "exim_user"), read with the same line rules as load() (macros, -D,
// .include, .ifdef) but without checking any other line: the modules they
// name must be loaded before the other options can be checked. Errors are
// load()'s (a missing file, an unterminated .ifdef, a bad macro line).
Result<std::map<std::string, EarlySetting>> scan_main_settings(const LoadRequest& request,
                                                               const std::vector<std::string>& names);

// -bP: the text exim prints (lines end in '\n').
//   `-bP all` / `-bP` with no name: every main option.
std::string format_main_options(const Config& c);
//   `-bP name`: one option (main, or a named list "domainlist NAME" style is
//   not covered); Error text as Exim: `NAME is not a known option`.
Result<std::string> format_main_option(const Config& c, std::string_view name);
//   `-bP routers|transports|authenticators`, `-bP router NAME`, ...
std::string format_drivers(const Config& c, Scope scope);
Result<std::string> format_driver(const Config& c, Scope scope, std::string_view name);
//   `-bP macros`, `-bP macro NAME`.
std::string format_macros(const Config& c);
Result<std::string> format_macro(const Config& c, std::string_view name);

// `-be` input: substitute the configuration's macros into `line`.
std::string substitute_macros(const Config& c, std::string_view line);
// `-be` input: when `line` is `NAME = value` (or `==`), define or redefine
// the macro, set *name and return true; otherwise return false.
bool define_macro(Config& c, std::string_view line, std::string* name);

}  // namespace tern::config
